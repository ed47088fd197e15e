//! Property tests: states built by any sequence of recordings are valid, round-trip through
//! JSON unchanged, keep lifetime totals through eviction, and every single corruption is
//! reported at its path.

use std::collections::BTreeMap;

use metrics_types::{
    AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, NewSessionSummary,
    SessionStatus, SessionSummary, SessionType, Timestamp,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..100_000_000, 0u32..1_000_000, any::<bool>()).prop_map(|(second, micros, zulu)| {
        let instant = jiff::Timestamp::new(1_700_000_000 + second, (micros * 1000) as i32).unwrap();
        if zulu { instant.to_string().parse().unwrap() } else { Timestamp::from_instant(instant) }
    })
}

fn status() -> impl Strategy<Value = EventStatus> {
    prop_oneof![
        4 => Just(EventStatus::Success),
        1 => Just(EventStatus::Error),
        1 => Just(EventStatus::Timeout),
        1 => Just(EventStatus::Blocked),
        1 => "[a-z]{1,8}".prop_map(|text| EventStatus::from_wire(&text)),
    ]
}

fn new_event() -> impl Strategy<Value = NewAgentEvent> {
    (
        ("[a-z0-9-]{1,12}", prop::sample::select(vec!["coding", "github", "linear", "ops ü"])),
        (timestamp(), 0.0f64..3600.0, status()),
        (0u64..1_000_000, 0u64..1_000_000, 0.0f64..10.0),
        (".{0,12}", prop::collection::vec("[a-z:#0-9]{1,10}", 0..3)),
    )
        .prop_map(
            |((id, agent), (start, duration, status), (input, output, cost), (text, artifacts))| {
                NewAgentEvent {
                    session_id: format!("sess-{}", input % 7),
                    input_tokens: input,
                    output_tokens: output,
                    estimated_cost_usd: cost,
                    duration_seconds: duration,
                    artifacts,
                    error_message: text,
                    ..NewAgentEvent::new(&id, agent, status, start)
                }
            },
        )
}

fn new_session() -> impl Strategy<Value = NewSessionSummary> {
    ("[a-z0-9]{1,6}", timestamp(), 0.0f64..7200.0, 0u64..1_000_000, any::<bool>()).prop_map(
        |(id, start, length, tokens, first)| NewSessionSummary {
            session_id: id,
            session_number: tokens % 100,
            session_type: if first { SessionType::Initializer } else { SessionType::Continuation },
            started_at: start,
            ended_at: start.plus_seconds(length).unwrap(),
            status: SessionStatus::Complete,
            agents_invoked: vec!["coding".to_owned()],
            total_tokens: tokens,
            total_cost_usd: tokens as f64 / 1e6,
            tickets_worked: vec!["AI-1".to_owned()],
        },
    )
}

#[derive(Debug, Clone)]
enum Step {
    Event(NewAgentEvent),
    Session(NewSessionSummary),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![4 => new_event().prop_map(Step::Event), 1 => new_session().prop_map(Step::Session)],
        0..60,
    )
}

fn limits() -> impl Strategy<Value = Limits> {
    (1usize..20, 1usize..5)
        .prop_map(|(max_events, max_sessions)| Limits { max_events, max_sessions })
}

/// Lifetime sums per agent of what was recorded (counted once per id).
#[derive(Debug, Default, PartialEq)]
struct Sums {
    invocations: u64,
    successes: u64,
    tokens: u64,
}

