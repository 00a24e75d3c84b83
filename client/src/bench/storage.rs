//! `trawl-bench storage`: the storage engine's acceptance numbers, measured
//! through the HTTP API of a real `trawl` process (DESIGN.md, "Storage
//! engine").
//!
//! One run, in this order, on one server with its own data directory:
//!
//! 1. The idle server's resident set (`VmRSS` of its `/proc/<pid>/status`),
//!    once `/readyz` answers (the model is loaded).
//! 2. A cosine collection of `--layout` and `--dims`, `--points` synthetic
//!    vectors upserted in batches (payload `{"group": "g<i % 10>", "n": i}`),
//!    then the collection's info polled until every point is in the graph.
//! 3. Memory: the growth of the server's resident set per point, beside the
//!    collection's own `ram_bytes` and `memory` parts.
//! 4. Snapshot: `POST .../snapshots` while another thread samples the
//!    server's resident set every 10 ms; the peak rise over the set before.
//!    Then the snapshot is downloaded (`GET .../snapshots/{name}`, streamed
//!    to `OUT/snapshot.tar`) and deleted, and the file restored into a second
//!    collection (`PUT .../snapshots/restore`, streamed from the file), each
//!    with the resident set sampled the same way; the second collection is
//!    checked (its point count, and the same top-10 as the original for
//!    every query) and deleted, and the file removed. The restore's RSS is
//!    split into what the restored collection keeps (RSS once it answered,
//!    over before) and what only the restore held (the peak over that),
//!    each against the collection's share of RSS.
//! 5. Recall@10 of [`QUERIES`] queries against brute force (cosine), with
//!    the default search parameters.
//! 6. Restart: SIGTERM (or SIGKILL with `--kill`), then the same binary on the
//!    same data directory: seconds from its start until a search answers 200,
//!    the bytes it wrote until then (`write_bytes` of `/proc/<pid>/io`)
//!    against the data directory's size, and its resident set once ready and
//!    indexed against the one before the restart; recall@10 again.
//! 7. Latency: [`LATENCY_SEARCHES`] sequential single searches, idle, then
//!    while another task upserts batches of [`LOAD_BATCH`] new points in a
//!    loop (bodies encoded beforehand, so that the benchmark's own CPU does
//!    not compete with the server's; sent again as updates once all are
//!    sent); the ratio of the two p99s.
//!
//! The vectors are seeded Gaussians of low intrinsic dimension
//! ([`Synthetic`]), so that neighbours mean something; queries are fresh
//! draws from the same distribution, and the seed is printed. Results go to
//! stdout as a table (metric, value, target) and to `OUT/storage.json`; the
//! server's log to `OUT/server.log`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde_json::{Value, json};
use trawl_index::distance::dot;
use trawl_proto::{PointId, SearchResponse};

mod latency;
mod transfer;

use latency::Latencies;
use transfer::Transfer;

use super::report::{MachineInfo, print_table, write_json};
use super::server::{ServerProcess, Stop, sibling_binary};
use super::stats::Latency;
use super::synthetic::{LATENT_DIMS, Synthetic};
use crate::load::setup::call;

/// Results per search, and the depth of recall.
const K: usize = 10;
/// Queries for recall (and, cycled, for latency).
pub const QUERIES: usize = 200;
/// Sequential searches per latency run.
pub const LATENCY_SEARCHES: usize = 2_000;
/// Points per upsert of the background writer during the loaded latency run.
pub const LOAD_BATCH: u64 = 100;
/// Bodies the writer encodes before the phase (then sends again, as updates).
const WRITER_BODIES: u64 = 600;
/// Points per upsert while loading the collection (about 4 MB of JSON at 384 dims).
const UPSERT_BATCH: usize = 1_000;
/// Bytes in a MB, as the table and messages count them.
const MB: f64 = 1_048_576.0;
/// How often the resident set is sampled during a snapshot.
const RSS_SAMPLE: Duration = Duration::from_millis(10);
/// How often the collection's info is polled while the graph is built.
const INDEX_POLL: Duration = Duration::from_millis(250);
/// How often a search is tried while the restarted server opens its storage.
const RESTART_POLL: Duration = Duration::from_millis(10);
/// The collection's name.
const COLLECTION: &str = "storage_bench";
/// Streams of the seeded generator: base points (and those upserted under load), queries.
const BASE_STREAM: u64 = 0;
const QUERY_STREAM: u64 = 1;

