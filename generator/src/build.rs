//! `gatefold build`: galleries → `dist/`, as a checklist.
//!
//! load and validate ([`Project`]) → pick the signing key → plan (and encode) images → assemble
//! the built site ([`SiteModel`]) → render pages and owner kits from it, and write the records
//! the worker reads and the full manifest from it → list the R2 objects → swap the finished
//! tree into place.
//!
//! `dist/` holds `site/` (the static assets: theme files, records, page templates, preview,
//! denial and owner files), `owner/` (never deployed), `manifest.json` and, when the build
//! encoded its images, `objects.json`: the display images and originals are R2 objects whose
//! bytes stay in the image cache. Everything is written into a staging directory next to
//! `dist/` and only renamed into place once complete, so a failed build leaves the last good
//! `dist/` untouched.

use crate::model::{GalleryModel, SiteModel};
use crate::config::{self, GalleryConfig, LoadOptions, Project};
use crate::diagnostics::{Diagnostic, Diagnostics, InvalidInput};
use crate::images::{self, Job, Outcome, Planned, Plans, Processed};
use crate::keys::{self, KeyOrigin};
use crate::progress::{Progress, Quiet};
use crate::render;
use anyhow::{Context, Result, bail};
use chrono::Utc;
use gatefold_contract::manifest::{self, Image, Link, Manifest, PageMode};
use gatefold_contract::SigningKey;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod marks;
mod state;

pub use state::FILE as STATE_FILE;

/// The image cache's folder name, next to the galleries directory unless `--cache` says otherwise.
pub const CACHE_DIR: &str = ".gatefold-cache";

/// The list of the build's R2 objects in `dist/` (written only by a build that encoded them).
pub const OBJECTS_FILE: &str = "objects.json";

pub use crate::images::Object;

/// Whether a build encodes its images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageMode {
    /// Encode every image the cache lacks and list every object in `dist/objects.json`
    /// (`gatefold build`).
    #[default]
    Encode,
    /// Plan only: every key, size and page is known, nothing is encoded and no `objects.json`
    /// is written (`gatefold plan`; `publish` then [`materialize`]s what R2 lacks).
    PlanOnly,
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The `galleries/` directory (holds `site.yaml`).
    pub galleries: PathBuf,
    /// The `themes/` directory.
    pub themes: PathBuf,
    /// Output directory, `dist/`.
    pub out: PathBuf,
    /// Persistent image cache, outside `out` so a rebuild reuses it.
    pub cache: PathBuf,
    /// Refuse development keys.
    pub production: bool,
    /// Told of the image step as it goes (the command line draws it).
    pub progress: Arc<dyn Progress>,
    /// "Now" for expiry warnings; tests pin it.
    pub now: Option<i64>,
    pub images: ImageMode,
    /// Build with this secret instead of the environment's key: `gatefold trace` plans the
    /// site with each retired key, so marks made before a rotation are still read.
    pub signing_secret: Option<String>,
}

impl BuildOptions {
    /// Defaults for a project laid out as in this repository: `<root>/galleries`, `<root>/themes`,
    /// `<root>/dist`, `<root>/.gatefold-cache`.
    pub fn for_project(root: &Path) -> BuildOptions {
        BuildOptions {
            galleries: root.join("galleries"),
            themes: root.join("themes"),
            out: root.join("dist"),
            cache: root.join(CACHE_DIR),
            production: false,
            progress: Arc::new(Quiet),
            now: None,
            images: ImageMode::Encode,
            signing_secret: None,
        }
    }

    /// Where `.dev.vars` is looked for: the folder holding the galleries directory.
    pub fn project_root(&self) -> PathBuf {
        project_root_of(&self.galleries)
    }
}

