//! `gatefold`: parse the command line, run the command, report its error once.

mod cmd;

use clap::Parser;
use gatefold::diagnostics::InvalidInput;
use std::process::ExitCode;

/// Exit codes: 0 success, 1 invalid input or failure (the message says which), 2 usage errors
/// (from clap), and a command's own verdicts (`trace`: 3 and 4).
fn main() -> ExitCode {
    match cmd::run(cmd::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(cmd::Exit(code)) = err.downcast_ref::<cmd::Exit>() {
                return ExitCode::from(*code);
            }
            if let Some(InvalidInput(report)) = err.downcast_ref::<InvalidInput>() {
                eprintln!("{report}");
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::FAILURE
        }
    }
}
