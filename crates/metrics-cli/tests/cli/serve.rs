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
    assert_eq!(http().post(&url).send(body).unwrap().status(), 401);
    let ok = http()
        .post(&url)
        .header("Authorization", "Bearer a-long-enough-secret-token")
        .send(body)
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (code, stderr) = terminate(served);
    assert_eq!(code, 0, "{stderr}");
}
