//! `status --watch` in a real pseudo-terminal (Python's `pty`, stdlib only): it draws, it
//! redraws when another process writes, `q` quits with exit 0, and the terminal is restored.

use std::process::Command;

use crate::support::TestEnv;

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/watch_in_a_pty.py");

#[test]
#[cfg_attr(no_python3, ignore = "python3 is not installed: its pty module drives the terminal")]
fn status_watch_redraws_on_a_write_and_restores_the_terminal() {
    let env = TestEnv::with_sample();
    let output = Command::new("python3")
        .arg(DRIVER)
        .arg(env!("CARGO_BIN_EXE_agent-metrics"))
        .current_dir(env.dir())
        .env_remove("AGENT_METRICS_FILE")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for step in [
        "first_frame",
        "raw_mode",
        "redrawn_with_the_write",
        "entered_alternate_screen",
        "left_alternate_screen",
    ] {
        assert_eq!(report[step], true, "{step}: {report}");
    }
    assert_eq!(report["exit_code"], 0, "{report}");
    assert!(report["redraw_seconds"].as_f64().unwrap() < 2.0, "{report}");
}

#[test]
fn status_watch_without_a_terminal_is_a_usage_error() {
    let env = TestEnv::with_sample();
    let run = env.run(&["status", "--watch"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
}
