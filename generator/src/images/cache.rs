//! The content-addressed image cache (`.gatefold-cache/images`).
//!
//! One directory per (source content, settings, pipeline version), named by its blake3 hash.
//! Its `entry.json` is the image's plan ([`Entry`]: sizes, R2 keys, the stripped original's
//! hash, size and CRC-32), written as soon as the image is planned, so a build that encodes
//! nothing (`gatefold plan`, `publish` before it knows what R2 lacks) reads no image bytes the
//! second time. The encoded files join it later: an encode fills a temporary directory and
//! renames it over the entry, so a crash never leaves half an entry. `sources.json`
//! ([`super::sources`]) remembers each source file's content hash and probe under a stamp of
//! its metadata, so a no-change rebuild neither reads, hashes nor probes the images.

use anyhow::{Context, Result};
use gatefold_contract::MediaType;
use gatefold_contract::manifest::VariantRole;
use serde::{Deserialize, Serialize};
use super::sources::{SOURCES_FILE, Sources};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bump when a change to this pipeline changes its outputs: every cache entry and file name
/// changes with it.
pub(crate) const PIPELINE_VERSION: &str = "gatefold-images-3";

/// Name (before the extension) of the stripped original inside an entry.
const ORIGINAL_NAME: &str = "original";

/// The plan's file name inside an entry directory.
const ENTRY_FILE: &str = "entry.json";

/// How one file of an entry is made: the plan fixes every parameter, so the encode that
/// follows it has nothing left to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "codec")]
pub(crate) enum Encoding {
    /// An animation (GIF, APNG or animated WebP) re-encoded as an animated WebP, every frame
    /// at the file's size. Entries of earlier versions named the stripped animation itself
    /// (`animation`): they no longer read, so such images are planned and encoded anew.
    AnimatedWebp { quality: u8, method: u8 },
    Webp { quality: u8, method: u8 },
    Jpeg { quality: u8 },
    Avif { quality: u8, speed: u8 },
}

/// One encoded file of a cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EntryFile {
    pub role: VariantRole,
    pub width: u32,
    pub height: u32,
    pub content_type: MediaType,
    pub full_size: bool,
    /// Name inside the entry directory, and the tail of the published file name and R2 key.
    pub suffix: String,
    pub hash16: String,
    pub encoding: Encoding,
}

/// `entry.json`: what one source image is (or will be) encoded into.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    pub files: Vec<EntryFile>,
    pub original_ext: String,
    pub original_content_type: MediaType,
    pub original_size: u64,
    pub original_hash16: String,
    pub original_crc32: u32,
}

impl Entry {
    /// Name of the stripped original inside the entry directory.
    pub fn original_name(&self) -> String {
        format!("{ORIGINAL_NAME}.{}", self.original_ext)
    }
}

pub(crate) fn hex16(hash: &blake3::Hash) -> String {
    hash.to_hex()[..16].to_string()
}

