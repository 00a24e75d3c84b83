//! The metadata group: one Raft group over all nodes holding what the
//! cluster is made of (the nodes' addresses, the collections, where each
//! shard's replicas are).
//!
//! Its state is small: it lives in memory, is rebuilt after a restart from
//! the newest snapshot (a JSON file) and the log after it, and every change
//! is an entry of the group's log (a [`MetaCommand`] as JSON).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, EntryPayload, ErrorSubject, ErrorVerb, SnapshotMeta, StorageError,
    StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use trawl_index::CollectionConfig;

use crate::types::{Applied, Entry, LogId, NodeId, TypeConfig};

/// A node as the cluster knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Its Raft transport address (`--cluster-addr`).
    pub cluster: String,
    /// Its API address, when it has announced one.
    pub api: Option<String>,
}

/// Where a collection's shards live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The collection's configuration.
    pub config: CollectionConfig,
    /// Each shard's replicas (node ids), shard by shard.
    pub shards: Vec<Vec<NodeId>>,
}

/// The cluster's metadata.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The nodes, by id.
    pub nodes: BTreeMap<NodeId, NodeInfo>,
    /// The collections, by name.
    pub collections: BTreeMap<String, Placement>,
}

/// A change of the metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MetaCommand {
    /// A node announces its addresses.
    Announce {
        /// Its id.
        id: NodeId,
        /// Its addresses.
        info: NodeInfo,
    },
    /// A collection is created with this placement (refused when the name
    /// is taken).
    CreateCollection {
        /// Its name.
        name: String,
        /// Its shards' replicas and configuration.
        placement: Placement,
    },
    /// A collection is dropped.
    DropCollection {
        /// Its name.
        name: String,
    },
}

impl Metadata {
    /// Applies `command`; the error says why it changed nothing.
    fn apply(&mut self, command: MetaCommand) -> Result<(), String> {
        match command {
            MetaCommand::Announce { id, info } => {
                self.nodes.insert(id, info);
                Ok(())
            }
            MetaCommand::CreateCollection { name, placement } => {
                if self.collections.contains_key(&name) {
                    return Err(format!("collection {name} exists"));
                }
                self.collections.insert(name, placement);
                Ok(())
            }
            MetaCommand::DropCollection { name } => self
                .collections
                .remove(&name)
                .map(drop)
                .ok_or_else(|| format!("no collection {name}")),
        }
    }
}

/// What a snapshot file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Image {
    applied: Option<LogId>,
    membership: StoredMembership<NodeId, BasicNode>,
    metadata: Metadata,
    snapshot_id: String,
}

/// The metadata group's state machine.
pub struct MetaMachine {
    dir: PathBuf,
    image: Image,
    published: watch::Sender<Arc<Metadata>>,
    next: u64,
}

const CURRENT: &str = "metadata.json";

fn error(verb: ErrorVerb, e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::new(
        ErrorSubject::StateMachine,
        verb,
        AnyError::error(e.to_string()),
    )
    .into()
}

impl MetaMachine {
    /// Opens the group's state in `dir` (its newest snapshot, if any);
    /// the receiver sees every change applied.
    pub fn open(dir: &Path) -> io::Result<(Self, watch::Receiver<Arc<Metadata>>)> {
        std::fs::create_dir_all(dir)?;
        let image: Image = match std::fs::read(dir.join(CURRENT)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Image::default(),
            Err(e) => return Err(e),
        };
        let (published, receiver) = watch::channel(Arc::new(image.metadata.clone()));
        Ok((
            Self {
                dir: dir.to_path_buf(),
                image,
                published,
                next: 0,
            },
            receiver,
        ))
    }

    fn path(&mut self) -> PathBuf {
        self.next += 1;
        self.dir.join(format!("incoming-{}.json", self.next))
    }
}

/// Writes the image as the current snapshot (through a temporary file).
fn save(dir: &Path, image: &Image) -> io::Result<PathBuf> {
    let bytes = serde_json::to_vec(image).map_err(io::Error::other)?;
    let path = dir.join(CURRENT);
    crate::machine::write_atomic(&path, &bytes)?;
    Ok(path)
}

