//! `GET /cluster`: the nodes, the metadata group and where each shard's
//! replicas are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Answer of `GET /cluster`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterStatus {
    /// `single` (no cluster flags) or `cluster`.
    pub mode: String,
    /// The id of the node that answered (`null` for a single node).
    pub node_id: Option<u64>,
    /// The node leading the metadata group, as the answering node knows it.
    pub metadata_leader: Option<u64>,
    /// The metadata group's members.
    pub nodes: Vec<ClusterNode>,
    /// Each collection's shards.
    pub collections: Vec<ClusterCollection>,
}

/// A node of the cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterNode {
    /// Its id (`--node-id`).
    pub id: u64,
    /// Its cluster address (`--cluster-addr`).
    pub cluster_addr: String,
    /// Its API address, once it has announced it.
    pub api_addr: Option<String>,
    /// Whether it answered the answering node just now.
    pub up: bool,
}

/// A collection's shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterCollection {
    /// The collection.
    pub name: String,
    /// Its shards, in order.
    pub shards: Vec<ClusterShard>,
}

/// One shard: a Raft group of replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterShard {
    /// Its number.
    pub shard: usize,
    /// Its leader, when the answering node holds a replica and knows it.
    pub leader: Option<u64>,
    /// Its replicas.
    pub replicas: Vec<ClusterReplica>,
}

/// One replica of a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClusterReplica {
    /// The node holding it.
    pub node: u64,
    /// Whether that node answered just now.
    pub up: bool,
    /// Points in it (known for the answering node's own replicas).
    pub points: Option<usize>,
    /// The last log index it applied (known for the answering node's own
    /// replicas).
    pub applied: Option<u64>,
}
