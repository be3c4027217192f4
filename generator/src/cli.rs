//! The `gatefold` command line: parse, call one library function, report.

use crate::build::{self, BuildOptions};
use crate::diagnostics::InvalidInput;
use crate::images::Progress;
use crate::keys;
use anyhow::Result;
use clap::{Parser, Subcommand};
use gatefold_contract::manifest::link_url;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
    },
    /// Build dist/: images, pages, QR codes, owner kits and the manifest.
    Build(BuildArgs),
    /// List every link: gallery, link, label, URL, policy and QR files.
    Links {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Where the built QR codes are looked for.
        #[arg(long, default_value = "dist")]
        out: PathBuf,
        /// List links as a production build would (SIGNING_KEY from the environment).
        #[arg(long)]
        production: bool,
    },
    /// Show what publishing would change for recipients (links, policies, images, URLs).
    Plan(crate::plan::PlanArgs),
    /// Build with the production key, upload originals to R2, deploy the worker, smoke-test every link.
    Publish(crate::publish::PublishArgs),
    /// Check that every published link answers with its page or its intended denial (HEAD only: no views used).
    Smoke(crate::publish::SmokeArgs),
    #[command(flatten)]
    Admin(crate::admin::AdminCommand),
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// Output directory.
    #[arg(long, default_value = "dist")]
    pub out: PathBuf,
    /// Themes directory.
    #[arg(long, default_value = "themes")]
    pub themes: PathBuf,
    /// Image cache directory (default: .gatefold-cache next to the galleries directory).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Production build: requires SIGNING_KEY in the environment.
    #[arg(long)]
    pub production: bool,
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
        Command::Check { quick } => check(&cli.galleries, quick),
        Command::Build(args) => build_command(&cli.galleries, args),
        Command::Links { json, out, production } => links(&cli.galleries, &out, json, production),
        Command::Plan(args) => crate::plan::run_plan(&cli.galleries, &args),
        Command::Publish(args) => crate::publish::run_publish(&cli.galleries, &args),
        Command::Smoke(args) => crate::publish::run_smoke(&args),
        Command::Admin(cmd) => crate::admin::run(cmd),
    }
}

fn check(galleries: &Path, quick: bool) -> Result<()> {
    let (project, warnings) = build::load(galleries, !quick, build::now_unix())?;
    if !warnings.0.is_empty() {
        eprintln!("{warnings}");
    }
    let links: usize = project.galleries.iter().map(|g| g.links.len()).sum();
    let images: usize = project.galleries.iter().map(|g| g.images.len()).sum();
    println!("ok: {} galleries, {images} images, {links} links", project.galleries.len());
    Ok(())
}

fn build_command(galleries: &Path, args: BuildArgs) -> Result<()> {
    let root = build::project_root_of(galleries);
    let opts = BuildOptions {
        galleries: galleries.to_path_buf(),
        themes: args.themes,
        out: args.out,
        cache: args.cache.unwrap_or_else(|| root.join(".gatefold-cache")),
        production: args.production,
        progress: Progress::auto(),
        now: None,
    };
    let report = build::build(&opts)?;
    if !report.warnings.0.is_empty() {
        eprintln!("{}", report.warnings);
    }
    let links: usize = report.manifest.galleries.values().map(|g| g.links.len()).sum();
    println!(
        "built {} galleries, {} images, {links} links into {} in {:.1}s (key: {})",
        report.manifest.galleries.len(),
        report.images,
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
    // Quick load: listing links must not wait for a full decode of every image.
    let (project, _) = build::load(galleries, false, build::now_unix())?;
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
        let expires = p.expires_at.map_or("no expiry".to_string(), |t| format!("expires {}", describe_instant(t, project.site.timezone)));
        let download = if p.download { "download on" } else { "download off" };
        let duration = p.view_seconds.map(|s| format!(", {s}s sessions")).unwrap_or_default();
        let disabled = if p.disabled { ", DISABLED" } else { "" };
        println!("{}/{} ({})\n  {}\n  {views}, {expires}, {download}{duration}{disabled}\n  QR: {}", r.gallery, r.link, r.label, r.url, r.qr_png.display());
    }
    Ok(())
}

/// An expiry as owners wrote it: a date-only expiry is stored as the next local midnight, and is
/// shown as "end of <date>" rather than as the following day.
pub fn describe_instant(unix: i64, tz: chrono_tz::Tz) -> String {
    use chrono::Timelike;
    let Some(utc) = chrono::DateTime::from_timestamp(unix, 0) else { return unix.to_string() };
    let local = utc.with_timezone(&tz);
    if local.num_seconds_from_midnight() == 0 {
        let day = (local - chrono::Duration::days(1)).format("%Y-%m-%d");
        format!("end of {day} ({})", tz.name())
    } else {
        format!("{} ({})", local.format("%Y-%m-%d %H:%M"), tz.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_only_expiries_read_as_the_end_of_that_day() {
        let tz = chrono_tz::Asia::Shanghai;
        // 2026-12-06 00:00 in Shanghai.
        assert_eq!(describe_instant(1_796_486_400, tz), "end of 2026-12-05 (Asia/Shanghai)");
        assert_eq!(describe_instant(1_796_486_400 + 18 * 3600, tz), "2026-12-06 18:00 (Asia/Shanghai)");
    }
}
