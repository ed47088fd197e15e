//! Unit tests of the transitions: XP and streaks, roll-up, duplicates, FIFO eviction, badges.

use crate::{
    AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, NewSessionSummary,
    RecordOutcome, SessionStatus, SessionSummary, SessionType, Timestamp,
};

fn at(second: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_771_000_000 + second).unwrap()
}

fn event(id: &str, agent: &str, status: EventStatus) -> AgentEvent {
    AgentEvent::new(NewAgentEvent {
        input_tokens: 100,
        output_tokens: 50,
        estimated_cost_usd: 0.01,
        duration_seconds: 20.0,
        ..NewAgentEvent::new(id, agent, status, at(id.len() as i64))
    })
    .unwrap()
}

fn session(id: &str) -> SessionSummary {
    SessionSummary::new(NewSessionSummary {
        session_id: id.to_owned(),
        session_number: 1,
        session_type: SessionType::Initializer,
        started_at: at(0),
        ended_at: at(60),
        status: SessionStatus::Complete,
        agents_invoked: vec!["coding".to_owned()],
        total_tokens: 10,
        total_cost_usd: 0.5,
        tickets_worked: vec![],
    })
    .unwrap()
}

/// Records `statuses` for one agent and returns (xp, current streak, best streak).
fn check_streak(statuses: &[EventStatus], expect: (u64, u64, u64)) {
    let mut state = DashboardState::new("t");
    for (idx, status) in statuses.iter().enumerate() {
        let _ = state
            .record_event(event(&format!("e{idx}"), "a", status.clone()), &Limits::DEFAULT)
            .unwrap();
    }
    let profile = &state.agents()["a"];
    assert_eq!((profile.xp(), profile.current_streak(), profile.best_streak()), expect);
}

#[test]
fn xp_is_ten_per_success_plus_the_streak() {
    use EventStatus::*;
    check_streak(&[Success], (11, 1, 1));
    check_streak(&[Success, Success], (23, 2, 2));
    check_streak(&[Success, Success, Error], (23, 0, 2));
    check_streak(&[Success, Timeout, Success], (22, 1, 1));
    check_streak(&[Blocked, Error], (0, 0, 0));
    check_streak(&[Success, Other("cancelled".into()), Success], (22, 1, 1));
}

#[test]
fn roll_up_counts_totals_and_averages() {
    let mut state = DashboardState::new("t");
    let _ = state.record_event(event("e1", "a", EventStatus::Success), &Limits::DEFAULT).unwrap();
    let _ = state.record_event(event("e2", "a", EventStatus::Error), &Limits::DEFAULT).unwrap();
    let profile = &state.agents()["a"];
    assert_eq!(profile.total_invocations(), 2);
    assert_eq!(profile.successful_invocations(), 1);
    assert_eq!(profile.failed_invocations(), 1);
    assert_eq!(profile.total_tokens(), 300);
    assert_eq!(profile.success_rate(), 0.5);
    assert_eq!(profile.avg_duration_seconds(), 20.0);
    assert_eq!(profile.avg_tokens_per_call(), 150.0);
    assert_eq!(profile.cost_per_success_usd(), 0.02);
    assert_eq!(profile.recent_events(), ["e1", "e2"]);
    assert_eq!(profile.last_active(), Some(state.events()[1].ended_at()));
    assert_eq!(profile.achievements(), ["first_blood"]);
    assert_eq!(state.total_tokens(), 300);
    assert_eq!(state.total_duration_seconds(), 40.0);
}

#[test]
fn duplicate_event_changes_nothing() {
    let mut state = DashboardState::new("t");
    let first = event("e1", "a", EventStatus::Success);
    assert_eq!(
        state.record_event(first.clone(), &Limits::DEFAULT).unwrap(),
        RecordOutcome::Recorded { evicted: 0 }
    );
    let before = state.clone();
    assert_eq!(state.record_event(first, &Limits::DEFAULT).unwrap(), RecordOutcome::Duplicate);
    assert_eq!(state, before);
}

