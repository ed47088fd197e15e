//! Unit tests of the writer input: parsing, derived fields, messages.

use super::*;
use crate::Limits;

fn now() -> Timestamp {
    "2026-02-14T17:10:00+00:00".parse().unwrap()
}

fn event(json: &str) -> Result<AgentEvent, ValidationError> {
    let inputs = EventInput::parse_many(json)?;
    assert_eq!(inputs.len(), 1);
    inputs.into_iter().next().unwrap().into_event(now(), || "generated".into())
}

#[test]
fn one_object_an_array_and_json_lines_are_all_read() {
    let one = r#"{"agent": "a", "status": "success"}"#;
    assert_eq!(EventInput::parse_many(one).unwrap().len(), 1);
    let array = r#"[{"agent": "a", "status": "success"}, {"agent": "b", "status": "error"}]"#;
    assert_eq!(EventInput::parse_many(array).unwrap().len(), 2);
    let pretty_array = "[\n {\"agent\": \"a\",\n  \"status\": \"success\"}\n]\n";
    assert_eq!(EventInput::parse_many(pretty_array).unwrap().len(), 1);
    let lines = format!("{one}\n\n{array}\n{one}\n");
    assert_eq!(EventInput::parse_many(&lines).unwrap().len(), 4);
}

#[test]
fn errors_name_the_line_and_the_field() {
    let lines = "{\"agent\": \"a\", \"status\": \"success\"}\n{\"agent\": \"a\", \"stauts\": 1}\n";
    let err = EventInput::parse_many(lines).unwrap_err().to_string();
    assert!(err.starts_with("line 2: unknown field `stauts`"), "{err}");
    let err = EventInput::parse_many(r#"[{"agent": "a"}]"#).unwrap_err().to_string();
    assert!(err.starts_with("the array: missing field `status`"), "{err}");
    assert_eq!(EventInput::parse_many(" \n").unwrap_err().to_string(), "the input: holds no event");
    assert_eq!(EventInput::parse_many("[]").unwrap_err().to_string(), "the array: holds no event");
    // Found by fuzzing: lines of empty arrays parsed as a batch of nothing.
    assert_eq!(
        EventInput::parse_many("[]\n[]\n").unwrap_err().to_string(),
        "the input: holds no event"
    );
    let err = event(r#"{"agent": "a", "status": "done"}"#).unwrap_err().to_string();
    assert!(err.starts_with(r#"status: unknown status "done""#), "{err}");
    let err = event(r#"{"agent": "a", "status": "error", "started_at": "yesterday"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("started_at: "), "{err}");
    let err = event(r#"{"agent": "a", "status": "error", "input_tokens": 1, "total_tokens": 2}"#)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "total_tokens: is 2 but input_tokens + output_tokens is 1 + 0");
}

#[test]
fn times_and_the_id_are_derived_from_what_was_given() {
    let e = event(r#"{"agent_name": "a", "status": "success", "duration_seconds": 30}"#).unwrap();
    assert_eq!(e.event_id(), "generated");
    assert_eq!(e.ended_at(), now());
    assert_eq!(e.started_at().to_string(), "2026-02-14T17:09:30+00:00");
    let e = event(
        r#"{"event_id": "x", "agent": "a", "status": "success",
            "started_at": "2026-02-14T17:00:00+00:00", "ended_at": "2026-02-14T17:00:10+00:00"}"#,
    )
    .unwrap();
    assert_eq!((e.event_id(), e.duration_seconds()), ("x", 10.0));
}

#[test]
fn a_session_is_derived_from_its_events_and_an_empty_one_costs_positive_zero() {
    let mut state = DashboardState::new("p");
    for (id, agent, ticket) in
        [("1", "coding", "AI-1"), ("2", "review", ""), ("3", "coding", "AI-2")]
    {
        let e = event(&format!(
            r#"{{"event_id": "{id}", "agent": "{agent}", "status": "success", "session": "s-1",
                "ticket": "{ticket}", "input_tokens": 10, "cost": 0.5, "duration": 5}}"#
        ))
        .unwrap();
        let _ = state.record_event(e, &Limits::DEFAULT).unwrap();
    }
    let input = SessionInput::new("s-1", SessionType::Initializer, SessionStatus::Complete);
    let session = input.into_session(&state, now()).unwrap();
    assert_eq!(session.session_number(), 1);
    assert_eq!(session.agents_invoked(), ["coding", "review"]);
    assert_eq!(session.tickets_worked(), ["AI-1", "AI-2"]);
    assert_eq!((session.total_tokens(), session.total_cost_usd()), (30, 1.5));
    let empty = SessionInput::new("s-2", SessionType::Continuation, SessionStatus::Continue)
        .into_session(&state, now())
        .unwrap();
    assert!(empty.total_cost_usd().is_sign_positive(), "{}", empty.total_cost_usd());
    let mut bad = SessionInput::new("s-3", SessionType::Initializer, SessionStatus::Complete);
    bad.session_type = "first".into();
    let err = bad.into_session(&state, now()).unwrap_err().to_string();
    assert!(err.starts_with("session_type: unknown session type \"first\""), "{err}");
}
