//! Argument groups flattened into several commands: one definition of each path and default.

use super::progress::Terminal;
use gatefold::build::{self, BuildOptions, ImageMode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `--out`: where a build goes (and where `links` finds its QR codes).
#[derive(Debug, Clone, clap::Args)]
pub struct OutDir {
    /// Output directory.
    #[arg(long = "out", default_value = "dist")]
    pub out_dir: PathBuf,
}

/// `--themes`: the folder holding the theme `site.yaml` names.
#[derive(Debug, Clone, clap::Args)]
pub struct ThemesDir {
    /// Themes directory.
    #[arg(long = "themes", default_value = "themes")]
    pub themes_dir: PathBuf,
}

/// What a build reads besides the galleries: `--themes` and `--cache`.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildInputs {
    #[command(flatten)]
    pub themes: ThemesDir,
    /// Image cache directory (default: .gatefold-cache next to the galleries directory).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

impl BuildInputs {
    /// The image cache: `--cache`, else `.gatefold-cache` next to the galleries directory.
    pub fn cache_dir(&self, galleries: &Path) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| build::project_root_of(galleries).join(build::CACHE_DIR))
    }
}

/// Every path a build uses: `--out`, `--themes`, `--cache`.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildPaths {
    #[command(flatten)]
    pub out: OutDir,
    #[command(flatten)]
    pub inputs: BuildInputs,
}

impl BuildPaths {
    /// Build options for `galleries` with these paths (development key, progress on stderr).
    pub fn options(&self, galleries: &Path) -> BuildOptions {
        BuildOptions {
            galleries: galleries.to_path_buf(),
            themes: self.inputs.themes.themes_dir.clone(),
            out: self.out.out_dir.clone(),
            cache: self.inputs.cache_dir(galleries),
            production: false,
            progress: Arc::new(Terminal::auto()),
            now: None,
            signing_secret: None,
            images: ImageMode::Encode,
        }
    }
}
