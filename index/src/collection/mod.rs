//! A collection: points (id, vector, payload), their payload index, an HNSW graph
//! built in the background, and the write-ahead log that makes writes durable.
//!
//! The `impl` is split by concern: [`point_ops`] (upsert, delete, get),
//! [`search`] (planner and scans), [`snapshot`] (snapshots and recovery), and
//! [`indexer`] (the background graph builder).
//!
//! **Offsets.** Each write of a point takes the next offset; a replaced or deleted
//! point's old offset stays in the arrays (and possibly the graph) as a tombstone,
//! absent from the `live` bitmap. Snapshots compact the offsets.
//!
//! **Graph and tail.** The graph covers offsets `[0, indexed)`; a background thread
//! inserts the rest in batches. Searches walk the graph and scan the unindexed tail
//! exactly, so a point is searchable as soon as its upsert is acknowledged. When
//! tombstones pass a ratio of the graph, the thread builds a new graph from the live
//! points and swaps it in; searches keep using the old one until then.

mod indexer;
mod point_ops;
pub(crate) mod record;
mod search;
mod snapshot;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::{Mutex, RwLock};
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::graph::{Graph, HnswParams};
use crate::payload_index::PayloadIndex;
use crate::storage::{Wal, WalOptions};
use crate::types::{Offset, Payload, PayloadType, PointId};

pub use point_ops::PointWrite;
pub use search::{ScoredPoint, SearchQuery};
pub use snapshot::{AUTO_SNAPSHOT_WAL_BYTES, SnapshotInfo};

/// How vectors are stored and searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Full `f32` vectors in memory and in the graph.
    Float,
}

impl Layout {
    /// Parses the API's layout string.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "float" => Ok(Self::Float),
            "binary" | "binary:2" | "binary:4" | "multivector" => {
                Err(IndexError::InvalidParameter {
                    field: "vector.layout".into(),
                    reason: format!("layout {s:?} is not available yet; use \"float\""),
                })
            }
            other if other.starts_with("matryoshka:") => Err(IndexError::InvalidParameter {
                field: "vector.layout".into(),
                reason: format!("layout {other:?} is not available yet; use \"float\""),
            }),
            other => Err(IndexError::InvalidParameter {
                field: "vector.layout".into(),
                reason: format!(
                    "unknown layout {other:?}: expected float, binary, binary:2, binary:4, matryoshka:K or multivector"
                ),
            }),
        }
    }

    /// The API's name of the layout.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float => "float",
        }
    }
}

/// Largest vector dimension a collection accepts.
pub const MAX_DIMS: usize = 65_536;

/// A collection's schema, fixed at creation but for payload indexes added later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionConfig {
    /// Vector dimension.
    pub dims: usize,
    /// Similarity metric.
    pub metric: Metric,
    /// Storage layout.
    pub layout: Layout,
    /// HNSW parameters.
    pub hnsw: HnswParams,
    /// Indexed payload fields.
    pub payload_schema: BTreeMap<String, PayloadType>,
}

impl CollectionConfig {
    /// Checks dimensions and HNSW parameters.
    pub fn validate(&self) -> Result<()> {
        if self.dims == 0 || self.dims > MAX_DIMS {
            return Err(IndexError::InvalidParameter {
                field: "vector.dims".into(),
                reason: format!("must be between 1 and {MAX_DIMS}, got {}", self.dims),
            });
        }
        self.hnsw
            .validate()
            .map_err(|(field, reason)| IndexError::InvalidParameter {
                field: format!("vector.hnsw.{field}"),
                reason,
            })?;
        for key in self.payload_schema.keys() {
            if key.is_empty() {
                return Err(IndexError::InvalidParameter {
                    field: "payload_indexes".into(),
                    reason: "field names must not be empty".into(),
                });
            }
        }
        Ok(())
    }
}

/// Statistics for `GET /collections/{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionStats {
    /// Live points.
    pub points: u64,
    /// Dead offsets still held (replaced or deleted points).
    pub tombstones: u64,
    /// Offsets covered by the graph.
    pub indexed: u64,
    /// Graph segments searched (one, but for a graph loaded from a snapshot
    /// and the points added since, until the background merge).
    pub segments: u64,
    /// Bytes in memory.
    pub ram_bytes: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

/// The in-memory points, guarded by one lock.
pub(crate) struct Points {
    pub(crate) ids: HashMap<PointId, Offset>,
    pub(crate) by_offset: Vec<PointId>,
    pub(crate) vectors: Vec<f32>,
    pub(crate) payloads: Vec<Option<Payload>>,
    pub(crate) live: RoaringBitmap,
    pub(crate) payload_index: PayloadIndex,
    pub(crate) payload_bytes: usize,
}