/// The acceptance targets (DESIGN.md, "Storage engine").
const RSS_PER_POINT: Target = Target::AtMost(300.0);
const SNAPSHOT_RISE: Target = Target::AtMost(15.0);
/// A restore's peak RSS above what the restored collection then keeps,
/// against the collection's share of RSS (issue: "peak RSS growth under
/// 10 % of the collection's RAM share (no buffering)": the restored
/// collection itself takes about one share).
const RESTORE_TRANSIENT: Target = Target::AtMost(10.0);
/// The restored collection answers every query as the original does.
const SAME_TOP10: Target = Target::AtLeast(100.0);
const RESTART_SECS: Target = Target::AtMost(10.0);
const RESTART_WRITTEN: Target = Target::Below(5.0);
const RESTART_RSS: Target = Target::AtMost(1.25);
const P99_RATIO: Target = Target::AtMost(3.0);
const RECALL: Target = Target::AtLeast(0.95);

/// Arguments of `trawl-bench storage`.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// The collection's layout (`float`, `binary`, `binary:2`, `binary:4`, `matryoshka:K`).
    #[arg(long, default_value = "binary")]
    pub layout: String,
    /// Dimensions of the vectors.
    #[arg(long, default_value_t = 384)]
    pub dims: usize,
    /// Points upserted before the measurements.
    #[arg(long, default_value_t = 200_000)]
    pub points: usize,
    /// Seed of the vectors and queries.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop the server with SIGKILL before the restart (default: SIGTERM and wait).
    #[arg(long)]
    pub kill: bool,
    /// Seconds any one wait may last (readiness, indexing, a request, the restart).
    #[arg(long, default_value_t = 900)]
    pub timeout_secs: u64,
    /// The `trawl` binary to start (default: the one next to this executable).
    #[arg(long)]
    pub trawl_bin: Option<PathBuf>,
    /// Directory for `storage.json` and the server's log.
    #[arg(long, default_value = "bench-out/storage")]
    pub out: PathBuf,
    /// Also measure recall@10 and latency at these `params.oversample`
    /// values (comma-separated) after the first recall, e.g. `4,8,16,32`.
    #[arg(long, value_delimiter = ',')]
    pub sweep: Vec<f32>,
}

/// Recall and latency at one `params.oversample`.
#[derive(Debug, Serialize)]
struct SweepRow {
    oversample: f32,
    recall_at_10: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// One row of the table: a measured value beside its target, if it has one.
#[derive(Debug, Serialize)]
struct Row {
    metric: &'static str,
    value: f64,
    target: Option<String>,
    met: Option<&'static str>,
}

/// A target a value must meet.
#[derive(Debug, Clone, Copy)]
enum Target {
    AtMost(f64),
    Below(f64),
    AtLeast(f64),
}

impl Row {
    /// A value without a target.
    fn info(metric: &'static str, value: f64) -> Self {
        Self {
            metric,
            value: (value * 1_000.0).round() / 1_000.0,
            target: None,
            met: None,
        }
    }

