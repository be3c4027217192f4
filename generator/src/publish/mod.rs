//! `gatefold publish`: plan the production build → read the manifest the last publish recorded
//! in R2 → encode only the images whose objects R2 lacks → upload them in one process →
//! `wrangler deploy` of both scripts (the owner's, then the visitor's: `WORKER_CONFIGS`) → record
//! the new manifest in R2 → smoke test.
//!
//! The deployed state is the build cache: every display variant and original is an R2 object
//! under a content-addressed key, and a build knows every key without encoding anything, so a
//! publish where one gallery changed encodes and uploads that gallery's new images only, with no
//! image cache on the CI machine at all.
//!
//! The order is what keeps a failed publish harmless: objects are uploaded before the deploy
//! (content-addressed keys, so a new object never overwrites one the live site uses), and
//! `wrangler deploy` switches versions atomically, so until it succeeds the previous deployment
//! keeps serving. The manifest is recorded only after a successful deploy: a failed run must not
//! make the next one skip objects it never uploaded. Counters, logs and runtime overrides live in
//! Durable Objects keyed by gallery/link and are never touched by a deploy.
//!
//! `--local --persist-to DIR` does the same against the local R2 of `wrangler dev --persist-to
//! DIR` and stops before deploying: `make run` seeds its R2 this way, and the tests publish so.

mod r2;
mod smoke;
#[cfg(test)]
mod tests;

pub use r2::{R2Tool, Target, Uploaded};
pub use smoke::{Expect, SmokeCheck, SmokeOptions, SmokeOutcome, Verdict, judge, run_smoke, run_smoke_checks, smoke_checks};

use crate::build::{self, BuildOptions, ImageMode};
use crate::progress::Progress;
use anyhow::{Context, Result, bail};
use gatefold_contract::manifest::{MANIFEST_FILE, Manifest, PUBLISHED_MANIFEST_KEY};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Sent by the smoke test: a browser-like agent without any bot marker, so the worker answers
/// as it would a recipient (link-preview bots get the preview page and its card).
pub const SMOKE_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) gatefold-publish-check/1";

/// What a publish does, and with what.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// The build's paths and progress (`out` must hold the `[assets] directory` of
    /// wrangler.toml, dist/site); the publish decides the key and plans without encoding.
    pub build: BuildOptions,
    /// The wrangler executable, relative to the folder holding the galleries directory (a bare
    /// name is looked up on PATH).
    pub wrangler: PathBuf,
    /// The R2 upload tool (`scripts/r2.mjs`), relative to the folder holding the galleries
    /// directory.
    pub r2_tool: PathBuf,
    /// R2 bucket of display images and originals (binding MEDIA in wrangler.toml).
    pub bucket: String,
    /// Build and bundle everything, run `wrangler deploy --dry-run`, change nothing remote;
    /// signs with SIGNING_KEY when set, otherwise the development key.
    pub dry_run: bool,
    /// Publish to the local R2 `wrangler dev --persist-to <this folder>` serves, and stop
    /// before deploying (no deploy, no smoke test; the development key is allowed).
    pub local: Option<PathBuf>,
    /// Skip the smoke test after deploying.
    pub skip_smoke: bool,
    /// Base URL the smoke test calls (`None`: base_url from site.yaml).
    pub smoke_url: Option<String>,
}

/// What a publish did to R2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// Images encoded for it (those whose objects R2 lacked and the image cache did not hold).
    pub encoded_images: usize,
    pub uploaded: usize,
    /// Objects of the build R2 already had.
    pub already_in_r2: usize,
}

