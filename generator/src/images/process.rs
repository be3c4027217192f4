//! The build's image step: every source image → responsive WebP/JPEG (and, opt-in, AVIF)
//! variants, a grid thumbnail and a metadata-stripped original, through the content-addressed
//! [cache](super::cache).
//!
//! As Zola's `imageproc`: enqueue (one task per image, settings checked once) → plan and, when
//! asked, encode in parallel (from the cache, or by [`super::encode`]) → prune the cache entries
//! no task used. Nothing is copied out of the cache: the files are R2 objects
//! ([`Plans::objects`]) that the build lists and `publish` uploads. A build that only plans
//! ([`process`] with `encode` off) knows every key and size all the same, and
//! [`Plans::encode`] makes the files of any of its images later.

use super::cache::{Cache, Entry};
use super::sources::{self, SourceStamp, Sources};
use super::encode;
use super::marked::{self, JobMark, MarkedPlan};
use super::settings::Settings;
use super::Probe;
use anyhow::{Context, Result, bail};
use gatefold_contract::manifest::{Original, Variant, display_key, original_key};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One source image to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub gallery: String,
    pub image_id: String,
    pub source: PathBuf,
    pub file_name: String,
    /// What the load found when it checked the file: format and size, never probed again.
    pub probe: Probe,
    /// What the gallery's marked links ask of the image; `None`: no link of it is marked.
    pub mark: Option<JobMark>,
}

/// What the manifest says of one image: its sizes, variants and original, keys included.
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

/// One R2 object of a build: its key, the file holding its bytes (in the image cache) and its
/// type. `dist/objects.json` is a list of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub key: String,
    pub file: PathBuf,
    /// The MIME type it is stored with: an image's, or `application/octet-stream` for a marked
    /// pair's index and a stamp's band.
    pub content_type: String,
}

/// How one image went, for progress reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Its plan (and, when encoding, its files) came from the cache.
    Cached,
    /// Planned from its bytes; nothing encoded.
    Planned,
    Built(Duration),
    Failed,
}

/// Called once per image as it finishes, from any thread.
pub type OnDone<'a> = &'a (dyn Fn(&Job, Outcome) + Sync);

/// One image's plan: what the manifest says of it and the cache entry that holds (or will hold)
/// its files.
#[derive(Debug, Clone)]
pub struct Planned {
    pub job: Job,
    pub processed: Processed,
    /// The cache entry, kept by the prune.
    key: String,
    entry: Entry,
    /// Its marked pairs and bands (empty when no link of its gallery is marked).
    marked: MarkedPlan,
}

impl Planned {
    /// The cache entry holding (or to hold) its files: a function of the source's content, the
    /// settings and the pipeline's version.
    pub fn cache_key(&self) -> &str {
        &self.key
    }

    /// Every R2 object of this image: its variants and its original, and its marked pairs and
    /// bands.
    pub fn objects(&self, cache: &Path) -> Vec<Object> {
        let dir = cache.join(&self.key);
        let variants = self.entry.files.iter().zip(&self.processed.variants).map(|(f, v)| Object {
            key: v.key.clone(),
            file: dir.join(&f.suffix),
            content_type: v.content_type.as_str().to_string(),
        });
        let original = &self.processed.original;
        variants
            .chain([Object { key: original.key.clone(), file: dir.join(self.entry.original_name()), content_type: original.content_type.as_str().to_string() }])
            .chain(self.marked.objects(cache))
            .collect()
    }
}

/// Every image of a build, planned, in job order.
#[derive(Debug)]
pub struct Plans {
    pub images: Vec<Planned>,
    settings: Settings,
    /// The image cache (absolute).
    cache: PathBuf,
}

/// Plans every job and, with `encode`, encodes every image whose files are not cached yet (in
/// parallel).
///
/// Pass every image of the build in one call: afterwards, cache entries no job used are
/// pruned. On failure nothing is pruned and the error lists every failing source file.
pub fn process(jobs: &[Job], settings: &Settings, cache: &Path, encode: bool, on_done: OnDone<'_>) -> Result<Plans> {
    process_known(jobs, settings, cache, Sources::read(cache), encode, on_done)
}