impl Points {
    fn new(schema: &BTreeMap<String, PayloadType>) -> Self {
        Self {
            ids: HashMap::new(),
            by_offset: Vec::new(),
            vectors: Vec::new(),
            payloads: Vec::new(),
            live: RoaringBitmap::new(),
            payload_index: PayloadIndex::new(schema),
            payload_bytes: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_offset.len()
    }

    pub(crate) fn vector(&self, offset: Offset, dims: usize) -> &[f32] {
        let start = offset as usize * dims;
        &self.vectors[start..start + dims]
    }
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) config: RwLock<CollectionConfig>,
    pub(crate) points: RwLock<Points>,
    pub(crate) graph: RwLock<Arc<Graph>>,
    /// Offsets `[0, indexed)` are in the current graph.
    pub(crate) indexed: AtomicUsize,
    pub(crate) wal: Wal,
    /// Serialises writers so that the log's order is the order of application.
    pub(crate) write_lock: Mutex<()>,
    pub(crate) signal: Arc<indexer::Signal>,
    pub(crate) indexer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A collection; cheap to clone.
#[derive(Clone)]
pub struct Collection {
    pub(crate) inner: Arc<Inner>,
}

const CONFIG_FILE: &str = "config.json";
const WAL_FILE: &str = "wal.log";

impl Collection {
    /// Creates a new collection in `dir` (which must not exist).
    pub fn create(
        name: &str,
        dir: &Path,
        config: CollectionConfig,
        wal: WalOptions,
    ) -> Result<Self> {
        config.validate()?;
        let io = |source| crate::storage::StorageError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let json =
            serde_json::to_vec_pretty(&config).map_err(|e| IndexError::InvalidParameter {
                field: "config".into(),
                reason: e.to_string(),
            })?;
        crate::storage::write_file(&dir.join(CONFIG_FILE), *b"CONF", 1, &json)?;
        Self::open(name, dir, wal)
    }

    /// Opens an existing collection: config, latest snapshot, then the log's tail.
    pub fn open(name: &str, dir: &Path, wal_options: WalOptions) -> Result<Self> {
        let started = std::time::Instant::now();
        let (_, json) = crate::storage::read_file(&dir.join(CONFIG_FILE), *b"CONF", 1)?;
        let config: CollectionConfig =
            serde_json::from_slice(&json).map_err(|e| crate::storage::StorageError::Corrupt {
                path: dir.join(CONFIG_FILE),
                reason: e.to_string(),
            })?;
        let mut points = Points::new(&config.payload_schema);
        let mut config = config;
        let (snapshot_lsn, stored_graph) = snapshot::load(dir, &config, &mut points)?;
        let (wal, recovered) = Wal::open(&dir.join(WAL_FILE), wal_options)?;
        if wal.last_lsn() < snapshot_lsn {
            // A log younger than the snapshot would number new writes below it, and
            // the next replay would skip them.
            return Err(crate::storage::StorageError::Corrupt {
                path: dir.join(WAL_FILE),
                reason: format!(
                    "the log ends at record {} but the snapshot covers up to {snapshot_lsn}: the log was lost or replaced",
                    wal.last_lsn()
                ),
            }
            .into());
        }
        let mut replayed = 0usize;
        for (lsn, bytes) in recovered.records {
            if lsn <= snapshot_lsn {
                continue;
            }
            let record = record::Record::decode(&bytes).ok_or_else(|| {
                crate::storage::StorageError::Corrupt {
                    path: dir.join(WAL_FILE),
                    reason: format!("record {lsn} passed its checksum but does not decode"),
                }
            })?;
            point_ops::apply(&mut points, &mut config, record);
            replayed += 1;
        }
        tracing::info!(
            collection = name,
            points = points.live.len(),
            replayed,
            graph = stored_graph.as_ref().map_or(0, |g| g.covered),
            seconds = started.elapsed().as_secs_f64(),
            "collection opened"
        );
        let (graph, indexed) = match stored_graph {
            Some(stored) => (
                Graph::with_frozen(
                    config.hnsw,
                    config.dims,
                    config.metric,
                    points.len() - stored.covered,
                    stored.segments,
                ),
                stored.covered,
            ),
            None => (
                Graph::new(config.hnsw, config.dims, config.metric, points.len()),
                0,
            ),
        };
        let inner = Arc::new(Inner {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            config: RwLock::new(config),
            points: RwLock::new(points),
            graph: RwLock::new(Arc::new(graph)),
            indexed: AtomicUsize::new(indexed),
            wal,
            write_lock: Mutex::new(()),
            signal: Arc::new(indexer::Signal::default()),
            indexer: Mutex::new(None),
        });
        indexer::start(&inner);
        Ok(Self { inner })
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
        self.inner.points.read().live.len() as usize
    }

    /// True when no point is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Points, tombstones, graph coverage and bytes.
    pub fn stats(&self) -> CollectionStats {
        let (graph_bytes, segments) = {
            let graph = self.inner.graph.read();
            (graph.ram_bytes(), graph.segments().len() as u64)
        };
        let points = self.inner.points.read();
        let ids_bytes = points.ids.capacity() * (std::mem::size_of::<(PointId, Offset)>() + 8)
            + points.by_offset.capacity() * std::mem::size_of::<PointId>();
        let ram = points.vectors.capacity() * 4
            + graph_bytes
            + ids_bytes
            + points.payload_bytes
            + points.payload_index.ram_bytes()
            + points.live.serialized_size();
        CollectionStats {
            points: points.live.len(),
            tombstones: (points.len() as u64).saturating_sub(points.live.len()),
            indexed: self.inner.indexed.load(Ordering::Acquire) as u64,
            segments,
            ram_bytes: ram as u64,
            disk_bytes: self.inner.wal.disk_bytes() + snapshot::disk_bytes(&self.inner.dir),
        }
    }

    /// Stops the background indexer and waits for it. Searches and writes still
    /// work afterwards (new points are then searched exactly); the log closes when
    /// the last handle is dropped.
    pub fn close(&self) {
        indexer::stop(&self.inner);
    }

    /// Waits until the background indexer has inserted every point into the graph
    /// (for benchmarks and tests; searches never need to wait).
    pub fn wait_indexed(&self) {
        self.inner.signal.wait_idle(&self.inner);
    }
}

/// Live offsets below `end`.
pub(crate) fn live_below(live: &RoaringBitmap, end: usize) -> usize {
    if end == 0 {
        0
    } else {
        live.rank(u32::try_from(end - 1).unwrap_or(u32::MAX)) as usize
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.signal.stop();
    }
}
