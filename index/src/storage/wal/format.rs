//! On-disk format of the write-ahead log: file header, record frames, and
//! the sequential scan that recovery and truncation use. See the parent
//! module for the layout.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::storage::StorageError;

const MAGIC: [u8; 8] = *b"TRWLWAL\0";
const FORMAT_VERSION: u16 = 1;
/// Length of the file header in bytes.
pub(super) const HEADER_LEN: usize = 24;
/// Length of a record's frame header (len, lsn, crc) in bytes.
pub(super) const FRAME_HEADER_LEN: usize = 16;
pub(super) const READ_BUF: usize = 1 << 20;
/// Largest base lsn a header may carry: beyond any real log (2^63 records),
/// and low enough that lsn arithmetic never overflows.
const MAX_BASE_LSN: u64 = u64::MAX / 2;

pub(super) fn encode_header(base_lsn: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    // h[10..12] reserved, zero.
    h[12..20].copy_from_slice(&base_lsn.to_le_bytes());
    let crc = crc32fast::hash(&h[0..20]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Appends one frame to `buf`. `payload.len()` fits in a u32 (checked by the caller).
pub(super) fn encode_frame(buf: &mut Vec<u8>, lsn: u64, payload: &[u8]) {
    let lsn_bytes = lsn.to_le_bytes();
    buf.reserve(FRAME_HEADER_LEN + payload.len());
    buf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    buf.extend_from_slice(&lsn_bytes);
    buf.extend_from_slice(&frame_crc(&lsn_bytes, payload).to_le_bytes());
    buf.extend_from_slice(payload);
}

fn frame_crc(lsn_bytes: &[u8; 8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(lsn_bytes);
    h.update(payload);
    h.finalize()
}

struct FrameHeader {
    len: u64,
    lsn: u64,
    crc: u32,
}

fn decode_frame_header(b: &[u8; FRAME_HEADER_LEN]) -> FrameHeader {
    let mut len = [0u8; 4];
    let mut lsn = [0u8; 8];
    let mut crc = [0u8; 4];
    len.copy_from_slice(&b[0..4]);
    lsn.copy_from_slice(&b[4..12]);
    crc.copy_from_slice(&b[12..16]);
    FrameHeader {
        len: u64::from(u32::from_le_bytes(len)),
        lsn: u64::from_le_bytes(lsn),
        crc: u32::from_le_bytes(crc),
    }
}

/// Result of [`scan`].
pub(super) struct Scan {
    /// Lsn before the first record.
    pub(super) base_lsn: u64,
    /// Intact records in order.
    pub(super) records: Vec<(u64, Vec<u8>)>,
    /// Offset just past the last intact record.
    pub(super) valid_end: u64,
    /// Size of the file when scanned.
    pub(super) file_len: u64,
    /// Why the scan stopped before the end of the file, if it did.
    pub(super) damage: Option<Damage>,
}

/// What [`scan`] found at `valid_end` when bytes follow the last intact record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Damage {
    /// The record there runs past the end of the file (or its header does), and
    /// nothing after it is intact: the last write was cut short (a crash).
    Torn,
    /// Only zero bytes follow (space allocated but never written).
    Zeros,
    /// The record there is complete but fails its checks.
    Bad {
        /// Expected lsn of the damaged record.
        lsn: u64,
        /// Which check failed.
        reason: String,
        /// An intact record found after it, as (lsn, offset), if any.
        intact_after: Option<(u64, u64)>,
    },
}

impl Damage {
    /// A torn write at the end of the log, safe to cut: nothing acknowledged
    /// can be in it.
    pub(super) fn is_torn_tail(&self) -> bool {
        matches!(self, Damage::Torn | Damage::Zeros)
    }
}

/// Reads the header and every intact record; stops at the first damaged one.
pub(super) fn scan(
    file: &File,
    path: &Path,
    max_record_bytes: usize,
) -> Result<Scan, StorageError> {
    let io = |e| StorageError::io(path, e);
    let file_len = file.metadata().map_err(io)?.len();
    if file_len < HEADER_LEN as u64 {
        return Err(StorageError::corrupt(
            path,
            format!(
                "write-ahead log is {file_len} bytes, shorter than its {HEADER_LEN}-byte header"
            ),
        ));
    }
    let mut r = BufReader::with_capacity(READ_BUF, file);
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut header = [0u8; HEADER_LEN];
    r.read_exact(&mut header).map_err(io)?;
    let base_lsn = decode_header(&header).map_err(|reason| StorageError::corrupt(path, reason))?;

    let mut records = Vec::new();
    let mut pos = HEADER_LEN as u64;
    let mut expected = base_lsn + 1;
    let mut fh = [0u8; FRAME_HEADER_LEN];
    let mut bad: Option<String> = None;
    while file_len - pos >= FRAME_HEADER_LEN as u64 {
        r.read_exact(&mut fh).map_err(io)?;
        let frame = decode_frame_header(&fh);
        let end = pos + FRAME_HEADER_LEN as u64 + frame.len;
        if frame.lsn != expected {
            bad = Some(format!("its header says lsn {}", frame.lsn));
            break;
        }
        if end > file_len {
            break;
        }
        let lsn_bytes = frame.lsn.to_le_bytes();
        if frame.len > max_record_bytes as u64 {
            // Damage, unless the record is intact: then refuse to discard it.
            let mut h = crc32fast::Hasher::new();
            h.update(&lsn_bytes);
            let mut chunk = vec![0u8; 64 << 10];
            let mut left = frame.len;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                r.read_exact(&mut chunk[..n]).map_err(io)?;
                h.update(&chunk[..n]);
                left -= n as u64;
            }
            if h.finalize() == frame.crc {
                return Err(StorageError::corrupt(
                    path,
                    format!(
                        "intact record lsn {} at offset {pos} is {} bytes, above max_record_bytes {max_record_bytes}; reopen with a larger limit",
                        frame.lsn, frame.len
                    ),
                ));
            }
            bad = Some("its checksum does not match".to_owned());
            break;
        }
        let mut payload = vec![0u8; frame.len as usize];
        r.read_exact(&mut payload).map_err(io)?;
        if frame_crc(&lsn_bytes, &payload) != frame.crc {
            bad = Some("its checksum does not match".to_owned());
            break;
        }
        records.push((frame.lsn, payload));
        pos = end;
        expected += 1;
    }
    let damage = if pos == file_len {
        None
    } else {
        Some(classify(file, path, pos, file_len, expected, bad)?)
    };
    Ok(Scan {
        base_lsn,
        records,
        valid_end: pos,
        file_len,
        damage,
    })
}

/// Tells a torn tail from corruption, given the first damaged record at
/// `pos` (expected lsn `lsn`; `bad` says which check it failed, `None` when
/// it runs past the end of the file). Any intact record further on makes it
/// corruption, whatever the damaged record looks like: a crash only ever
/// cuts the end of the log short.
fn classify(
    file: &File,
    path: &Path,
    pos: u64,
    file_len: u64,
    lsn: u64,
    bad: Option<String>,
) -> Result<Damage, StorageError> {
    let io = |e| StorageError::io(path, e);
    let mut rest = Vec::with_capacity(usize::try_from(file_len - pos).unwrap_or(0));
    let mut r = BufReader::with_capacity(READ_BUF, file);
    r.seek(SeekFrom::Start(pos)).map_err(io)?;
    r.read_to_end(&mut rest).map_err(io)?;
    let intact_after = find_intact_frame(&rest, lsn).map(|(found, at)| (found, pos + at as u64));
    if intact_after.is_none() {
        if rest.iter().all(|&b| b == 0) {
            return Ok(Damage::Zeros);
        }
        if bad.is_none() {
            return Ok(Damage::Torn);
        }
    }
    Ok(Damage::Bad {
        lsn,
        reason: bad.unwrap_or_else(|| "its length runs past the end of the file".to_owned()),
        intact_after,
    })
}

/// The first intact frame in `bytes` after offset 0 with an lsn of at least
/// `from` (and no more than one per frame header that could follow), as
/// (lsn, offset).
fn find_intact_frame(bytes: &[u8], from: u64) -> Option<(u64, usize)> {
    let most = from + (bytes.len() / FRAME_HEADER_LEN) as u64;
    (1..bytes.len().saturating_sub(FRAME_HEADER_LEN - 1)).find_map(|at| {
        let mut header = [0u8; FRAME_HEADER_LEN];
        header.copy_from_slice(&bytes[at..at + FRAME_HEADER_LEN]);
        let frame = decode_frame_header(&header);
        if frame.lsn < from || frame.lsn > most {
            return None;
        }
        let start = at + FRAME_HEADER_LEN;
        let end = start.checked_add(usize::try_from(frame.len).ok()?)?;
        let payload = bytes.get(start..end)?;
        (frame_crc(&frame.lsn.to_le_bytes(), payload) == frame.crc).then_some((frame.lsn, at))
    })
}

fn decode_header(h: &[u8; HEADER_LEN]) -> Result<u64, String> {
    if h[0..8] != MAGIC {
        return Err("bad magic: not a trawl write-ahead log".to_owned());
    }
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&h[20..24]);
    if crc32fast::hash(&h[0..20]) != u32::from_le_bytes(crc) {
        return Err("header checksum mismatch".to_owned());
    }
    let version = u16::from_le_bytes([h[8], h[9]]);
    if version > FORMAT_VERSION {
        return Err(format!(
            "unsupported write-ahead log version {version} (this build reads up to {FORMAT_VERSION})"
        ));
    }
    let mut base = [0u8; 8];
    base.copy_from_slice(&h[12..20]);
    let base = u64::from_le_bytes(base);
    if base > MAX_BASE_LSN {
        return Err(format!(
            "base lsn {base} is out of range (at most {MAX_BASE_LSN})"
        ));
    }
    Ok(base)
}

/// Byte offset of the first record with lsn > `through` (or `len` if none),
/// walking frame headers of a log already known to be intact.
pub(super) fn skip_records(
    file: &File,
    path: &Path,
    base_lsn: u64,
    through: u64,
    len: u64,
) -> Result<u64, StorageError> {
    let io = |e| StorageError::io(path, e);
    let mut r = BufReader::with_capacity(64 << 10, file);
    r.seek(SeekFrom::Start(HEADER_LEN as u64)).map_err(io)?;
    let mut pos = HEADER_LEN as u64;
    let mut fh = [0u8; FRAME_HEADER_LEN];
    for expected in base_lsn + 1..=through {
        if pos >= len {
            break;
        }
        r.read_exact(&mut fh).map_err(io)?;
        let frame = decode_frame_header(&fh);
        if frame.lsn != expected {
            return Err(StorageError::corrupt(
                path,
                format!(
                    "expected lsn {expected} at offset {pos}, found {}",
                    frame.lsn
                ),
            ));
        }
        r.seek_relative(frame.len as i64).map_err(io)?;
        pos += FRAME_HEADER_LEN as u64 + frame.len;
    }
    Ok(pos)
}
