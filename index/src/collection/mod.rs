//! A collection: points (id, vector, payload) in segments, their payload
//! indexes and HNSW graphs, and the write-ahead log that makes writes durable.
//!
//! [`config`] holds the schema, [`stats`] what a collection reports of itself.
//! The `impl` is split by concern: [`point_ops`] (upsert, delete, get),
//! [`search`] (planner and scans, per segment), [`snapshot`] (checkpoints and
//! the conversion of the format before segments), and [`sealer`] (the
//! background thread that seals and merges segments).
//!
//! **Segments.** Writes are logged, then applied to the appendable segment
//! ([`points::Points`] in the heap, searched by exact scan). When it reaches
//! its size ([`SealPolicy`]) it is frozen and a new one takes writes; the
//! sealer writes frozen segments' points into an immutable sealed segment
//! ([`segment`]) with its HNSW graph built straight into the flat form
//! searches walk, then names it in the [`manifest`] and cuts the log. The
//! segments a search reads are one [`set::SegmentSet`] behind an `Arc`,
//! swapped whole by writers (see [`set`]). Deleted points of sealed segments
//! stay in their files until a merge rewrites them.

mod browse;
mod calibrate;
mod config;
mod lexical;
mod log;
mod manifest;
pub(crate) mod multivector;
mod payload_ops;
mod point_ops;
pub(crate) mod points;
pub(crate) mod record;
mod sealer;
mod search;
mod segment;
mod set;
mod shard;
mod snapshot;
mod sparse_search;
mod stats;
pub(crate) mod store;
mod value_graphs;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parking_lot::{Mutex, RwLock};

use crate::error::{IndexError, Result};
use crate::storage::{StorageError, Wal, WalOptions};

pub use browse::{Count, MAX_FACET_LIMIT, MAX_SCROLL_LIMIT, ScrollPage, ScrollQuery, StoredPoint};
pub use config::{
    CollectionConfig, Layout, MAX_DIMS, MAX_VECTOR_NAME, MULTIVECTOR_OVERSAMPLE, VectorConfig,
};
pub use lexical::TextSearch;
pub use multivector::MAX_TOKENS;
pub use payload_ops::{PayloadUpdate, Selection, json_len};
pub use point_ops::PointWrite;
use points::Points;
pub use sealer::IDLE_MERGE;
pub use search::{MAX_OVERSAMPLE, ScoredPoint, SearchQuery};
use set::SegmentSet;
pub use set::{FOLD_RATIO, SealPolicy};
pub use snapshot::{AUTO_SNAPSHOT_WAL_BYTES, SnapshotInfo};
pub use sparse_search::SparseSearch;
pub use stats::{CollectionStats, MemoryUsage};

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) config: RwLock<CollectionConfig>,
    /// What searches read; replaced whole by writers and the sealer.
    pub(crate) set: RwLock<Arc<SegmentSet>>,
    /// The collection's own write-ahead log, or a shard's position in its
    /// Raft log.
    pub(crate) wal: log::Log,
    /// Serialises writers so that the log's order is the order of application.
    pub(crate) write_lock: Mutex<()>,
    /// Serialises sealing, merging and manifest writes.
    pub(crate) maintenance: Mutex<()>,
    /// The last log record the manifest on disk covers.
    pub(crate) manifest_lsn: AtomicU64,
    /// The last log record held by a segment that is now sealed.
    pub(crate) sealed_lsn: AtomicU64,
    /// When the last write was applied ([`sealer::now_ms`]).
    pub(crate) last_write: AtomicU64,
    /// The id the next sealed segment takes.
    pub(crate) next_segment: AtomicU64,
    pub(crate) policy: SealPolicy,
    pub(crate) signal: Arc<sealer::Signal>,
    pub(crate) sealer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Writers waiting for the sealer ([`Collection::wait_for_room`]); the
    /// sealer seals at once while there are any.
    pub(crate) stalled: std::sync::atomic::AtomicUsize,
    /// Notified when sealing made room.
    pub(crate) room: (Mutex<()>, parking_lot::Condvar),
    /// A needed merge (vacuum, too many segments) holds the maintenance lock:
    /// nothing can be sealed meanwhile, and writers do not wait for room.
    pub(crate) merging: std::sync::atomic::AtomicBool,
    /// The collection was deleted or replaced by a restore: its directory
    /// may now hold another collection, so nothing may write there again.
    /// Set under the maintenance and writer locks; checked under them.
    pub(crate) retired: std::sync::atomic::AtomicBool,
}

