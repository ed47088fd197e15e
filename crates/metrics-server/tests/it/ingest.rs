//! `POST /api/v1/events` and `/api/v1/sessions`: durable, idempotent, all or nothing,
//! group-committed, guarded by the token and the limits.

use std::time::Duration;

use crate::support::{TestServer, event_lines, request, stored_ids};

#[test]
fn one_object_an_array_and_json_lines_are_recorded_and_retries_change_nothing() {
    let server = TestServer::start();
    let one = server
        .post("/api/v1/events", r#"{"event_id": "a", "agent": "coding", "status": "success"}"#);
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.json()["recorded"], serde_json::json!(["a"]));
    let array = r#"[{"event_id": "b", "agent": "coding", "status": "error"}, {"event_id": "a", "agent": "coding", "status": "success"}]"#;
    let reply = server.post("/api/v1/events", array).json();
    assert_eq!(
        (reply["recorded"].clone(), reply["duplicates"].clone()),
        (serde_json::json!(["b"]), serde_json::json!(["a"]))
    );
    let lines = server.post("/api/v1/events", &event_lines("l", 5)).json();
    assert_eq!(lines["recorded"].as_array().unwrap().len(), 5);
    let retry = server.post("/api/v1/events", &event_lines("l", 5)).json();
    assert_eq!(
        retry["duplicates"].as_array().unwrap().len(),
        5,
        "a retried request changes nothing"
    );
    let generated =
        server.post("/api/v1/events", r#"{"agent": "coding", "status": "success"}"#).json();
    assert_eq!(generated["recorded"][0].as_str().unwrap().len(), 36, "an id is generated (UUID)");
    assert_eq!(stored_ids(&server.store_path()).len(), 8, "acknowledged means in the file");
}

#[test]
fn bad_input_is_refused_whole_with_the_cli_messages() {
    let server = TestServer::start();
    assert_eq!(server.post("/api/v1/events", &event_lines("ok", 2)).status, 200);
    let before = std::fs::read(server.store_path()).unwrap();
    let second_bad =
        format!("{}{}", event_lines("new", 1), r#"{"agent": "x", "status": "succes"}"#);
    for (body, fragment) in [
        (second_bad.as_str(), "line 2: status: unknown status \"succes\""),
        ("{not json", "the event: key must be a string"),
        (
            r#"{"agent": "a", "status": "success", "input_tokens": -1}"#,
            "invalid value: integer `-1`",
        ),
        (r#"{"agent": "a", "status": "success", "cost": -1}"#, "estimated_cost_usd"),
        (r#"{"agent": "a", "status": "success", "colour": "red"}"#, "unknown field `colour`"),
        ("", "holds no event"),
        ("[]", "holds no event"),
        ("[]\n[]\n", "holds no event"),
        (
            r#"[{"agent": "a", "status": "success", "input_tokens": 9223372036854775807},
                {"agent": "a", "status": "success", "input_tokens": 9223372036854775807}]"#,
            "would overflow",
        ),
    ] {
        let reply = server.post("/api/v1/events", body);
        assert_eq!(reply.status, 400, "{body}: {}", reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(
            message.contains(fragment) && message.contains("nothing was recorded"),
            "{body}: {message}"
        );
    }
    let invalid_utf8 = server.post_bytes(
        "/api/v1/events",
        b"{\"agent\": \"\xff\", \"status\": \"success\"}",
        None,
    );
    assert_eq!(invalid_utf8.status, 400, "{}", invalid_utf8.body);
    assert!(invalid_utf8.json()["error"].as_str().unwrap().contains("not UTF-8"));
    let garbled = server.post("/api/v1/events", "{not json").json();
    assert!(garbled["error"].as_str().unwrap().contains(r#"such as {"agent": "coding""#));
    let session = server.post(
        "/api/v1/sessions",
        r#"{"session_id": "s", "session_type": "first", "status": "complete"}"#,
    );
    assert_eq!(session.status, 400);
    assert!(session.json()["error"].as_str().unwrap().contains("unknown session type \"first\""));
    assert_eq!(std::fs::read(server.store_path()).unwrap(), before, "nothing was applied");
}

#[test]
fn oversized_bodies_and_batches_get_413_and_change_nothing() {
    let server = TestServer::start_with(
        |mut config| {
            config.max_body_bytes = 64 * 1024;
            config.max_events_per_request = 50;
            config
        },
        |builder| builder,
    );
    let big = event_lines("big", 1000);
    assert!(big.len() > 64 * 1024);
    assert_eq!(server.post("/api/v1/events", &big).status, 413);
    let many = server.post("/api/v1/events", &event_lines("many", 51));
    assert_eq!(many.status, 413, "{}", many.body);
    assert!(many.json()["error"].as_str().unwrap().contains("at most 50"));
    assert!(stored_ids(&server.store_path()).is_empty());
}

#[test]
fn with_a_token_writes_need_it_and_reads_do_not() {
    let token = "correct-horse-battery-staple";
    let server = TestServer::start_with(
        |mut config| {
            config.token = Some(token.to_owned());
            config
        },
        |builder| builder,
    );
    let body = event_lines("t", 1);
    let url = format!("{}/api/v1/events", server.url);
    let missing = request(&url, Some(body.as_bytes()), None, &[]);
    assert_eq!((missing.status, missing.header("www-authenticate")), (401, "Bearer"));
    assert_eq!(
        request(&url, Some(body.as_bytes()), Some("correct-horse-battery-stapl"), &[]).status,
        401
    );
    assert_eq!(request(&url, Some(body.as_bytes()), Some("wrong"), &[]).status, 401);
    assert!(stored_ids(&server.store_path()).is_empty(), "refused writes change nothing");
    assert_eq!(request(&url, Some(body.as_bytes()), Some(token), &[]).status, 200);
    assert_eq!(server.get("/api/v1/events").status, 200, "reads stay open");
    assert_eq!(stored_ids(&server.store_path()), ["t-0"]);
}

#[test]
fn beyond_loopback_a_token_is_required() {
    let config = metrics_server::ServerConfig::default();
    let public = "0.0.0.0:9464".parse().unwrap();
    let err = config.check_exposure(public).unwrap_err().to_string();
    assert!(err.contains("without --token-file"), "{err}");
    assert!(config.check_exposure("127.0.0.1:9464".parse().unwrap()).is_ok());
    assert!(config.check_exposure("[::1]:9464".parse().unwrap()).is_ok());
    let mut with_token = config.clone();
    with_token.token = Some("0123456789abcdef".into());
    assert!(with_token.check_exposure(public).is_ok());
}

#[test]
fn a_held_lock_is_503_with_retry_after_and_nothing_applied() {
    let server = TestServer::start_with(
        |config| config,
        |builder| builder.lock_timeout(Duration::from_millis(200)),
    );
    let lock_path = server.dir.path().join(".agent_metrics.lock");
    let held = atomic_fs::FileLock::lock(&lock_path, Duration::from_secs(5)).unwrap();
    let reply = server.post("/api/v1/events", &event_lines("busy", 3));
    assert_eq!((reply.status, reply.header("retry-after")), (503, "1"), "{}", reply.body);
    assert!(reply.json()["error"].as_str().unwrap().contains("timed out"));
    drop(held);
    assert!(stored_ids(&server.store_path()).is_empty());
    assert_eq!(
        server.post("/api/v1/events", &event_lines("busy", 3)).status,
        200,
        "the retry succeeds"
    );
}

/// Room for every event of a test (the default keeps the latest 500).
fn room_for_all(builder: metrics_store::StoreBuilder) -> metrics_store::StoreBuilder {
    builder.limits(metrics_types::Limits { max_events: 10_000, ..metrics_types::Limits::DEFAULT })
}

#[test]
fn sixteen_concurrent_clients_lose_nothing_and_share_writes() {
    let server = TestServer::start_with(|config| config, room_for_all);
    let (clients, requests, per_request) = (16, 10, 5);
    std::thread::scope(|scope| {
        for client in 0..clients {
            let server = &server;
            scope.spawn(move || {
                for request in 0..requests {
                    let body = event_lines(&format!("c{client}-r{request}"), per_request);
                    let reply = server.post("/api/v1/events", &body);
                    assert_eq!(reply.status, 200, "{}", reply.body);
                    assert_eq!(reply.json()["recorded"].as_array().unwrap().len(), per_request);
                }
            });
        }
    });
    let mut ids = stored_ids(&server.store_path());
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), clients * requests * per_request);
    let metrics = server.get("/metrics").body;
    let counter = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let (acknowledged, batches) = (
        counter("agent_metrics_ingest_requests_total"),
        counter("agent_metrics_ingest_batches_total"),
    );
    assert_eq!(acknowledged, (clients * requests) as f64);
    assert!(
        batches < acknowledged,
        "concurrent requests were group-committed: {batches} writes for {acknowledged} requests"
    );
}

#[test]
fn stopping_finishes_the_requests_in_flight() {
    let server = TestServer::start_with(|config| config, room_for_all);
    let url = format!("{}/api/v1/events", server.url);
    let path = server.store_path();
    let acknowledged = std::sync::Mutex::new(Vec::new());
    let _dir = std::thread::scope(|scope| {
        for client in 0..8 {
            let (url, acknowledged) = (&url, &acknowledged);
            scope.spawn(move || {
                for request in 0..50 {
                    let prefix = format!("s{client}-{request}");
                    let agent = ureq::Agent::config_builder().http_status_as_error(false).build();
                    let agent: ureq::Agent = agent.into();
                    let post = agent.post(url).header("Content-Type", "application/x-ndjson");
                    match post.send(event_lines(&prefix, 2)) {
                        Ok(reply) if reply.status() == 200 => {
                            acknowledged
                                .lock()
                                .unwrap()
                                .extend([format!("{prefix}-0"), format!("{prefix}-1")]);
                        }
                        // Refused (503) or not accepted at all once the server stopped.
                        _ => {}
                    }
                }
            });
        }
        // Stop while the clients are sending, as SIGTERM would.
        std::thread::sleep(Duration::from_millis(150));
        let (ended, dir) = server.stop();
        assert!(ended.is_ok(), "a graceful stop ends serve with Ok");
        dir
    });
    let stored = stored_ids(&path);
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(!acknowledged.is_empty());
    for id in &acknowledged {
        assert!(stored.contains(id), "{id} was acknowledged but is not stored");
    }
}
