//! What a disk may hold after a crash: every loss pattern a real disk allows, applied to the
//! operations still pending at the crash.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use super::model::{Disk, FileId, Pending, View};

/// The sector size a torn write is cut at.
pub const SECTOR: u64 = 512;

/// At most this many sector boundaries are tried for one torn write (the first two, the middle
/// and the last), so large files do not multiply the cases.
const MAX_TEARS: usize = 4;

/// At most this many files are combined freely in [`LossPattern::Reordered`]; beyond that only
/// "all" and "none" are tried.
const MAX_FREE_FILES: usize = 3;

/// How the operations pending at a crash (written or renamed but not flushed) fared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LossPattern {
    /// Everything not flushed is lost.
    AllUnsyncedLost,
    /// The first `kept` pending operations survive, in the order they were made, and the rest
    /// is lost (a file system that writes back in order).
    Prefix {
        /// How many survive.
        kept: usize,
    },
    /// Out of order, as POSIX permits: the directory operations survive as a prefix of
    /// `metadata_kept` (journaling file systems commit them in order), while file data reaches
    /// the disk independently of them: all pending data of the files in `data_kept`, none of
    /// the others (the "renamed but empty" file of delayed allocation).
    Reordered {
        /// How many pending directory operations survive.
        metadata_kept: usize,
        /// The files whose pending data survives.
        data_kept: BTreeSet<FileId>,
    },
    /// Everything survives except the last pending write to `file`, torn at a sector boundary:
    /// its first `kept_bytes` reached the disk. With `zero_filled` the file keeps its full
    /// size and the rest reads as zeros; otherwise the file ends where the tear is.
    TornWrite {
        /// The file torn.
        file: FileId,
        /// How much of the write survived (a multiple of [`SECTOR`] in file offsets).
        kept_bytes: u64,
        /// Whether the lost part reads as zeros rather than being cut off.
        zero_filled: bool,
    },
}

impl fmt::Display for LossPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LossPattern::AllUnsyncedLost => write!(f, "all unsynced operations lost"),
            LossPattern::Prefix { kept } => write!(f, "the first {kept} unsynced operations kept"),
            LossPattern::Reordered { metadata_kept, data_kept } => {
                let files: Vec<String> = data_kept.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "reordered: {metadata_kept} directory operations kept, data kept for [{}]",
                    files.join(", ")
                )
            }
            LossPattern::TornWrite { file, kept_bytes, zero_filled } => {
                let rest = if *zero_filled { "zeros after" } else { "cut off after" };
                write!(f, "last write to {file} torn: {kept_bytes} bytes kept, {rest}")
            }
        }
    }
}

/// What the directory holds after one crash: names, and the bytes of the file each names
/// (hard links name the same file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashImage {
    /// The loss pattern that produced it (the first one, if several produce the same image).
    pub pattern: LossPattern,
    view: View,
}

impl CrashImage {
    /// The names in the directory, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.view.names.keys().map(String::as_str)
    }

    /// The bytes of the file at `name`.
    pub fn read(&self, name: &str) -> Option<&[u8]> {
        self.view.read(name)
    }

    /// Writes the image into the empty directory `dir`, hard links included, so that real code
    /// can open what "the disk" holds after the crash.
    pub fn materialize(&self, dir: &Path) -> io::Result<()> {
        let mut first_name: BTreeMap<FileId, &str> = BTreeMap::new();
        for (name, file) in &self.view.names {
            let path = dir.join(name);
            match first_name.get(file) {
                Some(first) => std::fs::hard_link(dir.join(first), &path)?,
                None => {
                    let mut out =
                        std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
                    out.write_all(self.view.contents.get(file).map_or(&[], Vec::as_slice))?;
                    first_name.insert(*file, name);
                }
            }
        }
        Ok(())
    }

    /// A key that is equal for images holding the same names, bytes and hard links, whatever
    /// pattern produced them: for skipping images already checked.
    pub fn fingerprint(&self) -> Vec<(String, Vec<u8>, usize)> {
        let mut link_group: BTreeMap<FileId, usize> = BTreeMap::new();
        self.view
            .names
            .iter()
            .map(|(name, file)| {
                let next = link_group.len();
                let group = *link_group.entry(*file).or_insert(next);
                (name.clone(), self.view.read(name).unwrap_or_default().to_vec(), group)
            })
            .collect()
    }
}

