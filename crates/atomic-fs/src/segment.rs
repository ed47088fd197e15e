//! `segment`: an append-only file of checksummed binary frames, for data that is written once
//! and kept (an archive, a history), where a commit is one appended frame.
//!
//! A segment is a sequence of frames:
//!
//! ```text
//! "AMF1" | LENGTH (u32, little-endian) | CRC32 of PAYLOAD (u32, little-endian) | PAYLOAD
//! ```
//!
//! The payload is any bytes (the caller's format: compressed, say); this crate never looks
//! inside. As for the journal, what a crash can leave is told apart from damage by position:
//!
//! - after the last whole frame, bytes that are not a whole frame (a header cut short, a length
//!   running past the end, a last frame whose checksum fails, zeros) are a **torn tail**: the
//!   write a crash interrupted, never acknowledged (an append returns only after its flush);
//! - a frame that fails its checksum or its magic **before** a good frame is **damage**. The
//!   reader skips to the next offset where a whole, good frame starts, so the frames around the
//!   damage are still read, and reports the damaged range.
//!
//! Appending ([`SegmentWriter::append`]) writes one frame at the end of the generation read
//! and flushes it before returning; a new segment is created with its first frame through
//! [`crate::replace_locked`], so its name and its first frame become durable together.
//!
//! ```
//! use std::time::Duration;
//! use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig, segment};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("history-000001.seg");
//! let lock = FileLock::lock(&dir.path().join("data.lock"), Duration::from_secs(10))?;
//! let config = ReplaceConfig { durability: Durability::Full, backup: Backup::None };
//! atomic_fs::replace_locked(&path, &segment::encode_frame(b"first")?, &config, &lock)?;
//!
//! let read = segment::read_segment(&path, 1 << 20)?.expect("just written");
//! let mut writer = segment::SegmentWriter::open(&path, &read.identity)?;
//! writer.append(&segment::encode_frame(b"second")?, &lock, Durability::Full)?;
//!
//! let read = segment::read_segment(&path, 1 << 20)?.expect("still there");
//! let payloads: Vec<_> = read.frames.iter().map(|frame| frame.payload.as_slice()).collect();
//! assert_eq!(payloads, [&b"first"[..], &b"second"[..]]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::File;
use std::path::Path;

use crate::error::Error;
use crate::read::FileIdentity;
use crate::replace::Durability;

/// The four bytes every frame starts with.
pub const FRAME_MAGIC: [u8; 4] = *b"AMF1";

/// Bytes before a frame's payload: magic, length, checksum.
pub const FRAME_HEADER_LEN: usize = 12;

/// The largest payload a frame may carry (64 MiB): a length above it is not a frame.
pub const MAX_FRAME_PAYLOAD: u32 = 64 << 20;

/// Why a payload cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a frame payload of {len} bytes is over the limit of {MAX_FRAME_PAYLOAD} bytes")]
pub struct FrameTooLarge {
    /// The payload's length.
    pub len: usize,
}

/// One frame as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Where the frame starts in the file.
    pub offset: u64,
    /// What the writer stored.
    pub payload: Vec<u8>,
}

/// A damaged range before the last good frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentDamage {
    /// Where the damage starts.
    pub offset: u64,
    /// How many bytes were skipped.
    pub len: u64,
    /// What was wrong at `offset`.
    pub problem: String,
}

/// A segment as read: its good frames in order, and what else was found.
#[derive(Debug)]
pub struct Segment {
    /// The good frames, in file order.
    pub frames: Vec<Frame>,
    /// The length up to the end of the last good frame: where the next frame goes once a
    /// torn tail is cut off.
    pub valid_len: u64,
    /// Bytes after the last good frame, if any (see the module docs).
    pub torn_tail: Option<u64>,
    /// Damaged ranges before the last good frame.
    pub damage: Vec<SegmentDamage>,
    /// The generation read.
    pub identity: FileIdentity,
    /// The file, still open (see [`crate::Contents::file`]).
    pub file: File,
}

impl Segment {
    /// Whether the file is exactly its good frames, so a frame can be appended as it is.
    pub fn is_clean(&self) -> bool {
        self.torn_tail.is_none() && self.damage.is_empty()
    }
}

/// One payload as a frame, header included.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, FrameTooLarge> {
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|len| *len <= MAX_FRAME_PAYLOAD)
        .ok_or(FrameTooLarge { len: payload.len() })?;
    let mut frame = Vec::with_capacity(FRAME_HEADER_LEN + payload.len());
    frame.extend_from_slice(&FRAME_MAGIC);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// What is at `offset`: a good frame (its payload and its end), or why not.
enum AtOffset<'a> {
    Good {
        payload: &'a [u8],
        end: usize,
    },
    /// The bytes end before the frame does (a header or payload cut short).
    Short,
    Bad(String),
}

