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

#[test]
fn an_open_live_stream_does_not_hold_up_a_graceful_stop() {
    let server = TestServer::start();
    let agent: ureq::Agent =
        ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(20))).build().into();
    let response = agent.get(&format!("{}/api/v1/stream", server.url)).call().unwrap();
    let mut lines = BufReader::new(response.into_body().into_reader()).lines();
    assert!(lines.next().unwrap().unwrap().starts_with("event: change"));
    // Stop on another thread, so a stop that hangs fails this test instead of hanging it.
    let (done, stopped) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (ended, _dir) = server.stop();
        let _ = done.send(ended.is_ok());
    });
    let ended = stopped.recv_timeout(Duration::from_secs(5));
    assert_eq!(ended, Ok(true), "serve did not return within 5 s of the stop with a stream open");
    // The stream ended instead of hanging.
    let rest: Vec<_> = lines.map_while(Result::ok).collect();
    assert!(rest.len() < 10, "{rest:?}");
}

/// What the file alone holds (what the Python dashboard reads), ignoring the journal.
fn ids_in_file(path: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let state = metrics_types::DashboardState::load(&bytes).unwrap();
    state.events().iter().map(|e| e.event_id().to_owned()).collect()
}

#[test]
fn in_journal_mode_the_server_folds_its_appends_into_the_file_once_idle() {
    let server = TestServer::start();
    server.other_handle().set_storage_mode(StorageMode::Journal).unwrap();
    assert_eq!(server.post("/api/v1/events", &event_lines("idle", 3)).status, 200);
    assert!(
        ids_in_file(&server.store_path()).is_empty(),
        "appended to the journal, not yet in the file"
    );
    let deadline = Instant::now() + metrics_server::IDLE_CHECKPOINT + Duration::from_secs(3);
    while ids_in_file(&server.store_path()).len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ids_in_file(&server.store_path()), ["idle-0", "idle-1", "idle-2"]);
}

/// Read your writes: a GET that follows a 2xx POST on the same server includes what the POST
/// acknowledged, every time (the snapshot alone reloads at most every 250 ms). 300 rounds
/// here (about 5 s in a debug build); before the fix 19 of 20 reads missed the write.
#[test]
fn a_get_right_after_a_post_always_sees_the_write() {
    let server = TestServer::start_with(
        |config| config,
        |builder| builder.durability(metrics_store::Durability::NoSyncTestsOnly),
    );
    for i in 0..300 {
        let id = format!("ryw-{i}");
        let body = format!(r#"{{"event_id": "{id}", "agent": "a", "status": "success"}}"#);
        assert_eq!(server.post("/api/v1/events", &body).status, 200);
        let events = server.get("/api/v1/events?agent=a&limit=1").json();
        assert_eq!(events["events"][0]["event_id"], id.as_str(), "request {i}");
    }
    // A duplicate changes nothing on disk; the read after it must not wait for a change.
    let started = std::time::Instant::now();
    let body = r#"{"event_id": "ryw-0", "agent": "a", "status": "success"}"#;
    assert_eq!(server.post("/api/v1/events", body).status, 200);
    assert_eq!(server.get("/api/v1/agents").status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
}
