//! Unit tests of the storage marker, journal entries and folding.

use proptest::prelude::*;

use super::*;
use crate::{EventStatus, NewAgentEvent, NewSessionSummary, SessionStatus, SessionType};

fn at(second: i64) -> Timestamp {
    Timestamp::from_unix_seconds(1_771_000_000 + second).unwrap()
}

fn event(id: &str, agent: &str, tokens: u64) -> AgentEvent {
    AgentEvent::new(NewAgentEvent {
        input_tokens: tokens,
        estimated_cost_usd: 0.01,
        duration_seconds: 3.0,
        ..NewAgentEvent::new(id, agent, EventStatus::Success, at(1))
    })
    .unwrap()
}

fn events(sequence_at: i64, ids: &[&str]) -> JournalEntry {
    JournalEntry::Events {
        at: at(sequence_at),
        events: ids.iter().map(|id| event(id, "coding", 10)).collect(),
    }
}

fn session(id: &str) -> SessionSummary {
    SessionSummary::new(NewSessionSummary {
        session_id: id.to_owned(),
        session_number: 1,
        session_type: SessionType::Initializer,
        started_at: at(0),
        ended_at: at(60),
        status: SessionStatus::Complete,
        agents_invoked: vec!["coding".to_owned()],
        total_tokens: 10,
        total_cost_usd: 0.5,
        tickets_worked: vec![],
    })
    .unwrap()
}

fn ids(state: &DashboardState) -> Vec<&str> {
    state.events().iter().map(AgentEvent::event_id).collect()
}

#[test]
fn a_file_without_a_marker_is_whole_file_mode_at_sequence_zero_and_stays_unmarked() {
    let mut state = DashboardState::new("p");
    assert_eq!(state.storage(), Storage { mode: StorageMode::WholeFile, journal_sequence: 0 });
    state.set_storage(Storage::default());
    assert!(!String::from_utf8(state.to_json()).unwrap().contains(STORAGE_KEY));
}

#[test]
fn the_marker_is_one_extra_top_level_object_that_survives_a_foreign_rewrite() {
    let mut state = DashboardState::new("p");
    let marker = Storage { mode: StorageMode::Journal, journal_sequence: 42 };
    state.set_storage(marker);
    let json: serde_json::Value = serde_json::from_slice(&state.to_json()).unwrap();
    assert_eq!(json[STORAGE_KEY], serde_json::json!({"mode": "journal", "journal_sequence": 42}));
    // What the Python dashboard does: load the dict, change a known key, dump it all back.
    let mut python = json;
    python["total_sessions"] = 7.into();
    let rewritten = serde_json::to_vec_pretty(&python).unwrap();
    let loaded = DashboardState::load(&rewritten).unwrap();
    assert_eq!(loaded.storage(), marker);
    assert_eq!(loaded.total_sessions(), 7);
}

#[test]
fn an_unreadable_marker_reads_as_the_default_and_is_kept_until_replaced() {
    let mut json: serde_json::Value =
        serde_json::from_slice(&DashboardState::new("p").to_json()).unwrap();
    json[STORAGE_KEY] = "garbage".into();
    let state = DashboardState::load(&serde_json::to_vec(&json).unwrap()).unwrap();
    assert_eq!(state.storage(), Storage::default());
    assert!(String::from_utf8(state.to_json()).unwrap().contains("garbage"));
}

