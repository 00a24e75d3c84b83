//! Collections, points, payload index and filters, HNSW search, quantised codes,
//! rerank, MUVERA fixed-dimensional encodings, write-ahead log and snapshots.
//!
//! The crate knows nothing of HTTP: it takes and returns plain vectors, codes
//! and JSON payloads. Its modules arrive with the index issues; see
//! `ARCHITECTURE.md` at the repository root.
