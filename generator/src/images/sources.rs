//! What the image cache remembers of each source file (`sources.json`): its content hash and
//! its probe, under a stamp of the file's metadata, so a rebuild in which a source did not
//! change neither reads, hashes nor probes it again.
//!
//! The stamp gates re-hashing; it never replaces the hash. It is (size, mtime, ctime, inode,
//! device): `ctime` is set by the kernel on every write and cannot be set back by tools that
//! restore an mtime (`cp -p`, `rsync -t`, `touch -d`, archive extraction), so a content change
//! with the old size and mtime restored still changes the stamp. A stamp is only kept when the
//! file's mtime and ctime were at least [`SETTLED`] old when it was taken ("racily clean" in
//! git's words): a file written again within the same timestamp tick as the stamped write
//! could otherwise keep the stamp with new bytes. Such a file is simply hashed again next time.

use super::{ImageProblem, Limits, Probe, SourceFormat, check_pixels, too_large};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The index's file name inside the image cache.
pub(crate) const SOURCES_FILE: &str = "sources.json";

/// How old a file's last change must be for its stamp to be trusted: above any filesystem's
/// timestamp granularity (FAT's is 2 s) and a network filesystem's clock drift.
pub(crate) const SETTLED: Duration = Duration::from_secs(3);

/// A probe's findings that depend on the file alone (the limits are applied again each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ProbeFacts {
    pub format: SourceFormatName,
    pub width: u32,
    pub height: u32,
}

/// [`SourceFormat`] as `sources.json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SourceFormatName {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl From<SourceFormat> for SourceFormatName {
    fn from(f: SourceFormat) -> Self {
        match f {
            SourceFormat::Png => SourceFormatName::Png,
            SourceFormat::Jpeg => SourceFormatName::Jpeg,
            SourceFormat::Gif => SourceFormatName::Gif,
            SourceFormat::WebP => SourceFormatName::Webp,
        }
    }
}

impl From<SourceFormatName> for SourceFormat {
    fn from(f: SourceFormatName) -> Self {
        match f {
            SourceFormatName::Png => SourceFormat::Png,
            SourceFormatName::Jpeg => SourceFormat::Jpeg,
            SourceFormatName::Gif => SourceFormat::Gif,
            SourceFormatName::Webp => SourceFormat::WebP,
        }
    }
}

/// What `sources.json` remembers of one source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SourceStamp {
    pub meta: MetaStamp,
    /// blake3 of the whole file.
    pub hash: String,
    pub probe: ProbeFacts,
}

/// The metadata a stamp compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetaStamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub device: u64,
}

impl MetaStamp {
    pub fn of(meta: &fs::Metadata) -> MetaStamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(-1));
        #[cfg(unix)]
        let (ctime_ns, inode, device) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ctime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.ctime_nsec()),
                meta.ino(),
                meta.dev(),
            )
        };
        #[cfg(not(unix))]
        let (ctime_ns, inode, device) = (-1, 0, 0);
        MetaStamp {
            size: meta.len(),
            mtime_ns,
            ctime_ns,
            inode,
            device,
        }
    }

    /// Whether the file's last change (content or metadata) was at least [`SETTLED`] before
    /// `now`, the moment its metadata was read.
    pub fn settled(&self, now: SystemTime) -> bool {
        let now_ns = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(-1));
        let newest = self.mtime_ns.max(self.ctime_ns);
        self.mtime_ns >= 0 && self.ctime_ns >= 0 && now_ns - newest >= SETTLED.as_nanos() as i64
    }
}

/// Source path → stamp, as the last successful build left it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    pub(crate) stamps: BTreeMap<String, SourceStamp>,
}