/// Every distinct image a crash of `disk` can leave, each with the first pattern producing it.
pub(crate) fn images(disk: &Disk) -> Vec<CrashImage> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for pattern in patterns(disk) {
        let image = CrashImage { view: apply(disk, &pattern), pattern };
        if seen.insert(image.fingerprint()) {
            out.push(image);
        }
    }
    out
}

/// The loss patterns worth trying for what is pending on `disk`.
fn patterns(disk: &Disk) -> Vec<LossPattern> {
    let mut out = vec![LossPattern::AllUnsyncedLost];
    out.extend((1..=disk.pending.len()).map(|kept| LossPattern::Prefix { kept }));

    let metadata = disk.pending.iter().filter(|p| matches!(p, Pending::Meta(_))).count();
    let files: Vec<FileId> = data_files(disk).into_iter().collect();
    let subsets: Vec<BTreeSet<FileId>> = if files.len() <= MAX_FREE_FILES {
        (0..1u32 << files.len())
            .map(|mask| {
                files.iter().enumerate().filter(move |(i, _)| mask & (1 << i) != 0).map(|(_, f)| *f)
            })
            .map(Iterator::collect)
            .collect()
    } else {
        vec![BTreeSet::new(), files.iter().copied().collect()]
    };
    for metadata_kept in 0..=metadata {
        for data_kept in &subsets {
            out.push(LossPattern::Reordered { metadata_kept, data_kept: data_kept.clone() });
        }
    }

    for (file, offset, len) in last_writes(disk) {
        for kept_bytes in tears(offset, len) {
            for zero_filled in [false, true] {
                out.push(LossPattern::TornWrite { file, kept_bytes, zero_filled });
            }
        }
    }
    out
}

/// The files with pending data.
fn data_files(disk: &Disk) -> BTreeSet<FileId> {
    disk.pending
        .iter()
        .filter_map(|pending| match pending {
            Pending::Data { file, .. } => Some(*file),
            Pending::Meta(_) => None,
        })
        .collect()
}

/// The last pending write of each file: (file, offset, length).
fn last_writes(disk: &Disk) -> Vec<(FileId, u64, u64)> {
    let mut last = BTreeMap::new();
    for pending in &disk.pending {
        if let Pending::Data { file, offset, bytes } = pending {
            last.insert(*file, (*offset, bytes.len() as u64));
        }
    }
    last.into_iter().map(|(file, (offset, len))| (file, offset, len)).collect()
}

/// How many bytes of a write at `offset` of `len` bytes may survive a tear at a sector
/// boundary: a sample of at most [`MAX_TEARS`] of them.
fn tears(offset: u64, len: u64) -> Vec<u64> {
    let first_boundary = offset.div_ceil(SECTOR) * SECTOR;
    let all: Vec<u64> = (first_boundary..offset + len)
        .step_by(SECTOR as usize)
        .map(|boundary| boundary - offset)
        .collect();
    if all.len() <= MAX_TEARS {
        return all;
    }
    let mut sample: Vec<u64> = vec![all[0], all[1], all[all.len() / 2], all[all.len() - 1]];
    sample.dedup();
    sample
}