/// [`process`] with the cache's source index already read (the build read it for the probes).
pub fn process_known(jobs: &[Job], settings: &Settings, cache: &Path, known: Sources, encode: bool, on_done: OnDone<'_>) -> Result<Plans> {
    let queue = enqueue(settings, cache, known)?;
    let results = run_all(jobs, "processed", |job| {
        let started = Instant::now();
        let (planned, bytes, source, from_plan_cache) = queue.plan_one(job)?;
        let outcome = if encode && !queue.is_stored(&planned) {
            queue.encode_one(&planned, bytes)?;
            Outcome::Built(started.elapsed())
        } else if from_plan_cache {
            Outcome::Cached
        } else {
            Outcome::Planned
        };
        Ok((planned, source, outcome))
    }, on_done)?;
    let mut images = Vec::with_capacity(results.len());
    let mut used = HashSet::new();
    let mut sources = Sources::default();
    for (planned, source, _) in results {
        used.insert(planned.key.clone());
        used.extend(planned.marked.cache_keys().map(str::to_string));
        if let (key, Some(stamp)) = source {
            sources.stamps.insert(key, stamp);
        }
        images.push(planned);
    }
    queue.cache.finish(&sources, &used)?;
    Ok(Plans { images, settings: settings.clone(), cache: queue.cache.dir })
}

impl Plans {
    /// The image cache holding every encoded file (absolute).
    pub fn cache(&self) -> &Path {
        &self.cache
    }

    /// Every R2 object of every image, each key once (an image in two galleries has one key).
    pub fn objects(&self) -> Vec<Object> {
        let mut seen = HashSet::new();
        self.images.iter().flat_map(|p| p.objects(&self.cache)).filter(|o| seen.insert(o.key.clone())).collect()
    }

    /// Encodes the images `which` picks whose files are not cached yet, exactly as planned.
    /// Returns how many were encoded. A source changed since it was planned is refused: its
    /// files would not be the ones the manifest names.
    pub fn encode(&self, which: impl Fn(&Planned) -> bool + Sync, on_done: OnDone<'_>) -> Result<usize> {
        let queue = enqueue(&self.settings, &self.cache, Sources::default())?;
        // One task per cache entry and marked plan: the same source in two galleries is encoded
        // once, but where one of them has marked links its pairs and bands are its own to make.
        let mut entries = HashSet::new();
        let picked: Vec<&Planned> =
            self.images.iter().filter(|p| which(p) && entries.insert((p.key.as_str(), p.marked.cache_keys().collect::<Vec<_>>()))).collect();
        let done = run_all(&picked, "encoded", |planned| {
            let started = Instant::now();
            if queue.cache.is_complete(&planned.key, &planned.entry) && marked::is_stored(&queue.cache, &planned.marked) {
                return Ok(Outcome::Cached);
            }
            queue.encode_one(planned, None)?;
            Ok(Outcome::Built(started.elapsed()))
        }, &|p: &&Planned, outcome| on_done(&p.job, outcome))?;
        // Sources, not tasks: a source's marked outputs for a second gallery are not a second image.
        let built: HashSet<&str> = done.iter().zip(&picked).filter(|(o, _)| matches!(o, Outcome::Built(_))).map(|(_, p)| p.key.as_str()).collect();
        Ok(built.len())
    }
}

/// The source a task works on, for error messages and progress.
trait Task {
    fn job(&self) -> &Job;
}
impl Task for Job {
    fn job(&self) -> &Job {
        self
    }
}
impl Task for &Planned {
    fn job(&self) -> &Job {
        &self.job
    }
}

/// Runs `work` on every task in parallel; on failure, one error naming every failing file.
fn run_all<T: Task + Sync, R: HasOutcome + Send>(
    tasks: &[T],
    verb: &str,
    work: impl Fn(&T) -> Result<R> + Sync,
    on_done: &(dyn Fn(&T, Outcome) + Sync),
) -> Result<Vec<R>> {
    let results: Vec<Result<R>> = tasks
        .par_iter()
        .map(|task| {
            let job = task.job();
            let r = work(task).with_context(|| format!("{} (gallery {}, image {})", job.source.display(), job.gallery, job.image_id));
            on_done(task, r.as_ref().map_or(Outcome::Failed, HasOutcome::outcome));
            r
        })
        .collect();
    let (ok, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if !failed.is_empty() {
        let failures: Vec<String> = failed.into_iter().filter_map(Result::err).map(|e| format!("{e:#}")).collect();
        bail!("{} of {} images could not be {verb}:\n  {}", failures.len(), tasks.len(), failures.join("\n  "));
    }
    Ok(ok.into_iter().filter_map(Result::ok).collect())
}

/// What a task's result says about how it went.
trait HasOutcome {
    fn outcome(&self) -> Outcome;
}
impl HasOutcome for Outcome {
    fn outcome(&self) -> Outcome {
        *self
    }
}
impl<A, B> HasOutcome for (A, B, Outcome) {
    fn outcome(&self) -> Outcome {
        self.2
    }
}

/// The work of one run: the settings checked once, and the cache.
struct Queue<'a> {
    settings: &'a Settings,
    fingerprint: String,
    cache: Cache,
    /// Serialises the full decodes of very large sources, bounding peak memory.
    big_decode: Mutex<()>,
}

