//! The build's image step: every source image → responsive WebP/JPEG (and, opt-in, AVIF)
//! variants, a grid thumbnail and a metadata-stripped original, through a content-addressed
//! cache.
//!
//! Cache layout (`Outputs::cache`): one directory per (source content, settings, pipeline
//! version), named by its blake3 hash, holding the encoded files and `entry.json`. Entries are
//! built in a temporary directory and renamed into place, so a crash never leaves half an
//! entry. `sources.json` remembers each source file's size, mtime and content hash, so a
//! no-change rebuild neither reads nor hashes the images.

use super::container::{self, KeptExif};
use super::pixels::{self, Pixels};
use super::{Limits, SourceFormat};
use anyhow::{Context, Result, anyhow, bail};
use gatefold_contract::manifest::{Original, Variant, VariantRole};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bump when a change to this pipeline changes its outputs: every cache entry and file name
/// changes with it.
const PIPELINE_VERSION: &str = "gatefold-images-3";

/// The static-assets host refuses files over 25 MiB; an animation larger than that cannot be
/// served as it is.
const MAX_ASSET_BYTES: u64 = 25 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
enum Kind {
    WebP,
    Jpeg,
    Avif,
}

/// libwebp `method` for the WebP variants: 2 for the widest display size, 3 for the smaller
/// ones. The widest (1920 px) holds ~3/4 of the pixels, so its method sets the build time:
/// method 2 skips rate-distortion mode choice and encodes ~3× faster. Measured on the bench
/// (q80, DSSIM against an exact Lanczos3 reference, BENCHMARKS.md "Image pipeline"): at 1920 px
/// method 2 is 0.001867 vs sharp's 0.001779 (1.05×; method 3: 0.001716), while at 960/480/360
/// px method 2 was 6–9% worse than sharp and method 3 is 2–4% better, for little time.
const WEBP_METHOD_WIDEST: u8 = 2;
const WEBP_METHOD: u8 = 3;

/// ravif quality and speed (1 slowest … 10 fastest) for AVIF variants. AVIF costs several
/// times WebP even at speed 9, which is why it is opt-in.
const AVIF_QUALITY: u8 = 60;
const AVIF_SPEED: u8 = 9;

/// Sources above this many pixels that cannot be decoded at reduced scale (PNG, WebP, GIF,
/// CMYK JPEG) are decoded one at a time, to bound peak memory.
const BIG_FULL_DECODE_PIXELS: u64 = 24_000_000;

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

impl Default for Settings {
    fn default() -> Settings {
        Settings { widths: vec![480, 960, 1920], thumb_width: 360, webp_quality: 80, jpeg_quality: 82, avif: false, limits: Limits::default() }
    }
}

impl Settings {
    fn fingerprint(&self) -> String {
        format!("w={:?};t={};wq={};jq={};avif={}", self.widths, self.thumb_width, self.webp_quality, self.jpeg_quality, self.avif)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub gallery: String,
    pub image_id: String,
    pub source: PathBuf,
    pub file_name: String,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Bar,
    Lines,
    Quiet,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise (CI logs).
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() { Progress::Bar } else { Progress::Lines }
    }
}

/// One encoded file of a cache entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct EntryFile {
    role: VariantRole,
    width: u32,
    height: u32,
    content_type: String,
    full_size: bool,
    /// Name inside the entry directory, and the tail of the published file name.
    suffix: String,
    hash16: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    width: u32,
    height: u32,
    animated: bool,
    files: Vec<EntryFile>,
    original_ext: String,
    original_content_type: String,
    original_size: u64,
    original_hash16: String,
}

const ORIGINAL_NAME: &str = "original";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SourceStamp {
    size: u64,
    mtime_ns: i128,
    #[serde(default)]
    inode: u64,
    hash: String,
}

fn stamp_of(meta: &fs::Metadata) -> (u64, i128, u64) {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(-1, |d| d.as_nanos() as i128);
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(meta);
    #[cfg(not(unix))]
    let inode = 0;
    (meta.len(), mtime_ns, inode)
}

fn hex16(hash: &blake3::Hash) -> String {
    hash.to_hex()[..16].to_string()
}

