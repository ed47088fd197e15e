//! `agent-metrics init`: create an empty store, refusing to replace one.

use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn run(context: &mut Context, project: Option<&str>) -> Result<String, CliError> {
    let path = context.store_path.clone();
    let store = metrics_store::MetricsStore::builder(&path)
        .lock_timeout(context.lock_timeout)
        .project_name(project.unwrap_or(""))
        .open()?;
    store.create()?;
    Ok(format!("created {}\n", path.display()))
}
