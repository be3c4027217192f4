//! `gatefold publish`: production build → new originals to R2 → `wrangler deploy` → smoke test.
//!
//! The order is what keeps a failed publish harmless: originals are uploaded before the deploy
//! (content-hashed keys, so a new object never overwrites one the live site uses), and
//! `wrangler deploy` switches versions atomically, so until it succeeds the previous deployment
//! keeps serving. Counters, logs and runtime overrides live in Durable Objects keyed by
//! gallery/link and are never touched by a deploy.
//!
//! Which originals R2 already has is known from the manifest the last successful publish stored
//! next to them in the (private) bucket; without it every original is uploaded again, which is
//! slower but never wrong.

use crate::build::{self, BuildOptions};
use crate::images::Progress;
use anyhow::{Context, Result, bail};
use gatefold_contract::manifest::{Manifest, link_path};
use gatefold_contract::{Denial, LinkState, Overrides};
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Key, in the originals bucket, of the manifest the last successful publish deployed. The
/// worker only ever serves keys listed as an image's original, so this is never downloadable.
pub const PUBLISHED_MANIFEST_KEY: &str = "gatefold/published-manifest.json";

/// Sent by the smoke test: a browser-like agent without any bot marker, so the worker answers
/// as it would a recipient (link-preview bots get a title-only page).
pub const SMOKE_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) gatefold-publish-check/1";

#[derive(Debug, Clone, clap::Args)]
pub struct PublishArgs {
    /// Output directory; must be the `[assets] directory` of wrangler.toml (dist/site).
    #[arg(long, default_value = "dist")]
    pub out: PathBuf,
    /// Themes directory.
    #[arg(long, default_value = "themes")]
    pub themes: PathBuf,
    /// Image cache directory (default: .gatefold-cache next to the galleries directory).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// The wrangler executable (the repository pins its version in package.json).
    #[arg(long, env = "WRANGLER", default_value = "node_modules/.bin/wrangler")]
    pub wrangler: PathBuf,
    /// R2 bucket holding originals (binding ORIGINALS in wrangler.toml).
    #[arg(long, default_value = "gatefold-originals")]
    pub bucket: String,
    /// Build and bundle everything, run `wrangler deploy --dry-run`, change nothing remote.
    /// Uses SIGNING_KEY when set, otherwise the development key.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the smoke test after deploying.
    #[arg(long)]
    pub skip_smoke: bool,
    /// Base URL the smoke test calls (default: base_url from site.yaml).
    #[arg(long)]
    pub smoke_url: Option<String>,
}

pub fn run_publish(galleries: &Path, args: &PublishArgs) -> Result<()> {
    let root = build::project_root_of(galleries);
    let production = !args.dry_run || std::env::var("SIGNING_KEY").is_ok_and(|k| !k.is_empty());
    step(&format!("building {} ({})", galleries.display(), if production { "production key" } else { "development key, dry run" }));
    let report = build::build(&BuildOptions {
        galleries: galleries.to_path_buf(),
        themes: args.themes.clone(),
        out: args.out.clone(),
        cache: args.cache.clone().unwrap_or_else(|| root.join(".gatefold-cache")),
        production,
        progress: if std::io::stderr().is_terminal() { Progress::Bar } else { Progress::Lines },
        now: None,
    })?;
    let manifest = report.manifest;
    if !args.dry_run && manifest.site.dev_key {
        bail!("refusing to publish a build made with the development key (fix: set SIGNING_KEY to the production secret)");
    }
    let originals = args.out.join("originals");
    check_originals(&manifest, &originals)?;

    let wrangler = Wrangler { bin: args.wrangler.clone(), dir: root.clone() };
    let previous = if args.dry_run { None } else { wrangler.previous_manifest(&args.bucket)? };
    let uploads = originals_to_upload(&manifest, previous.as_ref());
    step(&format!(
        "{} original{} to upload to R2 bucket {} ({} already there)",
        uploads.len(),
        if uploads.len() == 1 { "" } else { "s" },
        args.bucket,
        all_original_keys(&manifest).len() - uploads.len()
    ));
    for key in &uploads {
        let (size, content_type) = original_meta(&manifest, key);
        if args.dry_run {
            println!("  would upload {key} ({size} bytes)");
        } else {
            wrangler.put(&args.bucket, key, &originals.join(key), content_type)?;
        }
    }

    if args.dry_run {
        let outdir = tempfile::tempdir().context("creating a directory for wrangler's dry-run bundle")?;
        step("wrangler deploy --dry-run");
        wrangler.run(&["deploy", "--dry-run", "--outdir", &outdir.path().display().to_string()])?;
        println!("dry run complete: nothing was uploaded or deployed");
        return Ok(());
    }

    // wrangler.toml's `[build] command` builds the worker first, for deploy and dry run alike.
    step("wrangler deploy");
    wrangler.run(&["deploy"]).context("wrangler deploy failed; the previous deployment is still serving")?;
    // Recorded only after a successful deploy: a failed run must not make the next one skip
    // uploads the live site never got.
    wrangler
        .put(&args.bucket, PUBLISHED_MANIFEST_KEY, &args.out.join("site/_gatefold/manifest.json"), "application/json")
        .context("the deploy succeeded, but recording the published manifest failed; the next publish will upload every original again")?;

    if args.skip_smoke {
        return Ok(());
    }
    let base = args.smoke_url.clone().unwrap_or_else(|| manifest.site.base_url.clone());
    step(&format!("smoke test against {base}"));
    let checks = smoke_checks(&manifest, previous.as_ref(), build::now_unix());
    let outcome = run_smoke_checks(&base, &checks)?;
    if outcome.failed > 0 {
        bail!(
            "{} of {} smoke checks failed after deploying (fix: look at `wrangler tail`; `wrangler rollback` returns to the previous version)",
            outcome.failed,
            checks.len()
        );
    }
    Ok(())
}

