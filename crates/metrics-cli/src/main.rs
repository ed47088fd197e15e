//! `agent-metrics`: the command agent harnesses call to record events and people call to see
//! the dashboard.
//!
//! Status: the commands are built in issue 5; until then the binary only states that, so that
//! nobody mistakes it for a working front end.

use std::process::ExitCode;

use metrics_store as _;

#[expect(clippy::print_stderr, reason = "the binary owns what the user sees")]
fn main() -> ExitCode {
    eprintln!("agent-metrics: no commands yet; the command-line front end is not built (issue 5)");
    ExitCode::from(2)
}
