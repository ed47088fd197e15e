//! The in-process synchronisation primitives, in one place so that a `cfg(loom)` build can
//! swap them for loom's model-checked versions.

#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks a mutex, ignoring poisoning: the data behind our mutexes stays consistent even if an
/// update function panicked (the state it was changing was taken out and is dropped).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
