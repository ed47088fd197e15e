//! Unit tests of the read views: filters and field names.

use super::*;
use crate::{EventInput, Limits};

fn state() -> DashboardState {
    let mut state = DashboardState::new("fleet");
    let lines = [
        r#"{"event_id": "e1", "agent": "coding", "status": "success", "ticket": "AI-7", "session": "s-1", "ended_at": "2026-02-14T10:00:00+00:00", "input_tokens": 100, "cost": 0.25}"#,
        r#"{"event_id": "e2", "agent": "review", "status": "error", "ticket": "AI-8", "session": "s-1", "ended_at": "2026-02-14T11:00:00+00:00"}"#,
        r#"{"event_id": "e3", "agent": "coding", "status": "success", "ticket": "AI-7", "session": "s-2", "ended_at": "2026-02-14T12:00:00+00:00", "output_tokens": 50}"#,
    ];
    let now = "2026-02-14T13:00:00+00:00".parse().unwrap();
    for line in lines {
        let input = EventInput::parse_many(line).unwrap().remove(0);
        let _ = state.record_event(input.into_event(now, String::new).unwrap(), &Limits::DEFAULT);
    }
    state
}

fn ids(events: &[&AgentEvent]) -> Vec<String> {
    events.iter().map(|e| e.event_id().to_owned()).collect()
}

#[test]
fn every_filter_narrows_and_results_are_newest_first() {
    let state = state();
    let all = EventQuery::default();
    assert_eq!(ids(&all.select(&state)), ["e3", "e2", "e1"]);
    let ticket = EventQuery { ticket: Some("AI-7".into()), ..EventQuery::default() };
    assert_eq!(ids(&ticket.select(&state)), ["e3", "e1"]);
    let agent = EventQuery { agent: Some("review".into()), ..EventQuery::default() };
    assert_eq!(ids(&agent.select(&state)), ["e2"]);
    let status =
        EventQuery { status: Some(EventStatus::Success), limit: Some(1), ..EventQuery::default() };
    assert_eq!(ids(&status.select(&state)), ["e3"]);
    let session = EventQuery { session: Some("s-1".into()), ..EventQuery::default() };
    assert_eq!(ids(&session.select(&state)), ["e2", "e1"]);
    let window = EventQuery {
        since: Some("2026-02-14T11:00:00+00:00".parse().unwrap()),
        until: Some("2026-02-14T12:00:00+00:00".parse().unwrap()),
        ..EventQuery::default()
    };
    assert_eq!(ids(&window.select(&state)), ["e2"], "since is inclusive, until exclusive");
}

