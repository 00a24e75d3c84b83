//! The segment set: what a search reads, swapped whole by writers.
//!
//! A search clones the `Arc` of the current set and reads it without any
//! collection lock: sealed segments never change, and their live offsets
//! and payload indexes are copied on write (a writer that deletes from a
//! sealed segment publishes a new set with a new bitmap). The appendable
//! segment takes writes in place behind its own lock, which a search holds
//! only while it scans that small segment. Frozen segments (appendable ones
//! that reached their size, waiting for the sealer) never change again: like
//! sealed ones, their deletions are copy-on-write bitmaps in the set, so
//! nothing write-locks them and the sealer reads them while writers go on.
//!
//! A point lives in at most one place. A write puts the new version into the
//! appendable segment before it removes the old one, so a concurrent search
//! may see both for an instant (it keeps the newest), never neither.

use std::sync::Arc;

use parking_lot::RwLock;
use roaring::RoaringBitmap;

use super::CollectionConfig;
use super::points::Points;
use super::record::Record;
use super::segment::Sealed;
use crate::payload_index::PayloadIndex;
use crate::sparse::SparseVector;
use crate::storage::StorageError;
use crate::types::{Offset, PointId};

/// A sealed segment with its live offsets and payload index.
#[derive(Clone)]
pub(crate) struct SealedEntry {
    pub(crate) segment: Arc<Sealed>,
    pub(crate) live: Arc<RoaringBitmap>,
    pub(crate) index: Arc<PayloadIndex>,
}

/// An appendable segment that reached its size, waiting to be sealed. Its
/// points are never written again (the lock is only read); `live` is what
/// is live of them now.
#[derive(Clone)]
pub(crate) struct Frozen {
    pub(crate) points: Arc<RwLock<Points>>,
    pub(crate) live: Arc<RoaringBitmap>,
    /// The last log record it holds.
    pub(crate) lsn: u64,
    /// When it was frozen ([`super::sealer::now_ms`]).
    pub(crate) at: u64,
}

/// Points of an upsert pushed into the appendable segment under one hold of
/// its lock (each takes some microseconds).
const PUSH_CHUNK: usize = 32;

/// When the appendable segment is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealPolicy {
    /// Points in the appendable segment.
    pub points: usize,
    /// Bytes of stored vectors (token vectors included) in the appendable segment.
    pub bytes: usize,
    /// A seal takes in the newest sealed segment (keeping its graph) while
    /// that segment holds at most this many times the points sealed; 0
    /// never (see the sealer's `foldable`).
    pub fold_ratio: u64,
}

/// [`SealPolicy::fold_ratio`]'s default: a point is rewritten by seals a
/// few times at most.
pub const FOLD_RATIO: u64 = 4;

impl Default for SealPolicy {
    fn default() -> Self {
        Self {
            points: 20_000,
            bytes: 32 << 20,
            fold_ratio: FOLD_RATIO,
        }
    }
}

/// The segments of a collection.
#[derive(Clone)]
pub(crate) struct SegmentSet {
    pub(crate) sealed: Vec<SealedEntry>,
    pub(crate) frozen: Vec<Frozen>,
    pub(crate) appendable: Arc<RwLock<Points>>,
    /// The collection's directory (appendable token files live there).
    pub(crate) dir: std::path::PathBuf,
    /// Appendable segments started since the collection opened.
    pub(crate) started: u64,
}

impl SegmentSet {
    /// Live points.
    pub(crate) fn len(&self) -> usize {
        let sealed: u64 = self.sealed.iter().map(|e| e.live.len()).sum();
        let frozen: u64 = self.frozen.iter().map(|f| f.live.len()).sum();
        (sealed + frozen + self.appendable.read().live.len()) as usize
    }

    /// Runs `f` on the segment's points and offset where `id` is live.
    pub(crate) fn find<R>(&self, id: &PointId, f: impl FnOnce(&Points, Offset) -> R) -> Option<R> {
        {
            let a = self.appendable.read();
            if let Some(o) = a.offset_of(id) {
                return Some(f(&a, o));
            }
        }
        for frozen in self.frozen.iter().rev() {
            let p = frozen.points.read();
            if let Some(o) = p.offset_of(id)
                && frozen.live.contains(o)
            {
                return Some(f(&p, o));
            }
        }
        for entry in &self.sealed {
            if let Some(o) = entry.segment.points.offset_of(id)
                && entry.live.contains(o)
            {
                return Some(f(&entry.segment.points, o));
            }
        }
        None
    }

    /// Removes `id` from the frozen and sealed segments.
    fn remove_sealed_or_frozen(&mut self, id: &PointId) {
        for frozen in &mut self.frozen {
            let offset = frozen.points.read().offset_of(id);
            if let Some(o) = offset
                && frozen.live.contains(o)
            {
                Arc::make_mut(&mut frozen.live).remove(o);
                return;
            }
        }
        for entry in &mut self.sealed {
            if let Some(o) = entry.segment.points.offset_of(id)
                && entry.live.contains(o)
            {
                Arc::make_mut(&mut entry.live).remove(o);
                return;
            }
        }
    }

