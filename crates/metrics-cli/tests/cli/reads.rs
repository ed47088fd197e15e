//! Reads never write (issue 12): every read command, on a damaged, an inconsistent, a missing
//! and a FIFO store, leaves the directory exactly as it was (same names, same bytes), the
//! lock file included; a FIFO is refused at once, never waited on.
#![expect(clippy::disallowed_methods, reason = "fixtures plant damaged files directly")]

use std::time::{Duration, Instant};

use crate::support::TestEnv;

const READS: &[&[&str]] = &[
    &["status"],
    &["status", "--json"],
    &["agents"],
    &["agent", "coding"],
    &["events"],
    &["sessions"],
    &["export", "--format", "csv"],
    &["export", "--format", "openmetrics"],
    &["check"],
];

/// Runs every read command and asserts the directory is unchanged; returns the exit codes.
fn check(env: &TestEnv) -> Vec<i32> {
    let before = env.listing();
    READS
        .iter()
        .map(|args| {
            let run = env.run(args);
            assert_eq!(env.listing(), before, "{args:?} changed the directory");
            run.code
        })
        .collect()
}

#[test]
fn reads_on_a_damaged_store_write_nothing() {
    let env = TestEnv::with_two_generations();
    std::fs::write(env.store(), b"{\"version\": 1, \"events\": [").unwrap();
    // The backup is shown (exit 0); check reports the damage (exit 3).
    assert_eq!(check(&env), [0, 0, 0, 0, 0, 0, 0, 0, 3]);
    std::fs::write(atomic_fs::backup_path(&env.store()), b"garbage").unwrap();
    // Nothing readable: exit 3, nothing reset.
    assert_eq!(check(&env), [3, 3, 3, 3, 3, 3, 3, 3, 3]);
}

#[test]
fn reads_on_an_inconsistent_store_write_nothing() {
    let env = TestEnv::with_sample();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.store()).unwrap()).unwrap();
    doc["agents"]["coding"]["failed_invocations"] = serde_json::json!(99);
    doc["events"][0].as_object_mut().unwrap().remove("ended_at");
    doc["events"][1]["input_tokens"] = serde_json::Value::Null;
    std::fs::write(env.store(), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    // Everything shows the data as it is; check lists the findings and exits 3.
    assert_eq!(check(&env), [0, 0, 0, 0, 0, 0, 0, 0, 3]);
    let findings = env.run(&["check"]).stdout;
    assert!(findings.contains("agents.coding.failed_invocations"), "{findings}");
    assert!(findings.contains("events[0].ended_at: is missing"), "{findings}");
}

#[test]
fn reads_on_a_missing_store_write_nothing() {
    let env = TestEnv::empty();
    assert_eq!(check(&env), [6, 6, 6, 6, 6, 6, 6, 6, 6], "check too: a deleted store is no store");
    assert!(env.listing().is_empty(), "not even a lock file");
}

#[test]
fn a_fifo_at_the_store_path_is_refused_at_once() {
    let env = TestEnv::empty();
    let made = std::process::Command::new("mkfifo").arg(env.store()).status().unwrap();
    assert!(made.success());
    for args in [&["status"][..], &["record", "event", "--agent", "a", "--status", "success"]] {
        let mut child = env.command(args).stderr(std::process::Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("{args:?} hung on a FIFO");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(!status.success(), "{args:?}");
    }
    let run = env.run(&["status"]);
    assert!(run.stderr.contains("is not a regular file"), "{}", run.stderr);
}
