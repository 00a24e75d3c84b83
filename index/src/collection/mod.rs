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
pub(crate) mod multivector;
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

use crate::codes::{CodeKind, CodeSpec, Codes};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::graph::{Graph, HnswParams, Rows, Space};
use crate::muvera::{Fde, FdeParams};
use crate::payload_index::PayloadIndex;
use crate::storage::{StorageError, VectorFile, Wal, WalOptions};
use crate::types::{Offset, Payload, PayloadType, PointId};

pub use multivector::MAX_TOKENS;
pub use point_ops::PointWrite;
pub use search::{MAX_OVERSAMPLE, ScoredPoint, SearchQuery};
pub use snapshot::{AUTO_SNAPSHOT_WAL_BYTES, SnapshotInfo};

/// How vectors are stored and searched.
///
/// `Float` keeps the full vectors in memory and links them in the graph. The
/// compact layouts keep a code per point in memory, link the codes in the
/// graph, and keep the full vectors in a memory-mapped file for the rerank
/// (see [`crate::codes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Full `f32` vectors in memory and in the graph.
    Float,
    /// Sign bits (`bits` = 1), or residual bit planes (2 or 4).
    Binary {
        /// Bit planes per dimension.
        bits: u8,
    },
    /// The first `k` dimensions, renormalised for cosine.
    Matryoshka {
        /// Prefix length.
        k: usize,
    },
    /// Token sets (late interaction): their MUVERA encodings in memory and in
    /// the graph, the token vectors in a memory-mapped file for the exact
    /// Chamfer rerank (see [`crate::muvera`]).
    Multivector,
}

impl Layout {
    /// Parses the API's layout string.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid = |reason: String| IndexError::InvalidParameter {
            field: "vector.layout".into(),
            reason,
        };
        match s {
            "float" => Ok(Self::Float),
            "binary" => Ok(Self::Binary { bits: 1 }),
            "binary:2" => Ok(Self::Binary { bits: 2 }),
            "binary:4" => Ok(Self::Binary { bits: 4 }),
            "multivector" => Ok(Self::Multivector),
            other => {
                if let Some(k) = other.strip_prefix("matryoshka:") {
                    return match k.parse::<usize>() {
                        Ok(k) if k > 0 => Ok(Self::Matryoshka { k }),
                        _ => Err(invalid(format!(
                            "{other:?}: the prefix length must be a positive integer, as in \"matryoshka:128\""
                        ))),
                    };
                }
                if other.starts_with("binary:") {
                    return Err(invalid(format!(
                        "{other:?}: binary codes have 1, 2 or 4 bits per dimension (\"binary\", \"binary:2\", \"binary:4\")"
                    )));
                }
                Err(invalid(format!(
                    "unknown layout {other:?}: expected float, binary, binary:2, binary:4, matryoshka:K or multivector"
                )))
            }
        }
    }

    /// The API's name of the layout.
    pub fn as_str(self) -> String {
        match self {
            Self::Float => "float".into(),
            Self::Binary { bits: 1 } => "binary".into(),
            Self::Binary { bits } => format!("binary:{bits}"),
            Self::Matryoshka { k } => format!("matryoshka:{k}"),
            Self::Multivector => "multivector".into(),
        }
    }

    /// The shape of the compact codes, `None` for `Float`.
    pub fn code_spec(self, dims: usize, metric: Metric) -> Option<CodeSpec> {
        let kind = match self {
            Self::Float | Self::Multivector => return None,
            Self::Binary { bits } => CodeKind::Binary { bits },
            Self::Matryoshka { k } => CodeKind::Prefix { k },
        };
        Some(CodeSpec { kind, dims, metric })
    }

    /// What the graph links for vectors of `dims` under `metric`; for
    /// `Multivector`, `dims` is the encoding's and the metric the dot product.
    pub fn graph_space(self, dims: usize, metric: Metric) -> Space {
        match self {
            Self::Float => Space::Floats { dims, metric },
            Self::Multivector => Space::Floats {
                dims,
                metric: Metric::Dot,
            },
            Self::Matryoshka { k } => Space::Floats { dims: k, metric },
            Self::Binary { .. } => match self.code_spec(dims, metric) {
                Some(spec) => Space::Codes(spec),
                None => Space::Floats { dims, metric },
            },
        }
    }

    /// Candidates per result reranked when a search does not say, for vectors
    /// of `dims`: enough for recall@10 ≥ 0.95 on the 100k-vector benchmark of
    /// all-MiniLM-L6-v2 sentence embeddings (see the README). Sign bits need a
    /// walk of `ef` 64 and its results reranked; residual codes rank well enough
    /// for 2–3×; a prefix of a model not trained for it loses more the shorter
    /// it is (12 × dims / k, 36× for 128 of 384 dimensions).
    pub fn default_oversample(self, dims: usize) -> f32 {
        match self {
            Self::Float => 1.0,
            Self::Binary { bits: 1 } => 8.0,
            Self::Binary { bits: 2 } => 3.0,
            Self::Binary { .. } => 2.0,
            Self::Matryoshka { k } => (12.0 * dims as f32 / k.max(1) as f32).clamp(2.0, 40.0),
            Self::Multivector => MULTIVECTOR_OVERSAMPLE,
        }
    }
}

