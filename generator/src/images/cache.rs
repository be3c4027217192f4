//! The content-addressed image cache (`.gatefold-cache/images`).
//!
//! One directory per (source content, settings, pipeline version), named by its blake3 hash,
//! holding the encoded files and `entry.json`. Entries are built in a temporary directory and
//! renamed into place, so a crash never leaves half an entry. `sources.json` remembers each
//! source file's size, mtime and content hash, so a no-change rebuild neither reads nor hashes
//! the images.

use anyhow::{Context, Result};
use gatefold_contract::MediaType;
use gatefold_contract::manifest::VariantRole;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Bump when a change to this pipeline changes its outputs: every cache entry and file name
/// changes with it.
pub(crate) const PIPELINE_VERSION: &str = "gatefold-images-3";

/// Name (before the extension) of the stripped original inside an entry.
pub(crate) const ORIGINAL_NAME: &str = "original";

/// One encoded file of a cache entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EntryFile {
    pub role: VariantRole,
    pub width: u32,
    pub height: u32,
    pub content_type: MediaType,
    pub full_size: bool,
    /// Name inside the entry directory, and the tail of the published file name.
    pub suffix: String,
    pub hash16: String,
}

/// `entry.json`: what one source image was encoded into.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    pub files: Vec<EntryFile>,
    pub original_ext: String,
    pub original_content_type: MediaType,
    pub original_size: u64,
    pub original_hash16: String,
}

/// What `sources.json` remembers of one source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SourceStamp {
    pub size: u64,
    pub mtime_ns: i128,
    #[serde(default)]
    pub inode: u64,
    pub hash: String,
}

impl SourceStamp {
    /// The stamp of `meta` if it still matches `self` (same size, mtime and inode).
    pub fn matches(&self, meta: &fs::Metadata) -> bool {
        let (size, mtime_ns, inode) = stamp_of(meta);
        self.size == size && self.mtime_ns == mtime_ns && self.inode == inode && mtime_ns >= 0
    }

    pub fn of(meta: &fs::Metadata, hash: String) -> SourceStamp {
        let (size, mtime_ns, inode) = stamp_of(meta);
        SourceStamp { size, mtime_ns, inode, hash }
    }
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

pub(crate) fn hex16(hash: &blake3::Hash) -> String {
    hash.to_hex()[..16].to_string()
}

/// The cache directory and its source index.
pub(crate) struct Cache {
    pub dir: PathBuf,
    /// Source path → stamp, as the last successful run left it.
    pub sources: BTreeMap<String, SourceStamp>,
}

impl Cache {
    pub fn open(dir: &Path) -> Result<Cache> {
        fs::create_dir_all(dir).with_context(|| format!("creating the image cache {}", dir.display()))?;
        let sources = fs::read(dir.join("sources.json")).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
        Ok(Cache { dir: dir.to_path_buf(), sources })
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

    /// A complete entry, or `None` (missing, unreadable or with files missing).
    pub fn read_entry(&self, key: &str) -> Option<Entry> {
        let dir = self.dir.join(key);
        let entry: Entry = serde_json::from_slice(&fs::read(dir.join("entry.json")).ok()?).ok()?;
        let complete = entry.files.iter().all(|f| dir.join(&f.suffix).is_file()) && dir.join(format!("{ORIGINAL_NAME}.{}", entry.original_ext)).is_file();
        complete.then_some(entry)
    }

    /// Fills a new entry through `fill` (given a temporary directory) and renames it into place.
    pub fn store(&self, key: &str, fill: impl FnOnce(&Path) -> Result<Entry>) -> Result<Entry> {
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{key}-"))
            .tempdir_in(&self.dir)
            .with_context(|| format!("creating a temporary directory in {}", self.dir.display()))?;
        let entry = fill(tmp.path())?;
        fs::write(tmp.path().join("entry.json"), serde_json::to_vec_pretty(&entry)?).with_context(|| format!("writing {}", tmp.path().display()))?;
        let tmp_path = tmp.keep();
        let dir = self.dir.join(key);
        if dir.exists() {
            // An unreadable or incomplete entry from an older run.
            fs::remove_dir_all(&dir).with_context(|| format!("replacing {}", dir.display()))?;
        }
        if let Err(e) = fs::rename(&tmp_path, &dir) {
            let _ = fs::remove_dir_all(&tmp_path);
            // Another process may have stored the same entry at the same moment.
            if self.read_entry(key).is_none() {
                return Err(e).with_context(|| format!("storing {}", dir.display()));
            }
        }
        Ok(entry)
    }

    /// Records the sources of a successful run and removes every entry it did not use.
    pub fn finish(&self, sources: &BTreeMap<String, SourceStamp>, used: &HashSet<String>) -> Result<usize> {
        write_atomically(&self.dir.join("sources.json"), &serde_json::to_vec_pretty(sources)?)?;
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

fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, data).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
