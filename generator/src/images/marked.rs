//! Forensic marks in the image step: the marked pairs of a gallery with marked links and the
//! stamped links' bands (see `gatefold_contract::mark` for how the worker splices them).
//!
//! Planned like every other output, without a pixel decoded: a pair's R2 keys come from the
//! image's cache entry key (source content, settings, pipeline), the mark key's id, the image's
//! id and the size, so `plan` and `publish` know them before anything is encoded. Each pair is
//! a cache entry of its own (`a.jpg`, `b.jpg`, `idx`), and each stamped link's bands of an image
//! one more (`<size>.band`): marking a gallery, adding a recipient or changing a stamp encodes
//! only what is new. An animation is never marked.

use super::cache::{Cache, Entry, Encoding, hex16};
use super::encode::read_container;
use super::pixels::{self, Pixels};
use super::{Job, Object};
use crate::config::StampPosition;
use anyhow::{Context, Result, anyhow};
use gatefold_contract::MediaType;
use gatefold_contract::manifest::{MarkedPair, Variant, VariantRole, band_key, marked_keys};
use gatefold_contract::mark::{Band, Codeword, Geometry, MarkKey};
use gatefold_mark::stamp;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Mutex;

/// Bump when the marked outputs change for the same inputs (`gatefold_mark::embed`'s pattern,
/// mask or strength, the stamp's rendering): every marked key changes with it.
pub(crate) const MARK_PIPELINE: &str = "gatefold-marks-2";
/// A marked original is a JPEG of the full-size pixels at this quality.
pub const ORIGINAL_QUALITY: u8 = 95;
/// The size suffix of a marked original's keys.
const ORIGINAL: &str = "original";
/// The files of a pair's cache entry.
const PAIR_FILES: [&str; 3] = ["a.jpg", "b.jpg", "idx"];
const BAND_EXT: &str = "band";
/// Written last into a marked entry: its presence says every file is there.
const DONE: &str = "done";

/// What a gallery's marked links ask of each of its images.
#[derive(Debug, Clone)]
pub struct JobMark {
    pub key: MarkKey,
    /// A link of the gallery marks originals.
    pub originals: bool,
    /// The gallery's stamped links.
    pub stamps: Vec<JobStamp>,
}

impl PartialEq for JobMark {
    fn eq(&self, other: &JobMark) -> bool {
        self.key.id() == other.key.id() && self.originals == other.originals && self.stamps == other.stamps
    }
}
impl Eq for JobMark {}

/// One stamped link: its bands are spliced into its copy over the pair's chips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStamp {
    pub link: String,
    /// [`stamp_id`]: the band's R2 key names it.
    pub id: String,
    pub text: String,
    pub position: StampPosition,
    /// The link's originals are marked, so they get a band too.
    pub originals: bool,
}

/// A stamped link's stamp id ([`gatefold_contract::manifest::LinkMark::stamp`]): the band holds
/// the link's own codeword under its stamp, so the id names the key, the gallery and the link as
/// well as the text and position (two links with one text never share a band).
pub fn stamp_id(key: &MarkKey, gallery: &str, link: &str, text: &str, position: StampPosition) -> String {
    let mut h = blake3::Hasher::new();
    for part in [MARK_PIPELINE, key.id(), gallery, link, position.name(), text] {
        h.update(part.as_bytes()).update(b"\0");
    }
    hex16(&h.finalize())
}

/// One marked pair of an image: a display size or the original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PairPlan {
    /// `1920`, …, or `original`.
    pub suffix: String,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    /// Its cache entry.
    pub key: String,
    pub objects: MarkedPair,
}

/// An image's marked outputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct MarkedPlan {
    pub pairs: Vec<PairPlan>,
    /// Per stamped link: its bands' cache entry and the stamp.
    pub bands: Vec<(String, JobStamp)>,
}

impl MarkedPlan {
    /// Every cache entry the plan uses (kept by the prune).
    pub fn cache_keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|p| p.key.as_str()).chain(self.bands.iter().map(|(k, _)| k.as_str()))
    }

    /// The pairs a stamp has bands for: every display pair, the original's if its link marks them.
    fn stamped<'a>(&'a self, stamp: &'a JobStamp) -> impl Iterator<Item = &'a PairPlan> {
        self.pairs.iter().filter(move |p| p.suffix != ORIGINAL || stamp.originals)
    }

    pub fn objects(&self, cache: &Path) -> Vec<Object> {
        let jpeg = MediaType::Jpeg.as_str().to_string();
        let binary = "application/octet-stream".to_string();
        let mut out = Vec::new();
        for p in &self.pairs {
            let dir = cache.join(&p.key);
            out.push(Object { key: p.objects.a.clone(), file: dir.join(PAIR_FILES[0]), content_type: jpeg.clone() });
            out.push(Object { key: p.objects.b.clone(), file: dir.join(PAIR_FILES[1]), content_type: jpeg.clone() });
            out.push(Object { key: p.objects.index.clone(), file: dir.join(PAIR_FILES[2]), content_type: binary.clone() });
        }
        for (key, stamp) in &self.bands {
            for p in self.stamped(stamp) {
                out.push(Object { key: band_key(&p.objects, &stamp.id), file: cache.join(key).join(format!("{}.{BAND_EXT}", p.suffix)), content_type: binary.clone() });
            }
        }
        out
    }
}