    /// Applies a logged record (live writes and replay share this); `lsn` is
    /// the record's. Returns true when the appendable segment was frozen.
    pub(crate) fn apply(
        &mut self,
        config: &mut CollectionConfig,
        record: Record,
        lsn: u64,
        policy: SealPolicy,
    ) -> Result<bool, StorageError> {
        match record {
            Record::Upsert(batch) => {
                self.appendable.write().reserve(&batch)?;
                // Points skipped keep whatever copy they had.
                let mut skipped = std::collections::HashSet::new();
                // A few points at a time: a search scanning the appendable
                // segment waits for one chunk, not for the whole batch.
                for chunk in batch.chunks(PUSH_CHUNK) {
                    let mut appendable = self.appendable.write();
                    for p in chunk {
                        // Checked before they were logged: a vector that
                        // does not fit is a record of another collection.
                        let stored: Vec<Option<&[f32]>> =
                            (0..appendable.stores.len()).map(|v| p.vector(v)).collect();
                        let sparse: Vec<Option<&SparseVector>> = (0..appendable.sparse.len())
                            .map(|s| p.sparse_vector(s))
                            .collect();
                        let fits = stored
                            .iter()
                            .enumerate()
                            .all(|(v, x)| x.is_none_or(|x| appendable.fits(v, x.len())))
                            && p.sparse.len() <= sparse.len()
                            && (stored.iter().any(Option::is_some)
                                || sparse.iter().any(Option::is_some));
                        if !fits {
                            tracing::error!(id = %p.id, "a logged point does not fit the collection's vectors; skipped");
                            skipped.insert(p.id.clone());
                            continue;
                        }
                        appendable.remove(&p.id);
                        appendable.push(p.id.clone(), &stored, &sparse, p.payload.clone())?;
                    }
                }
                if let Some(text) = &self.appendable.read().text {
                    text.commit();
                }
                for p in batch.iter().filter(|p| !skipped.contains(&p.id)) {
                    self.remove_sealed_or_frozen(&p.id);
                }
            }
            Record::Delete(ids) => {
                {
                    let mut appendable = self.appendable.write();
                    for id in &ids {
                        appendable.remove(id);
                    }
                }
                for id in &ids {
                    self.remove_sealed_or_frozen(id);
                }
            }
            Record::CreateIndex(key, ty) => {
                let mut added = true;
                for points in
                    std::iter::once(&self.appendable).chain(self.frozen.iter().map(|f| &f.points))
                {
                    let mut guard = points.write();
                    let Points {
                        payloads,
                        payload_index,
                        live,
                        ..
                    } = &mut *guard;
                    if let Err(error) =
                        payload_index.add_field(&key, ty, payloads.scan(live.iter()))
                    {
                        tracing::error!(%error, key, "cannot index payload field");
                        added = false;
                    }
                }
                for entry in &mut self.sealed {
                    let points = &entry.segment.points;
                    // One payload parsed at a time, the file released behind.
                    let existing = points.payloads.scan(entry.live.iter());
                    let index = Arc::make_mut(&mut entry.index);
                    if let Err(error) = index.add_field(&key, ty, existing) {
                        tracing::error!(%error, key, "cannot index payload field");
                        added = false;
                    }
                }
                if added {
                    config.payload_schema.insert(key, ty);
                }
            }
        }
        let full = {
            let a = self.appendable.read();
            a.len() >= policy.points || a.stored_bytes() >= policy.bytes
        };
        if full {
            self.freeze(config, lsn).map(|()| true)
        } else {
            Ok(false)
        }
    }

    /// Moves the appendable segment to the frozen ones (the last log record
    /// it holds is `lsn`) and starts an empty one.
    pub(crate) fn freeze(
        &mut self,
        config: &CollectionConfig,
        lsn: u64,
    ) -> Result<(), StorageError> {
        self.started += 1;
        let path = tokens_path(&self.dir, self.started);
        let fresh = Points::new(config, &path)
            .map_err(|e| StorageError::io(&path, std::io::Error::other(e.to_string())))?;
        let old = std::mem::replace(&mut self.appendable, Arc::new(RwLock::new(fresh)));
        if let Some(text) = &mut old.write().text {
            text.freeze();
        }
        let live = Arc::new(old.read().live.clone());
        self.frozen.push(Frozen {
            points: old,
            live,
            lsn,
            at: super::sealer::now_ms(),
        });
        Ok(())
    }
}

/// The token file of the `n`-th appendable segment since the collection opened.
pub(crate) fn tokens_path(dir: &std::path::Path, n: u64) -> std::path::PathBuf {
    dir.join(format!("appendable-{n}.{}", super::store::TOKENS_EXT))
}