impl Serialize for Layout {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_str())
    }
}

impl<'de> Deserialize<'de> for Layout {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Multi-vector collections: FDE candidates per result reranked by Chamfer
/// when a search does not say (see docs/benchmarks.md, MUVERA).
pub const MULTIVECTOR_OVERSAMPLE: f32 = 20.0;

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
    /// The MUVERA encoding of a `multivector` layout (its defaults when the
    /// creator gave none; stored, seed included, so encodings never change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub muvera: Option<FdeParams>,
}

impl CollectionConfig {
    /// Dimensions of what the heap holds per point and the graph links: the
    /// vectors (float layout), the FDE (multivector); compact layouts keep
    /// codes beside the vector file.
    pub fn point_dims(&self) -> usize {
        match (self.layout, &self.muvera) {
            (Layout::Multivector, Some(params)) => params.dims(),
            _ => self.dims,
        }
    }

    /// What the graph links.
    pub fn graph_space(&self) -> Space {
        self.layout.graph_space(self.point_dims(), self.metric)
    }

    /// Checks dimensions and HNSW parameters.
    pub fn validate(&self) -> Result<()> {
        if self.dims == 0 || self.dims > MAX_DIMS {
            return Err(IndexError::InvalidParameter {
                field: "vector.dims".into(),
                reason: format!("must be between 1 and {MAX_DIMS}, got {}", self.dims),
            });
        }
        let layout_error = |reason: String| IndexError::InvalidParameter {
            field: "vector.layout".into(),
            reason,
        };
        match self.layout {
            Layout::Matryoshka { k } if k >= self.dims => {
                return Err(layout_error(format!(
                    "the Matryoshka prefix ({k}) must be shorter than the vectors ({} dimensions)",
                    self.dims
                )));
            }
            Layout::Binary { .. } if self.metric == Metric::L2 => {
                return Err(layout_error(
                    "binary codes keep signs, which approximate angles: use metric cosine or dot with them, or a float or matryoshka layout for l2".into(),
                ));
            }
            Layout::Multivector if self.metric == Metric::L2 => {
                return Err(layout_error(
                    "multi-vectors are scored by Chamfer similarity, a sum of dot products: use metric cosine or dot".into(),
                ));
            }
            _ => {}
        }
        match (self.layout, &self.muvera) {
            (Layout::Multivector, None) => {
                return Err(IndexError::InvalidParameter {
                    field: "vector.muvera".into(),
                    reason: "a multivector layout needs its encoding's parameters".into(),
                });
            }
            (Layout::Multivector, Some(params)) => {
                params
                    .validate_for(self.dims)
                    .map_err(|reason| IndexError::InvalidParameter {
                        field: "vector.muvera".into(),
                        reason,
                    })?;
            }
            (_, Some(_)) => {
                return Err(IndexError::InvalidParameter {
                    field: "vector.muvera".into(),
                    reason: "MUVERA parameters apply to the multivector layout only".into(),
                });
            }
            (_, None) => {}
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
    /// Bytes in memory (the sum of [`MemoryUsage`]'s memory parts).
    pub ram_bytes: u64,
    /// Bytes on disk (the sum of its disk parts).
    pub disk_bytes: u64,
    /// Where the bytes are.
    pub memory: MemoryUsage,
}

/// Bytes a collection holds, by part (approximate heap sizes for memory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Memory: full vectors (float layout only).
    pub vectors: u64,
    /// Memory: compact codes (compact layouts).
    pub codes: u64,
    /// Memory: graph links (and the builder's copy of what it links).
    pub graph: u64,
    /// Memory: the payload index.
    pub payload_index: u64,
    /// Memory: stored payloads.
    pub payloads: u64,
    /// Memory: id maps and the live bitmap.
    pub ids: u64,
    /// Disk: the memory-mapped full vectors (compact layouts).
    pub vectors_file: u64,
    /// Disk: the write-ahead log.
    pub wal: u64,
    /// Disk: the snapshot.
    pub snapshot: u64,
}

impl MemoryUsage {
    /// Bytes in memory.
    pub fn ram_bytes(&self) -> u64 {
        self.vectors + self.codes + self.graph + self.payload_index + self.payloads + self.ids
    }

    /// Bytes on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.vectors_file + self.wal + self.snapshot
    }