    /// A value beside the target it must meet.
    fn target(metric: &'static str, value: f64, target: Target) -> Self {
        let (met, text) = match target {
            Target::AtMost(x) => (value <= x, format!("<= {x}")),
            Target::Below(x) => (value < x, format!("< {x}")),
            Target::AtLeast(x) => (value >= x, format!(">= {x}")),
        };
        Self {
            target: Some(text),
            met: Some(if met { "yes" } else { "no" }),
            ..Self::info(metric, value)
        }
    }
}

/// Memory after loading and indexing.
#[derive(Debug, Serialize)]
struct Memory {
    idle_rss_bytes: u64,
    /// The idle resident set's anonymous and file-backed parts.
    idle_rss_anon_bytes: u64,
    idle_rss_file_bytes: u64,
    indexed_rss_bytes: u64,
    /// The resident set's anonymous and file-backed (mapped files) parts.
    indexed_rss_anon_bytes: u64,
    indexed_rss_file_bytes: u64,
    rss_bytes_per_point: f64,
    upsert_seconds: f64,
    index_seconds: f64,
    /// `GET /collections/{c}` once every point was indexed.
    collection: Value,
}

/// The resident set around a snapshot.
#[derive(Debug, Serialize)]
struct Snapshot {
    seconds: f64,
    rss_before_bytes: u64,
    rss_peak_bytes: u64,
    rise_percent: f64,
    samples: usize,
    answer: Value,
}

/// The restart on the same data directory.
#[derive(Debug, Serialize)]
struct Restart {
    stop: &'static str,
    stop_seconds: f64,
    first_search_seconds: f64,
    written_bytes: u64,
    data_dir_bytes: u64,
    written_percent: f64,
    rss_before_bytes: u64,
    /// Once `/readyz` answers and every point is indexed.
    rss_after_bytes: u64,
    rss_after_anon_bytes: u64,
    rss_ratio: f64,
    /// `VmHWM` of the new process at that moment.
    peak_rss_after_bytes: u64,
    collection: Value,
}

/// The whole `storage.json`.
#[derive(Debug, Serialize)]
struct Report {
    benchmark: &'static str,
    machine: MachineInfo,
    layout: String,
    dims: usize,
    points: usize,
    seed: u64,
    queries: usize,
    rows: Vec<Row>,
    memory: Memory,
    snapshot: Snapshot,
    transfer: Transfer,
    recall_at_10: f64,
    restart: Restart,
    recall_at_10_after_restart: f64,
    latency: Latencies,
    sweep: Vec<SweepRow>,
}

/// Runs the benchmark, prints the table and writes `storage.json`.
pub fn run(args: &StorageArgs) -> Result<()> {
    ensure!(args.points >= K, "--points must be at least {K}");
    ensure!(args.dims > 0, "--dims must be positive");
    let machine = MachineInfo::collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(measure(args, machine))?;
    print_table(&["metric", "value", "target", "met"], &report.rows, 8)?;
    let path = write_json(&args.out, "storage.json", &report)?;
    eprintln!("storage: wrote {}", path.display());
    Ok(())
}

async fn measure(args: &StorageArgs, machine: MachineInfo) -> Result<Report> {
    let data = Arc::new(Synthetic::new(args.dims, args.seed));
    eprintln!(
        "storage: seed {}; {} points of {} dims ({LATENT_DIMS} latent), {QUERIES} queries",
        args.seed, args.points, args.dims
    );
    let base: Vec<f32> = (0..args.points as u64)
        .flat_map(|i| data.vector(BASE_STREAM, i))
        .collect();
    let queries: Vec<Vec<f32>> = (0..QUERIES as u64)
        .map(|i| data.vector(QUERY_STREAM, i))
        .collect();
    let truth: Vec<HashSet<u64>> = queries
        .iter()
        .map(|q| exact_top_k(&base, args.dims, q))
        .collect();
    let bodies: Vec<String> = queries
        .iter()
        .map(|q| json!({"vector": q, "limit": K, "with_payload": false}).to_string())
        .collect();

    let timeout = Duration::from_secs(args.timeout_secs);
    let client = crate::http_client(None)?
        .no_proxy()
        .tcp_nodelay(true)
        .timeout(timeout)
        .build()
        .context("cannot build the HTTP client")?;
    let binary = match &args.trawl_bin {
        Some(path) => path.clone(),
        None => sibling_binary()?,
    };
    let mut server = ServerProcess::spawn(&binary, &[], &args.out.join("server.log"))?;
    server.wait_ready(&client, timeout).await?;
    let mut bench = Bench {
        client,
        server,
        timeout,
        points: args.points as u64,
    };
    let idle_rss = bench.server.status_bytes("VmRSS")?;
    eprintln!("storage: idle server {:.0} MB", idle_rss as f64 / MB);

    let memory = bench.load(args, &base, idle_rss).await?;
    let snapshot = bench.snapshot().await?;
    let transfer = bench
        .transfer(
            &args.out,
            &snapshot.answer,
            &bodies,
            memory.indexed_rss_bytes.saturating_sub(idle_rss),
        )
        .await?;
    let recall = bench.recall(&bodies, &truth).await?;
    eprintln!("storage: recall@10 {recall:.4}");
    let sweep = bench.sweep(&args.sweep, &queries, &truth).await?;
    let stop = if args.kill { Stop::Kill } else { Stop::Term };
    let restart = bench.restart(stop, &bodies[0]).await?;
    let recall_after = bench.recall(&bodies, &truth).await?;
    eprintln!("storage: recall@10 after the restart {recall_after:.4}");
    let latency = bench.latencies(&data, &bodies).await?;

    let per_point = |bytes: f64| bytes / args.points as f64;
    let mut rows = vec![
        Row::info("server RSS idle (MB)", idle_rss as f64 / MB),
        Row::target(
            "RSS growth per point (B)",
            memory.rss_bytes_per_point,
            RSS_PER_POINT,
        ),
    ];
    if let Some(bytes) = memory.collection["ram_bytes"].as_f64() {
        rows.push(Row::info(
            "collection ram_bytes per point (B)",
            per_point(bytes),
        ));
    }
    rows.extend([
        Row::target(
            "snapshot peak RSS rise (%)",
            snapshot.rise_percent,
            SNAPSHOT_RISE,
        ),
        Row::info("snapshot file (MB)", transfer.archive_bytes as f64 / MB),
        Row::info(
            "snapshot download (MB/s)",
            transfer.archive_bytes as f64 / MB / transfer.download_seconds,
        ),
        Row::info("download peak RSS rise (%)", transfer.download_rise_percent),
        Row::info(
            "restore from upload (MB/s)",
            transfer.archive_bytes as f64 / MB / transfer.restore_seconds,
        ),
        Row::info("restore peak RSS rise (%)", transfer.restore_rise_percent),
        Row::info(
            "restored collection keeps (% of collection RSS)",
            transfer.restored_kept_percent,
        ),
        Row::target(
            "restore peak over kept (% of collection RSS)",
            transfer.restore_transient_percent,
            RESTORE_TRANSIENT,
        ),
        Row::target(
            "restored: same top-10 (% of queries)",
            transfer.same_top10_percent,
            SAME_TOP10,
        ),
        Row::target("recall@10", recall, RECALL),
        Row::target(
            "restart to first search (s)",
            restart.first_search_seconds,
            RESTART_SECS,
        ),
        Row::target(
            "written at restart (% of data dir)",
            restart.written_percent,
            RESTART_WRITTEN,
        ),
        Row::target("RSS after / before restart", restart.rss_ratio, RESTART_RSS),
        Row::target("recall@10 after restart", recall_after, RECALL),
        Row::info("search p50 idle (ms)", latency.idle.p50_ms),
        Row::info("search p99 idle (ms)", latency.idle.p99_ms),
        Row::info("search p50 under writes (ms)", latency.loaded.p50_ms),
        Row::info("search p99 under writes (ms)", latency.loaded.p99_ms),
        Row::target("p99 under writes / idle", latency.p99_ratio, P99_RATIO),
    ]);
    Ok(Report {
        benchmark: "storage",
        machine,
        layout: args.layout.clone(),
        dims: args.dims,
        points: args.points,
        seed: args.seed,
        queries: QUERIES,
        rows,
        memory,
        snapshot,
        transfer,
        recall_at_10: recall,
        restart,
        recall_at_10_after_restart: recall_after,
        latency,
        sweep,
    })
}

/// The server under measurement, the client that reaches it, and how long
/// any one wait may last.
struct Bench {
    client: reqwest::Client,
    server: ServerProcess,
    timeout: Duration,
    /// Points loaded before the measurements.
    points: u64,
}

impl Bench {
    /// The collection's URL followed by `path`.
    fn url(&self, path: &str) -> String {
        format!("{}/collections/{COLLECTION}{path}", self.server.url())
    }

