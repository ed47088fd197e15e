//! Unit tests of every validation rule, each applied to the Python sample with one change.

use serde_json::{Value, json};

use crate::{DashboardState, Limits};

const SAMPLE: &[u8] = include_bytes!("../../tests/data/agent_metrics.sample.json");

/// Applies `corrupt` to the sample document and asserts the exact `path: message` lines.
fn check(corrupt: impl FnOnce(&mut Value), limits: Limits, expect: &[&str]) {
    let mut doc: Value = serde_json::from_slice(SAMPLE).unwrap();
    corrupt(&mut doc);
    let bytes = serde_json::to_vec(&doc).unwrap();
    let state = DashboardState::from_json_unvalidated(&bytes).unwrap();
    let found: Vec<String> = match state.validate(&limits) {
        Ok(()) => Vec::new(),
        Err(err) => err.violations().iter().map(ToString::to_string).collect(),
    };
    assert_eq!(found, expect);
}

fn check_default(corrupt: impl FnOnce(&mut Value), expect: &[&str]) {
    check(corrupt, Limits::DEFAULT, expect);
}

#[test]
fn sample_is_valid() {
    check_default(|_| {}, &[]);
}

#[test]
fn negative_counts_and_amounts() {
    check_default(
        |doc| {
            doc["events"][3]["input_tokens"] = json!(-1);
            doc["agents"]["github"]["xp"] = json!(-5);
            doc["total_cost_usd"] = json!(-0.5);
            doc["sessions"][0]["total_tokens"] = json!(-2);
        },
        &[
            "total_cost_usd: must not be negative (found -0.5)",
            "agents.github.xp: must not be negative (found -5)",
            "events[3].input_tokens: must not be negative (found -1)",
            "events[3].total_tokens: is 3300 but input_tokens + output_tokens is -1 + 800",
            "sessions[0].total_tokens: must not be negative (found -2)",
        ],
    );
}

#[test]
fn broken_sums() {
    check_default(
        |doc| {
            doc["agents"]["coding"]["failed_invocations"] = json!(2);
            doc["events"][1]["total_tokens"] = json!(3001);
        },
        &[
            "agents.coding.failed_invocations: is 2 but successful (2) + failed must equal total (3)",
            "events[1].total_tokens: is 3001 but input_tokens + output_tokens is 2000 + 1000",
        ],
    );
}

#[test]
fn total_tokens_alone_is_trusted_when_the_counts_are_absent() {
    check_default(
        |doc| {
            let event = doc["events"][1].as_object_mut().unwrap();
            event.remove("input_tokens");
            event.remove("output_tokens");
            event["total_tokens"] = json!(99);
        },
        &[],
    );
}

#[test]
fn time_running_backwards() {
    check_default(
        |doc| {
            doc["events"][0]["ended_at"] = json!("2026-02-14T17:09:59Z");
            doc["sessions"][1]["ended_at"] = json!("2026-02-14T17:00:00+00:00");
        },
        &[
            "events[0].ended_at: 2026-02-14T17:09:59Z is before started_at 2026-02-14T17:10:00+00:00",
            "sessions[1].ended_at: 2026-02-14T17:00:00+00:00 is before started_at 2026-02-14T17:43:40+00:00",
        ],
    );
}

#[test]
fn duplicate_ids() {
    check_default(
        |doc| {
            doc["events"][4]["event_id"] = json!("3f1c2b9e-0002");
            doc["sessions"][1]["session_id"] = json!("sess-0001");
        },
        &[
            "events[4].event_id: duplicates events[1].event_id",
            "sessions[1].session_id: duplicates sessions[0].session_id",
        ],
    );
}

#[test]
fn more_than_the_limits() {
    check(
        |_| {},
        Limits { max_events: 4, max_sessions: 1 },
        &[
            "events: holds 5 events, more than the limit of 4",
            "sessions: holds 2 sessions, more than the limit of 1",
        ],
    );
}

