//! Fuzz target: one journal entry's payload, decoded, summarized and folded (see
//! `fuzz/checks.rs`).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_journal_entry(data));
