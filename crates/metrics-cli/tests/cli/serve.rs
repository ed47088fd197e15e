//! `agent-metrics serve` as a real process: the address on the first line, writes by CLI
//! processes and Python writers seen by the API while HTTP clients write too, SIGTERM ends
//! it with exit 0, and it refuses to expose writes without a token.

#![expect(clippy::disallowed_methods, reason = "the tests write token files, not store data")]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::TestEnv;

struct Served {
    child: Child,
    url: String,
}

fn serve(env: &TestEnv, extra: &[&str]) -> Served {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child =
        env.command(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    Served { child, url }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn event_ids(url: &str) -> Vec<String> {
    let mut response = http().get(&format!("{url}/api/v1/events?limit=100000")).call().unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_id"].as_str().unwrap().to_owned())
        .collect()
}

fn wait_for_ids(url: &str, wanted: &[String]) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ids = event_ids(url);
        if wanted.iter().all(|id| ids.contains(id)) || Instant::now() > deadline {
            return ids;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn terminate(mut served: Served) -> (i32, String) {
    let pid = served.child.id().to_string();
    assert!(
        Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]).status().unwrap().success()
    );
    let status = served.child.wait().unwrap();
    let mut stderr = String::new();
    served.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
#[cfg_attr(no_python3, ignore = "python3 is not installed: the Python writer cannot run")]
fn the_server_sees_cli_and_python_writers_and_stops_cleanly_on_sigterm() {
    let env = TestEnv::empty();
    assert_eq!(env.run(&["init", "--project", "served"]).code, 0);
    let served = serve(&env, &[]);
    let posted = http()
        .post(&format!("{}/api/v1/events", served.url))
        .header("Content-Type", "application/json")
        .send(r#"{"event_id": "over-http", "agent": "harness", "status": "success"}"#)
        .unwrap();
    assert_eq!(posted.status(), 200);
    let run = env.run(&[
        "record",
        "event",
        "--agent",
        "cli",
        "--status",
        "success",
        "--event-id",
        "from-cli",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut wanted = vec!["over-http".to_owned(), "from-cli".to_owned()];
    wanted.extend(python_writer(&env));
    let ids = wait_for_ids(&served.url, &wanted);
    for id in &wanted {
        assert!(ids.contains(id), "{id} missing from the API: {ids:?}");
    }
    let (code, stderr) = terminate(served);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("stopped"), "structured logs on stderr: {stderr}");
    let check = env.run(&["check"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

/// Five events written by a Python writer that follows the dashboard's protocol: their ids.
#[cfg(not(no_python3))]
fn python_writer(env: &TestEnv) -> Vec<String> {
    let writer = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/dashboard_writer.py");
    let acks = env.dir().join("py.acks");
    let output = Command::new("python3")
        .arg(writer)
        .arg(env.dir())
        .arg("py")
        .arg("5")
        .arg(&acks)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let ids: Vec<String> =
        std::fs::read_to_string(&acks).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(ids.len(), 5);
    ids
}

/// Without python3 the test below is ignored (see its attribute), so this is never called.
#[cfg(no_python3)]
fn python_writer(_env: &TestEnv) -> Vec<String> {
    Vec::new()
}

#[test]
fn beyond_loopback_without_a_token_it_refuses_to_start() {
    let env = TestEnv::empty();
    let run = env.run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("without --token-file"), "{}", run.stderr);
    assert_eq!(run.stdout, "", "it never listened");
    std::fs::write(env.dir().join("token"), "short\n").unwrap();
    let run = env.run(&["serve", "--listen", "0.0.0.0:0", "--token-file", "token"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("shorter than 16 characters"), "{}", run.stderr);
    let run = env.run(&["serve", "--token-file", "missing-token"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn with_a_token_file_writes_need_the_token() {
    let env = TestEnv::empty();
    std::fs::write(env.dir().join("token"), "a-long-enough-secret-token\n").unwrap();
    let served = serve(&env, &["--token-file", "token"]);
    let url = format!("{}/api/v1/events", served.url);
    let body = r#"{"event_id": "t1", "agent": "a", "status": "success"}"#;
    assert_eq!(
        http().post(&url).header("Content-Type", "application/json").send(body).unwrap().status(),
        401
    );
    let ok = http()
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer a-long-enough-secret-token")
        .send(body)
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (code, stderr) = terminate(served);
    assert_eq!(code, 0, "{stderr}");
}

/// `serve` under `prlimit --nofile=1024:1024` (it cannot raise the limit): 2,000 silent and
/// half-header sockets do not keep `/healthz` or ingest from answering at once, and the
/// server closes every one of them within its header timeout (1 s here).
#[test]
fn two_thousand_idle_sockets_under_a_1024_descriptor_limit_do_not_starve_the_server() {
    use std::io::Write;
    use std::net::TcpStream;
    // This test process holds the 2,000 client sockets: make room for them.
    let own = std::process::id().to_string();
    let raised = Command::new("prlimit").args(["--pid", &own, "--nofile=8192:8192"]).status();
    assert!(raised.is_ok_and(|status| status.success()), "prlimit (util-linux) is needed");
    let env = TestEnv::empty();
    let mut command = Command::new("prlimit");
    command
        .args(["--nofile=1024:1024", "--", env!("CARGO_BIN_EXE_agent-metrics")])
        .args(["serve", "--listen", "127.0.0.1:0", "--header-timeout", "1"])
        .current_dir(env.dir())
        .env_remove("AGENT_METRICS_FILE")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap().to_owned();
    let served = Served { child, url };
    let addr = served.url.trim_start_matches("http://").to_owned();
    let mut sockets = Vec::new();
    for i in 0..2000 {
        let mut stream = TcpStream::connect(&addr).unwrap();
        if i % 2 == 1 {
            // Slowloris: part of the headers, never the rest.
            let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        }
        sockets.push(stream);
    }
    let mut times = Vec::new();
    for i in 0..5 {
        let started = Instant::now();
        let health = http().get(&format!("{}/healthz", served.url)).call().unwrap();
        assert_eq!(health.status(), 200);
        let posted = http()
            .post(&format!("{}/api/v1/events", served.url))
            .header("Content-Type", "application/json")
            .send(format!(r#"{{"event_id": "under-load-{i}", "agent": "a", "status": "success"}}"#))
            .unwrap();
        assert_eq!(posted.status(), 200);
        times.push(started.elapsed());
    }
    times.sort();
    assert!(
        times[2] < Duration::from_millis(200) && times[4] < Duration::from_secs(1),
        "healthz + POST while 2,000 sockets are open: {times:?}"
    );
    // Every idle socket is closed by the server within the header timeout (plus slack).
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut open = sockets.len();
    while Instant::now() < deadline {
        open = sockets
            .iter()
            .filter(|stream| {
                stream.set_nonblocking(true).unwrap();
                let mut byte = [0u8; 512];
                match (&**stream).read(&mut byte) {
                    Ok(0) => false,
                    Ok(_) => true,
                    Err(err) => err.kind() == std::io::ErrorKind::WouldBlock,
                }
            })
            .count();
        if open == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(open, 0, "sockets the server left open past its header timeout");
    let (code, stderr) = terminate(served);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Too many open files"), "{stderr}");
}