fn meta_of(image: &Image) -> SnapshotMeta<NodeId, BasicNode> {
    SnapshotMeta {
        last_log_id: image.applied,
        last_membership: image.membership.clone(),
        snapshot_id: image.snapshot_id.clone(),
    }
}

/// Builds the metadata group's snapshot.
pub struct MetaBuilder {
    dir: PathBuf,
    image: Image,
}

impl RaftSnapshotBuilder<TypeConfig> for MetaBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        self.image.snapshot_id = match self.image.applied {
            Some(l) => format!("{}-{}-{}", l.leader_id.term, l.leader_id.node_id, l.index),
            None => "empty".into(),
        };
        let (dir, image) = (self.dir.clone(), self.image.clone());
        let path = tokio::task::spawn_blocking(move || save(&dir, &image))
            .await
            .map_err(|e| error(ErrorVerb::Write, e))?
            .map_err(|e| error(ErrorVerb::Write, e))?;
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| error(ErrorVerb::Read, e))?;
        Ok(Snapshot {
            meta: meta_of(&self.image),
            snapshot: Box::new(file),
        })
    }
}

impl RaftStateMachine<TypeConfig> for MetaMachine {
    type SnapshotBuilder = MetaBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>> {
        Ok((self.image.applied, self.image.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + openraft::OptionalSend,
        I::IntoIter: openraft::OptionalSend,
    {
        let mut out = Vec::new();
        for entry in entries {
            self.image.applied = Some(entry.log_id);
            let mut refused = None;
            match entry.payload {
                EntryPayload::Blank => {}
                EntryPayload::Normal(command) => {
                    match serde_json::from_slice::<MetaCommand>(&command.record) {
                        Ok(command) => refused = self.image.metadata.apply(command).err(),
                        Err(e) => refused = Some(format!("not a metadata command: {e}")),
                    }
                }
                EntryPayload::Membership(m) => {
                    self.image.membership = StoredMembership::new(Some(entry.log_id), m);
                }
            }
            out.push(Applied {
                index: entry.log_id.index,
                refused,
            });
        }
        self.published
            .send_replace(Arc::new(self.image.metadata.clone()));
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> MetaBuilder {
        MetaBuilder {
            dir: self.dir.clone(),
            image: self.image.clone(),
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<tokio::fs::File>, StorageError<NodeId>> {
        let path = self.path();
        let file = crate::machine::create_incoming(&path)
            .await
            .map_err(|e| error(ErrorVerb::Write, e))?;
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        mut snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError<NodeId>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        snapshot
            .seek(io::SeekFrom::Start(0))
            .await
            .map_err(|e| error(ErrorVerb::Read, e))?;
        let mut bytes = Vec::new();
        snapshot
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| error(ErrorVerb::Read, e))?;
        let mut image: Image =
            serde_json::from_slice(&bytes).map_err(|e| error(ErrorVerb::Read, e))?;
        image.applied = meta.last_log_id;
        image.membership = meta.last_membership.clone();
        image.snapshot_id = meta.snapshot_id.clone();
        let dir = self.dir.clone();
        let saved = image.clone();
        tokio::task::spawn_blocking(move || {
            save(&dir, &saved)?;
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_name().to_string_lossy().starts_with("incoming-") {
                    std::fs::remove_file(entry.path())?;
                }
            }
            Ok::<_, io::Error>(())
        })
        .await
        .map_err(|e| error(ErrorVerb::Write, e))?
        .map_err(|e| error(ErrorVerb::Write, e))?;
        self.published
            .send_replace(Arc::new(image.metadata.clone()));
        self.image = image;
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let path = self.dir.join(CURRENT);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(error(ErrorVerb::Read, e)),
        };
        let image: Image = serde_json::from_slice(&bytes).map_err(|e| error(ErrorVerb::Read, e))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| error(ErrorVerb::Read, e))?;
        Ok(Some(Snapshot {
            meta: meta_of(&image),
            snapshot: Box::new(file),
        }))
    }
}
