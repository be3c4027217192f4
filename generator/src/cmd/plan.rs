//! `gatefold plan`.

use super::args::BuildInputs;
use super::progress::Terminal;
use anyhow::{Context, Result};
use gatefold::plan::{self, PlanOptions};
use std::path::{Path, PathBuf};

/// What publishing the working tree would change for recipients.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// Compare with the galleries at this git ref (branch, tag or commit), e.g. the PR's base.
    /// Default: where HEAD branched from origin/main (or main), else HEAD.
    #[arg(long, value_name = "GIT_REF", conflicts_with = "against_manifest")]
    against: Option<String>,
    /// Compare with a manifest.json (e.g. one fetched from the last publish).
    #[arg(long, value_name = "FILE")]
    against_manifest: Option<PathBuf>,
    /// The new side as an already built manifest.json (default: build the working tree into a
    /// temporary directory).
    #[arg(long, value_name = "FILE")]
    manifest: Option<PathBuf>,
    /// Themes and image cache used for the builds.
    #[command(flatten)]
    inputs: BuildInputs,
    /// GitHub-flavoured Markdown (for $GITHUB_STEP_SUMMARY).
    #[arg(long, conflicts_with = "json")]
    markdown: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Print link URLs in full. They grant access to galleries: never in CI logs.
    #[arg(long)]
    reveal_tokens: bool,
}

pub fn run(galleries: &Path, args: PlanArgs) -> Result<()> {
    let opts = PlanOptions {
        cache: args.inputs.cache_dir(galleries),
        themes: args.inputs.themes.themes_dir,
        against: args.against,
        against_manifest: args.against_manifest,
        manifest: args.manifest,
    };
    let plan = plan::run_plan(galleries, &opts, &Terminal::auto())?;
    let shown = if args.reveal_tokens { plan } else { plan.redacted() };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&shown).context("serialising the plan")?);
    } else if args.markdown {
        print!("{}", shown.to_markdown());
    } else {
        print!("{}", shown.to_text());
    }
    Ok(())
}
