//! `agent-metrics`: the command agent harnesses call to record what their agents did, and
//! people call to see how the fleet is doing.
//!
//! `main` parses the command line, runs one command, and turns its result into output and an
//! exit code. Commands live in `commands/`; `error.rs` owns the messages and exit codes.

mod cli;
mod clock;
mod commands;
mod completions;
mod error;
mod locate;
mod output;
mod style;

use std::process::ExitCode;

use clap::Parser;

use crate::error::{CliError, is_broken_pipe};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let mut context = commands::Context::new(&cli.global);
    let result = commands::run(&cli.command, &mut context);
    let (stdout, failure) = match result {
        Ok(stdout) => (stdout, None),
        Err(CliError::CheckFailed { path, summary, report }) => {
            (report, Some(CliError::CheckFailed { path, summary, report: String::new() }))
        }
        Err(err) => (String::new(), Some(err)),
    };
    let emitted = output::emit(&stdout, &context.notes);
    let code = failure.map_or(ExitCode::SUCCESS, |err| fail(&err, &context));
    match emitted {
        Ok(()) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        // A full disk or a closed descriptor: say so (the output is incomplete).
        Err(err) => {
            output::report_error(&CliError::Stdout(err).to_string());
            ExitCode::from(error::ExitClass::Io as u8)
        }
    }
}

fn fail(err: &CliError, context: &commands::Context) -> ExitCode {
    let mut message = err.to_string();
    if matches!(err, CliError::Store(_))
        && !message.contains(&context.store_path.display().to_string())
    {
        message = format!("{message} (store: {})", context.store_path.display());
    }
    output::report_error(&message);
    ExitCode::from(err.exit_class() as u8)
}
