//! `cargo xtask e2e`: the server against real neighbours. A real Prometheus (Debian's
//! `prometheus`) scrapes `agent-metrics serve` and its query API must return the recorded
//! values; a real headless Chromium loads the dashboard, which must show the store's agents
//! and numbers in the rendered DOM, render a hostile agent name as text, pick up a CLI write
//! without a reload, and fit a phone's width. Screenshots go to `--out`.
//!
//! Missing programs are installed with `apt-get` where that works (CI runs as root on
//! Debian); where it cannot, the task fails and says so, unless `--skip-missing` is given.

mod attacker;
mod browser;
mod cdp;
mod prometheus;
mod served;

use std::path::PathBuf;
use std::process::Command;

use crate::cmd;

/// Options of `cargo xtask e2e`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// Where to write the screenshots and the logs (default: target/e2e)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// When prometheus or chromium cannot be installed, print why and succeed instead of failing
    #[arg(long)]
    skip_missing: bool,
}

impl Options {
    /// What CI runs: screenshots under target/e2e, and a failure when a program is missing.
    pub(crate) fn ci() -> Options {
        Options { out: None, skip_missing: false }
    }
}

pub(crate) fn run(options: &Options) -> Result<(), String> {
    let out = options.out.clone().unwrap_or_else(|| cmd::workspace_root().join("target/e2e"));
    std::fs::create_dir_all(&out).map_err(|err| format!("{}: {err}", out.display()))?;
    let prometheus = ensure_installed("prometheus", &["--version"], "prometheus");
    let chromium = ensure_installed("chromium", &["--version"], "chromium");
    for (found, name) in [(&prometheus, "prometheus"), (&chromium, "chromium")] {
        if let Err(why) = found {
            if options.skip_missing {
                skipped(&format!("{name}: {why}"));
            } else {
                return Err(format!("{name} is needed: {why}"));
            }
        }
    }
    cmd::exec(&mut cmd::cargo(&["build", "-p", "agent-metrics"]))?;
    let binary = cmd::workspace_root().join("target/debug/agent-metrics");
    let server = served::Served::start(&binary, &out)?;
    if prometheus.is_ok() {
        prometheus::check(&server, &out)?;
    }
    if chromium.is_ok() {
        browser::check(&server, &out)?;
        attacker::check(&server)?;
    }
    server.stop()
}

/// Installs `package` with apt-get when `program` does not run; says why it could not.
fn ensure_installed(program: &str, version_args: &[&str], package: &str) -> Result<(), String> {
    if cmd::is_installed(program, version_args) {
        return Ok(());
    }
    if !cmd::is_installed("apt-get", &["--version"]) {
        return Err("not installed, and apt-get is not available to install it".into());
    }
    let _ = cmd::exec(Command::new("apt-get").arg("update").arg("-qq"));
    cmd::exec(Command::new("apt-get").args(["install", "-y", "-qq", package]))
        .map_err(|err| format!("not installed, and installing it failed: {err}"))?;
    if cmd::is_installed(program, version_args) {
        Ok(())
    } else {
        Err("installed but does not run".into())
    }
}

#[expect(clippy::print_stderr, reason = "a skipped check says why")]
fn skipped(why: &str) {
    eprintln!("SKIPPED: {why}");
}

#[expect(clippy::print_stderr, reason = "xtask reports progress")]
fn progress(message: &str) {
    eprintln!("e2e: {message}");
}

/// Polls `check` every 100 ms until it returns `Some`, at most `seconds`.
fn poll<T>(seconds: u64, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if std::time::Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A free loopback port (bound, read, released).
fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|err| err.to_string())?;
    listener.local_addr().map(|addr| addr.port()).map_err(|err| err.to_string())
}

/// A blocking HTTP client that returns any status as a reply.
fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(20)))
        .build()
        .into()
}

/// GETs `url` and parses the JSON body.
fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let mut response = http().get(url).call().map_err(|err| format!("{url}: {err}"))?;
    let text = response.body_mut().read_to_string().map_err(|err| format!("{url}: {err}"))?;
    serde_json::from_str(&text).map_err(|err| format!("{url}: {err}: {text}"))
}

/// Writes a scratch file (a config, a screenshot): not store data, so no durable replace.
#[expect(clippy::disallowed_methods, reason = "scratch files of a test run, not data")]
fn write_scratch(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|err| format!("{}: {err}", path.display()))
}

/// A log file, emptied.
fn log_file(path: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::File::options()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(|err| format!("{}: {err}", path.display()))
}