fn entry_key(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for part in parts {
        h.update(part.as_bytes()).update(b"\0");
    }
    h.finalize().to_hex()[..32].to_string()
}

/// The marked outputs of `job`'s image planned as `entry` under the cache key `image_key`, and
/// its variants and original with their pairs' keys filled in. Nothing for an unmarked
/// gallery or an animation.
pub(crate) fn plan(job: &Job, image_key: &str, entry: &Entry, variants: &mut [Variant], original: &mut gatefold_contract::manifest::Original) -> MarkedPlan {
    let Some(mark) = &job.mark else { return MarkedPlan::default() };
    if entry.animated {
        return MarkedPlan::default();
    }
    let mut pairs = Vec::new();
    let mut pair = |suffix: String, width: u32, height: u32, quality: u8| {
        let key = entry_key(&[MARK_PIPELINE, "pair", image_key, mark.key.id(), &job.image_id, &suffix, &quality.to_string()]);
        let objects = marked_keys(&hex16(&blake3::hash(key.as_bytes())), &suffix);
        pairs.push(PairPlan { suffix, width, height, quality, key, objects: objects.clone() });
        objects
    };
    for (f, v) in entry.files.iter().zip(variants.iter_mut()) {
        if let (VariantRole::Display, MediaType::Jpeg, Encoding::Jpeg { quality }) = (f.role, f.content_type, f.encoding) {
            v.marked = Some(pair(f.width.to_string(), f.width, f.height, quality));
        }
    }
    if mark.originals {
        original.marked = Some(pair(ORIGINAL.into(), entry.width, entry.height, ORIGINAL_QUALITY));
    }
    let pairs_key = entry_key(&pairs.iter().map(|p| p.key.as_str()).collect::<Vec<_>>());
    let bands = mark.stamps.iter().map(|s| (entry_key(&[MARK_PIPELINE, "bands", &pairs_key, &s.id, &s.originals.to_string()]), s.clone())).collect();
    MarkedPlan { pairs, bands }
}

/// Whether every marked entry of `plan` is in the cache.
pub(crate) fn is_stored(cache: &Cache, plan: &MarkedPlan) -> bool {
    plan.cache_keys().all(|k| cache.dir.join(k).join(DONE).is_file())
}

/// Encodes the marked entries of `plan` the cache lacks, from the source `bytes`.
pub(crate) fn encode(cache: &Cache, job: &Job, plan: &MarkedPlan, bytes: &[u8], big_decode: &Mutex<()>) -> Result<()> {
    let Some(mark) = &job.mark else { return Ok(()) };
    let missing = |k: &str| !cache.dir.join(k).join(DONE).is_file();
    let pairs: Vec<&PairPlan> = plan.pairs.iter().filter(|p| missing(&p.key)).collect();
    let bands: Vec<&(String, JobStamp)> = plan.bands.iter().filter(|(k, _)| missing(k)).collect();
    if pairs.is_empty() && bands.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&PairPlan> = plan.pairs.iter().filter(|p| pairs.iter().any(|q| q.suffix == p.suffix) || bands.iter().any(|(_, s)| plan.stamped(s).any(|q| q.suffix == p.suffix))).collect();
    let pixels = upright(job, bytes, &wanted, big_decode)?;
    let rgb_of = |suffix: &str| -> Result<&Vec<u8>> { pixels.iter().find(|(s, _)| s == suffix).map(|(_, p)| p).context("a marked size was not decoded") };
    pairs.par_iter().try_for_each(|p| -> Result<()> {
        let pair = gatefold_mark::embed::encode_pair(rgb_of(&p.suffix)?, p.width, p.height, p.quality, &mark.key, &job.image_id).map_err(|e| anyhow!("marking the {} px copy: {e}", p.width))?;
        cache.store_marked(&p.key, DONE, |dir| {
            write(dir, PAIR_FILES[0], &pair.a)?;
            write(dir, PAIR_FILES[1], &pair.b)?;
            write(dir, PAIR_FILES[2], &pair.index.to_bytes())
        })
    })?;
    bands.par_iter().try_for_each(|(key, stamp)| -> Result<()> {
        let files: Vec<(String, Vec<u8>)> = plan
            .stamped(stamp)
            .map(|p| {
                let geometry = Geometry { width: p.width, height: p.height };
                let codeword = mark.key.codeword(&job.gallery, &stamp.link, &job.image_id, p.width, geometry.chips());
                let band = stamp_band(rgb_of(&p.suffix)?, p, &mark.key, &job.image_id, &codeword, stamp)?;
                Ok((format!("{}.{BAND_EXT}", p.suffix), band))
            })
            .collect::<Result<_>>()?;
        cache.store_marked(key, DONE, |dir| files.iter().try_for_each(|(name, data)| write(dir, name, data)))
    })
}

