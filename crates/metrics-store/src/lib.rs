//! The metrics store: one handle that loads, updates and persists a
//! [`metrics_types::DashboardState`] in a JSON file shared by many threads and processes.
//!
//! It composes the two bottom layers and re-implements neither: `metrics-types` for the schema,
//! validation and state transitions, `atomic-fs` for cross-process locks, durable atomic replace
//! and backups. It owns the policy that joins them: read-modify-write under the lock, and
//! recovery from corruption.
//!
//! Status: the handle is built in issue 4; this crate currently only fixes its place in the
//! dependency order (it depends on both bottom layers and nothing above them).
#![warn(missing_docs)]

use atomic_fs as _;
use metrics_types as _;
