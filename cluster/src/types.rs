//! The Raft types of a shard: what its log holds and what applying answers.

use std::fmt;

use serde::{Deserialize, Serialize};

openraft::declare_raft_types!(
    /// The Raft type configuration of a shard group: node ids are `u64`
    /// (`--node-id`), a node is known by its cluster address, and a snapshot
    /// travels as a file (the shard's segment files packed), never as one
    /// buffer in memory.
    pub TypeConfig:
        D = Command,
        R = Applied,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        SnapshotData = tokio::fs::File,
);

/// A node's id in the cluster (`--node-id`).
pub type NodeId = u64;

/// A log id of a shard's log.
pub type LogId = openraft::LogId<NodeId>;

/// A vote of a shard's group.
pub type Vote = openraft::Vote<NodeId>;

/// An entry of a shard's log.
pub type Entry = openraft::Entry<TypeConfig>;

/// A write to a shard, as its log holds it: one record of the shard's
/// collection (an upsert of vectors, not of texts: the node that received
/// the request embedded them, so every replica applies the same bytes),
/// encoded by the storage engine.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The record's bytes (base64 in JSON: entries travel as JSON between
    /// nodes).
    #[serde(with = "base64_bytes")]
    pub record: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({} bytes)", self.record.len())
    }
}

/// What applying an entry answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The entry's index in the log.
    pub index: u64,
    /// Why the entry changed nothing (a metadata change that does not
    /// apply, such as creating a collection that exists).
    pub refused: Option<String>,
}
