//! `agent-metrics check` (read-only verdict on the store and its backup) and
//! `agent-metrics recover` (restore the backup explicitly).

use std::fmt::Write;
use std::path::Path;

use metrics_store::{FileCheck, RecoveryAction, Verdict};
use serde_json::{Value, json};

use crate::commands::{Context, json};
use crate::error::CliError;

pub(crate) fn check(context: &mut Context, as_json: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    let report = store.check();
    let sound = report.is_sound();
    let lock_free = store.lock_is_free()?;
    let out = if as_json {
        json(&json!({
            "sound": sound,
            "main": file_json(&report.main),
            "backup": file_json(&report.backup),
            "lock_free": lock_free,
        }))
    } else {
        let mut out = String::new();
        for (label, file) in [("store ", &report.main), ("backup", &report.backup)] {
            describe(&mut out, label, file, context);
        }
        let holder = if lock_free { "free" } else { "held by a writer right now" };
        let _ = writeln!(out, "lock   {}: {holder}", store.lock_path().display());
        out
    };
    if sound {
        return Ok(out);
    }
    let summary = match (&report.main.verdict, &report.backup.verdict) {
        (Verdict::Missing, Verdict::Missing) => "no store".to_owned(),
        (main, backup) => format!("store {}, backup {}", verdict_word(main), verdict_word(backup)),
    };
    // The report still goes to standard output, though the command fails.
    Err(CliError::CheckFailed { path: context.store_path.clone(), summary, report: out })
}

fn describe(out: &mut String, label: &str, file: &FileCheck, context: &Context) {
    let paint = context.painter;
    let path = file.path.display();
    let _ = match &file.verdict {
        Verdict::Missing => writeln!(out, "{label} {path}: {}", paint.dim("missing")),
        Verdict::Sound { events, sessions, agents } => writeln!(
            out,
            "{label} {path}: {} ({events} events, {sessions} sessions, {agents} agents)",
            paint.good("sound")
        ),
        Verdict::NewerFormat { found } => {
            writeln!(
                out,
                "{label} {path}: {} (format version {found}; upgrade agent-metrics)",
                paint.warn("newer format")
            )
        }
        Verdict::Unreadable { message } => {
            writeln!(out, "{label} {path}: {}: {message}", paint.bad("unreadable"))
        }
        Verdict::Malformed { message } => {
            writeln!(out, "{label} {path}: {}: {message}", paint.bad("malformed"))
        }
        Verdict::Invalid { violations } => {
            let _ = writeln!(
                out,
                "{label} {path}: {} ({} violations)",
                paint.bad("invalid"),
                violations.len()
            );
            for violation in violations {
                let _ = writeln!(out, "  {violation}");
            }
            Ok(())
        }
    };
}

fn verdict_word(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Missing => "missing",
        Verdict::Sound { .. } => "sound",
        Verdict::NewerFormat { .. } => "newer format",
        Verdict::Unreadable { .. } => "unreadable",
        Verdict::Malformed { .. } => "malformed",
        Verdict::Invalid { .. } => "invalid",
    }
}

fn file_json(file: &FileCheck) -> Value {
    let mut value =
        json!({ "path": file.path.display().to_string(), "verdict": verdict_word(&file.verdict) });
    match &file.verdict {
        Verdict::Sound { events, sessions, agents } => {
            value["events"] = json!(events);
            value["sessions"] = json!(sessions);
            value["agents"] = json!(agents);
        }
        Verdict::NewerFormat { found } => value["version"] = json!(found),
        Verdict::Unreadable { message } | Verdict::Malformed { message } => {
            value["message"] = json!(message)
        }
        Verdict::Invalid { violations } => {
            value["violations"] = violations
                .iter()
                .map(|v| json!({ "path": v.path, "message": v.message }))
                .collect();
        }
        Verdict::Missing => {}
    }
    value
}

pub(crate) fn recover(context: &mut Context, as_json: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    let recovery = store.restore_from_backup()?;
    if as_json {
        let action = match &recovery.action {
            RecoveryAction::RestoredFromBackup => "restored_from_backup",
            RecoveryAction::StartedFresh { .. } => "started_fresh",
        };
        let set_aside: Vec<String> =
            recovery.set_aside.iter().map(|path| path.display().to_string()).collect();
        return Ok(json(
            &json!({ "action": action, "path": recovery.path.display().to_string(), "set_aside": set_aside }),
        ));
    }
    Ok(format!("{recovery}\n"))
}

/// `stress-reader` (internal, for `cargo xtask stress`): loads and validates the store without
/// the lock as fast as it can until `stop` exists, then reports what it saw.
pub(crate) fn stress_reader(context: &mut Context, stop: &Path) -> Result<String, CliError> {
    let store = context.open_store()?;
    let (mut reads, mut invalid, mut recoveries, mut empty) = (0u64, 0u64, 0u64, 0u64);
    let mut first_errors: Vec<String> = Vec::new();
    while !stop.exists() {
        reads += 1;
        match store.load() {
            Ok(loaded) => {
                recoveries += u64::from(loaded.recovery.is_some());
                empty += u64::from(loaded.state.events().is_empty());
            }
            Err(err) => {
                invalid += 1;
                if first_errors.len() < 5 {
                    first_errors.push(err.to_string());
                }
            }
        }
    }
    Ok(json(&json!({
        "reads": reads,
        "invalid": invalid,
        "recoveries": recoveries,
        "empty": empty,
        "errors": first_errors,
    })))
}
