//! Unit tests of the handle: the cache of the last written state, paths, `Send + Sync`.

use metrics_types::{AgentEvent, EventStatus, NewAgentEvent, Timestamp};

use crate::{Durability, MetricsStore};

fn event(id: &str) -> AgentEvent {
    let start = Timestamp::from_unix_seconds(1_771_000_000).unwrap();
    AgentEvent::new(NewAgentEvent::new(id, "a", EventStatus::Success, start)).unwrap()
}

fn ids(store: &MetricsStore) -> Vec<String> {
    store.load().unwrap().state.events().iter().map(|e| e.event_id().to_owned()).collect()
}

#[test]
fn the_cache_is_used_only_while_the_file_is_ours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    let open =
        || MetricsStore::builder(&path).durability(Durability::NoSyncTestsOnly).open().unwrap();
    let (first, second) = (open(), open());
    let _ = first.record_event(event("e1")).unwrap();
    let _ = first.record_event(event("e2")).unwrap();
    assert_eq!(first.stats().cache_hits, 1, "the second update reused the first's state");
    let _ = second.record_event(event("e3")).unwrap();
    let _ = first.record_event(event("e4")).unwrap();
    assert_eq!(first.stats().cache_hits, 1, "another writer's file is re-read, not overwritten");
    assert_eq!(ids(&first), ["e1", "e2", "e3", "e4"]);
}

#[test]
fn lock_and_backup_sit_beside_the_file() {
    let store = MetricsStore::open(std::path::Path::new("/data/.agent_metrics.json")).unwrap();
    // The Python dashboard's lock file and backup names, so both tools exclude each other.
    assert_eq!(store.lock_path(), std::path::Path::new("/data/.agent_metrics.lock"));
    assert_eq!(store.backup_path(), std::path::Path::new("/data/.agent_metrics.json.bak"));
    let other = MetricsStore::open(std::path::Path::new("/data/fleet")).unwrap();
    assert_eq!(other.lock_path(), std::path::Path::new("/data/fleet.lock"));
}

#[test]
fn the_cache_is_not_fooled_by_a_recycled_inode() {
    // Another handle writes many generations; each replace frees an inode that the file
    // system may hand to the next file. The first handle keeps its generation open, so its
    // inode cannot be recycled, and it must re-read and see every foreign write (issue 13).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    let open =
        || MetricsStore::builder(&path).durability(Durability::NoSyncTestsOnly).open().unwrap();
    let (first, second) = (open(), open());
    let _ = first.record_event(event("mine")).unwrap();
    for idx in 0..50 {
        let _ = second.record_event(event(&format!("theirs-{idx}"))).unwrap();
    }
    let _ = first.record_event(event("mine-again")).unwrap();
    let ids = ids(&first);
    assert_eq!(ids.len(), 52, "{ids:?}");
    assert_eq!(first.stats().cache_hits, 0, "the first handle re-read the file");
}

#[test]
fn the_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<MetricsStore>();
}

#[test]
fn an_empty_or_oversized_payload_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        MetricsStore::builder(&dir.path().join("m.json")).max_file_size(100).open().unwrap();
    assert!(matches!(store.check_payload(b""), Err(crate::StoreError::EmptyWrite { .. })));
    assert!(matches!(
        store.check_payload(&[b' '; 51]),
        Err(crate::StoreError::TooLarge { size: 51, limit: 50, .. })
    ));
    assert!(store.check_payload(&[b' '; 50]).is_ok());
}