#[test]
fn entries_round_trip_as_one_line_and_invalid_ones_are_refused() {
    let entry = JournalEntry::Events { at: at(5), events: vec![event("e\n1", "coding", 3)] };
    let line = entry.to_json();
    assert!(!line.contains(&b'\n'), "one line: {}", String::from_utf8_lossy(&line));
    assert_eq!(JournalEntry::from_json(&line).unwrap(), entry);
    let marker = JournalEntry::Checkpoint {
        snapshot_sequence: 9,
        event_ids: vec!["a".into()],
        file_fingerprint: Some(7),
    };
    assert_eq!(JournalEntry::from_json(&marker.to_json()).unwrap(), marker);

    let negative =
        String::from_utf8(line).unwrap().replace(r#""input_tokens":3"#, r#""input_tokens":-3"#);
    let err = JournalEntry::from_json(negative.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("events[0]"), "{err}");
    assert!(matches!(
        JournalEntry::from_json(b"{\"what\":1}"),
        Err(ValidationError::Malformed { .. })
    ));
    assert!(
        JournalEntry::from_json(b"{\"checkpoint\":{\"snapshot_sequence\":1,\"event_ids\":[]}} x")
            .is_err()
    );
}

#[test]
fn folding_applies_entries_above_the_watermark_once_and_moves_it() {
    let mut state = DashboardState::new("p");
    let journal = vec![
        (1, events(1, &["a", "b"])),
        (2, events(2, &["b", "c"])),
        (3, JournalEntry::Session { at: at(3), session: Box::new(session("s")) }),
    ];
    let folded = state.fold_journal(journal.clone(), &Limits::DEFAULT);
    assert_eq!((folded.entries, folded.recorded, folded.duplicates), (3, 4, 1));
    assert_eq!(ids(&state), ["a", "b", "c"]);
    assert_eq!(state.storage().journal_sequence, 3);
    assert_eq!(state.updated_at(), Some(at(3)));
    assert_eq!(state.total_tokens(), 30);

    let before = state.clone();
    let again = state.fold_journal(journal, &Limits::DEFAULT);
    assert_eq!(again.entries, 0, "every entry is at or below the watermark now");
    assert_eq!(state, before, "a journal folded twice changes nothing");
}

#[test]
fn an_entry_below_the_watermark_is_skipped_even_when_its_ids_are_new() {
    let mut state = DashboardState::new("p");
    state.set_storage(Storage { mode: StorageMode::Journal, journal_sequence: 5 });
    let folded =
        state.fold_journal([(5, events(1, &["old"])), (6, events(2, &["new"]))], &Limits::DEFAULT);
    assert_eq!(folded.entries, 1);
    assert_eq!(ids(&state), ["new"]);
}

#[test]
fn an_event_the_state_cannot_take_is_refused_alone_and_the_rest_apply() {
    let mut state = DashboardState::new("p");
    let huge = |id: &str| event(id, "coding", i64::MAX as u64);
    let journal = vec![
        (1, JournalEntry::Events { at: at(1), events: vec![huge("big-1")] }),
        (
            2,
            JournalEntry::Events {
                at: at(2),
                events: vec![huge("big-2"), event("small", "coding", 0)],
            },
        ),
    ];
    let folded = state.fold_journal(journal, &Limits::DEFAULT);
    assert_eq!(ids(&state), ["big-1", "small"]);
    assert_eq!(folded.refused.len(), 1);
    assert_eq!((folded.refused[0].sequence, folded.refused[0].id.as_str()), (2, "big-2"));
    assert!(
        folded.refused[0].error.to_string().contains("overflow"),
        "{}",
        folded.refused[0].error
    );
    assert_eq!(state.storage().journal_sequence, 2);
}

#[test]
fn folding_never_moves_updated_at_back() {
    let mut state = DashboardState::new("p");
    state.touch(at(100));
    let _ = state.fold_journal([(1, events(5, &["a"]))], &Limits::DEFAULT);
    assert_eq!(state.updated_at(), Some(at(100)));
}

proptest! {
    /// Folding a journal gives the state that recording the same events in the same order
    /// would (whole-file mode), whatever the ids repeat and however the entries are split.
    #[test]
    fn folding_equals_recording_in_order(
        batches in prop::collection::vec(prop::collection::vec(0u8..12, 1..5), 1..12),
        cap in 3usize..20,
    ) {
        let limits = Limits { max_events: cap, ..Limits::DEFAULT };
        let mut recorded = DashboardState::new("p");
        let mut journal = Vec::new();
        for (index, batch) in batches.iter().enumerate() {
            let batch: Vec<AgentEvent> =
                batch.iter().map(|id| event(&format!("e{id}"), &format!("a{}", id % 3), 7)).collect();
            recorded.record_events(batch.clone(), &limits).unwrap();
            journal.push((index as u64 + 1, JournalEntry::Events { at: at(1), events: batch }));
        }
        let mut folded = DashboardState::new("p");
        let _ = folded.fold_journal(journal, &limits);
        folded.set_storage(Storage::default());
        recorded.touch(at(1));
        prop_assert_eq!(folded, recorded);
    }
}

#[test]
fn a_summary_has_the_ids_times_and_watermark_of_the_full_entry() {
    let entry = events(4, &["a", "b"]);
    let summary = JournalEntry::summarize(&entry.to_json()).unwrap();
    assert_eq!(summary.event_ids, ["a", "b"]);
    assert_eq!(summary.committed_at, Some(at(4)));
    let mut state = DashboardState::new("p");
    let _ = state
        .fold_journal([(3, events(1, &["x", "y"]))], &Limits { max_events: 1, ..Limits::DEFAULT });
    let marker = JournalEntry::checkpoint_of(&state);
    let summary = JournalEntry::summarize(&marker.to_json()).unwrap();
    assert_eq!(summary.snapshot_sequence, Some(3));
    assert_eq!(summary.event_ids, ["y", "x"], "evicted ids a profile still remembers count too");
    assert!(JournalEntry::summarize(b"[1]").is_err());
}

/// The sequence of issue 24: a writer loads after checkpoint 1, two checkpoints fold r1 and
/// r2, the writer saves its old state plus its own event; r1 is in neither that file nor the
/// journal (which retains only r2). The checkpoint's file (the backup) brings it back.
#[test]
fn a_state_written_back_over_a_newer_checkpoint_gets_what_it_lacks_from_that_checkpoint() {
    let limits = Limits::DEFAULT;
    let mut checkpoint_1 = DashboardState::new("p");
    let _ = checkpoint_1.fold_journal([(1, events(1, &["r0"]))], &limits);
    let loaded_by_python = checkpoint_1.clone();
    let mut checkpoint_3 = checkpoint_1.clone();
    let _ = checkpoint_3.fold_journal(
        [
            (2, events(2, &["r1"])),
            (3, JournalEntry::Session { at: at(3), session: Box::new(session("s1")) }),
            (4, events(4, &["r2"])),
        ],
        &limits,
    );
    let JournalEntry::Checkpoint { event_ids: marker_ids, .. } =
        JournalEntry::checkpoint_of(&checkpoint_3)
    else {
        unreachable!("checkpoint_of makes a checkpoint")
    };
    let mut written_back = loaded_by_python;
    let _ = written_back.record_event(event("py", "python", 5), &limits).unwrap();
    // The journal still holds r2 (the last checkpoint's entries, kept one generation).
    let _ = written_back.fold_journal([(4, events(4, &["r2"]))], &limits);
    assert_eq!(written_back.unknown_event_ids(&marker_ids), ["r1"]);

    let restored = written_back.reapply_from(&checkpoint_3, &limits);
    assert_eq!((restored.recorded, restored.duplicates), (2, 2), "r1 and the session s1");
    assert!(written_back.unknown_event_ids(&marker_ids).is_empty());
    assert_eq!(ids(&written_back), ["r0", "py", "r2", "r1"]);
    assert_eq!(written_back.total_tokens(), 10 + 5 + 10 + 10, "r1 counted once");
    assert_eq!(written_back.sessions().len(), 1);
    let again = written_back.clone();
    assert_eq!(written_back.reapply_from(&checkpoint_3, &limits).recorded, 0);
    assert_eq!(written_back, again, "re-applying twice changes nothing");
}

proptest! {
    /// Whatever a stale writer kept, re-applying the checkpoint it overwrote leaves every
    /// event of that checkpoint known, and each exactly once.
    #[test]
    fn reapplying_a_checkpoint_leaves_each_of_its_events_known_once(
        kept in proptest::collection::vec(any::<bool>(), 1..20),
        extra in 0usize..5,
    ) {
        let limits = Limits::DEFAULT;
        let names: Vec<String> = (0..kept.len()).map(|i| format!("e{i}")).collect();
        let mut checkpoint = DashboardState::new("p");
        for name in &names {
            let _ = checkpoint.record_event(event(name, "coding", 1), &limits).unwrap();
        }
        let mut stale = DashboardState::new("p");
        for (name, keep) in names.iter().zip(&kept) {
            if *keep {
                let _ = stale.record_event(event(name, "other", 1), &limits).unwrap();
            }
        }
        for i in 0..extra {
            let _ = stale.record_event(event(&format!("x{i}"), "python", 1), &limits).unwrap();
        }
        stale.reapply_from(&checkpoint, &limits);
        let all = ids(&stale);
        for name in &names {
            prop_assert_eq!(all.iter().filter(|id| **id == name.as_str()).count(), 1);
        }
        prop_assert_eq!(all.len(), names.len() + extra);
    }
}
