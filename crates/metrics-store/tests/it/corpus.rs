//! The fuzz corpora (`fuzz/corpus/`), replayed on stable through the same checks the fuzz
//! targets run (`fuzz/checks.rs`): every input the fuzzer kept, the reference files and every
//! crash it found (kept as `regression-*`) must pass on every `cargo test`.

#[path = "../../../../fuzz/checks.rs"]
mod checks;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "the {target} corpus is empty");
    inputs
}

fn replay(target: &str, check: fn(&[u8])) {
    for (name, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "fuzz/corpus/{target}/{name} fails its check");
    }
}

#[test]
fn the_loader_corpus_passes() {
    replay("load_state", checks::check_load_state);
}

#[test]
fn the_journal_corpus_passes() {
    replay("journal", checks::check_journal);
}

#[test]
fn the_journal_entry_corpus_passes() {
    replay("journal_entry", checks::check_journal_entry);
}

#[test]
fn the_event_input_corpus_passes() {
    replay("event_input", checks::check_event_input);
}

#[test]
fn the_file_verdict_corpus_passes() {
    replay("verdict", checks::check_file_verdict);
}
