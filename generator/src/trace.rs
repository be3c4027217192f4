//! `gatefold trace`: which gallery image a leaked file shows, and which link's copy it was.
//!
//! The site is planned as `publish` plans it (nothing rendered, `dist/` left alone) and the
//! references come from the image cache the way `publish` materializes R2 objects
//! (encoding only what the cache lacks). A leak is first matched against one variant of every
//! image of the build ([`gatefold_mark::detect::locate`]); then, for the image it shows, every
//! marked variant's pair is read and every marked link of its gallery scored
//! ([`gatefold_mark::detect`] explains the score and why its threshold holds). The verdict:
//! - identified: one link's score passes the threshold for all the scores taken;
//! - our image, no mark: the image is recognised, but no link's mark passes (a copy from an
//!   unmarked link, an image no marked link sees, or a copy too damaged to read);
//! - not ours: no image of the build matches.

use crate::admin::{Server, Window, site_time};
use crate::build::{self, BuildOptions, BuildReport, ImageMode};
use anyhow::{Context, Result};
use gatefold_contract::manifest::{Gallery, Image, Link, MarkedPair, Manifest, VariantRole, band_key};
use gatefold_contract::media::MediaType;
use gatefold_contract::mark::{Band, MarkKey};
use gatefold_mark::detect::{self, Reference, Registration, Suspect};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Exit codes of `gatefold trace` (clap keeps 2 for usage errors).
pub const EXIT_IDENTIFIED: u8 = 0;
pub const EXIT_NO_MARK: u8 = 3;
pub const EXIT_NOT_OURS: u8 = 4;

/// The variant width identification compares against: big enough to register a leak, small
/// enough to decode every image of a large build quickly.
const IDENTIFY_WIDTH: u32 = 960;

#[derive(Debug, Clone)]
pub struct TraceOptions {
    /// The galleries, themes and image cache (`out` is not used: nothing is written) and the
    /// key (`production`: SIGNING_KEY from the environment).
    pub build: BuildOptions,
    /// Secrets of earlier signing keys whose marks are still read (`RETIRED_SIGNING_KEYS`).
    pub retired_secrets: Vec<String>,
    /// The admin API's token, for the traced link's history (`None`: not asked), and its
    /// server (`None`: the site's `base_url`).
    pub admin_token: Option<String>,
    pub admin_url: Option<String>,
}

/// The site as a trace reads it: its manifest, the image cache's files of its objects, and
/// one reference per image to recognise leaks by.
pub struct Tracer {
    /// The site as the current key plans it, then as each retired key planned it: a key's
    /// pairs are made again from the same sources, so a rotation never orphans the marks
    /// issued before it.
    eras: Vec<Era>,
    keys: BTreeMap<String, MarkKey>,
    /// (gallery, image index) of each identification reference.
    images: Vec<(String, usize)>,
    references: Vec<Reference>,
    admin: Option<Server>,
}

/// The site planned with one signing key: its links' marks and its pairs as that key made them.
struct Era {
    opts: BuildOptions,
    report: BuildReport,
    manifest: Manifest,
}

impl Era {
    fn plan(opts: BuildOptions) -> Result<Era> {
        let report = build::plan_site(&opts)?;
        let manifest = report.site.manifest();
        Ok(Era { opts, report, manifest })
    }

    /// The image cache's files of R2 `keys`, encoding what it lacks.
    fn files(&self, keys: impl IntoIterator<Item = String>) -> Result<BTreeMap<String, PathBuf>> {
        let keys: BTreeSet<String> = keys.into_iter().collect();
        let done = build::materialize(&self.opts, &self.report, &keys)?;
        Ok(done.objects.into_iter().map(|o| (o.key, o.file)).collect())
    }
}

/// What a trace found in one file.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: PathBuf,
    /// `identified`, `no_mark` or `not_ours`.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageMatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Suspected>,
    /// The best score of any link and the one after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_score: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<f64>,
    /// The score a link must pass: false accusation ≤ 1e-6 over all `tests` scores taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    pub tests: u64,
    /// Marked links that could be named, and the variants (widths) read, widest first: the
    /// trace stops at the first that names a link.
    pub candidates: usize,
    pub variants_read: Vec<u32>,
    /// Mark keys the scored links were marked with.
    pub key_ids: Vec<String>,
    /// Why no link could be named, or what limited the trace.
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<History>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageMatch {
    pub gallery: String,
    pub image: String,
    pub file_name: String,
    /// Correlation of the registered leak with the image (1 = identical).
    pub alignment: f32,
    /// Share of the image the leak shows, and its scale against the identifying variant.
    pub coverage: f32,
    pub scale: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suspected {
    /// `<gallery>/<link>` as admin commands take it.
    pub id: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub score: f64,
    /// The variant (width in pixels) whose mark named it.
    pub variant: u32,
    pub key_id: String,
}

/// The named link's record from the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_open: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_open: Option<i64>,
    pub opens: u64,
    pub image_views: u64,
    pub downloads: u64,
    pub devices: Vec<String>,
    pub cities: Vec<String>,
    /// The site timezone the times are shown in.
    pub timezone: String,
}

