//! Rebuilds: a build whose inputs did not change writes nothing, and a changed input rebuilds
//! what depends on it, into exactly what a clean build makes.

use gatefold::build::{BuildOptions, STATE_FILE, build};
use gatefold_contract::Locale;
use gatefold_contract::manifest::{self, PageMode};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

mod common;
use common::{options, project};

/// Every file under `dir` with everything a write would change: size, mtime, ctime, inode.
fn stamps(dir: &Path) -> BTreeMap<PathBuf, (u64, i64, i64, i64, i64, u64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let m = e.metadata().unwrap();
            (
                e.path().to_path_buf(),
                (
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.ctime(),
                    m.ctime_nsec(),
                    m.ino(),
                ),
            )
        })
        .collect()
}

/// Every file of a built `dist/` with its bytes; `objects.json` with the image cache's path
/// taken out (a clean build has its own cache), the build state (file stamps) left out.
fn contents(dist: &Path, cache: &Path) -> BTreeMap<String, Vec<u8>> {
    let cache = std::path::absolute(cache)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    walkdir::WalkDir::new(dist)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path()
                    .strip_prefix(dist)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .filter(|(name, _)| name != STATE_FILE)
        .map(|(name, bytes)| {
            let bytes = if name == "objects.json" {
                String::from_utf8(bytes)
                    .unwrap()
                    .replace(&cache, "<cache>")
                    .into_bytes()
            } else {
                bytes
            };
            (name, bytes)
        })
        .collect()
}

/// What a build from nothing (new output, new image cache) makes of the same galleries.
fn clean_build(opts: &BuildOptions, root: &Path) -> BTreeMap<String, Vec<u8>> {
    let clean = BuildOptions {
        out: root.join("clean-dist"),
        cache: root.join("clean-cache"),
        ..opts.clone()
    };
    build(&clean).unwrap();
    contents(&clean.out, &clean.cache)
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .ino()
}

fn page(opts: &BuildOptions, gallery: &str) -> PathBuf {
    opts.out
        .join("site")
        .join(manifest::page_path(gallery, PageMode::View, Locale::En).trim_start_matches('/'))
}

#[test]
fn a_rebuild_with_nothing_changed_writes_nothing_in_dist_or_the_image_cache() {
    let root = project("good");
    let opts = options(root.path());
    // Sources just copied are "racily clean": the image cache trusts a source's stamp only once
    // its last change is 3 s old (`images::sources::SETTLED`), and records it at the first
    // build after that. Waiting here makes the first build the one that records every stamp,
    // however slowly the builds below run on a loaded machine.
    std::thread::sleep(std::time::Duration::from_millis(3_200));
    assert!(!build(&opts).unwrap().unchanged, "the first build builds");
    let before = (stamps(&opts.out), stamps(&opts.cache));
    for _ in 0..2 {
        let again = build(&opts).unwrap();
        assert!(again.unchanged, "nothing changed");
        assert_eq!(again.encoded_images, 0);
        assert_eq!(
            (stamps(&opts.out), stamps(&opts.cache)),
            before,
            "no file written, replaced or touched"
        );
    }
}

#[test]
fn a_one_byte_change_in_one_image_re_encodes_that_image_alone_and_equals_a_clean_build() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let other_gallery = inode(&page(&opts, "preview"));
    let launch = inode(&page(&opts, "launch"));

    // One byte in the middle of the JPEG's compressed data: still a valid file, other pixels.
    let hero = opts.galleries.join("launch/hero.jpg");
    let mut bytes = std::fs::read(&hero).unwrap();
    let at = (bytes.len() / 2..bytes.len())
        .find(|&i| bytes[i] < 0xFE && bytes[i - 1] != 0xFF)
        .unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(&hero, bytes).unwrap();

    let report = build(&opts).unwrap();
    assert!(!report.unchanged);
    assert_eq!(
        report.encoded_images, 1,
        "only the changed image is encoded"
    );
    assert_eq!(
        inode(&page(&opts, "preview")),
        other_gallery,
        "the other gallery's files are the last build's"
    );
    assert_ne!(
        inode(&page(&opts, "launch")),
        launch,
        "the changed image's gallery is rendered again"
    );
    assert_eq!(
        contents(&opts.out, &opts.cache),
        clean_build(&opts, root.path())
    );
}

#[test]
fn a_one_field_change_in_gallery_yaml_rebuilds_that_gallery_without_encoding_and_equals_a_clean_build()
 {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let launch = inode(&page(&opts, "launch"));
    let yaml = opts.galleries.join("preview/gallery.yaml");
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert!(text.contains("max_views: 10\n"));
    std::fs::write(&yaml, text.replace("max_views: 10\n", "max_views: 11\n")).unwrap();

    let report = build(&opts).unwrap();
    assert!(!report.unchanged);
    assert_eq!(report.encoded_images, 0, "no image changed");
    assert_eq!(
        report.site.galleries["preview"].links["review"]
            .policy
            .max_views,
        Some(11)
    );
    assert_eq!(
        inode(&page(&opts, "launch")),
        launch,
        "the other gallery's files are the last build's"
    );
    assert_eq!(
        contents(&opts.out, &opts.cache),
        clean_build(&opts, root.path())
    );
}

#[test]
fn an_output_file_edited_deleted_or_added_by_hand_is_set_right_by_the_next_build() {
    let root = project("good");
    let opts = options(root.path());
    build(&opts).unwrap();
    let good = contents(&opts.out, &opts.cache);

    let manifest = opts.out.join(manifest::MANIFEST_FILE);
    std::fs::write(&manifest, "{}").unwrap();
    std::fs::remove_file(page(&opts, "launch")).unwrap();
    std::fs::write(opts.out.join("site/stray.html"), "not ours").unwrap();
    assert!(
        !build(&opts).unwrap().unchanged,
        "a touched output is no reason to skip the build"
    );
    assert_eq!(contents(&opts.out, &opts.cache), good);
    assert!(build(&opts).unwrap().unchanged);
}

#[test]
fn a_build_whose_image_cache_lost_an_entry_encodes_it_again() {
    let root = project("good");
    let opts = options(root.path());
    let first = build(&opts).unwrap();
    let entry = first.plans.images[0].cache_key().to_string();
    std::fs::remove_dir_all(opts.cache.join("images").join(&entry)).unwrap();
    let again = build(&opts).unwrap();
    assert_eq!(again.encoded_images, 1);
    assert!(
        again.unchanged,
        "the output names the same files, which are back in the cache"
    );
    assert!(opts.cache.join("images").join(&entry).is_dir());
}
