//! Where a collection's writes are logged before they are applied.
//!
//! A collection of a single node owns its write-ahead log ([`Wal`]): a write
//! is appended (fsynced), then applied, and the log is cut at each
//! checkpoint. A shard of a cluster has no log of its own: its Raft log
//! (the `cluster` crate) holds its records, each applied at its Raft index
//! ([`super::Collection::apply_logged`]); the collection only follows which
//! index it has applied and which one its manifest covers, which is where
//! the Raft log may be purged.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::storage::{StorageError, Wal};

/// The largest record a shard takes (its Raft log's entries are records).
const SHARD_MAX_RECORD_BYTES: usize = 64 << 20;

/// A collection's log.
pub(crate) enum Log {
    /// The collection's own write-ahead log.
    Own(Box<Wal>),
    /// A shard's: records come from its Raft log.
    Shard {
        /// The last Raft index applied (records, and entries without one).
        applied: AtomicU64,
        /// The Raft index the manifest covers: the log may be purged
        /// through it.
        purgeable: AtomicU64,
    },
}

impl Log {
    /// A shard's log position, resumed at what its manifest covers.
    pub(crate) fn shard(covered: u64) -> Self {
        Log::Shard {
            applied: AtomicU64::new(covered),
            purgeable: AtomicU64::new(covered),
        }
    }

    /// The own log, if the collection has one.
    pub(crate) fn own(&self) -> Option<&Wal> {
        match self {
            Log::Own(wal) => Some(wal),
            Log::Shard { .. } => None,
        }
    }

    /// The last record logged (own log) or applied (shard).
    pub(crate) fn last_lsn(&self) -> u64 {
        match self {
            Log::Own(wal) => wal.last_lsn(),
            Log::Shard { applied, .. } => applied.load(Ordering::Acquire),
        }
    }

    /// Largest record a write may log.
    pub(crate) fn max_record_bytes(&self) -> usize {
        match self {
            Log::Own(wal) => wal.max_record_bytes(),
            Log::Shard { .. } => SHARD_MAX_RECORD_BYTES,
        }
    }

    /// Bytes the collection's own log takes on disk (a shard's log is the
    /// Raft log's, counted there).
    pub(crate) fn disk_bytes(&self) -> u64 {
        match self {
            Log::Own(wal) => wal.disk_bytes(),
            Log::Shard { .. } => 0,
        }
    }

    /// The manifest covers every record through `lsn`: the own log is cut
    /// there; a shard notes that its Raft log may be purged through it.
    pub(crate) fn truncate_through(&self, lsn: u64) -> Result<(), StorageError> {
        match self {
            Log::Own(wal) => wal.truncate_through(lsn),
            Log::Shard { purgeable, .. } => {
                purgeable.fetch_max(lsn, Ordering::AcqRel);
                Ok(())
            }
        }
    }

    /// Copies the records after `after` into a log at `dest` (a snapshot's
    /// tail); a shard's snapshots are its Raft group's, not this.
    pub(crate) fn copy_after(&self, after: u64, dest: &Path) -> Result<u64, StorageError> {
        match self {
            Log::Own(wal) => wal.copy_after(after, dest),
            Log::Shard { .. } => Err(StorageError::io(
                dest,
                std::io::Error::other(
                    "a shard's snapshot is taken through its Raft group, not the collection",
                ),
            )),
        }
    }
}
