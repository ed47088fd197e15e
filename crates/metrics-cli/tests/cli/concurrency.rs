//! Several `record event` processes at once lose nothing.

use crate::support::TestEnv;

#[test]
fn concurrent_record_processes_lose_nothing() {
    let env = TestEnv::empty();
    let (processes, per_process) = (6, 8);
    let children: Vec<_> = (0..processes)
        .map(|p| {
            let script: String = (0..per_process)
                .map(|i| {
                    format!(
                        "{} record event --agent agent-{} --status success --event-id p{p}-{i} --input-tokens 10 && ",
                        env!("CARGO_BIN_EXE_agent-metrics"),
                        p % 3
                    )
                })
                .collect();
            let mut command = std::process::Command::new("sh");
            command.arg("-c").arg(format!("{script}true")).current_dir(env.dir()).env_remove("AGENT_METRICS_FILE");
            command.stdout(std::process::Stdio::null());
            command.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let agents = env.run(&["agents", "--json"]).json();
    let total: u64 = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["total_invocations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, processes * per_process);
    let events = env.run(&["events", "--json", "--limit", "1000"]).json();
    assert_eq!(events["events"].as_array().unwrap().len() as u64, processes * per_process);
    assert_eq!(env.run(&["check"]).code, 0);
}

#[test]
fn concurrent_record_session_calls_get_distinct_numbers_and_correct_sums() {
    // Issue 12: the number and the sums are derived inside the locked update, so two
    // concurrent calls can no longer both read `total_sessions` before either writes.
    let env = TestEnv::empty();
    let sessions = 6;
    let events: String = (0..sessions)
        .flat_map(|s| (0..3).map(move |i| format!("{{\"event_id\": \"s{s}-{i}\", \"agent_name\": \"a\", \"status\": \"success\", \"session_id\": \"s{s}\", \"input_tokens\": {}}}\n", 10 * (s + 1))))
        .collect();
    let run = env.run_with_stdin(&["record", "event", "--json", "-"], &events);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let children: Vec<_> = (0..sessions)
        .map(|s| {
            let mut command = env.command(&[
                "record",
                "session",
                "--session",
                &format!("s{s}"),
                "--type",
                "continuation",
                "--status",
                "complete",
            ]);
            command.stdout(std::process::Stdio::null());
            command.spawn().unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let recorded = env.run(&["sessions", "--json"]).json();
    let recorded = recorded["sessions"].as_array().unwrap();
    let mut numbers: Vec<u64> =
        recorded.iter().map(|s| s["session_number"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=sessions as u64).collect::<Vec<_>>(), "distinct numbers");
    for session in recorded {
        let id = session["session_id"].as_str().unwrap();
        let s: u64 = id[1..].parse().unwrap();
        assert_eq!(session["total_tokens"], 3 * 10 * (s + 1), "{id}: the sum of its events");
    }
}
