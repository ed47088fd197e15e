//! Proof that the crash suite can fail.
