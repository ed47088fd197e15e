//! `TestEnv`: a fresh directory holding a store, and a way to run the binary against it with a
//! fixed clock, no colour and no inherited store settings.
#![expect(clippy::disallowed_methods, reason = "fixtures plant store files directly")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SAMPLE: &[u8] = include_bytes!("../data/agent_metrics.sample.json");

/// "Now" for every command run by the tests: 5 minutes after the sample's last event.
pub(crate) const NOW: &str = "2026-02-14T17:50:12Z";

pub(crate) struct TestEnv {
    dir: tempfile::TempDir,
}

/// What a command did, normalised for snapshots.
pub(crate) struct Run {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) code: i32,
}

impl TestEnv {
    /// An empty directory.
    pub(crate) fn empty() -> TestEnv {
        TestEnv { dir: tempfile::tempdir().unwrap() }
    }

    /// A directory holding the Python dashboard's sample store.
    pub(crate) fn with_sample() -> TestEnv {
        let env = TestEnv::empty();
        std::fs::write(env.store(), SAMPLE).unwrap();
        env
    }

    /// The sample store with one more event recorded through the binary, so that the backup
    /// holds the sample and the store holds the sample plus `e-new`.
    pub(crate) fn with_two_generations() -> TestEnv {
        let env = TestEnv::with_sample();
        let run = env.run(&[
            "record",
            "event",
            "--agent",
            "coding",
            "--status",
            "success",
            "--event-id",
            "e-new",
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        env
    }

    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every file in the directory with its bytes, to show that a command wrote nothing.
    pub(crate) fn listing(&self) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(self.dir())
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let bytes = std::fs::read(entry.path()).unwrap_or_default();
                (entry.file_name().into_string().unwrap(), bytes)
            })
            .collect();
        files.sort();
        files
    }

    pub(crate) fn store(&self) -> PathBuf {
        self.dir.path().join(".agent_metrics.json")
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_agent-metrics"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("AGENT_METRICS_FILE")
            .env("AGENT_METRICS_NOW", NOW)
            .env("NO_COLOR", "1");
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        self.run_with_stdin_bytes(args, stdin.as_bytes())
    }

    /// Runs a command with raw bytes on standard input (not necessarily UTF-8).
    pub(crate) fn run_with_stdin_bytes(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let output = child.wait_with_output().unwrap();
        self.normalise(&output)
    }

    fn normalise(&self, output: &Output) -> Run {
        let dir = self.dir.path().display().to_string();
        let clean = |bytes: &[u8]| String::from_utf8_lossy(bytes).replace(&dir, "[DIR]");
        Run {
            stdout: clean(&output.stdout),
            stderr: clean(&output.stderr),
            code: output.status.code().unwrap_or(-1),
        }
    }
}

impl Run {
    /// Standard output, standard error and the exit code in labelled sections.
    pub(crate) fn snapshot(&self) -> String {
        format!("{}--- stderr ---\n{}--- exit {} ---", self.stdout, self.stderr, self.code)
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| panic!("{err}: {}", self.stdout))
    }
}
