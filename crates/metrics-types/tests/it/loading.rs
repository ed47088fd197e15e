//! Loading exactly what the Python dashboard loads (issue 12): a file is damaged only when
//! Python would call it damaged; anything else loads, and a write that does not touch a
//! record writes it back exactly as it was read: nulls, missing fields, integral floats and
//! unreadable values included.

use metrics_types::{
    AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, REQUIRED_KEYS, ValidationError,
};
use serde_json::{Value, json};

const SAMPLE: &[u8] = include_bytes!("../data/agent_metrics.sample.json");

fn sample() -> Value {
    serde_json::from_slice(SAMPLE).unwrap()
}

/// Loads `doc`; `Ok` holds the findings, `Err` the reason it is damaged.
fn check(doc: &Value) -> Result<Vec<String>, String> {
    let bytes = serde_json::to_vec(doc).unwrap();
    match DashboardState::load(&bytes) {
        Ok(state) => Ok(match state.validate(&Limits::DEFAULT) {
            Ok(()) => Vec::new(),
            Err(err) => err.violations().iter().map(ToString::to_string).collect(),
        }),
        Err(err) => Err(err.to_string()),
    }
}

/// Loads `doc`, records one new event for a brand-new agent, and asserts that every record
/// the write did not touch is written back as the same JSON value (nulls, spellings and
/// unreadable values included).
fn check_untouched_records_survive_a_write(doc: &Value) {
    let state_bytes = serde_json::to_vec(doc).unwrap();
    let mut state = DashboardState::load(&state_bytes).unwrap();
    let start = "2026-03-01T10:00:00+00:00".parse().unwrap();
    let event =
        AgentEvent::new(NewAgentEvent::new("new-1", "newcomer", EventStatus::Success, start))
            .unwrap();
    let _ = state.record_event(event, &Limits::DEFAULT).unwrap();
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    for (name, profile) in doc["agents"].as_object().unwrap() {
        assert_eq!(&written["agents"][name], profile, "agents.{name}");
    }
    let before = doc["events"].as_array().unwrap();
    assert_eq!(&written["events"].as_array().unwrap()[..before.len()], &before[..]);
    assert_eq!(written["sessions"], doc["sessions"]);
    for (key, value) in doc.as_object().unwrap() {
        let touched = ["total_tokens", "total_cost_usd", "total_duration_seconds", "updated_at"];
        if !["agents", "events", "sessions"].contains(&key.as_str())
            && !touched.contains(&key.as_str())
        {
            assert_eq!(&written[key], value, "{key}");
        }
    }
}

#[test]
fn damaged_exactly_when_python_says_so() {
    for key in REQUIRED_KEYS {
        let mut doc = sample();
        doc.as_object_mut().unwrap().remove(key);
        let err = check(&doc).unwrap_err();
        assert!(err.contains(&format!("missing top-level key(s): {key}")), "{key}: {err}");
    }
    for (key, value) in [("agents", json!([])), ("events", json!({})), ("sessions", json!(null))] {
        let mut doc = sample();
        doc[key] = value;
        assert!(check(&doc).unwrap_err().contains(&format!("{key} must be")), "{key}");
    }
    assert!(check(&json!({})).unwrap_err().contains("missing top-level key(s): version"));
    assert!(check(&json!({"foo": 1})).is_err(), "the inverse hole: not an empty store");
    assert!(check(&json!([1, 2])).unwrap_err().contains("not a JSON object"));
    for bytes in [&b"{\"version\": 1"[..], b"", b"\xff{}", b"nul"] {
        assert!(matches!(DashboardState::load(bytes), Err(ValidationError::Malformed { .. })));
    }
}

#[test]
fn nothing_inside_the_records_makes_a_file_damaged() {
    let mut doc = sample();
    doc["events"][0].as_object_mut().unwrap().remove("ended_at");
    doc["events"][1]["input_tokens"] = json!(null);
    doc["events"][2]["ticket_key"] = json!(null);
    doc["events"][3]["total_tokens"] = json!("lots");
    doc["events"].as_array_mut().unwrap().push(json!(42));
    doc["agents"]["coding"]["last_active"] = json!(null);
    doc["agents"]["coding"]["total_invocations"] = json!(1000.0);
    doc["agents"]["github"]["failed_invocations"] = json!(7);
    doc["agents"]["github"]["current_streak"] = json!(9);
    doc["sessions"][0]["agents_invoked"] = json!(null);
    doc["version"] = json!("1.0");
    let findings = check(&doc).expect("loads");
    assert_eq!(
        findings,
        [
            r#"version: cannot be read (found "1.0"; kept as found)"#,
            "agents.coding.failed_invocations: is 1 but successful (2) + failed must equal total (1000)",
            "agents.github.failed_invocations: is 7 but successful (1) + failed must equal total (1)",
            "agents.github.best_streak: is 1 but current_streak is 9",
            "events[0].ended_at: is missing",
            r#"events[3].total_tokens: cannot be read (found "lots"; kept as found)"#,
            "events[5]: is a number, not an object (kept as found)",
        ]
    );
    check_untouched_records_survive_a_write(&doc);
}

#[test]
fn nulls_everywhere_are_written_back_as_nulls() {
    let mut doc = sample();
    for event in doc["events"].as_array_mut().unwrap() {
        for field in ["input_tokens", "output_tokens", "ticket_key", "model_used", "error_message"]
        {
            event[field] = Value::Null;
        }
    }
    for profile in doc["agents"].as_object_mut().unwrap().values_mut() {
        for field in ["last_active", "strengths", "weaknesses", "cost_per_success_usd"] {
            profile[field] = Value::Null;
        }
    }
    doc["created_at"] = Value::Null;
    check(&doc).expect("loads");
    check_untouched_records_survive_a_write(&doc);
    let state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let again: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_eq!(again, doc, "a load and write without a change is the identity");
}

