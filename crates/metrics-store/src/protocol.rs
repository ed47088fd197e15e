//! The lock protocol every write follows, in one function shared by the store and its loom
//! model (`loom_model.rs`), so the model checks this code rather than a copy of it.
//!
//! The order is always: the in-process mutex, then the cross-process file lock, then the body
//! (read, change, replace). Both are released on every path, the body's errors and panics
//! included, in reverse order: the file lock first, so another process can start while this
//! handle's next caller is still waiting for the mutex.

use crate::sync::{Mutex, lock};

/// Runs `body` holding `mutex` and the guard `lock_file` returns. If `lock_file` fails (a lock
/// timeout), `body` never runs and nothing is changed.
pub(crate) fn with_both_locks<S, G, T, E>(
    mutex: &Mutex<S>,
    lock_file: impl FnOnce() -> Result<G, E>,
    body: impl FnOnce(&mut S, &G) -> Result<T, E>,
) -> Result<T, E> {
    let mut state = lock(mutex);
    let file_guard = lock_file()?;
    let result = body(&mut state, &file_guard);
    drop(file_guard);
    drop(state);
    result
}