    /// Steps 2 and 3: creates the collection, upserts `base`, waits until
    /// every point is indexed, and measures the memory.
    async fn load(&self, args: &StorageArgs, base: &[f32], idle_rss: u64) -> Result<Memory> {
        let idle_rss_anon_bytes = self.server.status_bytes("RssAnon")?;
        let idle_rss_file_bytes = self.server.status_bytes("RssFile")?;
        let url = self.url("");
        let create = json!({
            "vector": {"dims": args.dims, "metric": "cosine", "layout": args.layout},
            "payload_indexes": {"group": "keyword"},
        });
        let (status, answer) = call(&self.client, Method::PUT, &url, Some(&create)).await?;
        ensure!(status == 200, "PUT {url}: {status}: {answer}");
        let started = Instant::now();
        for (first, vectors) in (0..)
            .step_by(UPSERT_BATCH)
            .zip(base.chunks(UPSERT_BATCH * args.dims))
        {
            upsert(&self.client, &url, first, vectors, args.dims).await?;
        }
        let upsert_seconds = started.elapsed().as_secs_f64();
        eprintln!("storage: upserted in {upsert_seconds:.1} s; waiting for the graph");
        let collection = self.wait_indexed().await?;
        let index_seconds = started.elapsed().as_secs_f64() - upsert_seconds;
        let indexed_rss = self.server.status_bytes("VmRSS")?;
        let rss_bytes_per_point = (indexed_rss as f64 - idle_rss as f64) / self.points as f64;
        eprintln!(
            "storage: indexed and optimised {index_seconds:.1} s later; server {:.0} MB, {rss_bytes_per_point:.0} B/point",
            indexed_rss as f64 / MB
        );
        Ok(Memory {
            idle_rss_bytes: idle_rss,
            idle_rss_anon_bytes,
            idle_rss_file_bytes,
            indexed_rss_bytes: indexed_rss,
            indexed_rss_anon_bytes: self.server.status_bytes("RssAnon")?,
            indexed_rss_file_bytes: self.server.status_bytes("RssFile")?,
            rss_bytes_per_point,
            upsert_seconds,
            index_seconds,
            collection,
        })
    }

