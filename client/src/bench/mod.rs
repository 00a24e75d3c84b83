//! The `trawl-bench` subcommands and what they share.
//!
//! Each subcommand is one module with a clap `Args` struct and a `run`
//! function: [`encode`] measures embedding throughput in-process and through
//! HTTP; [`export`] writes a vector benchmark directory from a text corpus;
//! [`ann`] measures the index on such a directory, in the peers' columns;
//! [`graph`] measures the HNSW graph builders alone on it;
//! [`muvera`] exports token vectors and measures MUVERA against exact
//! Chamfer; [`storage`] measures the storage engine (memory per point, a
//! snapshot's peak, restart, recall, latency under writes) through the HTTP
//! API of a started server. The shared pieces are the benchmark corpora
//! ([`data`]), the model and encoder flags ([`model`]), a `trawl` server
//! started for the run ([`server`]), latency percentiles ([`stats`]), seeded
//! synthetic vectors ([`synthetic`]) and the machine description and JSON
//! output ([`report`]).
//!
//! The in-process rows need the encoder itself, so this crate depends on
//! `trawl-encoders` as well as `trawl-proto`; only the benchmarks use it.

pub mod ann;
pub mod data;
pub mod encode;
pub mod export;
pub mod graph;
pub mod hybrid;
pub mod model;
pub mod muvera;
pub mod npy;
pub mod report;
pub mod server;
pub mod sparse;
pub mod stats;
pub mod storage;
pub mod synthetic;