impl Inner {
    /// Fails once the collection is retired ([`Collection::retire`]); call it
    /// under the maintenance or writer lock before writing a file.
    pub(crate) fn check_live(&self) -> Result<()> {
        if self.retired.load(std::sync::atomic::Ordering::Acquire) {
            return Err(IndexError::CollectionNotFound(format!(
                "{} (deleted or replaced by a restore while the request ran)",
                self.name
            )));
        }
        Ok(())
    }

    /// The current segment set.
    pub(crate) fn segments(&self) -> Arc<SegmentSet> {
        Arc::clone(&self.set.read())
    }
}

/// A collection; cheap to clone.
#[derive(Clone)]
pub struct Collection {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) const CONFIG_FILE: &str = "config.json";
pub(crate) const WAL_FILE: &str = "wal.log";
/// Files of the format before segments (converted at open).
const OLD_FILES: [&str; 3] = [snapshot::FILE, "vectors.f32", "tokens.f32"];

impl Collection {
    /// Creates a new collection in `dir` (which must not exist).
    pub fn create(
        name: &str,
        dir: &Path,
        config: CollectionConfig,
        wal: WalOptions,
    ) -> Result<Self> {
        Self::create_with(name, dir, config, wal, SealPolicy::default())
    }

    /// [`Collection::create`] with a sealing policy other than the default
    /// (tests use small segments to seal and merge often).
    pub fn create_with(
        name: &str,
        dir: &Path,
        config: CollectionConfig,
        wal: WalOptions,
        policy: SealPolicy,
    ) -> Result<Self> {
        write_config(dir, &config)?;
        // The log exists from the start: `open` refuses a collection without one.
        drop(Wal::open(&dir.join(WAL_FILE), wal.clone())?);
        Self::open_with(name, dir, wal, policy)
    }

    /// Opens an existing collection: config, manifest and its sealed
    /// segments (mapped, checked against their checksums), then the log's
    /// records after the manifest into the appendable segment. Writes nothing
    /// but the appendable segment's token file (multivector layouts), except
    /// once for a collection of the format before segments, which it converts.
    pub fn open(name: &str, dir: &Path, wal_options: WalOptions) -> Result<Self> {
        Self::open_with(name, dir, wal_options, SealPolicy::default())
    }

    /// [`Collection::open`] with a sealing policy other than the default.
    pub fn open_with(
        name: &str,
        dir: &Path,
        wal_options: WalOptions,
        policy: SealPolicy,
    ) -> Result<Self> {
        let inner = Self::open_inner(name, dir, wal_options, policy)?;
        sealer::start(&inner);
        Ok(Self { inner })
    }

    /// Opens a collection's files as [`Collection::open_with`] does, without
    /// starting the sealer: what a check of restored files needs.
    pub(crate) fn open_inner(
        name: &str,
        dir: &Path,
        wal_options: WalOptions,
        policy: SealPolicy,
    ) -> Result<Arc<Inner>> {
        Self::open_files(name, dir, Some(wal_options), policy)
    }