    /// Polls the collection's info until it holds every loaded point, says
    /// each is indexed (`indexed_points`, or `indexed`) and its optimiser
    /// has nothing left to do (`optimizer_status`, if reported); returns it.
    async fn wait_indexed(&self) -> Result<Value> {
        let (url, points) = (self.url(""), self.points);
        let started = Instant::now();
        loop {
            let (status, info) = call(&self.client, Method::GET, &url, None).await?;
            let total = info["points"].as_u64();
            let indexed = info["indexed_points"].as_u64().or(info["indexed"].as_u64());
            // Servers that report their optimiser: also until it is done.
            let settled = info["optimizer_status"].as_str().is_none_or(|s| s == "ok");
            if status == 200
                && let (Some(total), Some(indexed)) = (total, indexed)
                && total >= points
                && indexed >= total
                && settled
            {
                return Ok(info);
            }
            if started.elapsed() > self.timeout {
                bail!(
                    "GET {url} did not report all {points} points indexed within {:?} (it needs \
                     `points` and `indexed_points` or `indexed`); last answer {status}: {info}",
                    self.timeout
                );
            }
            tokio::time::sleep(INDEX_POLL).await;
        }
    }

    /// Step 4: a snapshot while the server's resident set is sampled.
    async fn snapshot(&self) -> Result<Snapshot> {
        let rss_before = self.server.status_bytes("VmRSS")?;
        let sampler = self.server.sample_rss(RSS_SAMPLE);
        let url = self.url("/snapshots");
        let started = Instant::now();
        let outcome = call(&self.client, Method::POST, &url, None).await;
        let seconds = started.elapsed().as_secs_f64();
        let (peak, samples) = sampler.finish();
        let (status, answer) = outcome?;
        ensure!(status == 200, "POST {url}: {status}: {answer}");
        let peak = peak.max(rss_before);
        let rise_percent = (peak - rss_before) as f64 / rss_before as f64 * 100.0;
        eprintln!("storage: snapshot in {seconds:.2} s, peak RSS +{rise_percent:.1} %");
        Ok(Snapshot {
            seconds,
            rss_before_bytes: rss_before,
            rss_peak_bytes: peak,
            rise_percent,
            samples,
            answer,
        })
    }