fn frame_at(bytes: &[u8], offset: usize) -> AtOffset<'_> {
    let rest = &bytes[offset..];
    if rest.len() < FRAME_HEADER_LEN {
        return AtOffset::Short;
    }
    if rest[..4] != FRAME_MAGIC {
        return AtOffset::Bad("no frame starts here (bad magic)".to_owned());
    }
    let word = |at: usize| u32::from_le_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
    let (len, stored) = (word(4), word(8));
    if len > MAX_FRAME_PAYLOAD {
        return AtOffset::Bad(format!("a frame length of {len} bytes is over the limit"));
    }
    let end = FRAME_HEADER_LEN + len as usize;
    if rest.len() < end {
        return AtOffset::Short;
    }
    let payload = &rest[FRAME_HEADER_LEN..end];
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return AtOffset::Bad(format!(
            "checksum mismatch (stored {stored:08x}, computed {computed:08x})"
        ));
    }
    AtOffset::Good { payload, end: offset + end }
}

/// A segment's bytes, split (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSegment {
    /// The good frames, in file order.
    pub frames: Vec<Frame>,
    /// The length up to the end of the last good frame.
    pub valid_len: u64,
    /// Bytes after the last good frame, if any.
    pub torn_tail: Option<u64>,
    /// Damaged ranges before the last good frame.
    pub damage: Vec<SegmentDamage>,
}

/// Splits a segment's bytes into good frames, a torn tail and damage (see the module docs).
pub fn parse_segment(bytes: &[u8]) -> ParsedSegment {
    let mut frames = Vec::new();
    let mut damage = Vec::new();
    let mut valid_len = 0usize;
    let mut offset = 0usize;
    while offset < bytes.len() {
        match frame_at(bytes, offset) {
            AtOffset::Good { payload, end } => {
                frames.push(Frame { offset: offset as u64, payload: payload.to_vec() });
                valid_len = end;
                offset = end;
            }
            // A frame running past the end is the torn tail, unless a good frame follows
            // (a damaged length in the middle reads as "too long").
            AtOffset::Short => {
                let Some(next) = next_good_frame(bytes, offset + 1) else { break };
                damage.push(SegmentDamage {
                    offset: offset as u64,
                    len: (next - offset) as u64,
                    problem: "a frame length that runs over the next frame".to_owned(),
                });
                offset = next;
            }
            AtOffset::Bad(problem) => {
                // Damage only if a good frame follows; otherwise it is the torn tail.
                let next = next_good_frame(bytes, offset + 1);
                let Some(next) = next else { break };
                damage.push(SegmentDamage {
                    offset: offset as u64,
                    len: (next - offset) as u64,
                    problem,
                });
                offset = next;
            }
        }
    }
    let torn_tail = (valid_len < bytes.len()).then(|| (bytes.len() - valid_len) as u64);
    ParsedSegment { frames, valid_len: valid_len as u64, torn_tail, damage }
}

/// The first offset at or after `from` where a whole, good frame starts.
fn next_good_frame(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + FRAME_HEADER_LEN <= bytes.len() {
        let found = bytes[at..].windows(4).position(|window| window == FRAME_MAGIC)?;
        at += found;
        if let AtOffset::Good { .. } = frame_at(bytes, at) {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// Reads the segment at `path`, refusing more than `max_len` bytes. `Ok(None)` when there is
/// no such file. Takes no lock: frames are only appended under the lock, and a frame being
/// appended is at worst a torn tail, ignored.
pub fn read_segment(path: &Path, max_len: u64) -> Result<Option<Segment>, Error> {
    let Some(contents) = crate::read(path, max_len)? else {
        return Ok(None);
    };
    let ParsedSegment { frames, valid_len, torn_tail, damage } = parse_segment(&contents.bytes);
    Ok(Some(Segment {
        frames,
        valid_len,
        torn_tail,
        damage,
        identity: contents.identity,
        file: contents.file,
    }))
}

/// A segment open for appending at its end, kept between commits.
#[derive(Debug)]
pub struct SegmentWriter {
    appender: crate::append::Appender,
}

impl SegmentWriter {
    /// Opens the segment at `path` for appending at the end of the generation `read` (as
    /// [`read_segment`] returned it, clean). [`Error::Changed`] when the file is no longer
    /// that generation.
    pub fn open(path: &Path, read: &FileIdentity) -> Result<SegmentWriter, Error> {
        Ok(SegmentWriter { appender: crate::append::Appender::open(path, read)? })
    }

    /// The generation the next frame is appended to.
    pub fn identity(&self) -> FileIdentity {
        self.appender.identity()
    }

    /// Appends `frame` (from [`encode_frame`]) and flushes it: when this returns `Ok` with
    /// [`Durability::Full`] the frame survives a power loss. Returns the segment's new
    /// identity. The caller holds `lock` ([`Error::LockLost`] when it is no longer the lock
    /// file at its path: nothing was written). A failed write may leave part of the frame at
    /// the end (a torn tail): drop this writer and read the segment again. A failed flush is
    /// [`Error::Sync`]: final, as for a replace.
    pub fn append(
        &mut self,
        frame: &[u8],
        lock: &crate::FileLock,
        durability: Durability,
    ) -> Result<FileIdentity, Error> {
        self.appender.append(frame, lock, durability)
    }
}

#[cfg(test)]
mod tests;
