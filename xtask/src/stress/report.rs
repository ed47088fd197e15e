//! The stress report: the final inspection of the store, the verdict table, throughput and
//! lock figures, as text or JSON; and the progress bar shown while the run goes.
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "xtask reports to the terminal")]

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::verify::{Check, readers_saw_only_whole_generations, verify};
use super::{Options, RunOutcome, observe};

pub(crate) fn progress(total: Option<u64>, quiet: bool) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(total),
        None => indicatif::ProgressBar::new_spinner(),
    };
    let template =
        "{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} events acknowledged ({per_sec})";
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

pub(crate) fn note(message: &str) {
    eprintln!("{message}");
}

pub(crate) struct Report {
    checks: Vec<Check>,
    summary: Value,
}

impl Report {
    pub(crate) fn gather(
        options: &Options,
        seed: u64,
        binary: &Path,
        dir: &Path,
        store: &Path,
        outcome: RunOutcome,
    ) -> Result<Report, String> {
        let observed = observe(binary, store, &outcome)?;
        let mut checks = verify(&observed);
        checks.push(file_check(binary, store));
        checks
            .push(readers_saw_only_whole_generations(&outcome.readers, outcome.corruption_window));
        checks.push(leftovers_check(dir, store));
        if options.python_writers > 0 {
            let damaged = outcome.python_damaged_loads;
            checks.push(Check {
                name: "the Python writers never loaded a damaged file",
                passed: damaged == 0,
                detail: format!("{damaged} damaged loads"),
            });
        }

        let events: u64 = outcome.writers.iter().map(|w| w.log.acked.len() as u64).sum();
        let stats: Vec<&Value> = outcome.writers.iter().flat_map(|w| w.stats.iter()).collect();
        let sum = |key: &str| stats.iter().filter_map(|s| s[key].as_u64()).sum::<u64>();
        let max = |key: &str| stats.iter().filter_map(|s| s[key].as_u64()).max().unwrap_or(0);
        let reads: u64 = outcome.readers.iter().map(|r| r.reads).sum();
        let damaged_reads: u64 = outcome.readers.iter().map(|r| r.damaged).sum();
        let secs = outcome.elapsed.as_secs_f64();
        let writes: u64 = outcome.writers.iter().map(|w| w.acked_writes.len() as u64).sum();
        let acquisitions = sum("lock_acquisitions");
        let mean_wait_ms = if acquisitions > 0 {
            sum("lock_wait_total_ns") as f64 / 1e6 / acquisitions as f64
        } else {
            0.0
        };
        let summary = json!({
            "seed": seed,
            "writers": options.writers,
            "readers": options.readers,
            "elapsed_seconds": secs,
            "events_acknowledged": events,
            "events_per_second": events as f64 / secs,
            "writes_acknowledged": writes,
            "writes_per_second": writes as f64 / secs,
            "lock_wait_total_ms": sum("lock_wait_total_ns") as f64 / 1e6,
            "lock_wait_max_ms": max("lock_wait_max_ns") as f64 / 1e6,
            "lock_wait_mean_ms": mean_wait_ms,
            "lock_timeouts": sum("lock_timeouts"),
            "kills": outcome.kills,
            "restarts": outcome.writers.iter().map(|w| w.restarts).sum::<u64>(),
            "corruptions": outcome.corruptions,
            "events_lost_with_the_corrupted_generation": outcome.lost_to_corruption.len(),
            "recoveries_by_writers": sum("recoveries"),
            "reads": reads,
            "damaged_reads_in_the_corruption_window": damaged_reads,
            "python_writers": options.python_writers,
            "python_damaged_loads": outcome.python_damaged_loads,
            "busy_loops": options.busy_loops,
        });
        Ok(Report { checks, summary })
    }

    pub(crate) fn passed(&self) -> bool {
        self.checks.iter().all(|check| check.passed)
    }

    pub(crate) fn print(&self, as_json: bool) {
        if as_json {
            let checks: Vec<Value> = self
                .checks
                .iter()
                .map(|c| json!({ "check": c.name, "passed": c.passed, "detail": c.detail }))
                .collect();
            let report =
                json!({ "passed": self.passed(), "checks": checks, "summary": self.summary });
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            return;
        }
        println!("{:<54} {:<6} DETAIL", "CHECK", "RESULT");
        for check in &self.checks {
            let result = if check.passed { "ok" } else { "FAILED" };
            println!("{:<54} {result:<6} {}", check.name, check.detail);
        }
        let s = &self.summary;
        println!();
        println!(
            "{} events acknowledged in {:.2}s: {:.0} events/s, {:.0} acknowledged durable writes/s (seed {})",
            s["events_acknowledged"],
            s["elapsed_seconds"].as_f64().unwrap_or(0.0),
            s["events_per_second"].as_f64().unwrap_or(0.0),
            s["writes_per_second"].as_f64().unwrap_or(0.0),
            s["seed"]
        );
        println!(
            "lock waits (writers that exited cleanly): mean {:.2} ms, max {:.2} ms, {} timeouts; {} kills, {} restarts, {} corruption(s) losing {} event(s), {} recoveries",
            s["lock_wait_mean_ms"].as_f64().unwrap_or(0.0),
            s["lock_wait_max_ms"].as_f64().unwrap_or(0.0),
            s["lock_timeouts"],
            s["kills"],
            s["restarts"],
            s["corruptions"],
            s["events_lost_with_the_corrupted_generation"],
            s["recoveries_by_writers"]
        );
        println!(
            "readers: {} reads without any lock or recovery, {} of them damaged (all inside the deliberate corruption window, or the run failed)",
            s["reads"], s["damaged_reads_in_the_corruption_window"]
        );
        if s["python_writers"].as_u64().unwrap_or(0) > 0 {
            println!(
                "python writers: {} (the dashboard's protocol), {} damaged loads seen by them",
                s["python_writers"], s["python_damaged_loads"]
            );
        }
    }
}

fn file_check(binary: &Path, store: &Path) -> Check {
    let name = "file and backup validate, lock is free";
    let output = Command::new(binary).arg("--file").arg(store).args(["check", "--json"]).output();
    let report: Option<Value> =
        output.ok().and_then(|output| serde_json::from_slice(&output.stdout).ok());
    match report {
        Some(report) if report["sound"] == true && report["lock_free"] == true => {
            Check { name, passed: true, detail: "both sound".to_owned() }
        }
        Some(report) => Check { name, passed: false, detail: report.to_string() },
        None => Check { name, passed: false, detail: "check did not report".to_owned() },
    }
}

fn leftovers_check(dir: &Path, store: &Path) -> Check {
    let name = store.file_name().unwrap_or_default().to_string_lossy().into_owned();
    // Ours, and the Python dashboard's (`.agent_metrics_*.tmp`, `.agent_metrics_bak_*.tmp`).
    let prefixes =
        [format!(".{name}.tmp."), format!(".{name}.bak-tmp."), ".agent_metrics_".to_owned()];
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|file| prefixes.iter().any(|prefix| file.starts_with(prefix.as_str())))
                .collect()
        })
        .unwrap_or_default();
    Check {
        name: "no temporary files remain",
        passed: leftovers.is_empty(),
        detail: if leftovers.is_empty() { "none".to_owned() } else { leftovers.join(", ") },
    }
}