    /// Opens a collection's files: with `wal_options`, its own log too (and
    /// replays it); without, as a shard whose records come from its Raft log
    /// (nothing replayed here: the Raft log applies what follows the
    /// manifest again).
    fn open_files(
        name: &str,
        dir: &Path,
        wal_options: Option<WalOptions>,
        policy: SealPolicy,
    ) -> Result<Arc<Inner>> {
        let started = std::time::Instant::now();
        let (_, json) = crate::storage::read_file(&dir.join(CONFIG_FILE), *b"CONF", 1)?;
        let config: CollectionConfig =
            serde_json::from_slice(&json).map_err(|e| crate::storage::StorageError::Corrupt {
                path: dir.join(CONFIG_FILE),
                reason: e.to_string(),
            })?;
        config.validate()?;
        // The log first: it holds the directory's lock, so that a second
        // process cannot recreate files under a running one. A collection
        // always has one (`create` makes it): a missing log is lost data,
        // never a fresh start.
        let wal_path = dir.join(WAL_FILE);
        let opened = match wal_options {
            Some(options) => {
                if !wal_path
                    .try_exists()
                    .map_err(|e| StorageError::io(&wal_path, e))?
                {
                    return Err(StorageError::corrupt(
                        &wal_path,
                        "the write-ahead log is missing: acknowledged writes may be lost",
                    )
                    .into());
                }
                Some(Wal::open(&wal_path, options)?)
            }
            None => None,
        };
        remove_appendable_files(dir)?;
        let mut config = config;
        let stored = manifest::read(dir)?;
        let old_format = stored.is_none() && dir.join(snapshot::FILE).exists();
        let (manifest, deleted) = stored.unwrap_or_default();
        // Fields indexed after creation (their log records may be cut).
        for (key, ty) in &manifest.payload_schema {
            config.payload_schema.entry(key.clone()).or_insert(*ty);
        }
        let root = dir.join(segment::DIR);
        if manifest.segments.is_empty() && !old_format {
            let stray = std::fs::read_dir(&root).map_or(0, |d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| !e.file_name().to_string_lossy().ends_with(".tmp"))
                    .count()
            });
            // Without a manifest, segments are either a crash's leftovers
            // (sealed, renamed into place, not yet named by a first
            // manifest: the log was never cut and holds every write; the
            // next checkpoint removes them) or the sign of a lost manifest
            // (the log was cut: refused below, the records it dropped named).
            let cut = opened.as_ref().is_some_and(|(_, r)| r.base_lsn > 0);
            if stray > 0 && !dir.join(manifest::FILE).exists() && !cut {
                tracing::warn!(
                    collection = name,
                    segments = stray,
                    "sealed segments no manifest names yet (a crash before the first checkpoint): ignored, the log holds every write"
                );
            }
        }
        let mut sealed = Vec::with_capacity(manifest.segments.len());
        for (facts, dead) in manifest.segments.iter().zip(deleted) {
            let mut segment = segment::open(&root, facts.id, &config, &facts.files)?;
            segment.oversample = facts.oversample_of(&config);
            if segment.points.len() as u64 != facts.points {
                return Err(StorageError::corrupt(
                    &segment.dir,
                    format!(
                        "the manifest says {} points, the segment holds {}",
                        facts.points,
                        segment.points.len()
                    ),
                )
                .into());
            }
            let mut live = segment.points.live.clone();
            live -= dead;
            let index = segment::payload_index(&segment.points, &live, &config.payload_schema);
            sealed.push(set::SealedEntry {
                segment: Arc::new(segment),
                live: Arc::new(live),
                index: Arc::new(index),
            });
        }
        let mut set = SegmentSet {
            sealed,
            frozen: Vec::new(),
            appendable: Arc::new(RwLock::new(Points::new(
                &config,
                &set::tokens_path(dir, 0),
            )?)),
            dir: dir.to_path_buf(),
            started: 0,
        };
        let mut covered = manifest.lsn;
        if old_format {
            covered = snapshot::load(dir, &mut config, &mut set, policy)?;
        }
        let (wal, replayed) = match opened {
            Some((wal, recovered)) => {
                let replayed =
                    replay(dir, &wal, recovered, covered, &mut config, &mut set, policy)?;
                (log::Log::Own(Box::new(wal)), replayed)
            }
            None => (log::Log::shard(covered), 0),
        };
        tracing::info!(
            collection = name,
            points = set.len(),
            segments = set.sealed.len(),
            replayed,
            seconds = started.elapsed().as_secs_f64(),
            "collection opened"
        );
        let inner = Arc::new(Inner {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            config: RwLock::new(config),
            set: RwLock::new(Arc::new(set)),
            wal,
            write_lock: Mutex::new(()),
            maintenance: Mutex::new(()),
            manifest_lsn: AtomicU64::new(covered),
            sealed_lsn: AtomicU64::new(covered),
            last_write: AtomicU64::new(sealer::now_ms()),
            next_segment: AtomicU64::new(manifest.next_segment),
            policy,
            signal: Arc::new(sealer::Signal::default()),
            sealer: Mutex::new(None),
            stalled: std::sync::atomic::AtomicUsize::new(0),
            room: (Mutex::new(()), parking_lot::Condvar::new()),
            merging: std::sync::atomic::AtomicBool::new(false),
            retired: std::sync::atomic::AtomicBool::new(false),
        });
        if old_format {
            // Convert once: seal everything, write the manifest, then drop
            // the old files.
            sealer::flush(&inner)?;
            for file in OLD_FILES {
                let path = dir.join(file);
                if path.exists() {
                    std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
                }
            }
            tracing::info!(collection = name, "converted to sealed segments");
        }
        Ok(inner)
    }

    /// Stops the sealer and marks the collection deleted or replaced: every
    /// later write, seal, merge or checkpoint through any handle fails, so
    /// none writes into a directory that now holds another collection. Waits
    /// for the write and maintenance in progress.
    pub(crate) fn retire(&self) {
        self.close();
        let _one = self.inner.maintenance.lock();
        let _writer = self.inner.write_lock.lock();
        self.inner
            .retired
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// The collection's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The collection's schema.
    pub fn config(&self) -> CollectionConfig {
        self.inner.config.read().clone()
    }

    /// Live points.
    pub fn len(&self) -> usize {
        self.inner.segments().len()
    }

    /// True when no point is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops the background sealer and waits for it. Searches and writes
    /// still work afterwards (new points are then searched exactly); the log
    /// closes when the last handle is dropped.
    pub fn close(&self) {
        sealer::stop(&self.inner);
    }

    /// Seals every point into segments with graphs and merges as the
    /// optimiser would, then returns (for benchmarks and tests; searches
    /// never need to wait).
    pub fn wait_indexed(&self) {
        if let Err(error) = sealer::flush(&self.inner) {
            tracing::error!(%error, collection = %self.inner.name, "flush failed");
        }
    }
}

