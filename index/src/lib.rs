//! Collections, points, payload index and filters, HNSW search, quantised codes,
//! rerank, MUVERA fixed-dimensional encodings, write-ahead log and snapshots.
//!
//! The crate knows nothing of HTTP: it takes and returns plain vectors, codes
//! and JSON payloads. See `ARCHITECTURE.md` at the repository root.

pub mod background;
pub mod codes;
pub mod collection;
pub mod distance;
mod error;
pub mod filter;
pub mod fusion;
pub mod graph;
pub mod muvera;
pub mod payload_index;
pub mod planner;
pub mod snapshots;
pub mod sparse;
pub mod storage;
pub mod store;
pub mod text;
mod topk;
mod types;

pub use collection::{
    Collection, CollectionConfig, CollectionStats, Count, FOLD_RATIO, IDLE_MERGE, Layout, MAX_DIMS,
    MAX_FACET_LIMIT, MAX_OVERSAMPLE, MAX_SCROLL_LIMIT, MAX_VECTOR_NAME, MemoryUsage, PayloadUpdate,
    PointWrite, ScoredPoint, ScrollPage, ScrollQuery, SealPolicy, SearchQuery, Selection,
    SparseSearch, StoredPoint, TextSearch, VectorConfig, json_len,
};
pub use distance::Metric;
pub use error::{IndexError, Result};
pub use graph::EF_RANGE;
pub use graph::HnswParams;
pub use snapshots::{RestoreInfo, SnapshotEntry};
pub use store::{AliasAction, Store};
pub use types::{MAX_STRING_ID_BYTES, Offset, Payload, PayloadType, PointId};