    /// The parts as (name, in memory?, bytes), for reports and metrics.
    pub fn parts(&self) -> [(&'static str, bool, u64); 9] {
        [
            ("vectors", true, self.vectors),
            ("codes", true, self.codes),
            ("graph", true, self.graph),
            ("payload_index", true, self.payload_index),
            ("payloads", true, self.payloads),
            ("ids", true, self.ids),
            ("vectors_file", false, self.vectors_file),
            ("wal", false, self.wal),
            ("snapshot", false, self.snapshot),
        ]
    }
}

/// The full-precision vectors by offset: in the heap for the float layout
/// (the graph walks them), in a memory-mapped file for compact layouts (only
/// reranks read them).
pub(crate) enum Vectors {
    Heap { dims: usize, data: Vec<f32> },
    File(VectorFile),
}

impl Vectors {
    #[inline]
    pub(crate) fn get(&self, offset: Offset) -> &[f32] {
        match self {
            Self::Heap { dims, data } => {
                let start = offset as usize * dims;
                &data[start..start + dims]
            }
            Self::File(file) => file.get(offset as usize),
        }
    }

    /// Every vector, when they are in the heap.
    pub(crate) fn heap(&self) -> Option<&[f32]> {
        match self {
            Self::Heap { data, .. } => Some(data),
            Self::File(_) => None,
        }
    }

    /// Makes room for `n` more vectors, so that pushing them cannot fail for
    /// want of disk space (called before a write is logged).
    pub(crate) fn reserve(&mut self, n: usize) -> Result<(), StorageError> {
        match self {
            Self::Heap { dims, data } => {
                data.reserve(n * *dims);
                Ok(())
            }
            Self::File(file) => file.reserve(n),
        }
    }

    fn push(&mut self, v: &[f32]) -> Result<(), StorageError> {
        match self {
            Self::Heap { data, .. } => {
                data.extend_from_slice(v);
                Ok(())
            }
            Self::File(file) => file.push(v),
        }
    }

    fn ram_bytes(&self) -> usize {
        match self {
            Self::Heap { data, .. } => data.capacity() * 4,
            Self::File(_) => 0,
        }
    }

