//! Storage faults through the real binary: a damaged collection is refused on
//! its own while the rest of the server serves, and a full disk answers 507
//! and lets writes resume, without a restart, once space returns; the
//! allocator's background purge runs and the optimiser reports its work.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::support::{Server, TempDir, assert_error};

fn points(ids: std::ops::Range<u64>, dims: usize, payload: &str) -> Value {
    let points: Vec<Value> = ids
        .map(|id| {
            let vector: Vec<f32> = (0..dims)
                .map(|j| ((id as usize * 31 + j * 7) % 13) as f32 - 6.0 + 0.5)
                .collect();
            json!({"id": id, "vector": vector, "payload": {"n": id, "blob": payload}})
        })
        .collect();
    json!({ "points": points })
}

async fn search(server: &Server, collection: &str, dims: usize) -> (u16, Value) {
    let vector = vec![0.25f32; dims];
    server
        .post(
            &format!("/collections/{collection}/search"),
            &json!({"vector": vector, "limit": 5}),
        )
        .await
}

#[tokio::test]
async fn a_damaged_collection_is_refused_on_its_own() {
    let mut server = Server::start(&[]).await;
    for name in ["good", "bad"] {
        let (status, _) = server
            .put(
                &format!("/collections/{name}"),
                &json!({"vector": {"dims": 8}}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, _) = server
        .put("/collections/good/points", &points(0..100, 8, "g"))
        .await;
    assert_eq!(status, 200);
    // Three records in bad's log, so that damage to the second has an intact one after it.
    for batch in 0..3u64 {
        let (status, _) = server
            .put(
                "/collections/bad/points",
                &points(batch * 100..batch * 100 + 100, 8, "b"),
            )
            .await;
        assert_eq!(status, 200);
    }
    let data = Arc::clone(&server.data);
    server.kill9();
    drop(server);

    let log = data.0.join("collections/bad/wal.log");
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&log, &bytes).unwrap();

    let server = Server::start_on(Arc::clone(&data), &[]).await;
    let (status, list) = server.get_json("/collections").await;
    assert_eq!(status, 200);
    let entries = list["collections"].as_array().unwrap();
    let bad = entries.iter().find(|c| c["name"] == "bad").unwrap();
    assert_eq!(bad["status"], "damaged", "{list}");
    let error = bad["error"].as_str().unwrap();
    assert!(
        error.contains("wal.log") && error.contains("to recover"),
        "{error}"
    );
    let good = entries.iter().find(|c| c["name"] == "good").unwrap();
    assert!(good.get("status").is_none(), "{good}");
    assert_eq!(good["points"], 100);

    // The damaged one answers 503 with its name; the other one serves.
    let (status, body) = search(&server, "bad", 8).await;
    assert_error(status, &body, 503, "collection_damaged");
    assert_eq!(body["error"]["details"]["collection"], "bad");
    let (status, body) = server
        .put("/collections/bad/points", &points(900..901, 8, "b"))
        .await;
    assert_error(status, &body, 503, "collection_damaged");
    let (status, body) = search(&server, "good", 8).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["hits"].as_array().unwrap().len(), 5);
    let (status, _) = server.get("/readyz").await;
    assert_eq!(status, 200);
    let (_, metrics) = server.get("/metrics").await;
    assert!(metrics.contains("trawl_collections_damaged 1"), "{metrics}");
    assert!(server.log().contains("collection is damaged"));

    // A plain reopen finds the same damage; accepting the prefix opens it.
    let (status, body) = server.post("/collections/bad/recover", &json!({})).await;
    assert_error(status, &body, 503, "collection_damaged");
    let (status, body) = server
        .post(
            "/collections/bad/recover",
            &json!({"accept_intact_log_prefix": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, info) = server.get_json("/collections/bad").await;
    let kept = info["points"].as_u64().unwrap();
    assert!((100..300).contains(&kept), "a prefix of the log: {kept}");
    assert_eq!(kept % 100, 0, "whole records: {kept}");
    let (status, _) = server
        .put("/collections/bad/points", &points(900..901, 8, "b"))
        .await;
    assert_eq!(status, 200);
    let (status, body) = search(&server, "bad", 8).await;
    assert_eq!(status, 200, "{body}");
}

/// A tmpfs of `bytes` mounted on a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts one on `dir`, or says why it cannot (mounting needs root or
    /// CAP_SYS_ADMIN).
    fn mount(dir: &Path, bytes: u64) -> Result<Self, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(Self(dir.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_and_writes_resume_once_space_returns() {
    let data = Arc::new(TempDir::new("disk-full"));
    let _tmpfs = match Tmpfs::mount(&data.0, 24 << 20) {
        Ok(mount) => mount,
        Err(why) => {
            eprintln!("SKIPPED: cannot mount a small tmpfs for the disk-full test ({why})");
            return;
        }
    };
    let mut server = Server::start_on(Arc::clone(&data), &[]).await;
    let (status, _) = server
        .put("/collections/filler", &json!({"vector": {"dims": 8}}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .put(
            "/collections/c",
            &json!({"vector": {"dims": 64, "layout": "binary"}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server
        .put("/collections/c/points", &points(0..500, 64, "c"))
        .await;
    assert_eq!(status, 200);

    // Fill the disk through the filler, with ever smaller writes, until even
    // the smallest is refused.
    let mut next = 0u64;
    let mut acked = 0u64;
    for size in [100_000usize, 10_000, 1_000, 10] {
        let blob = "x".repeat(size);
        loop {
            let (status, body) = server
                .put(
                    "/collections/filler/points",
                    &points(next..next + 20, 8, &blob),
                )
                .await;
            next += 20;
            if status == 200 {
                acked += 20;
                continue;
            }
            let message = assert_error(status, &body, 507, "insufficient_storage");
            assert_eq!(body["error"]["details"]["collection"], "filler");
            assert!(message.contains("filler"), "{message}");
            break;
        }
    }
    println!("{acked} filler points acknowledged before the disk was full");
    assert!(acked > 0);

    // Writes to another collection are refused too, naming it; nothing breaks.
    // Single points fit the room their vector file reserved (1,024 rows), so
    // once the last page of its log is used up the log's write is what fails
    // (and must be undone, not poison the log) ...
    let mut c_points = 500u64;
    loop {
        let (status, body) = server
            .put(
                "/collections/c/points",
                &points(c_points..c_points + 1, 64, "c"),
            )
            .await;
        if status == 200 {
            c_points += 1;
            assert!(c_points < 1_000, "the log never filled the disk");
            continue;
        }
        assert_error(status, &body, 507, "insufficient_storage");
        assert_eq!(body["error"]["details"]["collection"], "c");
        break;
    }
    // ... and a large batch fails reserving room for its vectors.
    let (status, body) = server
        .put("/collections/c/points", &points(c_points..2_500, 64, "c"))
        .await;
    assert_error(status, &body, 507, "insufficient_storage");
    assert_eq!(body["error"]["details"]["collection"], "c");
    let (status, _) = search(&server, "c", 64).await;
    assert_eq!(status, 200);
    let (_, info) = server.get_json("/collections/filler").await;
    assert_eq!(info["points"], acked, "every acknowledged write is there");
    let (_, info) = server.get_json("/collections/c").await;
    assert_eq!(info["points"], c_points);
    let (status, _) = server.get("/healthz").await;
    assert_eq!(status, 200);

    // Space returns: writes resume without a restart.
    let (status, _) = server
        .http
        .delete(server.url("/collections/filler"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 200);
    let (status, body) = server
        .put("/collections/c/points", &points(c_points..2_500, 64, "c"))
        .await;
    assert_eq!(status, 200, "{body}");

    // And what was acknowledged survives a kill -9.
    server.kill9();
    drop(server);
    let server = Server::start_on(Arc::clone(&data), &[]).await;
    let (_, info) = server.get_json("/collections/c").await;
    assert_eq!(info["points"], 2_500, "{info}");
    let (status, _) = server
        .put("/collections/c/points", &points(2_500..2_600, 64, "c"))
        .await;
    assert_eq!(status, 200);
    drop(server);
}

/// The server's allocations go through jemalloc with its background purge
/// thread: the option string the binary exports must reach jemalloc (a
/// typo would silently keep freed memory resident until a later
/// allocation). And the optimiser's status follows the points: work while
/// some wait to be sealed, `ok` once they are.
#[tokio::test]
async fn jemalloc_purges_in_the_background_and_the_optimiser_reports_its_work() {
    let server = Server::start(&[]).await;
    let names: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
        .expect("the server's threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("jemalloc_bg_thd")),
        "no jemalloc background thread among {names:?}"
    );

    let (status, _) = server
        .put("/collections/c", &json!({"vector": {"dims": 8}}))
        .await;
    assert_eq!(status, 200);
    let (_, info) = server.get_json("/collections/c").await;
    assert_eq!(info["optimizer_status"], "ok", "{info}");
    let (status, _) = server
        .put("/collections/c/points", &points(0..50, 8, "c"))
        .await;
    assert_eq!(status, 200);
    let (_, info) = server.get_json("/collections/c").await;
    assert_eq!(info["optimizer_status"], "optimizing", "{info}");
    let started = std::time::Instant::now();
    loop {
        let (_, info) = server.get_json("/collections/c").await;
        if info["optimizer_status"] == "ok" {
            assert_eq!(info["indexed_points"], 50, "{info}");
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "still optimizing: {info}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
