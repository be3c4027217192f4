//! `gatefold build`: galleries → `dist/`, as a checklist.
//!
//! load and validate ([`Project`]) → pick the signing key → process images → assemble the
//! built site ([`BuiltSite`]) → render pages and owner kits from it and write the manifest from
//! it → swap the finished tree into place.
//!
//! Everything is written into a staging directory next to `dist/` and only renamed into place
//! once complete, so a failed build leaves the last good `dist/` untouched.

use crate::built::{BuiltGallery, BuiltSite};
use crate::cli::Progress;
use crate::config::{self, GalleryConfig, LoadOptions, Project};
use crate::diagnostics::{Diagnostics, InvalidInput};
use crate::images::{self, Job, Processed};
use crate::keys::{self, KeyOrigin};
use crate::render;
use anyhow::{Context, Result};
use chrono::Utc;
use gatefold_contract::manifest::{self, Image, Link};
use gatefold_contract::SigningKey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The image cache's folder name, next to the galleries directory unless `--cache` says otherwise.
pub const CACHE_DIR: &str = ".gatefold-cache";

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
    pub progress: Progress,
    /// "Now" for expiry warnings; tests pin it.
    pub now: Option<i64>,
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
            progress: Progress::Lines,
            now: None,
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

#[derive(Debug)]
pub struct BuildReport {
    /// What was built; `dist/site/_gatefold/manifest.json` was written from it.
    pub site: BuiltSite,
    pub warnings: Diagnostics,
    pub key_origin: KeyOrigin,
    pub images: usize,
    pub elapsed: Duration,
}

pub fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// Loads and validates the project, checking `theme:` against the folders in `themes`; every
/// problem becomes one [`InvalidInput`] error.
pub fn load(galleries: &Path, themes: &Path, verify_images: bool, now: i64) -> Result<(Project, Diagnostics)> {
    load_with(galleries, LoadOptions { themes: Some(themes.to_path_buf()), verify_images, now })
}

/// [`load`] for commands that use no theme (`links`), so the theme name is not checked.
pub fn load_unthemed(galleries: &Path, verify_images: bool, now: i64) -> Result<(Project, Diagnostics)> {
    load_with(galleries, LoadOptions { themes: None, verify_images, now })
}

fn load_with(galleries: &Path, options: LoadOptions) -> Result<(Project, Diagnostics)> {
    config::load(galleries, &options).map_err(|all| InvalidInput(all.sorted()).into())
}

pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    let now = opts.now.unwrap_or_else(now_unix);

    let (project, warnings) = load(&opts.galleries, &opts.themes, false, now)?;
    let (key, key_origin) = keys::signing_key(&opts.project_root(), opts.production)?;

    let staging = Staging::create(&opts.out)?;
    let jobs = image_jobs(&project);
    let progress = opts.progress.start(jobs.len());
    let processed = images::process(
        &jobs,
        &images::Settings::from(&project.site.images),
        &images::Outputs {
            gallery_assets: &staging.path.join("site/_gatefold/g"),
            originals: &staging.path.join("originals"),
            cache: &opts.cache.join("images"),
        },
        &|job, outcome| progress.image_done(job, outcome),
    );
    progress.finish();
    let processed = processed?;

    let site = assemble(&project, &key, processed, !opts.production)?;
    let theme_dir = opts.themes.join(&project.site.theme);
    render::render(&theme_dir, &site, &staging.path.join("site"), &staging.path.join("owner"))
        .with_context(|| format!("rendering pages with the theme in {}", theme_dir.display()))?;
    write_json(&staging.path.join("site").join(manifest::MANIFEST_PATH.trim_start_matches('/')), &site.manifest())?;

    staging.swap_into(&opts.out)?;
    Ok(BuildReport { images: jobs.len(), site, warnings, key_origin, elapsed: started.elapsed() })
}

fn image_jobs(project: &Project) -> Vec<Job> {
    project
        .galleries
        .iter()
        .flat_map(|g| {
            g.images.iter().map(|img| Job {
                gallery: g.id.clone(),
                image_id: img.id.clone(),
                source: img.path.clone(),
                file_name: img.file.clone(),
                probe: img.probe.clone(),
            })
        })
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
            };
            (l.name.clone(), link)
        })
        .collect()
}

/// The built site: the project's settings and galleries with their processed images (in job
/// order, one per image) and signed links.
fn assemble(project: &Project, key: &SigningKey, processed: Vec<Processed>, dev_key: bool) -> Result<BuiltSite> {
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
        let cover = g.cover.as_ref().and_then(|file| g.images.iter().find(|i| &i.file == file)).map(|i| i.id.clone());
        let gallery = BuiltGallery {
            id: g.id.clone(),
            title: g.title.clone(),
            description_html: g.description_html.clone(),
            cover,
            images,
            links: link_entries(g, key),
        };
        galleries.insert(g.id.clone(), gallery);
    }
    let site = &project.site;
    Ok(BuiltSite {
        title: site.title.clone(),
        base_url: site.base_url.clone(),
        default_locale: site.default_locale,
        timezone: site.timezone,
        utc_offsets: site.utc_offsets.clone(),
        ip_logging: site.ip_logging,
        dev_key,
        analytics: site.analytics,
        galleries,
    })
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let json = serde_json::to_vec_pretty(value).context("serialising JSON")?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
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
        for sub in ["site", "originals", "owner"] {
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
