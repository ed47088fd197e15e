//! Snapshots of the canonical JSON a state is written as, and of a validation report.

use metrics_types::{
    AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, NewSessionSummary,
    SessionStatus, SessionSummary, SessionType, Timestamp,
};

fn canonical_state() -> DashboardState {
    let start: Timestamp = "2026-02-14T17:10:00+00:00".parse().unwrap();
    let mut state = DashboardState::new("snapshot");
    state.touch("2026-02-14T18:00:00Z".parse().unwrap());
    let event = AgentEvent::new(NewAgentEvent {
        session_id: "sess-1".to_owned(),
        ticket_key: "AI-1".to_owned(),
        input_tokens: 1200,
        output_tokens: 300,
        estimated_cost_usd: 0.0125,
        duration_seconds: 12.25,
        artifacts: vec!["commit:abc123".to_owned()],
        model_used: "claude-sonnet-4-5".to_owned(),
        ..NewAgentEvent::new("evt-1", "coding", EventStatus::Success, start)
    })
    .unwrap();
    let _ = state.record_event(event, &Limits::DEFAULT).unwrap();
    let session = SessionSummary::new(NewSessionSummary {
        session_id: "sess-1".to_owned(),
        session_number: 1,
        session_type: SessionType::Initializer,
        started_at: start,
        ended_at: start.plus_seconds(60.0).unwrap(),
        status: SessionStatus::Complete,
        agents_invoked: vec!["coding".to_owned()],
        total_tokens: 1500,
        total_cost_usd: 0.0125,
        tickets_worked: vec!["AI-1".to_owned()],
    })
    .unwrap();
    let _ = state.record_session(session, &Limits::DEFAULT).unwrap();
    state
}

#[test]
fn canonical_state_json() {
    let json = String::from_utf8(canonical_state().to_json_pretty()).unwrap();
    insta::assert_snapshot!(json, @r#"
    {
      "version": 1,
      "project_name": "snapshot",
      "created_at": "2026-02-14T18:00:00Z",
      "updated_at": "2026-02-14T18:00:00Z",
      "total_sessions": 1,
      "total_tokens": 1500,
      "total_cost_usd": 0.0125,
      "total_duration_seconds": 12.25,
      "agents": {
        "coding": {
          "agent_name": "coding",
          "total_invocations": 1,
          "successful_invocations": 1,
          "failed_invocations": 0,
          "total_tokens": 1500,
          "total_cost_usd": 0.0125,
          "total_duration_seconds": 12.25,
          "success_rate": 1.0,
          "avg_duration_seconds": 12.25,
          "avg_tokens_per_call": 1500.0,
          "cost_per_success_usd": 0.0125,
          "xp": 11,
          "level": 1,
          "current_streak": 1,
          "best_streak": 1,
          "achievements": [
            "first_blood"
          ],
          "strengths": [
            "fast_execution"
          ],
          "weaknesses": [],
          "recent_events": [
            "evt-1"
          ],
          "last_active": "2026-02-14T17:10:12.250000+00:00"
        }
      },
      "events": [
        {
          "event_id": "evt-1",
          "agent_name": "coding",
          "session_id": "sess-1",
          "ticket_key": "AI-1",
          "started_at": "2026-02-14T17:10:00+00:00",
          "ended_at": "2026-02-14T17:10:12.250000+00:00",
          "status": "success",
          "input_tokens": 1200,
          "output_tokens": 300,
          "total_tokens": 1500,
          "estimated_cost_usd": 0.0125,
          "duration_seconds": 12.25,
          "artifacts": [
            "commit:abc123"
          ],
          "error_message": "",
          "model_used": "claude-sonnet-4-5"
        }
      ],
      "sessions": [
        {
          "session_id": "sess-1",
          "session_number": 1,
          "session_type": "initializer",
          "started_at": "2026-02-14T17:10:00+00:00",
          "ended_at": "2026-02-14T17:11:00+00:00",
          "status": "complete",
          "agents_invoked": [
            "coding"
          ],
          "total_tokens": 1500,
          "total_cost_usd": 0.0125,
          "tickets_worked": [
            "AI-1"
          ]
        }
      ]
    }
    "#);
}

#[test]
fn validation_report_of_a_broken_state() {
    let mut doc: serde_json::Value = serde_json::from_slice(&canonical_state().to_json()).unwrap();
    doc["total_tokens"] = (-1).into();
    doc["agents"]["coding"]["successful_invocations"] = 5.into();
    doc["agents"]["coding"]["agent_name"] = "github".into();
    doc["events"][0]["ended_at"] = "2026-02-14T17:00:00Z".into();
    doc["events"][0]["output_tokens"] = 301.into();
    doc["sessions"][0]["total_cost_usd"] = (-0.5).into();
    let bytes = serde_json::to_vec(&doc).unwrap();
    let state = DashboardState::from_json_unvalidated(&bytes).unwrap();
    let report = state.validate(&Limits { max_events: 0, max_sessions: 1 }).unwrap_err();
    let lines: Vec<String> = report.violations().iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(lines.join("\n"), @r#"
    total_tokens: must not be negative (found -1)
    agents.coding.agent_name: is "github" but the profile is keyed "coding"
    agents.coding.failed_invocations: is 0 but successful (5) + failed must equal total (1)
    events: holds 1 events, more than the limit of 0
    events[0].total_tokens: is 1500 but input_tokens + output_tokens is 1200 + 301
    events[0].ended_at: 2026-02-14T17:00:00Z is before started_at 2026-02-14T17:10:00+00:00
    sessions[0].total_cost_usd: must not be negative (found -0.5)
    "#);
}