pub fn run_publish(args: &PublishOptions) -> Result<Published> {
    let progress = &*args.build.progress;
    let galleries = &args.build.galleries;
    let root = build::project_root_of(galleries);
    // A dry run signs as production would when it has the key; a local publish serves the
    // local worker, which accepts the development key.
    let signing_key_set = std::env::var("SIGNING_KEY").is_ok_and(|k| !k.is_empty());
    let production = args.local.is_none() && (!args.dry_run || signing_key_set);
    let key = if production { "production key" } else { "development key" };
    progress.step(&format!("planning {} ({key}; images are encoded only where R2 lacks them)", galleries.display()));
    let opts = BuildOptions { production, images: ImageMode::PlanOnly, ..args.build.clone() };
    let report = build::build(&opts)?;
    let manifest = report.site.manifest();
    if !args.dry_run && args.local.is_none() && manifest.site.dev_key {
        bail!("refusing to publish a build made with the development key (fix: set SIGNING_KEY to the production secret)");
    }
    let keys = manifest.r2_keys().len();

    if args.dry_run {
        progress.line(&format!("would upload the objects R2 lacks of {keys} (this dry run does not read R2)"));
        let mut files = 0;
        for config in WORKER_CONFIGS {
            let outdir = tempfile::tempdir().context("creating a directory for wrangler's dry-run bundle")?;
            progress.step(&format!("wrangler deploy --dry-run -c {config}"));
            wrangler(&root, &args.wrangler, &["deploy", "--dry-run", "-c", config, "--outdir", &outdir.path().display().to_string()])?;
            let bundled: Vec<PathBuf> = walkdir::WalkDir::new(outdir.path())
                .into_iter()
                .filter_map(|e| e.ok().filter(|e| e.file_type().is_file()).map(|e| e.into_path()))
                .collect();
            if !bundled.iter().any(|f| f.extension().is_some_and(|e| e == "wasm")) {
                bail!("wrangler's dry-run bundle of {config} has no .wasm module (fix: check scripts/build-worker.sh, which its [build] runs)");
            }
            files += bundled.len();
        }
        progress.line(&format!("dry run complete: {files} files bundled; nothing was encoded, uploaded or deployed"));
        return Ok(Published { encoded_images: 0, uploaded: 0, already_in_r2: 0 });
    }

    let target = match &args.local {
        Some(dir) => Target::Local { persist_to: std::path::absolute(dir).context("resolving --persist-to")? },
        None => Target::Remote,
    };
    let r2 = R2Tool { script: root.join(&args.r2_tool), bucket: args.bucket.clone(), target };
    if !r2.script.is_file() {
        bail!(
            "the R2 upload tool is not at {} (fix: run gatefold from the repository, or pass --r2-tool <path to scripts/r2.mjs>)",
            r2.script.display()
        );
    }
    let previous = previous_manifest(&r2, progress)?;
    let missing = objects_to_upload(&manifest, previous.as_ref());
    progress.step(&format!("{} of {keys} objects to upload to R2 bucket {}", missing.len(), args.bucket));

    let materialized = build::materialize(&opts, &report, &missing)?;
    let uploaded = upload(&r2, &materialized.objects).context("uploading to R2 failed; nothing was deployed, the previous deployment is still serving")?;
    let published = Published {
        encoded_images: materialized.encoded_images,
        uploaded: uploaded.objects,
        already_in_r2: keys - missing.len() + uploaded.already_there,
    };
    progress.line(&format!(
        "encoded {} images, uploaded {} objects ({} already in R2)",
        published.encoded_images, published.uploaded, published.already_in_r2
    ));

    let manifest_file = args.build.out.join(MANIFEST_FILE);
    if args.local.is_some() {
        r2.put(PUBLISHED_MANIFEST_KEY, &manifest_file, "application/json").context("recording the published manifest in local R2")?;
        return Ok(published);
    }

    // Each config's `[build] command` builds the worker first.
    for config in WORKER_CONFIGS {
        progress.step(&format!("wrangler deploy -c {config}"));
        wrangler(&root, &args.wrangler, &["deploy", "-c", config]).with_context(|| format!("wrangler deploy -c {config} failed; the previous deployment is still serving"))?;
    }
    r2.put(PUBLISHED_MANIFEST_KEY, &manifest_file, "application/json").context(
        "the deploy succeeded, but recording the published manifest failed; the next publish will encode and upload every image again",
    )?;

    if let Some(report) = crate::admin::overrides_report(&manifest) {
        progress.note(report.trim_end_matches('\n'));
    }
    if args.skip_smoke {
        return Ok(published);
    }
    let base = args.smoke_url.clone().unwrap_or_else(|| manifest.site.base_url.clone());
    progress.step(&format!("smoke test against {base}"));
    let checks = smoke_checks(&manifest, previous.as_ref(), build::now_unix());
    let outcome = run_smoke_checks(&base, &checks, progress)?;
    if outcome.failed > 0 {
        bail!(
            "{} of {} smoke checks failed after deploying (fix: look at `wrangler tail`; `wrangler rollback` returns to the previous version)",
            outcome.failed,
            checks.len()
        );
    }
    Ok(published)
}

/// Uploads `objects` in one `r2.mjs put-list` process (none for an empty list).
fn upload(r2: &R2Tool, objects: &[build::Object]) -> Result<Uploaded> {
    if objects.is_empty() {
        return Ok(Uploaded { objects: 0, bytes: 0, already_there: 0 });
    }
    let scratch = tempfile::tempdir().context("creating a temporary directory")?;
    let list = scratch.path().join("objects.json");
    std::fs::write(&list, serde_json::to_vec(objects)?).with_context(|| format!("writing {}", list.display()))?;
    r2.put_list(&list)
}

/// Objects of `manifest` the last publish did not already put into R2.
pub fn objects_to_upload(manifest: &Manifest, previous: Option<&Manifest>) -> BTreeSet<String> {
    let known = previous.map(Manifest::r2_keys).unwrap_or_default();
    manifest.r2_keys().into_iter().filter(|k| !known.contains(k)).collect()
}

/// The manifest the last successful publish recorded, or `None` when there is none (the first
/// publish) or it cannot be read (written by another version): then every object is encoded
/// and uploaded again, which is slower but never wrong. Failing to ask R2 at all is an error.
fn previous_manifest(r2: &R2Tool, progress: &dyn Progress) -> Result<Option<Manifest>> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let file = dir.path().join("published-manifest.json");
    if !r2.get(PUBLISHED_MANIFEST_KEY, &file).context("reading the previously published manifest from R2")? {
        progress.note(&format!("    no previously published manifest in R2 ({PUBLISHED_MANIFEST_KEY}): every object is uploaded"));
        return Ok(None);
    }
    match crate::plan::read_manifest(&file) {
        Ok(m) => Ok(Some(m)),
        Err(e) => {
            progress.note(&format!("    ignoring the previously published manifest ({e:#}): every object is uploaded"));
            Ok(None)
        }
    }
}

/// Runs wrangler in the project root. Secrets reach it through the inherited environment
/// (CLOUDFLARE_API_TOKEN), never through arguments, so they cannot show up in a printed command.
/// The worker's two scripts, in deploy order: the owner's first, since the visitor's binds its
/// service and its gallery logs by name (the project root's wrangler configs).
pub const WORKER_CONFIGS: [&str; 2] = ["wrangler.owner.toml", "wrangler.toml"];

fn wrangler(root: &Path, bin: &Path, args: &[&str]) -> Result<()> {
    // A bare name is looked up on PATH; a path is taken from the project root.
    let program = if bin.components().count() > 1 { root.join(bin) } else { bin.to_path_buf() };
    let mut cmd = Command::new(program);
    cmd.current_dir(root).env("WRANGLER_SEND_METRICS", "false").args(args);
    run(&mut cmd, &format!("wrangler {}", args.join(" ")))
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}
