//! Cheap change detection and durable side files, for long-running readers such as the
//! server: whether anything a writer could have written changed, without reading it.

use std::path::Path;

use atomic_fs::{Backup, Durability, ReplaceConfig};

use crate::{MetricsStore, StoreError};

/// Which generation of the metrics file and of its journal a reader last saw: a writer
/// replacing the file (a new inode), or appending to the journal (a new size and time),
/// gives a different marker. Compare two markers; the value itself means nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMarker {
    file: Option<u64>,
    journal: Option<u64>,
}

impl MetricsStore {
    /// The current [`ChangeMarker`]: two `stat` calls, no read, no lock. A reader that
    /// loads only when the marker differs from the one it last saw sees every write by any
    /// writer (this process, another one, the Python dashboard) and parses nothing when
    /// nothing changed.
    pub fn change_marker(&self) -> Result<ChangeMarker, StoreError> {
        let fingerprint = |path: &Path| {
            atomic_fs::identity(path)
                .map(|identity| identity.map(|identity| identity.fingerprint()))
                .map_err(|source| StoreError::Io { path: self.path().to_path_buf(), source })
        };
        Ok(ChangeMarker {
            file: fingerprint(self.path())?,
            journal: fingerprint(self.journal_path())?,
        })
    }
}

/// Writes `bytes` to `path` the way the store writes its own file: a temporary file,
/// flushed, renamed over `path`, the directory flushed. A reader (node_exporter's textfile
/// collector, a script) sees the whole old file or the whole new one, never half of it. A
/// new file is created 0644, so a collector running as another user can
/// read it; an existing file keeps its mode.
/// The error names the file and what failed; it is not a store error (the store is not
/// involved).
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), atomic_fs::Error> {
    let config = ReplaceConfig { durability: Durability::Full, backup: Backup::None };
    atomic_fs::replace_with_mode(path, bytes, &config, 0o644).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_changes_with_every_write_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricsStore::open(&dir.path().join("m.json")).unwrap();
        let missing = store.change_marker().unwrap();
        store.create().unwrap();
        let created = store.change_marker().unwrap();
        assert_ne!(missing, created);
        assert_eq!(created, store.change_marker().unwrap(), "nothing written, same marker");
        let _ = store.load().unwrap();
        assert_eq!(created, store.change_marker().unwrap(), "a read changes nothing");
        store.set_storage_mode(metrics_types::StorageMode::Journal).unwrap();
        let journal = store.change_marker().unwrap();
        assert_ne!(created, journal);
        let event = metrics_types::EventInput::parse_many(r#"{"agent": "a", "status": "success"}"#)
            .unwrap()
            .remove(0)
            .into_event(metrics_types::Timestamp::now(), || "e1".into())
            .unwrap();
        let _ = store.record_event(event).unwrap();
        assert_ne!(journal, store.change_marker().unwrap(), "an append is a change");
    }

    #[test]
    fn a_side_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent_metrics.prom");
        write_file_atomically(&path, b"one\n").unwrap();
        write_file_atomically(&path, b"two\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
