//! `cargo xtask`: the workspace's developer tasks, written in Rust so they run wherever cargo
//! does.
//!
//! Invoked as `cargo xtask <task>` through the alias in `.cargo/config.toml`. `main` only parses
//! the task name and dispatches to one module per task; `cargo xtask --help` lists them.
//! The tidy checks live in `tidy.rs` as `#[test]` functions, so plain `cargo test` enforces them.

mod ci;
mod cmd;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <task> [options]

Tasks:
  ci [--skip STEP]...   run every check CI runs: fmt, clippy, test, doc, deny
                        (steps: fmt, clippy, test, doc, deny)
  help                  show this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task {other:?}; see `cargo xtask --help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report_error(&message);
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stdout, reason = "xtask is a command-line tool")]
fn print_help() {
    print!("{HELP}");
}

#[expect(clippy::print_stderr, reason = "xtask is a command-line tool")]
fn report_error(message: &str) {
    eprintln!("xtask: {message}");
}