fn step(what: &str) {
    eprintln!("==> {what}");
}

fn all_original_keys(manifest: &Manifest) -> BTreeSet<&str> {
    manifest.galleries.values().flat_map(|g| g.images.iter().map(|i| i.original.key.as_str())).collect()
}

/// Originals of `manifest` that the last publish did not already put into R2. Keys are content
/// hashes, so a key present before holds exactly the same bytes.
pub fn originals_to_upload(manifest: &Manifest, previous: Option<&Manifest>) -> Vec<String> {
    let known = previous.map(all_original_keys).unwrap_or_default();
    all_original_keys(manifest).into_iter().filter(|k| !known.contains(k)).map(str::to_string).collect()
}

fn original_meta<'a>(manifest: &'a Manifest, key: &str) -> (u64, &'a str) {
    manifest
        .galleries
        .values()
        .flat_map(|g| g.images.iter())
        .find(|i| i.original.key == key)
        .map_or((0, "application/octet-stream"), |i| (i.original.size, i.original.content_type.as_str()))
}

/// Every original the manifest names must be in the build output, or downloads would 404.
fn check_originals(manifest: &Manifest, dir: &Path) -> Result<()> {
    let missing: Vec<&str> = all_original_keys(manifest).into_iter().filter(|k| !dir.join(k).is_file()).collect();
    if !missing.is_empty() {
        bail!("the build is missing {} original(s) under {}: {}", missing.len(), dir.display(), missing.join(", "));
    }
    Ok(())
}

struct Wrangler {
    bin: PathBuf,
    dir: PathBuf,
}

impl Wrangler {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        // Secrets reach wrangler through the inherited environment (CLOUDFLARE_API_TOKEN), never
        // through arguments, so they cannot show up in a printed command line.
        cmd.current_dir(&self.dir).env("WRANGLER_SEND_METRICS", "false");
        cmd
    }

    fn run(&self, args: &[&str]) -> Result<()> {
        run(self.command().args(args), &format!("wrangler {}", args.join(" ")))
    }

    fn put(&self, bucket: &str, key: &str, file: &Path, content_type: &str) -> Result<()> {
        let object = format!("{bucket}/{key}");
        let file = file.display().to_string();
        self.run(&["r2", "object", "put", &object, "--file", &file, "--content-type", content_type, "--remote"])
    }

    /// The manifest the last successful publish recorded, or `None` (first publish, or the
    /// object cannot be read: then every original is uploaded, which is safe).
    fn previous_manifest(&self, bucket: &str) -> Result<Option<Manifest>> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let file = dir.path().join("published-manifest.json");
        let object = format!("{bucket}/{PUBLISHED_MANIFEST_KEY}");
        let output = self
            .command()
            .args(["r2", "object", "get", &object, "--file", &file.display().to_string(), "--remote"])
            .output()
            .with_context(|| format!("running {}", self.bin.display()))?;
        if !output.status.success() || !file.is_file() {
            eprintln!("    no previously published manifest in R2 ({object}): uploading every original");
            return Ok(None);
        }
        match crate::plan::read_manifest(&file) {
            Ok(m) => Ok(Some(m)),
            Err(e) => {
                eprintln!("    ignoring the previously published manifest ({e:#}): uploading every original");
                Ok(None)
            }
        }
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Smoke test: every published link answers as its policy says, removed links answer not_found,
// and the private manifest is not served. HEAD requests only: the worker never counts them, so
// checking a link costs it no view.

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
    checks.push(SmokeCheck { what: "private manifest".into(), path: gatefold_contract::manifest::MANIFEST_PATH.into(), expect: Expect::NotFound });
    checks
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

