//! Trawl's cluster: collections split into shards, each shard a Raft group
//! of replicas, on `openraft` (elections, log replication, snapshot
//! install, joint-consensus membership changes). This crate holds what
//! openraft asks of an application: the shard's types ([`types`]) and its
//! log on disk ([`log::LogStore`]), which is the shard's write-ahead log.

pub mod log;
pub mod types;

pub use log::LogStore;
pub use types::{Applied, Command, Entry, LogId, NodeId, TypeConfig, Vote};
