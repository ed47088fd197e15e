//! Completions work in a real `bash` (issue 16): the script `agent-metrics completions bash`
//! prints is loaded and its completion function asked, as bash would on TAB.

use std::process::Command;

use crate::support::TestEnv;

/// The words bash would offer for the command line `words` (the last one being completed).
fn complete(script: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let program = format!(
        "source \"$1\"\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_agent__metrics agent-metrics '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        cword = words.len() - 1,
        cur = words[words.len() - 1],
        prev = words[words.len() - 2],
    );
    let output =
        Command::new("bash").arg("-c").arg(program).arg("bash").arg(script).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn bash_completes_subcommands_and_options() {
    let env = TestEnv::empty();
    let run = env.run(&["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let script = env.dir().join("agent-metrics.bash");
    #[expect(clippy::disallowed_methods, reason = "a scratch copy of the script for bash")]
    std::fs::write(&script, &run.stdout).unwrap();
    let script = script.to_str().unwrap();
    let record = complete(script, &["agent-metrics", "record", ""]);
    assert!(
        ["event", "session", "stream"].iter().all(|sub| record.iter().any(|w| w == sub)),
        "{record:?}"
    );
    let events = complete(script, &["agent-metrics", "events", "--st"]);
    assert_eq!(events, ["--status"], "{events:?}");
    let top = complete(script, &["agent-metrics", ""]);
    assert!(top.iter().any(|w| w == "status"), "{top:?}");
    assert!(!top.iter().any(|w| w == "demo-worker"), "{top:?}");
}