/// Processes every job (in parallel) and places its outputs in the staging directories.
///
/// Pass every image of the build in one call: afterwards, cache entries no job used are
/// pruned. On failure nothing is pruned and the error lists every failing source file.
pub fn process(jobs: &[Job], settings: &Settings, out: &Outputs<'_>, progress: Progress) -> Result<Vec<Processed>> {
    if settings.widths.is_empty() || settings.widths.contains(&0) || settings.thumb_width == 0 {
        bail!("images.widths and images.thumb_width must be positive pixel widths, e.g. widths [480, 960, 1920] and thumb_width 360");
    }
    fs::create_dir_all(out.cache).with_context(|| format!("creating the image cache {}", out.cache.display()))?;
    let index_path = out.cache.join("sources.json");
    let index: BTreeMap<String, SourceStamp> = fs::read(&index_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();

    let bar = match progress {
        Progress::Bar => {
            let bar = indicatif::ProgressBar::new(jobs.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} images {bar:30} {pos}/{len} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            Some(bar)
        }
        _ => None,
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let big_decode = Mutex::new(());
    let settings_fp = settings.fingerprint();

    let results: Vec<Result<(Processed, String, (String, SourceStamp))>> = jobs
        .par_iter()
        .map(|job| {
            let started = Instant::now();
            let r = process_one(job, settings, &settings_fp, out, &index, &big_decode)
                .with_context(|| format!("{} (gallery {}, image {})", job.source.display(), job.gallery, job.image_id));
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let what = match &r {
                Ok((_, _, _, true)) => "cached".to_string(),
                Ok((_, _, _, false)) => format!("built in {:.2}s", started.elapsed().as_secs_f64()),
                Err(_) => "FAILED".to_string(),
            };
            match (&bar, progress) {
                (Some(bar), _) => {
                    bar.set_message(format!("{}/{}", job.gallery, job.file_name));
                    bar.inc(1);
                }
                (None, Progress::Lines) => eprintln!("image {n}/{}: {}/{} {what}", jobs.len(), job.gallery, job.file_name),
                _ => {}
            }
            r.map(|(p, key, stamp, _)| (p, key, stamp))
        })
        .collect();
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }

    let mut processed = Vec::with_capacity(jobs.len());
    let mut keep = HashSet::new();
    let mut new_index = BTreeMap::new();
    let mut failures = Vec::new();
    for r in results {
        match r {
            Ok((p, key, (path, stamp))) => {
                keep.insert(key);
                new_index.insert(path, stamp);
                processed.push(p);
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !failures.is_empty() {
        bail!("{} of {} images could not be processed:\n  {}", failures.len(), jobs.len(), failures.join("\n  "));
    }
    write_atomically(&index_path, &serde_json::to_vec_pretty(&new_index)?)?;
    prune_cache(out.cache, &keep)?;
    Ok(processed)
}

/// Removes cache entries whose key is not in `keep`, and temporary directories left by
/// interrupted runs. Returns how many entries went.
pub fn prune_cache(cache: &Path, keep: &HashSet<String>) -> Result<usize> {
    let mut removed = 0;
    let list = match fs::read_dir(cache) {
        Ok(list) => list,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("listing the image cache {}", cache.display())),
    };
    for item in list {
        let item = item.with_context(|| format!("listing the image cache {}", cache.display()))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let is_dir = item.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if !is_dir || keep.contains(&name) {
            continue;
        }
        if name.starts_with('.') {
            // Another build may be filling it right now; only old leftovers are removed.
            let old = item.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|age| age > Duration::from_secs(3600));
            if !old {
                continue;
            }
        }
        fs::remove_dir_all(item.path()).with_context(|| format!("pruning {}", item.path().display()))?;
        removed += 1;
    }
    Ok(removed)
}

type OneResult = (Processed, String, (String, SourceStamp), bool);

fn process_one(job: &Job, settings: &Settings, settings_fp: &str, out: &Outputs<'_>, index: &BTreeMap<String, SourceStamp>, big_decode: &Mutex<()>) -> Result<OneResult> {
    let meta = fs::metadata(&job.source).with_context(|| format!("reading {}", job.source.display()))?;
    let (size, mtime_ns, inode) = stamp_of(&meta);
    let index_key = job.source.to_string_lossy().into_owned();
    let known = index.get(&index_key).filter(|s| s.size == size && s.mtime_ns == mtime_ns && s.inode == inode && mtime_ns >= 0);

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
    let key = blake3::Hasher::new()
        .update(PIPELINE_VERSION.as_bytes())
        .update(b"\0")
        .update(settings_fp.as_bytes())
        .update(b"\0")
        .update(source_hash.as_bytes())
        .finalize()
        .to_hex()[..32]
        .to_string();
    let dir = out.cache.join(&key);
    let stamp = (index_key, SourceStamp { size, mtime_ns, inode, hash: source_hash.clone() });

    if let Some(entry) = read_entry(&dir) {
        let p = place(job, &entry, &dir, out)?;
        return Ok((p, key, stamp, true));
    }
    let bytes = match bytes {
        Some(b) => b,
        None => fs::read(&job.source).with_context(|| format!("reading {}", job.source.display()))?,
    };
    if blake3::hash(&bytes).to_hex().as_str() != source_hash {
        // Changed without its size/mtime changing: start over with the real content.
        let stale: BTreeMap<String, SourceStamp> = BTreeMap::new();
        return process_one(job, settings, settings_fp, out, &stale, big_decode);
    }
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".tmp-{key}-"))
        .tempdir_in(out.cache)
        .with_context(|| format!("creating a temporary directory in {}", out.cache.display()))?;
    let entry = build_entry(&job.source, &bytes, &source_hash, settings, tmp.path(), big_decode)?;
    fs::write(tmp.path().join("entry.json"), serde_json::to_vec_pretty(&entry)?).with_context(|| format!("writing {}", tmp.path().display()))?;
    let tmp_path = tmp.keep();
    if dir.exists() {
        // An unreadable or incomplete entry from an older run.
        fs::remove_dir_all(&dir).with_context(|| format!("replacing {}", dir.display()))?;
    }
    if let Err(e) = fs::rename(&tmp_path, &dir) {
        let _ = fs::remove_dir_all(&tmp_path);
        // Another process may have stored the same entry at the same moment.
        if read_entry(&dir).is_none() {
            return Err(e).with_context(|| format!("storing {}", dir.display()));
        }
    }
    let p = place(job, &entry, &dir, out)?;
    Ok((p, key, stamp, false))
}