/// Checks `config` and writes it into `dir` (created if missing): the first
/// file of a new collection.
fn write_config(dir: &Path, config: &CollectionConfig) -> Result<()> {
    config.validate()?;
    std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
    let json = serde_json::to_vec_pretty(config).map_err(|e| IndexError::InvalidParameter {
        field: "config".into(),
        reason: e.to_string(),
    })?;
    crate::storage::write_file(&dir.join(CONFIG_FILE), *b"CONF", 1, &json)?;
    Ok(())
}

/// Checks a collection's own log against the manifest (which covers its
/// records through `covered`) and applies the records after it to `set`;
/// returns how many.
fn replay(
    dir: &Path,
    wal: &Wal,
    recovered: crate::storage::Recovered,
    covered: u64,
    config: &mut CollectionConfig,
    set: &mut SegmentSet,
    policy: SealPolicy,
) -> Result<usize> {
    if recovered.base_lsn > covered {
        // The log was cut after a newer manifest than the one here: the
        // records in between are in neither.
        return Err(crate::storage::StorageError::Corrupt {
            path: dir.join(manifest::FILE),
            reason: format!(
                "the log starts after record {} but the manifest covers only up to {covered}: records {}..={} are lost (the manifest is missing or older than the log)",
                recovered.base_lsn,
                covered + 1,
                recovered.base_lsn
            ),
        }
        .into());
    }
    if wal.last_lsn() < covered {
        // A log younger than the manifest would number new writes below
        // it, and the next replay would skip them.
        return Err(crate::storage::StorageError::Corrupt {
            path: dir.join(WAL_FILE),
            reason: format!(
                "the log ends at record {} but the manifest covers up to {covered}: the log was lost or replaced",
                wal.last_lsn()
            ),
        }
        .into());
    }
    let mut replayed = 0usize;
    for (lsn, bytes) in recovered.records {
        if lsn <= covered {
            continue;
        }
        let record = record::Record::decode(&bytes).ok_or_else(|| {
            crate::storage::StorageError::Corrupt {
                path: dir.join(WAL_FILE),
                reason: format!("record {lsn} passed its checksum but does not decode"),
            }
        })?;
        set.apply(config, record, lsn, policy)?;
        replayed += 1;
    }
    Ok(replayed)
}

/// Removes the token files of appendable segments left by the last run
/// (they are rebuilt from the log).
fn remove_appendable_files(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| StorageError::io(dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == store::TOKENS_EXT) {
            std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
        }
    }
    Ok(())
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.signal.stop();
    }
}
