//! Durable appends, one after the other: the shard log (`raft-log`, what a
//! replica does before it acknowledges an entry) against the single-node
//! write-ahead log (`trawl_index::storage::Wal`), each record fsynced before
//! the next is written, as a write is acknowledged in each.
//!
//! `cargo run --release -p trawl-cluster --example log_append -- [DIR] [N]`
//! (DIR default `bench-out/log-append`, on the disk to measure; N appends
//! per size, default 300). Prints a table and writes `DIR/log_append.json`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use openraft::{CommittedLeaderId, EntryPayload, LogId};
use trawl_cluster::{Command, Entry, LogStore};
use trawl_index::storage::{Wal, WalOptions};

/// Record sizes: one 384-d point, and a batch of 100 (floats plus a little
/// framing).
const SIZES: [(&str, usize); 2] = [("1 point", 1_600), ("100 points", 160_000)];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

struct Row {
    log: &'static str,
    size: &'static str,
    bytes: usize,
    p50_ms: f64,
    p99_ms: f64,
    per_second: f64,
}

fn row(log: &'static str, size: &'static str, bytes: usize, mut samples: Vec<Duration>) -> Row {
    let total: Duration = samples.iter().sum();
    samples.sort();
    Row {
        log,
        size,
        bytes,
        p50_ms: percentile(&samples, 0.5),
        p99_ms: percentile(&samples, 0.99),
        per_second: samples.len() as f64 / total.as_secs_f64(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "bench-out/log-append".into()));
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    std::fs::create_dir_all(&dir)?;
    let mut rows = Vec::new();
    for (size, bytes) in SIZES {
        let record: Vec<u8> = (0..bytes).map(|i| (i * 31 % 251) as u8).collect();

        let path = dir.join(format!("wal-{bytes}.log"));
        let _ = std::fs::remove_file(&path);
        let (wal, _) = Wal::open(&path, WalOptions::default()).map_err(std::io::Error::other)?;
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            wal.append(&record).map_err(std::io::Error::other)?;
            samples.push(started.elapsed());
        }
        rows.push(row("trawl WAL", size, bytes, samples));
        drop(wal);
        std::fs::remove_file(&path)?;

        let path = dir.join(format!("raft-log-{bytes}"));
        let _ = std::fs::remove_dir_all(&path);
        let log = LogStore::open(&path)?;
        let mut samples = Vec::with_capacity(n);
        for i in 1..=n as u64 {
            let entry = Entry {
                log_id: LogId::new(CommittedLeaderId::new(1, 1), i),
                payload: EntryPayload::Normal(Command {
                    record: record.clone(),
                }),
            };
            let started = Instant::now();
            log.append_synced(vec![entry]).await?;
            samples.push(started.elapsed());
        }
        rows.push(row("raft-log (shard log)", size, bytes, samples));
        drop(log);
        std::fs::remove_dir_all(&path)?;
    }
    println!(
        "{:>22} {:>11} {:>8} {:>8} {:>10}",
        "log", "record", "p50 ms", "p99 ms", "appends/s"
    );
    for r in &rows {
        println!(
            "{:>22} {:>11} {:>8.3} {:>8.3} {:>10.0}",
            r.log, r.size, r.p50_ms, r.p99_ms, r.per_second
        );
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "log": r.log, "record": r.size, "record_bytes": r.bytes,
                "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "appends_per_second": r.per_second,
            })
        })
        .collect();
    let out = dir.join("log_append.json");
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&serde_json::json!({ "appends": n, "rows": json }))?,
    )?;
    println!("wrote {}", out.display());
    Ok(())
}
