//! Snapshots: every live point (id, stored vector, payload) in one checksummed
//! file, written atomically; the write-ahead log is then truncated through the
//! snapshot's log sequence number. Loading a snapshot compacts offsets.
//!
//! ```text
//! body := lsn:u64 dims:u32 count:u64 { id f32*dims payload_len:u32 payload_json }*
//! ```
//! (ids and payloads encoded as in the log's records), inside the storage
//! layer's file frame (kind `PNTS`, version, length, CRC-32).

use std::path::Path;

use super::record::{LoggedPoint, Reader, Record, put_id, put_payload, put_u32, put_vector};
use super::{Collection, CollectionConfig, Inner, Points, point_ops};
use crate::error::Result;
use crate::storage::{StorageError, read_file, write_file};

const FILE: &str = "points.snap";
const KIND: [u8; 4] = *b"PNTS";
const VERSION: u16 = 1;

/// What a snapshot covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Points written.
    pub points: usize,
    /// The last log record it includes.
    pub lsn: u64,
    /// Size of the snapshot file.
    pub bytes: u64,
}

/// The log size past which the indexer thread takes a snapshot on its own, so
/// that start-up replays a bounded log.
pub const AUTO_SNAPSHOT_WAL_BYTES: u64 = 256 << 20;

impl Collection {
    /// Writes a snapshot of every live point and truncates the log it covers.
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        take(&self.inner)
    }
}

/// Writes a snapshot: the points are copied under the writer lock (so the log
/// position is exact), then written without blocking writers.
pub(crate) fn take(inner: &Inner) -> Result<SnapshotInfo> {
    let (body, lsn, count) = {
        let _writer = inner.write_lock.lock();
        let dims = inner.config.read().dims;
        let points = inner.points.read();
        let lsn = inner.wal.last_lsn();
        (encode(&points, dims, lsn), lsn, points.live.len() as usize)
    };
    let path = inner.dir.join(FILE);
    write_file(&path, KIND, VERSION, &body)?;
    inner.wal.truncate_through(lsn)?;
    Ok(SnapshotInfo {
        points: count,
        lsn,
        bytes: disk_bytes(&inner.dir),
    })
}

fn encode(points: &Points, dims: usize, lsn: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(points.live.len() as usize * (dims * 4 + 64) + 20);
    out.extend_from_slice(&lsn.to_le_bytes());
    put_u32(&mut out, dims);
    out.extend_from_slice(&points.live.len().to_le_bytes());
    for offset in points.live.iter() {
        put_id(&mut out, &points.by_offset[offset as usize]);
        put_vector(&mut out, points.vector(offset, dims));
        put_payload(&mut out, points.payloads[offset as usize].as_ref());
    }
    out
}

/// Loads the snapshot in `dir` into `points`, if there is one; returns its lsn (0 without).
pub(crate) fn load(dir: &Path, config: &CollectionConfig, points: &mut Points) -> Result<u64> {
    let path = dir.join(FILE);
    if !path.exists() {
        return Ok(0);
    }
    let (_, body) = read_file(&path, KIND, VERSION)?;
    let corrupt = |reason: &str| StorageError::Corrupt {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    let lsn = r.u64().ok_or_else(|| corrupt("no header"))?;
    let dims = r.u32().ok_or_else(|| corrupt("no header"))? as usize;
    if dims != config.dims {
        return Err(corrupt(&format!(
            "snapshot has {dims} dimensions, the collection {}",
            config.dims
        ))
        .into());
    }
    let count = r.u64().ok_or_else(|| corrupt("no header"))?;
    let mut batch = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 20));
    for i in 0..count {
        let point = (|| {
            Some(LoggedPoint {
                id: r.id()?,
                vector: r.f32s(dims)?,
                payload: r.payload()?,
            })
        })()
        .ok_or_else(|| corrupt(&format!("point {i} of {count} does not decode")))?;
        batch.push(point);
    }
    let mut config = config.clone();
    point_ops::apply(points, &mut config, Record::Upsert(batch));
    Ok(lsn)
}

/// Bytes of the snapshot file (0 without one).
pub(crate) fn disk_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(FILE)).map_or(0, |m| m.len())
}