impl Finding {
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            "identified" => EXIT_IDENTIFIED,
            "no_mark" => EXIT_NO_MARK,
            _ => EXIT_NOT_OURS,
        }
    }
}

/// Mark keys by id: the current signing key's and the retired ones'.
pub fn mark_keys(current: &MarkKey, retired_secrets: &[String]) -> BTreeMap<String, MarkKey> {
    let mut keys: BTreeMap<String, MarkKey> = retired_secrets.iter().map(|s| MarkKey::from_secret(s.trim())).map(|k| (k.id().to_string(), k)).collect();
    keys.insert(current.id().to_string(), current.clone());
    keys
}

impl Tracer {
    /// Plans the site and reads one reference per image.
    pub fn load(opts: &TraceOptions) -> Result<Tracer> {
        let build_opts = BuildOptions { images: ImageMode::PlanOnly, ..opts.build.clone() };
        opts.build.progress.step(&format!("planning {} (references come from the image cache)", opts.build.galleries.display()));
        let current = Era::plan(build_opts.clone())?;
        let manifest = &current.manifest;
        let (signing, _) = crate::keys::signing_key(&build_opts.project_root(), build_opts.production)?;
        let keys = mark_keys(signing.mark_key(), &opts.retired_secrets);
        let mut wanted = Vec::new();
        for g in manifest.galleries.values() {
            for (i, img) in g.images.iter().enumerate() {
                if let Some(key) = identifying_key(img) {
                    wanted.push(((g.id.clone(), i), key));
                }
            }
        }
        let admin = opts.admin_token.clone().map(|token| {
            let url = opts.admin_url.clone().unwrap_or_else(|| manifest.site.base_url.clone());
            Server { url: url.trim_end_matches('/').to_string(), token }
        });
        let mut eras = vec![current];
        for secret in &opts.retired_secrets {
            eras.push(Era::plan(BuildOptions { signing_secret: Some(secret.trim().to_string()), ..build_opts.clone() }).context("planning the site with a retired signing key")?);
        }
        let mut tracer = Tracer { eras, keys, images: Vec::new(), references: Vec::new(), admin };
        let files = tracer.eras[0].files(wanted.iter().map(|(_, k)| k.clone()))?;
        use rayon::prelude::*;
        let references: Vec<Result<((String, usize), Reference)>> = wanted
            .into_par_iter()
            .map(|(at, key)| {
                let bytes = std::fs::read(&files[&key]).with_context(|| format!("reading {} from the image cache", files[&key].display()))?;
                Ok((at, Reference::unmarked(&bytes).with_context(|| format!("decoding {key}"))?))
            })
            .collect();
        for r in references {
            let (at, reference) = r?;
            tracer.images.push(at);
            tracer.references.push(reference);
        }
        Ok(tracer)
    }

    pub fn manifest(&self) -> &Manifest {
        &self.eras[0].manifest
    }

