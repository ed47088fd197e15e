//! `Appender`: a file open for appending at the end of a generation a caller read, with one
//! flushed write per commit. The journal's and the segments' writers are this, each with its
//! own record format.

use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoResultExt, Op};
use crate::read::{FileIdentity, identity_of_file};
use crate::replace::{Durability, flush_file};

/// A file open for appending (`O_APPEND`), kept between commits.
#[derive(Debug)]
pub(crate) struct Appender {
    file: File,
    path: PathBuf,
    identity: FileIdentity,
}

impl Appender {
    /// Opens `path` for appending at the end of the generation `read`; [`Error::Changed`]
    /// when the file is no longer that generation, [`Error::Symlink`] for a symbolic link.
    pub(crate) fn open(path: &Path, read: &FileIdentity) -> Result<Appender, Error> {
        crate::sys::with_file_system(|fs| {
            let mut file = match fs.open_write(path) {
                Err(err) if crate::sys::is_symlink_loop(&err) => {
                    return Err(Error::Symlink { path: path.to_owned() });
                }
                other => other.context(Op::Append, path)?,
            };
            if identity_of_file(&file).context(Op::Append, path)? != *read {
                return Err(Error::Changed { path: path.to_owned() });
            }
            file.seek(SeekFrom::Start(read.size)).context(Op::Append, path)?;
            Ok(Appender { file, path: path.to_owned(), identity: *read })
        })
    }

    /// The generation the next write is appended to.
    pub(crate) fn identity(&self) -> FileIdentity {
        self.identity
    }

    /// Appends `bytes` and flushes them, after checking that `lock` is still the lock file at
    /// its path ([`Error::LockLost`]: nothing written); returns the file's new identity.
    pub(crate) fn append(
        &mut self,
        bytes: &[u8],
        lock: &crate::FileLock,
        durability: Durability,
    ) -> Result<FileIdentity, Error> {
        if !lock.is_still_at_path()? {
            return Err(Error::LockLost { path: lock.path().to_owned() });
        }
        crate::sys::with_file_system(|fs| {
            fs.write_all(&mut self.file, bytes).context(Op::Append, &self.path)?;
            flush_file(fs, &self.file, &self.path, durability)?;
            self.identity = identity_of_file(&self.file).context(Op::Append, &self.path)?;
            Ok(self.identity)
        })
    }
}
