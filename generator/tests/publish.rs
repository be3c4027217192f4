//! `gatefold publish --local` against a real local R2 (Miniflare on a temporary persist
//! directory, through scripts/r2.mjs): the deployed state is the build cache, so a publish
//! encodes and uploads only what R2 lacks.

use gatefold_contract::manifest::{MANIFEST_FILE, Manifest, PUBLISHED_MANIFEST_KEY};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

mod common;
use common::{copy_tree, repo};

const BUCKET: &str = "gatefold-media";

/// A temporary project: the e2e fixture site as `galleries/`, its own image cache, dist and R2.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&repo().join("tests/fixtures/sites/e2e"), &dir.path().join("galleries"));
        Project { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `gatefold publish --local` into this project's R2, with a fresh image cache when
    /// `cache` says so (as on a CI machine).
    fn publish(&self, cache: &str) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_gatefold"))
            .arg("--galleries")
            .arg(self.path("galleries"))
            .arg("publish")
            .arg("--local")
            .arg("--persist-to")
            .arg(self.path("state"))
            .arg("--r2-tool")
            .arg(repo().join("scripts/r2.mjs"))
            .arg("--themes")
            .arg(repo().join("themes"))
            .arg("--cache")
            .arg(self.path(cache))
            .arg("--out")
            .arg(self.path("dist"))
            .env_remove("SIGNING_KEY")
            .env_remove("GATEFOLD_GALLERIES")
            .output()
            .unwrap();
        assert!(out.status.success(), "publish failed:\n{}", String::from_utf8_lossy(&out.stderr));
        out
    }

    fn manifest(&self) -> Manifest {
        Manifest::from_json(&std::fs::read_to_string(self.path("dist").join(MANIFEST_FILE)).unwrap()).unwrap()
    }

    /// How many of `keys` this project's local R2 holds, asked in one process: `put-list` skips
    /// the keys the bucket has (and would upload a placeholder for the others, failing the test).
    fn r2_holds(&self, keys: &BTreeSet<String>) -> usize {
        let placeholder = self.path("placeholder");
        std::fs::write(&placeholder, b"not the object").unwrap();
        let list: Vec<serde_json::Value> =
            keys.iter().map(|k| serde_json::json!({ "key": k, "file": placeholder, "content_type": "application/octet-stream" })).collect();
        let list_file = self.path("holds.json");
        std::fs::write(&list_file, serde_json::to_vec(&list).unwrap()).unwrap();
        let out = Command::new("node")
            .arg(repo().join("scripts/r2.mjs"))
            .arg("put-list")
            .arg(&list_file)
            .args(["--bucket", BUCKET, "--local", "--persist-to"])
            .arg(self.path("state"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let already = stdout.trim().rsplit_once(", ").and_then(|(_, tail)| tail.strip_suffix(" already there")).unwrap();
        already.parse().unwrap()
    }

    /// Object `key` from this project's local R2, or `None`.
    fn r2_get(&self, key: &str) -> Option<Vec<u8>> {
        let file = self.path("got");
        let status = Command::new("node")
            .arg(repo().join("scripts/r2.mjs"))
            .args(["get", key])
            .arg(&file)
            .args(["--bucket", BUCKET, "--local", "--persist-to"])
            .arg(self.path("state"))
            .status()
            .unwrap();
        match status.code() {
            Some(0) => Some(std::fs::read(&file).unwrap()),
            Some(2) => None,
            _ => panic!("r2.mjs get {key} failed: {status}"),
        }
    }
}

/// The summary line publish prints: (encoded images, uploaded objects, already in R2).
fn summary(out: &Output) -> (usize, usize, usize) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("encoded ")).unwrap_or_else(|| panic!("no summary in {stdout:?}"));
    let n: Vec<usize> = line.split([' ', '(']).filter_map(|w| w.parse().ok()).collect();
    assert_eq!(n.len(), 3, "{line}");
    (n[0], n[1], n[2])
}

fn keys(m: &Manifest) -> BTreeSet<String> {
    m.r2_keys()
}

/// The tests need Miniflare (npm ci, which `make test` runs first).
fn node_modules_ready() -> bool {
    let ready = repo().join("node_modules/miniflare/package.json").is_file();
    if !ready {
        eprintln!("SKIPPED: {} has no Miniflare (fix: `npm ci` in the repository, or run `make test`)", repo().join("node_modules").display());
    }
    ready
}

#[test]
fn a_second_publish_of_the_same_galleries_encodes_and_uploads_nothing() {
    if !node_modules_ready() {
        return;
    }
    let p = Project::new();
    let first = p.publish("cache");
    let m = p.manifest();
    let all = keys(&m);
    // A file in two galleries is one source to encode (one cache entry, the same R2 keys).
    let sources: BTreeSet<&str> = m.galleries.values().flat_map(|g| &g.images).map(|i| i.original.key.as_str()).collect();
    assert_eq!(summary(&first), (sources.len(), all.len(), 0), "the first publish encodes every distinct image once and uploads every object");
    assert_eq!(p.r2_holds(&all), all.len(), "every object is in local R2");
    let recorded = p.r2_get(PUBLISHED_MANIFEST_KEY).expect("the published manifest is recorded in R2");
    assert_eq!(Manifest::from_json(std::str::from_utf8(&recorded).unwrap()).unwrap(), m);

    // Another machine with no image cache at all: R2 is the cache.
    let second = p.publish("empty-cache");
    assert_eq!(summary(&second), (0, 0, all.len()));
}

#[test]
fn replacing_one_image_encodes_and_uploads_only_that_image() {
    if !node_modules_ready() {
        return;
    }
    let p = Project::new();
    p.publish("cache");
    let before = p.manifest();

    // A new version of one image: same file name, other pixels.
    let front = p.path("galleries/dealer/front.jpg");
    image::open(&front).unwrap().fliph().save(&front).unwrap();
    let out = p.publish("cache");
    let after = p.manifest();

    let image_keys = |m: &Manifest| -> BTreeSet<String> {
        let img = m.galleries["dealer"].images.iter().find(|i| i.file_name == "front.jpg").unwrap();
        img.variants.iter().map(|v| v.key.clone()).chain([img.original.key.clone()]).collect()
    };
    let new: BTreeSet<String> = keys(&after).difference(&keys(&before)).cloned().collect();
    assert!(!new.is_empty());
    assert_eq!(new, image_keys(&after), "every new key is the replaced image's, and all of its keys are new");
    assert_eq!(summary(&out), (1, new.len(), keys(&after).len() - new.len()));
    assert_eq!(p.r2_holds(&new), new.len(), "the new objects are in local R2");
}