pub fn project_root_of(galleries: &Path) -> PathBuf {
    let abs = std::path::absolute(galleries).unwrap_or_else(|_| galleries.to_path_buf());
    abs.parent().map(Path::to_path_buf).unwrap_or(abs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_budget_warns_from_80_percent_of_the_plans_limit_and_names_the_fix() {
        let yaml = Path::new("galleries/site.yaml");
        let free = config::WorkersPlan::Free;
        assert!(budget_warning(yaml, free, 15_999, 9).is_none(), "79.99 % is fine");
        let warning = budget_warning(yaml, free, 16_000, 9).expect("80 % warns");
        assert!(!warning.is_error());
        let text = warning.to_string();
        assert!(text.starts_with("warning: galleries/site.yaml: plan: a deployment of this site holds 16000 static files, 80% of the 20000"), "{text}");
        assert!(text.contains("`plan: paid`") && text.contains("fewer galleries") && text.contains("each adds 9 files"), "{text}");
        assert!(budget_warning(yaml, free, 20_001, 9).unwrap().to_string().contains("will refuse it"));
        let paid = config::WorkersPlan::Paid;
        assert!(budget_warning(yaml, paid, 20_001, 9).is_none(), "the paid plan allows 100,000");
        let text = budget_warning(yaml, paid, 80_000, 9).unwrap().to_string();
        assert!(text.contains("Workers paid plan") && !text.contains("`plan: paid`"), "{text}");
    }
}

#[derive(Debug)]
pub struct BuildReport {
    /// What was built; `dist/manifest.json` and the records were written from it.
    pub site: SiteModel,
    pub warnings: Diagnostics,
    pub key_origin: KeyOrigin,
    pub images: usize,
    /// Images encoded by this build (the others came from the cache, or were only planned).
    pub encoded_images: usize,
    /// Nothing changed since the last build: `dist/` was left exactly as it was.
    pub unchanged: bool,
    /// Every image's plan: where [`materialize`] finds what to encode.
    pub plans: Plans,
    pub elapsed: Duration,
}

/// The files of some of a build's R2 objects, all in the image cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Materialized {
    pub objects: Vec<Object>,
    /// Images encoded to make them (the others were cached).
    pub encoded_images: usize,
}

pub fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// Loads and validates the project, checking `theme:` against the folders in `themes`; every
/// problem becomes one [`InvalidInput`] error.
pub fn load(galleries: &Path, themes: &Path, verify_images: bool, now: i64) -> Result<(Project, Diagnostics)> {
    load_with(galleries, LoadOptions { themes: Some(themes.to_path_buf()), verify_images, now, known: None })
}

/// [`load`] for commands that use no theme (`links`), so the theme name is not checked.
pub fn load_unthemed(galleries: &Path, verify_images: bool, now: i64) -> Result<(Project, Diagnostics)> {
    load_with(galleries, LoadOptions { themes: None, verify_images, now, known: None })
}

fn load_with(galleries: &Path, options: LoadOptions) -> Result<(Project, Diagnostics)> {
    config::load(galleries, &options).map_err(|all| InvalidInput(all.sorted()).into())
}

pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    let (mut report, theme) = prepare(opts)?;
    let site = &report.site;
    let theme_dir = opts.themes.join(theme);
    let cache = std::path::absolute(&opts.cache).unwrap_or_else(|_| opts.cache.clone());
    let inputs = state::Inputs { mode: opts.images, cache: &cache, theme: render::theme_fingerprint(&theme_dir)?, site, plans: &report.plans };
    let fingerprint = state::fingerprint(&inputs)?;
    // Nothing changed and `dist/` is as the last build left it: write nothing at all.
    report.unchanged = state::BuildState::read(&opts.out).is_some_and(|s| s.holds(&opts.out, &fingerprint));
    if !report.unchanged {
        write_site(opts, &theme_dir, site, &report.plans)?;
        state::BuildState::record(&opts.out, fingerprint)?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What [`build`] makes before it renders and writes anything: the project loaded, its images
/// planned (and encoded with [`ImageMode::Encode`]) and the built site assembled. `dist/` is
/// not touched (`gatefold trace` reads the site this way).
pub fn plan_site(opts: &BuildOptions) -> Result<BuildReport> {
    prepare(opts).map(|(report, _)| report)
}

/// [`plan_site`], and the theme `site.yaml` names.
fn prepare(opts: &BuildOptions) -> Result<(BuildReport, String)> {
    let started = Instant::now();
    let now = opts.now.unwrap_or_else(now_unix);
    let image_cache = opts.cache.join("images");
    // What the last build learnt of each image (content hash, probe), under a stamp of the file.
    let known = Arc::new(images::Sources::read(&image_cache));

    let (project, mut warnings) = load_with(&opts.galleries, LoadOptions { themes: Some(opts.themes.clone()), verify_images: false, now, known: Some(known.clone()) })?;
    warnings.0.extend(asset_budget(&project, &opts.themes)?);
    let (key, key_origin) = match &opts.signing_secret {
        Some(secret) => (gatefold_contract::SigningKey::from_secret(secret), KeyOrigin::Retired),
        None => keys::signing_key(&opts.project_root(), opts.production)?,
    };

    let jobs = image_jobs(&project, &key);
    let encode = opts.images == ImageMode::Encode;
    opts.progress.images_started(jobs.len());
    let encoded = AtomicUsize::new(0);
    let known = Arc::try_unwrap(known).unwrap_or_else(|shared| (*shared).clone());
    let plans = images::process_known(&jobs, &images::Settings::from(&project.site.images), &image_cache, known, encode, &|job, outcome| {
        if matches!(outcome, Outcome::Built(_)) {
            encoded.fetch_add(1, Ordering::Relaxed);
        }
        opts.progress.image_done(job, outcome)
    });
    opts.progress.images_finished();
    let plans = plans?;

    let previews = preview_images(&project, &opts.cache)?;
    let site = assemble(&project, &key, plans.images.iter().map(|p| p.processed.clone()).collect(), previews, !opts.production)?;
    let report = BuildReport { images: jobs.len(), encoded_images: encoded.into_inner(), unchanged: false, plans, site, warnings, key_origin, elapsed: started.elapsed() };
    Ok((report, project.site.theme))
}

/// Writes the built site into a staging directory and swaps it into `opts.out`: pages and
/// owner kits (a gallery whose files the last build made from the same inputs gets them back
/// as hard links), records, the manifest and the list of R2 objects.
fn write_site(opts: &BuildOptions, theme_dir: &Path, site: &SiteModel, plans: &Plans) -> Result<()> {
    let staging = Staging::create(&opts.out)?;
    let site_dir = staging.path.join("site");
    // Galleries whose inputs did not change get the last build's files back (hard links):
    // a build that changed one gallery of a large archive renders that gallery alone.
    let previous = render::RenderState::read(&opts.out).map(|state| render::Previous { root: &opts.out, state });
    let (_, rendered) = render::render_reusing(theme_dir, site, &site_dir, &staging.path.join("owner"), previous.as_ref())
        .with_context(|| format!("rendering pages with the theme in {}", theme_dir.display()))?;
    write_json(&staging.path.join(render::RenderState::FILE), &rendered)?;
    write_preview_images(&site_dir, site)?;
    let manifest = site.manifest();
    write_records(&site_dir, &manifest)?;
    write_json(&staging.path.join(manifest::MANIFEST_FILE), &manifest)?;
    if opts.images == ImageMode::Encode {
        write_json(&staging.path.join(OBJECTS_FILE), &plans.objects())?;
    }
    staging.swap_into(&opts.out)
}

/// Every preview image at its public path (`/assets/preview/<hash>.jpg`), copied from the cache.
fn write_preview_images(site_dir: &Path, site: &SiteModel) -> Result<()> {
    for file in site.galleries.values().filter_map(|g| g.preview_image.as_ref()) {
        let to = site_dir.join(gatefold_contract::preview::image_path(&file.hash).trim_start_matches('/'));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::copy(&file.path, &to).with_context(|| format!("copying {} to {}", file.path.display(), to.display()))?;
    }
    Ok(())
}

/// The files of `keys` (R2 keys of `report.site`), encoding into the cache only the images that
/// own one of them and are not cached yet; never touches `dist/`. A key the build does not know
/// is refused: uploading fewer objects than asked would leave a broken image live.
pub fn materialize(opts: &BuildOptions, report: &BuildReport, keys: &BTreeSet<String>) -> Result<Materialized> {
    let known = report.site.r2_keys();
    let unknown: Vec<&str> = keys.iter().filter(|k| !known.contains(*k)).map(String::as_str).collect();
    if !unknown.is_empty() {
        bail!(
            "{} R2 key(s) are not objects of this build: {} (fix: build again and ask for keys of that build)",
            unknown.len(),
            unknown.join(", ")
        );
    }
    let cache = report.plans.cache();
    let owns = |p: &Planned| p.objects(cache).iter().any(|o| keys.contains(&o.key));
    opts.progress.images_started(report.plans.images.iter().filter(|p| owns(p)).count());
    let encoded = report.plans.encode(owns, &|job, outcome| opts.progress.image_done(job, outcome));
    opts.progress.images_finished();
    let objects = report.plans.objects().into_iter().filter(|o| keys.contains(&o.key)).collect();
    Ok(Materialized { objects, encoded_images: encoded? })
}

/// The records the worker reads ([`Manifest::records`]), each at its contract path.
fn write_records(site_dir: &Path, manifest: &Manifest) -> Result<()> {
    let file = |contract_path: &str| site_dir.join(contract_path.trim_start_matches('/'));
    let records = manifest.records();
    write_json(&file(manifest::SITE_PATH), &records.site)?;
    for (shard, tokens) in records.shards.iter().enumerate() {
        let shard = u8::try_from(shard).context("more token shards than one byte numbers")?;
        write_json(&file(&manifest::token_shard_path(shard)), tokens)?;
    }
    for gallery in &records.galleries {
        write_json(&file(&manifest::gallery_record_path(&gallery.gallery.id)), gallery)?;
    }
    write_json(&file(manifest::GALLERY_INDEX_PATH), &records.index)
}

/// Static-asset files a build of `project` deploys (`dist/site`), counted from the project
/// alone: the rendered files ([`render::site_file_count`]) and the records (site, index, token
/// shards, one per gallery).
pub fn deployed_files(project: &Project, themes: &Path) -> Result<usize> {
    let galleries = project.galleries.len();
    let records = 2 + manifest::TOKEN_SHARDS + galleries * RECORDS_PER_GALLERY;
    // Marked links have pages of their own (`manifest::marked_page_path`), as `render::gallery_pages`.
    let modes = project.galleries.iter().map(|g| g.links.iter().map(|l| (l.mark.is_some(), PageMode::of(&l.policy(g.disabled)))).collect::<BTreeSet<_>>().len());
    let preview_images = project.galleries.iter().filter(|g| g.preview_image == config::PreviewImage::Cover).count();
    Ok(render::site_file_count(&themes.join(&project.site.theme), modes)? + records + preview_images)
}

/// [`write_records`] writes one record per gallery.
const RECORDS_PER_GALLERY: usize = 1;

/// From 80 % of the files the site's Workers plan allows a deployment: a warning naming the
/// way out, before `wrangler deploy` refuses the version.
pub fn asset_budget(project: &Project, themes: &Path) -> Result<Option<Diagnostic>> {
    let files = deployed_files(project, themes)?;
    // The most a gallery adds: its links using every download mode.
    let per_gallery = render::files_per_gallery(PageMode::ALL.len()) + RECORDS_PER_GALLERY;
    Ok(budget_warning(&project.dir.join("site.yaml"), project.site.plan, files, per_gallery))
}

fn budget_warning(site_yaml: &Path, plan: config::WorkersPlan, files: usize, per_gallery: usize) -> Option<Diagnostic> {
    let limit = plan.asset_file_limit();
    // 80 %, in integers: the warning must not flicker on rounding.
    if files * 5 < limit * 4 {
        return None;
    }
    let state = if files > limit { "over the limit: `wrangler deploy` will refuse it" } else { "close to the limit" };
    let fix = match plan {
        config::WorkersPlan::Free => format!(
            "if the Cloudflare account is on Workers Paid, write `plan: paid` in site.yaml (100,000 files); otherwise publish fewer galleries per deployment (each adds {per_gallery} files: its page templates and previews in every language, its owner kits and its record)"
        ),
        config::WorkersPlan::Paid => format!(
            "publish fewer galleries per deployment (each adds {per_gallery} files: its page templates and previews in every language, its owner kits and its record), e.g. a second site for the archive"
        ),
    };
    Some(
        Diagnostic::warning(
            site_yaml,
            format!("a deployment of this site holds {files} static files, {}% of the {limit} the Workers {} plan allows: {state}", files * 100 / limit, plan.name()),
        )
        .field("plan")
        .fix(fix),
    )
}

fn image_jobs(project: &Project, key: &SigningKey) -> Vec<Job> {
    project
        .galleries
        .iter()
        .flat_map(|g| {
            let mark = marks::job_mark(g, key);
            g.images.iter().map(move |img| Job {
                gallery: g.id.clone(),
                image_id: img.id.clone(),
                source: img.path.clone(),
                file_name: img.file.clone(),
                probe: img.probe.clone(),
                mark: mark.clone(),
            })
        })
        .collect()
}

/// The preview images of the galleries with `preview_image: cover`, by gallery id: made in
/// every image mode (a page names the file by its bytes' hash), cached in `cache`.
fn preview_images(project: &Project, cache: &Path) -> Result<BTreeMap<String, images::PreviewFile>> {
    project
        .galleries
        .iter()
        .filter(|g| g.preview_image == config::PreviewImage::Cover)
        .filter_map(|g| g.cover_image().map(|img| (g, img)))
        .map(|(g, img)| Ok((g.id.clone(), images::cover_preview(&img.path, &img.probe, cache)?)))
        .collect()
}

/// Link tokens come from the key and the names only, never from content: replacing every
/// image keeps every URL.
pub fn link_entries(gallery: &GalleryConfig, key: &SigningKey) -> BTreeMap<String, Link> {
    gallery
        .links
        .iter()
        .map(|l| {
            let link = Link {
                name: l.name.clone(),
                label: l.label.clone(),
                token: key.link_token(&gallery.id, &l.name, l.rotate),
                rotate: l.rotate,
                policy: l.policy(gallery.disabled),
                recipient: l.recipient.clone(),
                notify: l.notify.clone(),
                mark: marks::link_mark(&gallery.id, l, key),
            };
            (l.name.clone(), link)
        })
        .collect()
}

/// The built site: the project's settings and galleries with their processed images (in job
/// order, one per image) and signed links.
fn assemble(project: &Project, key: &SigningKey, processed: Vec<Processed>, mut previews: BTreeMap<String, images::PreviewFile>, dev_key: bool) -> Result<SiteModel> {
    let mut processed = processed.into_iter();
    let mut galleries = BTreeMap::new();
    for g in &project.galleries {
        let mut images = Vec::with_capacity(g.images.len());
        for img in &g.images {
            let p = processed.next().with_context(|| format!("image {} of gallery {} was not processed", img.file, g.id))?;
            images.push(Image {
                id: img.id.clone(),
                file_name: img.file.clone(),
                caption: img.caption.clone(),
                alt: img.alt.clone(),
                width: p.width,
                height: p.height,
                animated: p.animated,
                variants: p.variants,
                original: p.original,
            });
        }
        let cover = g.cover_image().map(|i| i.id.clone());
        let gallery = GalleryModel {
            id: g.id.clone(),
            title: g.title.clone(),
            description_html: g.description_html.clone(),
            cover,
            images,
            links: link_entries(g, key),
            audiences: g.audiences.clone(),
            notify: g.notify.clone(),
            preview_image: previews.remove(&g.id),
        };
        galleries.insert(g.id.clone(), gallery);
    }
    let site = &project.site;
    Ok(SiteModel {
        title: site.title.clone(),
        base_url: site.base_url.clone(),
        default_locale: site.default_locale,
        timezone: site.timezone,
        utc_offsets: site.utc_offsets.clone(),
        ip_logging: site.ip_logging,
        dev_key,
        key_fingerprint: key.fingerprint(),
        analytics: site.analytics,
        digest_hour: site.digest_hour,
        galleries,
    })
}

/// Compact JSON: the worker parses records per request and the manifest grows with the archive.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let file = std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut out, value).with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::flush(&mut out).with_context(|| format!("writing {}", path.display()))
}