/// The image `pattern` leaves.
fn apply(disk: &Disk, pattern: &LossPattern) -> View {
    let torn_position = match pattern {
        LossPattern::TornWrite { file: torn, .. } => disk
            .pending
            .iter()
            .rposition(|pending| matches!(pending, Pending::Data { file, .. } if file == torn)),
        _ => None,
    };
    let mut view = disk.durable.clone();
    let mut metadata_seen = 0;
    for (position, pending) in disk.pending.iter().enumerate() {
        let keep = match (pattern, pending) {
            (LossPattern::AllUnsyncedLost, _) => false,
            (LossPattern::Prefix { kept }, _) => position < *kept,
            (LossPattern::Reordered { metadata_kept, .. }, Pending::Meta(_)) => {
                metadata_seen += 1;
                metadata_seen <= *metadata_kept
            }
            (LossPattern::Reordered { data_kept, .. }, Pending::Data { file, .. }) => {
                data_kept.contains(file)
            }
            (LossPattern::TornWrite { .. }, _) => true,
        };
        if !keep {
            continue;
        }
        match pending {
            Pending::Meta(op) => view.apply_meta(op),
            Pending::Data { file, offset, bytes } => match pattern {
                LossPattern::TornWrite { kept_bytes, zero_filled, .. }
                    if Some(position) == torn_position =>
                {
                    tear(&mut view, *file, *offset, bytes, *kept_bytes, *zero_filled);
                }
                _ => view.apply_write(*file, *offset, bytes),
            },
        }
    }
    view
}

fn tear(view: &mut View, file: FileId, offset: u64, bytes: &[u8], kept: u64, zero_filled: bool) {
    let kept = usize::try_from(kept).expect("a write fits in memory").min(bytes.len());
    view.apply_write(file, offset, &bytes[..kept]);
    if zero_filled {
        let zeros = vec![0; bytes.len() - kept];
        view.apply_write(file, offset + kept as u64, &zeros);
    } else {
        let contents = view.contents.entry(file).or_default();
        let end = usize::try_from(offset).expect("fits") + kept;
        if contents.len() > end {
            contents.truncate(end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::model::{Step, StepKind};

    fn disk_after(kinds: Vec<StepKind>) -> Disk {
        let mut view = View::default();
        view.names.insert("data".to_owned(), FileId(0));
        view.contents.insert(FileId(0), b"old".to_vec());
        let mut disk = Disk::settled(view);
        for (index, kind) in kinds.into_iter().enumerate() {
            disk.apply(&Step { index, kind, failed: None });
        }
        disk
    }

    fn write_then_rename(sync: bool) -> Vec<StepKind> {
        let file = FileId(1);
        let mut kinds = vec![
            StepKind::Create { name: "tmp".to_owned(), file },
            StepKind::Write { file, offset: 0, bytes: vec![b'n'; 1300] },
        ];
        if sync {
            kinds.push(StepKind::SyncFile { file });
        }
        kinds.push(StepKind::Rename { from: "tmp".to_owned(), to: "data".to_owned() });
        kinds
    }

    #[test]
    fn an_unsynced_rename_can_leave_an_empty_or_torn_file() {
        let images = images(&disk_after(write_then_rename(false)));
        let contents: BTreeSet<Vec<u8>> =
            images.iter().map(|image| image.read("data").unwrap().to_vec()).collect();
        assert!(contents.contains(b"old".as_slice()));
        assert!(contents.contains(&vec![b'n'; 1300]));
        assert!(contents.contains(&Vec::new()), "renamed before the data: an empty file");
        assert!(contents.contains(&vec![b'n'; 512]), "torn at the first sector");
        let mut zero_filled = vec![b'n'; 1024];
        zero_filled.extend([0; 276]);
        assert!(contents.contains(&zero_filled), "torn, the rest zeros");
    }

    #[test]
    fn synced_data_is_never_torn() {
        let images = images(&disk_after(write_then_rename(true)));
        for image in &images {
            let data = image.read("data").unwrap();
            assert!(
                data == b"old" || data == vec![b'n'; 1300].as_slice(),
                "{}: {data:?}",
                image.pattern
            );
        }
        assert!(images.len() >= 2, "both the old and the new file are possible");
    }

    #[test]
    fn nothing_pending_means_one_image() {
        let mut kinds = write_then_rename(true);
        kinds.push(StepKind::SyncDir);
        let images = images(&disk_after(kinds));
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].read("data").unwrap(), vec![b'n'; 1300].as_slice());
    }

    #[test]
    fn tears_sample_sector_boundaries_inside_the_write() {
        assert_eq!(tears(0, 1300), [0, 512, 1024]);
        assert_eq!(tears(100, 1000), [412, 924]);
        assert_eq!(tears(0, 100 * SECTOR), [0, 512, 50 * 512, 99 * 512]);
    }
}
