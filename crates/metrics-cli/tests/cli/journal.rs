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

/// The journal's bytes with its last whole `cut` records removed and `partial` bytes of the
/// next one left, as a truncation would.
fn cut_journal(env: &TestEnv, whole_records_removed: usize, partial: usize) {
    let bytes = std::fs::read(journal(env)).unwrap();
    let ends: Vec<usize> =
        bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect();
    let keep = ends[ends.len() - 1 - whole_records_removed];
    let end = (keep + partial).min(bytes.len());
    std::fs::write(journal(env), &bytes[..end]).unwrap();
}

fn files_named(env: &TestEnv, infix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(infix))
        .collect();
    names.sort();
    names
}

#[test]
fn a_journal_cut_mid_entry_is_damage_and_the_cut_bytes_are_kept() {
    let env = TestEnv::empty();
    ok(&env, &["init", "--journal"]);
    for id in ["e1", "e2", "e3", "e4", "e5"] {
        record(&env, "coding", id);
    }
    // Entry 5 gone and entry 4 cut in the middle.
    cut_journal(&env, 1, 30);
    let check = env.run(&["check"]);
    assert_eq!(check.code, 3, "{}", check.snapshot());
    assert!(check.stdout.contains("were cut from it"), "{}", check.snapshot());
    let status = env.run(&["status", "--json"]);
    assert!(status.stderr.contains("were cut from it"), "{}", status.snapshot());
    let run = record(&env, "coding", "e6");
    assert!(run.stderr.contains("kept as"), "{}", run.snapshot());
    let torn = files_named(&env, ".journal.torn-");
    assert_eq!(torn.len(), 1, "{:?}", files_named(&env, "journal"));
    let kept = std::fs::read_to_string(env.dir().join(&torn[0])).unwrap();
    assert!(kept.starts_with("5 ") || kept.contains("e4"), "{kept:?}");
    assert_eq!(files_named(&env, ".journal.corrupt-").len(), 1, "the whole journal kept aside too");
    // Once repaired and reported, the store is sound again; e6 is in.
    assert_eq!(env.run(&["check"]).code, 0, "{}", env.run(&["check"]).snapshot());
    let ids = ok(&env, &["events", "--json"]);
    let ids: Vec<&str> =
        ids["events"].as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"e6") && ids.contains(&"e3"), "{ids:?}");
}

#[test]
fn a_journal_cut_at_an_entry_boundary_is_damage_too() {
    let env = TestEnv::empty();
    ok(&env, &["init", "--journal"]);
    for id in ["e1", "e2", "e3", "e4", "e5"] {
        record(&env, "coding", id);
    }
    cut_journal(&env, 2, 0);
    let check = env.run(&["check"]);
    assert_eq!(check.code, 3, "{}", check.snapshot());
    assert!(check.stdout.contains("entries 4 to 5 were acknowledged"), "{}", check.snapshot());
    // A checkpoint repairs it (keeping the journal aside and saying so); the loss it
    // reported is then on record, and the store is sound again.
    let checkpoint = env.run(&["checkpoint"]);
    assert_eq!(checkpoint.code, 0, "{}", checkpoint.snapshot());
    assert!(checkpoint.stderr.contains("were cut from it"), "{}", checkpoint.snapshot());
    assert_eq!(files_named(&env, ".journal.corrupt-").len(), 1);
    let check = env.run(&["check"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
}

#[test]
fn a_torn_last_write_is_not_damage_but_its_bytes_are_kept_by_the_next_write() {
    let env = TestEnv::empty();
    ok(&env, &["init", "--journal"]);
    for id in ["e1", "e2"] {
        record(&env, "coding", id);
    }
    // What a crash mid-append leaves: part of a record that was never acknowledged.
    let mut bytes = std::fs::read(journal(&env)).unwrap();
    bytes.extend_from_slice(b"4 0badc0de {\"events\":{\"at\":");
    std::fs::write(journal(&env), bytes).unwrap();
    let check = env.run(&["check"]);
    assert_eq!(check.code, 0, "{}", check.snapshot());
    assert!(check.stdout.contains("unfinished entry ignored"), "{}", check.snapshot());
    record(&env, "coding", "e3");
    let torn = files_named(&env, ".journal.torn-");
    assert_eq!(torn.len(), 1);
    assert_eq!(
        std::fs::read(env.dir().join(&torn[0])).unwrap(),
        b"4 0badc0de {\"events\":{\"at\":"
    );
    assert_eq!(files_named(&env, ".journal.corrupt-").len(), 0);
}
