//! Fuzz target: `FileVerdict::of`, recovery's classification of a file (see `fuzz/checks.rs`).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_file_verdict(data));