#[test]
fn profile_under_the_wrong_key() {
    check_default(
        |doc| doc["agents"]["linear"]["agent_name"] = json!("jira"),
        &[r#"agents.linear.agent_name: is "jira" but the profile is keyed "linear""#],
    );
    check_default(
        |doc| {
            let profile = doc["agents"].as_object_mut().unwrap().remove("linear").unwrap();
            doc["agents"]["linear agent"] = profile;
        },
        &[
            r#"agents["linear agent"].agent_name: is "linear" but the profile is keyed "linear agent""#,
        ],
    );
}

#[test]
fn streaks_and_session_counts_that_cannot_be() {
    check_default(
        |doc| {
            doc["agents"]["github"]["current_streak"] = json!(4);
            doc["total_sessions"] = json!(1);
            doc["version"] = json!(0);
            doc["events"][2]["event_id"] = json!("");
        },
        &[
            "version: must be at least 1",
            "total_sessions: is 1 but 2 sessions are stored",
            "agents.github.best_streak: is 1 but current_streak is 4",
            "events[2].event_id: must not be empty",
        ],
    );
}

#[test]
fn derived_display_fields_are_accepted_as_written() {
    check_default(
        |doc| {
            doc["agents"]["coding"]["level"] = json!(7);
            doc["agents"]["coding"]["success_rate"] = json!(0.99);
            doc["agents"]["coding"]["avg_tokens_per_call"] = json!(1.0);
        },
        &[],
    );
}

#[test]
fn unreadable_values_are_findings_at_their_path() {
    check_default(
        |doc| {
            doc["events"][3]["total_tokens"] = json!("many");
            doc["sessions"][1]["started_at"] = json!("last tuesday");
            doc["events"][0]["ended_at"] = json!(null);
            doc["agents"]["github"] = json!(5);
        },
        &[
            "agents.github: is a number, not an object (kept as found)",
            "events[0].ended_at: is null",
            r#"events[3].total_tokens: cannot be read (found "many"; kept as found)"#,
            r#"sessions[1].started_at: cannot be read (found "last tuesday"; kept as found)"#,
        ],
    );
}

#[test]
fn garbage_never_panics() {
    for bytes in [
        &b""[..],
        b"{",
        b"[]",
        b"null",
        b"{\"events\": {}}",
        b"{\"version\": -1}",
        b"{\"total_tokens\": 1e999}",
        b"{\"agents\": {\"a\": 5}}",
        b"{\"events\": [], \"events\": []}",
        b"{} trailing",
        b"\xff\xfe",
    ] {
        assert!(DashboardState::from_json(bytes, &Limits::DEFAULT).is_err(), "{bytes:?}");
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(DashboardState::from_json(deep.as_bytes(), &Limits::DEFAULT).is_err());
}

#[test]
fn null_fields_take_defaults_but_containers_must_be_there() {
    let all_keys = r#""version":1,"project_name":null,"created_at":null,"updated_at":null,
        "total_sessions":0,"total_tokens":0,"total_cost_usd":0,"total_duration_seconds":0"#;
    let state = DashboardState::from_json(
        format!(r#"{{{all_keys},"agents":{{}},"events":[],"sessions":[]}}"#).as_bytes(),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert_eq!(state.project_name(), "");
    let agents_null = format!(r#"{{{all_keys},"agents":null,"events":[],"sessions":[]}}"#);
    let err = DashboardState::load(agents_null.as_bytes()).unwrap_err().to_string();
    assert_eq!(err, "not an agent-metrics document: agents must be an object, found null");
}

#[test]
fn peek_version_reads_only_the_version() {
    assert_eq!(DashboardState::peek_version(br#"{"version": 2, "events": "not a list"}"#), Some(2));
    assert_eq!(DashboardState::peek_version(br#"{"events": []}"#), Some(1));
    assert_eq!(DashboardState::peek_version(b"{truncated"), None);
}