    /// Step 5: mean recall@10 of the queries against their exact top-10.
    async fn recall(&self, bodies: &[String], truth: &[HashSet<u64>]) -> Result<f64> {
        let url = self.url("/search");
        let mut sum = 0.0;
        for (body, truth) in bodies.iter().zip(truth) {
            let got = search(&self.client, &url, body).await?;
            sum += got.iter().filter(|id| truth.contains(id)).count() as f64 / truth.len() as f64;
        }
        Ok(sum / bodies.len() as f64)
    }

    /// Recall@10 and latency at each of `oversamples` (one pass over the
    /// queries each); prints a line per value.
    async fn sweep(
        &self,
        oversamples: &[f32],
        queries: &[Vec<f32>],
        truth: &[HashSet<u64>],
    ) -> Result<Vec<SweepRow>> {
        let url = self.url("/search");
        let mut rows = Vec::with_capacity(oversamples.len());
        for &oversample in oversamples {
            let (mut sum, mut took) = (0.0, Vec::with_capacity(queries.len()));
            for (query, truth) in queries.iter().zip(truth) {
                let body = json!({
                    "vector": query, "limit": K, "with_payload": false,
                    "params": {"oversample": oversample},
                })
                .to_string();
                let started = Instant::now();
                let got = search(&self.client, &url, &body).await?;
                took.push(started.elapsed());
                sum +=
                    got.iter().filter(|id| truth.contains(id)).count() as f64 / truth.len() as f64;
            }
            let latency = Latency::from_samples(&took).context("no queries")?;
            let row = SweepRow {
                oversample,
                recall_at_10: sum / queries.len() as f64,
                p50_ms: latency.p50_ms,
                p99_ms: latency.p99_ms,
            };
            eprintln!(
                "storage: oversample {oversample}: recall@10 {:.4}, p50 {:.2} ms, p99 {:.2} ms",
                row.recall_at_10, row.p50_ms, row.p99_ms
            );
            rows.push(row);
        }
        Ok(rows)
    }

