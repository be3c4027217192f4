//! The `gatefold` command line: one file per command holds its arguments (clap) and calls the
//! library; the library knows nothing of them.

mod admin;
mod args;
mod build;
mod check;
mod links;
mod plan;
mod progress;
mod publish;
mod smoke;
mod trace;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "gatefold", version, about = "Build gated product-image galleries from folders in git", long_about = None)]
pub struct Cli {
    /// The galleries directory (holds site.yaml and one folder per gallery).
    #[arg(long, global = true, default_value = "galleries", env = "GATEFOLD_GALLERIES")]
    galleries: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate site.yaml, every gallery.yaml and every image; report all problems at once.
    Check(check::CheckArgs),
    /// Build dist/: images, pages, QR codes, owner kits and the manifest.
    Build(build::BuildArgs),
    /// List every link: gallery, link, label, URL, policy and QR files.
    Links(links::LinksArgs),
    /// Show what publishing would change for recipients (links, policies, images, URLs).
    Plan(plan::PlanArgs),
    /// Build with the production key, encode and upload the images R2 lacks, deploy the worker,
    /// smoke-test every link (`--local --persist-to DIR`: into wrangler dev's local R2 only).
    Publish(publish::PublishArgs),
    /// Check that every published link answers with its page or its intended denial (HEAD only: no views used).
    Smoke(smoke::SmokeArgs),
    /// Name the image a leaked file shows and the link whose marked copy it was (exit 0), or
    /// say it is ours without a readable mark (exit 3) or not ours (exit 4).
    Trace(trace::TraceArgs),
    #[command(flatten)]
    Admin(admin::AdminCommand),
}

/// A command that printed its answer and ends with this exit status (`gatefold trace`'s 3
/// and 4); `main` exits with it and prints nothing more.
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<()> {
    let galleries = &cli.galleries;
    match cli.command {
        Command::Check(args) => check::run(galleries, args),
        Command::Build(args) => build::run(galleries, args),
        Command::Links(args) => links::run(galleries, args),
        Command::Plan(args) => plan::run(galleries, args),
        Command::Publish(args) => publish::run(galleries, args),
        Command::Smoke(args) => smoke::run(args),
        Command::Trace(args) => trace::run(galleries, args),
        Command::Admin(cmd) => admin::run(cmd),
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