#[test]
fn missing_per_record_fields_stay_missing() {
    let mut doc = sample();
    for field in ["status", "started_at", "artifacts", "model_used"] {
        doc["events"][1].as_object_mut().unwrap().remove(field);
    }
    doc["agents"]["github"].as_object_mut().unwrap().remove("achievements");
    doc["sessions"][1].as_object_mut().unwrap().remove("session_type");
    let findings = check(&doc).expect("loads");
    assert_eq!(
        findings,
        [
            "events[1].started_at: is missing",
            "events[1].status: is missing",
            "sessions[1].session_type: is missing",
        ]
    );
    check_untouched_records_survive_a_write(&doc);
}

#[test]
fn integral_floats_are_counts_and_keep_their_spelling() {
    let mut doc = sample();
    doc["total_tokens"] = json!(12900.0);
    doc["agents"]["coding"]["xp"] = json!(23.0);
    doc["events"][0]["input_tokens"] = json!(doc["events"][0]["input_tokens"].as_f64().unwrap());
    let state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(state.total_tokens(), 12900);
    assert_eq!(state.agents()["coding"].xp(), 23);
    assert_eq!(check(&doc).unwrap(), Vec::<String>::new(), "an integral float is no finding");
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_eq!(written, doc, "spelled as read");
    assert!(check(&json!({"x": 1})).is_err());
    let mut fractional = sample();
    fractional["agents"]["coding"]["xp"] = json!(23.5);
    assert_eq!(
        check(&fractional).unwrap(),
        ["agents.coding.xp: cannot be read (found 23.5; kept as found)"]
    );
}

#[test]
fn a_write_refuses_to_overwrite_what_it_cannot_read() {
    let mut doc = sample();
    doc["agents"]["coding"]["xp"] = json!("lots");
    let mut state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let start = "2026-03-01T10:00:00+00:00".parse().unwrap();
    let event = |id: &str, agent: &str| {
        AgentEvent::new(NewAgentEvent::new(id, agent, EventStatus::Success, start)).unwrap()
    };
    let err = state.record_event(event("n1", "coding"), &Limits::DEFAULT).unwrap_err();
    assert!(err.to_string().contains("agents.coding: holds a value that cannot be read"), "{err}");
    assert!(!state.contains_event("n1"), "nothing changed");
    let _ = state
        .record_event(event("n2", "github"), &Limits::DEFAULT)
        .expect("other agents still record");
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_eq!(written["agents"]["coding"], doc["agents"]["coding"]);
}

#[test]
fn totals_refuse_to_overflow_instead_of_saturating() {
    let mut doc = sample();
    doc["total_tokens"] = json!(i64::MAX);
    let mut state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let start = "2026-03-01T10:00:00+00:00".parse().unwrap();
    let event = AgentEvent::new(NewAgentEvent {
        input_tokens: 1,
        ..NewAgentEvent::new("n1", "coding", EventStatus::Success, start)
    })
    .unwrap();
    let err = state.record_event(event, &Limits::DEFAULT).unwrap_err().to_string();
    assert!(err.contains("total_tokens: would overflow"), "{err}");
    assert_eq!(state.total_tokens(), i64::MAX as u64);
}

#[test]
fn a_write_keeps_a_null_creation_time() {
    let mut doc = sample();
    doc["created_at"] = Value::Null;
    let mut state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    state.touch("2026-03-01T10:00:00+00:00".parse().unwrap());
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert!(written["created_at"].is_null(), "{}", written["created_at"]);
    assert_eq!(written["updated_at"], "2026-03-01T10:00:00+00:00");
    let mut fresh = DashboardState::new("new");
    fresh.touch("2026-03-01T10:00:00+00:00".parse().unwrap());
    assert!(fresh.created_at().is_some(), "a state never written gets its creation time");
}

/// Found by fuzzing (`fuzz/corpus/load_state/regression-unknown-field-order`): on the lenient
/// path, taking the known fields out of a record moved its unknown fields around, so the
/// file's key order changed on the first write and back on the second.
#[test]
fn unknown_fields_keep_their_order_on_the_lenient_path() {
    let renames = [
        ("event_id", "event_od"),
        ("session_id", "zz_session"),
        ("duration_seconds", "dwration_seconds"),
        ("model_used", "model_usex"),
    ];
    let mut doc = sample();
    doc["total_tokens"] = json!("lots"); // unreadable: the whole file takes the lenient path
    for event in doc["events"].as_array_mut().unwrap() {
        let fields = std::mem::take(event.as_object_mut().unwrap());
        let renamed = fields.into_iter().map(|(key, value)| {
            let key = renames
                .iter()
                .find(|(from, _)| *from == key)
                .map_or(key, |(_, to)| (*to).to_owned());
            (key, value)
        });
        *event = Value::Object(renamed.collect());
    }
    let state = DashboardState::load(&serde_json::to_vec(&doc).unwrap()).unwrap();
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    for (index, event) in written["events"].as_array().unwrap().iter().enumerate() {
        let order: Vec<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|key| renames.iter().any(|(_, to)| to == key))
            .collect();
        assert_eq!(
            order,
            ["event_od", "zz_session", "dwration_seconds", "model_usex"],
            "event {index}"
        );
    }
}