    /// Traces one file's bytes.
    pub fn trace(&self, file: &Path, bytes: &[u8]) -> Result<Finding> {
        let suspect = Suspect::decode(bytes).with_context(|| format!("reading {}", file.display()))?;
        let mut finding = Finding {
            file: file.to_path_buf(),
            verdict: "not_ours",
            image: None,
            link: None,
            best_score: None,
            runner_up: None,
            threshold: None,
            tests: 0,
            candidates: 0,
            variants_read: Vec::new(),
            key_ids: Vec::new(),
            notes: Vec::new(),
            history: None,
        };
        let refs: Vec<&Reference> = self.references.iter().collect();
        let Some(located) = detect::locate(&suspect, &refs) else {
            finding.notes.push(format!("no image of the {} in this build matches it", plural(self.references.len(), "image")));
            return Ok(finding);
        };
        let (gallery_id, index) = &self.images[located.index];
        let gallery = &self.manifest().galleries[gallery_id];
        let image = &gallery.images[*index];
        let reg = located.registration;
        finding.verdict = "no_mark";
        finding.image = Some(ImageMatch {
            gallery: gallery.id.clone(),
            image: image.id.clone(),
            file_name: image.file_name.clone(),
            alignment: reg.ncc,
            coverage: reg.coverage,
            scale: reg.transform.sx,
        });
        // Every score of every era counts towards the one threshold, fixed before the first.
        let eras: Vec<(&Era, &Gallery, &Image)> = self
            .eras
            .iter()
            .filter_map(|era| era.manifest.galleries.get(gallery_id).and_then(|g| Some((era, g, g.image(&image.id)?))))
            .collect();
        let tests = eras.iter().map(|(_, g, img)| self.tests(g, img)).sum();
        for (era, gallery, image) in eras {
            self.attribute(era, &suspect, gallery, image, &reg, refs[located.index].size(), tests, &mut finding)?;
            if finding.link.is_some() {
                break;
            }
        }
        finding.notes.dedup();
        if let (Some(link), Some(server)) = (&finding.link, &self.admin) {
            match history(server, gallery, &link.id) {
                Ok(h) => finding.history = Some(h),
                Err(e) => finding.notes.push(format!("the link's history could not be read from {}: {e:#}", server.url)),
            }
        }
        Ok(finding)
    }

    /// Scores every marked link of `gallery` against every marked variant of `image` the leak
    /// can be read against.
    /// How many scores [`Self::attribute`] may take for `image` of `gallery`: one per marked
    /// variant and readable link that variant is served to.
    fn tests(&self, gallery: &Gallery, image: &Image) -> u64 {
        let marked: Vec<&Link> = gallery.links.values().filter(|l| l.mark.is_some()).collect();
        let originals = marked.iter().any(|l| l.mark.as_ref().is_some_and(|m| m.originals));
        let readable: Vec<&&Link> = marked.iter().filter(|l| l.mark.as_ref().is_some_and(|m| self.keys.contains_key(&m.key_id))).collect();
        marked_pairs(image, originals).iter().map(|(_, _, o)| readable.iter().filter(|l| !o || l.mark.as_ref().is_some_and(|m| m.originals)).count() as u64).sum()
    }

