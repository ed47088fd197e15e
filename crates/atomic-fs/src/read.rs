//! `read`: the whole current generation of a file, without a lock, bounded in size.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::error::{Error, IoResultExt, Op};
use crate::sys::{FileKind, FileSystem};

/// Identifies one generation of a file: its inode, size and change times.
///
/// Every [`crate::replace`] creates a new inode, so a writer that remembers the identity it
/// wrote can tell, under the lock, whether the file is still its own generation without
/// reading it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    pub(crate) device: u64,
    pub(crate) inode: u64,
    pub(crate) size: u64,
    pub(crate) modified_ns: (i64, i64),
    pub(crate) changed_ns: (i64, i64),
}

impl FileIdentity {
    /// The identity as one number (FNV-1a of its fields), for a writer that records which
    /// generation it wrote where only a number fits (a journal's marker). Equal identities
    /// give equal fingerprints; different ones differ but for a 2^-64 chance.
    pub fn fingerprint(&self) -> u64 {
        let fields = [
            self.device,
            self.inode,
            self.size,
            self.modified_ns.0 as u64,
            self.modified_ns.1 as u64,
            self.changed_ns.0 as u64,
            self.changed_ns.1 as u64,
        ];
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in fields.iter().flat_map(|field| field.to_le_bytes()) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }

    /// Whether both identities name the same file (inode), even if it changed since.
    pub fn is_same_file(&self, other: &FileIdentity) -> bool {
        (self.device, self.inode) == (other.device, other.inode)
    }
}

/// A file's bytes and the identity of the generation they came from.
#[derive(Debug)]
pub struct Contents {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// The generation read.
    pub identity: FileIdentity,
    /// The file, still open: while it is held, its inode cannot be given to another file, so
    /// an equal identity later proves the path still names this generation.
    pub file: File,
}

/// Reads the whole file at `path`, refusing more than `max_len` bytes. `Ok(None)` when nothing
/// is there.
///
/// No lock is needed: [`crate::replace`] swaps whole files by rename, and an open descriptor
/// keeps reading the generation it opened. A symbolic link is refused ([`Error::Symlink`]),
/// as is a directory ([`Error::IsDirectory`]), anything else that is not a regular file
/// (a FIFO, a socket, a device: [`Error::NotRegularFile`], found without blocking: the open
/// is non-blocking) and a file over the limit
/// ([`Error::TooLarge`], checked before reading and again while reading).
pub fn read(path: &Path, max_len: u64) -> Result<Option<Contents>, Error> {
    crate::sys::with_file_system(|fs| read_with(fs, path, max_len))
}

/// The identity of the file at `path` now, without reading it; `Ok(None)` when nothing is
/// there.
pub fn identity(path: &Path) -> Result<Option<FileIdentity>, Error> {
    let inspection =
        crate::sys::with_file_system(|fs| fs.inspect(path)).context(Op::Inspect, path)?;
    Ok(inspection
        .filter(|inspection| inspection.kind == FileKind::File)
        .map(|inspection| inspection.identity))
}

pub(crate) fn read_with(
    fs: &dyn FileSystem,
    path: &Path,
    max_len: u64,
) -> Result<Option<Contents>, Error> {
    let file = match fs.open_read(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if crate::sys::is_symlink_loop(&err) => {
            return Err(Error::Symlink { path: path.to_owned() });
        }
        Err(err) => return Err(err).context(Op::Read, path),
    };
    let metadata = file.metadata().context(Op::Read, path)?;
    if metadata.is_dir() {
        return Err(Error::IsDirectory { path: path.to_owned() });
    }
    if !metadata.is_file() {
        return Err(Error::NotRegularFile { path: path.to_owned() });
    }
    if metadata.len() > max_len {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: metadata.len(),
            limit: max_len,
        });
    }
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    (&file).take(max_len.saturating_add(1)).read_to_end(&mut bytes).context(Op::Read, path)?;
    if bytes.len() as u64 > max_len {
        return Err(Error::TooLarge {
            path: path.to_owned(),
            size: bytes.len() as u64,
            limit: max_len,
        });
    }
    let identity = identity_of_file(&file).context(Op::Read, path)?;
    Ok(Some(Contents { bytes, identity, file }))
}

pub(crate) fn identity_of_file(file: &File) -> io::Result<FileIdentity> {
    Ok(crate::sys::identity_of(&file.metadata()?))
}
