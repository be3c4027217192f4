//! `gatefold smoke`.

use super::progress::Terminal;
use anyhow::Result;
use gatefold::publish::{self, SmokeOptions};
use std::path::PathBuf;

/// The publish smoke test on its own, against any running deployment (production, or
/// `wrangler dev` locally).
#[derive(Debug, Clone, clap::Args)]
pub struct SmokeArgs {
    /// The deployed manifest (`dist/manifest.json`: written by the build, never deployed).
    #[arg(long, default_value = "dist/manifest.json")]
    manifest: PathBuf,
    /// A manifest published before: its links missing from the current one must answer not_found.
    #[arg(long)]
    previous_manifest: Option<PathBuf>,
    /// Base URL to call (default: base_url from the manifest).
    #[arg(long)]
    url: Option<String>,
}

pub fn run(args: SmokeArgs) -> Result<()> {
    let opts = SmokeOptions { manifest: args.manifest, previous_manifest: args.previous_manifest, url: args.url };
    publish::run_smoke(&opts, &Terminal::auto())
}
