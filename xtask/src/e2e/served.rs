//! A store seeded through the CLI and `agent-metrics serve` over it, as a real process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The agent name that must render as text, never as markup.
pub(crate) const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// The running server and its store.
pub(crate) struct Served {
    pub(crate) url: String,
    pub(crate) binary: PathBuf,
    pub(crate) dir: tempfile::TempDir,
    child: Child,
}

impl Served {
    pub(crate) fn start(binary: &Path, out: &Path) -> Result<Served, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        run_cli(binary, dir.path(), &["init", "--project", "e2e-fleet"])?;
        for (id, agent, status, cost) in [
            ("e1", "coding", "success", "0.25"),
            ("e2", "coding", "success", "0.50"),
            ("e3", "coding", "error", "0.25"),
            ("e4", "review", "success", "0.10"),
            ("e5", HOSTILE, "success", "0.01"),
        ] {
            #[rustfmt::skip]
            let args = [
                "record", "event", "--event-id", id, "--agent", agent, "--status", status,
                "--cost", cost, "--input-tokens", "1000", "--duration", "12", "--ticket", "AI-7",
                "--model", "claude-sonnet-4-5",
            ];
            run_cli(binary, dir.path(), &args)?;
        }
        let session = [
            "record",
            "session",
            "--session",
            "s-1",
            "--type",
            "initializer",
            "--status",
            "complete",
        ];
        run_cli(binary, dir.path(), &session)?;
        let log = super::log_file(&out.join("serve.log"))?;
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
        let mut first = String::new();
        if let Some(stdout) = child.stdout.as_mut() {
            BufReader::new(stdout).read_line(&mut first).map_err(|err| err.to_string())?;
        }
        let Some(url) = first.trim().strip_prefix("listening on ").map(str::to_owned) else {
            let _ = child.kill();
            return Err(format!("serve printed {first:?}, not its address"));
        };
        super::progress(&format!("serving {} at {url}", dir.path().display()));
        Ok(Served { url, binary: binary.to_path_buf(), dir, child })
    }

    /// Runs the CLI on the store; fails unless it exits 0.
    pub(crate) fn cli(&self, args: &[&str]) -> Result<String, String> {
        run_cli(&self.binary, self.dir.path(), args)
    }

    /// SIGTERM; the server must exit 0.
    pub(crate) fn stop(mut self) -> Result<(), String> {
        let pid = self.child.id().to_string();
        crate::cmd::exec(Command::new("sh").args(["-c", &format!("kill -TERM {pid}")]))?;
        let status = self.child.wait().map_err(|err| err.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("serve ended with {status} after SIGTERM"))
        }
    }
}

fn run_cli(binary: &Path, dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new(binary)
        .args(args)
        .current_dir(dir)
        .env_remove("AGENT_METRICS_FILE")
        .output()
        .map_err(|err| err.to_string())?;
    if !output.status.success() {
        return Err(format!("agent-metrics {args:?}: {}", String::from_utf8_lossy(&output.stderr)));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
