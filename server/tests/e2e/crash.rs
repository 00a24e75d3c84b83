//! Durability: `kill -9` in the middle of a stream of upserts loses nothing that was acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::support::Server;

#[tokio::test]
async fn acknowledged_upserts_survive_kill_9() {
    let mut server = Server::start(&[]).await;
    let (status, _) = server
        .put("/collections/log", &json!({"vector": {"dims": 8}}))
        .await;
    assert_eq!(status, 200);

    // Four writers upsert small batches as fast as they can; each records what was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (http, url, stop) = (
            server.http.clone(),
            server.url("/collections/log/points"),
            Arc::clone(&stop),
        );
        writers.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for batch in 0..10_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let ids: Vec<u64> = (0..5).map(|j| w * 1_000_000 + batch * 5 + j).collect();
                let points: Vec<_> = ids
                    .iter()
                    .map(|id| json!({"id": id, "vector": [1, 2, 3, 4, 5, 6, 7, (*id % 97) as f32 + 1.0], "payload": {"writer": w, "n": id}}))
                    .collect();
                match http.put(&url).json(&json!({"points": points})).send().await {
                    Ok(r) if r.status() == 200 => acked.extend(ids),
                    _ => break,
                }
            }
            acked
        }));
    }
    // Let them run, then kill the server mid-stream.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in writers {
        acked.extend(w.await.unwrap());
    }
    println!("{} upserts acknowledged before kill -9", acked.len());
    assert!(acked.len() >= 50, "the writers got going");

    let data = Arc::clone(&server.data);
    drop(server);
    let server = Server::start_on(data, &[]).await;
    let (_, info) = server.get_json("/collections/log").await;
    assert!(
        info["points"].as_u64().unwrap() >= acked.len() as u64,
        "{info}"
    );
    for id in &acked {
        let (status, body) = server
            .get_json(&format!("/collections/log/points/{id}"))
            .await;
        assert_eq!(status, 200, "acknowledged point {id} lost: {body}");
        assert_eq!(body["payload"]["n"], *id, "payload of {id}");
    }
}

/// `kill -9` while segments are sealed and merged (tiny segments, so the
/// sealer and the optimiser run all the time) and checkpoints are taken:
/// acknowledged upserts and deletes survive.
#[tokio::test]
async fn acknowledged_writes_survive_kill_9_during_sealing_and_merging() {
    let mut server = Server::start(&["--segment-points", "150"]).await;
    let (status, _) = server
        .put("/collections/seg", &json!({"vector": {"dims": 8}}))
        .await;
    assert_eq!(status, 200);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..3u64 {
        let (http, base, stop) = (
            server.http.clone(),
            server.url("/collections/seg"),
            Arc::clone(&stop),
        );
        writers.push(tokio::spawn(async move {
            // Acknowledged upserts and deletes; a delete cut by the kill
            // may or may not have been applied.
            let (mut upserted, mut deleted, mut maybe) = (Vec::new(), Vec::new(), None);
            for batch in 0..100_000u64 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let ids: Vec<u64> = (0..10).map(|j| w * 10_000_000 + batch * 10 + j).collect();
                let points: Vec<_> = ids
                    .iter()
                    .map(|id| json!({"id": id, "vector": [1, 2, 3, 4, 5, 6, 7, (*id % 89) as f32 + 1.0], "payload": {"n": id}}))
                    .collect();
                match http
                    .put(format!("{base}/points"))
                    .json(&json!({"points": points}))
                    .send()
                    .await
                {
                    Ok(r) if r.status() == 200 => upserted.extend(ids.iter().copied()),
                    _ => break,
                }
                // Every third batch, delete a point of an earlier one: sealed
                // segments pass the vacuum ratio and are rewritten.
                if batch % 3 == 2 {
                    let gone = w * 10_000_000 + (batch - 2) * 10 + batch % 7;
                    match http
                        .post(format!("{base}/points/delete"))
                        .json(&json!({"ids": [gone]}))
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => deleted.push(gone),
                        _ => {
                            maybe = Some(gone);
                            break;
                        }
                    }
                }
                if w == 0 && batch % 50 == 49 {
                    let _ = http.post(format!("{base}/snapshots")).send().await;
                }
            }
            (upserted, deleted, maybe)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(4_000)).await;
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    let (mut upserted, mut deleted, mut maybe) = (Vec::new(), Vec::new(), Vec::new());
    for w in writers {
        let (u, d, m) = w.await.unwrap();
        upserted.extend(u);
        deleted.extend(d);
        maybe.extend(m);
    }
    println!(
        "{} upserts and {} deletes acknowledged before kill -9",
        upserted.len(),
        deleted.len()
    );
    assert!(upserted.len() >= 600, "the writers passed several segments");

    let data = Arc::clone(&server.data);
    drop(server);
    let server = Server::start_on(data, &["--segment-points", "150"]).await;
    let deleted: std::collections::HashSet<u64> = deleted.into_iter().collect();
    for id in &upserted {
        let (status, body) = server
            .get_json(&format!("/collections/seg/points/{id}"))
            .await;
        if deleted.contains(id) {
            assert_eq!(status, 404, "acknowledged delete of {id} undone: {body}");
        } else if maybe.contains(id) {
            assert!(status == 200 || status == 404, "{id}: {status} {body}");
        } else {
            assert_eq!(status, 200, "acknowledged point {id} lost: {body}");
            assert_eq!(body["payload"]["n"], *id, "payload of {id}");
        }
    }
    let (_, info) = server.get_json("/collections/seg").await;
    println!("after restart: {info}");
}
