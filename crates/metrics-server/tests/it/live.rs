//! Writes by other writers (another handle, a journal-mode store) show up in the API and on
//! the live stream.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use metrics_types::{EventInput, StorageMode, Timestamp};

use crate::support::{TestServer, event_lines};

fn event(id: &str) -> metrics_types::AgentEvent {
    EventInput::parse_many(&format!(
        r#"{{"event_id": "{id}", "agent": "other", "status": "success"}}"#
    ))
    .unwrap()
    .remove(0)
    .into_event(Timestamp::now(), String::new)
    .unwrap()
}

fn has_event(reply: &crate::support::Reply, id: &str) -> bool {
    reply.json()["events"]
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e["event_id"] == id))
}

#[test]
fn a_write_by_another_handle_shows_up_in_the_api() {
    let server = TestServer::start();
    let other = server.other_handle();
    let _ = other.record_event(event("from-another-writer")).unwrap();
    let reply = server.wait_for("/api/v1/events", |r| has_event(r, "from-another-writer"));
    assert!(has_event(&reply, "from-another-writer"), "{}", reply.body);
}

#[test]
fn journal_mode_appends_by_others_and_by_the_server_are_both_seen() {
    let server = TestServer::start();
    let other = server.other_handle();
    other.set_storage_mode(StorageMode::Journal).unwrap();
    let _ = other.record_event(event("journal-1")).unwrap();
    assert!(has_event(
        &server.wait_for("/api/v1/events", |r| has_event(r, "journal-1")),
        "journal-1"
    ));
    assert_eq!(server.post("/api/v1/events", &event_lines("srv", 2)).status, 200);
    let _ = other.record_event(event("journal-2")).unwrap();
    let reply =
        server.wait_for("/api/v1/events", |r| has_event(r, "journal-2") && has_event(r, "srv-1"));
    assert!(has_event(&reply, "journal-2") && has_event(&reply, "srv-1"), "{}", reply.body);
    assert!(
        std::fs::metadata(other.journal_path()).unwrap().len() > 0,
        "the server appended to the journal"
    );
}

#[test]
fn the_stream_sends_a_change_within_a_second_of_another_writers_write() {
    let server = TestServer::start();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(10))).build().into();
    let response = agent.get(&format!("{}/api/v1/stream", server.url)).call().unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    let mut next_change = || loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(data) = line.strip_prefix("data: ") {
            return serde_json::from_str::<serde_json::Value>(data).unwrap();
        }
    };
    let first = next_change();
    assert_eq!(first["generation"], 0, "the current generation at connection");
    let written = Instant::now();
    let _ = server.other_handle().record_event(event("streamed")).unwrap();
    let change = next_change();
    let waited = written.elapsed();
    assert!(change["generation"].as_u64().unwrap() >= 1, "{change}");
    assert!(waited < Duration::from_secs(1), "the change took {waited:?}");
    assert!(has_event(&server.get("/api/v1/events"), "streamed"));
}

#[test]
fn an_unchanged_store_is_not_read_again() {
    let server = TestServer::start();
    assert_eq!(server.post("/api/v1/events", &event_lines("x", 1)).status, 200);
    let settled = server.wait_for("/healthz", |r| r.json()["generation"].as_u64() >= Some(1));
    let generation = settled.json()["generation"].clone();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.get("/healthz").json()["generation"],
        generation,
        "no change, no new snapshot"
    );
}
