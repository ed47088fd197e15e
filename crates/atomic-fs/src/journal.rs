//! `journal`: an append-only file of numbered, checksummed records, for writers that want a
//! commit to cost one small flushed append instead of a whole-file replace.
//!
//! A journal is a text file of lines, one record each:
//!
//! ```text
//! SEQUENCE CRC32 PAYLOAD\n
//! ```
//!
//! `SEQUENCE` is a decimal `u64`, one more than the line before; `CRC32` is eight lowercase
//! hex digits, the CRC-32 (IEEE) of the sequence's digits, one space and the payload; the
//! payload is any bytes without a newline (the caller's format; this crate never looks
//! inside). What a crash can leave is told apart from damage by position:
//!
//! - a **last** line without its newline (cut short, or zero-filled) is a write a crash
//!   interrupted ([`Journal::torn_tail`]): it was never acknowledged, readers ignore it, and
//!   the next writer rewrites the journal without it before appending;
//! - any **whole** line (newline-terminated) that fails its checksum or shape is damage
//!   ([`Journal::damage`]), even the last one: a crash mid-append cannot leave one, while a
//!   flipped newline can merge two records into one failing line. The lines around it are
//!   still read (each checks itself), and the caller decides what to keep aside.
//!
//! Appending ([`JournalWriter::append`]) writes one encoded record at the end (the file is open
//! with `O_APPEND`, and checked to be the generation the caller read) and flushes it
//! (`fdatasync`) before returning; rewriting (a fresh or repaired journal) goes
//! through [`crate::replace_locked`], so it is atomic and durable like any generation.
//!
//! ```
//! use std::time::Duration;
//! use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig, journal};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("data.journal");
//! let lock = FileLock::lock(&dir.path().join("data.lock"), Duration::from_secs(10))?;
//! let config = ReplaceConfig { durability: Durability::Full, backup: Backup::None };
//! atomic_fs::replace_locked(&path, &journal::encode_record(0, b"start")?, &config, &lock)?;
//!
//! let read = journal::read_journal(&path, 1 << 20)?.expect("just written");
//! let mut writer = journal::JournalWriter::open(&path, &read.identity)?;
//! writer.append(&journal::encode_record(1, b"one")?, &lock, Durability::Full)?;
//!
//! let read = journal::read_journal(&path, 1 << 20)?.expect("still there");
//! let payloads: Vec<_> = read.records.iter().map(|record| record.payload.as_slice()).collect();
//! assert_eq!(payloads, [&b"start"[..], &b"one"[..]]);
//! assert_eq!(read.records[1].sequence, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::path::Path;

use crate::error::Error;
use crate::read::FileIdentity;
use crate::replace::Durability;

/// One record of a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRecord {
    /// Its sequence number.
    pub sequence: u64,
    /// What the writer stored (no newline).
    pub payload: Vec<u8>,
}

/// Why one line is not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The line does not have the shape `SEQUENCE CRC32 PAYLOAD`.
    #[error("not a journal record ({0})")]
    Malformed(&'static str),
    /// The checksum does not match the line: it was torn or damaged.
    #[error("checksum mismatch (stored {stored:08x}, computed {computed:08x})")]
    Checksum {
        /// The CRC the line carries.
        stored: u32,
        /// The CRC of what the line holds.
        computed: u32,
    },
}

/// A line of a journal that is not a good record, before its last good one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalDamage {
    /// The line, counted from 1.
    pub line: usize,
    /// Its byte offset in the file.
    pub offset: u64,
    /// What is wrong with it.
    pub problem: String,
}

/// A journal as read: its good records in order, and what else was found.
#[derive(Debug)]
pub struct Journal {
    /// The good records, in file order.
    pub records: Vec<JournalRecord>,
    /// The length of the file up to the end of its last good record: where the next record
    /// goes once a torn tail is cut off.
    pub valid_len: u64,
    /// How many bytes after the last good record a crash left (a torn last write), if any.
    pub torn_tail: Option<u64>,
    /// Lines before the last good record that are not good records, or break the sequence.
    pub damage: Vec<JournalDamage>,
    /// The generation read.
    pub identity: FileIdentity,
    /// The file, still open (see [`crate::Contents::file`]).
    pub file: File,
}