    /// Step 6: stops the server and starts it again on the same data
    /// directory; `body` is the search that tells it serves again.
    async fn restart(&mut self, stop: Stop, body: &str) -> Result<Restart> {
        let rss_before = self.server.status_bytes("VmRSS")?;
        let stopped = self.server.restart(stop, self.timeout).await?;
        let url = self.url("/search");
        let client = &self.client;
        let first_search = self
            .server
            .wait_for("searchable", self.timeout, RESTART_POLL, || {
                client
                    .post(&url)
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_owned())
            })
            .await?;
        let written = self.server.written_bytes()?;
        let data_dir_bytes = self.server.data_dir_bytes()?;
        eprintln!(
            "storage: stopped in {:.2} s; first search {:.2} s later; {:.0} MB written of {:.0} MB",
            stopped.as_secs_f64(),
            first_search.as_secs_f64(),
            written as f64 / MB,
            data_dir_bytes as f64 / MB
        );
        self.server.wait_ready(&self.client, self.timeout).await?;
        let collection = self.wait_indexed().await?;
        let rss_after = self.server.status_bytes("VmRSS")?;
        Ok(Restart {
            stop: match stop {
                Stop::Term => "SIGTERM",
                Stop::Kill => "SIGKILL",
            },
            stop_seconds: stopped.as_secs_f64(),
            first_search_seconds: first_search.as_secs_f64(),
            written_bytes: written,
            data_dir_bytes,
            written_percent: written as f64 / data_dir_bytes.max(1) as f64 * 100.0,
            rss_before_bytes: rss_before,
            rss_after_bytes: rss_after,
            rss_after_anon_bytes: self.server.status_bytes("RssAnon")?,
            rss_ratio: rss_after as f64 / rss_before as f64,
            peak_rss_after_bytes: self.server.status_bytes("VmHWM")?,
            collection,
        })
    }
}

/// Upserts `vectors` (rows of `dims`) as points `first_id..`.
async fn upsert(
    client: &reqwest::Client,
    collection_url: &str,
    first_id: u64,
    vectors: &[f32],
    dims: usize,
) -> Result<()> {
    let url = format!("{collection_url}/points");
    let body = upsert_body(first_id, vectors, dims);
    let (status, answer) = call(client, Method::PUT, &url, Some(&body)).await?;
    ensure!(status == 200, "PUT {url}: {status}: {answer}");
    Ok(())
}

/// The body upserting `vectors` (rows of `dims`) as points `first_id..`.
fn upsert_body(first_id: u64, vectors: &[f32], dims: usize) -> Value {
    let points: Vec<Value> = (first_id..)
        .zip(vectors.chunks_exact(dims))
        .map(|(id, v)| {
            json!({"id": id, "vector": v, "payload": {"group": format!("g{}", id % 10), "n": id}})
        })
        .collect();
    json!({ "points": points })
}

/// One search; the ids of its hits.
async fn search(client: &reqwest::Client, url: &str, body: &str) -> Result<Vec<u64>> {
    let response = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    ensure!(status.is_success(), "POST {url}: {status}: {text}");
    let answer: SearchResponse =
        serde_json::from_str(&text).with_context(|| format!("POST {url}: {text}"))?;
    Ok(answer
        .hits
        .into_iter()
        .filter_map(|h| match h.id {
            PointId::Num(n) => Some(n),
            PointId::Str(_) => None,
        })
        .collect())
}

/// The ids of the `K` rows of `base` (rows of `dims`) with the largest dot
/// product with `query` (cosine: every row and query is normalised).
fn exact_top_k(base: &[f32], dims: usize, query: &[f32]) -> HashSet<u64> {
    let mut scored: Vec<(f32, u64)> = base
        .chunks_exact(dims)
        .zip(0..)
        .map(|(row, id)| (dot(query, row), id))
        .collect();
    let k = K.min(scored.len());
    scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
    scored[..k].iter().map(|&(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_top_k_finds_the_query_itself_first() {
        let data = Synthetic::new(32, 3);
        let base: Vec<f32> = (0..500).flat_map(|i| data.vector(BASE_STREAM, i)).collect();
        let top = exact_top_k(&base, 32, &data.vector(BASE_STREAM, 123));
        assert_eq!(top.len(), K);
        assert!(top.contains(&123));
    }

    #[test]
    fn targets_are_checked() {
        assert_eq!(Row::target("a", 300.0, RSS_PER_POINT).met, Some("yes"));
        assert_eq!(Row::target("a", 5.0, RESTART_WRITTEN).met, Some("no"));
        assert_eq!(Row::target("a", 0.9, RECALL).met, Some("no"));
        assert_eq!(Row::info("a", 1.0).met, None);
    }
}