fn read_entry(dir: &Path) -> Option<Entry> {
    let entry: Entry = serde_json::from_slice(&fs::read(dir.join("entry.json")).ok()?).ok()?;
    let complete = entry.files.iter().all(|f| dir.join(&f.suffix).is_file()) && dir.join(format!("{ORIGINAL_NAME}.{}", entry.original_ext)).is_file();
    complete.then_some(entry)
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
            content_type: f.content_type.clone(),
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
        original: Original { key, size: entry.original_size, content_type: entry.original_content_type.clone() },
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

fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, data).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Upright output sizes for a source `w`×`h`: configured widths never above the source, plus
/// the source's own width when it is well above the largest one kept (so a 1500 px image is
/// not shown at 960), or the source size alone when it is below every width.
pub(crate) fn display_widths(settings: &Settings, w: u32) -> Vec<u32> {
    let mut widths: Vec<u32> = settings.widths.iter().copied().filter(|x| *x <= w).collect();
    widths.sort_unstable();
    widths.dedup();
    match widths.last() {
        None => widths.push(w),
        Some(&top) if top < *settings.widths.iter().max().unwrap_or(&top) && u64::from(w) * 5 > u64::from(top) * 6 => widths.push(w),
        _ => {}
    }
    widths
}

/// The libwebp method for one WebP variant: see `WEBP_METHOD_WIDEST`.
pub(crate) fn webp_method(role: VariantRole, width: u32, top_width: Option<u32>) -> u8 {
    if role == VariantRole::Display && Some(width) == top_width { WEBP_METHOD_WIDEST } else { WEBP_METHOD }
}

fn height_for(w: u32, h: u32, width: u32) -> u32 {
    ((u64::from(h) * u64::from(width) + u64::from(w) / 2) / u64::from(w)).max(1) as u32
}

