//! `gatefold build`.

use super::args::BuildPaths;
use anyhow::Result;
use gatefold::build::{self, BuildOptions};
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    paths: BuildPaths,
    /// Production build: requires SIGNING_KEY in the environment.
    #[arg(long)]
    production: bool,
}

pub fn run(galleries: &Path, args: BuildArgs) -> Result<()> {
    let opts = BuildOptions { production: args.production, ..args.paths.options(galleries) };
    let report = build::build(&opts)?;
    if !report.warnings.0.is_empty() {
        eprintln!("{}", report.warnings);
    }
    if report.unchanged {
        println!(
            "nothing changed since the last build: {} left as it was ({} galleries, {} images, {} links; checked in {:.2}s)",
            opts.out.display(),
            report.site.galleries.len(),
            report.images,
            report.site.links(),
            report.elapsed.as_secs_f64()
        );
        return Ok(());
    }
    println!(
        "built {} galleries, {} images, {} links into {} in {:.1}s (key: {})",
        report.site.galleries.len(),
        report.images,
        report.site.links(),
        opts.out.display(),
        report.elapsed.as_secs_f64(),
        report.key_origin
    );
    Ok(())
}
