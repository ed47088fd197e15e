//! Bad input and faults: each with its exit code and message, and nothing lost.
#![expect(clippy::disallowed_methods, reason = "fixtures damage the store directly")]

use std::time::Duration;

use insta::assert_snapshot;

use crate::support::TestEnv;

#[test]
fn unknown_status_is_a_usage_error() {
    let env = TestEnv::empty();
    let run = env.run(&["record", "event", "--agent", "a", "--status", "exploded"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid value 'exploded' for '--status"), "{}", run.stderr);
    assert!(!env.store().exists(), "nothing was written");
}

#[test]
fn negative_tokens_are_a_usage_error() {
    let env = TestEnv::empty();
    let run = env.run(&[
        "record",
        "event",
        "--agent",
        "a",
        "--status",
        "success",
        "--input-tokens",
        "-5",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("invalid value '-5' for '--input-tokens"), "{}", run.stderr);
    assert!(!env.store().exists());
    let run =
        env.run(&["record", "event", "--agent", "a", "--status", "success", "--cost", "-0.5"]);
    assert_eq!(run.code, 2, "a bad flag value is a usage error, as for tokens: {}", run.stderr);
    assert!(
        run.stderr.contains("estimated_cost_usd: must not be negative (found -0.5)"),
        "{}",
        run.stderr
    );
    assert!(!env.store().exists());
}

#[test]
fn malformed_json_on_stdin_records_nothing() {
    let env = TestEnv::with_sample();
    let before = std::fs::read(env.store()).unwrap();
    let input = "{\"agent_name\": \"a\", \"status\": \"success\"}\n{\"agent_name\": \"b\", \"status\": \"succes\"}\n";
    assert_snapshot!(env.run_with_stdin(&["record", "event", "--json", "-"], input).snapshot(), @r#"
    --- stderr ---
    agent-metrics: error: invalid input: line 2: status: unknown status "succes" (expected success, error, timeout or blocked); nothing was recorded
    --- exit 3 ---
    "#);
    assert_snapshot!(env.run_with_stdin(&["record", "event", "--json", "-"], "{not json").snapshot(), @"
    --- stderr ---
    agent-metrics: error: invalid input: the event: key must be a string at line 1 column 2; nothing was recorded
    --- exit 3 ---
    ");
    assert_snapshot!(env.run_with_stdin(&["record", "event", "--json", "-"], r#"{"agent": "a", "status": "success", "input_tokens": -1}"#).snapshot(), @"
    --- stderr ---
    agent-metrics: error: invalid input: the event: invalid value: integer `-1`, expected u64 at line 1 column 54; nothing was recorded
    --- exit 3 ---
    ");
    assert_eq!(std::fs::read(env.store()).unwrap(), before, "nothing was recorded");
}

#[test]
fn a_read_command_without_a_store() {
    let env = TestEnv::empty();
    assert_snapshot!(env.run(&["status"]).snapshot(), @"
    --- stderr ---
    agent-metrics: error: no metrics store at ./.agent_metrics.json (run `agent-metrics init`, or record an event, first)
    --- exit 6 ---
    ");
    assert!(!env.store().exists(), "reading creates nothing");
}

#[test]
fn a_corrupt_store_is_shown_from_its_backup_until_recovered() {
    let env = TestEnv::with_two_generations();
    std::fs::write(env.store(), b"{\"version\": 1, \"events\": [trunc").unwrap();
    let listing = env.listing();
    assert_snapshot!(env.run(&["check"]).snapshot(), @"
    store   ./.agent_metrics.json: malformed: not a valid agent-metrics document at events[0]: expected ident at line 1 column 30
    backup  ./.agent_metrics.json.bak: sound (5 events, 2 sessions, 3 agents)
    lock    ./.agent_metrics.lock: free
    --- stderr ---
    agent-metrics: error: ./.agent_metrics.json is not sound: store malformed, backup sound
    --- exit 3 ---
    ");
    let status = env.run(&["status", "--json"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert_snapshot!(status.stderr, @"agent-metrics: warning: ./.agent_metrics.json cannot be read (not a valid agent-metrics document at events[0]: expected ident at line 1 column 30); showing its backup ./.agent_metrics.json.bak (the previous generation, one write older); run `agent-metrics recover` to restore it");
    assert_eq!(
        status.json()["latest_events"][0]["event_id"],
        "3f1c2b9e-0005",
        "the backup (the sample) is shown"
    );
    assert_eq!(env.listing(), listing, "reads never write: same files, same bytes");
    let recover = env.run(&["recover"]);
    assert_eq!(recover.code, 0, "{}", recover.stderr);
    assert_eq!(env.run(&["check"]).code, 0);
    let kept: Vec<_> = std::fs::read_dir(env.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.contains(".corrupt-"))
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        std::fs::read(env.dir().join(&kept[0])).unwrap(),
        b"{\"version\": 1, \"events\": [trunc"
    );
}

#[test]
fn recover_on_a_sound_store_needs_force() {
    let env = TestEnv::with_two_generations();
    let listing = env.listing();
    let refused = env.run(&["recover"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert_snapshot!(refused.stderr, @"agent-metrics: error: ./.agent_metrics.json loads fine; restoring its backup would discard 1 event(s) and 0 session(s) not in the backup, and every other change of its latest write (the file would be kept aside; use --force to do it anyway)");
    assert_eq!(env.listing(), listing, "nothing changed");
    let forced = env.run(&["recover", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(env.listing().iter().any(|(name, _)| name.contains(".replaced-")));
}

#[test]
fn a_locked_store_times_out() {
    let env = TestEnv::with_sample();
    let lock_path = env.dir().join(".agent_metrics.lock");
    let _held = atomic_fs::FileLock::lock(&lock_path, Duration::from_secs(1)).unwrap();
    let run = env.run(&[
        "--lock-timeout",
        "0.2",
        "record",
        "event",
        "--agent",
        "a",
        "--status",
        "success",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_snapshot!(run.stderr.replace(char::is_numeric, "N"), @"agent-metrics: error: timed out after N.Ns waiting for the lock on ./.agent_metrics.json (another writer holds it; retry, or raise the lock timeout)");
    assert_eq!(env.run(&["status"]).code, 0, "reads need no lock");
}

#[test]
fn an_unwritable_directory_is_an_io_error() {
    let env = TestEnv::empty();
    let run =
        env.run(&["--dir", "/proc/self", "record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.starts_with("agent-metrics: error: "), "{}", run.stderr);
    assert!(
        run.stderr.contains("/proc/self/.agent_metrics.json"),
        "the message names the store: {}",
        run.stderr
    );
}

#[test]
fn a_newer_format_is_never_rewritten() {
    let env = TestEnv::empty();
    let newer = br#"{"version": 9, "project_name": "future", "created_at": null, "updated_at": null, "total_sessions": 0, "total_tokens": 0, "total_cost_usd": 0.0, "total_duration_seconds": 0.0, "agents": {}, "events": [], "sessions": []}"#;
    std::fs::write(env.store(), newer).unwrap();
    assert_eq!(env.run(&["status"]).code, 0);
    let run = env.run(&["record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("format version 9"), "{}", run.stderr);
    assert_eq!(std::fs::read(env.store()).unwrap(), newer);
}

#[test]
fn store_location_precedence() {
    let env = TestEnv::empty();
    let sub = env.dir().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let file = env.dir().join("named.json");
    let record = |extra: &[&str], env_file: Option<&std::path::Path>| {
        let mut args = extra.to_vec();
        args.extend(["-v", "record", "event", "--agent", "a", "--status", "success"]);
        let mut command = env.command(&args);
        if let Some(path) = env_file {
            command.env("AGENT_METRICS_FILE", path);
        }
        String::from_utf8(command.output().unwrap().stderr).unwrap()
    };
    let env_file = env.dir().join("from-env.json");
    assert!(record(&["--file", file.to_str().unwrap()], Some(&env_file)).contains("named.json"));
    assert!(record(&["--dir", sub.to_str().unwrap()], Some(&env_file)).contains("from-env.json"));
    assert!(record(&["--dir", sub.to_str().unwrap()], None).contains("sub/.agent_metrics.json"));
    assert!(record(&[], None).contains("using ./.agent_metrics.json"));
}

#[test]
fn store_strings_never_reach_the_terminal_raw() {
    // Issue 16: an agent named with an escape sequence set the terminal title through
    // `agents`; a newline broke the tables.
    let env = TestEnv::empty();
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[31mRED\nsecond line";
    let line = serde_json::json!({"agent_name": hostile, "status": "error", "error_message": "boom\u{1b}[2J"});
    let run = env.run_with_stdin(&["record", "event", "--json", "-"], &line.to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    for args in [&["status"][..], &["agents"], &["events"], &["agent", hostile], &["check"]] {
        let run = env.run(args);
        let raw = run.stdout.chars().chain(run.stderr.chars());
        assert!(!raw.clone().any(|c| c.is_control() && c != '\n'), "{args:?}: {:?}", run.stdout);
        assert!(!run.stdout.contains("second line\n") || !run.stdout.contains("RED\n"), "{args:?}");
    }
    assert!(env.run(&["agents"]).stdout.contains(r"\u{1b}"), "shown escaped");
    let unknown = env.run(&["agent", "no\u{1b}[31mbody"]);
    assert!(!unknown.stderr.contains('\u{1b}'), "{}", unknown.stderr);
}

#[test]
fn bidi_overrides_in_store_strings_never_reach_the_terminal_raw() {
    // Issue 24: U+202E made a name display reversed (or pass for another).
    let env = TestEnv::empty();
    let spoof = "\u{202e}nimda\u{202c}-\u{2067}x\u{2069}";
    let line =
        serde_json::json!({"agent_name": spoof, "status": "error", "ticket_key": "AI\u{200f}-1"});
    let run = env.run_with_stdin(&["record", "event", "--json", "-"], &line.to_string());
    assert_eq!(run.code, 0, "{}", run.stderr);
    for args in
        [&["status"][..], &["agents"], &["events"], &["agent", spoof], &["ticket", "AI\u{200f}-1"]]
    {
        let run = env.run(args);
        let shown = format!("{}{}", run.stdout, run.stderr);
        let format_chars = ['\u{202e}', '\u{202c}', '\u{2067}', '\u{2069}', '\u{200f}'];
        assert!(!shown.contains(format_chars), "{args:?}: {shown:?}");
    }
    assert!(env.run(&["agents"]).stdout.contains(r"\u{202e}nim"), "shown escaped");
}

#[test]
fn a_byte_order_mark_on_stdin_is_not_an_error() {
    let env = TestEnv::empty();
    let line = "\u{feff}{\"event_id\": \"bom\", \"agent_name\": \"a\", \"status\": \"success\"}";
    let run = env.run_with_stdin(&["record", "event", "--json", "-"], line);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn names_with_nothing_visible_are_refused() {
    let env = TestEnv::empty();
    for name in ["   ", "\t\n", "\u{1b}\u{7}"] {
        let run = env.run(&["record", "event", "--agent", name, "--status", "success"]);
        assert_eq!(run.code, 2, "{name:?}: a bad flag value is a usage error");
        assert!(run.stderr.contains("only whitespace or control characters"), "{}", run.stderr);
    }
    assert!(!env.store().exists(), "nothing was written");
}

#[test]
fn a_full_output_is_an_error_with_a_message() {
    let env = TestEnv::with_sample();
    let full = std::fs::File::options().write(true).open("/dev/full").unwrap();
    let output = env.command(&["status"]).stdout(full).output().unwrap();
    assert_eq!(output.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write standard output"), "{stderr}");
}

/// Issue 16: bad UTF-8 is invalid data (3), not an I/O error (5); `record stream` reports
/// the line and goes on.
#[test]
fn input_that_is_not_utf8_is_invalid_data_and_the_stream_goes_on() {
    let env = TestEnv::with_sample();
    let before = std::fs::read(env.store()).unwrap();
    let run = env.run_with_stdin_bytes(
        &["record", "event", "--json", "-"],
        b"{\"agent\": \"\xff\", \"status\": \"success\"}",
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("standard input is not UTF-8 (at byte 11)"), "{}", run.stderr);
    assert_eq!(std::fs::read(env.store()).unwrap(), before, "nothing was recorded");
    let lines = b"{\"event_id\": \"u1\", \"agent\": \"a\", \"status\": \"success\"}\n\xff\xfe\n{\"event_id\": \"u2\", \"agent\": \"a\", \"status\": \"success\"}\n";
    let run = env.run_with_stdin_bytes(&["record", "stream"], lines);
    assert_eq!(run.stdout, "ok u1\ninvalid line 2: not UTF-8 (at byte 0)\nok u2\n");
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn bad_session_flags_are_usage_errors() {
    let env = TestEnv::with_sample();
    let args =
        ["record", "session", "--session", "s-9", "--type", "initializer", "--status", "complete"];
    let run = env.run(&[&args[..], &["--cost", "-1"]].concat());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--cost must be a non-negative number"), "{}", run.stderr);
    let run = env.run(&[&args[..], &["--tokens", "-5"]].concat());
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = env.run(&["record", "event", "--json", "-", "--agent", "a"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be combined with --agent"), "{}", run.stderr);
}

/// Issue 16: `record event` prints only the id, so scripts need no parsing; `--json` says
/// which ids were new.
#[test]
fn record_event_prints_only_the_id() {
    let env = TestEnv::with_sample();
    let run = env.run(&["record", "event", "--agent", "a", "--status", "success"]);
    assert_eq!(run.code, 0);
    let id = run.stdout.trim_end();
    assert_eq!(id.len(), 36, "a UUID and nothing else: {:?}", run.stdout);
    assert_eq!(run.stdout, format!("{id}\n"));
    let again = env.run(&[
        "record",
        "event",
        "--agent",
        "a",
        "--status",
        "success",
        "--event-id",
        id,
        "--json",
    ]);
    assert_eq!(again.json()["events"], serde_json::json!([{ "event_id": id, "recorded": false }]));
}