    #[allow(clippy::too_many_arguments)]
    fn attribute(&self, era: &Era, suspect: &Suspect, gallery: &Gallery, image: &Image, known: &Registration, known_size: (u32, u32), tests: u64, finding: &mut Finding) -> Result<()> {
        let marked: Vec<&Link> = gallery.links.values().filter(|l| l.mark.is_some()).collect();
        if marked.is_empty() {
            finding.notes.push(format!("gallery {} has no marked link: no recipient can be named", gallery.id));
            return Ok(());
        }
        let unknown_keys: BTreeSet<&str> = marked.iter().filter_map(|l| l.mark.as_ref()).map(|m| m.key_id.as_str()).filter(|id| !self.keys.contains_key(*id)).collect();
        if !unknown_keys.is_empty() {
            finding.notes.push(format!(
                "links marked with key(s) {} cannot be read: give their signing keys in RETIRED_SIGNING_KEYS",
                unknown_keys.iter().copied().collect::<Vec<_>>().join(", ")
            ));
        }
        let pairs = marked_pairs(image, marked.iter().any(|l| l.mark.as_ref().is_some_and(|m| m.originals)));
        if pairs.is_empty() {
            finding.notes.push(format!("image {} has no marked variant (animations are never marked)", image.id));
            return Ok(());
        }
        let bands: BTreeSet<String> = marked.iter().filter_map(|l| l.mark.as_ref()?.stamp.clone()).flat_map(|s| pairs.iter().map(move |(_, p, _)| band_key(p, &s))).collect();
        let known_keys = era.report.site.r2_keys();
        let mut keys: BTreeSet<String> = pairs.iter().flat_map(|(_, p, _)| [p.a.clone(), p.b.clone()]).collect();
        keys.extend(bands.into_iter().filter(|k| known_keys.contains(k)));
        let files = era.files(keys)?;
        // Every score this trace may take, fixed before the first: the threshold holds for all
        // of them, so stopping at the first variant that names a link keeps the bound.
        let readable = |l: &&&Link| l.mark.as_ref().is_some_and(|m| self.keys.contains_key(&m.key_id));
        let eligible = |originals_only: bool| marked.iter().filter(readable).filter(move |l| !originals_only || l.mark.as_ref().is_some_and(|m| m.originals));
        finding.tests = tests;
        finding.candidates = finding.candidates.max(marked.iter().filter(readable).count());
        let threshold = detect::threshold(tests);
        let mut scores: Vec<(f64, &Link, u32)> = Vec::new();
        for (width, pair, originals_only) in &pairs {
            let read = |k: &str| std::fs::read(&files[k]).with_context(|| format!("reading {} from the image cache", files[k].display()));
            let reference = Reference::from_pair(&read(&pair.a)?, &read(&pair.b)?)?;
            let reg = detect::register_from(suspect, &reference, known, known_size);
            if reg.ncc < detect::MATCH_FLOOR || reg.coverage < detect::MIN_COVERAGE {
                continue;
            }
            let chips = detect::read_chips(suspect, &reference, &reg);
            let geometry = reference.geometry();
            finding.variants_read.push(*width);
            for link in eligible(*originals_only) {
                let Some(mark) = &link.mark else { continue };
                let Some(key) = self.keys.get(&mark.key_id) else { continue };
                let codeword = key.codeword(&gallery.id, &link.name, &image.id, geometry.width, geometry.chips());
                let skip = mark.stamp.as_ref().and_then(|s| files.get(&band_key(pair, s))).and_then(|f| band_chips(f).ok()).unwrap_or(0..0);
                scores.push((detect::score_masked(&chips, &codeword, skip), link, *width));
                if !finding.key_ids.contains(&mark.key_id) {
                    finding.key_ids.push(mark.key_id.clone());
                }
            }
            if scores.iter().any(|s| s.0 >= threshold) {
                break;
            }
        }
        if scores.is_empty() {
            finding.notes.push("the leak shows too little of the image to read its mark".into());
            return Ok(());
        }
        scores.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (best, link, width) = scores[0];
        finding.threshold = Some(threshold);
        if finding.best_score.is_some_and(|b| b >= best) {
            return Ok(());
        }
        finding.best_score = Some(best);
        finding.runner_up = scores.iter().find(|s| s.1.name != link.name).map(|s| s.0);
        if best < threshold {
            finding.notes.push(format!("no link's mark reaches the threshold: a copy from an unmarked link, or too damaged to read (best {best:.1} < {threshold:.1})"));
            return Ok(());
        }
        finding.verdict = "identified";
        finding.link = Some(Suspected {
            id: format!("{}/{}", gallery.id, link.name),
            label: link.label.clone(),
            email: link.recipient.as_ref().and_then(|r| r.email.clone()),
            score: best,
            variant: width,
            key_id: link.mark.as_ref().map(|m| m.key_id.clone()).unwrap_or_default(),
        });
        Ok(())
    }
}

/// The R2 key of the variant `image` is recognised by: a marked pair's `A` (the variant as
/// served, up to the mark), else a display file the detector decodes (JPEG, WebP), the one
/// nearest [`IDENTIFY_WIDTH`].
fn identifying_key(image: &Image) -> Option<String> {
    let display = image.variants.iter().filter(|v| v.role == VariantRole::Display);
    let near = |w: u32| w.abs_diff(IDENTIFY_WIDTH);
    display
        .clone()
        .filter_map(|v| v.marked.as_ref().map(|p| (v.width, p.a.clone())))
        .min_by_key(|(w, _)| near(*w))
        .or_else(|| display.filter(|v| matches!(v.content_type, MediaType::Jpeg | MediaType::Webp)).map(|v| (v.width, v.key.clone())).min_by_key(|(w, _)| near(*w)))
        .map(|(_, k)| k)
}

/// The marked pairs of `image`: every display variant's, widest first, then the original's
/// (read only for links marked with `originals: true`) when such links exist.
fn marked_pairs(image: &Image, originals: bool) -> Vec<(u32, &MarkedPair, bool)> {
    let mut pairs: Vec<(u32, &MarkedPair, bool)> =
        image.variants.iter().filter(|v| v.role == VariantRole::Display).filter_map(|v| Some((v.width, v.marked.as_ref()?, false))).collect();
    pairs.sort_by(|a, b| b.0.cmp(&a.0));
    if originals && let Some(p) = &image.original.marked {
        pairs.push((image.width, p, true));
    }
    pairs
}