fn build(steps: &[Step], limits: &Limits) -> (DashboardState, BTreeMap<String, Sums>) {
    let mut state = DashboardState::new("prop");
    let mut sums: BTreeMap<String, Sums> = BTreeMap::new();
    for step in steps {
        match step {
            Step::Event(input) => {
                let event = AgentEvent::new(input.clone()).unwrap();
                let (agent, success, tokens) = (
                    event.agent_name().to_owned(),
                    event.status().is_success(),
                    event.total_tokens(),
                );
                if let metrics_types::RecordOutcome::Recorded { .. } =
                    state.record_event(event, limits).unwrap()
                {
                    let sum = sums.entry(agent).or_default();
                    sum.invocations += 1;
                    sum.successes += u64::from(success);
                    sum.tokens += tokens;
                }
            }
            Step::Session(input) => {
                let _ = state
                    .record_session(SessionSummary::new(input.clone()).unwrap(), limits)
                    .unwrap();
            }
        }
    }
    (state, sums)
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = DashboardState::from_json(&bytes, &Limits::DEFAULT);
        let _ = DashboardState::peek_version(&bytes);
    }

    #[test]
    fn mutated_documents_never_panic(steps in steps(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (state, _) = build(&steps, &Limits::DEFAULT);
        let mut bytes = state.to_json();
        let idx = cut.index(bytes.len());
        bytes[idx] = byte;
        let _ = DashboardState::from_json(&bytes, &Limits::DEFAULT);
        bytes.truncate(idx);
        let _ = DashboardState::from_json(&bytes, &Limits::DEFAULT);
    }

    #[test]
    fn recorded_states_are_valid_and_round_trip(steps in steps(), limits in limits()) {
        let (state, sums) = build(&steps, &limits);
        prop_assert!(state.validate(&limits).is_ok(), "{:?}", state.validate(&limits));
        prop_assert!(state.events().len() <= limits.max_events);
        prop_assert!(state.sessions().len() <= limits.max_sessions);
        let reloaded = DashboardState::from_json(&state.to_json(), &limits).unwrap();
        prop_assert_eq!(&reloaded, &state);
        let pretty = DashboardState::from_json(&state.to_json_pretty(), &limits).unwrap();
        prop_assert_eq!(&pretty, &state);

        let profile_sums: BTreeMap<String, Sums> = state
            .agents()
            .iter()
            .map(|(name, profile)| {
                let sums = Sums {
                    invocations: profile.total_invocations(),
                    successes: profile.successful_invocations(),
                    tokens: profile.total_tokens(),
                };
                (name.clone(), sums)
            })
            .collect();
        prop_assert_eq!(profile_sums, sums, "profiles keep lifetime totals through eviction");
    }

    #[test]
    fn unknown_fields_round_trip(steps in steps(), key in "x_[a-z]{1,6}", value in any::<i32>()) {
        let (state, _) = build(&steps, &Limits::DEFAULT);
        let mut doc: Value = serde_json::from_slice(&state.to_json()).unwrap();
        doc[&key] = json!(value);
        if let Some(event) = doc["events"].as_array_mut().and_then(|events| events.first_mut()) {
            event[&key] = json!({"nested": [value]});
        }
        let bytes = serde_json::to_vec(&doc).unwrap();
        let loaded = DashboardState::from_json(&bytes, &Limits::DEFAULT).unwrap();
        let written: Value = serde_json::from_slice(&loaded.to_json()).unwrap();
        prop_assert_eq!(written, doc);
    }

    #[test]
    fn each_single_corruption_is_reported_at_its_path(
        steps in steps(),
        pick in any::<prop::sample::Index>(),
        kind in 0usize..5,
        amount in 1i64..1000,
    ) {
        let (state, _) = build(&steps, &Limits::DEFAULT);
        let mut doc: Value = serde_json::from_slice(&state.to_json()).unwrap();
        let n_events = state.events().len();
        let agents: Vec<String> = state.agents().keys().cloned().collect();
        let expected_path = match kind {
            0..=2 if n_events >= 2 => {
                let idx = pick.index(n_events);
                match kind {
                    0 => {
                        doc["events"][idx]["input_tokens"] = json!(-amount);
                        format!("events[{idx}].input_tokens")
                    }
                    1 => {
                        let total = doc["events"][idx]["total_tokens"].as_i64().unwrap();
                        doc["events"][idx]["total_tokens"] = json!(total + amount);
                        format!("events[{idx}].total_tokens")
                    }
                    _ => {
                        let later = (idx + 1).max(1).min(n_events - 1);
                        let earlier = later - 1;
                        doc["events"][later]["event_id"] = doc["events"][earlier]["event_id"].clone();
                        format!("events[{later}].event_id")
                    }
                }
            }
            3 if !agents.is_empty() => {
                let name = &agents[pick.index(agents.len())];
                let failed = doc["agents"][name]["failed_invocations"].as_i64().unwrap();
                doc["agents"][name]["failed_invocations"] = json!(failed + amount);
                format!("{}.failed_invocations", agent_path(name))
            }
            4 if !agents.is_empty() => {
                let name = &agents[pick.index(agents.len())];
                doc["agents"][name]["total_tokens"] = json!(-amount);
                format!("{}.total_tokens", agent_path(name))
            }
            _ => return Ok(()),
        };
        let bytes = serde_json::to_vec(&doc).unwrap();
        let corrupt = DashboardState::from_json_unvalidated(&bytes).unwrap();
        let err = corrupt.validate(&Limits::DEFAULT).unwrap_err();
        let paths: Vec<&str> = err.violations().iter().map(|v| v.path.as_str()).collect();
        prop_assert!(paths.contains(&expected_path.as_str()), "expected {expected_path} in {paths:?}");
    }
}

fn agent_path(name: &str) -> String {
    if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        format!("agents.{name}")
    } else {
        format!("agents[{}]", Value::from(name))
    }
}
