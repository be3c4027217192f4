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

mod smoke;
#[cfg(test)]
mod tests;

pub use smoke::{Expect, SmokeArgs, SmokeCheck, SmokeOutcome, Verdict, judge, run_smoke, run_smoke_checks, smoke_checks};

use crate::build::{self, BuildOptions};
use crate::cli::BuildPaths;
use anyhow::{Context, Result, bail};
use gatefold_contract::manifest::Manifest;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Key, in the originals bucket, of the manifest the last successful publish deployed. The
/// worker only ever serves keys listed as an image's original, so this is never downloadable.
pub const PUBLISHED_MANIFEST_KEY: &str = "gatefold/published-manifest.json";

/// Sent by the smoke test: a browser-like agent without any bot marker, so the worker answers
/// as it would a recipient (link-preview bots get a title-only page).
pub const SMOKE_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) gatefold-publish-check/1";

#[derive(Debug, Clone, clap::Args)]
pub struct PublishArgs {
    /// The build's paths; `--out` must hold the `[assets] directory` of wrangler.toml (dist/site).
    #[command(flatten)]
    pub paths: BuildPaths,
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
    let report = build::build(&BuildOptions { production, ..args.paths.options(galleries) })?;
    let manifest = report.site.manifest();
    if !args.dry_run && manifest.site.dev_key {
        bail!("refusing to publish a build made with the development key (fix: set SIGNING_KEY to the production secret)");
    }
    let originals = args.paths.out.out_dir.join("originals");
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
        .put(&args.bucket, PUBLISHED_MANIFEST_KEY, &args.paths.out.out_dir.join("site/_gatefold/manifest.json"), "application/json")
        .context("the deploy succeeded, but recording the published manifest failed; the next publish will upload every original again")?;

    if let Some(report) = crate::admin::overrides_report(&manifest) {
        eprint!("{report}");
    }
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