fn enqueue<'a>(settings: &'a Settings, cache: &Path, known: Sources) -> Result<Queue<'a>> {
    if settings.widths.is_empty() || settings.widths.contains(&0) || settings.thumb_width == 0 {
        bail!("images.widths and images.thumb_width must be positive pixel widths, e.g. widths [480, 960, 1920] and thumb_width 360");
    }
    Ok(Queue { settings, fingerprint: settings.fingerprint(), cache: Cache::open(cache, known)?, big_decode: Mutex::new(()) })
}

/// A source's path and stamp (none while it is too fresh to trust), for `sources.json`.
type SourceRecord = (String, Option<SourceStamp>);

impl Queue<'_> {
    /// The plan of `job`: from the cache when its stamp and plan are known (no byte of the image
    /// read), else from its bytes, which are returned for an encode to reuse.
    fn plan_one(&self, job: &Job) -> Result<(Planned, Option<Vec<u8>>, SourceRecord, bool)> {
        let meta = fs::metadata(&job.source).with_context(|| format!("reading {}", job.source.display()))?;
        let stat_time = std::time::SystemTime::now();
        let index_key = Sources::key(&job.source);
        if let Some(stamp) = self.cache.sources.known(&job.source, &meta) {
            let key = Cache::key(&self.fingerprint, &stamp.hash);
            if let Some(entry) = self.cache.read_plan(&key) {
                return Ok((planned(job, key, entry), None, (index_key, Some(stamp.clone())), true));
            }
        }
        // The metadata is read before the bytes: a write in between changes the stamp it is
        // remembered under, so the next run hashes the file again.
        let bytes = fs::read(&job.source).with_context(|| format!("reading {}", job.source.display()))?;
        let source_hash = blake3::hash(&bytes).to_hex().to_string();
        let key = Cache::key(&self.fingerprint, &source_hash);
        let source = (index_key, sources::stamp(&meta, stat_time, source_hash.clone(), &job.probe));
        if let Some(entry) = self.cache.read_plan(&key) {
            return Ok((planned(job, key, entry), Some(bytes), source, true));
        }
        let entry = encode::plan(&job.source, &bytes, &job.probe, &source_hash, self.settings)?;
        self.cache.write_plan(&key, &entry)?;
        Ok((planned(job, key, entry), Some(bytes), source, false))
    }

    /// Whether `planned`'s files and marked outputs are all in the cache (judged by one file
    /// per entry, see [`Cache::is_stored`]).
    fn is_stored(&self, planned: &Planned) -> bool {
        self.cache.is_stored(&planned.key, &planned.entry) && marked::is_stored(&self.cache, &planned.marked)
    }

    /// Encodes `planned` into its cache entries (its files, then its marked outputs), from
    /// `bytes` or the file read again.
    fn encode_one(&self, planned: &Planned, bytes: Option<Vec<u8>>) -> Result<()> {
        let job = &planned.job;
        let bytes = match bytes {
            Some(b) => b,
            None => fs::read(&job.source).with_context(|| format!("reading {}", job.source.display()))?,
        };
        if !self.cache.is_complete(&planned.key, &planned.entry) {
            self.cache.store(&planned.key, &planned.entry, |dir| encode::encode(&job.source, &bytes, &job.probe, &planned.entry, dir, &self.big_decode))?;
        }
        if marked::is_stored(&self.cache, &planned.marked) {
            return Ok(());
        }
        // The marked outputs are named by the planned content: a file changed since must not
        // fill them.
        if Cache::key(&self.fingerprint, blake3::hash(&bytes).to_hex().as_str()) != planned.key {
            bail!("the file changed since it was planned (fix: build again)");
        }
        marked::encode(&self.cache, job, &planned.marked, &bytes, &self.big_decode)
    }
}

/// The manifest's view of one planned image: display files are named in the visitor's URL by
/// image id and content hash, and stored in R2 under the content hash alone.
fn planned(job: &Job, key: String, entry: Entry) -> Planned {
    let mut variants: Vec<Variant> = entry
        .files
        .iter()
        .map(|f| Variant {
            role: f.role,
            width: f.width,
            height: f.height,
            content_type: f.content_type,
            file: format!("{}-{}-{}", job.image_id, f.hash16, f.suffix),
            key: display_key(&f.hash16, &f.suffix),
            full_size: f.full_size,
            marked: None,
        })
        .collect();
    let mut original = Original {
        key: original_key(&entry.original_hash16, &entry.original_ext),
        size: entry.original_size,
        content_type: entry.original_content_type,
        crc32: entry.original_crc32,
        marked: None,
    };
    let marked = marked::plan(job, &key, &entry, &mut variants, &mut original);
    let processed = Processed { image_id: job.image_id.clone(), width: entry.width, height: entry.height, animated: entry.animated, variants, original };
    Planned { job: job.clone(), processed, key, entry, marked }
}
