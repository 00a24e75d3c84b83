//! Trawl's cluster: collections split into shards, each shard a Raft group
//! of replicas, on `openraft` (elections, log replication, snapshot
//! install, joint-consensus membership changes). This crate holds what
//! openraft asks of an application: the shard's types ([`types`]) and its
//! log on disk ([`log::LogStore`]), which is the shard's write-ahead log;
//! its state machine, the shard's collection ([`ShardMachine`]); a replica
//! ([`Shard`]); and an in-process transport with injected faults
//! ([`local`]) for the tests; the HTTP transport between nodes ([`http`]);
//! the metadata group ([`meta`]) and a node that routes any request to the
//! shards' leaders and replicas ([`Node`]).

pub mod http;
pub mod local;
pub mod log;
pub mod machine;
pub mod meta;
pub mod node;
pub mod shard;
pub mod types;

pub use log::LogStore;
pub use machine::ShardMachine;
pub use node::{Node, NodeError, NodeOptions};
pub use openraft::{Config as RaftConfig, SnapshotPolicy};
pub use shard::{Shard, ShardError, ShardOptions};
pub use types::{Applied, Command, Entry, LogId, NodeId, TypeConfig, Vote};
