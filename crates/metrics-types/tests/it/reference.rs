//! The files the Python dashboard wrote (copied from `shared/reference/`) load, validate and
//! round-trip with nothing lost.

use metrics_types::{DashboardState, Limits};
use serde_json::Value;

const SAMPLE: &[u8] = include_bytes!("../data/agent_metrics.sample.json");
const MINIMAL: &[u8] = include_bytes!("../data/agent_metrics.minimal.json");

/// Every key and value of `original` is in `written`, recursively; `written` may add fields.
fn assert_contains(original: &Value, written: &Value, path: &str) {
    match (original, written) {
        (Value::Object(original), Value::Object(written)) => {
            for (key, value) in original {
                let Some(written_value) = written.get(key) else {
                    panic!("{path}.{key} was lost");
                };
                assert_contains(value, written_value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(original), Value::Array(written)) => {
            assert_eq!(original.len(), written.len(), "{path}: length changed");
            for (idx, (a, b)) in original.iter().zip(written).enumerate() {
                assert_contains(a, b, &format!("{path}[{idx}]"));
            }
        }
        _ => assert_eq!(original, written, "{path} changed"),
    }
}

fn check_round_trip(bytes: &[u8]) -> (DashboardState, Value, Value) {
    let state = DashboardState::from_json(bytes, &Limits::DEFAULT).expect("reference file loads");
    let original: Value = serde_json::from_slice(bytes).unwrap();
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_contains(&original, &written, "");
    let reloaded = DashboardState::from_json(&state.to_json(), &Limits::DEFAULT).unwrap();
    assert_eq!(reloaded, state, "a second round trip changes nothing");
    let pretty = DashboardState::from_json(&state.to_json_pretty(), &Limits::DEFAULT).unwrap();
    assert_eq!(pretty, state);
    (state, original, written)
}

#[test]
fn sample_round_trips_exactly() {
    let (state, original, written) = check_round_trip(SAMPLE);
    assert_eq!(original, written, "the full sample is written back value for value");
    assert_eq!(state.events().len(), 5);
    assert_eq!(state.sessions().len(), 2);
    assert_eq!(state.agents()["coding"].xp(), 23);
    assert_eq!(
        state.events()[0].ended_at().to_string(),
        "2026-02-14T17:10:41.500000+00:00",
        "timestamps keep their spelling"
    );
}

#[test]
fn minimal_lacks_top_level_keys_so_it_is_damaged_as_python_says() {
    // The Python dashboard's load() rejects a file without every top-level key (it then
    // tries the backup); we agree exactly, so the two tools never disagree about damage.
    let err = DashboardState::load(MINIMAL).unwrap_err().to_string();
    assert_eq!(
        err,
        "not an agent-metrics document: missing top-level key(s): created_at, updated_at, \
         total_sessions, total_tokens, total_cost_usd, total_duration_seconds"
    );
    // With the keys it lacks, what it has loads and round-trips.
    let mut doc: Value = serde_json::from_slice(MINIMAL).unwrap();
    for key in ["created_at", "updated_at"] {
        doc[key] = Value::Null;
    }
    for key in ["total_sessions", "total_tokens"] {
        doc[key] = 0.into();
    }
    for key in ["total_cost_usd", "total_duration_seconds"] {
        doc[key] = 0.0.into();
    }
    let (state, _, written) = check_round_trip(&serde_json::to_vec(&doc).unwrap());
    let profile = &state.agents()["test"];
    assert_eq!(profile.agent_name(), "test", "a profile without agent_name takes its key");
    assert_eq!(profile.xp(), 500);
    assert_eq!(profile.level(), 1, "derived fields are kept as written");
    assert_eq!(state.created_at(), None);
    assert!(written["created_at"].is_null(), "a null timestamp stays null");
    assert!(written["agents"]["test"].get("last_active").is_none(), "absent stays absent");
}

#[test]
fn replaying_the_sample_events_rebuilds_its_profiles() {
    let sample = DashboardState::from_json(SAMPLE, &Limits::DEFAULT).unwrap();
    let mut replayed = DashboardState::new(sample.project_name());
    for event in sample.events() {
        let _ = replayed.record_event(event.clone(), &Limits::DEFAULT);
    }
    for session in sample.sessions() {
        let _ = replayed.record_session(session.clone(), &Limits::DEFAULT);
    }
    assert_eq!(replayed.agents(), sample.agents(), "our roll-up matches the Python dashboard's");
    assert_eq!(replayed.total_tokens(), sample.total_tokens());
    assert_eq!(replayed.total_sessions(), sample.total_sessions());
    assert!((replayed.total_cost_usd() - sample.total_cost_usd()).abs() < 1e-12);
    assert_eq!(replayed.total_duration_seconds(), sample.total_duration_seconds());
}

#[test]
fn unknown_fields_and_values_survive() {
    let mut doc: Value = serde_json::from_slice(SAMPLE).unwrap();
    doc["dashboard_theme"] = "dark".into();
    doc["events"][0]["status"] = "cancelled".into();
    doc["events"][0]["retries"] = 2.into();
    doc["agents"]["coding"]["mood"] = serde_json::json!({"score": 0.5});
    doc["sessions"][1]["session_type"] = "hotfix".into();
    let bytes = serde_json::to_vec(&doc).unwrap();
    let state = DashboardState::from_json(&bytes, &Limits::DEFAULT).unwrap();
    assert_eq!(state.events()[0].status().as_str(), "cancelled");
    let written: Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_eq!(written, doc);
}

/// The JSON type of a value, with integers and floats told apart (Python reads them as int
/// and float).
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `python` is in `ours` with the same JSON type, recursively through the first
/// element of arrays and every value of maps.
fn assert_same_shape(python: &Value, ours: &Value, path: &str) {
    assert_eq!(json_type(python), json_type(ours), "{path}: different JSON types");
    match (python, ours) {
        (Value::Object(python), Value::Object(ours)) if path == ".agents" => {
            let (python, ours) = (python.values().next().unwrap(), ours.values().next().unwrap());
            assert_same_shape(python, ours, &format!("{path}.*"));
        }
        (Value::Object(python), Value::Object(ours)) => {
            for (key, value) in python {
                let Some(our_value) = ours.get(key) else {
                    panic!("{path}.{key} is missing from what we write")
                };
                assert_same_shape(value, our_value, &format!("{path}.{key}"));
            }
        }
        (Value::Array(python), Value::Array(ours)) => {
            if let (Some(python), Some(ours)) = (python.first(), ours.first()) {
                assert_same_shape(python, ours, &format!("{path}[0]"));
            }
        }
        _ => {}
    }
}

#[test]
fn what_we_write_has_every_field_the_python_dashboard_writes() {
    let sample = DashboardState::from_json(SAMPLE, &Limits::DEFAULT).unwrap();
    let mut ours = DashboardState::new("ours");
    for event in sample.events() {
        let rebuilt = metrics_types::AgentEvent::new(metrics_types::NewAgentEvent {
            input_tokens: event.input_tokens().unwrap_or(0),
            output_tokens: event.output_tokens().unwrap_or(0),
            estimated_cost_usd: event.estimated_cost_usd(),
            duration_seconds: event.duration_seconds(),
            artifacts: vec!["file:x".to_owned()],
            ..metrics_types::NewAgentEvent::new(
                event.event_id(),
                event.agent_name(),
                event.status().clone(),
                event.started_at(),
            )
        })
        .unwrap();
        let _ = ours.record_event(rebuilt, &Limits::DEFAULT);
    }
    for session in sample.sessions() {
        let _ = ours.record_session(session.clone(), &Limits::DEFAULT);
    }
    ours.touch(metrics_types::Timestamp::now());
    let python: Value = serde_json::from_slice(SAMPLE).unwrap();
    let written: Value = serde_json::from_slice(&ours.to_json()).unwrap();
    assert_same_shape(&python, &written, "");
}
