//! `gatefold build`: galleries → `dist/`, as a checklist.
//!
//! load and validate → pick the signing key → process images → assemble the manifest →
//! render pages and owner kits → swap the finished tree into place.
//!
//! Everything is written into a staging directory next to `dist/` and only renamed into place
//! once complete, so a failed build leaves the last good `dist/` untouched.

use crate::config::{self, GalleryConfig, LoadOptions, Project};
use crate::diagnostics::{Diagnostics, InvalidInput};
use crate::images::{self, Job, Processed};
use crate::keys::{self, KeyOrigin};
use crate::render::{self, Extras, GalleryExtras};
use anyhow::{Context, Result};
use chrono::{TimeZone, Utc};
use gatefold_contract::manifest::{self, Gallery, Image, Link, Manifest, Site};
use gatefold_contract::SigningKey;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    pub progress: images::Progress,
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
            cache: root.join(".gatefold-cache"),
            production: false,
            progress: images::Progress::Lines,
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
    pub manifest: Manifest,
    pub warnings: Diagnostics,
    pub key_origin: KeyOrigin,
    pub images: usize,
    pub elapsed: Duration,
}

pub fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// Loads and validates the project; every problem becomes one [`InvalidInput`] error.
pub fn load(galleries: &Path, verify_images: bool, now: i64) -> Result<(Project, Diagnostics)> {
    config::load(galleries, &LoadOptions { verify_images, now }).map_err(|all| InvalidInput(all.sorted()).into())
}

pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let started = Instant::now();
    let now = opts.now.unwrap_or_else(now_unix);

    let (project, warnings) = load(&opts.galleries, false, now)?;
    let (key, key_origin) = keys::signing_key(&opts.project_root(), opts.production)?;

    let staging = Staging::create(&opts.out)?;
    let jobs = image_jobs(&project);
    let processed = images::process(
        &jobs,
        &image_settings(&project),
        &images::Outputs {
            gallery_assets: &staging.path.join("site/_gatefold/g"),
            originals: &staging.path.join("originals"),
            cache: &opts.cache.join("images"),
        },
        opts.progress,
    )?;

    let manifest = assemble_manifest(&project, &key, &jobs, processed, !opts.production)?;
    let theme_dir = opts.themes.join(&project.site.theme);
    render::render(&theme_dir, &manifest, &extras(&project), &staging.path.join("site"), &staging.path.join("owner"))
        .with_context(|| format!("rendering pages with the theme in {}", theme_dir.display()))?;
    write_json(&staging.path.join("site").join(manifest::MANIFEST_PATH.trim_start_matches('/')), &manifest)?;

    staging.swap_into(&opts.out)?;
    Ok(BuildReport { images: jobs.len(), manifest, warnings, key_origin, elapsed: started.elapsed() })
}

fn image_settings(project: &Project) -> images::Settings {
    let s = &project.site.images;
    images::Settings {
        widths: s.widths.clone(),
        thumb_width: s.thumbnail,
        webp_quality: s.webp_quality,
        jpeg_quality: s.jpeg_quality,
        avif: s.avif,
        limits: images::Limits { max_pixels: u64::from(s.max_megapixels) * 1_000_000, ..images::Limits::default() },
    }
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

fn assemble_manifest(project: &Project, key: &SigningKey, jobs: &[Job], processed: Vec<Processed>, dev_key: bool) -> Result<Manifest> {
    let mut by_image: BTreeMap<(String, String), Processed> = jobs
        .iter()
        .zip(processed)
        .map(|(job, p)| ((job.gallery.clone(), job.image_id.clone()), p))
        .collect();
    let mut galleries = BTreeMap::new();
    for g in &project.galleries {
        let mut images = Vec::with_capacity(g.images.len());
        for img in &g.images {
            let p = by_image
                .remove(&(g.id.clone(), img.id.clone()))
                .with_context(|| format!("image {} of gallery {} was not processed", img.file, g.id))?;
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
        galleries.insert(
            g.id.clone(),
            Gallery { id: g.id.clone(), title: g.title.clone(), images, links: link_entries(g, key) },
        );
    }
    let site = &project.site;
    Ok(Manifest {
        format: manifest::FORMAT,
        site: Site {
            title: site.title.clone(),
            base_url: site.base_url.clone(),
            default_locale: site.default_locale,
            timezone: site.timezone.name().to_string(),
            ip_logging: site.ip_logging,
            utc_offsets: utc_offsets(site.timezone),
            dev_key,
            analytics: site.analytics,
        },
        galleries,
    })
}

fn extras(project: &Project) -> Extras {
    Extras {
        galleries: project
            .galleries
            .iter()
            .map(|g| {
                let cover = g.cover.as_ref().and_then(|file| g.images.iter().find(|i| &i.file == file)).map(|i| i.id.clone());
                (g.id.clone(), GalleryExtras { description_html: g.description_html.clone(), cover })
            })
            .collect(),
    }
}

/// The timezone's offset changes from 2000 to 2060, so the worker can bucket analytics by local
/// hour without carrying a timezone database into WASM.
pub fn utc_offsets(tz: chrono_tz::Tz) -> Vec<(i64, i32)> {
    use chrono::Offset;
    let offset_at = |t: i64| tz.offset_from_utc_datetime(&Utc.timestamp_opt(t, 0).unwrap().naive_utc()).fix().local_minus_utc();
    let (start, end) = (946_684_800_i64, 2_871_763_200_i64);
    let mut out = vec![(i64::MIN / 2, offset_at(start))];
    let mut prev = offset_at(start);
    // Offsets change on the hour or half hour: a 15-minute step finds every change.
    let mut t = start;
    while t < end {
        let o = offset_at(t);
        if o != prev {
            out.push((t, o));
            prev = o;
        }
        t += 900;
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_has_one_fixed_offset() {
        let offsets = utc_offsets(chrono_tz::Asia::Shanghai);
        assert_eq!(offsets.len(), 1);
        assert_eq!(offsets[0].1, 8 * 3600);
    }

    #[test]
    fn berlin_switches_to_summer_time_at_the_right_instant() {
        let offsets = utc_offsets(chrono_tz::Europe::Berlin);
        // 2026-03-29 01:00 UTC: CET → CEST.
        let change = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap().timestamp();
        assert!(offsets.contains(&(change, 7200)), "{:?}", &offsets[..4]);
    }
}