/// The cache directory and its source index.
pub(crate) struct Cache {
    pub dir: PathBuf,
    /// The source index as the last successful run left it.
    pub sources: Sources,
    /// One lock per entry key: two galleries may hold the same file, whose jobs then share one
    /// entry and must not write or replace its directory at the same moment.
    entry_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl Cache {
    pub fn open(dir: &Path, sources: Sources) -> Result<Cache> {
        fs::create_dir_all(dir).with_context(|| format!("creating the image cache {}", dir.display()))?;
        // Absolute, because `dist/objects.json` names the cached files for tools run elsewhere.
        let dir = std::path::absolute(dir).with_context(|| format!("resolving the image cache path {}", dir.display()))?;
        Ok(Cache { dir, sources, entry_locks: Mutex::default() })
    }

    /// Holds `key`'s entry for this thread until the guard's lock is dropped.
    fn entry_lock(&self, key: &str) -> Arc<Mutex<()>> {
        let mut locks = self.entry_locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(key.to_string()).or_default().clone()
    }

    /// The entry key of a source's content under the given settings fingerprint.
    pub fn key(settings_fingerprint: &str, source_hash: &str) -> String {
        blake3::Hasher::new()
            .update(PIPELINE_VERSION.as_bytes())
            .update(b"\0")
            .update(settings_fingerprint.as_bytes())
            .update(b"\0")
            .update(source_hash.as_bytes())
            .finalize()
            .to_hex()[..32]
            .to_string()
    }

    /// The plan stored under `key`, or `None` (missing, or written by another version).
    pub fn read_plan(&self, key: &str) -> Option<Entry> {
        serde_json::from_slice(&fs::read(self.dir.join(key).join(ENTRY_FILE)).ok()?).ok()
    }

    /// Whether `entry`'s files were stored, judged by one of them: an entry's files arrive
    /// together by one directory rename ([`Cache::store`]) and leave together when the entry is
    /// pruned, so one stands for all; only a hand edit inside the cache could part them, and
    /// [`Cache::is_complete`], which checks every file, runs again before any upload.
    pub fn is_stored(&self, key: &str, entry: &Entry) -> bool {
        self.dir.join(key).join(entry.original_name()).is_file()
    }

    /// Whether every file of `entry` is in its directory: encoded and ready to upload.
    pub fn is_complete(&self, key: &str, entry: &Entry) -> bool {
        let dir = self.dir.join(key);
        entry.files.iter().all(|f| dir.join(&f.suffix).is_file()) && dir.join(entry.original_name()).is_file()
    }

    /// Records a plan whose files are not encoded yet, replacing `entry.json` atomically.
    pub fn write_plan(&self, key: &str, entry: &Entry) -> Result<()> {
        let lock = self.entry_lock(key);
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        let dir = self.dir.join(key);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_atomically(&dir.join(ENTRY_FILE), &serde_json::to_vec_pretty(entry)?)
    }

    /// Encodes `entry`'s files through `fill` (given a temporary directory) and renames the
    /// whole entry into place; an entry another job of this run completed meanwhile (the same
    /// file in two galleries) is kept as it is.
    pub fn store(&self, key: &str, entry: &Entry, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let lock = self.entry_lock(key);
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.read_plan(key).as_ref() == Some(entry) && self.is_complete(key, entry) {
            return Ok(());
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&self.dir)
            .with_context(|| format!("creating a temporary directory in {}", self.dir.display()))?;
        fill(tmp.path())?;
        fs::write(tmp.path().join(ENTRY_FILE), serde_json::to_vec_pretty(entry)?).with_context(|| format!("writing {}", tmp.path().display()))?;
        let tmp_path = tmp.keep();
        let dir = self.dir.join(key);
        if dir.exists() {
            // Its plan alone, or an unreadable or incomplete entry from an older run.
            fs::remove_dir_all(&dir).with_context(|| format!("replacing {}", dir.display()))?;
        }
        if let Err(e) = fs::rename(&tmp_path, &dir) {
            let _ = fs::remove_dir_all(&tmp_path);
            // Another process may have stored the same entry at the same moment.
            if !self.is_complete(key, entry) {
                return Err(e).with_context(|| format!("storing {}", dir.display()));
            }
        }
        Ok(())
    }

    /// Fills a marked entry (`super::marked`) through `fill` in a temporary directory, writes
    /// `done` last and renames it into place; an entry already done is kept.
    pub fn store_marked(&self, key: &str, done: &str, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let lock = self.entry_lock(key);
        let _held = lock.lock().unwrap_or_else(|e| e.into_inner());
        let dir = self.dir.join(key);
        if dir.join(done).is_file() {
            return Ok(());
        }
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&self.dir)
            .with_context(|| format!("creating a temporary directory in {}", self.dir.display()))?;
        fill(tmp.path())?;
        fs::write(tmp.path().join(done), b"").with_context(|| format!("writing {}", tmp.path().display()))?;
        let tmp_path = tmp.keep();
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("replacing {}", dir.display()))?;
        }
        if let Err(e) = fs::rename(&tmp_path, &dir) {
            let _ = fs::remove_dir_all(&tmp_path);
            if !dir.join(done).is_file() {
                return Err(e).with_context(|| format!("storing {}", dir.display()));
            }
        }
        Ok(())
    }

    /// Records the sources of a successful run (unless they are what it read) and removes
    /// every entry it did not use.
    pub fn finish(&self, sources: &Sources, used: &HashSet<String>) -> Result<usize> {
        if let Some(bytes) = sources.changed_bytes(&self.sources)? {
            write_atomically(&self.dir.join(SOURCES_FILE), &bytes)?;
        }
        prune_cache(&self.dir, used)
    }
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

pub(crate) fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, data).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
