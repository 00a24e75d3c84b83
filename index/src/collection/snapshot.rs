//! Checkpoints (`POST /collections/{c}/snapshots`), and the conversion of
//! the format before segments.
//!
//! A checkpoint seals every point into segments, merges as the optimiser
//! would, writes the manifest and cuts the log: no point passes through a
//! buffer of the whole collection, and concurrent requests are serialised by
//! the maintenance lock.
//!
//! Before segments a collection was one snapshot file and the log:
//!
//! ```text
//! body  := lsn:u64 dims:u32 count:u64 { id vector payload_len:u32 payload_json }*
//!          graph                                  (version 2 on)
//! vector := f32*dims | rows:u32 f32*(rows·dims)   (multivector layout: the tokens)
//! ```
//! (kind `PNTS`). [`load`] reads such a file into the segment set (its graph
//! is dropped: sealing builds new ones); the collection then converts itself
//! once, at open.

use std::path::Path;

use super::record::{LoggedPoint, Reader, Record};
use super::set::{SealPolicy, SegmentSet};
use super::{Collection, CollectionConfig, manifest, sealer, segment};
use crate::error::Result;
use crate::storage::{StorageError, read_file, sync_dir};

pub(crate) const FILE: &str = "points.snap";
const KIND: [u8; 4] = *b"PNTS";
const VERSION: u16 = 2;
/// Points applied at a time while loading ...
const LOAD_CHUNK: usize = 4_096;
/// ... or fewer, once they hold this many floats (token sets are large).
const LOAD_CHUNK_FLOATS: usize = 1 << 24;

/// What a checkpoint covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// Live points.
    pub points: usize,
    /// The last log record it includes.
    pub lsn: u64,
    /// Bytes of the sealed segments' files.
    pub bytes: u64,
}

/// The log size past which the sealer seals what it has on its own, so that
/// start-up replays a bounded log.
pub const AUTO_SNAPSHOT_WAL_BYTES: u64 = 256 << 20;

impl Collection {
    /// Seals every point, writes the manifest and cuts the log it covers.
    pub fn snapshot(&self) -> Result<SnapshotInfo> {
        sealer::flush(&self.inner).map_err(|e| e.in_collection(&self.inner.name))?;
        let set = self.inner.segments();
        Ok(SnapshotInfo {
            points: set.len(),
            lsn: self
                .inner
                .manifest_lsn
                .load(std::sync::atomic::Ordering::Acquire),
            bytes: set.sealed.iter().map(|e| e.segment.disk_bytes()).sum(),
        })
    }
}