impl Sources {
    /// The index of the image cache in `cache` (`.gatefold-cache/images`); empty when there is
    /// none or it cannot be read (everything is then hashed and probed again).
    pub fn read(cache: &Path) -> Sources {
        let stamps = fs::read(cache.join(SOURCES_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Sources { stamps }
    }

    /// The key a source is remembered under.
    pub(crate) fn key(path: &Path) -> String {
        path.to_string_lossy().into_owned()
    }

    /// The stamp of `path` if `meta` (read just now) still matches it.
    pub(crate) fn known(&self, path: &Path, meta: &fs::Metadata) -> Option<&SourceStamp> {
        let now = MetaStamp::of(meta);
        self.stamps
            .get(&Self::key(path))
            .filter(|s| s.meta == now && now.mtime_ns >= 0)
    }

    /// [`super::probe`], answered from the index when the file's stamp is unchanged: only the
    /// limits, which may have changed in `site.yaml`, are checked again.
    pub fn probe(&self, path: &Path, limits: &Limits) -> Result<Probe, ImageProblem> {
        let Ok(meta) = fs::metadata(path) else {
            return super::probe(path, limits);
        };
        let Some(known) = self.known(path, &meta) else {
            return super::probe(path, limits);
        };
        if let Some(p) = too_large(known.meta.size, limits) {
            return Err(p);
        }
        check_pixels(
            known.probe.format.into(),
            known.probe.width,
            known.probe.height,
            known.meta.size,
            limits,
        )
    }

    /// The index as `sources.json` holds it, unless it is what was read there (`previous`):
    /// a build that learnt nothing new writes nothing.
    pub(crate) fn changed_bytes(&self, previous: &Sources) -> Result<Option<Vec<u8>>> {
        if self == previous {
            return Ok(None);
        }
        Ok(Some(
            serde_json::to_vec(&self.stamps).context("serialising the image sources index")?,
        ))
    }
}

/// The stamp of a source whose metadata `meta` was read at `now`, before its bytes were hashed
/// into `hash`; `None` when the file changed too recently for a stamp to be trusted.
pub(crate) fn stamp(
    meta: &fs::Metadata,
    now: SystemTime,
    hash: String,
    probe: &Probe,
) -> Option<SourceStamp> {
    let meta = MetaStamp::of(meta);
    meta.settled(now).then(|| SourceStamp {
        meta,
        hash,
        probe: ProbeFacts {
            format: probe.format.into(),
            width: probe.width,
            height: probe.height,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    fn probe() -> Probe {
        Probe {
            format: SourceFormat::Png,
            width: 4,
            height: 3,
            bytes: 5,
        }
    }

    #[test]
    fn a_file_changed_within_the_settling_time_gets_no_stamp_and_is_hashed_again_next_time() {
        let (_dir, path) = file_with(b"12345");
        let meta = fs::metadata(&path).unwrap();
        assert!(
            stamp(&meta, SystemTime::now(), "h".into(), &probe()).is_none(),
            "just written: not trusted"
        );
        let later = SystemTime::now() + SETTLED;
        assert!(
            stamp(&meta, later, "h".into(), &probe()).is_some(),
            "settled: trusted"
        );
    }

    #[test]
    fn a_stamp_matches_only_the_same_size_mtime_ctime_and_inode() {
        let (_dir, path) = file_with(b"12345");
        let meta = fs::metadata(&path).unwrap();
        let mut sources = Sources::default();
        let s = stamp(&meta, SystemTime::now() + SETTLED, "h".into(), &probe()).unwrap();
        sources.stamps.insert(Sources::key(&path), s.clone());
        assert!(sources.known(&path, &meta).is_some());

        // Same size, the mtime put back as it was: the ctime still tells.
        let mtime = meta.modified().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        fs::write(&path, b"54321").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let after = fs::metadata(&path).unwrap();
        assert_eq!(
            (after.len(), after.modified().unwrap()),
            (meta.len(), mtime)
        );
        assert!(
            sources.known(&path, &after).is_none(),
            "a rewrite with the mtime restored is seen"
        );
    }

    #[test]
    fn a_remembered_probe_is_checked_against_todays_limits() {
        let (_dir, path) = file_with(b"12345");
        let meta = fs::metadata(&path).unwrap();
        let mut sources = Sources::default();
        let big = Probe {
            format: SourceFormat::Png,
            width: 4000,
            height: 3000,
            bytes: 5,
        };
        sources.stamps.insert(
            Sources::key(&path),
            stamp(&meta, SystemTime::now() + SETTLED, "h".into(), &big).unwrap(),
        );
        let roomy = Limits {
            max_bytes: 100,
            max_pixels: 20_000_000,
        };
        assert_eq!(
            sources.probe(&path, &roomy).unwrap(),
            Probe { bytes: 5, ..big }
        );
        let tight = Limits {
            max_bytes: 100,
            max_pixels: 10_000_000,
        };
        assert!(
            sources
                .probe(&path, &tight)
                .unwrap_err()
                .message
                .contains("over the 10 megapixel limit")
        );
    }
}
