//! Integration tests of `atomic-fs` through its public API, with real OS processes for the
//! cross-process claims.
//!
//! Child processes are this same test binary re-executed with `ATOMIC_FS_CHILD` set, which
//! makes `child::entry` play a role (hold a lock, replace in a loop) instead of returning.

mod child;
mod concurrency;
mod files;
mod processes;
mod segments;
mod simulated;
