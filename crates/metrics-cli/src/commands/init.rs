//! `agent-metrics init` (create an empty store, refusing to replace one), `config` (the
//! storage mode) and `checkpoint` (fold the journal into the store).

use metrics_types::StorageMode;
use serde_json::json;

use crate::cli::OnOff;
use crate::commands::{Context, json};
use crate::error::CliError;

pub(crate) fn run(
    context: &mut Context,
    project: Option<&str>,
    journal: bool,
) -> Result<String, CliError> {
    let path = context.store_path.clone();
    let store = metrics_store::MetricsStore::builder(&path)
        .lock_timeout(context.lock_timeout)
        .project_name(project.unwrap_or(""))
        .open()?;
    store.create()?;
    if journal {
        store.set_storage_mode(StorageMode::Journal)?;
        return Ok(format!(
            "created {} in journal mode (journal {})\n",
            path.display(),
            store.journal_path().display()
        ));
    }
    Ok(format!("created {}\n", path.display()))
}

pub(crate) fn config(
    context: &mut Context,
    journal: Option<OnOff>,
    as_json: bool,
) -> Result<String, CliError> {
    let store = if let Some(switch) = journal {
        let store = context.open_store()?;
        if !store.path().exists() {
            return Err(CliError::NoStore { path: context.store_path.clone() });
        }
        let mode = match switch {
            OnOff::On => StorageMode::Journal,
            OnOff::Off => StorageMode::WholeFile,
        };
        store.set_storage_mode(mode)?;
        context.note_recovery(&store);
        store
    } else {
        context.load_existing()?.0
    };
    let loaded = store.load()?;
    let storage = loaded.state.storage();
    let mode = match storage.mode {
        StorageMode::Journal => "journal",
        StorageMode::WholeFile => "whole-file",
    };
    let pending = loaded.journal.as_ref().map_or(0, |journal| journal.applied);
    if as_json {
        return Ok(json(&json!({
            "path": store.path().display().to_string(),
            "mode": mode,
            "journal": store.journal_path().display().to_string(),
            "journal_sequence": storage.journal_sequence,
            "pending_entries": pending,
        })));
    }
    let mut out = format!("store   {}\nmode    {mode}\n", store.path().display());
    if storage.mode == StorageMode::Journal || loaded.journal.is_some() {
        out.push_str(&format!(
            "journal {} ({} not yet in the store, sequence {})\n",
            store.journal_path().display(),
            crate::style::plural(pending, "entry", "entries"),
            storage.journal_sequence
        ));
    }
    Ok(out)
}

pub(crate) fn checkpoint(context: &mut Context, as_json: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    if !store.path().exists() {
        return Err(CliError::NoStore { path: context.store_path.clone() });
    }
    let folded = store.checkpoint()?;
    context.note_recovery(&store);
    if as_json {
        return Ok(json(&json!({ "path": store.path().display().to_string(), "folded": folded })));
    }
    Ok(format!("folded {folded} journal entries into {}\n", store.path().display()))
}
