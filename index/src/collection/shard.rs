//! A collection as a shard of a cluster: its records come from the shard's
//! Raft log (the `cluster` crate) instead of a log of its own.
//!
//! The leader checks and encodes a write ([`Collection::upsert_records`],
//! [`Collection::delete_record`]) and proposes the bytes; once committed,
//! every replica applies the same bytes at the entry's index
//! ([`Collection::apply_logged`]). Sealing and checkpoints run as for any
//! collection; a checkpoint's manifest covers the records through some
//! index, which is where the Raft log may be purged
//! ([`Collection::durable_lsn`]). After a restart the collection holds what
//! its manifest covers, and the Raft log applies the entries after it again
//! (entries at or below what was applied are skipped).

use std::path::Path;
use std::sync::atomic::Ordering;

use super::log::Log;
use super::point_ops::PointWrite;
use super::record::Record;
use super::{Collection, CollectionConfig, SealPolicy, sealer, write_config};
use crate::error::{IndexError, Result};
use crate::types::PointId;

impl Collection {
    /// Creates a shard's collection in `dir` (no log of its own).
    pub fn create_shard(
        name: &str,
        dir: &Path,
        config: CollectionConfig,
        policy: SealPolicy,
    ) -> Result<Self> {
        write_config(dir, &config)?;
        Self::open_shard(name, dir, policy)
    }

    /// Opens a shard's collection: config, manifest and sealed segments; the
    /// points after the manifest come again from the Raft log.
    pub fn open_shard(name: &str, dir: &Path, policy: SealPolicy) -> Result<Self> {
        let inner = Self::open_files(name, dir, None, policy)?;
        sealer::start(&inner);
        Ok(Self { inner })
    }

    /// True for a shard's collection.
    pub fn is_shard(&self) -> bool {
        self.inner.wal.own().is_none()
    }

    /// The records of an upsert of `points`, checked as
    /// [`Collection::upsert`] checks them, each within the record limit:
    /// what a shard's leader proposes.
    pub fn upsert_records(&self, points: Vec<PointWrite>) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .upsert_chunks(points)?
            .into_iter()
            .map(|chunk| Record::Upsert(chunk).encode())
            .collect())
    }

    /// The record of a deletion of `ids` (those a replica does not hold are
    /// skipped when it applies it).
    pub fn delete_record(&self, ids: &[PointId]) -> Vec<u8> {
        Record::Delete(ids.to_vec()).encode()
    }

    /// Applies `record`, the entry at index `lsn` of the shard's Raft log;
    /// `false` when an entry at or past `lsn` was applied already (the
    /// entries after the manifest are applied again after a restart).
    /// Waits while the sealer is behind, as writes of a single node do.
    pub fn apply_logged(&self, lsn: u64, record: &[u8]) -> Result<bool> {
        let Log::Shard { applied, .. } = &self.inner.wal else {
            return Err(not_a_shard(&self.inner.name));
        };
        // Entries applied before a restart come again: skipped undecoded.
        if lsn <= applied.load(Ordering::Acquire) {
            return Ok(false);
        }
        let record = Record::decode(record).ok_or_else(|| IndexError::InvalidParameter {
            field: "record".into(),
            reason: format!("entry {lsn} of the shard's log is not a record of this collection"),
        })?;
        if let Record::Upsert(batch) = &record {
            self.wait_for_room(batch.len());
        }
        let _writer = self.inner.write_lock.lock();
        if lsn <= applied.load(Ordering::Acquire) {
            return Ok(false);
        }
        if !matches!(&record, Record::Delete(ids) if ids.is_empty()) {
            self.inner.check_live()?;
            self.reserve_for(&record)?;
            self.apply_locked(record, lsn)?;
        }
        applied.store(lsn, Ordering::Release);
        Ok(true)
    }

    /// Notes that the shard's log applied entry `lsn`, which holds no
    /// record (a blank or membership entry): a checkpoint with nothing
    /// unsealed then covers it.
    pub fn advance_applied(&self, lsn: u64) -> Result<()> {
        let Log::Shard { applied, .. } = &self.inner.wal else {
            return Err(not_a_shard(&self.inner.name));
        };
        let _writer = self.inner.write_lock.lock();
        applied.fetch_max(lsn, Ordering::AcqRel);
        Ok(())
    }

    /// The last index of the shard's log applied (for a collection with
    /// its own log, that log's last record).
    pub fn applied_lsn(&self) -> u64 {
        self.inner.wal.last_lsn()
    }

    /// Checkpoints (seals every point applied, writes the manifest), then
    /// writes into `dest` (a new directory) what a replica needs to open at
    /// that checkpoint: `config.json`, `manifest.bin` and hard links to (or
    /// copies of) the sealed segments' files. Returns the last index of the
    /// shard's log the manifest covers: a Raft snapshot of the shard is
    /// these files at that index. No point passes through the heap.
    pub fn checkpoint_into(&self, dest: &Path) -> Result<u64> {
        if !self.is_shard() {
            return Err(not_a_shard(&self.inner.name));
        }
        let (lsn, _) = self.link_checkpoint(dest)?;
        crate::storage::sync_dir(dest)?;
        Ok(lsn)
    }

    /// The index through which the manifest on disk covers the shard's
    /// log: the Raft log may be purged through it.
    pub fn durable_lsn(&self) -> u64 {
        self.inner.manifest_lsn.load(Ordering::Acquire)
    }
}

fn not_a_shard(name: &str) -> IndexError {
    IndexError::InvalidParameter {
        field: "collection".into(),
        reason: format!("{name} has a log of its own: it is not a shard"),
    }
}
