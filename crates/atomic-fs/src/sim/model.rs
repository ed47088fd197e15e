//! The model of one directory on a disk with a page cache: what every name and file holds now,
//! what of it is durable, and which operations are still only in memory.
//!
//! The rules, the ones a careful application may rely on and no more:
//! - `fsync` of a file makes the data written to it so far durable; nothing else does.
//! - `fsync` of the directory makes its entries (creates, links, renames, unlinks) durable;
//!   nothing else does, not even an `fsync` of the file that was created or renamed.
//! - After a failed file `fsync` the data it was flushing is gone for good: a later `fsync`
//!   succeeds without writing it (Linux marks the pages clean; see
//!   <https://lwn.net/Articles/752063/>).

use std::collections::BTreeMap;
use std::fmt;

/// One file (an inode) of the simulation. Hard links share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u64);

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file#{}", self.0)
    }
}

/// One recorded call that changes (or would have changed) the disk, or a marker a test set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Its position in the trace; a crash "at step N" keeps steps `0..N`.
    pub index: usize,
    /// What it did.
    pub kind: StepKind,
    /// The injected error it returned, if it failed.
    pub failed: Option<String>,
}

/// What a [`Step`] did. Names are file names inside the simulated directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// A new file `name` was created empty.
    Create {
        /// The new name.
        name: String,
        /// The new file.
        file: FileId,
    },
    /// Bytes were written at `offset`.
    Write {
        /// The file written.
        file: FileId,
        /// Where.
        offset: u64,
        /// What.
        bytes: Vec<u8>,
    },
    /// `fdatasync` of a file.
    SyncFile {
        /// The file flushed.
        file: FileId,
    },
    /// A hard link `to` of the file at `from`.
    Link {
        /// The existing name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `from` renamed over `to`.
    Rename {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// `name` unlinked.
    Remove {
        /// The name removed.
        name: String,
    },
    /// `fsync` of the directory.
    SyncDir,
    /// A marker set by the test ([`super::Simulation::mark`]), such as "update 3 acknowledged".
    Mark {
        /// What the test noted.
        label: String,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} ", self.index)?;
        match &self.kind {
            StepKind::Create { name, file } => write!(f, "create({name}) = {file}")?,
            StepKind::Write { file, offset, bytes } => {
                write!(f, "write({file}, offset {offset}, {} bytes)", bytes.len())?;
            }
            StepKind::SyncFile { file } => write!(f, "fdatasync({file})")?,
            StepKind::Link { from, to } => write!(f, "link({from} -> {to})")?,
            StepKind::Rename { from, to } => write!(f, "rename({from} -> {to})")?,
            StepKind::Remove { name } => write!(f, "unlink({name})")?,
            StepKind::SyncDir => write!(f, "fsync(directory)")?,
            StepKind::Mark { label } => write!(f, "mark: {label}")?,
        }
        if let Some(error) = &self.failed {
            write!(f, " failed: {error}")?;
        }
        Ok(())
    }
}

/// A directory operation not yet made durable by a directory `fsync`.
#[derive(Debug, Clone)]
pub(crate) enum MetaOp {
    Create { name: String, file: FileId },
    Link { from: String, to: String },
    Rename { from: String, to: String },
    Remove { name: String },
}

/// An operation only in the page cache, in the order it was made.
#[derive(Debug, Clone)]
pub(crate) enum Pending {
    Meta(MetaOp),
    Data { file: FileId, offset: u64, bytes: Vec<u8> },
}

/// Names and contents: one view of the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct View {
    pub(crate) names: BTreeMap<String, FileId>,
    pub(crate) contents: BTreeMap<FileId, Vec<u8>>,
}

impl View {
    pub(crate) fn apply_meta(&mut self, op: &MetaOp) {
        match op {
            MetaOp::Create { name, file } => {
                self.names.insert(name.clone(), *file);
                self.contents.entry(*file).or_default();
            }
            MetaOp::Link { from, to } => {
                if let Some(&file) = self.names.get(from) {
                    self.names.insert(to.clone(), file);
                }
            }
            MetaOp::Rename { from, to } => {
                // POSIX: renaming one name of a file over another name of the same file does
                // nothing, and both names stay.
                if self.names.get(from).is_some_and(|file| self.names.get(to) != Some(file))
                    && let Some(file) = self.names.remove(from)
                {
                    self.names.insert(to.clone(), file);
                }
            }
            MetaOp::Remove { name } => {
                self.names.remove(name);
            }
        }
    }

    pub(crate) fn apply_write(&mut self, file: FileId, offset: u64, bytes: &[u8]) {
        let contents = self.contents.entry(file).or_default();
        let offset = usize::try_from(offset).expect("simulated files fit in memory");
        let end = offset + bytes.len();
        if contents.len() < end {
            contents.resize(end, 0);
        }
        contents[offset..end].copy_from_slice(bytes);
    }

    /// The contents of the file at `name`.
    pub(crate) fn read(&self, name: &str) -> Option<&[u8]> {
        let file = self.names.get(name)?;
        Some(self.contents.get(file).map_or(&[][..], Vec::as_slice))
    }
}

/// The directory as the page cache holds it, what of it is durable, and what is pending.
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    /// What a process sees now.
    pub(crate) volatile: View,
    /// What survives a crash for certain.
    pub(crate) durable: View,
    /// What may or may not survive, in order.
    pub(crate) pending: Vec<Pending>,
}

impl Disk {
    /// A directory whose every byte and name is durable.
    pub(crate) fn settled(view: View) -> Disk {
        Disk { volatile: view.clone(), durable: view, pending: Vec::new() }
    }