fn build_entry(path: &Path, bytes: &[u8], source_hash: &str, settings: &Settings, dir: &Path, big_decode: &Mutex<()>) -> Result<Entry> {
    let probe = super::probe_bytes(bytes, &settings.limits).map_err(|p| anyhow!("{p}"))?;
    let format = probe.format;
    let layout = container::layout(format, bytes).map_err(|m| anyhow!("{m} (fix: re-export or re-copy the image from its source)"))?;
    let kept = layout.exif.as_deref().map(container::read_exif).unwrap_or(KeptExif { orientation: 1, copyright: None });
    let (w, h) = if kept.orientation >= 5 { (probe.height, probe.width) } else { (probe.width, probe.height) };

    let hash16 = |op: &str| hex16(&blake3::Hasher::new().update(PIPELINE_VERSION.as_bytes()).update(source_hash.as_bytes()).update(op.as_bytes()).finalize());
    let write = |name: &str, data: &[u8]| -> Result<()> {
        fs::write(dir.join(name), data).with_context(|| format!("writing {}", dir.join(name).display()))
    };

    // The original, for download: private metadata out, pixels untouched.
    let original = container::strip(format, bytes, container::minimal_exif(&kept).as_deref())
        .map_err(|m| anyhow!("{m} (fix: re-export or re-copy the image from its source)"))?;
    let ext = match format {
        SourceFormat::Jpeg => "jpg",
        SourceFormat::Png => "png",
        SourceFormat::Gif => "gif",
        SourceFormat::WebP => "webp",
    };
    write(&format!("{ORIGINAL_NAME}.{ext}"), &original)?;

    let animated = layout.animated && (original.len() as u64) <= MAX_ASSET_BYTES;
    if layout.animated && !animated {
        eprintln!(
            "warning: {}: the animation is {:.1} MB, over the 25 MiB a page asset may have; it is shown as a still image (download keeps the animation)",
            path.display(),
            original.len() as f64 / 1e6
        );
    }
    // Hashed from memory: reading the written file back cost a second pass over every original.
    let original_hash16 = hex16(&blake3::hash(&original));
    let original_size = original.len() as u64;
    drop(original);
    let widths = if animated { Vec::new() } else { display_widths(settings, w) };
    let thumb_w = settings.thumb_width.min(w);
    let widest = widths.last().copied().unwrap_or(thumb_w).max(thumb_w);

    let pixels = {
        let scaled_jpeg = format == SourceFormat::Jpeg;
        let _guard = (!scaled_jpeg && u64::from(w) * u64::from(h) > BIG_FULL_DECODE_PIXELS).then(|| big_decode.lock());
        pixels::decode(format, bytes, &layout, kept.orientation, Some(widest)).map_err(|m| anyhow!("{m} (fix: re-export the image from its source)"))?
    };

    let mut files = Vec::new();
    if animated {
        // The animation itself, stripped like the download, is the display image.
        let suffix = format!("anim.{ext}");
        fs::copy(dir.join(format!("{ORIGINAL_NAME}.{ext}")), dir.join(&suffix)).with_context(|| format!("writing {}", dir.join(&suffix).display()))?;
        files.push(EntryFile { role: VariantRole::Display, width: w, height: h, content_type: format.content_type().into(), full_size: true, hash16: hash16(&suffix), suffix });
    }
    // One Lanczos3 step from the decoded image to the widest size, then every smaller size
    // straight from that one (as sharp does): chaining 1920→960→480 compounds the blur.
    let mut sizes: Vec<(VariantRole, u32)> = widths.iter().rev().map(|x| (VariantRole::Display, *x)).collect();
    sizes.push((VariantRole::Thumb, thumb_w));
    let top_width = widths.last().copied();
    let base = pixels::resize(&pixels, widest, height_for(w, h, widest)).map_err(|m| anyhow!("resizing to {widest} px: {m}"))?;
    drop(pixels);
    let resized: Vec<(VariantRole, u32, Pixels)> = sizes
        .par_iter()
        .map(|&(role, width)| {
            let p = pixels::resize(&base, width, height_for(w, h, width)).map_err(|m| anyhow!("resizing to {width} px: {m}"))?;
            Ok((role, width, p))
        })
        .collect::<Result<_>>()?;
    drop(base);
    let mut kinds = vec![Kind::WebP, Kind::Jpeg];
    if settings.avif {
        kinds.push(Kind::Avif);
    }
    let tasks: Vec<(usize, Kind)> = (0..resized.len()).flat_map(|i| kinds.iter().map(move |k| (i, *k))).collect();
    // Across sizes and formats too, so one large image does not leave a core idle.
    let encoded: Vec<Vec<u8>> = tasks
        .par_iter()
        .map(|&(i, kind)| {
            let (role, width, ref p) = resized[i];
            match kind {
                Kind::WebP => pixels::encode_webp(p, settings.webp_quality, webp_method(role, width, top_width)),
                Kind::Jpeg => pixels::encode_jpeg(p, settings.jpeg_quality),
                Kind::Avif => pixels::encode_avif(p, AVIF_QUALITY, AVIF_SPEED),
            }
            .map_err(|m| anyhow!(m))
        })
        .collect::<Result<_>>()?;
    for (&(i, kind), data) in tasks.iter().zip(encoded) {
        let (role, width, ref p) = resized[i];
        let name = match role {
            VariantRole::Thumb => "thumb".to_string(),
            VariantRole::Display => width.to_string(),
        };
        let (ext, content_type, op) = match kind {
            Kind::WebP => ("webp", "image/webp", format!("q={};m={}", settings.webp_quality, webp_method(role, width, top_width))),
            Kind::Jpeg => ("jpg", "image/jpeg", format!("q={}", settings.jpeg_quality)),
            Kind::Avif => ("avif", "image/avif", format!("q={AVIF_QUALITY};s={AVIF_SPEED}")),
        };
        let suffix = format!("{name}.{ext}");
        write(&suffix, &data)?;
        // Every format of the widest display size counts as a full-size view when fetched.
        let full_size = role == VariantRole::Display && Some(width) == top_width;
        let op = format!("{suffix};w={width};{op}");
        files.push(EntryFile { role, width, height: p.height, content_type: content_type.into(), full_size, hash16: hash16(&op), suffix });
    }
    Ok(Entry {
        width: w,
        height: h,
        animated,
        files,
        original_ext: ext.into(),
        original_content_type: format.content_type().into(),
        original_size,
        original_hash16,
    })
}