/// The chips a stamp band object replaces (its header: [`Band`]'s bytes, then the segments).
fn band_chips(file: &Path) -> Result<std::ops::Range<u32>> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let n = bytes.get(8..12).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).context("a stamp band too short")?;
    let header = bytes.get(..12 + n as usize * 8).context("a stamp band too short")?;
    let band = Band::from_bytes(header)?;
    Ok(band.first..band.first + band.segments.len() as u32)
}

/// The link's opens, devices, cities and downloads from the admin API.
fn history(server: &Server, gallery: &Gallery, link_id: &str) -> Result<History> {
    let link = link_id.split_once('/').map_or(link_id, |(_, l)| l);
    let stats = server.stats(&gallery.id, &Window { link: Some(link.to_string()), ..Window::default() })?;
    let own = stats.links.iter().find(|l| l.name == link);
    let devices = server.devices(&gallery.id, link)?;
    let tz = crate::admin::site_timezone(&stats.timezone)?;
    Ok(History {
        first_open: own.and_then(|l| l.first_open),
        last_open: own.and_then(|l| l.last_open),
        opens: own.map_or(stats.totals.opens_admitted, |l| l.opens_admitted),
        image_views: own.map_or(stats.totals.image_views, |l| l.image_views),
        downloads: own.map_or(stats.totals.downloads, |l| l.downloads),
        devices: devices
            .devices
            .iter()
            .map(|d| {
                let city = d.city.as_deref().map(|c| format!(", {c}")).unwrap_or_default();
                let refused = if d.admitted { "" } else { ", refused" };
                format!("{} on {}{city}{refused} (first {}, last {})", d.browser, d.os, site_time(Some(d.first_seen), tz), site_time(Some(d.last_seen), tz))
            })
            .collect(),
        cities: stats.cities.iter().map(|c| format!("{} ({})", c.key, c.count)).collect(),
        timezone: stats.timezone.clone(),
    })
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("{n} {what}") } else { format!("{n} {what}s") }
}

/// A finding as the command prints it.
pub fn render(f: &Finding, admin_configured: bool) -> String {
    let mut out = format!("{}: ", f.file.display());
    match (&f.image, &f.link) {
        (None, _) => out.push_str("not one of this site's images\n"),
        (Some(img), link) => {
            match link {
                Some(l) => out.push_str(&format!("traced to {} ({})\n", l.id, l.label)),
                None => out.push_str("one of this site's images, but no link's mark was found\n"),
            }
            out.push_str(&format!(
                "  image:      {}/{} ({}), correlation {:.3}, {:.0}% of it shown\n",
                img.gallery,
                img.image,
                img.file_name,
                img.alignment,
                img.coverage * 100.0
            ));
        }
    }
    if let Some(l) = &f.link {
        out.push_str(&format!("  recipient:  {} \"{}\"{}\n", l.id, l.label, l.email.as_ref().map(|e| format!(" <{e}>")).unwrap_or_default()));
        out.push_str(&format!("  variant:    {} px, mark key {}\n", l.variant, l.key_id));
    }
    if let (Some(best), Some(t)) = (f.best_score, f.threshold) {
        let next = f.runner_up.map(|r| format!("; next best {r:.1}")).unwrap_or_default();
        out.push_str(&format!(
            "  score:      {best:.1}, threshold {t:.1} (false accusation ≤ 1e-6 over {} scores: {} marked links × their variants; read {}{next})\n",
            f.tests,
            f.candidates,
            f.variants_read.iter().map(|w| format!("{w} px")).collect::<Vec<_>>().join(", ")
        ));
    }
    for note in &f.notes {
        out.push_str(&format!("  note:       {note}\n"));
    }
    if f.link.is_some() {
        match &f.history {
            Some(h) => {
                let tz = crate::admin::site_timezone(&h.timezone).unwrap_or(chrono_tz::UTC);
                out.push_str(&format!(
                    "  history:    first open {}, last open {}; {} opens, {} full-size views, {} downloads\n",
                    site_time(h.first_open, tz),
                    site_time(h.last_open, tz),
                    h.opens,
                    h.image_views,
                    h.downloads
                ));
                for d in &h.devices {
                    out.push_str(&format!("  device:     {d}\n"));
                }
                if !h.cities.is_empty() {
                    out.push_str(&format!("  cities:     {}\n", h.cities.join(", ")));
                }
            }
            None if !admin_configured => {
                out.push_str("  history:    not read: set GATEFOLD_ADMIN_TOKEN (and GATEFOLD_URL unless it is the site's base_url) for the recipient's opens, devices, cities and downloads\n")
            }
            None => {}
        }
    }
    out
}