#[test]
fn an_evicted_id_still_in_recent_events_is_a_duplicate() {
    let limits = Limits { max_events: 1, max_sessions: 1 };
    let mut state = DashboardState::new("t");
    let _ = state.record_event(event("e1", "a", EventStatus::Success), &limits).unwrap();
    let _ = state.record_event(event("e2", "a", EventStatus::Success), &limits).unwrap();
    assert!(!state.contains_event("e1"));
    assert_eq!(
        state.record_event(event("e1", "a", EventStatus::Success), &limits).unwrap(),
        RecordOutcome::Duplicate
    );
}

#[test]
fn eviction_is_fifo_and_keeps_lifetime_totals() {
    let limits = Limits { max_events: 3, max_sessions: 2 };
    let mut state = DashboardState::new("t");
    let mut evicted = 0;
    for idx in 0..5 {
        if let RecordOutcome::Recorded { evicted: n } = state
            .record_event(event(&format!("e{idx}"), "a", EventStatus::Success), &limits)
            .unwrap()
        {
            evicted += n;
        }
    }
    let ids: Vec<&str> = state.events().iter().map(AgentEvent::event_id).collect();
    assert_eq!(ids, ["e2", "e3", "e4"]);
    assert_eq!(evicted, 2);
    assert_eq!(state.agents()["a"].total_invocations(), 5);
    assert_eq!(state.total_tokens(), 750);
    state.validate(&limits).unwrap();
}

#[test]
fn sessions_are_counted_and_evicted() {
    let limits = Limits { max_events: 3, max_sessions: 2 };
    let mut state = DashboardState::new("t");
    for id in ["s1", "s2", "s3"] {
        let _ = state.record_session(session(id), &limits).unwrap();
    }
    assert_eq!(state.record_session(session("s3"), &limits).unwrap(), RecordOutcome::Duplicate);
    let ids: Vec<&str> = state.sessions().iter().map(SessionSummary::session_id).collect();
    assert_eq!(ids, ["s2", "s3"]);
    assert_eq!(state.total_sessions(), 3);
    state.validate(&limits).unwrap();
}

#[test]
fn recent_events_is_bounded() {
    let mut state = DashboardState::new("t");
    for idx in 0..(crate::RECENT_EVENTS_LIMIT + 5) {
        let _ = state
            .record_event(event(&format!("e{idx}"), "a", EventStatus::Success), &Limits::DEFAULT);
    }
    let recent = state.agents()["a"].recent_events();
    assert_eq!(recent.len(), crate::RECENT_EVENTS_LIMIT);
    assert_eq!(recent[0], "e5");
}

#[test]
fn badges_follow_the_documented_thresholds() {
    let mut state = DashboardState::new("t");
    for idx in 0..3 {
        let _ = state
            .record_event(event(&format!("e{idx}"), "a", EventStatus::Error), &Limits::DEFAULT);
    }
    assert_eq!(state.agents()["a"].weaknesses(), ["high_error_rate"]);
    for idx in 3..13 {
        let _ = state
            .record_event(event(&format!("e{idx}"), "a", EventStatus::Success), &Limits::DEFAULT);
    }
    let profile = &state.agents()["a"];
    assert_eq!(profile.achievements(), ["first_blood", "hat_trick", "on_fire"]);
    assert!(profile.weaknesses().is_empty(), "10 of 13 is above 70%");
    assert_eq!((profile.xp(), profile.level()), (155, 3), "100 + (1 + ... + 10) XP is Mid-Level");
}

#[test]
fn batch_reports_each_kind_of_outcome() {
    let limits = Limits { max_events: 2, max_sessions: 2 };
    let mut state = DashboardState::new("t");
    let batch = ["x", "y", "x", "z"].map(|id| event(id, "a", EventStatus::Success)).to_vec();
    let outcome = state.record_events(batch, &limits).unwrap();
    assert_eq!((outcome.recorded, outcome.duplicates, outcome.evicted), (3, 1, 1));
}