impl Collection {
    /// Checkpoints, then writes into `dest` (a new directory) what the
    /// collection's directory needs to open at the checkpoint plus the log
    /// records that followed it: `config.json`, `manifest.bin`, hard links to
    /// (or, across file systems, copies of) the sealed segments' files, and
    /// `wal.log` holding the records after the manifest. No point passes
    /// through the heap; writers wait only while the log's tail is copied.
    pub(crate) fn capture(&self, dest: &Path) -> Result<SnapshotInfo> {
        let inner = &self.inner;
        let (stored_lsn, mut bytes) = self.link_checkpoint(dest)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| StorageError::io(&path, e)
        };
        // Under the writer lock no write is half-applied: the points counted
        // are those of the records copied.
        let (lsn, points) = {
            let _writer = inner.write_lock.lock();
            let wal = dest.join(super::WAL_FILE);
            let lsn = inner.wal.copy_after(stored_lsn, &wal)?;
            bytes += std::fs::metadata(&wal).map_err(io(&wal))?.len();
            (lsn, inner.segments().len())
        };
        sync_dir(dest)?;
        Ok(SnapshotInfo { points, lsn, bytes })
    }

    /// Checkpoints, then writes into `dest` (a new directory) `config.json`,
    /// `manifest.bin` and hard links to (or copies of) the sealed segments'
    /// files; returns the last record the manifest covers and the bytes.
    pub(crate) fn link_checkpoint(&self, dest: &Path) -> Result<(u64, u64)> {
        let inner = &self.inner;
        sealer::flush(inner).map_err(|e| e.in_collection(&inner.name))?;
        let _one = inner.maintenance.lock();
        inner.check_live()?;
        let (stored, _) = manifest::read(&inner.dir)?.ok_or_else(|| {
            StorageError::corrupt(
                &inner.dir.join(manifest::FILE),
                "no manifest after a checkpoint",
            )
        })?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |e| StorageError::io(&path, e)
        };
        std::fs::create_dir(dest).map_err(io(dest))?;
        let mut bytes = 0u64;
        let source_root = inner.dir.join(segment::DIR);
        let dest_root = dest.join(segment::DIR);
        std::fs::create_dir(&dest_root).map_err(io(&dest_root))?;
        for facts in &stored.segments {
            let from = segment::path(&source_root, facts.id);
            let to = segment::path(&dest_root, facts.id);
            std::fs::create_dir(&to).map_err(io(&to))?;
            for file in &facts.files {
                let (a, b) = (from.join(&file.name), to.join(&file.name));
                if std::fs::hard_link(&a, &b).is_err() {
                    std::fs::copy(&a, &b).map_err(io(&b))?;
                }
                bytes += file.len;
            }
            sync_dir(&to)?;
        }
        sync_dir(&dest_root)?;
        for file in [super::CONFIG_FILE, manifest::FILE] {
            let (a, b) = (inner.dir.join(file), dest.join(file));
            bytes += std::fs::copy(&a, &b).map_err(io(&b))?;
            std::fs::File::open(&b)
                .and_then(|f| f.sync_all())
                .map_err(io(&b))?;
        }
        Ok((stored.lsn, bytes))
    }
}

/// Loads the snapshot of the format before segments in `dir` into `set`;
/// returns the last log record it covers.
pub(crate) fn load(
    dir: &Path,
    config: &mut CollectionConfig,
    set: &mut SegmentSet,
    policy: SealPolicy,
) -> Result<u64> {
    let path = dir.join(FILE);
    let (_, body) = read_file(&path, KIND, VERSION)?;
    let corrupt = |reason: &str| StorageError::Corrupt {
        path: path.clone(),
        reason: reason.to_string(),
    };
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    // The format predates named vectors: its collections have one, unnamed.
    let Some(vector) = config
        .default_vector()
        .filter(|_| config.vectors.len() == 1)
    else {
        return Err(
            corrupt("the collection does not have the single vector of this format").into(),
        );
    };
    let (expected, multivector) = (vector.dims, vector.layout == super::Layout::Multivector);
    let lsn = r.u64().ok_or_else(|| corrupt("no header"))?;
    let dims = r.u32().ok_or_else(|| corrupt("no header"))? as usize;
    if dims != expected {
        return Err(corrupt(&format!(
            "snapshot has {dims} dimensions, the collection {expected}"
        ))
        .into());
    }
    let count = r.u64().ok_or_else(|| corrupt("no header"))?;
    let mut batch_floats = 0usize;
    let mut batch = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(LOAD_CHUNK));
    for i in 0..count {
        let point = (|| {
            let id = r.id()?;
            let rows = if multivector { r.u32()? as usize } else { 1 };
            let vector = r.f32s(rows.checked_mul(dims)?)?;
            Some(LoggedPoint::single(id, vector, r.payload()?))
        })()
        .ok_or_else(|| corrupt(&format!("point {i} of {count} does not decode")))?;
        batch_floats += point.floats();
        batch.push(point);
        if batch.len() == LOAD_CHUNK || batch_floats >= LOAD_CHUNK_FLOATS {
            batch_floats = 0;
            set.apply(
                config,
                Record::Upsert(std::mem::take(&mut batch)),
                lsn,
                policy,
            )?;
        }
    }
    set.apply(config, Record::Upsert(batch), lsn, policy)?;
    Ok(lsn)
}