/// Runs the checks against `base_url`, printing one line each. Right after a deploy the new
/// version can take a few seconds to reach every location, so failures are retried briefly.
pub fn run_smoke_checks(base_url: &str, checks: &[SmokeCheck]) -> Result<SmokeOutcome> {
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
                println!("  ok    {}: {}", check.what, expected_text(check.expect));
            }
            Verdict::Note(why) => {
                outcome.noted += 1;
                println!("  note  {}: {why}", check.what);
            }
            Verdict::Fail(why) => {
                outcome.failed += 1;
                println!("  FAIL  {}: {why}", check.what);
            }
        }
    }
    println!("smoke test: {} ok, {} noted, {} failed", outcome.passed, outcome.noted, outcome.failed);
    Ok(outcome)
}

/// `gatefold smoke`: the publish smoke test on its own, against any running deployment
/// (production, or `wrangler dev` locally).
#[derive(Debug, Clone, clap::Args)]
pub struct SmokeArgs {
    /// The deployed manifest.
    #[arg(long, default_value = "dist/site/_gatefold/manifest.json")]
    pub manifest: PathBuf,
    /// A manifest published before: its links missing from the current one must answer not_found.
    #[arg(long)]
    pub previous_manifest: Option<PathBuf>,
    /// Base URL to call (default: base_url from the manifest).
    #[arg(long)]
    pub url: Option<String>,
}