impl Journal {
    /// The sequence number the next record must carry: one more than the last good record's
    /// (`None` for a journal without records).
    pub fn next_sequence(&self) -> Option<u64> {
        self.records.last().map(|record| record.sequence.saturating_add(1))
    }

    /// Whether the file is exactly its good records: no torn tail and no damage, so a record
    /// can be appended at [`Journal::valid_len`] as it is.
    pub fn is_clean(&self) -> bool {
        self.torn_tail.is_none() && self.damage.is_empty()
    }
}

/// The CRC-32 of a record: over the sequence's digits, one space and the payload.
fn checksum(sequence_digits: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(sequence_digits);
    hasher.update(b" ");
    hasher.update(payload);
    hasher.finalize()
}

/// One record as a line, newline included. Refuses a payload holding a newline (it would
/// split the record), naming the problem as [`RecordError::Malformed`].
pub fn encode_record(sequence: u64, payload: &[u8]) -> Result<Vec<u8>, RecordError> {
    if payload.contains(&b'\n') {
        return Err(RecordError::Malformed("the payload holds a newline"));
    }
    let digits = sequence.to_string();
    let crc = checksum(digits.as_bytes(), payload);
    let mut line = Vec::with_capacity(digits.len() + 10 + payload.len() + 1);
    line.extend_from_slice(digits.as_bytes());
    line.extend_from_slice(format!(" {crc:08x} ").as_bytes());
    line.extend_from_slice(payload);
    line.push(b'\n');
    Ok(line)
}

/// Decodes one line (without its newline).
pub fn decode_record(line: &[u8]) -> Result<JournalRecord, RecordError> {
    let mut parts = line.splitn(3, |byte| *byte == b' ');
    let digits = parts.next().unwrap_or_default();
    let crc = parts.next().ok_or(RecordError::Malformed("no checksum"))?;
    let payload = parts.next().ok_or(RecordError::Malformed("no payload"))?;
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(RecordError::Malformed("the sequence number is not a decimal number"));
    }
    let sequence = std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.parse::<u64>().ok())
        .ok_or(RecordError::Malformed("the sequence number is out of range"))?;
    if crc.len() != 8 || !crc.iter().all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(RecordError::Malformed("the checksum is not eight lowercase hex digits"));
    }
    let stored = std::str::from_utf8(crc)
        .ok()
        .and_then(|text| u32::from_str_radix(text, 16).ok())
        .ok_or(RecordError::Malformed("the checksum is not hex"))?;
    let computed = checksum(digits, payload);
    if stored != computed {
        return Err(RecordError::Checksum { stored, computed });
    }
    Ok(JournalRecord { sequence, payload: payload.to_vec() })
}

/// The problem of a last line without its newline: a torn write.
const NO_END: &str = "the line has no end";

/// A journal's bytes, split (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedJournal {
    /// The good records, in file order.
    pub records: Vec<JournalRecord>,
    /// The length up to the end of the last good record.
    pub valid_len: u64,
    /// Bytes after the last good record that a crash left, if any.
    pub torn_tail: Option<u64>,
    /// Lines before the last good record that are not good records.
    pub damage: Vec<JournalDamage>,
}

