//! Three nodes on loopback ports, each its own metadata member and shard
//! replicas, talking HTTP: a collection of 2 shards × 3 replicas takes
//! writes through any node, answers searches through any node exactly as
//! one index over all points would, keeps taking writes when the node
//! leading a shard stops, and the stopped node catches up when it returns.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openraft::SnapshotPolicy;
use serde_json::json;
use trawl_cluster::node::{ShardQuery, group_of};
use trawl_cluster::{Node, NodeOptions};
use trawl_index::{Payload, PointId, PointWrite, SealPolicy};

mod common;

use common::{DIMS, config};

fn vector(i: u64) -> Vec<f32> {
    common::vector(i, DIMS)
}

fn points(ids: std::ops::Range<u64>) -> Vec<PointWrite> {
    ids.map(|i| {
        let mut payload = Payload::new();
        payload.insert("n".into(), json!(i));
        PointWrite {
            id: PointId::Num(i),
            vector: vector(i),
            vectors: Default::default(),
            sparse: Default::default(),
            payload: Some(payload),
        }
    })
    .collect()
}

fn free_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

fn options(id: u64, dir: &std::path::Path, peers: &BTreeMap<u64, String>) -> NodeOptions {
    let raft = openraft::Config {
        cluster_name: "test".into(),
        heartbeat_interval: 100,
        election_timeout_min: 400,
        election_timeout_max: 800,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(200),
        ..Default::default()
    };
    NodeOptions {
        id,
        dir: dir.join(format!("node-{id}")),
        cluster_addr: peers[&id].clone(),
        api_addr: None,
        peers: peers.clone(),
        raft: Arc::new(raft.validate().unwrap()),
        timeout: Duration::from_secs(5),
        policy: SealPolicy {
            points: 300,
            ..SealPolicy::default()
        },
    }
}

async fn eventually(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The top 10 of `live` by cosine, as one exact index over them answers.
fn exact_top(live: &[u64], q: &[f32]) -> Vec<PointId> {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let mut scored: Vec<(f32, u64)> = live
        .iter()
        .map(|&i| {
            let v = vector(i);
            let dot: f32 = v.iter().zip(q).map(|(a, b)| a * b).sum();
            (dot / (norm(&v) * norm(q)), i)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored
        .iter()
        .take(10)
        .map(|&(_, i)| PointId::Num(i))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn any_node_serves_a_sharded_replicated_collection_through_a_node_loss() {
    let dir = tempfile::tempdir().unwrap();
    let peers: BTreeMap<u64, String> = (1..=3).map(|id| (id, free_port())).collect();
    let mut nodes = BTreeMap::new();
    for id in 1..=3 {
        let node = Node::start(options(id, dir.path(), &peers)).await.unwrap();
        nodes.insert(id, node);
    }
    eventually(
        "every node announced",
        Duration::from_secs(15),
        async || nodes.values().all(|n| n.metadata().nodes.len() == 3),
    )
    .await;

    let placement = nodes[&2]
        .create_collection("docs", config(), 2, None)
        .await
        .unwrap();
    assert_eq!(placement.shards.len(), 2);
    assert!(
        placement.shards.iter().all(|r| r.len() == 3),
        "replication defaults to 3 of 3 nodes"
    );
    let again = nodes[&1].create_collection("docs", config(), 2, None).await;
    assert!(
        again.is_err(),
        "a second collection of the same name is refused"
    );
    eventually("every replica open", Duration::from_secs(15), async || {
        nodes
            .values()
            .all(|n| (0..2).all(|s| n.shard(&group_of("docs", s)).is_some()))
    })
    .await;

    // Writes through every node.
    let started = Instant::now();
    for (k, batch) in (0..1_200u64).collect::<Vec<_>>().chunks(100).enumerate() {
        let node = &nodes[&(k as u64 % 3 + 1)];
        node.upsert("docs", points(batch[0]..batch[0] + 100))
            .await
            .unwrap();
    }
    println!("1,200 points written in {:?}", started.elapsed());
    let gone: Vec<PointId> = (0..50).map(PointId::Num).collect();
    nodes[&1].delete("docs", gone).await.unwrap();
    let mut live: Vec<u64> = (50..1_200).collect();
    for node in nodes.values() {
        // Through the leaders: every acknowledged write counted at once.
        assert_eq!(node.count("docs", true).await.unwrap(), live.len());
    }
    // Any replica: each has applied them once its leader told it they
    // are committed (the next heartbeat at the latest).
    for node in nodes.values() {
        eventually(
            "replicas applied the writes",
            Duration::from_secs(5),
            async || node.count("docs", false).await.unwrap() == live.len(),
        )
        .await;
    }
    // Both shards hold points: the hash splits them.
    let held: Vec<usize> = (0..2)
        .map(|s| {
            nodes[&1]
                .shard(&group_of("docs", s))
                .unwrap()
                .collection()
                .len()
        })
        .collect();
    assert!(held.iter().all(|&n| n > 400), "shard sizes {held:?}");

    let query = |v: Vec<f32>, linearizable: bool| ShardQuery {
        vector: v,
        using: String::new(),
        limit: 10,
        exact: true,
        ef: None,
        with_payload: true,
        linearizable,
    };
    for (i, node) in &nodes {
        for q in 0..10u64 {
            // Linearizable for half the queries, any replica for the rest
            // (all have applied every write by now).
            let v = vector(10_000 + q);
            let hits = node
                .search("docs", query(v.clone(), q % 2 == 0))
                .await
                .unwrap();
            let ids: Vec<PointId> = hits.iter().map(|h| h.id.clone()).collect();
            assert_eq!(ids, exact_top(&live, &v), "node {i}, query {q}");
        }
    }

    // The node leading shard 0 stops; writes go on through the others.
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
        .upsert("docs", points(2_000..2_100))
        .await
        .unwrap();
    println!(
        "node {leader} (shard 0's leader) stopped: the next write acknowledged after {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    live.extend(2_000..2_100);
    let v = vector(2_099);
    let hits = nodes[&writer]
        .search("docs", query(v.clone(), true))
        .await
        .unwrap();
    assert_eq!(
        hits[0].id,
        PointId::Num(2_099),
        "a linearizable read sees the last write"
    );
    for node in nodes.values() {
        assert_eq!(node.count("docs", true).await.unwrap(), live.len());
    }

    // It comes back and catches up.
    let node = Node::start(options(leader, dir.path(), &peers))
        .await
        .unwrap();
    nodes.insert(leader, node);
    eventually(
        "the returning node caught up",
        Duration::from_secs(20),
        async || {
            let n = &nodes[&leader];
            (0..2).all(|s| n.shard(&group_of("docs", s)).is_some())
                && (0..2)
                    .map(|s| n.shard(&group_of("docs", s)).unwrap().collection().len())
                    .sum::<usize>()
                    == live.len()
        },
    )
    .await;
    for (i, node) in &nodes {
        let v = vector(20_000);
        let ids: Vec<PointId> = node
            .search("docs", query(v.clone(), false))
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        assert_eq!(ids, exact_top(&live, &v), "node {i} after the restart");
    }
    for node in nodes.values() {
        node.shutdown().await;
    }
}
