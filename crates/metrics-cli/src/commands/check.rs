//! `agent-metrics check` (read-only verdict on the store and its backup) and
//! `agent-metrics recover` (restore the backup explicitly).

use std::fmt::Write;
use std::path::Path;

use metrics_store::{FileCheck, JournalReport, RecoveryAction, RestoreFrom, Verdict};
use serde_json::{Value, json};

use crate::commands::{Context, json};
use crate::error::CliError;
use crate::style::{plural, safe};

pub(crate) fn check(context: &mut Context, as_json: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    let report = store.check();
    // No store at all is not sound: a `check || alert` cron line must see a deleted store.
    if report.main.verdict == Verdict::Missing && report.backup.verdict == Verdict::Missing {
        return Err(CliError::NoStore { path: context.store_path.clone() });
    }
    let sound = report.is_sound();
    let lock_free = store.lock_is_free()?;
    let out = if as_json {
        json(&json!({
            "sound": sound,
            "main": file_json(&report.main),
            "backup": file_json(&report.backup),
            "journal": report.journal.as_ref().map(journal_json),
            "lock_free": lock_free,
            "shared_directory": store.shared_directory_warning(),
        }))
    } else {
        let mut out = String::new();
        for (label, file) in [("store  ", &report.main), ("backup ", &report.backup)] {
            describe(&mut out, label, file, context);
        }
        if let Some(journal) = &report.journal {
            describe_journal(&mut out, journal, context);
        }
        let holder = if lock_free { "free" } else { "held by a writer right now" };
        let _ = writeln!(out, "lock    {}: {holder}", store.lock_path().display());
        if let Some(shared) = store.shared_directory_warning() {
            let _ = writeln!(out, "finding: {shared}");
        }
        out
    };
    if sound {
        return Ok(out);
    }
    let mut summary = match (&report.main.verdict, &report.backup.verdict) {
        (Verdict::Missing, Verdict::Missing) => "no store".to_owned(),
        (main, backup) => format!("store {}, backup {}", verdict_word(main), verdict_word(backup)),
    };
    if report.journal.as_ref().is_some_and(|journal| !journal.problems.is_empty()) {
        summary.push_str(", journal damaged");
    }
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
            "{label} {path}: {} ({}, {}, {})",
            paint.good("sound"),
            plural(*events, "event", "events"),
            plural(*sessions, "session", "sessions"),
            plural(*agents, "agent", "agents")
        ),
        Verdict::NewerFormat { found } => {
            writeln!(
                out,
                "{label} {path}: {} (format version {found}; upgrade agent-metrics)",
                paint.warn("newer format")
            )
        }
        Verdict::Unreadable { message } => {
            writeln!(out, "{label} {path}: {}: {}", paint.bad("unreadable"), safe(message))
        }
        Verdict::Malformed { message } => {
            writeln!(out, "{label} {path}: {}: {}", paint.bad("malformed"), safe(message))
        }
        Verdict::Invalid { violations } => {
            let _ = writeln!(
                out,
                "{label} {path}: {} ({} violations)",
                paint.bad("invalid"),
                violations.len()
            );
            for violation in violations {
                let _ = writeln!(out, "  {}", safe(&violation.to_string()));
            }
            Ok(())
        }
    };
}

fn describe_journal(out: &mut String, journal: &JournalReport, context: &Context) {
    let paint = context.painter;
    let path = journal.path.display();
    let state = if journal.problems.is_empty() && journal.refused.is_empty() {
        paint.good("sound")
    } else {
        paint.bad("damaged")
    };
    let torn = journal.torn_tail.map_or(String::new(), |bytes| {
        format!(", {bytes} bytes of an unfinished entry ignored (the next write keeps them aside)")
    });
    let _ = writeln!(
        out,
        "journal {path}: {state} ({} not yet in the store{torn})",
        plural(journal.applied, "entry", "entries")
    );
    for problem in journal.problems.iter().chain(&journal.refused) {
        let _ = writeln!(out, "  {}", safe(problem));
    }
    if journal.restored > 0 {
        let _ = writeln!(
            out,
            "  {} event(s) and session(s) a write of an older state dropped are taken from the backup (the next write puts them back in the file)",
            journal.restored
        );
    }
}

fn journal_json(journal: &JournalReport) -> Value {
    json!({
        "path": journal.path.display().to_string(),
        "pending_entries": journal.applied,
        "torn_tail_bytes": journal.torn_tail,
        "problems": journal.problems,
        "refused": journal.refused,
        "restored_from_backup": journal.restored,
    })
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

pub(crate) fn recover(
    context: &mut Context,
    force: bool,
    from: Option<&Path>,
    as_json: bool,
) -> Result<String, CliError> {
    let store = context.open_store()?;
    let source = match from {
        Some(path) => RestoreFrom::File(path.to_owned()),
        None => RestoreFrom::Backup,
    };
    let recovery = store.restore(&source, force)?;
    if as_json {
        let action = match &recovery.action {
            RecoveryAction::RestoredFromBackup => "restored_from_backup",
            RecoveryAction::RestoredFromFile { .. } => "restored_from_file",
            RecoveryAction::JournalKeptAside => "journal_kept_aside",
            RecoveryAction::ReappliedFromBackup { .. } => "reapplied_from_backup",
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
