//! `gatefold check`.

use super::args::ThemesDir;
use anyhow::Result;
use gatefold::build;
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Skip the full decode of every image (format, size and header checks only).
    #[arg(long)]
    quick: bool,
    #[command(flatten)]
    themes: ThemesDir,
}

pub fn run(galleries: &Path, args: CheckArgs) -> Result<()> {
    let themes = &args.themes.themes_dir;
    let (project, mut warnings) = build::load(galleries, themes, !args.quick, build::now_unix())?;
    warnings.0.extend(build::asset_budget(&project, themes)?);
    if !warnings.0.is_empty() {
        eprintln!("{warnings}");
    }
    let links: usize = project.galleries.iter().map(|g| g.links.len()).sum();
    let images: usize = project.galleries.iter().map(|g| g.images.len()).sum();
    let files = build::deployed_files(&project, themes)?;
    println!(
        "ok: {} galleries, {images} images, {links} links; a deployment holds {files} static files (Workers {} plan: {})",
        project.galleries.len(),
        project.site.plan.name(),
        project.site.plan.asset_file_limit()
    );
    Ok(())
}
