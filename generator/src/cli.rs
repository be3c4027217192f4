//! The `gatefold` command line: parse, call one library function, report.

use crate::build::{self, BuildOptions};
use crate::diagnostics::InvalidInput;
use crate::images::{Job, Outcome};
use crate::keys;
use anyhow::Result;
use clap::{Parser, Subcommand};
use gatefold_contract::manifest::link_url;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Parser)]
#[command(name = "gatefold", version, about = "Build gated product-image galleries from folders in git", long_about = None)]
pub struct Cli {
    /// The galleries directory (holds site.yaml and one folder per gallery).
    #[arg(long, global = true, default_value = "galleries", env = "GATEFOLD_GALLERIES")]
    pub galleries: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate site.yaml, every gallery.yaml and every image; report all problems at once.
    Check {
        /// Skip the full decode of every image (format, size and header checks only).
        #[arg(long)]
        quick: bool,
        #[command(flatten)]
        themes: ThemesDir,
    },
    /// Build dist/: images, pages, QR codes, owner kits and the manifest.
    Build(BuildArgs),
    /// List every link: gallery, link, label, URL, policy and QR files.
    Links {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// The build whose QR codes are listed.
        #[command(flatten)]
        out: OutDir,
        /// List links as a production build would (SIGNING_KEY from the environment).
        #[arg(long)]
        production: bool,
    },
    /// Show what publishing would change for recipients (links, policies, images, URLs).
    Plan(crate::plan::PlanArgs),
    /// Build with the production key, encode and upload the images R2 lacks, deploy the worker,
    /// smoke-test every link (`--local --persist-to DIR`: into wrangler dev's local R2 only).
    Publish(crate::publish::PublishArgs),
    /// Check that every published link answers with its page or its intended denial (HEAD only: no views used).
    Smoke(crate::publish::SmokeArgs),
    #[command(flatten)]
    Admin(crate::cmd::admin::AdminCommand),
}

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
            progress: Progress::auto(),
            now: None,
            images: build::ImageMode::Encode,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub paths: BuildPaths,
    /// Production build: requires SIGNING_KEY in the environment.
    #[arg(long)]
    pub production: bool,
}

/// How a build reports its image progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Bar,
    Lines,
    Quiet,
}

impl Progress {
    /// A bar on a terminal, plain lines otherwise (CI logs).
    pub fn auto() -> Progress {
        if std::io::stderr().is_terminal() { Progress::Bar } else { Progress::Lines }
    }

    /// Starts reporting on `total` images.
    pub fn start(self, total: usize) -> ProgressReport {
        let bar = (self == Progress::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} images {bar:30} {pos}/{len} {elapsed} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        ProgressReport { mode: self, bar, done: AtomicUsize::new(0), unchanged: AtomicUsize::new(0), total }
    }
}

/// Image progress of one build, fed from the image workers.
pub struct ProgressReport {
    mode: Progress,
    bar: Option<indicatif::ProgressBar>,
    done: AtomicUsize,
    /// Images that needed no encoding (cached or only planned): in line mode they get one
    /// summary line instead of one each, so a large archive's log stays readable.
    unchanged: AtomicUsize,
    total: usize,
}

impl ProgressReport {
    pub fn image_done(&self, job: &Job, outcome: Outcome) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        match (&self.bar, self.mode) {
            (Some(bar), _) => {
                bar.set_message(format!("{}/{}", job.gallery, job.file_name));
                bar.inc(1);
            }
            (None, Progress::Lines) => {
                let what = match outcome {
                    Outcome::Cached | Outcome::Planned => {
                        self.unchanged.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    Outcome::Built(took) => format!("built in {:.2}s", took.as_secs_f64()),
                    Outcome::Failed => "FAILED".to_string(),
                };
                eprintln!("image {n}/{}: {}/{} {what}", self.total, job.gallery, job.file_name);
            }
            _ => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        let unchanged = self.unchanged.into_inner();
        if unchanged > 0 {
            eprintln!("images: {unchanged} of {} from the cache or planned without encoding", self.total);
        }
    }
}

/// Runs the command line and maps the outcome to an exit code: 0 success, 1 invalid input or
/// failure (the message says which), 2 usage errors (from clap).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(InvalidInput(report)) = err.downcast_ref::<InvalidInput>() {
                eprintln!("{report}");
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}

pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Check { quick, themes } => check(&cli.galleries, &themes.themes_dir, quick),
        Command::Build(args) => build_command(&cli.galleries, args),
        Command::Links { json, out, production } => links(&cli.galleries, &out.out_dir, json, production),
        Command::Plan(args) => crate::plan::run_plan(&cli.galleries, &args),
        Command::Publish(args) => crate::publish::run_publish(&cli.galleries, &args).map(|_| ()),
        Command::Smoke(args) => crate::publish::run_smoke(&args),
        Command::Admin(cmd) => crate::cmd::admin::run(cmd),
    }
}

fn check(galleries: &Path, themes: &Path, quick: bool) -> Result<()> {
    let (project, mut warnings) = build::load(galleries, themes, !quick, build::now_unix())?;
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

fn build_command(galleries: &Path, args: BuildArgs) -> Result<()> {
    let opts = BuildOptions { production: args.production, ..args.paths.options(galleries) };
    let report = build::build(&opts)?;
    if !report.warnings.0.is_empty() {
        eprintln!("{}", report.warnings);
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

#[derive(serde::Serialize)]
struct LinkRow {
    gallery: String,
    link: String,
    label: String,
    url: String,
    token: String,
    policy: gatefold_contract::LinkPolicy,
    qr_svg: PathBuf,
    qr_png: PathBuf,
    card: PathBuf,
}

fn links(galleries: &Path, out: &Path, json: bool, production: bool) -> Result<()> {
    // Quick load: listing links must not wait for a full decode of every image. The theme is
    // not used here, so its name is not checked.
    let (project, _) = build::load_unthemed(galleries, false, build::now_unix())?;
    let (key, origin) = keys::signing_key(&build::project_root_of(galleries), production)?;
    let owner = out.join("owner");
    let rows: Vec<LinkRow> = project
        .galleries
        .iter()
        .flat_map(|g| {
            let owner = &owner;
            let base = &project.site.base_url;
            build::link_entries(g, &key).into_values().map(move |l| LinkRow {
                url: link_url(base, &l.token),
                qr_svg: owner.join(format!("qr/{}/{}.svg", g.id, l.name)),
                qr_png: owner.join(format!("qr/{}/{}.png", g.id, l.name)),
                card: owner.join(format!("cards/{}/{}.html", g.id, l.name)),
                gallery: g.id.clone(),
                link: l.name,
                label: l.label,
                token: l.token,
                policy: l.policy,
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    eprintln!("links signed with {origin}");
    for r in &rows {
        let p = &r.policy;
        let views = p.max_views.map_or("unlimited views".to_string(), |n| format!("{n} views"));
        let site = &project.site;
        let expires = p.expires.map_or("no expiry".to_string(), |e| format!("expires {}", e.describe(site.timezone.name(), &site.utc_offsets)));
        let download = if p.download.any() { "download on" } else { "download off" };
        let duration = p.view_seconds.map(|s| format!(", {s}s sessions")).unwrap_or_default();
        let disabled = if p.disabled { ", DISABLED" } else { "" };
        println!("{}/{} ({})\n  {}\n  {views}, {expires}, {download}{duration}{disabled}\n  QR: {}", r.gallery, r.link, r.label, r.url, r.qr_png.display());
    }
    Ok(())
}
