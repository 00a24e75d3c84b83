//! A cluster node: the metadata group's member, the shard replicas the
//! metadata places on it, and the routing that lets any node serve any
//! request.
//!
//! A collection's points are split over its shards by a hash of the id
//! ([`shard_of`]). A write goes to each shard's leader: the node applies it
//! through its own replica when that replica leads, and otherwise forwards
//! the points (vectors, never texts) to the leader over the cluster
//! address. A search asks one replica per shard (this node's own when it
//! holds one) and merges the hits by score: scores are exact after the
//! rerank, so the merged top-k is the top-k over all shards.
//!
//! Internal routes, on the cluster address beside the Raft transport:
//!
//! ```text
//! POST /meta/propose             a MetaCommand, applied by the metadata leader
//! POST /shard/{group}/upsert     points (JSON), applied by the shard's leader
//! POST /shard/{group}/delete     ids
//! POST /shard/{group}/read       a Read (search, count) -> a ReadAnswer
//! GET  /node                     -> this node's id (liveness)
//! ```
//! A node that does not lead answers 409 with the leader it knows of.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use openraft::error::{ClientWriteError, RaftError};
use openraft::{BasicNode, Raft};
use tokio::sync::watch;
use trawl_index::{CollectionConfig, PointId, PointWrite, SealPolicy};

use crate::http::{Groups, HttpNetwork, valid_group};
use crate::log::LogStore;
use crate::meta::{MetaCommand, MetaMachine, Metadata, NodeInfo, Placement};
use crate::shard::{Shard, ShardError, ShardOptions};
use crate::types::{Command, NodeId, TypeConfig};

mod routes;

use routes::{Forwarded, Write, forward, internal_routes, read_local};
pub use routes::{Hit, Read, ReadAnswer, ShardQuery};

/// The metadata group's id on the transport.
const META: &str = "meta";

/// What a node needs to start.
#[derive(Clone)]
pub struct NodeOptions {
    /// This node's id (`--node-id`).
    pub id: NodeId,
    /// Where its groups keep their files.
    pub dir: PathBuf,
    /// Its Raft transport address, as the other nodes reach it
    /// (`--cluster-addr`); the node listens on it.
    pub cluster_addr: String,
    /// Its API address, announced to the others.
    pub api_addr: Option<String>,
    /// The initial members, this node included (`--peers`): the cluster is
    /// bootstrapped with them once.
    pub peers: BTreeMap<NodeId, String>,
    /// openraft's configuration, for every group.
    pub raft: Arc<openraft::Config>,
    /// How long a request waits for a leader or a majority.
    pub timeout: Duration,
    /// When the shards' collections seal.
    pub policy: SealPolicy,
}

/// Why a node refused a request.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// No such collection.
    #[error("collection {0} does not exist")]
    NoCollection(String),
    /// The request is wrong (the message says how).
    #[error("{0}")]
    BadRequest(String),
    /// No leader or no majority answered in time: nothing was
    /// acknowledged.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on this node.
    #[error("{0}")]
    Internal(String),
}

impl From<ShardError> for NodeError {
    fn from(e: ShardError) -> Self {
        match e {
            ShardError::Index(e) => NodeError::BadRequest(e.to_string()),
            ShardError::NotLeader { .. } | ShardError::NoQuorum { .. } => {
                NodeError::Unavailable(e.to_string())
            }
            ShardError::Raft(_) | ShardError::Io(_) => NodeError::Internal(e.to_string()),
        }
    }
}

/// The shard a point belongs to, of `shards` (FNV-1a of the id's kind and
/// bytes: the same on every node and every version).
pub fn shard_of(id: &PointId, shards: usize) -> usize {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    match id {
        PointId::Num(n) => {
            eat(&[0]);
            eat(&n.to_le_bytes());
        }
        PointId::Uuid(u) => {
            eat(&[1]);
            eat(u.as_bytes());
        }
        PointId::Str(s) => {
            eat(&[2]);
            eat(s.as_bytes());
        }
    }
    (hash % shards.max(1) as u64) as usize
}

/// The group id of shard `shard` of `collection`.
pub fn group_of(collection: &str, shard: usize) -> String {
    format!("{collection}.{shard}")
}