    fn disk_bytes(&self) -> u64 {
        match self {
            Self::Heap { .. } => 0,
            Self::File(file) => file.disk_bytes(),
        }
    }
}

/// The in-memory points, guarded by one lock.
pub(crate) struct Points {
    pub(crate) ids: HashMap<PointId, Offset>,
    pub(crate) by_offset: Vec<PointId>,
    pub(crate) vectors: Vectors,
    /// Compact codes by offset (compact layouts).
    pub(crate) codes: Option<Codes>,
    /// Token vectors by offset (multivector layout; `vectors` then holds the FDEs).
    pub(crate) tokens: Option<multivector::TokenStore>,
    /// The FDE encoder (multivector layout).
    pub(crate) fde: Option<Arc<Fde>>,
    /// Token dimension (multivector layout), else the vector dimension.
    pub(crate) dims: usize,
    pub(crate) payloads: Vec<Option<Payload>>,
    pub(crate) live: RoaringBitmap,
    pub(crate) payload_index: PayloadIndex,
    pub(crate) payload_bytes: usize,
}

impl Points {
    /// Empty points for `config`; compact layouts (re)create their vector file in `dir`.
    fn new(config: &CollectionConfig, dir: &Path) -> Result<Self> {
        let codes = config
            .layout
            .code_spec(config.dims, config.metric)
            .map(Codes::new);
        let vectors = if codes.is_some() {
            Vectors::File(VectorFile::create(&dir.join(VECTORS_FILE), config.dims)?)
        } else {
            Vectors::Heap {
                dims: config.point_dims(),
                data: Vec::new(),
            }
        };
        let (tokens, fde) = match (config.layout, config.muvera) {
            (Layout::Multivector, Some(params)) => {
                let fde = Fde::new(params, config.dims).map_err(|reason| {
                    IndexError::InvalidParameter {
                        field: "vector.muvera".into(),
                        reason,
                    }
                })?;
                (
                    Some(multivector::TokenStore::create(
                        &dir.join(TOKENS_FILE),
                        config.dims,
                    )?),
                    Some(Arc::new(fde)),
                )
            }
            _ => (None, None),
        };
        Ok(Self {
            ids: HashMap::new(),
            by_offset: Vec::new(),
            vectors,
            codes,
            tokens,
            fde,
            dims: config.dims,
            payloads: Vec::new(),
            live: RoaringBitmap::new(),
            payload_index: PayloadIndex::new(&config.payload_schema),
            payload_bytes: 0,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.by_offset.len()
    }

    #[inline]
    pub(crate) fn vector(&self, offset: Offset) -> &[f32] {
        self.vectors.get(offset)
    }

    /// What the log and snapshots hold for `offset`: its vector, or its token
    /// vectors flattened (multivector layout).
    pub(crate) fn stored(&self, offset: Offset) -> &[f32] {
        match &self.tokens {
            Some(tokens) => tokens.get(offset),
            None => self.vector(offset),
        }
    }

    /// Whether a stored vector of `len` floats fits the layout.
    pub(crate) fn fits(&self, len: usize) -> bool {
        match self.tokens {
            Some(_) => len > 0 && len.is_multiple_of(self.dims),
            None => len == self.dims,
        }
    }

    /// What the graph links for `offsets`, in its space.
    pub(crate) fn graph_rows(&self, offsets: impl Iterator<Item = Offset>) -> Rows {
        match &self.codes {
            None => Rows::Floats(offsets.map(|o| (o, self.vector(o).to_vec())).collect()),
            Some(codes) if codes.spec().floats() > 0 => {
                Rows::Floats(offsets.map(|o| (o, codes.prefix(o).to_vec())).collect())
            }
            Some(codes) => Rows::Words(offsets.map(|o| (o, codes.words(o).to_vec())).collect()),
        }
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
    /// Serialises snapshots (requested and automatic): they share a file.
    pub(crate) snapshot_lock: Mutex<()>,
    pub(crate) signal: Arc<indexer::Signal>,
    pub(crate) indexer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A collection; cheap to clone.
#[derive(Clone)]
pub struct Collection {
    pub(crate) inner: Arc<Inner>,
}

const CONFIG_FILE: &str = "config.json";
/// The full vectors of compact layouts (rewritten at every open).
const VECTORS_FILE: &str = "vectors.f32";
/// The token vectors of multivector layouts (rewritten at every open).
const TOKENS_FILE: &str = "tokens.f32";
pub(crate) const WAL_FILE: &str = "wal.log";

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
        // The log exists from the start: `open` refuses a collection without one.
        drop(Wal::open(&dir.join(WAL_FILE), wal.clone())?);
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
        config.validate()?;
        // The log first: it holds the directory's lock, so that a second
        // process cannot recreate the vector file under a running one. A
        // collection always has one (`create` makes it): a missing log is
        // lost data, never a fresh start.
        let wal_path = dir.join(WAL_FILE);
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
        let (wal, recovered) = Wal::open(&wal_path, wal_options)?;
        let mut points = Points::new(&config, dir)?;
        let mut config = config;
        let (snapshot_lsn, stored_graph) = snapshot::load(dir, &config, &mut points)?;
        if recovered.base_lsn > snapshot_lsn {
            // The log was cut after a newer snapshot than the one here: the
            // records in between are in neither.
            return Err(crate::storage::StorageError::Corrupt {
                path: dir.join(snapshot::FILE),
                reason: format!(
                    "the log starts after record {} but the snapshot covers only up to {snapshot_lsn}: records {}..={} are lost (the snapshot is missing or older than the log)",
                    recovered.base_lsn,
                    snapshot_lsn + 1,
                    recovered.base_lsn
                ),
            }
            .into());
        }
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
            point_ops::apply(&mut points, &mut config, record)?;
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
        let space = config.graph_space();
        let (graph, indexed) = match stored_graph {
            Some(stored) => (
                Graph::with_frozen(
                    config.hnsw,
                    space,
                    points.len() - stored.covered,
                    stored.segments,
                ),
                stored.covered,
            ),
            None => (Graph::new(config.hnsw, space, points.len()), 0),
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
            snapshot_lock: Mutex::new(()),
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
            + points
                .tokens
                .as_ref()
                .map_or(0, multivector::TokenStore::ram_bytes)
            + points.by_offset.capacity() * std::mem::size_of::<PointId>()
            + points.live.serialized_size();
        let memory = MemoryUsage {
            vectors: points.vectors.ram_bytes() as u64,
            codes: points.codes.as_ref().map_or(0, Codes::ram_bytes) as u64,
            graph: graph_bytes as u64,
            payload_index: points.payload_index.ram_bytes() as u64,
            payloads: points.payload_bytes as u64,
            ids: ids_bytes as u64,
            vectors_file: points.vectors.disk_bytes()
                + points
                    .tokens
                    .as_ref()
                    .map_or(0, multivector::TokenStore::disk_bytes),
            wal: self.inner.wal.disk_bytes(),
            snapshot: snapshot::disk_bytes(&self.inner.dir),
        };
        CollectionStats {
            points: points.live.len(),
            tombstones: (points.len() as u64).saturating_sub(points.live.len()),
            indexed: self.inner.indexed.load(Ordering::Acquire) as u64,
            segments,
            ram_bytes: memory.ram_bytes(),
            disk_bytes: memory.disk_bytes(),
            memory,
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
