//! Every refusal of `docs/server.md`, "Security", over a real socket: raw HTTP/1.1 requests,
//! so the test controls every header (`Host` included), and the store read afterwards to
//! show nothing was recorded.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{TestServer, stored_ids};

/// Sends `head` (request line and headers, without the blank line) and `body`; returns the
/// status and the body of the answer (the server closes the connection: `Connection: close`).
fn raw(server: &TestServer, head: &str, body: &str) -> (u16, String) {
    let addr = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request =
        format!("{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

fn host(server: &TestServer) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

const EVENT: &str = r#"{"event_id": "evil-1", "agent_name": "evil", "status": "success"}"#;

#[test]
fn a_cross_site_write_is_refused_whatever_it_looks_like() {
    let server = TestServer::start();
    let h = host(&server);
    let cases = [
        // What a form or a no-cors fetch can send without a preflight.
        (format!("Host: {h}\r\nContent-Type: text/plain"), 415),
        (format!("Host: {h}\r\nContent-Type: application/x-www-form-urlencoded"), 415),
        (format!("Host: {h}\r\nContent-Type: multipart/form-data; boundary=x"), 415),
        (format!("Host: {h}"), 415),
        // JSON, but from another origin or site.
        (
            format!("Host: {h}\r\nContent-Type: application/json\r\nOrigin: http://127.0.0.2:8000"),
            403,
        ),
        (format!("Host: {h}\r\nContent-Type: application/json\r\nOrigin: null"), 403),
        (format!("Host: {h}\r\nContent-Type: application/json\r\nSec-Fetch-Site: cross-site"), 403),
        (format!("Host: {h}\r\nContent-Type: application/json\r\nSec-Fetch-Site: same-site"), 403),
        // DNS rebinding: a name that is not this server's.
        ("Host: evil.example:9464\r\nContent-Type: application/json".to_owned(), 421),
    ];
    for (headers, expected) in &cases {
        let (status, body) =
            raw(&server, &format!("POST /api/v1/events HTTP/1.1\r\n{headers}"), EVENT);
        assert_eq!(status, *expected, "{headers}: {body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(error["error"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let (status, _) = raw(
        &server,
        &format!(
            "OPTIONS /api/v1/events HTTP/1.1\r\nHost: {h}\r\nOrigin: http://evil.example\r\nAccess-Control-Request-Method: POST"
        ),
        "",
    );
    assert_eq!(status, 403, "a cross-origin preflight is not granted");
    assert!(stored_ids(&server.store_path()).is_empty(), "nothing was recorded");
    let (status, body) = raw(
        &server,
        &format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: {h}\r\nContent-Type: application/json\r\nOrigin: http://{h}\r\nSec-Fetch-Site: same-origin"
        ),
        EVENT,
    );
    assert_eq!(status, 200, "the page's own origin writes: {body}");
}

#[test]
fn a_foreign_host_reads_nothing() {
    let server = TestServer::start();
    for path in ["/api/v1/agents", "/api/v1/status", "/", "/metrics", "/healthz"] {
        let (status, body) =
            raw(&server, &format!("GET {path} HTTP/1.1\r\nHost: evil.example:9464"), "");
        assert_eq!(status, 421, "{path}: {body}");
        let (status, _) =
            raw(&server, &format!("GET {path} HTTP/1.1\r\nHost: {}", host(&server)), "");
        assert_eq!(status, 200, "{path} by its own name");
    }
    let port = host(&server).rsplit_once(':').unwrap().1.to_owned();
    for name in ["localhost", "[::1]", "127.0.0.1"] {
        let (status, _) =
            raw(&server, &format!("GET /healthz HTTP/1.1\r\nHost: {name}:{port}"), "");
        assert_eq!(status, 200, "{name}");
    }
}

#[test]
fn allowed_hosts_add_names_for_a_reverse_proxy() {
    let server = TestServer::start_with(
        |mut config| {
            config.allowed_hosts = vec!["metrics.internal".to_owned()];
            config
        },
        |builder| builder,
    );
    let port = host(&server).rsplit_once(':').unwrap().1.to_owned();
    let (status, _) =
        raw(&server, &format!("GET /api/v1/agents HTTP/1.1\r\nHost: metrics.internal:{port}"), "");
    assert_eq!(status, 200);
    let (status, _) =
        raw(&server, &format!("GET /api/v1/agents HTTP/1.1\r\nHost: other.internal:{port}"), "");
    assert_eq!(status, 421);
}

#[test]
fn token_for_reads_closes_every_view_but_healthz() {
    let token = "0123456789abcdef-token";
    let server = TestServer::start_with(
        |mut config| {
            config.token = Some(token.to_owned());
            config.token_for_reads = true;
            config
        },
        |builder| builder,
    );
    let h = host(&server);
    let (status, _) = raw(&server, &format!("GET /api/v1/agents HTTP/1.1\r\nHost: {h}"), "");
    assert_eq!(status, 401);
    let (status, _) = raw(
        &server,
        &format!("GET /api/v1/agents HTTP/1.1\r\nHost: {h}\r\nAuthorization: Bearer {token}"),
        "",
    );
    assert_eq!(status, 200);
    let (status, _) = raw(&server, &format!("GET /healthz HTTP/1.1\r\nHost: {h}"), "");
    assert_eq!(status, 200, "probes need no token");
    let (status, _) = raw(
        &server,
        &format!("POST /api/v1/events HTTP/1.1\r\nHost: {h}\r\nContent-Type: application/json"),
        EVENT,
    );
    assert_eq!(status, 401);
}

#[test]
fn a_body_that_does_not_arrive_in_time_gets_408_and_nothing_is_recorded() {
    let server = TestServer::start_with(
        |mut config| {
            config.body_timeout = Duration::from_millis(300);
            config
        },
        |builder| builder,
    );
    let mut stream = TcpStream::connect(host(&server)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /api/v1/events HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"agent\"",
        host(&server)
    );
    stream.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(stored_ids(&server.store_path()).is_empty());
}

#[test]
fn a_silent_or_half_header_connection_is_closed_after_the_header_timeout() {
    let server = TestServer::start_with(
        |mut config| {
            config.header_timeout = Duration::from_millis(400);
            config
        },
        |builder| builder,
    );
    let silent = TcpStream::connect(host(&server)).unwrap();
    let mut half = TcpStream::connect(host(&server)).unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x").unwrap();
    for mut stream in [silent, half] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let started = Instant::now();
        let mut rest = Vec::new();
        // Closed by the server: read ends (EOF, or a 408 then EOF) well before 5 s.
        let _ = stream.read_to_end(&mut rest);
        let waited = started.elapsed();
        assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    }
}

#[test]
fn at_the_connection_cap_idle_sockets_give_way_to_a_real_request() {
    let server = TestServer::start_with(
        |mut config| {
            config.max_connections = 16;
            config
        },
        |builder| builder,
    );
    let idle: Vec<TcpStream> =
        (0..64).map(|_| TcpStream::connect(host(&server)).unwrap()).collect();
    let started = Instant::now();
    let reply = server.post("/api/v1/events", EVENT);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.get("/healthz").status, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    drop(idle);
    // The evictions are visible to an operator.
    let metrics = server.get("/metrics").body;
    let evicted = metrics
        .lines()
        .find(|line| line.starts_with("agent_metrics_server_connections_evicted_total"))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse::<f64>().ok());
    assert!(evicted.is_some_and(|n| n >= 48.0), "{evicted:?} in:\n{metrics}");
}

