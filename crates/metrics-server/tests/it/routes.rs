//! Every read route, its filters and its errors.

use crate::support::TestServer;

fn seeded() -> TestServer {
    let server = TestServer::start();
    let lines = [
        r#"{"event_id": "e1", "agent": "coding", "status": "success", "ticket": "AI-7", "session": "s-1", "ended_at": "2026-02-14T10:00:00+00:00", "input_tokens": 100, "cost": 0.25}"#,
        r#"{"event_id": "e2", "agent": "review", "status": "error", "ticket": "AI-8", "session": "s-1", "ended_at": "2026-02-14T11:00:00+00:00"}"#,
        r#"{"event_id": "e3", "agent": "coding", "status": "success", "ticket": "AI-7", "session": "s-2", "ended_at": "2026-02-14T12:00:00+00:00"}"#,
    ]
    .join("\n");
    assert_eq!(server.post("/api/v1/events", &lines).status, 200);
    let session = r#"{"session_id": "s-1", "session_type": "initializer", "status": "complete"}"#;
    assert_eq!(server.post("/api/v1/sessions", session).status, 200);
    server.wait_for("/api/v1/sessions", |r| {
        r.json()["sessions"].as_array().is_some_and(|s| !s.is_empty())
    });
    server
}

fn ids(reply: &crate::support::Reply) -> Vec<String> {
    reply.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_view_answers_with_its_schema_version_and_the_file_format_names() {
    let server = seeded();
    for (path, view) in [
        ("/api/v1/status", "status"),
        ("/api/v1/agents", "agents"),
        ("/api/v1/agents/coding", "agent"),
        ("/api/v1/events", "events"),
        ("/api/v1/sessions", "sessions"),
        ("/api/v1/sessions/s-1", "session"),
        ("/api/v1/tickets/AI-7", "ticket"),
        ("/api/v1/report?measure=tokens&by=day", "report"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        assert_eq!(reply.header("content-type"), "application/json");
        let body = reply.json();
        assert_eq!((body["schema_version"].as_u64(), body["view"].as_str()), (Some(1), Some(view)));
    }
    let status = server.get("/api/v1/status").json();
    assert_eq!(status["totals"]["total_invocations"], 3);
    assert_eq!(status["agents"][0]["agent_name"], "coding");
    assert_eq!(status["agents"][0]["total_invocations"], 2);
    let session = &server.get("/api/v1/sessions").json()["sessions"][0];
    assert_eq!(
        session["agents_invoked"],
        serde_json::json!(["coding", "review"]),
        "derived from its events"
    );
    assert_eq!(session["tickets_worked"], serde_json::json!(["AI-7", "AI-8"]));
    let agent = server.get("/api/v1/agents/coding").json();
    assert_eq!(agent["recent_events"], serde_json::json!(["e1", "e3"]));
    let health = server.get("/healthz").json();
    assert_eq!(health["status"], "ok");
}

#[test]
fn event_filters_select_and_combine() {
    let server = seeded();
    assert_eq!(ids(&server.get("/api/v1/events")), ["e3", "e2", "e1"]);
    assert_eq!(ids(&server.get("/api/v1/events?agent=coding")), ["e3", "e1"]);
    assert_eq!(ids(&server.get("/api/v1/events?status=error")), ["e2"]);
    assert_eq!(ids(&server.get("/api/v1/events?session=s-1&ticket=AI-7")), ["e1"]);
    assert_eq!(ids(&server.get("/api/v1/events?limit=1")), ["e3"]);
    let window = "/api/v1/events?since=2026-02-14T10:30:00%2B00:00&until=2026-02-14T12:00:00Z";
    assert_eq!(ids(&server.get(window)), ["e2"]);
    // The CLI's forms too: a date is its UTC midnight, an age counts back from now.
    assert_eq!(ids(&server.get("/api/v1/events?since=2026-02-14&until=2026-02-15")).len(), 3);
    assert_eq!(ids(&server.get("/api/v1/events?until=2026-02-14")), Vec::<String>::new());
    assert!(ids(&server.get("/api/v1/events?since=1h")).is_empty(), "the seeded events are old");
    assert_eq!(ids(&server.get("/api/v1/events?since=100000d")).len(), 3);
    let sessions = server.get("/api/v1/sessions?agent=nobody").json();
    assert_eq!(sessions["sessions"], serde_json::json!([]));
}

#[test]
fn bad_requests_get_a_status_and_a_message() {
    let server = seeded();
    for (path, status, fragment) in [
        ("/api/v1/events?stauts=error", 400, "unknown parameter \"stauts\""),
        ("/api/v1/events?status=exploded", 400, "unknown status \"exploded\""),
        ("/api/v1/events?since=yesterday", 400, "since:"),
        ("/api/v1/events?limit=-1", 400, "limit \"-1\" is not a count"),
        ("/api/v1/agents/nobody", 404, "no agent named \"nobody\""),
        ("/api/v1/tickets/AI-404", 404, "no stored event names ticket \"AI-404\""),
        ("/api/v1/sessions/s-404", 404, "no session \"s-404\""),
        ("/api/v1/report?by=week", 400, "expected agent, model, ticket or day"),
        ("/api/v1/nothing", 404, "no such route"),
        ("/../../etc/passwd", 404, "no such route"),
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        let message = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(message.contains(fragment), "{path}: {message}");
    }
}

#[test]
fn metrics_are_negotiated_and_include_the_server_counters() {
    let server = seeded();
    let classic = server.get("/metrics");
    assert_eq!(classic.status, 200);
    assert!(classic.header("content-type").starts_with("text/plain; version=0.0.4"));
    let scrape =
        prometheus_parse::Scrape::parse(classic.body.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let value = |metric: &str, label: (&str, &str)| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(label.0) == Some(label.1))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) => v,
                _ => panic!("{metric} is not a counter"),
            })
            .unwrap_or_else(|| panic!("{metric} missing:\n{}", classic.body))
    };
    assert_eq!(value("agent_metrics_invocations_total", ("agent", "coding")), 2.0);
    assert_eq!(value("agent_metrics_ingest_events_total", ("outcome", "recorded")), 3.0);
    assert!(value("agent_metrics_store_writes_total", ("project", "")) >= 2.0);
    let open = server.get_with(
        "/metrics",
        &[("Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5")],
    );
    assert!(open.header("content-type").starts_with("application/openmetrics-text"));
    assert!(open.body.ends_with("# EOF\n"));
    assert!(open.body.contains("# TYPE agent_metrics_ingest_batch_requests histogram"));
}

