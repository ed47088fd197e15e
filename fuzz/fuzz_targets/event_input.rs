//! Fuzz target: the writer input (one object, an array or JSON lines), made into events and
//! recorded (see `fuzz/checks.rs`).
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::check_event_input(data));
