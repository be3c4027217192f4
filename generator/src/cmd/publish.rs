//! `gatefold publish`.

use super::args::BuildPaths;
use anyhow::Result;
use gatefold::publish::{self, PublishOptions};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, clap::Args)]
pub struct PublishArgs {
    /// The build's paths; `--out` must hold the `[assets] directory` of wrangler.toml (dist/site).
    #[command(flatten)]
    paths: BuildPaths,
    /// The wrangler executable (the repository pins its version in package.json), relative to
    /// the folder holding the galleries directory.
    #[arg(long, env = "WRANGLER", default_value = "node_modules/.bin/wrangler")]
    wrangler: PathBuf,
    /// The R2 upload tool, relative to the folder holding the galleries directory.
    #[arg(long, default_value = "scripts/r2.mjs")]
    r2_tool: PathBuf,
    /// R2 bucket of display images and originals (binding MEDIA in wrangler.toml).
    #[arg(long, default_value = "gatefold-media")]
    bucket: String,
    /// Build and bundle everything, run `wrangler deploy --dry-run`, change nothing remote.
    /// Uses SIGNING_KEY when set, otherwise the development key.
    #[arg(long, conflicts_with = "local")]
    dry_run: bool,
    /// Publish to the local R2 `wrangler dev --persist-to DIR` serves, and stop before deploying
    /// (no deploy, no smoke test; the development key is allowed).
    #[arg(long, requires = "persist_to")]
    local: bool,
    /// The `--persist-to` directory of `wrangler dev` (with --local).
    #[arg(long, value_name = "DIR", requires = "local")]
    persist_to: Option<PathBuf>,
    /// Skip the smoke test after deploying.
    #[arg(long)]
    skip_smoke: bool,
    /// Base URL the smoke test calls (default: base_url from site.yaml).
    #[arg(long)]
    smoke_url: Option<String>,
}

pub fn run(galleries: &Path, args: PublishArgs) -> Result<()> {
    let opts = PublishOptions {
        build: args.paths.options(galleries),
        wrangler: args.wrangler,
        r2_tool: args.r2_tool,
        bucket: args.bucket,
        dry_run: args.dry_run,
        // clap makes `--local` and `--persist-to` come together.
        local: args.persist_to.filter(|_| args.local),
        skip_smoke: args.skip_smoke,
        smoke_url: args.smoke_url,
    };
    publish::run_publish(&opts).map(drop)
}
