//! The no-op build: what the last build made, kept beside its output, so a build whose
//! inputs did not change writes nothing at all.
//!
//! `dist/build-state.json` holds the [`fingerprint`] of everything the output is made from and
//! a stamp of every file the build left in `dist/`. A build that finds the same fingerprint and
//! every file as it was left (no file missing, added or touched) keeps `dist/` as it is: it
//! renders no page, draws no QR code, writes no record and swaps nothing. Anything else (no
//! state, another fingerprint, a file edited, deleted or added by hand) is an ordinary build,
//! which reuses what it can gallery by gallery ([`crate::render::render_reusing`]).

use super::ImageMode;
use crate::images::Plans;
use crate::model::SiteModel;
use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The state's file name in `dist/` (never deployed: only `dist/site` is).
pub const FILE: &str = "build-state.json";

/// Bump when the state's meaning changes: an older state then never matches.
const FORMAT: &str = "gatefold-build-state-1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct BuildState {
    pub fingerprint: String,
    /// Every file of `dist/` but this one, relative, with its stamp.
    pub files: BTreeMap<String, FileStamp>,
}

/// A file of the output as the build left it: `ctime` changes with any write, link or rename
/// that touches it, even one that restores the size and mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct FileStamp(u64, i64, i64, u64);

impl FileStamp {
    fn of(meta: &fs::Metadata) -> FileStamp {
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(-1));
        #[cfg(unix)]
        let (ctime, inode) = {
            use std::os::unix::fs::MetadataExt;
            (
                meta.ctime()
                    .saturating_mul(1_000_000_000)
                    .saturating_add(meta.ctime_nsec()),
                meta.ino(),
            )
        };
        #[cfg(not(unix))]
        let (ctime, inode) = (-1, 0);
        FileStamp(meta.len(), mtime, ctime, inode)
    }
}

/// What a build's output is made from, beyond the source files the model already reflects:
/// this generator (its version and its executable, so a rebuilt generator never trusts an
/// older one's output), how it was asked to build, the theme's files, the built site in full
/// and each image's cache entry (the files `objects.json` names).
pub(super) struct Inputs<'a> {
    pub mode: ImageMode,
    pub cache: &'a Path,
    pub theme: String,
    pub site: &'a SiteModel,
    pub plans: &'a Plans,
}

/// The [`Inputs`]' hash. The site is hashed through its `Debug` form, which every field of the
/// model has by derivation: a field added to the model is covered without a word here.
pub(super) fn fingerprint(inputs: &Inputs<'_>) -> Result<String> {
    let mut hasher = blake3::Hasher::new();
    let mut part = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    part(FORMAT.as_bytes());
    part(env!("CARGO_PKG_VERSION").as_bytes());
    part(executable().as_bytes());
    part(format!("{:?}", inputs.mode).as_bytes());
    part(inputs.cache.to_string_lossy().as_bytes());
    part(inputs.theme.as_bytes());
    let site = SiteModel {
        galleries: BTreeMap::new(),
        ..inputs.site.clone()
    };
    part(format!("{site:?}").as_bytes());
    // Galleries in parallel: at a thousand of them this is the largest part of a no-op build.
    let galleries: Vec<blake3::Hash> = inputs
        .site
        .galleries
        .values()
        .collect::<Vec<_>>()
        .par_iter()
        .map(debug_hash)
        .collect();
    for g in galleries {
        part(g.as_bytes());
    }
    for planned in &inputs.plans.images {
        part(planned.cache_key().as_bytes());
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn debug_hash(value: &impl std::fmt::Debug) -> blake3::Hash {
    struct Sink(blake3::Hasher);
    impl std::fmt::Write for Sink {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut sink = Sink(blake3::Hasher::new());
    let _ = std::fmt::write(&mut sink, format_args!("{value:?}"));
    sink.0.finalize()
}

/// The running generator's executable: its path, size and modification time. A generator
/// built anew (a new executable) does not take an older one's output as its own.
fn executable() -> String {
    let exe = std::env::current_exe().ok();
    let meta = exe.as_ref().and_then(|e| fs::metadata(e).ok());
    let stamp = meta
        .map(|m| FileStamp::of(&m))
        .map(|s| format!("{}:{}", s.0, s.1))
        .unwrap_or_default();
    format!(
        "{}|{stamp}",
        exe.map(|e| e.to_string_lossy().into_owned())
            .unwrap_or_default()
    )
}

impl BuildState {
    /// The state a previous build left in `out`, if readable.
    pub fn read(out: &Path) -> Option<BuildState> {
        serde_json::from_slice(&fs::read(out.join(FILE)).ok()?).ok()
    }

    /// Whether `out` is exactly what a build with `fingerprint` left: same fingerprint, every
    /// file there with its stamp, and no other file.
    pub fn holds(&self, out: &Path, fingerprint: &str) -> bool {
        self.fingerprint == fingerprint && files_of(out).is_ok_and(|files| files == self.files)
    }

    /// Stamps every file of `out` (just built) and writes the state there. Written last and
    /// atomically: a build interrupted before leaves no state, and the next one builds.
    pub fn record(out: &Path, fingerprint: String) -> Result<()> {
        let state = BuildState {
            fingerprint,
            files: files_of(out)?,
        };
        let mut tmp = tempfile::NamedTempFile::new_in(out)
            .with_context(|| format!("writing {}", out.join(FILE).display()))?;
        serde_json::to_writer(std::io::BufWriter::new(&mut tmp), &state)
            .with_context(|| format!("writing {}", out.join(FILE).display()))?;
        tmp.persist(out.join(FILE))
            .with_context(|| format!("writing {}", out.join(FILE).display()))?;
        Ok(())
    }
}

/// Every file under `out` but the state itself, relative, with its stamp.
fn files_of(out: &Path) -> Result<BTreeMap<String, FileStamp>> {
    let mut files = BTreeMap::new();
    for entry in walkdir::WalkDir::new(out).min_depth(1) {
        let entry = entry.with_context(|| format!("listing {}", out.display()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(out)
            .expect("walkdir stays under its root")
            .to_string_lossy()
            .into_owned();
        if rel == FILE {
            continue;
        }
        let meta = entry
            .metadata()
            .with_context(|| format!("reading {}", entry.path().display()))?;
        files.insert(rel, FileStamp::of(&meta));
    }
    Ok(files)
}
