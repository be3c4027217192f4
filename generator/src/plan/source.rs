//! Where the two manifests of a plan come from: a manifest file, the working tree built into
//! a scratch directory, or the galleries at a git ref (unpacked with `git archive` and built
//! with the same signing key).

use super::{Plan, diff};
use crate::build::{self, BuildOptions, ImageMode};
use crate::progress::{Progress, Quiet};
use anyhow::{Context, Result, bail};
use gatefold_contract::manifest::Manifest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// What `gatefold plan` compares.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Compare with the galleries at this git ref; `None`: where HEAD branched from origin/main
    /// (or main), else HEAD.
    pub against: Option<String>,
    /// Compare with this manifest.json instead (e.g. one fetched from the last publish).
    pub against_manifest: Option<PathBuf>,
    /// The new side as an already built manifest.json; `None`: build the working tree into a
    /// temporary directory.
    pub manifest: Option<PathBuf>,
    /// The themes folder of the builds.
    pub themes: PathBuf,
    /// The image cache of the builds (the base's in `plan-base` inside it).
    pub cache: PathBuf,
}

/// What publishing the working tree in `galleries` would change for recipients, with whole
/// tokens: showing it [redacted](Plan::redacted) is the caller's choice.
pub fn run_plan(galleries: &Path, opts: &PlanOptions, progress: &dyn Progress) -> Result<Plan> {
    let scratch = tempfile::tempdir().context("creating a temporary directory for the plan's builds")?;

    let new = match &opts.manifest {
        Some(path) => read_manifest(path)?,
        None => build_manifest(galleries, &opts.themes, &opts.cache, &scratch.path().join("new"))?,
    };
    let old = match (&opts.against_manifest, &opts.against) {
        (Some(path), _) => read_manifest(path)?,
        (None, git_ref) => {
            let git_ref = match git_ref {
                Some(r) => r.clone(),
                None => default_base(galleries)?,
            };
            progress.note(&format!("plan: comparing with the galleries at {git_ref}"));
            manifest_at_ref(galleries, &git_ref, &opts.themes, &opts.cache.join("plan-base"), scratch.path(), &new)?
        }
    };
    if old.site.dev_key != new.site.dev_key && opts.against_manifest.is_none() {
        bail!("the two builds used different signing keys, so every token would differ; run both with the same SIGNING_KEY");
    }

    if let Some(report) = crate::admin::overrides_report(&new) {
        progress.note(report.trim_end_matches('\n'));
    }
    Ok(diff(&old, &new))
}

pub fn read_manifest(path: &Path) -> Result<Manifest> {
    let json = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Manifest::from_json(&json).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Builds `galleries` into `out` (a scratch directory) and returns the manifest. Only plans the
/// images: a plan compares keys and sizes, which are known without encoding a pixel.
pub fn build_manifest(galleries: &Path, themes: &Path, cache: &Path, out: &Path) -> Result<Manifest> {
    let report = build::build(&BuildOptions {
        galleries: galleries.to_path_buf(),
        themes: themes.to_path_buf(),
        out: out.to_path_buf(),
        cache: cache.to_path_buf(),
        production: false,
        progress: Arc::new(Quiet),
        now: None,
        images: ImageMode::PlanOnly,
        signing_secret: None,
    })
    .with_context(|| format!("building {}", galleries.display()))?;
    Ok(report.site.manifest())
}

/// Where a PR branch left main: what reviewers compare against.
fn default_base(galleries: &Path) -> Result<String> {
    for candidate in ["origin/main", "main"] {
        if let Ok(base) = git(galleries, &["merge-base", "HEAD", candidate]) {
            return Ok(base.trim().to_string());
        }
    }
    git(galleries, &["rev-parse", "--verify", "HEAD"]).map(|s| s.trim().to_string()).context(
        "finding a commit to compare with (fix: pass --against <git-ref> or --against-manifest <file>, or run inside a git repository with at least one commit)",
    )
}

/// The manifest the galleries at `git_ref` build, with the same signing key as the working tree
/// (tokens must be comparable). A ref without the galleries directory yields a site with no
/// galleries: everything is new.
pub fn manifest_at_ref(galleries: &Path, git_ref: &str, themes: &Path, cache: &Path, scratch: &Path, new: &Manifest) -> Result<Manifest> {
    let commit = git(galleries, &["rev-parse", "--verify", "--quiet", &format!("{git_ref}^{{commit}}")])
        .with_context(|| format!("`{git_ref}` is not a commit in this repository (fix: fetch it, e.g. `git fetch origin {git_ref}`, or use a full commit id)"))?;
    let commit = commit.trim();
    // Path of the galleries directory inside the repository, e.g. "galleries/".
    let prefix = git(galleries, &["rev-parse", "--show-prefix"])?.trim().trim_end_matches('/').to_string();
    let spec = if prefix.is_empty() { commit.to_string() } else { format!("{commit}:{prefix}") };
    if git(galleries, &["cat-file", "-e", &spec]).is_err() {
        return Ok(Manifest { galleries: Default::default(), ..new.clone() });
    }

    let tree = scratch.join("base");
    std::fs::create_dir_all(&tree).with_context(|| format!("creating {}", tree.display()))?;
    let mut args = vec!["archive", "--format=tar", commit];
    if !prefix.is_empty() {
        args.push(&prefix);
    }
    // Pathspecs are relative to the working directory: run from the top of the repository.
    let top = PathBuf::from(git(galleries, &["rev-parse", "--show-toplevel"])?.trim());
    let output = Command::new("git").args(&args).current_dir(&top).output().context("running git archive")?;
    if !output.status.success() {
        bail!("git archive {commit} {prefix} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    // The tar crate refuses entries escaping the destination.
    tar::Archive::new(output.stdout.as_slice())
        .unpack(&tree)
        .with_context(|| format!("unpacking the galleries of {git_ref} into {}", tree.display()))?;
    let base_galleries = if prefix.is_empty() { tree.clone() } else { tree.join(&prefix) };

    // A local key in .dev.vars must sign the base build too, or every token would differ.
    let dev_vars = build::project_root_of(galleries).join(".dev.vars");
    if dev_vars.exists() {
        let to = build::project_root_of(&base_galleries).join(".dev.vars");
        std::fs::copy(&dev_vars, &to).with_context(|| format!("copying {} to {}", dev_vars.display(), to.display()))?;
    }
    build_manifest(&base_galleries, themes, cache, &scratch.join("base-dist")).with_context(|| format!("building the galleries as of {git_ref}"))
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| format!("running git {} in {}", args.join(" "), dir.display()))?;
    if !output.status.success() {
        bail!("git {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    String::from_utf8(output.stdout).context("git printed non-UTF-8 output")
}