#[test]
fn healthz_is_degraded_with_503_when_no_readable_state_exists_and_recovers_after() {
    #![expect(clippy::disallowed_methods, reason = "the test damages the store on purpose")]
    let server = TestServer::start();
    assert_eq!(server.post("/api/v1/events", EVENT).status, 200);
    assert_eq!(server.post("/api/v1/events", &EVENT.replace("evil-1", "evil-2")).status, 200);
    let path = server.store_path();
    let backup = path.with_file_name(".agent_metrics.json.bak");
    let (good, good_backup) = (std::fs::read(&path).unwrap(), std::fs::read(&backup).unwrap());
    std::fs::write(&path, b"{ not json").unwrap();
    std::fs::write(&backup, b"\0\0\0").unwrap();
    let health = server.wait_for("/healthz", |reply| reply.status == 503);
    assert_eq!(health.status, 503, "{}", health.body);
    let body = health.json();
    assert_eq!(body["status"], "degraded");
    assert!(body["warning"].as_str().unwrap().contains("cannot be read"), "{body}");
    let status = server.get("/api/v1/status").json();
    assert!(
        status["warning"].as_str().is_some_and(|w| w.contains("cannot be read")),
        "the page's banner"
    );
    std::fs::write(&backup, good_backup).unwrap();
    std::fs::write(&path, good).unwrap();
    let health = server.wait_for("/healthz", |reply| reply.status == 200);
    assert_eq!(health.json()["status"], "ok");
}
