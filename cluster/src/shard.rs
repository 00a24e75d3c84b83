//! A shard replica: a Raft group member (openraft) whose log is the shard's
//! [`LogStore`] and whose state machine is the shard's collection
//! ([`ShardMachine`]).
//!
//! Writes go through the group's leader: it checks and encodes them
//! ([`trawl_index::Collection::upsert_records`]), proposes the bytes, and
//! answers once a majority has fsynced the entries and it has applied them.
//! Reads use the replica's own collection; a linearizable read first asks
//! the leader's read index and waits until this replica has applied it.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, RaftError};
use openraft::{Raft, RaftNetworkFactory};
use trawl_index::{Collection, CollectionConfig, IndexError, PointId, PointWrite, SealPolicy};

use crate::log::LogStore;
use crate::machine::{Current, ShardMachine};
use crate::types::{Command, NodeId, TypeConfig};

/// Why a shard refused a request.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// This replica does not lead its group: the write goes to `leader`.
    #[error("this replica does not lead the shard{}", leader.map(|l| format!(": node {l} does")).unwrap_or_else(|| ", and no leader is known yet".into()))]
    NotLeader {
        /// The leader this replica knows of.
        leader: Option<NodeId>,
    },
    /// No majority of the group answered in time: the write was not
    /// acknowledged (it may still be applied, if the entry reached a
    /// majority after all).
    #[error(
        "no majority of the shard's replicas acknowledged within {waited:?}: the write was not acknowledged"
    )]
    NoQuorum {
        /// How long the request waited.
        waited: Duration,
    },
    /// The collection refused the write (bad input, full disk, ...).
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The Raft group stopped or failed.
    #[error("the shard's Raft group failed: {0}")]
    Raft(String),
    /// The replica's files could not be opened.
    #[error("the shard's files: {0}")]
    Io(#[from] io::Error),
}

/// What a shard replica needs to start.
#[derive(Clone)]
pub struct ShardOptions {
    /// The shard's name (in logs and errors).
    pub name: String,
    /// The collection's configuration (used when the replica is new).
    pub config: CollectionConfig,
    /// When the collection seals its appendable segment.
    pub policy: SealPolicy,
    /// openraft's configuration (timeouts, snapshot policy).
    pub raft: Arc<openraft::Config>,
    /// How long a write waits for a majority before it is refused.
    pub write_timeout: Duration,
}

/// A shard replica on this node.
pub struct Shard {
    id: NodeId,
    raft: Raft<TypeConfig>,
    log: LogStore,
    current: Current,
    write_timeout: Duration,
}

impl Shard {
    /// Opens (or creates) the replica under `root` and starts its Raft
    /// member, which talks to the others through `network`.
    pub async fn open<N>(
        id: NodeId,
        root: &Path,
        options: &ShardOptions,
        network: N,
    ) -> Result<Self, ShardError>
    where
        N: RaftNetworkFactory<TypeConfig>,
    {
        let log = LogStore::open(&root.join("log"))?;
        let machine = {
            let (root, options) = (root.to_path_buf(), options.clone());
            tokio::task::spawn_blocking(move || {
                ShardMachine::open(&root, &options.name, &options.config, options.policy)
            })
            .await
            .map_err(io::Error::other)??
        };
        let current = machine.current();
        let raft = Raft::new(id, Arc::clone(&options.raft), network, log.clone(), machine)
            .await
            .map_err(|e| ShardError::Raft(e.to_string()))?;
        Ok(Self {
            id,
            raft,
            log,
            current,
            write_timeout: options.write_timeout,
        })
    }

    /// This replica's node id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The replica's Raft member (membership changes, metrics).
    pub fn raft(&self) -> &Raft<TypeConfig> {
        &self.raft
    }

    /// The replica's collection as it has applied the log so far.
    pub fn collection(&self) -> Arc<Collection> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The replica's collection once it has applied every write
    /// acknowledged before this call (the leader's read index): what a
    /// linearizable read searches.
    pub async fn linearizable(&self) -> Result<Arc<Collection>, ShardError> {
        let ensured =
            tokio::time::timeout(self.write_timeout, self.raft.ensure_linearizable()).await;
        match ensured {
            Err(_) => Err(ShardError::NoQuorum {
                waited: self.write_timeout,
            }),
            Ok(Err(RaftError::APIError(e))) => match e {
                openraft::error::CheckIsLeaderError::ForwardToLeader(f) => {
                    Err(ShardError::NotLeader {
                        leader: f.leader_id,
                    })
                }
                openraft::error::CheckIsLeaderError::QuorumNotEnough(_) => {
                    Err(ShardError::NoQuorum {
                        waited: self.write_timeout,
                    })
                }
            },
            Ok(Err(RaftError::Fatal(e))) => Err(ShardError::Raft(e.to_string())),
            Ok(Ok(_)) => Ok(self.collection()),
        }
    }

    /// Upserts `points` through the group: returns the log index of the
    /// last entry once a majority has it and this leader applied it.
    pub async fn upsert(&self, points: Vec<PointWrite>) -> Result<u64, ShardError> {
        let collection = self.collection();
        let records = tokio::task::spawn_blocking(move || collection.upsert_records(points))
            .await
            .map_err(|e| ShardError::Raft(e.to_string()))??;
        let mut last = 0;
        for record in records {
            last = self.propose(record).await?;
        }
        Ok(last)
    }

    /// Deletes `ids` through the group (ids no replica holds are skipped).
    pub async fn delete(&self, ids: &[PointId]) -> Result<u64, ShardError> {
        let record = self.collection().delete_record(ids);
        self.propose(record).await
    }

    async fn propose(&self, record: Vec<u8>) -> Result<u64, ShardError> {
        self.leader_check()?;
        let write = self.raft.client_write(Command { record });
        match tokio::time::timeout(self.write_timeout, write).await {
            Err(_) => Err(ShardError::NoQuorum {
                waited: self.write_timeout,
            }),
            Ok(Ok(response)) => Ok(response.log_id.index),
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(ShardError::NotLeader {
                    leader: f.leader_id,
                })
            }
            Ok(Err(e)) => Err(ShardError::Raft(e.to_string())),
        }
    }

    /// Refuses at once when this replica knows it does not lead.
    fn leader_check(&self) -> Result<(), ShardError> {
        let leader = self.raft.metrics().borrow().current_leader;
        if leader == Some(self.id) {
            Ok(())
        } else {
            Err(ShardError::NotLeader { leader })
        }
    }

    /// Stops the Raft member and the collection's sealer, and waits until
    /// openraft's tasks have let go of the log (whose directory is locked
    /// until then): the replica can then be opened again.
    pub async fn shutdown(&self) -> Result<(), ShardError> {
        self.raft
            .shutdown()
            .await
            .map_err(|e| ShardError::Raft(e.to_string()))?;
        self.collection().close();
        let started = std::time::Instant::now();
        while self.log.handles() > 1 {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(ShardError::Raft(format!(
                    "{} handles of the shard's log still open 10 s after shutdown",
                    self.log.handles() - 1
                )));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }
}
