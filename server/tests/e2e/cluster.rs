//! Three `trawl serve` processes on loopback formed into a cluster by
//! `--node-id`, `--cluster-addr` and `--peers`: `GET /cluster` on every node
//! shows the three up and one metadata leader; after a `kill -9` of that
//! leader the other two elect another and show the node down; restarted on
//! its data, it is up again. Flags given in part are refused at start.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Server;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn status(server: &Server) -> Value {
    let (code, body) = server.get_json("/cluster").await;
    assert_eq!(code, 200, "{body}");
    body
}

/// Polls `GET /cluster` on `servers` until `done` holds for every answer.
async fn until(what: &str, servers: &[&Server], done: impl Fn(&Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let mut all = true;
        let mut last = Value::Null;
        for server in servers {
            last = status(server).await;
            all &= done(&last);
        }
        if all {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: not within 30 s; last answer {last}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn up(status: &Value, id: u64) -> bool {
    status["nodes"]
        .as_array()
        .is_some_and(|nodes| nodes.iter().any(|n| n["id"] == id && n["up"] == true))
}

#[tokio::test]
async fn three_serve_processes_form_a_cluster_and_see_a_node_go_and_come_back() {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}=127.0.0.1:{p}", i + 1))
        .collect::<Vec<_>>()
        .join(",");
    let flags = |i: usize| {
        vec![
            "--node-id".to_string(),
            (i + 1).to_string(),
            "--cluster-addr".to_string(),
            format!("127.0.0.1:{}", ports[i]),
            "--peers".to_string(),
            peers.clone(),
        ]
    };
    let mut servers = Vec::new();
    for i in 0..3 {
        let f = flags(i);
        let args: Vec<&str> = f.iter().map(String::as_str).collect();
        servers.push(Server::start(&args).await);
    }
    let all: Vec<&Server> = servers.iter().collect();
    let formed = until("three nodes up with one leader", &all, |s| {
        s["mode"] == "cluster"
            && (1..=3).all(|id| up(s, id))
            && s["metadata_leader"].is_u64()
            && s["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["api_addr"].is_string())
    })
    .await;
    let leaders: Vec<Value> = {
        let mut v = Vec::new();
        for s in &all {
            v.push(status(s).await["metadata_leader"].clone());
        }
        v
    };
    assert!(
        leaders.windows(2).all(|w| w[0] == w[1]),
        "one leader: {leaders:?}"
    );
    let leader = leaders[0].as_u64().unwrap();
    println!("formed in {formed:?}, node {leader} leads the metadata group");
    for (i, s) in servers.iter().enumerate() {
        let answer = status(s).await;
        assert_eq!(answer["node_id"], (i + 1) as u64);
        let me = answer["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == (i + 1) as u64)
            .unwrap()
            .clone();
        assert_eq!(
            me["api_addr"].as_str().unwrap(),
            s.url.trim_start_matches("http://")
        );
        assert_eq!(
            me["cluster_addr"].as_str().unwrap(),
            format!("127.0.0.1:{}", ports[i])
        );
    }

    // kill -9 of the leader: the other two elect one of themselves.
    let gone = leader as usize - 1;
    servers[gone].kill9();
    let rest: Vec<&Server> = servers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != gone)
        .map(|(_, s)| s)
        .collect();
    let elected = until("a new leader, the killed node down", &rest, |s| {
        s["metadata_leader"].is_u64() && s["metadata_leader"] != leader && !up(s, leader)
    })
    .await;
    println!(
        "node {leader} killed: the others elected a leader and saw it down within {elected:?}"
    );

    // Back on its data: up again, and it follows the new leader.
    let f = flags(gone);
    let args: Vec<&str> = f.iter().map(String::as_str).collect();
    let data = Arc::clone(&servers[gone].data);
    servers[gone] = Server::start_on(data, &args).await;
    let all: Vec<&Server> = servers.iter().collect();
    let back = until("the node back and following", &all, |s| {
        (1..=3).all(|id| up(s, id))
            && s["metadata_leader"].is_u64()
            && s["metadata_leader"] != leader
    })
    .await;
    println!("node {leader} restarted: back in the cluster within {back:?}");
}

#[test]
fn cluster_flags_in_part_are_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["serve", "--addr", "127.0.0.1:0", "--node-id", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("go together"), "{stderr}");
}
