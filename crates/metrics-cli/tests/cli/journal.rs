//! Journal mode from the command line (issue 15): `init --journal`, `config`, `checkpoint`,
//! reads that apply the journal, and `check` on a damaged journal.
#![expect(clippy::disallowed_methods, reason = "tests read and damage the files directly")]

use crate::support::TestEnv;

fn ok(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let run = env.run(args);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    if args.contains(&"--json") { run.json() } else { serde_json::Value::Null }
}

/// `record event` of a successful event `id` by `agent`, which must succeed.
fn record(env: &TestEnv, agent: &str, id: &str) -> crate::support::Run {
    let run =
        env.run(&["record", "event", "--agent", agent, "--status", "success", "--event-id", id]);
    assert_eq!(run.code, 0, "{}", run.snapshot());
    run
}

fn journal(env: &TestEnv) -> std::path::PathBuf {
    env.dir().join(".agent_metrics.journal")
}

#[test]
fn a_journal_mode_store_from_init_to_whole_file_again() {
    let env = TestEnv::empty();
    ok(&env, &["init", "--journal", "--project", "fleet"]);
    assert!(journal(&env).exists());
    for (id, agent) in [("e1", "coding"), ("e2", "review")] {
        record(&env, agent, id);
    }
    let config = ok(&env, &["config", "--json"]);
    assert_eq!(config["mode"], "journal");
    assert_eq!(config["pending_entries"], 2);
    let status = ok(&env, &["status", "--json"]);
    assert_eq!(status["totals"]["events_stored"], 2, "{status}");
    assert_eq!(ok(&env, &["check", "--json"])["journal"]["pending_entries"], 2);

    assert_eq!(ok(&env, &["checkpoint", "--json"])["folded"], 2);
    assert_eq!(ok(&env, &["checkpoint", "--json"])["folded"], 0);
    assert_eq!(ok(&env, &["config", "--json"])["pending_entries"], 0);

    ok(&env, &["config", "--journal", "off"]);
    assert!(!journal(&env).exists(), "the journal is removed once folded");
    let config = ok(&env, &["config", "--json"]);
    assert_eq!(config["mode"], "whole-file");
    assert_eq!(ok(&env, &["status", "--json"])["totals"]["events_stored"], 2);
}

#[test]
fn a_damaged_journal_fails_check_warns_readers_and_is_kept_aside_by_the_next_write() {
    let env = TestEnv::empty();
    ok(&env, &["init", "--journal"]);
    for id in ["a", "b", "c"] {
        record(&env, "coding", id);
    }
    let text = std::fs::read_to_string(journal(&env)).unwrap();
    std::fs::write(journal(&env), text.replacen("\"b\"", "\"B\"", 1)).unwrap();

    let check = env.run(&["check"]);
    assert_eq!(check.code, 3, "{}", check.snapshot());
    assert!(
        check.stdout.contains("journal") && check.stdout.contains("damaged"),
        "{}",
        check.snapshot()
    );
    assert!(check.stdout.contains("checksum"), "{}", check.snapshot());

    let status = env.run(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}", status.snapshot());
    assert_eq!(status.json()["totals"]["events_stored"], 2);
    assert!(
        status.stderr.contains("warning") && status.stderr.contains("checksum"),
        "{}",
        status.snapshot()
    );

    let run = record(&env, "coding", "d");
    assert!(
        run.stderr.contains("kept as"),
        "the writer says where the damaged journal went: {}",
        run.snapshot()
    );
    let kept: Vec<_> = std::fs::read_dir(env.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".agent_metrics.journal.corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(env.run(&["check"]).code, 0);
    assert_eq!(ok(&env, &["status", "--json"])["totals"]["events_stored"], 3);
}
