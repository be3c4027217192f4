//! The build's image step: every source image → responsive WebP/JPEG (and, opt-in, AVIF)
//! variants, a grid thumbnail and a metadata-stripped original, through the content-addressed
//! [cache](super::cache).
//!
//! As Zola's `imageproc`: enqueue (one task per image, settings checked once) → process in
//! parallel (from the cache, or encoded by [`super::encode`]) → prune the cache entries no
//! task used. Outputs are hard-linked (or copied) into the staging directories under
//! content-hashed names.

use super::cache::{Cache, Entry, ORIGINAL_NAME, SourceStamp};
use super::encode;
use super::{Limits, Probe};
use crate::config::ImageSettings;
use anyhow::{Context, Result, anyhow, bail};
use gatefold_contract::manifest::{Original, Variant};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Display widths, ascending, e.g. `[480, 960, 1920]`.
    pub widths: Vec<u32>,
    /// Grid thumbnail width, e.g. 360.
    pub thumb_width: u32,
    pub webp_quality: u8,
    pub jpeg_quality: u8,
    /// Also AVIF variants of every size (`image/avif`); several times slower than WebP.
    pub avif: bool,
    pub limits: Limits,
}

/// The image settings of `site.yaml` (whose defaults are the only ones: [`ImageSettings`]).
impl From<&ImageSettings> for Settings {
    fn from(s: &ImageSettings) -> Settings {
        Settings {
            widths: s.widths.clone(),
            thumb_width: s.thumbnail,
            webp_quality: s.webp_quality,
            jpeg_quality: s.jpeg_quality,
            avif: s.avif,
            limits: s.limits(),
        }
    }
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from(&ImageSettings::default())
    }
}

impl Settings {
    fn fingerprint(&self) -> String {
        format!("w={:?};t={};wq={};jq={};avif={}", self.widths, self.thumb_width, self.webp_quality, self.jpeg_quality, self.avif)
    }
}

/// One source image to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub gallery: String,
    pub image_id: String,
    pub source: PathBuf,
    pub file_name: String,
    /// What the load found when it checked the file: format and size, never probed again.
    pub probe: Probe,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub image_id: String,
    /// Upright size (after EXIF orientation).
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    pub variants: Vec<Variant>,
    pub original: Original,
}

pub struct Outputs<'a> {
    /// Variants go in `<gallery_assets>/<gallery>/<file>` (`<staging>/site/_gatefold/g`).
    pub gallery_assets: &'a Path,
    /// Originals go in `<originals>/<Original.key>`.
    pub originals: &'a Path,
    /// Persistent cache outside `dist/`, e.g. `.gatefold-cache/images`.
    pub cache: &'a Path,
}

/// How one image went, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Cached,
    Built(Duration),
    Failed,
}

/// Called once per image as it finishes, from any thread.
pub type OnDone<'a> = &'a (dyn Fn(&Job, Outcome) + Sync);

/// What processing one image gave: its outputs, and what the cache must remember of it.
struct ImageResult {
    processed: Processed,
    /// The cache entry it used, kept by the prune.
    cache_key: String,
    /// Its source path and stamp, for `sources.json`.
    source: (String, SourceStamp),
    from_cache: bool,
}

/// The work of one run: every image, the settings checked once, and the cache.
struct Queue<'a> {
    jobs: &'a [Job],
    settings: &'a Settings,
    fingerprint: String,
    cache: Cache,
    /// Serialises the full decodes of very large sources, bounding peak memory.
    big_decode: Mutex<()>,
}

/// Processes every job (in parallel) and places its outputs in the staging directories.
///
/// Pass every image of the build in one call: afterwards, cache entries no job used are
/// pruned. On failure nothing is pruned and the error lists every failing source file.
pub fn process(jobs: &[Job], settings: &Settings, out: &Outputs<'_>, on_done: OnDone<'_>) -> Result<Vec<Processed>> {
    let queue = enqueue(jobs, settings, out.cache)?;
    let results = queue.process_all(out, on_done)?;
    let mut processed = Vec::with_capacity(results.len());
    let mut used = HashSet::new();
    let mut sources = BTreeMap::new();
    for r in results {
        used.insert(r.cache_key);
        sources.insert(r.source.0, r.source.1);
        processed.push(r.processed);
    }
    queue.cache.finish(&sources, &used)?;
    Ok(processed)
}

fn enqueue<'a>(jobs: &'a [Job], settings: &'a Settings, cache: &Path) -> Result<Queue<'a>> {
    if settings.widths.is_empty() || settings.widths.contains(&0) || settings.thumb_width == 0 {
        bail!("images.widths and images.thumb_width must be positive pixel widths, e.g. widths [480, 960, 1920] and thumb_width 360");
    }
    Ok(Queue { jobs, settings, fingerprint: settings.fingerprint(), cache: Cache::open(cache)?, big_decode: Mutex::new(()) })
}