/// A cluster node.
pub struct Node {
    options: NodeOptions,
    groups: Groups,
    client: reqwest::Client,
    meta: Raft<TypeConfig>,
    meta_log: LogStore,
    metadata: watch::Receiver<Arc<Metadata>>,
    shards: RwLock<BTreeMap<String, Arc<Shard>>>,
    tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Node {
    /// Starts the node: listens on its cluster address, opens the metadata
    /// group (bootstrapping it with the peers when it is new), announces
    /// its addresses and opens the replicas placed on it.
    pub async fn start(options: NodeOptions) -> Result<Arc<Self>, NodeError> {
        let internal = |e: std::io::Error| NodeError::Internal(e.to_string());
        // The port of the address the others use, on every interface.
        let port = options
            .cluster_addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .ok_or_else(|| {
                NodeError::BadRequest(format!(
                    "the cluster address {} has no port",
                    options.cluster_addr
                ))
            })?;
        let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
            .await
            .map_err(|e| {
                NodeError::Internal(format!(
                    "cannot listen on the cluster address {}: {e}",
                    options.cluster_addr
                ))
            })?;
        let meta_dir = options.dir.join(META);
        let meta_log = LogStore::open(&meta_dir.join("log")).map_err(internal)?;
        let (machine, metadata) = MetaMachine::open(&meta_dir.join("state")).map_err(internal)?;
        let client = reqwest::Client::new();
        let groups = Groups::default();
        let meta = Raft::new(
            options.id,
            Arc::clone(&options.raft),
            HttpNetwork::new(META, client.clone()),
            meta_log.clone(),
            machine,
        )
        .await
        .map_err(|e| NodeError::Internal(e.to_string()))?;
        groups.insert(META, meta.clone());
        let node = Arc::new(Self {
            options,
            groups,
            client,
            meta,
            meta_log,
            metadata,
            shards: RwLock::new(BTreeMap::new()),
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        let app =
            crate::http::router(node.groups.clone()).merge(internal_routes(Arc::clone(&node)));
        // Without TCP_NODELAY an answer waits for the sender's delayed ACK
        // (tens of milliseconds per Raft round trip).
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!(%error, "TCP_NODELAY on a cluster connection");
            }
        });
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the cluster address stopped serving");
            }
        });
        if !node.options.peers.is_empty() && !node.meta.is_initialized().await.unwrap_or(true) {
            let members: BTreeMap<NodeId, BasicNode> = node
                .options
                .peers
                .iter()
                .map(|(&id, addr)| (id, BasicNode::new(addr)))
                .collect();
            // Every first node proposes the same membership: whichever does
            // first, the log's first entry is the same.
            if let Err(error) = node.meta.initialize(members).await {
                tracing::info!(%error, "the metadata group was initialised already");
            }
        }
        let announce = tokio::spawn(Arc::clone(&node).announce());
        let reconcile = tokio::spawn(Arc::clone(&node).reconcile());
        node.tasks_lock().extend([server, announce, reconcile]);
        Ok(node)
    }

    fn tasks_lock(&self) -> std::sync::MutexGuard<'_, Vec<tokio::task::JoinHandle<()>>> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.options.id
    }

    /// The metadata group's member.
    pub fn meta(&self) -> &Raft<TypeConfig> {
        &self.meta
    }

    /// The cluster's metadata as this node has applied it.
    pub fn metadata(&self) -> Arc<Metadata> {
        Arc::clone(&self.metadata.borrow())
    }

    /// This node's replica of `group`, if it holds one.
    pub fn shard(&self, group: &str) -> Option<Arc<Shard>> {
        self.shards
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(group)
            .cloned()
    }

    /// A node's cluster address, from the metadata group's membership.
    fn address(&self, id: NodeId) -> Option<String> {
        let metrics = self.meta.metrics();
        let metrics = metrics.borrow();
        metrics
            .membership_config
            .membership()
            .get_node(&id)
            .map(|n| n.addr.clone())
    }

    /// Announces this node's addresses until the metadata holds them.
    async fn announce(self: Arc<Self>) {
        let info = NodeInfo {
            cluster: self.options.cluster_addr.clone(),
            api: self.options.api_addr.clone(),
        };
        loop {
            if self.metadata().nodes.get(&self.id()) == Some(&info) {
                return;
            }
            let command = MetaCommand::Announce {
                id: self.id(),
                info: info.clone(),
            };
            if let Err(error) = self.propose(command).await {
                tracing::debug!(%error, "announcing this node; retrying");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Opens the replicas the metadata places on this node, as it changes.
    async fn reconcile(self: Arc<Self>) {
        let mut changes = self.metadata.clone();
        loop {
            let metadata = Arc::clone(&changes.borrow_and_update());
            for (name, placement) in &metadata.collections {
                for (s, replicas) in placement.shards.iter().enumerate() {
                    let group = group_of(name, s);
                    if replicas.contains(&self.id())
                        && self.shard(&group).is_none()
                        && let Err(error) = self.open_replica(&group, placement, replicas).await
                    {
                        tracing::error!(%error, group, "cannot open the replica");
                    }
                }
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    async fn open_replica(
        &self,
        group: &str,
        placement: &Placement,
        replicas: &[NodeId],
    ) -> Result<(), NodeError> {
        let root = self.options.dir.join("shards").join(group);
        let new = !root.exists();
        let options = ShardOptions {
            name: group.to_string(),
            config: placement.config.clone(),
            policy: self.options.policy,
            raft: Arc::clone(&self.options.raft),
            write_timeout: self.options.timeout,
        };
        let network = HttpNetwork::new(group, self.client.clone());
        let shard = Shard::open(self.id(), &root, &options, network).await?;
        self.groups.insert(group, shard.raft().clone());
        let raft = shard.raft().clone();
        self.shards
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(group.to_string(), Arc::new(shard));
        if new {
            let members: BTreeMap<NodeId, BasicNode> = replicas
                .iter()
                .map(|&id| (id, BasicNode::new(self.address(id).unwrap_or_default())))
                .collect();
            // Every replica proposes the same first membership.
            if let Err(error) = raft.initialize(members).await {
                tracing::debug!(%error, group, "the shard's group was initialised already");
            }
        }
        tracing::info!(group, "replica open");
        Ok(())
    }

    /// Proposes a metadata change through the metadata group's leader.
    pub async fn propose(&self, command: MetaCommand) -> Result<(), NodeError> {
        let deadline = Instant::now() + self.options.timeout;
        loop {
            let leader = self.meta.metrics().borrow().current_leader;
            let attempt = match leader {
                Some(l) if l == self.id() => self.propose_here(command.clone()).await,
                Some(l) => {
                    let addr = self.address(l).unwrap_or_default();
                    forward::<_, ()>(&self.client, &addr, "meta/propose", &command).await
                }
                None => Err(Forwarded::NotLeader(None)),
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(Forwarded::Refused(e)) => return Err(e),
                Err(Forwarded::NotLeader(_)) | Err(Forwarded::Unreachable(_))
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(NodeError::Unavailable(format!("the metadata group: {e}"))),
            }
        }
    }

    async fn propose_here(&self, command: MetaCommand) -> Result<(), Forwarded> {
        let record = serde_json::to_vec(&command)
            .map_err(|e| Forwarded::Refused(NodeError::Internal(e.to_string())))?;
        let write = self.meta.client_write(Command { record });
        match tokio::time::timeout(self.options.timeout, write).await {
            Err(_) => Err(Forwarded::Refused(NodeError::Unavailable(format!(
                "no majority of the metadata group within {:?}",
                self.options.timeout
            )))),
            Ok(Ok(response)) => match response.data.refused {
                Some(why) => Err(Forwarded::Refused(NodeError::BadRequest(why))),
                None => Ok(()),
            },
            Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f)))) => {
                Err(Forwarded::NotLeader(f.leader_id))
            }
            Ok(Err(e)) => Err(Forwarded::Refused(NodeError::Internal(e.to_string()))),
        }
    }

    /// Creates a collection of `shards` shards of `replication` replicas
    /// each, placed round-robin over the metadata group's voters.
    pub async fn create_collection(
        &self,
        name: &str,
        config: CollectionConfig,
        shards: usize,
        replication: Option<usize>,
    ) -> Result<Placement, NodeError> {
        config
            .validate()
            .map_err(|e| NodeError::BadRequest(e.to_string()))?;
        if !valid_group(&group_of(name, 0)) {
            return Err(NodeError::BadRequest(format!(
                "collection name {name:?}: use letters, digits, '-' and '_'"
            )));
        }
        let nodes: Vec<NodeId> = {
            let metrics = self.meta.metrics();
            let metrics = metrics.borrow();
            metrics.membership_config.membership().voter_ids().collect()
        };
        let replication = replication.unwrap_or(nodes.len().min(3));
        if shards == 0 || shards > 1024 {
            return Err(NodeError::BadRequest(format!(
                "shards: {shards}; between 1 and 1024"
            )));
        }
        if replication == 0 || replication > nodes.len() {
            return Err(NodeError::BadRequest(format!(
                "replication: {replication}; between 1 and the {} nodes of the cluster",
                nodes.len()
            )));
        }
        let placement = Placement {
            config,
            shards: (0..shards)
                .map(|s| {
                    (0..replication)
                        .map(|k| nodes[(s + k) % nodes.len()])
                        .collect()
                })
                .collect(),
        };
        self.propose(MetaCommand::CreateCollection {
            name: name.to_string(),
            placement: placement.clone(),
        })
        .await?;
        Ok(placement)
    }

    fn placement(&self, collection: &str) -> Result<Placement, NodeError> {
        self.metadata()
            .collections
            .get(collection)
            .cloned()
            .ok_or_else(|| NodeError::NoCollection(collection.to_string()))
    }

    /// Upserts `points` into `collection`: each shard's share through its
    /// leader. Returns once every shard acknowledged (a majority of its
    /// replicas fsynced the entries).
    pub async fn upsert(&self, collection: &str, points: Vec<PointWrite>) -> Result<(), NodeError> {
        self.write_split(collection, points, |p| &p.id, Write::Upsert)
            .await
    }

    /// Deletes `ids` from `collection`.
    pub async fn delete(&self, collection: &str, ids: Vec<PointId>) -> Result<(), NodeError> {
        self.write_split(collection, ids, |id| id, Write::Delete)
            .await
    }

    /// Splits `items` by shard and writes each shard's share through its
    /// leader, the shards at once.
    async fn write_split<T: Clone>(
        &self,
        collection: &str,
        items: Vec<T>,
        id: impl Fn(&T) -> &PointId,
        write: impl Fn(Vec<T>) -> Write,
    ) -> Result<(), NodeError> {
        let placement = self.placement(collection)?;
        let mut split: Vec<Vec<T>> = vec![Vec::new(); placement.shards.len()];
        for item in items {
            split[shard_of(id(&item), placement.shards.len())].push(item);
        }
        let writes = split
            .into_iter()
            .enumerate()
            .filter(|(_, items)| !items.is_empty())
            .map(|(s, items)| {
                let group = group_of(collection, s);
                let replicas = &placement.shards[s];
                let write = write(items);
                async move { self.write(&group, replicas, write).await }
            });
        for result in futures::future::join_all(writes).await {
            result?;
        }
        Ok(())
    }

    /// Writes to one shard through its leader, following redirects until
    /// the timeout.
    async fn write(&self, group: &str, replicas: &[NodeId], write: Write) -> Result<(), NodeError> {
        let deadline = Instant::now() + self.options.timeout;
        let mut target = self
            .shard(group)
            .and_then(|s| s.raft().metrics().borrow().current_leader)
            .or_else(|| replicas.first().copied());
        let mut tried = 0usize;
        loop {
            let attempt = match target {
                Some(t) if t == self.id() => match self.shard(group) {
                    Some(shard) => write.apply(&shard).await.map(drop).map_err(Forwarded::from),
                    None => Err(Forwarded::NotLeader(None)),
                },
                Some(t) => {
                    let addr = self.address(t).unwrap_or_default();
                    let path = format!("shard/{group}/{}", write.verb());
                    match &write {
                        Write::Upsert(points) => forward(&self.client, &addr, &path, points).await,
                        Write::Delete(ids) => forward(&self.client, &addr, &path, ids).await,
                    }
                }
                None => Err(Forwarded::NotLeader(None)),
            };
            match attempt {
                Ok(()) => return Ok(()),
                Err(Forwarded::Refused(e)) => return Err(e),
                Err(e) if Instant::now() >= deadline => {
                    return Err(NodeError::Unavailable(format!(
                        "shard {group}: not acknowledged within {:?} ({e})",
                        self.options.timeout
                    )));
                }
                Err(Forwarded::NotLeader(Some(l))) => target = Some(l),
                Err(_) => {
                    tried += 1;
                    target = Some(replicas[tried % replicas.len()]);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Searches `collection`: one replica per shard (this node's own where
    /// it holds one; the leaders for a linearizable read), hits merged by
    /// score.
    pub async fn search(&self, collection: &str, query: ShardQuery) -> Result<Vec<Hit>, NodeError> {
        let limit = query.limit;
        let mut hits = Vec::new();
        for answer in self.read_all(collection, Read::Search(query)).await? {
            if let ReadAnswer::Hits(h) = answer {
                hits.extend(h);
            }
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    /// The points of `collection` (one replica per shard; the leaders,
    /// after every acknowledged write, when `linearizable`).
    pub async fn count(&self, collection: &str, linearizable: bool) -> Result<usize, NodeError> {
        let answers = self
            .read_all(collection, Read::Count { linearizable })
            .await?;
        Ok(answers
            .into_iter()
            .map(|a| match a {
                ReadAnswer::Count(n) => n,
                ReadAnswer::Hits(_) => 0,
            })
            .sum())
    }

    /// Sends `read` to one replica of every shard of `collection`.
    async fn read_all(&self, collection: &str, read: Read) -> Result<Vec<ReadAnswer>, NodeError> {
        let placement = self.placement(collection)?;
        let reads = placement.shards.iter().enumerate().map(|(s, replicas)| {
            let group = group_of(collection, s);
            let read = &read;
            async move { self.read_shard(&group, replicas, read).await }
        });
        futures::future::join_all(reads).await.into_iter().collect()
    }

    /// Reads one shard: this node's replica first (or the leader this node
    /// knows of, for a linearizable read), the others if it fails, until
    /// the timeout.
    async fn read_shard(
        &self,
        group: &str,
        replicas: &[NodeId],
        read: &Read,
    ) -> Result<ReadAnswer, NodeError> {
        let deadline = Instant::now() + self.options.timeout;
        let mut order: Vec<NodeId> = replicas.to_vec();
        let first = match (read.linearizable(), self.shard(group)) {
            (true, Some(shard)) => shard.raft().metrics().borrow().current_leader,
            _ => Some(self.id()),
        };
        if let Some(at) = order.iter().position(|&r| Some(r) == first) {
            order.swap(0, at);
        }
        let mut i = 0usize;
        loop {
            let target = order[i % order.len()];
            let attempt = if target == self.id() {
                match self.shard(group) {
                    Some(shard) => read_local(&shard, read).await.map_err(Forwarded::from),
                    None => Err(Forwarded::NotLeader(None)),
                }
            } else {
                let addr = self.address(target).unwrap_or_default();
                forward(&self.client, &addr, &format!("shard/{group}/read"), read).await
            };
            match attempt {
                Ok(answer) => return Ok(answer),
                Err(Forwarded::Refused(e)) => return Err(e),
                Err(e) if Instant::now() >= deadline => {
                    return Err(NodeError::Unavailable(format!(
                        "shard {group}: no replica answered ({e})"
                    )));
                }
                Err(Forwarded::NotLeader(Some(l))) if order.contains(&l) => {
                    i = order.iter().position(|&r| r == l).unwrap_or(i);
                }
                Err(_) => {
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }

    /// Whether node `id` answers on its cluster address.
    pub async fn is_up(&self, id: NodeId) -> bool {
        if id == self.id() {
            return true;
        }
        let Some(addr) = self.address(id) else {
            return false;
        };
        self.client
            .get(format!("http://{addr}/node"))
            .timeout(Duration::from_millis(500))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    /// Stops every group on this node and the cluster address.
    pub async fn shutdown(&self) {
        let shards: Vec<(String, Arc<Shard>)> =
            std::mem::take(&mut *self.shards.write().unwrap_or_else(|p| p.into_inner()))
                .into_iter()
                .collect();
        for (group, shard) in shards {
            self.groups.remove(&group);
            if let Err(error) = shard.shutdown().await {
                tracing::warn!(%error, group, "shard shutdown");
            }
        }
        self.groups.remove(META);
        let _ = self.meta.shutdown().await;
        for task in self.tasks_lock().drain(..) {
            task.abort();
        }
        let started = Instant::now();
        while self.meta_log.handles() > 1 && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