fn write(dir: &Path, name: &str, data: &[u8]) -> Result<()> {
    std::fs::write(dir.join(name), data).with_context(|| format!("writing {}", dir.join(name).display()))
}

/// The RGB pixels of every size in `wanted`, upright and in sRGB as the unmarked variants are
/// made (one decode, one Lanczos3 step to each size).
fn upright(job: &Job, bytes: &[u8], wanted: &[&PairPlan], big_decode: &Mutex<()>) -> Result<Vec<(String, Vec<u8>)>> {
    let (layout, kept) = read_container(&job.probe, bytes)?;
    let full = wanted.iter().any(|p| p.suffix == ORIGINAL);
    let widest = wanted.iter().map(|p| p.width).max().unwrap_or(1);
    let decoded = {
        let _guard = (full || job.probe.format != super::SourceFormat::Jpeg).then(|| big_decode.lock());
        pixels::decode(job.probe.format, bytes, &layout, kept.orientation, (!full).then_some(widest)).map_err(|m| anyhow!("{m} (fix: re-export the image from its source)"))?
    };
    // As the unmarked variants: one Lanczos3 step to the widest display size, every smaller
    // size from that one; the original at the decoded size.
    let display: Vec<&&PairPlan> = wanted.iter().filter(|p| p.suffix != ORIGINAL).collect();
    let base = match display.iter().max_by_key(|p| p.width) {
        Some(top) if (decoded.width, decoded.height) != (top.width, top.height) => Some(pixels::resize(&decoded, top.width, top.height).map_err(|m| anyhow!("resizing to {} px: {m}", top.width))?),
        _ => None,
    };
    let base = base.as_ref().unwrap_or(&decoded);
    wanted
        .par_iter()
        .map(|p| {
            let from = if p.suffix == ORIGINAL { &decoded } else { base };
            let sized: std::borrow::Cow<'_, Pixels> = if (from.width, from.height) == (p.width, p.height) {
                std::borrow::Cow::Borrowed(from)
            } else {
                std::borrow::Cow::Owned(pixels::resize(from, p.width, p.height).map_err(|m| anyhow!("resizing to {} px: {m}", p.width))?)
            };
            Ok((p.suffix.clone(), pixels::rgb(&sized).into_owned()))
        })
        .collect()
}

/// The bytes of `stamp`'s band over `pair`: [`Band::to_bytes`], then the band's segments.
fn stamp_band(rgb: &[u8], pair: &PairPlan, key: &MarkKey, image: &str, codeword: &Codeword, stamp: &JobStamp) -> Result<Vec<u8>> {
    let (band, segments) = render_band(rgb, pair.width, pair.height, pair.quality, key, image, codeword, &stamp.text, stamp.position)?;
    let mut bytes = band.to_bytes();
    bytes.extend_from_slice(&segments);
    Ok(bytes)
}

/// The stamp rendered into the marked pixels of the band it covers (`gatefold_mark::stamp`).
#[allow(clippy::too_many_arguments)]
fn render_band(rgb: &[u8], w: u32, h: u32, quality: u8, key: &MarkKey, image: &str, codeword: &Codeword, text: &str, position: StampPosition) -> Result<(Band, Vec<u8>)> {
    let position = match position {
        StampPosition::Corner => stamp::Position::Corner,
        StampPosition::Tile => stamp::Position::Tile,
    };
    let font = font()?;
    if !font.covers(text) {
        anyhow::bail!("the stamp \"{text}\" has characters the stamp's font cannot draw (fix: write the stamp in Chinese, Latin or other scripts Noto Sans CJK covers)");
    }
    stamp::stamp_band(rgb, w, h, quality, key, image, codeword, text, position, font).map_err(|e| anyhow!("stamping \"{text}\" on the {w} px copy: {e}"))
}

/// The stamp's font, loaded once per run.
fn font() -> Result<&'static stamp::Font> {
    static FONT: std::sync::OnceLock<Result<stamp::Font, String>> = std::sync::OnceLock::new();
    FONT.get_or_init(stamp::Font::system).as_ref().map_err(|e| anyhow!("{e}"))
}
