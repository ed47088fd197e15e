//! A simulated disk for crash-consistency and I/O-fault tests (feature `simulation`, for
//! tests only).
//!
//! `kill -9` never loses data that reached the page cache, so process-level chaos cannot show
//! that the flush and rename order of [`crate::replace`] survives a power loss. This module
//! does what SQLite's crash tests and redb's fake backends do: every call `atomic-fs` makes
//! through its file-system seam is performed on a real directory (the page cache, so the code
//! under test runs unchanged) and recorded, and a model replays the record to know what is
//! durable. [`Simulation::crashes`] then gives, for a crash after every step, every image a real
//! disk may be left in ([`LossPattern`]): all unflushed work lost, a prefix of it kept, data
//! and directory operations kept out of order, the last write torn at a sector boundary.
//! A test materializes each image in a fresh directory and reopens its store on it.
//!
//! The durability rules of the model are in [`model`](self#the-model); faults are injected by
//! call number ([`Fault`]), once or from then on; a [`Lie`] plays a bug of the code above
//! (a flush that does nothing, a backup rotated late) to prove that a suite can fail, so the
//! production code carries no switch for it.
//!
//! # The model
//!
//! - `fdatasync` of a file makes the data written to it so far durable; nothing else does.
//! - `fsync` of the directory makes its entries (creates, links, renames, unlinks) durable;
//!   nothing else does, not even a flush of the file that was created or renamed.
//! - A failed `fdatasync` loses the data it was flushing for good: a later flush succeeds
//!   without writing it, as Linux does (<https://lwn.net/Articles/752063/>).
//! - Directory operations that survive a crash survive in the order they were made (journaling
//!   file systems commit them in order); file data survives independently of them.
//!
//! One thread, one directory: the simulation is installed per thread ([`Simulation::install`])
//! and covers the files directly inside one directory. Lock files are real and outside it.
//!
//! ```
//! use atomic_fs::sim::Simulation;
//! use atomic_fs::{Backup, Durability, ReplaceConfig, replace};
//!
//! let dir = tempfile::tempdir()?;
//! let target = dir.path().join("data");
//! let config = ReplaceConfig { durability: Durability::Full, backup: Backup::None };
//! replace(&target, b"old", &config)?;
//!
//! let simulation = Simulation::new(dir.path())?;
//! let installed = simulation.install();
//! replace(&target, b"new", &config)?;
//! drop(installed);
//!
//! for crash in simulation.crashes() {
//!     for image in &crash.images {
//!         let data = image.read("data").unwrap();
//!         assert!(data == b"old" || data == b"new", "{:?} {}", crash.after, image.pattern);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod crash;
mod fault;
mod model;
mod recorder;

pub use crash::{CrashImage, LossPattern, SECTOR};
pub use fault::{CallKind, Fault, FaultKind, Persistence, SeamCall};
pub use model::{FileId, Step, StepKind};
pub use recorder::{Crash, Installed, Lie, Simulation};

pub(crate) use recorder::installed;
