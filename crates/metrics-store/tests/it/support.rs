//! Shared fixtures: events, sessions, stores in fresh temporary directories.
#![expect(clippy::disallowed_methods, reason = "fixtures plant damaged files directly")]

use std::path::{Path, PathBuf};

use metrics_store::{Durability, MetricsStore};
use metrics_types::{
    AgentEvent, EventStatus, Limits, NewAgentEvent, NewSessionSummary, SessionStatus,
    SessionSummary, SessionType, Timestamp,
};

pub(crate) fn at(second: u64) -> Timestamp {
    Timestamp::from_unix_seconds(1_771_000_000 + second as i64).unwrap()
}

pub(crate) fn event(id: &str, agent: &str) -> AgentEvent {
    AgentEvent::new(NewAgentEvent {
        input_tokens: 100,
        output_tokens: 20,
        estimated_cost_usd: 0.001,
        duration_seconds: 3.0,
        ..NewAgentEvent::new(id, agent, EventStatus::Success, at(0))
    })
    .unwrap()
}

pub(crate) fn session(id: &str) -> SessionSummary {
    SessionSummary::new(NewSessionSummary {
        session_id: id.to_owned(),
        session_number: 1,
        session_type: SessionType::Continuation,
        started_at: at(0),
        ended_at: at(10),
        status: SessionStatus::Complete,
        agents_invoked: vec![],
        total_tokens: 0,
        total_cost_usd: 0.0,
        tickets_worked: vec![],
    })
    .unwrap()
}

/// A fresh directory and the metrics file path in it.
pub(crate) fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".agent_metrics.json");
    (dir, path)
}

pub(crate) fn store(path: &Path, limits: Limits, durability: Durability) -> MetricsStore {
    MetricsStore::builder(path)
        .limits(limits)
        .durability(durability)
        .project_name("test")
        .open()
        .unwrap()
}

/// Sorted names of the files in a directory.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

pub(crate) fn plant(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}
