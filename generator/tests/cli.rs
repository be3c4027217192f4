//! The `gatefold` command line as owners run it, on fixture sites: exit codes (0 done, 1 invalid
//! input or failure, 2 usage error) and what each command prints.

use std::path::Path;
use std::process::{Command, Output};

mod common;
use common::{copy_tree, repo};

/// A fixture site copied to `<temp>/galleries`, so builds write next to it and not into the
/// checkout.
fn project(fixture: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo().join("tests/fixtures/sites").join(fixture), &dir.path().join("galleries"));
    dir
}

/// Runs `gatefold --galleries <root>/galleries <args…>` in `root` with the development key.
fn gatefold(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatefold"))
        .arg("--galleries")
        .arg(root.join("galleries"))
        .args(args)
        .current_dir(root)
        .env_remove("GATEFOLD_GALLERIES")
        .env_remove("SIGNING_KEY")
        .output()
        .unwrap()
}

fn themes() -> String {
    repo().join("themes").display().to_string()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_reports_what_a_valid_site_holds_and_exits_0() {
    let root = project("good");
    let out = gatefold(root.path(), &["check", "--themes", &themes()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "ok: 2 galleries, 6 images, 5 links; a deployment holds 309 static files (Workers paid plan: 100000)\n");
    assert!(stderr(&out).contains("folder `drafts` has no gallery.yaml"), "warnings go to stderr: {}", stderr(&out));
}

#[test]
fn check_names_the_file_line_field_and_fix_of_a_mistake_and_exits_1() {
    let root = project("invalid-bad-date");
    let out = gatefold(root.path(), &["check", "--themes", &themes()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let report = stderr(&out);
    for part in ["gallery.yaml", "links.market.expires", "`2026-02-30` is not a calendar date", "write a date like 2026-12-31"] {
        assert!(report.contains(part), "missing {part:?} in:\n{report}");
    }
}

#[test]
fn check_honours_the_themes_folder_it_is_given() {
    let root = project("good");
    std::fs::create_dir_all(root.path().join("other-themes/plain")).unwrap();
    let out = gatefold(root.path(), &["check", "--quick", "--themes", "other-themes"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("there is no theme `default` in other-themes"), "{}", stderr(&out));
}

#[test]
fn a_usage_mistake_exits_2() {
    let root = project("good");
    let out = gatefold(root.path(), &["check", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--no-such-flag"), "{}", stderr(&out));
}

#[test]
fn build_writes_the_site_and_says_what_it_built() {
    let root = project("good");
    let out = gatefold(root.path(), &["build", "--themes", &themes(), "--out", "dist"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("built 2 galleries, 6 images, 5 links into dist in "), "{}", stdout(&out));
    assert!(stdout(&out).contains("(key: "), "{}", stdout(&out));
    assert!(root.path().join("dist/manifest.json").is_file());
    assert!(root.path().join("dist/objects.json").is_file(), "a plain build encodes its images and lists them");
    assert!(!root.path().join("dist/site/_gatefold/manifest.json").exists(), "the full manifest is never deployed");
    assert!(root.path().join(".gatefold-cache/images").is_dir(), "the cache defaults to .gatefold-cache next to the galleries");
}

#[test]
fn a_failed_build_exits_1_and_leaves_no_output() {
    let root = project("invalid-missing-file");
    let out = gatefold(root.path(), &["build", "--themes", &themes(), "--out", "dist"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!root.path().join("dist").exists());
}

#[test]
fn links_json_lists_every_link_with_its_url_policy_and_qr_files() {
    let root = project("good");
    let out = gatefold(root.path(), &["links", "--json", "--out", "dist"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let names: Vec<String> = rows.iter().map(|r| format!("{}/{}", r["gallery"].as_str().unwrap(), r["link"].as_str().unwrap())).collect();
    assert_eq!(names, ["launch/dealer-shanghai", "launch/market", "launch/press", "launch/sales", "preview/review"]);
    let market = &rows[1];
    let token = market["token"].as_str().unwrap();
    assert_eq!(market["url"], format!("https://images.example.com/s/{token}"));
    assert_eq!(market["policy"]["expires"]["written"], "2026-12-05", "the expiry as the owner wrote it");
    assert_eq!(market["policy"]["expires"]["at"], 1_796_486_400);
    assert_eq!(market["qr_png"], "dist/owner/qr/launch/market.png");
}

#[test]
fn plan_against_an_empty_site_lists_every_gallery_as_new_without_whole_tokens() {
    let root = project("good");
    let empty = root.path().join("empty.json");
    let manifest = format!(
        r#"{{"format":{},"site":{{"title":"Gatefold fixture 图库","base_url":"https://images.example.com","default_locale":"zh-CN","timezone":"Asia/Shanghai","ip_logging":"full","utc_offsets":[],"dev_key":true}},"galleries":{{}}}}"#,
        gatefold_contract::manifest::FORMAT
    );
    std::fs::write(&empty, manifest).unwrap();
    let out = gatefold(root.path(), &["plan", "--themes", &themes(), "--against-manifest", "empty.json", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let galleries: Vec<(&str, &str)> =
        plan["galleries"].as_array().unwrap().iter().map(|g| (g["id"].as_str().unwrap(), g["change"].as_str().unwrap())).collect();
    assert_eq!(galleries, [("launch", "added"), ("preview", "added")]);
    let links = gatefold(root.path(), &["links", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&links.stdout).unwrap();
    for row in rows {
        assert!(!stdout(&out).contains(row["token"].as_str().unwrap()), "a plan never prints a whole token");
    }
}

#[test]
fn plan_with_an_unreadable_manifest_exits_1_naming_it() {
    let root = project("good");
    let out = gatefold(root.path(), &["plan", "--themes", &themes(), "--against-manifest", "missing.json", "--manifest", "missing-too.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("missing-too.json"), "{}", stderr(&out));
}

#[test]
fn check_warns_when_a_deployment_nears_the_file_limit_of_the_workers_plan() {
    // 1,750 galleries of one image: 1,750 × 9 files plus the fixed 293 is 16,043, just over 80 %
    // of the 20,000 files the free plan allows.
    let root = tempfile::tempdir().unwrap();
    let galleries = root.path().join("galleries");
    std::fs::create_dir_all(&galleries).unwrap();
    std::fs::write(galleries.join("site.yaml"), "title: Archive\nbase_url: https://images.example.com\n").unwrap();
    let image = repo().join("tests/fixtures/sites/good/launch/detail.png");
    for i in 0..1750 {
        let dir = galleries.join(format!("g{i}"));
        std::fs::create_dir(&dir).unwrap();
        // Two download modes (view only, originals): two page templates per language.
        std::fs::write(dir.join("gallery.yaml"), "title: G\nlinks:\n  sales: {}\n  press:\n    download: true\n").unwrap();
        std::fs::hard_link(&image, dir.join("a.png")).or_else(|_| std::fs::copy(&image, dir.join("a.png")).map(drop)).unwrap();
    }
    let out = gatefold(root.path(), &["check", "--quick", "--themes", &themes()]);
    assert_eq!(out.status.code(), Some(0), "a warning, not an error: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("site.yaml: plan: a deployment of this site holds 16043 static files, 80% of the 20000 the Workers free plan allows"), "{err}");
    assert!(err.contains("fix: if the Cloudflare account is on Workers Paid, write `plan: paid`"), "{err}");

    std::fs::write(galleries.join("site.yaml"), "title: Archive\nbase_url: https://images.example.com\nplan: paid\n").unwrap();
    let out = gatefold(root.path(), &["check", "--quick", "--themes", &themes()]);
    assert!(!stderr(&out).contains("static files"), "{}", stderr(&out));
    assert!(stdout(&out).contains("a deployment holds 16043 static files (Workers paid plan: 100000)"), "{}", stdout(&out));
}

#[test]
fn password_generate_prints_a_passphrase_without_a_server_or_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gatefold"))
        .args(["password", "--generate"])
        .current_dir(dir.path())
        .env_remove("GATEFOLD_ADMIN_TOKEN")
        .env("GATEFOLD_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let phrase = stdout(&out);
    let words: Vec<&str> = phrase.trim().split('-').collect();
    assert_eq!(words.len(), 4, "{phrase}");
    assert!(words.iter().all(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_lowercase())), "{phrase}");
    assert!(gatefold_contract::passphrase::check(phrase.trim(), &[]).is_ok());
    let bare = Command::new(env!("CARGO_BIN_EXE_gatefold")).arg("password").current_dir(dir.path()).output().unwrap();
    assert_eq!(bare.status.code(), Some(2), "a target or --generate is required: {}", stderr(&bare));
}
