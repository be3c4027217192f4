//! The smoke test: every published link answers as its policy says, removed links answer not_found,
//! and none of the records only the worker reads is served. HEAD requests only: the worker never counts them, so
//! checking a link costs it no view.

use super::SMOKE_USER_AGENT;
use crate::build;
use crate::progress::Progress;
use anyhow::{Result, bail};
use gatefold_contract::manifest::{self, Manifest, PageMode, link_path};
use gatefold_contract::{Denial, LinkState, Overrides};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The gallery page (200), or one of the link-state denials if the owner changed the link at
    /// runtime or its views are used up.
    Page,
    /// A link-state denial by its published policy, unless overridden at runtime.
    Denied(Denial),
    /// `not_found` and nothing else: a removed or rotated link, or a private file.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeCheck {
    /// What is checked, without the token (smoke output lands in CI logs).
    pub what: String,
    /// Path to request, relative to the base URL.
    pub path: String,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Alive but not as published: a runtime override or used-up views explain it.
    Note(String),
    Fail(String),
}

pub fn smoke_checks(manifest: &Manifest, previous: Option<&Manifest>, now: i64) -> Vec<SmokeCheck> {
    let mut checks = Vec::new();
    let live: BTreeSet<&str> = manifest.galleries.values().flat_map(|g| g.links.values().map(|l| l.token.as_str())).collect();
    for g in manifest.galleries.values() {
        for l in g.links.values() {
            let expect = match l.policy.effective(&Overrides::default()).state(0, now) {
                LinkState::Active => Expect::Page,
                LinkState::Disabled => Expect::Denied(Denial::LinkDisabled),
                LinkState::Expired => Expect::Denied(Denial::LinkExpired),
                LinkState::LimitReached => Expect::Denied(Denial::ViewLimitReached),
                LinkState::NotYetOpen => Expect::Denied(Denial::NotYetOpen),
            };
            checks.push(SmokeCheck { what: format!("link {}/{}", g.id, l.name), path: link_path(&l.token), expect });
        }
    }
    if let Some(previous) = previous {
        for g in previous.galleries.values() {
            for l in g.links.values().filter(|l| !live.contains(l.token.as_str())) {
                checks.push(SmokeCheck { what: format!("retired URL of {}/{}", g.id, l.name), path: link_path(&l.token), expect: Expect::NotFound });
            }
        }
    }
    checks.extend(private_files(manifest).into_iter().map(|(what, path)| SmokeCheck { what: format!("private {what}"), path, expect: Expect::NotFound }));
    checks
}

/// One of each kind of file only the worker may read (what it is, its path): none may be served.
fn private_files(manifest: &Manifest) -> Vec<(&'static str, String)> {
    let mut files = vec![("site record", manifest::SITE_PATH.to_string()), ("gallery index", manifest::GALLERY_INDEX_PATH.to_string())];
    let first_token = manifest.galleries.values().flat_map(|g| g.links.values()).next().map(|l| l.token.as_str());
    files.push(("link shard", manifest::token_shard_path(first_token.map_or(0, manifest::token_shard))));
    if let Some(g) = manifest.galleries.values().next() {
        files.push(("gallery record", manifest::gallery_record_path(&g.id)));
        files.push(("page template", manifest::page_path(&g.id, PageMode::View, manifest.site.default_locale)));
    }
    files
}

/// Judges one answer's HTTP status against what the check expects.
pub fn judge(expect: Expect, status: u16) -> Verdict {
    let link_state = |s: u16| s == 200 || s == Denial::LinkDisabled.status() || s == Denial::LinkExpired.status();
    match expect {
        Expect::NotFound if status == Denial::NotFound.status() => Verdict::Pass,
        Expect::NotFound => Verdict::Fail(format!("answered {status}, expected 404 not_found")),
        Expect::Page if status == 200 => Verdict::Pass,
        Expect::Denied(d) if status == d.status() => Verdict::Pass,
        _ if link_state(status) => Verdict::Note(format!("answered {status} where the published policy says {}: a runtime override or used-up views explain this", expected_text(expect))),
        _ => Verdict::Fail(format!("answered {status}, expected {}", expected_text(expect))),
    }
}

fn expected_text(expect: Expect) -> String {
    match expect {
        Expect::Page => "200 (the gallery page)".into(),
        Expect::Denied(d) => format!("{} {}", d.status(), d.code()),
        Expect::NotFound => "404 not_found".into(),
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SmokeOutcome {
    pub passed: usize,
    pub noted: usize,
    pub failed: usize,
}

/// Runs the checks against `base_url`, reporting one line each. Right after a deploy the new
/// version can take a few seconds to reach every location, so failures are retried briefly.
pub fn run_smoke_checks(base_url: &str, checks: &[SmokeCheck], progress: &dyn Progress) -> Result<SmokeOutcome> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(15)))
        .user_agent(SMOKE_USER_AGENT)
        .build()
        .into();
    let base = base_url.trim_end_matches('/');
    let mut outcome = SmokeOutcome::default();
    for check in checks {
        let url = format!("{base}{}", check.path);
        let mut verdict = Verdict::Fail("not tried".into());
        for attempt in 0..4 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_secs(2 << attempt));
            }
            verdict = match agent.head(&url).header("Accept", "application/json").call() {
                Ok(response) => judge(check.expect, response.status().as_u16()),
                Err(e) => Verdict::Fail(format!("request failed: {e}")),
            };
            if !matches!(verdict, Verdict::Fail(_)) {
                break;
            }
        }
        match &verdict {
            Verdict::Pass => {
                outcome.passed += 1;
                progress.line(&format!("  ok    {}: {}", check.what, expected_text(check.expect)));
            }
            Verdict::Note(why) => {
                outcome.noted += 1;
                progress.line(&format!("  note  {}: {why}", check.what));
            }
            Verdict::Fail(why) => {
                outcome.failed += 1;
                progress.line(&format!("  FAIL  {}: {why}", check.what));
            }
        }
    }
    progress.line(&format!("smoke test: {} ok, {} noted, {} failed", outcome.passed, outcome.noted, outcome.failed));
    Ok(outcome)
}

/// The publish smoke test on its own, against any running deployment (production, or
/// `wrangler dev` locally).
#[derive(Debug, Clone)]
pub struct SmokeOptions {
    /// The deployed manifest (`dist/manifest.json`: written by the build, never deployed).
    pub manifest: PathBuf,
    /// A manifest published before: its links missing from the current one must answer not_found.
    pub previous_manifest: Option<PathBuf>,
    /// Base URL to call (`None`: base_url from the manifest).
    pub url: Option<String>,
}

pub fn run_smoke(args: &SmokeOptions, progress: &dyn Progress) -> Result<()> {
    let manifest = crate::plan::read_manifest(&args.manifest)?;
    let previous = args.previous_manifest.as_deref().map(crate::plan::read_manifest).transpose()?;
    let base = args.url.clone().unwrap_or_else(|| manifest.site.base_url.clone());
    let checks = smoke_checks(&manifest, previous.as_ref(), build::now_unix());
    let outcome = run_smoke_checks(&base, &checks, progress)?;
    if outcome.failed > 0 {
        bail!("{} of {} smoke checks failed against {base}", outcome.failed, checks.len());
    }
    Ok(())
}