#[test]
fn the_page_and_its_assets_come_from_the_binary_with_a_strict_policy() {
    let server = TestServer::start();
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.body.contains("<script src=\"/assets/app.js\"></script>"));
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "nothing from elsewhere"
    );
    let policy = page.header("content-security-policy");
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    let script = server.get("/assets/app.js");
    assert!(script.header("content-type").starts_with("text/javascript"));
    assert!(!script.body.contains("innerHTML"), "store strings never become markup");
    assert_eq!(server.get("/assets/style.css").status, 200);
}

/// The Grafana dashboard in docs/ is built on the exported names: every metric it queries
/// is in `/metrics` (the end-to-end check also runs its queries against a real Prometheus).
#[test]
fn every_metric_the_example_grafana_dashboard_queries_is_exported() {
    let server = seeded();
    let exported = server.get("/metrics").body;
    let dashboard = include_str!("../../../../docs/examples/grafana-dashboard.json");
    let mut names: Vec<&str> = dashboard
        .match_indices("agent_metrics_")
        .map(|(at, _)| {
            let rest = &dashboard[at..];
            &rest[..rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len())]
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        assert!(
            exported.lines().any(|line| line.starts_with(name)),
            "{name} is queried by docs/examples/grafana-dashboard.json but not exported"
        );
    }
}

#[test]
fn a_wrong_method_gets_405_with_json_and_allow() {
    let server = seeded();
    let reply =
        crate::support::request(&format!("{}/api/v1/agents", server.url), Some(b"{}"), None, &[]);
    assert_eq!(reply.status, 405, "{}", reply.body);
    assert_eq!(reply.header("allow"), "GET");
    assert!(
        reply.json()["error"].as_str().unwrap().contains("POST is not allowed"),
        "{}",
        reply.body
    );
}

#[test]
fn a_byte_order_mark_before_the_json_is_not_an_error() {
    let server = seeded();
    let body = "\u{feff}{\"event_id\": \"bom-1\", \"agent\": \"a\", \"status\": \"success\"}";
    let reply = server.post("/api/v1/events", body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["recorded"], serde_json::json!(["bom-1"]));
}
