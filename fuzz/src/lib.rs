//! Shared pieces of Trawl's fuzz targets (`fuzz_targets/*.rs`).
//!
//! The targets drive the real crates: `trawl-proto`'s request types and
//! hand-written filter parser, `trawl-index`'s filter validator and evaluator,
//! collections (search, upsert, delete, create) and write-ahead log. What lives
//! here is only what the HTTP layer would otherwise provide:
//!
//! - [`convert`]: the server's API → domain conversions
//!   (`trawl_server::convert`), and the per-item vector check the handlers make
//!   (repeated: the server's is tied to the encoder queue);
//! - [`fixture`]: a fixed payload and schema, and small collections built once
//!   per process and never written to afterwards;
//! - [`scratch`]: per-input directories under the system temp directory, for
//!   targets that create collections or logs.

pub mod convert;
pub mod fixture;
pub mod scratch;
