//! `gatefold plan` against a real git history: a temporary repository gets the fixture site in
//! one commit and a change to it in a second, and the plan between the two must say exactly
//! what recipients will notice.

use gatefold::plan::{self, Change, FieldChange};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{copy_tree, repo};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/plan").join(name)
}

fn themes() -> PathBuf {
    repo().join("themes")
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(["-c", "user.name=Plan Test", "-c", "user.email=plan@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(repo)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// A repository whose first commit is `v1/` and second is `v1/` with `v2/` copied over it.
fn two_commit_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    copy_tree(&fixture("v1"), repo.path());
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "first galleries"]);
    copy_tree(&fixture("v2"), repo.path());
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "raise market, rotate sales, add press, new hero"]);
    repo
}

fn field(f: &FieldChange) -> (&str, &str, &str) {
    (f.field.as_str(), f.old.as_str(), f.new.as_str())
}

#[test]
fn the_plan_between_two_commits_says_exactly_what_recipients_notice() {
    let repo = two_commit_repo();
    let galleries = repo.path().join("galleries");
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("cache");

    let new = plan::build_manifest(&galleries, &themes(), &cache, &scratch.path().join("new")).unwrap();
    let old = plan::manifest_at_ref(&galleries, "HEAD~1", &themes(), &cache.join("base"), scratch.path(), &new).unwrap();
    let plan = plan::diff(&old, &new);

    assert_eq!(plan.galleries.len(), 1);
    let g = &plan.galleries[0];
    assert_eq!((g.id.as_str(), g.change), ("launch", Change::Changed));

    let links: Vec<(&str, Change, bool)> = g.links.iter().map(|l| (l.name.as_str(), l.change, l.url_changed)).collect();
    assert_eq!(links, vec![("market", Change::Changed, false), ("press", Change::Added, false), ("sales", Change::Changed, true)]);
    assert_eq!(g.links[0].fields.iter().map(field).collect::<Vec<_>>(), vec![("max_views", "100", "200")]);
    assert_eq!(g.links[0].old_url, g.links[0].new_url, "the market URL stays the same");
    assert!(g.links[1].fields.iter().any(|f| field(f) == ("max_views", "—", "30")));
    assert_eq!(g.links[2].fields.iter().map(field).collect::<Vec<_>>(), vec![("rotate", "0", "1")]);
    assert_ne!(g.links[2].old_url, g.links[2].new_url, "rotating sales issues a new URL");

    let images: Vec<(&str, Change, bool)> = g.images.iter().map(|i| (i.id.as_str(), i.change, i.replaced)).collect();
    assert_eq!(images, vec![("hero", Change::Changed, true), ("side", Change::Changed, false)]);
    assert_eq!(
        g.images[1].fields.iter().map(field).collect::<Vec<_>>(),
        vec![
            ("caption", "Side view", "Side view, left"),
            // The alt text defaults to the caption, so it follows it.
            ("alt", "Side view", "Side view, left"),
        ]
    );

    assert_eq!((plan.urls_kept, plan.urls_changed, plan.links_total), (1, 1, 3));
    assert!(plan.url_statement().contains("1 existing link gets a new URL; the old URL stops working"), "{}", plan.url_statement());

    let shown = plan.redacted();
    let md = shown.to_markdown();
    assert!(md.contains("| `sales` (Sales team) | NEW URL: the old URL stops working |"), "{md}");
    for l in new.galleries["launch"].links.values().chain(old.galleries["launch"].links.values()) {
        assert!(!md.contains(&l.token), "the summary must not reveal the {} token", l.name);
    }
}

#[test]
fn a_commit_before_any_galleries_makes_everything_new() {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    std::fs::write(repo.path().join("README.md"), "empty start\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "start"]);
    copy_tree(&fixture("v1"), repo.path());
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "galleries"]);

    let galleries = repo.path().join("galleries");
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("cache");
    let new = plan::build_manifest(&galleries, &themes(), &cache, &scratch.path().join("new")).unwrap();
    let old = plan::manifest_at_ref(&galleries, "HEAD~1", &themes(), &cache.join("base"), scratch.path(), &new).unwrap();
    let plan = plan::diff(&old, &new);
    assert_eq!(plan.galleries[0].change, Change::Added);
    assert_eq!(plan.galleries[0].links.len(), 2);
    assert_eq!(plan.url_statement(), "No link that exists today is affected.");
}

#[test]
fn an_unknown_ref_is_a_clear_error() {
    let repo = two_commit_repo();
    let galleries = repo.path().join("galleries");
    let scratch = tempfile::tempdir().unwrap();
    let err = plan::manifest_at_ref(&galleries, "no-such-branch", &themes(), &scratch.path().join("c"), scratch.path(), &empty()).unwrap_err();
    assert!(format!("{err:#}").contains("`no-such-branch` is not a commit"), "{err:#}");
}

#[test]
fn a_missing_manifest_file_is_named_in_the_error() {
    let err = plan::read_manifest(&fixture("no-such-manifest.json")).unwrap_err();
    assert!(format!("{err:#}").contains("no-such-manifest.json"), "{err:#}");
}

fn empty() -> gatefold_contract::Manifest {
    gatefold_contract::Manifest::from_json(&format!(
        r#"{{"format":{},"site":{{"title":"t","base_url":"https://x.example","default_locale":"en","timezone":"UTC","ip_logging":"off","utc_offsets":[],"dev_key":true}},"galleries":{{}}}}"#,
        gatefold_contract::manifest::FORMAT
    ))
    .unwrap()
}
