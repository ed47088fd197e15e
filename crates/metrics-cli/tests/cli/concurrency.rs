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
        .map(|a| a["invocations"].as_u64().unwrap())
        .sum();
    assert_eq!(total, processes * per_process);
    let events = env.run(&["events", "--json", "--limit", "1000"]).json();
    assert_eq!(events["events"].as_array().unwrap().len() as u64, processes * per_process);
    assert_eq!(env.run(&["check"]).code, 0);
}
