//! An in-process transport between Raft members, with faults injected:
//! messages lost or delayed at random (from a seed, so a failing run can be
//! replayed with its seed), and nodes cut off from each other (partitions).
//!
//! Every member is a real openraft member over real files; only the wire
//! is replaced by a direct call. The cluster tests run three replicas
//! through it; nodes in separate processes use the HTTP transport.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openraft::error::{InstallSnapshotError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, Raft, RaftNetwork, RaftNetworkFactory};

use crate::types::{NodeId, TypeConfig};

/// Faults applied to every message.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Chance that a request, or its answer, is lost (0 to 1).
    pub loss: f64,
    /// Each message is delayed by up to this much (uniformly).
    pub max_delay: Duration,
}

struct State {
    members: BTreeMap<NodeId, Raft<TypeConfig>>,
    /// Links that carry nothing, as (from, to).
    cut: BTreeSet<(NodeId, NodeId)>,
    faults: Faults,
    rng: u64,
    lost: u64,
    sent: u64,
}

impl State {
    /// splitmix64: the fault sequence follows from the seed.
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The in-process network of a set of members (cheap to clone).
#[derive(Clone)]
pub struct LocalNetwork {
    state: Arc<Mutex<State>>,
}

/// What the network carried so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Traffic {
    /// Messages sent.
    pub sent: u64,
    /// Messages (or their answers) lost to injected faults.
    pub lost: u64,
}

impl LocalNetwork {
    /// A network without members, its random faults drawn from `seed`.
    pub fn new(seed: u64, faults: Faults) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                members: BTreeMap::new(),
                cut: BTreeSet::new(),
                faults,
                rng: seed,
                lost: 0,
                sent: 0,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The transport of member `id` (openraft's network factory).
    pub fn node(&self, id: NodeId) -> NodeNetwork {
        NodeNetwork {
            from: id,
            network: self.clone(),
        }
    }

    /// Makes `raft` reachable as member `id`.
    pub fn register(&self, id: NodeId, raft: Raft<TypeConfig>) {
        self.lock().members.insert(id, raft);
    }

    /// Makes member `id` unreachable (it stopped).
    pub fn unregister(&self, id: NodeId) {
        self.lock().members.remove(&id);
    }

    /// Cuts every link between `id` and the other members, both ways.
    pub fn isolate(&self, id: NodeId, all: &[NodeId]) {
        let mut state = self.lock();
        for &other in all.iter().filter(|&&o| o != id) {
            state.cut.insert((id, other));
            state.cut.insert((other, id));
        }
    }

    /// Restores every link.
    pub fn heal(&self) {
        self.lock().cut.clear();
    }

    /// Replaces the random faults.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// What was carried and lost so far.
    pub fn traffic(&self) -> Traffic {
        let state = self.lock();
        Traffic {
            sent: state.sent,
            lost: state.lost,
        }
    }

    /// The member `to` as `from` reaches it now, and how long the message
    /// takes; `None` when the link is cut, the member is down or the
    /// message is lost.
    fn route(&self, from: NodeId, to: NodeId) -> Option<(Raft<TypeConfig>, Duration)> {
        let mut state = self.lock();
        state.sent += 1;
        if state.cut.contains(&(from, to)) {
            return None;
        }
        let raft = state.members.get(&to)?.clone();
        let faults = state.faults;
        if faults.loss > 0.0 && state.chance() < faults.loss {
            state.lost += 1;
            return None;
        }
        let delay = faults.max_delay.mul_f64(state.chance());
        Some((raft, delay))
    }

    /// Whether the answer of a message is lost (the request was handled).
    fn answer_lost(&self, from: NodeId, to: NodeId) -> bool {
        let mut state = self.lock();
        if state.cut.contains(&(to, from)) {
            return true;
        }
        let loss = state.faults.loss;
        let lost = loss > 0.0 && state.chance() < loss;
        state.lost += u64::from(lost);
        lost
    }
}

/// Member `from`'s side of the [`LocalNetwork`].
#[derive(Clone)]
pub struct NodeNetwork {
    from: NodeId,
    network: LocalNetwork,
}

/// A connection from one member to another.
pub struct Connection {
    from: NodeId,
    to: NodeId,
    network: LocalNetwork,
}

impl RaftNetworkFactory<TypeConfig> for NodeNetwork {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, _node: &BasicNode) -> Connection {
        Connection {
            from: self.from,
            to: target,
            network: self.network.clone(),
        }
    }
}

fn unreachable(from: NodeId, to: NodeId) -> Unreachable {
    Unreachable::new(&io::Error::new(
        io::ErrorKind::ConnectionRefused,
        format!("node {to} is unreachable from node {from}"),
    ))
}

impl Connection {
    /// Carries one request to the member and its answer back, with the
    /// network's faults.
    async fn carry<T, E, F>(
        &self,
        call: impl FnOnce(Raft<TypeConfig>) -> F,
    ) -> Result<T, RPCError<NodeId, BasicNode, RaftError<NodeId, E>>>
    where
        F: std::future::Future<Output = Result<T, RaftError<NodeId, E>>>,
        E: std::error::Error,
    {
        let (from, to) = (self.from, self.to);
        let Some((raft, delay)) = self.network.route(from, to) else {
            return Err(RPCError::Unreachable(unreachable(from, to)));
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let answer = call(raft).await;
        if self.network.answer_lost(from, to) {
            return Err(RPCError::Unreachable(unreachable(to, from)));
        }
        answer.map_err(|e| RPCError::RemoteError(RemoteError::new(to, e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.carry(|raft| async move { raft.append_entries(rpc).await })
            .await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        self.carry(|raft| async move { raft.install_snapshot(rpc).await })
            .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        self.carry(|raft| async move { raft.vote(rpc).await }).await
    }
}
