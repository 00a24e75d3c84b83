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
