//! What replication costs, measured in one process on this machine: three
//! cluster nodes on loopback HTTP (each its own metadata member and shard
//! replicas, fsyncing its own logs) against one single-node collection, on
//! the same random 384-d points. The nodes share the machine's cores with
//! each other: the point is the overhead of replication, not a speed-up.
//!
//! `cargo run --release -p trawl-cluster --example replication -- [DIR] [N] [BEHIND]`
//! (DIR default `bench-out/cluster`, N points written, default 50,000;
//! BEHIND points written while one replica is down, default 100,000).
//! Prints a table and writes `DIR/replication.json`.
//!
//! Rows: upsert throughput (batches of 100 through one node, each
//! acknowledged before the next) and single-client search q/s for the
//! single collection, 1 shard × 3 replicas and 2 shards × 3 replicas; the
//! time from stopping a shard's leader to the next acknowledged write
//! (failover); the time a replica that missed BEHIND points takes to catch
//! up once it is back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trawl_cluster::node::{ShardQuery, group_of};
use trawl_cluster::{Node, NodeOptions, RaftConfig, SnapshotPolicy};
use trawl_index::filter::FilterLimits;
use trawl_index::storage::WalOptions;
use trawl_index::{Collection, CollectionConfig, PointId, PointWrite, SealPolicy, SearchQuery};

const DIMS: usize = 384;
const BATCH: usize = 100;
const QUERIES: usize = 500;

#[path = "../tests/common/mod.rs"]
mod common;

fn config() -> CollectionConfig {
    common::config_of(DIMS)
}

fn vector(i: u64) -> Vec<f32> {
    common::vector(i, DIMS)
}

fn batch(start: u64, n: usize) -> Vec<PointWrite> {
    (start..start + n as u64)
        .map(|i| PointWrite::new(PointId::Num(i), vector(i), None))
        .collect()
}

fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

struct Row {
    what: String,
    value: f64,
    unit: &'static str,
    ratio: Option<f64>,
}

async fn start_nodes(dir: &Path, tag: &str) -> (BTreeMap<u64, Arc<Node>>, BTreeMap<u64, String>) {
    let peers: BTreeMap<u64, String> = (1..=3).map(|id| (id, free_port())).collect();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        nodes.insert(id, start_node(dir, tag, id, &peers).await);
    }
    let started = Instant::now();
    while nodes.values().any(|n| n.metadata().nodes.len() < 3) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the nodes did not form a cluster"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (nodes, peers)
}

async fn start_node(dir: &Path, tag: &str, id: u64, peers: &BTreeMap<u64, String>) -> Arc<Node> {
    let raft = RaftConfig {
        cluster_name: "bench".into(),
        heartbeat_interval: 200,
        election_timeout_min: 1_000,
        election_timeout_max: 2_000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(10_000),
        ..Default::default()
    };
    Node::start(NodeOptions {
        id,
        dir: dir.join(tag).join(format!("node-{id}")),
        cluster_addr: peers[&id].clone(),
        api_addr: None,
        peers: peers.clone(),
        raft: Arc::new(raft.validate().unwrap()),
        timeout: Duration::from_secs(30),
        policy: SealPolicy::default(),
    })
    .await
    .unwrap()
}