    /// Replays one step.
    pub(crate) fn apply(&mut self, step: &Step) {
        if step.failed.is_some() {
            if let StepKind::SyncFile { file } = step.kind {
                // The data being flushed is lost for good: drop it from what may survive.
                self.pending.retain(|pending| !is_data_of(pending, file));
            }
            return;
        }
        match &step.kind {
            StepKind::Create { name, file } => {
                self.meta(MetaOp::Create { name: name.clone(), file: *file });
            }
            StepKind::Write { file, offset, bytes } => {
                self.volatile.apply_write(*file, *offset, bytes);
                let pending = Pending::Data { file: *file, offset: *offset, bytes: bytes.clone() };
                self.pending.push(pending);
            }
            StepKind::SyncFile { file } => {
                let durable = &mut self.durable;
                self.pending.retain(|pending| match pending {
                    Pending::Data { file: written, offset, bytes } if written == file => {
                        durable.apply_write(*file, *offset, bytes);
                        false
                    }
                    _ => true,
                });
            }
            StepKind::Link { from, to } => {
                self.meta(MetaOp::Link { from: from.clone(), to: to.clone() });
            }
            StepKind::Rename { from, to } => {
                self.meta(MetaOp::Rename { from: from.clone(), to: to.clone() });
            }
            StepKind::Remove { name } => self.meta(MetaOp::Remove { name: name.clone() }),
            StepKind::SyncDir => {
                self.durable.names = self.volatile.names.clone();
                for file in self.durable.names.values() {
                    self.durable.contents.entry(*file).or_default();
                }
                self.pending.retain(|pending| matches!(pending, Pending::Data { .. }));
            }
            StepKind::Mark { .. } => {}
        }
    }

    fn meta(&mut self, op: MetaOp) {
        self.volatile.apply_meta(&op);
        self.pending.push(Pending::Meta(op));
    }
}

fn is_data_of(pending: &Pending, file: FileId) -> bool {
    matches!(pending, Pending::Data { file: written, .. } if *written == file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(index: usize, kind: StepKind) -> Step {
        Step { index, kind, failed: None }
    }

    fn name(value: &str) -> String {
        value.to_owned()
    }

    #[test]
    fn only_fsyncs_make_things_durable() {
        let mut disk = Disk::settled(View::default());
        let file = FileId(1);
        disk.apply(&step(0, StepKind::Create { name: name("a"), file }));
        disk.apply(&step(1, StepKind::Write { file, offset: 0, bytes: b"hello".to_vec() }));
        assert_eq!(disk.volatile.read("a"), Some(&b"hello"[..]));
        assert_eq!(disk.durable.read("a"), None, "the name is not durable yet");
        disk.apply(&step(2, StepKind::SyncFile { file }));
        assert_eq!(disk.durable.read("a"), None, "a file fsync does not make its name durable");
        disk.apply(&step(3, StepKind::SyncDir));
        assert_eq!(disk.durable.read("a"), Some(&b"hello"[..]));
        assert!(disk.pending.is_empty());
    }

    #[test]
    fn a_directory_fsync_does_not_flush_file_data() {
        let mut disk = Disk::settled(View::default());
        let file = FileId(1);
        disk.apply(&step(0, StepKind::Create { name: name("a"), file }));
        disk.apply(&step(1, StepKind::Write { file, offset: 0, bytes: b"data".to_vec() }));
        disk.apply(&step(2, StepKind::SyncDir));
        assert_eq!(disk.durable.read("a"), Some(&b""[..]), "the name survives, empty");
        assert_eq!(disk.pending.len(), 1);
    }

    #[test]
    fn a_failed_fsync_loses_the_data_for_good() {
        let mut disk = Disk::settled(View::default());
        let file = FileId(1);
        disk.apply(&step(0, StepKind::Create { name: name("a"), file }));
        disk.apply(&step(1, StepKind::Write { file, offset: 0, bytes: b"data".to_vec() }));
        let failed =
            Step { index: 2, kind: StepKind::SyncFile { file }, failed: Some("EIO".to_owned()) };
        disk.apply(&failed);
        disk.apply(&step(3, StepKind::SyncFile { file }));
        disk.apply(&step(4, StepKind::SyncDir));
        assert_eq!(disk.volatile.read("a"), Some(&b"data"[..]), "the page cache still has it");
        assert_eq!(disk.durable.read("a"), Some(&b""[..]), "the retried fsync flushed nothing");
    }

    #[test]
    fn a_rename_between_two_names_of_one_file_does_nothing() {
        let mut view = View::default();
        view.names.insert(name("a"), FileId(1));
        view.names.insert(name("b"), FileId(1));
        let mut disk = Disk::settled(view);
        disk.apply(&step(0, StepKind::Rename { from: name("a"), to: name("b") }));
        assert_eq!(disk.volatile.names.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn renames_and_links_follow_the_file() {
        let mut view = View::default();
        view.names.insert(name("a"), FileId(1));
        view.contents.insert(FileId(1), b"one".to_vec());
        let mut disk = Disk::settled(view);
        disk.apply(&step(0, StepKind::Link { from: name("a"), to: name("b") }));
        disk.apply(&step(1, StepKind::Rename { from: name("b"), to: name("c") }));
        disk.apply(&step(2, StepKind::Remove { name: name("a") }));
        assert_eq!(disk.volatile.names.keys().collect::<Vec<_>>(), ["c"]);
        assert_eq!(disk.volatile.read("c"), Some(&b"one"[..]));
        assert_eq!(disk.durable.read("a"), Some(&b"one"[..]));
    }
}