/// A build's output while it is being made: `<out>.staging-<pid>`, next to `out` so the final
/// rename stays on one filesystem. Removed on drop unless swapped into place.
struct Staging {
    path: PathBuf,
    done: bool,
}

impl Staging {
    fn create(out: &Path) -> Result<Staging> {
        let path = sibling(out, &format!("staging-{}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path).with_context(|| format!("removing stale {}", path.display()))?;
        }
        for sub in ["site", "owner"] {
            let dir = path.join(sub);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        Ok(Staging { path, done: false })
    }

    /// Old `dist/` out of the way, new one in, old one deleted. Between the two renames `dist/`
    /// is briefly absent but never half-written.
    fn swap_into(mut self, out: &Path) -> Result<()> {
        let old = sibling(out, &format!("old-{}", std::process::id()));
        let had_old = out.exists();
        if had_old {
            std::fs::rename(out, &old).with_context(|| format!("moving {} aside", out.display()))?;
        }
        if let Err(e) = std::fs::rename(&self.path, out) {
            if had_old {
                let _ = std::fs::rename(&old, out);
            }
            return Err(e).with_context(|| format!("moving the new build into {}", out.display()));
        }
        self.done = true;
        if had_old {
            std::fs::remove_dir_all(&old).with_context(|| format!("removing the previous build {}", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dist".into());
    path.with_file_name(format!("{name}.{suffix}"))
}
