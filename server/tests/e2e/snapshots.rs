//! Snapshots over HTTP: take one while writing, list it, download the one
//! file, restore it on another server and over the collection itself, and
//! refuse damaged, truncated, foreign and oversized uploads without
//! changing anything.

use serde_json::{Value, json};

use crate::support::{Server, TempDir, assert_error};

const DIMS: usize = 8;

fn vector(i: u64) -> Vec<f32> {
    (0..DIMS)
        .map(|j| ((i as usize * 29 + j * 13) % 17) as f32 - 8.0)
        .collect()
}

async fn upsert(server: &Server, collection: &str, ids: std::ops::Range<u64>) {
    let points: Vec<Value> = ids
        .map(|id| json!({"id": id, "vector": vector(id), "payload": {"n": id, "tag": format!("t{}", id % 5)}}))
        .collect();
    let (status, body) = server
        .put(
            &format!("/collections/{collection}/points"),
            &json!({ "points": points }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn points(server: &Server, collection: &str) -> u64 {
    let (status, body) = server.get_json(&format!("/collections/{collection}")).await;
    assert_eq!(status, 200, "{body}");
    body["points"].as_u64().expect("points")
}

async fn search(server: &Server, collection: &str) -> Value {
    let (status, body) = server
        .post(
            &format!("/collections/{collection}/search"),
            &json!({"vector": vector(12_345), "limit": 10, "with_payload": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["results"].clone()
}

async fn put_bytes(server: &Server, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let response = server
        .http
        .put(server.url(path))
        .header("content-type", "application/x-tar")
        .body(bytes)
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_downloaded_snapshot_restores_elsewhere_and_over_the_collection() {
    let server = Server::start(&[]).await;
    let (status, body) = server
        .put(
            "/collections/docs",
            &json!({"vector": {"dims": DIMS, "metric": "cosine", "layout": "binary:2"},
                    "payload_indexes": {"tag": "keyword"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    upsert(&server, "docs", 0..600).await;
    let before = search(&server, "docs").await;
    let (status, taken) = server.post("/collections/docs/snapshots", &json!({})).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["points"], 600);
    let name = taken["name"].as_str().expect("name").to_string();
    assert!(name.starts_with("docs-"), "{name}");
    // Written after the snapshot: not in it.
    upsert(&server, "docs", 600..700).await;

    let (status, list) = server.get_json("/collections/docs/snapshots").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["snapshots"].as_array().unwrap().len(), 1);
    assert_eq!(list["snapshots"][0]["name"], name.as_str());
    assert_eq!(list["snapshots"][0]["points"], 600);

    let response = server
        .http
        .get(server.url(&format!("/collections/docs/snapshots/{name}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-tar");
    let archive = response.bytes().await.unwrap().to_vec();
    // A plain tar archive: the system's tar lists it.
    let dir = TempDir::new("snapshot-file");
    let file = dir.0.join("docs.tar");
    std::fs::write(&file, &archive).unwrap();
    let listed = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&file)
        .output()
        .expect("tar");
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let members: Vec<&str> = listed.lines().collect();
    assert_eq!(members.first(), Some(&"snapshot.json"), "{listed}");
    assert_eq!(members.last(), Some(&"checksums.json"), "{listed}");
    assert!(members.contains(&"wal.log") && members.contains(&"manifest.bin"));

    // On another server, under another name.
    let other = Server::start(&[]).await;
    let (status, body) = put_bytes(
        &other,
        "/collections/copy/snapshots/restore",
        archive.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["collection"], "copy");
    assert_eq!(body["source"], "docs");
    assert_eq!(body["points"], 600);
    assert_eq!(points(&other, "copy").await, 600);
    assert_eq!(search(&other, "copy").await, before);
    let (status, body) = other.get_json("/collections/copy/points/599").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["payload"], json!({"n": 599, "tag": "t4"}));
    let (status, body) = other.get_json("/collections/copy/points/650").await;
    assert_error(status, &body, 404, "point_not_found");
    // The payload index came along.
    let (status, body) = other
        .post(
            "/collections/copy/points/count",
            &json!({"filter": {"must": [{"key": "tag", "match": {"value": "t1"}}]}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["count"], 120);

    // Over the collection itself: back to the snapshot, and it takes writes.
    let (status, body) = put_bytes(
        &server,
        "/collections/docs/snapshots/restore",
        archive.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(points(&server, "docs").await, 600);
    assert_eq!(search(&server, "docs").await, before);
    upsert(&server, "docs", 1_000..1_010).await;
    assert_eq!(points(&server, "docs").await, 610);

    // Damaged uploads are refused and change nothing.
    let mut flipped = archive.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;
    let half = archive[..archive.len() / 2].to_vec();
    let no_list = archive[..archive.len() - 2_048].to_vec();
    for (what, bytes) in [
        ("a flipped byte", flipped),
        ("half the file", half),
        ("no checksum list", no_list),
        ("not an archive", b"{\"points\": []}".to_vec()),
        ("nothing", Vec::new()),
    ] {
        let (status, body) = put_bytes(
            &server,
            "/collections/docs/snapshots/restore",
            bytes.clone(),
        )
        .await;
        let message = assert_error(status, &body, 400, "invalid_snapshot");
        assert!(message.contains("nothing was changed"), "{what}: {message}");
        let (status, body) = put_bytes(&other, "/collections/fresh/snapshots/restore", bytes).await;
        assert_error(status, &body, 400, "invalid_snapshot");
    }
    assert_eq!(points(&server, "docs").await, 610);
    let (status, body) = other.get_json("/collections/fresh").await;
    assert_error(status, &body, 404, "collection_not_found");

    // Delete, and what is not there.
    let path = format!("/collections/docs/snapshots/{name}");
    let (status, body) = server.delete_path(&path).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.delete_path(&path).await;
    assert_error(status, &body, 404, "snapshot_not_found");
    let (status, body) = server.get_json(&path).await;
    assert_error(status, &body, 404, "snapshot_not_found");
    let (status, body) = server
        .get_json("/collections/docs/snapshots/..%2Fdocs")
        .await;
    assert!(status == 404 || status == 422, "{status} {body}");
    let (status, body) = server.get_json("/collections/nope/snapshots").await;
    assert_error(status, &body, 404, "collection_not_found");

    // Both servers still serve, and the restored copy survives a restart.
    let data = other.data.clone();
    drop(other);
    let other = Server::start_on(data, &[]).await;
    assert_eq!(points(&other, "copy").await, 600);
    assert_eq!(search(&other, "copy").await, before);
}

#[tokio::test]
async fn an_upload_past_the_limit_is_refused_with_413() {
    let server = Server::start(&["--max-snapshot-upload-bytes", "4096"]).await;
    let (status, _) = server
        .put("/collections/docs", &json!({"vector": {"dims": DIMS}}))
        .await;
    assert_eq!(status, 200);
    upsert(&server, "docs", 0..50).await;
    let (status, body) = put_bytes(
        &server,
        "/collections/docs/snapshots/restore",
        vec![0u8; 100_000],
    )
    .await;
    assert_error(status, &body, 413, "payload_too_large");
    assert_eq!(points(&server, "docs").await, 50);
}

#[tokio::test]
async fn a_restore_killed_mid_upload_leaves_the_collection_as_it_was() {
    let mut server = Server::start(&[]).await;
    let (status, _) = server
        .put("/collections/docs", &json!({"vector": {"dims": DIMS}}))
        .await;
    assert_eq!(status, 200);
    upsert(&server, "docs", 0..400).await;
    let (status, taken) = server.post("/collections/docs/snapshots", &json!({})).await;
    assert_eq!(status, 200, "{taken}");
    let name = taken["name"].as_str().unwrap().to_string();
    let archive = server
        .http
        .get(server.url(&format!("/collections/docs/snapshots/{name}")))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    upsert(&server, "docs", 400..450).await;

    // Half the archive, then the upload stalls; the server dies meanwhile.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(archive[..archive.len() / 2].to_vec()))
        .await
        .unwrap();
    let body = reqwest::Body::wrap_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let upload = server
        .http
        .put(server.url("/collections/docs/snapshots/restore"))
        .body(body)
        .send();
    let upload = tokio::spawn(upload);
    // Until the staging directory holds what was sent.
    let collections = server.data.0.join("collections");
    let staged = || {
        std::fs::read_dir(&collections)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".restoring-"))
    };
    for _ in 0..200 {
        if staged() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(staged(), "the upload never reached the staging directory");
    server.kill9();
    let _ = upload.await;
    drop(tx);

    let data = server.data.clone();
    drop(server);
    let server = Server::start_on(data, &[]).await;
    assert_eq!(points(&server, "docs").await, 450);
    let left: Vec<String> = std::fs::read_dir(server.data.0.join("collections"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["docs"]);
    // The same archive, whole, restores.
    let (status, body) = put_bytes(
        &server,
        "/collections/docs/snapshots/restore",
        archive.to_vec(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(points(&server, "docs").await, 400);
}
