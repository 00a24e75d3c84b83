//! Snapshots: every live point (id, stored vector, payload) and the HNSW graph
//! over them in one checksummed file, written atomically; the write-ahead log is
//! then truncated through the snapshot's log sequence number. Snapshots compact
//! offsets: live points are renumbered in order, and the graph with them.
//!
//! ```text
//! body  := lsn:u64 dims:u32 count:u64 { id vector payload_len:u32 payload_json }*
//!          graph                                  (version 2 on)
//! vector := f32*dims | rows:u32 f32*(rows·dims)   (multivector layout: the tokens)
//! graph := covered:u64 segments:u32 { flat graph }*
//! ```
//! (ids and payloads encoded as in the log's records; the flat graph as
//! [`FlatGraph::encode`] writes it), inside the storage layer's file frame (kind
//! `PNTS`, version, length, CRC-32). `covered` counts the leading points the
//! graph holds; start-up searches with the stored graph at once, and the
//! background indexer inserts only the points after it. Version 1 files (no
//! graph) still load; their graph is rebuilt.

use std::path::Path;

use super::record::{LoggedPoint, Reader, Record, put_id, put_payload, put_u32, put_vector};
use super::{Collection, CollectionConfig, Inner, Points, point_ops};
use crate::error::Result;
use crate::graph::FlatGraph;
use crate::storage::{StorageError, read_file, write_file};
use crate::types::Offset;

pub(crate) const FILE: &str = "points.snap";
const KIND: [u8; 4] = *b"PNTS";
const VERSION: u16 = 2;
/// Points applied at a time while loading ...
const LOAD_CHUNK: usize = 4_096;
/// ... or fewer, once they hold this many floats (token sets are large).
const LOAD_CHUNK_FLOATS: usize = 1 << 24;

/// The graph a snapshot held: its segments, over the first `covered` points.
pub(crate) struct StoredGraph {
    pub(crate) covered: usize,
    pub(crate) segments: Vec<FlatGraph>,
}

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

/// The log size past which the indexer thread takes a snapshot on its own
/// (when the log has also outgrown the last snapshot), so that start-up
/// replays a bounded log.
pub const AUTO_SNAPSHOT_WAL_BYTES: u64 = 256 << 20;

impl Collection {
    /// Writes a snapshot of every live point and truncates the log it covers.
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        take(&self.inner).map_err(|e| e.in_collection(&self.inner.name))
    }
}

/// Writes a snapshot: the points are copied under the writer lock (so the log
/// position is exact), then written without blocking writers.
pub(crate) fn take(inner: &Inner) -> Result<SnapshotInfo> {
    // One at a time: two snapshots writing the same temporary file could
    // rename a half-written one into place.
    let _one = inner.snapshot_lock.lock();
    let (body, lsn, count) = {
        let _writer = inner.write_lock.lock();
        let dims = inner.config.read().dims;
        let points = inner.points.read();
        let lsn = inner.wal.last_lsn();
        let graph = std::sync::Arc::clone(&inner.graph.read());
        let indexed = inner
            .indexed
            .load(std::sync::atomic::Ordering::Acquire)
            .min(points.len());
        let mut body = encode(&points, dims, lsn);
        encode_graph(&mut body, &points, &graph.segments(), indexed);
        (body, lsn, points.live.len() as usize)
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
        let stored = points.stored(offset);
        if points.tokens.is_some() {
            put_u32(&mut out, stored.len() / dims);
        }
        put_vector(&mut out, stored);
        put_payload(&mut out, points.payloads[offset as usize].as_ref());
    }
    out
}

/// Appends the graph section: the segments renumbered as [`encode`] renumbers
/// the points, keeping only nodes that are live and below `indexed`.
fn encode_graph(
    out: &mut Vec<u8>,
    points: &Points,
    segments: &[std::sync::Arc<FlatGraph>],
    indexed: usize,
) {
    let mut renumber = vec![Offset::MAX; points.len()];
    for (new, old) in points.live.iter().enumerate() {
        renumber[old as usize] = new as Offset;
    }
    let map = |o: Offset| {
        let new = *renumber.get(o as usize)?;
        ((o as usize) < indexed && new != Offset::MAX).then_some(new)
    };
    let covered = super::live_below(&points.live, indexed);
    out.extend_from_slice(&(covered as u64).to_le_bytes());
    put_u32(out, segments.len());
    for segment in segments {
        segment.remap(map).encode(out);
    }
}

/// Loads the snapshot in `dir` into `points`, if there is one; returns its lsn
/// (0 without) and the graph it stored, if any.
pub(crate) fn load(
    dir: &Path,
    config: &CollectionConfig,
    points: &mut Points,
) -> Result<(u64, Option<StoredGraph>)> {
    let path = dir.join(FILE);
    if !path.exists() {
        return Ok((0, None));
    }
    let (version, body) = read_file(&path, KIND, VERSION)?;
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
    let mut config = config.clone();
    // Applied in chunks, so that the vectors are never all in the heap at once
    // (compact layouts keep them in a file).
    let multivector = points.tokens.is_some();
    let mut batch_floats = 0usize;
    let mut batch = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(LOAD_CHUNK));
    for i in 0..count {
        let point = (|| {
            let id = r.id()?;
            let rows = if multivector { r.u32()? as usize } else { 1 };
            Some(LoggedPoint {
                id,
                vector: r.f32s(rows.checked_mul(dims)?)?,
                payload: r.payload()?,
            })
        })()
        .ok_or_else(|| corrupt(&format!("point {i} of {count} does not decode")))?;
        batch_floats += point.vector.len();
        batch.push(point);
        if batch.len() == LOAD_CHUNK || batch_floats >= LOAD_CHUNK_FLOATS {
            batch_floats = 0;
            point_ops::apply(
                points,
                &mut config,
                Record::Upsert(std::mem::take(&mut batch)),
            )?;
        }
    }
    point_ops::apply(points, &mut config, Record::Upsert(batch))?;
    if version < 2 {
        return Ok((lsn, None));
    }
    let graph = (|| {
        let covered = usize::try_from(r.u64()?).ok()?;
        let count = r.u32()?;
        let mut segments = Vec::new();
        for _ in 0..count {
            segments.push(FlatGraph::decode(&mut r)?);
        }
        let nodes: usize = segments.iter().map(FlatGraph::len).sum();
        let fits = covered <= points.len()
            && nodes == covered
            && segments.iter().all(|g| g.span() <= covered);
        fits.then_some(StoredGraph { covered, segments })
    })();
    if graph.is_none() {
        // The points passed the checksum; the graph is derived from them.
        tracing::warn!(path = %path.display(), "the snapshot's graph does not fit its points; rebuilding it");
    }
    Ok((lsn, graph))
}

/// Bytes of the snapshot file (0 without one).
pub(crate) fn disk_bytes(dir: &Path) -> u64 {
    std::fs::metadata(dir.join(FILE)).map_or(0, |m| m.len())
}