pub fn run_smoke(args: &SmokeArgs) -> Result<()> {
    let manifest = crate::plan::read_manifest(&args.manifest)?;
    let previous = args.previous_manifest.as_deref().map(crate::plan::read_manifest).transpose()?;
    let base = args.url.clone().unwrap_or_else(|| manifest.site.base_url.clone());
    let checks = smoke_checks(&manifest, previous.as_ref(), build::now_unix());
    let outcome = run_smoke_checks(&base, &checks)?;
    if outcome.failed > 0 {
        bail!("{} of {} smoke checks failed against {base}", outcome.failed, checks.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatefold_contract::manifest::{Gallery, Image, IpLogging, Link, Original, Site};
    use gatefold_contract::{LinkPolicy, Locale};
    use std::collections::BTreeMap;

    const NOW: i64 = 1_800_000_000;

    fn image(key: &str) -> Image {
        Image {
            id: key.into(),
            file_name: format!("{key}.jpg"),
            caption: None,
            alt: String::new(),
            width: 10,
            height: 10,
            animated: false,
            variants: Vec::new(),
            original: Original { key: format!("originals/g/{key}.jpg"), size: 3, content_type: "image/jpeg".into() },
        }
    }

    fn manifest(links: &[(&str, &str, LinkPolicy)], images: &[&str]) -> Manifest {
        let links = links
            .iter()
            .map(|(name, token, policy)| (name.to_string(), Link { name: name.to_string(), label: name.to_string(), token: token.to_string(), rotate: 0, policy: policy.clone() }))
            .collect();
        let gallery = Gallery { id: "g".into(), title: "G".into(), images: images.iter().map(|k| image(k)).collect(), links };
        Manifest {
            format: gatefold_contract::manifest::FORMAT,
            site: Site {
                title: "S".into(),
                base_url: "https://images.example.com".into(),
                default_locale: Locale::En,
                timezone: "UTC".into(),
                ip_logging: IpLogging::Off,
                utc_offsets: vec![(0, 0)],
                dev_key: false,
                analytics: Default::default(),
            },
            galleries: BTreeMap::from([("g".to_string(), gallery)]),
        }
    }

    #[test]
    fn only_originals_the_last_publish_lacked_are_uploaded() {
        let before = manifest(&[], &["a", "b"]);
        let after = manifest(&[], &["b", "c"]);
        assert_eq!(originals_to_upload(&after, Some(&before)), vec!["originals/g/c.jpg"]);
        assert_eq!(originals_to_upload(&after, None), vec!["originals/g/b.jpg", "originals/g/c.jpg"], "first publish uploads all");
    }

    #[test]
    fn smoke_checks_expect_each_links_published_state_and_retired_urls_gone() {
        let open = LinkPolicy::default();
        let expired = LinkPolicy { expires_at: Some(NOW - 1), ..LinkPolicy::default() };
        let disabled = LinkPolicy { disabled: true, ..LinkPolicy::default() };
        let before = manifest(&[("market", "tokenold", open.clone())], &[]);
        let after = manifest(&[("market", "tokennew", open), ("press", "tokenp", expired), ("sales", "tokens", disabled)], &[]);
        let checks = smoke_checks(&after, Some(&before), NOW);
        let got: Vec<(&str, &str, Expect)> = checks.iter().map(|c| (c.what.as_str(), c.path.as_str(), c.expect)).collect();
        assert_eq!(
            got,
            vec![
                ("link g/market", "/s/tokennew", Expect::Page),
                ("link g/press", "/s/tokenp", Expect::Denied(Denial::LinkExpired)),
                ("link g/sales", "/s/tokens", Expect::Denied(Denial::LinkDisabled)),
                ("retired URL of g/market", "/s/tokenold", Expect::NotFound),
                ("private manifest", "/_gatefold/manifest.json", Expect::NotFound),
            ]
        );
        assert!(checks.iter().all(|c| !c.what.contains("token")), "check names must not carry tokens");
    }

    #[test]
    fn answers_are_judged_strictly_where_it_matters() {
        assert_eq!(judge(Expect::Page, 200), Verdict::Pass);
        assert_eq!(judge(Expect::Denied(Denial::LinkExpired), 410), Verdict::Pass);
        assert!(matches!(judge(Expect::Page, 403), Verdict::Note(_)), "runtime disable is the owner's choice");
        assert!(matches!(judge(Expect::Page, 404), Verdict::Fail(_)), "a published link must exist");
        assert!(matches!(judge(Expect::Page, 500), Verdict::Fail(_)));
        assert!(matches!(judge(Expect::NotFound, 200), Verdict::Fail(_)), "a retired URL must never open");
        assert!(matches!(judge(Expect::NotFound, 403), Verdict::Fail(_)));
        assert_eq!(judge(Expect::NotFound, 404), Verdict::Pass);
    }

    #[test]
    fn missing_originals_stop_a_publish_before_anything_is_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest(&[], &["a"]);
        let err = check_originals(&m, dir.path()).unwrap_err().to_string();
        assert!(err.contains("originals/g/a.jpg"), "{err}");
        std::fs::create_dir_all(dir.path().join("originals/g")).unwrap();
        std::fs::write(dir.path().join("originals/g/a.jpg"), b"abc").unwrap();
        check_originals(&m, dir.path()).unwrap();
    }

    #[test]
    fn the_smoke_test_speaks_http_to_a_real_server() {
        // A tiny server answering 200 for one path and 404 otherwise, so the HTTP side of the
        // smoke test (HEAD, statuses, no redirects followed) is exercised for real.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            use std::io::{BufRead, BufReader, Write};
            let mut methods = Vec::new();
            for stream in listener.incoming().take(2) {
                let mut stream = stream.unwrap();
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                reader.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    if h == "\r\n" || h.is_empty() {
                        break;
                    }
                }
                methods.push(line.split(' ').next().unwrap().to_string());
                let status = if line.contains("/s/good ") { "200 OK" } else { "404 Not Found" };
                write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            }
            methods
        });
        let checks = vec![
            SmokeCheck { what: "good".into(), path: "/s/good".into(), expect: Expect::Page },
            SmokeCheck { what: "private".into(), path: "/_gatefold/manifest.json".into(), expect: Expect::NotFound },
        ];
        let outcome = run_smoke_checks(&format!("http://{addr}/"), &checks).unwrap();
        assert_eq!(outcome, SmokeOutcome { passed: 2, noted: 0, failed: 0 });
        assert_eq!(server.join().unwrap(), vec!["HEAD", "HEAD"], "the smoke test must not burn views");
    }
}
