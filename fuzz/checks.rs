//! The properties each fuzz target checks, shared (by `include!`) with the stable test that
//! replays the corpora (`crates/metrics-types/tests/it/corpus.rs`), so a crash found by the
//! fuzzer is a regression test the moment its input lands in `fuzz/corpus/`.
#![allow(dead_code, reason = "each fuzz target uses one of the checks")]

/// The loader on any bytes: never panics; a state it loads validates without panicking,
/// writes back, and what it writes loads again to an equal state.
pub(crate) fn check_load_state(data: &[u8]) {
    let Ok(state) = metrics_types::DashboardState::load(data) else {
        return;
    };
    let _ = state.validate(&metrics_types::Limits::DEFAULT);
    let _ = state.storage();
    let written = state.to_json();
    let again = metrics_types::DashboardState::load(&written)
        .expect("what the loader read, written back, loads again");
    let rewritten = again.to_json();
    if rewritten != written {
        let at = written.iter().zip(&rewritten).take_while(|(a, b)| a == b).count();
        let around = |bytes: &[u8]| {
            String::from_utf8_lossy(&bytes[at.saturating_sub(60)..(at + 60).min(bytes.len())])
                .into_owned()
        };
        panic!(
            "a second round trip changed byte {at}: {:?} became {:?}",
            around(&written),
            around(&rewritten)
        );
    }
}

/// The journal parser on any bytes: never panics; good records follow each other within the
/// valid length, and each is then checked as an entry.
pub(crate) fn check_journal(data: &[u8]) {
    let atomic_fs::journal::ParsedJournal { records, valid_len, torn_tail: torn, .. } =
        atomic_fs::journal::parse_journal(data);
    assert!(valid_len <= data.len() as u64);
    assert_eq!(torn.is_some(), valid_len < data.len() as u64);
    for pair in records.windows(2) {
        assert!(pair[1].sequence > pair[0].sequence);
    }
    for record in &records {
        check_journal_entry(&record.payload);
    }
}

/// The entry decoder on any bytes: never panics; a decodable entry's cheap summary names the
/// same ids, and folding it into an empty state gives a state that writes and loads again.
pub(crate) fn check_journal_entry(data: &[u8]) {
    let summary = metrics_types::JournalEntry::summarize(data);
    let Ok(entry) = metrics_types::JournalEntry::from_json(data) else {
        return;
    };
    let summary = summary.expect("an entry that decodes also summarizes");
    assert_eq!(entry.event_ids(), summary.event_ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(entry.committed_at(), summary.committed_at);
    let line = entry.to_json();
    assert!(!line.contains(&b'\n'), "an entry is one line");
    assert_eq!(metrics_types::JournalEntry::from_json(&line).expect("re-decodes"), entry);
    let mut state = metrics_types::DashboardState::new("fuzz");
    let _ = state.fold_journal([(1, entry)], &metrics_types::Limits::DEFAULT);
    let _ = metrics_types::DashboardState::load(&state.to_json()).expect("a folded state loads");
}

/// The writer input (what `record event --json -`, `record stream` and `POST /api/v1/events`
/// read) on any bytes: never panics; every input that parses either becomes an event or is
/// refused with a message naming a place; the events it makes record into a state that
/// writes and loads again, and recording them twice changes nothing the second time.
pub(crate) fn check_event_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(inputs) = metrics_types::EventInput::parse_located(text) else {
        return;
    };
    assert!(!inputs.is_empty(), "parsing succeeded with no event");
    let now: metrics_types::Timestamp = "2026-02-14T17:00:00+00:00".parse().expect("a time");
    let mut events = Vec::new();
    for (n, (place, input)) in inputs.into_iter().enumerate() {
        assert!(!place.is_empty());
        match input.into_event(now, || format!("generated-{n}")) {
            Ok(event) => events.push(event),
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
    let mut state = metrics_types::DashboardState::new("fuzz");
    let limits = metrics_types::Limits::DEFAULT;
    let Ok(first) = state.record_events(events.clone(), &limits) else {
        return;
    };
    let written = state.to_json();
    let loaded = metrics_types::DashboardState::load(&written).expect("a recorded state loads");
    assert_eq!(loaded.to_json(), written, "a recorded state round-trips");
    let mut again = loaded;
    let second = again.record_events(events, &limits).expect("a retry is accepted");
    assert_eq!(second.recorded, 0, "a retried batch records nothing ({first:?} then {second:?})");
}

/// Recovery's classification of a file's bytes (the metrics file, its backup, a file to
/// restore) on any bytes: never panics; a file is sound exactly when it loads, and what a
/// writer would write for it is sound again; only a version above ours is refused; anything
/// else is damaged with a reason a person can read in one short line.
pub(crate) fn check_file_verdict(data: &[u8]) {
    use metrics_types::{DashboardState, FORMAT_VERSION, FileVerdict, PROBLEM_MAX_CHARS};
    let loads = DashboardState::load(data).is_ok();
    match FileVerdict::of(data) {
        FileVerdict::Sound(state) => {
            assert!(loads, "sound but the loader refuses it");
            let _ = state.validate(&metrics_types::Limits::DEFAULT);
            let written = state.to_json();
            assert!(
                matches!(FileVerdict::of(&written), FileVerdict::Sound(_)),
                "what a writer writes for a sound file is not sound"
            );
        }
        FileVerdict::NewerFormat { found } => {
            assert!(!loads, "refused as newer but it loads");
            assert!(found > FORMAT_VERSION, "refused as newer with version {found}");
            assert_eq!(DashboardState::peek_version(data), Some(found));
        }
        FileVerdict::Damaged { problem } => {
            assert!(!loads, "damaged but it loads");
            assert!(
                DashboardState::peek_version(data).is_none_or(|found| found <= FORMAT_VERSION),
                "a newer file called damaged would be set aside"
            );
            assert!(!problem.trim().is_empty(), "a damaged file without a reason");
            assert!(!problem.contains('\n'), "a reason over two lines: {problem:?}");
            assert!(
                problem.chars().count() <= PROBLEM_MAX_CHARS,
                "a reason of {} chars",
                problem.chars().count()
            );
            if data.iter().all(u8::is_ascii_whitespace) {
                assert_eq!(problem, "the file is empty");
            }
        }
    }
}
