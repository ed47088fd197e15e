//! Finding the store: `--file`, else `AGENT_METRICS_FILE`, else `--dir`, else the current
//! directory.

use std::path::{Path, PathBuf};

use metrics_store::DEFAULT_FILE_NAME;

use crate::cli::GlobalArgs;

/// The environment variable naming the metrics file.
pub(crate) const FILE_ENV: &str = "AGENT_METRICS_FILE";

pub(crate) fn store_path(global: &GlobalArgs) -> PathBuf {
    if let Some(file) = &global.file {
        return file.clone();
    }
    if let Some(file) = std::env::var_os(FILE_ENV).filter(|value| !value.is_empty()) {
        return PathBuf::from(file);
    }
    global.dir.as_deref().unwrap_or(Path::new(".")).join(DEFAULT_FILE_NAME)
}