async fn wait_replicas(nodes: &BTreeMap<u64, Arc<Node>>, collection: &str, shards: usize) {
    let started = Instant::now();
    while !nodes
        .values()
        .all(|n| (0..shards).all(|s| n.shard(&group_of(collection, s)).is_some()))
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "replicas did not open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn query(q: u64) -> ShardQuery {
    ShardQuery {
        vector: vector(1_000_000_000 + q),
        using: String::new(),
        limit: 10,
        exact: false,
        ef: None,
        with_payload: false,
        linearizable: false,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "bench-out/cluster".into()));
    let n: usize = args.next().map(|a| a.parse().unwrap()).unwrap_or(50_000);
    let behind: usize = args.next().map(|a| a.parse().unwrap()).unwrap_or(100_000);
    std::fs::create_dir_all(&out).unwrap();
    let scratch = tempfile::tempdir_in(&out).unwrap();
    let mut rows = Vec::new();

    // One collection of a single node.
    let single = {
        let dir = scratch.path().join("single");
        let c =
            Arc::new(Collection::create("single", &dir, config(), WalOptions::default()).unwrap());
        let started = Instant::now();
        for k in (0..n).step_by(BATCH) {
            let c = Arc::clone(&c);
            let points = batch(k as u64, BATCH.min(n - k));
            tokio::task::spawn_blocking(move || c.upsert(points).unwrap())
                .await
                .unwrap();
        }
        let per_s = n as f64 / started.elapsed().as_secs_f64();
        c.wait_indexed();
        let started = Instant::now();
        for q in 0..QUERIES as u64 {
            let query = query(q);
            let c = Arc::clone(&c);
            tokio::task::spawn_blocking(move || {
                c.search(&SearchQuery {
                    using: "",
                    vector: &query.vector,
                    filter: None,
                    filter_limits: FilterLimits::default(),
                    limit: 10,
                    ef: None,
                    exact: false,
                    oversample: None,
                    rerank: true,
                    with_payload: false,
                    with_vector: false,
                })
                .unwrap()
            })
            .await
            .unwrap();
        }
        let qps = QUERIES as f64 / started.elapsed().as_secs_f64();
        c.close();
        (per_s, qps)
    };
    rows.push(Row {
        what: "upsert, single node".into(),
        value: single.0,
        unit: "points/s",
        ratio: Some(1.0),
    });
    rows.push(Row {
        what: "search, single node".into(),
        value: single.1,
        unit: "q/s",
        ratio: Some(1.0),
    });

    for shards in [1usize, 2] {
        let tag = format!("cluster-{shards}");
        let (mut nodes, peers) = start_nodes(scratch.path(), &tag).await;
        nodes[&1]
            .create_collection("docs", config(), shards, Some(3))
            .await
            .unwrap();
        wait_replicas(&nodes, "docs", shards).await;
        let started = Instant::now();
        for k in (0..n).step_by(BATCH) {
            nodes[&1]
                .upsert("docs", batch(k as u64, BATCH.min(n - k)))
                .await
                .unwrap();
        }
        let per_s = n as f64 / started.elapsed().as_secs_f64();
        for node in nodes.values() {
            for s in 0..shards {
                let c = node.shard(&group_of("docs", s)).unwrap().collection();
                tokio::task::spawn_blocking(move || c.wait_indexed())
                    .await
                    .unwrap();
            }
        }
        let started = Instant::now();
        for q in 0..QUERIES as u64 {
            nodes[&1].search("docs", query(q)).await.unwrap();
        }
        let qps = QUERIES as f64 / started.elapsed().as_secs_f64();
        rows.push(Row {
            what: format!("upsert, 3 nodes, {shards} shard(s) x 3 replicas"),
            value: per_s,
            unit: "points/s",
            ratio: Some(per_s / single.0),
        });
        rows.push(Row {
            what: format!("search, 3 nodes, {shards} shard(s) x 3 replicas"),
            value: qps,
            unit: "q/s",
            ratio: Some(qps / single.1),
        });
        if shards == 2 {
            // Failover: the leader of shard 0 stops; the next write through
            // another node waits for an election.
            let leader = nodes[&1]
                .shard(&group_of("docs", 0))
                .unwrap()
                .raft()
                .metrics()
                .borrow()
                .current_leader
                .unwrap();
            let stopped = nodes.remove(&leader).unwrap();
            stopped.shutdown().await;
            drop(stopped);
            let writer = *nodes.keys().next().unwrap();
            let started = Instant::now();
            nodes[&writer]
                .upsert("docs", batch(n as u64, BATCH))
                .await
                .unwrap();
            rows.push(Row {
                what: "failover: shard leader stopped -> next write acknowledged".into(),
                value: started.elapsed().as_secs_f64(),
                unit: "s",
                ratio: None,
            });
            // Catch-up: BEHIND more points while it is down, then back.
            let base = n as u64 + BATCH as u64;
            for k in (0..behind).step_by(BATCH) {
                nodes[&writer]
                    .upsert("docs", batch(base + k as u64, BATCH.min(behind - k)))
                    .await
                    .unwrap();
            }
            let target = nodes[&writer].count("docs", true).await.unwrap();
            let started = Instant::now();
            let node = start_node(scratch.path(), &tag, leader, &peers).await;
            loop {
                let held: usize = (0..shards)
                    .map(|s| {
                        node.shard(&group_of("docs", s))
                            .map(|r| r.collection().len())
                            .unwrap_or(0)
                    })
                    .sum();
                if held == target {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(600),
                    "no catch-up in 10 minutes"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            rows.push(Row {
                what: format!("catch-up of a replica {behind} points behind"),
                value: started.elapsed().as_secs_f64(),
                unit: "s",
                ratio: None,
            });
            nodes.insert(leader, node);
        }
        for node in nodes.values() {
            node.shutdown().await;
        }
    }

    println!(
        "{n} points of {DIMS} dims, batches of {BATCH}; {QUERIES} searches (top 10, graph), one client"
    );
    println!(
        "{:<60} {:>12} {:<9} {:>8}",
        "measure", "value", "unit", "ratio"
    );
    for r in &rows {
        let ratio = r.ratio.map(|x| format!("{x:.2}x")).unwrap_or_default();
        println!(
            "{:<60} {:>12.2} {:<9} {:>8}",
            r.what, r.value, r.unit, ratio
        );
    }
    let json = serde_json::json!({
        "points": n, "dims": DIMS, "batch": BATCH, "queries": QUERIES, "behind": behind,
        "rows": rows.iter().map(|r| serde_json::json!({
            "measure": r.what, "value": r.value, "unit": r.unit, "ratio_to_single": r.ratio,
        })).collect::<Vec<_>>(),
    });
    let path = out.join("replication.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    println!("wrote {}", path.display());
}