impl Queue<'_> {
    fn process_all(&self, out: &Outputs<'_>, on_done: OnDone<'_>) -> Result<Vec<ImageResult>> {
        let results: Vec<Result<ImageResult>> = self
            .jobs
            .par_iter()
            .map(|job| {
                let started = Instant::now();
                let r = self
                    .process_one(job, out, &self.cache.sources)
                    .with_context(|| format!("{} (gallery {}, image {})", job.source.display(), job.gallery, job.image_id));
                let outcome = match &r {
                    Ok(r) if r.from_cache => Outcome::Cached,
                    Ok(_) => Outcome::Built(started.elapsed()),
                    Err(_) => Outcome::Failed,
                };
                on_done(job, outcome);
                r
            })
            .collect();
        let (ok, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        if !failed.is_empty() {
            let failures: Vec<String> = failed.into_iter().filter_map(Result::err).map(|e| format!("{e:#}")).collect();
            bail!("{} of {} images could not be processed:\n  {}", failures.len(), self.jobs.len(), failures.join("\n  "));
        }
        Ok(ok.into_iter().filter_map(Result::ok).collect())
    }

    fn process_one(&self, job: &Job, out: &Outputs<'_>, known: &BTreeMap<String, SourceStamp>) -> Result<ImageResult> {
        let meta = fs::metadata(&job.source).with_context(|| format!("reading {}", job.source.display()))?;
        let index_key = job.source.to_string_lossy().into_owned();
        let known = known.get(&index_key).filter(|s| s.matches(&meta));

        let mut bytes = None;
        let source_hash = match known {
            Some(s) => s.hash.clone(),
            None => {
                let b = fs::read(&job.source).with_context(|| format!("reading {}", job.source.display()))?;
                let h = blake3::hash(&b).to_hex().to_string();
                bytes = Some(b);
                h
            }
        };
        let key = Cache::key(&self.fingerprint, &source_hash);
        let source = (index_key, SourceStamp::of(&meta, source_hash.clone()));
        let dir = self.cache.dir.join(&key);

        if let Some(entry) = self.cache.read_entry(&key) {
            let processed = place(job, &entry, &dir, out)?;
            return Ok(ImageResult { processed, cache_key: key, source, from_cache: true });
        }
        let bytes = match bytes {
            Some(b) => b,
            None => fs::read(&job.source).with_context(|| format!("reading {}", job.source.display()))?,
        };
        if blake3::hash(&bytes).to_hex().as_str() != source_hash {
            // Changed without its size/mtime changing: start over with the real content.
            return self.process_one(job, out, &BTreeMap::new());
        }
        let entry = self.cache.store(&key, |tmp| {
            encode::build_entry(&job.source, &bytes, &job.probe, &source_hash, self.settings, tmp, &self.big_decode)
        })?;
        let processed = place(job, &entry, &dir, out)?;
        Ok(ImageResult { processed, cache_key: key, source, from_cache: false })
    }
}

/// Hard-links (or copies) a cache entry's files into the staging directories under their
/// published names.
fn place(job: &Job, entry: &Entry, dir: &Path, out: &Outputs<'_>) -> Result<Processed> {
    let gallery_dir = out.gallery_assets.join(&job.gallery);
    fs::create_dir_all(&gallery_dir).with_context(|| format!("creating {}", gallery_dir.display()))?;
    let mut variants = Vec::with_capacity(entry.files.len());
    for f in &entry.files {
        let file = format!("{}-{}-{}", job.image_id, f.hash16, f.suffix);
        link_or_copy(&dir.join(&f.suffix), &gallery_dir.join(&file))?;
        variants.push(Variant {
            role: f.role,
            width: f.width,
            height: f.height,
            content_type: f.content_type,
            file,
            full_size: f.full_size,
        });
    }
    let key = format!("{}/{}.{}", job.gallery, entry.original_hash16, entry.original_ext);
    link_or_copy(&dir.join(format!("{ORIGINAL_NAME}.{}", entry.original_ext)), &out.originals.join(&key))?;
    Ok(Processed {
        image_id: job.image_id.clone(),
        width: entry.width,
        height: entry.height,
        animated: entry.animated,
        variants,
        original: Original { key, size: entry.original_size, content_type: entry.original_content_type },
    })
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    let parent = to.parent().ok_or_else(|| anyhow!("{} has no parent directory", to.display()))?;
    fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = parent.join(format!(".{}.tmp-{}", to.file_name().unwrap_or_default().to_string_lossy(), std::process::id()));
    let _ = fs::remove_file(&tmp);
    if fs::hard_link(from, &tmp).is_err() {
        fs::copy(from, &tmp).with_context(|| format!("copying {} to {}", from.display(), tmp.display()))?;
    }
    fs::rename(&tmp, to).with_context(|| format!("moving {} into place", to.display()))
}
