//! `gatefold`: parse the command line, run the command, report its error once.

mod cmd;

use clap::Parser;
use gatefold::diagnostics::InvalidInput;
use std::process::ExitCode;

/// Exit codes: 0 success, 1 invalid input or failure (the message says which), 2 usage errors
/// (from clap).
fn main() -> ExitCode {
    match cmd::run(cmd::Cli::parse()) {
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