#[test]
fn the_views_use_the_file_format_names_and_carry_the_schema_version() {
    let state = state();
    let agents = serde_json::to_value(AgentsView::of(&state)).unwrap();
    insta::assert_json_snapshot!(agents["agents"][0], @r#"
    {
      "agent_name": "coding",
      "level": 1,
      "level_title": "Intern",
      "xp": 23,
      "total_invocations": 2,
      "successful_invocations": 2,
      "failed_invocations": 0,
      "success_rate": 1.0,
      "current_streak": 2,
      "best_streak": 2,
      "total_tokens": 150,
      "total_cost_usd": 0.25,
      "total_duration_seconds": 0.0,
      "avg_duration_seconds": 0.0,
      "last_active": "2026-02-14T12:00:00+00:00"
    }
    "#);
    let status = serde_json::to_value(StatusView::of(&state, 1)).unwrap();
    assert_eq!(status["schema_version"], SCHEMA_VERSION);
    assert_eq!(status["view"], "status");
    assert_eq!(status["totals"]["total_invocations"], 3);
    assert_eq!(status["latest_events"][0]["event_id"], "e3");
    assert_eq!(status["latest_events"].as_array().unwrap().len(), 1);
    let agent = serde_json::to_value(AgentView::of(&state, "coding", 10).unwrap()).unwrap();
    assert_eq!(agent["recent_events"], serde_json::json!(["e1", "e3"]));
    assert_eq!(agent["latest_events"][0]["agent_name"], "coding");
    assert!(AgentView::of(&state, "nobody", 10).is_none());
}

#[test]
fn reports_group_the_stored_events_and_sort_by_the_measure() {
    let state = state();
    let by_agent = ReportView::of(&state, Measure::Tokens, GroupBy::Agent, &EventQuery::default());
    let rows: Vec<(&str, u64, u128)> =
        by_agent.rows.iter().map(|r| (r.key.as_str(), r.events, r.total_tokens)).collect();
    assert_eq!(rows, [("coding", 2, 150), ("review", 1, 0)]);
    assert_eq!((by_agent.total.events, by_agent.total.total_tokens), (3, 150));
    let by_ticket = ReportView::of(&state, Measure::Cost, GroupBy::Ticket, &EventQuery::default());
    assert_eq!(by_ticket.rows[0].key, "AI-7");
    assert_eq!(by_ticket.rows[0].total_cost_usd, 0.25);
    let by_model = ReportView::of(&state, Measure::Cost, GroupBy::Model, &EventQuery::default());
    assert_eq!(by_model.rows[0].key, "(none)", "an event without a model is counted, not dropped");
    let window = EventQuery {
        since: Some("2026-02-14T11:00:00+00:00".parse().unwrap()),
        ..EventQuery::default()
    };
    let by_day = ReportView::of(&state, Measure::Tokens, GroupBy::Day, &window);
    assert_eq!(
        (by_day.rows.len(), by_day.rows[0].key.as_str(), by_day.total.events),
        (1, "2026-02-14", 2)
    );
}

#[test]
fn a_ticket_and_a_session_tell_their_story_oldest_first() {
    let state = state();
    let ticket = TicketView::of(&state, "AI-7").unwrap();
    assert_eq!(ids(&ticket.events), ["e1", "e3"]);
    assert_eq!(
        (ticket.agents.clone(), ticket.sessions.clone()),
        (vec!["coding"], vec!["s-1", "s-2"])
    );
    assert_eq!(ticket.totals.by_status.get("success"), Some(&2));
    assert!(TicketView::of(&state, "AI-404").is_none());
    let session = SessionView::of(&state, "s-1").unwrap();
    assert_eq!(ids(&session.events), ["e1", "e2"]);
    assert_eq!(session.tickets, ["AI-7", "AI-8"]);
    assert!(session.summary.is_none(), "no summary recorded yet");
    assert_eq!(session.totals.first_started_at.as_deref(), Some("2026-02-14T10:00:00+00:00"));
    assert!(SessionView::of(&state, "s-404").is_none());
}

/// A file another tool wrote may hold events whose tokens add up past any 64-bit count (its
/// totals are then a finding, not damage): a report still adds them up exactly.
#[test]
fn wide_totals_never_overflow() {
    let mut state = DashboardState::new("big");
    let now = "2026-02-14T13:00:00+00:00".parse().unwrap();
    let line = format!(
        r#"{{"event_id": "x", "agent": "a", "status": "success", "input_tokens": {}}}"#,
        i64::MAX
    );
    let input = EventInput::parse_many(&line).unwrap().remove(0);
    let _ =
        state.record_event(input.into_event(now, String::new).unwrap(), &Limits::DEFAULT).unwrap();
    let one = String::from_utf8(state.to_json()).unwrap();
    let event_start = one.find(r#"{"event_id":"x""#).unwrap();
    let event_end = event_start + one[event_start..].find('}').unwrap() + 1;
    let event = &one[event_start..event_end];
    let three = [1, 2, 3].map(|n| event.replace(r#""x""#, &format!(r#""x{n}""#))).join(",");
    let many = one.replacen(event, &three, 1);
    let state = DashboardState::load(many.as_bytes()).unwrap();
    assert_eq!(state.events().len(), 3);
    let report = ReportView::of(&state, Measure::Tokens, GroupBy::Agent, &EventQuery::default());
    assert_eq!(report.total.total_tokens, 3 * i64::MAX as u128);
}
