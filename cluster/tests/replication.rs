//! Three replicas of a shard over the in-process transport, with messages
//! lost and delayed at random (seeded: `TRAWL_CLUSTER_SEED` replays a run)
//! and nodes cut off, stopped and restarted: every acknowledged write is on
//! every replica at the end, no acknowledged delete comes back, a cut-off
//! leader acknowledges nothing, the replicas answer searches identically,
//! and a replica far behind catches up by installing a snapshot, through
//! the in-process transport and through the HTTP one on loopback ports
//! (streamed in small chunks).
//!
//! Everything is real but, in-process, the wire: openraft members, the
//! shard logs on disk, the collections' segments.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::{BasicNode, SnapshotPolicy};
use serde_json::json;
use trawl_cluster::http::{Groups, HttpNetwork};
use trawl_cluster::local::{Faults, LocalNetwork};
use trawl_cluster::{NodeId, Shard, ShardError, ShardOptions};
use trawl_index::filter::FilterLimits;
use trawl_index::{Payload, PointId, PointWrite, SealPolicy, SearchQuery};

mod common;

use common::{DIMS, config};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

fn seed(default: u64) -> u64 {
    let seed = std::env::var("TRAWL_CLUSTER_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(default);
    println!("seed {seed:#x} (TRAWL_CLUSTER_SEED={seed:x} replays this run's faults)");
    seed
}

fn points(ids: std::ops::Range<u64>, rng: &mut Rng) -> Vec<PointWrite> {
    ids.map(|i| {
        let mut payload = Payload::new();
        payload.insert("n".into(), json!(i));
        PointWrite {
            id: PointId::Num(i),
            vector: (0..DIMS).map(|_| rng.unit()).collect(),
            vectors: Default::default(),
            sparse: Default::default(),
            payload: Some(payload),
        }
    })
    .collect()
}

/// How the members reach each other.
enum Transport {
    Local(LocalNetwork),
    /// Each node's groups, served on its own loopback port.
    Http {
        client: reqwest::Client,
        nodes: BTreeMap<NodeId, Groups>,
    },
}

const GROUP: &str = "docs.0";

struct Cluster {
    dir: tempfile::TempDir,
    transport: Transport,
    options: ShardOptions,
    shards: BTreeMap<NodeId, Arc<Shard>>,
    ids: Vec<NodeId>,
}

impl Cluster {
    async fn start(seed: u64, faults: Faults, snapshot_every: u64, http: bool) -> Self {
        let raft = openraft::Config {
            cluster_name: "test".into(),
            heartbeat_interval: 50,
            election_timeout_min: 200,
            election_timeout_max: 400,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every),
            max_in_snapshot_log_to_keep: 0,
            // Over HTTP a snapshot goes in many chunks.
            snapshot_max_chunk_size: 64 << 10,
            ..Default::default()
        };
        let ids = vec![1, 2, 3];
        let mut addresses = BTreeMap::new();
        let transport = if http {
            let mut nodes = BTreeMap::new();
            for &id in &ids {
                let groups = Groups::default();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addresses.insert(id, listener.local_addr().unwrap().to_string());
                let app = trawl_cluster::http::router(groups.clone());
                tokio::spawn(async move { axum::serve(listener, app).await });
                nodes.insert(id, groups);
            }
            Transport::Http {
                client: reqwest::Client::new(),
                nodes,
            }
        } else {
            Transport::Local(LocalNetwork::new(seed, faults))
        };
        let options = ShardOptions {
            name: "docs/0".into(),
            config: config(),
            policy: SealPolicy {
                points: 400,
                ..SealPolicy::default()
            },
            raft: Arc::new(raft.validate().unwrap()),
            write_timeout: Duration::from_secs(3),
        };
        let mut cluster = Self {
            dir: tempfile::tempdir().unwrap(),
            transport,
            options,
            shards: BTreeMap::new(),
            ids,
        };
        for id in cluster.ids.clone() {
            cluster.open(id).await;
        }
        let members: BTreeMap<NodeId, BasicNode> = cluster
            .ids
            .iter()
            .map(|&id| {
                let addr = addresses
                    .get(&id)
                    .cloned()
                    .unwrap_or_else(|| format!("node-{id}"));
                (id, BasicNode::new(addr))
            })
            .collect();
        cluster.shards[&1].raft().initialize(members).await.unwrap();
        cluster
    }

    async fn open(&mut self, id: NodeId) {
        let root = self.dir.path().join(format!("node-{id}"));
        let shard = match &self.transport {
            Transport::Local(network) => {
                let shard = Shard::open(id, &root, &self.options, network.node(id))
                    .await
                    .unwrap();
                network.register(id, shard.raft().clone());
                shard
            }
            Transport::Http { client, nodes } => {
                let network = HttpNetwork::new(GROUP, client.clone());
                let shard = Shard::open(id, &root, &self.options, network)
                    .await
                    .unwrap();
                nodes[&id].insert(GROUP, shard.raft().clone());
                shard
            }
        };
        self.shards.insert(id, Arc::new(shard));
    }

    /// The in-process network (the tests that inject faults use it).
    fn network(&self) -> &LocalNetwork {
        match &self.transport {
            Transport::Local(network) => network,
            Transport::Http { .. } => panic!("faults are injected in-process only"),
        }
    }

    /// Stops node `id` as a crash would leave it: unreachable, its member
    /// stopped (the files stay as they are).
    async fn stop(&mut self, id: NodeId) {
        match &self.transport {
            Transport::Local(network) => network.unregister(id),
            Transport::Http { nodes, .. } => nodes[&id].remove(GROUP),
        }
        let shard = self.shards.remove(&id).unwrap();
        shard.shutdown().await.unwrap();
    }

    /// The leader a majority of the running members agree on.
    async fn leader(&self, within: Duration) -> NodeId {
        let started = Instant::now();
        loop {
            let mut votes = BTreeMap::<NodeId, usize>::new();
            for shard in self.shards.values() {
                if let Some(l) = shard.raft().metrics().borrow().current_leader {
                    *votes.entry(l).or_default() += 1;
                }
            }
            if let Some((&l, _)) = votes
                .iter()
                .find(|&(l, n)| *n >= 2 && self.shards.contains_key(l))
            {
                return l;
            }
            assert!(started.elapsed() < within, "no leader within {within:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Writes through whichever member leads, as a client that follows
    /// redirects would; `Ok` only for an acknowledged write.
    async fn upsert(&self, batch: &[PointWrite]) -> Result<u64, ShardError> {
        let mut last = Err(ShardError::NotLeader { leader: None });
        for _ in 0..5 {
            let leader = self.leader(Duration::from_secs(10)).await;
            last = self.shards[&leader].upsert(batch.to_vec()).await;
            match &last {
                Ok(_) => return last,
                Err(ShardError::NotLeader { .. }) | Err(ShardError::NoQuorum { .. }) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("write failed: {e}"),
            }
        }
        last
    }

    async fn delete(&self, ids: &[PointId]) -> Result<u64, ShardError> {
        let mut last = Err(ShardError::NotLeader { leader: None });
        for _ in 0..5 {
            let leader = self.leader(Duration::from_secs(10)).await;
            last = self.shards[&leader].delete(ids).await;
            if last.is_ok() {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }

    /// Waits until every running member has applied the leader's log.
    async fn settle(&self) {
        let leader = self.leader(Duration::from_secs(10)).await;
        // A write of nothing through the leader: applied everywhere once
        // everything before it is.
        let last = self.shards[&leader]
            .linearizable()
            .await
            .map(|_| self.shards[&leader].raft().metrics().borrow().last_applied)
            .unwrap();
        let target = last.map(|l| l.index).unwrap_or(0);
        for (id, shard) in &self.shards {
            shard
                .raft()
                .wait(Some(Duration::from_secs(30)))
                .applied_index_at_least(Some(target), "settle")
                .await
                .unwrap_or_else(|e| panic!("node {id} did not catch up: {e}"));
        }
    }

    /// Checks every running member against the writes acknowledged.
    fn check(&self, live: &BTreeSet<u64>, deleted: &BTreeSet<u64>, queries: &[Vec<f32>]) {
        let mut answers = Vec::new();
        for (id, shard) in &self.shards {
            let c = shard.collection();
            assert_eq!(
                c.len(),
                live.len(),
                "node {id} holds {} points, {} expected",
                c.len(),
                live.len()
            );
            for &i in live.iter().step_by(7) {
                assert!(
                    c.get(&PointId::Num(i)).is_ok(),
                    "node {id} lost acknowledged point {i}"
                );
            }
            for &i in deleted {
                assert!(
                    c.get(&PointId::Num(i)).is_err(),
                    "node {id} serves deleted point {i}"
                );
            }
            let hits: Vec<Vec<PointId>> = queries
                .iter()
                .map(|q| {
                    c.search(&SearchQuery {
                        using: "",
                        vector: q,
                        filter: None,
                        filter_limits: FilterLimits::default(),
                        limit: 10,
                        ef: None,
                        exact: true,
                        oversample: None,
                        rerank: true,
                        with_payload: false,
                        with_vector: false,
                    })
                    .unwrap()
                    .into_iter()
                    .map(|h| h.id)
                    .collect()
                })
                .collect();
            answers.push((*id, hits));
        }
        for pair in answers.windows(2) {
            assert_eq!(
                pair[0].1, pair[1].1,
                "nodes {} and {} answer differently",
                pair[0].0, pair[1].0
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_lost_messages_a_cut_off_leader_and_a_restart() {
    let seed = seed(0x5eed_c105);
    let mut rng = Rng(seed | 1);
    let faults = Faults {
        loss: 0.05,
        max_delay: Duration::from_millis(4),
    };
    let mut cluster = Cluster::start(seed, faults, 1_000, false).await;
    let (mut live, mut deleted) = (BTreeSet::new(), BTreeSet::new());
    let mut next = 0u64;
    let (mut refused, mut linearizable_reads) = (0, 0);
    for round in 0..40 {
        if round == 12 {
            // The leader is cut off: it must acknowledge nothing, and the
            // other two elect a leader of their own.
            let old = cluster.leader(Duration::from_secs(10)).await;
            cluster.network().isolate(old, &cluster.ids);
            let batch = points(1_000_000..1_000_010, &mut rng);
            let started = Instant::now();
            let answer = cluster.shards[&old].upsert(batch).await;
            assert!(
                matches!(
                    answer,
                    Err(ShardError::NoQuorum { .. }) | Err(ShardError::NotLeader { .. })
                ),
                "a leader cut off from its group acknowledged a write: {answer:?}"
            );
            println!(
                "cut-off leader {old} refused a write after {:?}: {}",
                started.elapsed(),
                answer.unwrap_err()
            );
            let read = cluster.shards[&old].linearizable().await;
            assert!(read.is_err(), "a cut-off leader served a linearizable read");
            let started = Instant::now();
            loop {
                let l = cluster.leader(Duration::from_secs(10)).await;
                if l != old {
                    println!("node {l} leads after {:?}", started.elapsed());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        if round == 24 {
            cluster.network().heal();
        }
        if round == 28 {
            // A member restarts from its files.
            let follower = *cluster
                .shards
                .keys()
                .find(|&&id| {
                    Some(id) != cluster.shards[&id].raft().metrics().borrow().current_leader
                })
                .unwrap();
            cluster.stop(follower).await;
            cluster.open(follower).await;
        }
        let batch = points(next..next + 50, &mut rng);
        next += 50;
        match cluster.upsert(&batch).await {
            Ok(_) => {
                live.extend(next - 50..next);
                // A linearizable read after the acknowledgement sees it.
                let leader = cluster.leader(Duration::from_secs(10)).await;
                if let Ok(c) = cluster.shards[&leader].linearizable().await {
                    linearizable_reads += 1;
                    assert!(
                        c.get(&PointId::Num(next - 1)).is_ok(),
                        "a linearizable read through node {leader} missed acknowledged point {}",
                        next - 1
                    );
                }
            }
            Err(e) => {
                refused += 1;
                println!("round {round}: not acknowledged: {e}");
            }
        }
        if round % 5 == 4 {
            let gone: Vec<u64> = live.iter().copied().step_by(11).take(5).collect();
            let ids: Vec<PointId> = gone.iter().map(|&n| PointId::Num(n)).collect();
            if cluster.delete(&ids).await.is_ok() {
                for n in gone {
                    live.remove(&n);
                    deleted.insert(n);
                }
            }
        }
    }
    cluster.network().set_faults(Faults::default());
    cluster.settle().await;
    // Writes refused may still have been applied (a majority had them after
    // all): those points count as live where they are. Only refused
    // batches can add points beyond the acknowledged ones.
    let held = cluster.shards.values().next().unwrap().collection().len();
    assert!(held >= live.len());
    if held != live.len() {
        assert!(
            refused > 0,
            "{held} points held, {} acknowledged, nothing refused",
            live.len()
        );
        // Count the extra points in: rebuild `live` from a replica, checked
        // to hold every acknowledged one.
        let c = cluster.shards.values().next().unwrap().collection();
        for n in 0..next {
            if !deleted.contains(&n) && c.get(&PointId::Num(n)).is_ok() {
                live.insert(n);
            }
        }
    }
    let queries: Vec<Vec<f32>> = (0..20)
        .map(|_| (0..DIMS).map(|_| rng.unit()).collect())
        .collect();
    cluster.check(&live, &deleted, &queries);
    let traffic = cluster.network().traffic();
    println!(
        "{} points acknowledged, {} deleted, {refused} writes refused, {linearizable_reads} linearizable reads; {} messages, {} lost",
        live.len(),
        deleted.len(),
        traffic.sent,
        traffic.lost
    );
    assert!(traffic.lost > 0, "the faults were injected");
    assert!(linearizable_reads > 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_far_behind_installs_a_snapshot_and_restarts_lose_nothing() {
    far_behind(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn over_http_a_replica_far_behind_installs_a_streamed_snapshot() {
    far_behind(true).await;
}

async fn far_behind(http: bool) {
    let seed = seed(0x5eed_05a9);
    let mut rng = Rng(seed | 1);
    // A snapshot every 20 entries, the log purged behind it: a replica
    // that missed them can only catch up by installing one.
    let mut cluster = Cluster::start(seed, Faults::default(), 20, http).await;
    let mut live = BTreeSet::new();
    let mut write = |range: std::ops::Range<u64>| {
        live.extend(range.clone());
        points(range, &mut rng)
    };
    let first = write(0..500);
    cluster.upsert(&first).await.unwrap();
    let leader = cluster.leader(Duration::from_secs(10)).await;
    let behind = *cluster.ids.iter().find(|&&id| id != leader).unwrap();
    cluster.stop(behind).await;
    for k in 0..60u64 {
        let batch = write(500 + k * 50..550 + k * 50);
        cluster.upsert(&batch).await.unwrap();
    }
    let leader_now = cluster.leader(Duration::from_secs(10)).await;
    let purged = cluster.shards[&leader_now].raft().metrics().borrow().purged;
    assert!(
        purged.map(|p| p.index).unwrap_or(0) > 5,
        "the leader purged its log behind a snapshot (purged through {purged:?})"
    );
    let started = Instant::now();
    cluster.open(behind).await;
    cluster.settle().await;
    println!(
        "node {behind} caught up {} points in {:?}",
        live.len(),
        started.elapsed()
    );
    let root = cluster.dir.path().join(format!("node-{behind}"));
    assert!(
        !root.join("data-0").exists() && root.join("CURRENT").exists(),
        "node {behind} replaced its collection by the snapshot's"
    );
    let snapshot = cluster.shards[&behind].raft().metrics().borrow().snapshot;
    assert!(
        snapshot.is_some(),
        "node {behind} holds the snapshot it installed"
    );
    let queries: Vec<Vec<f32>> = (0..20)
        .map(|_| (0..DIMS).map(|_| rng.unit()).collect())
        .collect();
    cluster.check(&live, &BTreeSet::new(), &queries);

    // Every member restarts from its files: manifest, then the log.
    for id in cluster.ids.clone() {
        cluster.stop(id).await;
    }
    for id in cluster.ids.clone() {
        cluster.open(id).await;
    }
    cluster.settle().await;
    cluster.check(&live, &BTreeSet::new(), &queries);
    // And keeps taking writes.
    let more = points(10_000..10_100, &mut Rng(seed));
    cluster.upsert(&more).await.unwrap();
    live.extend(10_000..10_100);
    cluster.settle().await;
    cluster.check(&live, &BTreeSet::new(), &queries);
}
