//! Helpers shared by the generator's integration tests.

use std::path::{Path, PathBuf};

/// The repository root (fixtures and themes live there).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Copies a fixture tree so a test can change it without touching the checkout.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Copies the fixture site `fixture` (under `tests/fixtures/sites`) into a temp project's
/// `galleries/`, so a test can change it.
#[allow(dead_code)] // not every test binary builds a site
pub fn project(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("tests/fixtures/sites").join(fixture), &dir.path().join("galleries"));
    dir
}

/// Build options for the project at `root`: the repository's themes, no progress output and a
/// fixed clock, so two builds of the same inputs are byte-for-byte alike.
#[allow(dead_code)] // not every test binary builds a site
pub fn options(root: &Path) -> gatefold::build::BuildOptions {
    gatefold::build::BuildOptions {
        themes: repo().join("themes"),
        progress: std::sync::Arc::new(gatefold::progress::Quiet),
        now: Some(1_790_000_000),
        ..gatefold::build::BuildOptions::for_project(root)
    }
}
