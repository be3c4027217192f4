//! `gatefold trace`.

use super::args::BuildInputs;
use super::progress::Terminal;
use anyhow::{Context, Result};
use gatefold::build::{BuildOptions, ImageMode};
use gatefold::trace::{self, TraceOptions, Tracer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which image a leaked file shows and whose copy it was.
#[derive(Debug, Clone, clap::Args)]
pub struct TraceArgs {
    /// The leaked files (JPEG, PNG or WebP: a download, a re-encoded or resized copy, a
    /// screenshot).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Themes and image cache of the build whose images are traced.
    #[command(flatten)]
    inputs: BuildInputs,
    /// Read the marks of the production key (SIGNING_KEY from the environment; marks of
    /// earlier keys with RETIRED_SIGNING_KEYS, comma-separated).
    #[arg(long)]
    production: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

/// Exit status: 0 every file traced to a link, 3 one of ours without a readable mark, 4 not
/// one of ours (the highest over the files), 1 errors.
pub fn run(galleries: &Path, args: TraceArgs) -> Result<()> {
    let retired = std::env::var("RETIRED_SIGNING_KEYS").unwrap_or_default();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let opts = TraceOptions {
        build: BuildOptions {
            galleries: galleries.to_path_buf(),
            themes: args.inputs.themes.themes_dir.clone(),
            out: PathBuf::new(),
            cache: args.inputs.cache_dir(galleries),
            production: args.production,
            progress: Arc::new(Terminal::auto()),
            now: None,
            images: ImageMode::PlanOnly,
            signing_secret: None,
        },
        retired_secrets: retired.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        admin_token: env("GATEFOLD_ADMIN_TOKEN"),
        admin_url: env("GATEFOLD_URL"),
    };
    let tracer = Tracer::load(&opts)?;
    let mut findings = Vec::new();
    for file in &args.files {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        findings.push(tracer.trace(file, &bytes)?);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&findings).context("serialising the findings")?);
    } else {
        for f in &findings {
            print!("{}", trace::render(f, opts.admin_token.is_some()));
        }
    }
    match findings.iter().map(trace::Finding::exit_code).max().unwrap_or(0) {
        0 => Ok(()),
        code => Err(super::Exit(code).into()),
    }
}