/// Splits a journal's bytes into good records, a torn tail and damage (see the module docs).
pub fn parse_journal(bytes: &[u8]) -> ParsedJournal {
    let mut records: Vec<JournalRecord> = Vec::new();
    let mut damage = Vec::new();
    // Bad lines are only known to be damage once a good line follows them.
    let mut pending_bad: Vec<JournalDamage> = Vec::new();
    let mut valid_len = 0u64;
    let mut offset = 0usize;
    let mut line_number = 0usize;
    while offset < bytes.len() {
        line_number += 1;
        let rest = &bytes[offset..];
        let Some(newline) = rest.iter().position(|byte| *byte == b'\n') else {
            pending_bad.push(JournalDamage {
                line: line_number,
                offset: offset as u64,
                problem: NO_END.to_owned(),
            });
            break;
        };
        let line = &rest[..newline];
        let end = offset + newline + 1;
        match decode_record(line) {
            Ok(record) => {
                let expected = records.last().map(|last| last.sequence.saturating_add(1));
                let follows = match expected {
                    None => true,
                    // After a damaged line any later number is accepted: the damage ate some.
                    Some(expected) if !pending_bad.is_empty() => record.sequence >= expected,
                    Some(expected) => record.sequence == expected,
                };
                damage.append(&mut pending_bad);
                if follows {
                    records.push(record);
                    valid_len = end as u64;
                } else {
                    damage.push(JournalDamage {
                        line: line_number,
                        offset: offset as u64,
                        problem: format!(
                            "sequence {} does not follow {}",
                            record.sequence,
                            records.last().map_or(0, |last| last.sequence)
                        ),
                    });
                }
            }
            Err(problem) => pending_bad.push(JournalDamage {
                line: line_number,
                offset: offset as u64,
                problem: problem.to_string(),
            }),
        }
        offset = end;
    }
    let torn_tail = (valid_len < bytes.len() as u64).then(|| bytes.len() as u64 - valid_len);
    // After the last good record, only a line without its end is what a crash mid-append
    // leaves. A whole line that fails is damage even there: a flipped newline can merge the
    // last two records into one failing line, and cutting it off would lose one that was
    // acknowledged. Readers skip it either way; a writer keeps the journal aside.
    damage.extend(pending_bad.into_iter().filter(|bad| bad.problem != NO_END));
    ParsedJournal { records, valid_len, torn_tail, damage }
}

/// Reads the journal at `path`, refusing more than `max_len` bytes. `Ok(None)` when there is
/// no journal. Takes no lock: records are only appended under the lock, and a record being
/// appended is at worst a torn tail, ignored.
pub fn read_journal(path: &Path, max_len: u64) -> Result<Option<Journal>, Error> {
    let Some(contents) = crate::read(path, max_len)? else {
        return Ok(None);
    };
    let ParsedJournal { records, valid_len, torn_tail, damage } = parse_journal(&contents.bytes);
    Ok(Some(Journal {
        records,
        valid_len,
        torn_tail,
        damage,
        identity: contents.identity,
        file: contents.file,
    }))
}

/// A journal open for appending at its end, kept between commits so that a commit costs a
/// write and a flush, not an `open` and a `close` as well.
#[derive(Debug)]
pub struct JournalWriter {
    appender: crate::append::Appender,
}

impl JournalWriter {
    /// Opens the journal at `path` for appending at the end of the generation `read` (as
    /// [`read_journal`] returned it). [`Error::Changed`] when the file is no longer that
    /// generation.
    pub fn open(path: &Path, read: &FileIdentity) -> Result<JournalWriter, Error> {
        Ok(JournalWriter { appender: crate::append::Appender::open(path, read)? })
    }

    /// The generation the next record is appended to.
    pub fn identity(&self) -> FileIdentity {
        self.appender.identity()
    }

    /// Appends `record` (from [`encode_record`]) and flushes it: when this returns `Ok` with
    /// [`Durability::Full`] the record survives a power loss. Returns the journal's new
    /// identity.
    ///
    /// The caller holds `lock`. It is checked to still be the lock file at its path
    /// ([`Error::LockLost`] otherwise: nothing was written). The caller checks that the
    /// journal at the path is still [`JournalWriter::identity`] before appending. A failed
    /// write may leave part of the record at the end (a torn tail, which readers ignore and
    /// the next writer cuts off): drop this writer and read the journal again. A failed flush
    /// is [`Error::Sync`]: final, as for a replace.
    pub fn append(
        &mut self,
        record: &[u8],
        lock: &crate::FileLock,
        durability: Durability,
    ) -> Result<FileIdentity, Error> {
        self.appender.append(record, lock, durability)
    }
}

#[cfg(test)]
mod tests;
