//! `trawl-bench hybrid`: dense, lexical and hybrid query latency side by
//! side on one collection, through a started server.
//!
//! The corpus is shuffled as `export` shuffles it (same seed, same order):
//! the first `n` texts are written as points with a full-text index (the
//! server embeds them), the next `queries` are the queries. Each mode then
//! runs every query once, one after another, through
//! `POST /collections/{name}/query` at `limit` 10: `dense` (`text`, the
//! unnamed vector), `lexical` (BM25), `hybrid` (both, fused by DBSF), and
//! `vector` (a dense stage by a query vector embedded beforehand: the index
//! alone, without the query's embedding). The server's own per-stage times
//! come from `/metrics` (`trawl_query_stage_duration_seconds`). Then hybrid
//! queries run under each filter of `filters.json` (beside the corpus; the
//! points carry the corpus's metadata, its keys indexed), every hit checked
//! against the filter, and with as many hits as match (up to 10).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};

use super::export::{read_corpus, shuffle};
use super::report::{MachineInfo, print_table, write_json};
use super::server::{ServerProcess, sibling_binary};
use super::stats::Latency;

/// Texts per upsert request.
const BATCH: usize = 256;

/// Arguments of `trawl-bench hybrid`.
#[derive(Debug, Args)]
pub struct HybridArgs {
    /// The corpus: JSON lines `{_id, title, text, metadata}`, optionally gzipped.
    #[arg(long, default_value = "../shared/data/shorttext/corpus.jsonl.gz")]
    pub corpus: PathBuf,
    /// Points written.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Queries per mode (texts not among the points).
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// Seed of the shuffle (`export`'s default: the same split).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The server binary (default: `trawl` beside this binary).
    #[arg(long)]
    pub trawl_bin: Option<PathBuf>,
    /// Where the table's JSON goes.
    #[arg(long, default_value = "bench-out")]
    pub out: PathBuf,
}

/// One mode's row.
#[derive(Debug, Serialize)]
struct Row {
    mode: &'static str,
    queries: usize,
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Mean server time per query in each kind of stage, from `/metrics`.
    server_ms: Value,
}

/// Runs the benchmark.
pub fn run(args: &HybridArgs) -> Result<()> {
    tokio::runtime::Runtime::new()?.block_on(run_async(args))
}

async fn run_async(args: &HybridArgs) -> Result<()> {
    let lines = read_corpus(&args.corpus)?;
    ensure!(
        lines.len() >= args.n + args.queries,
        "{} holds {} texts, fewer than --n {} plus --queries {}",
        args.corpus.display(),
        lines.len(),
        args.n,
        args.queries
    );
    let order = shuffle(lines.len(), args.seed);
    let texts: Vec<&str> = order[..args.n]
        .iter()
        .map(|&i| lines[i].text.as_str())
        .collect();
    let metadata: Vec<&Value> = order[..args.n].iter().map(|&i| &lines[i].meta).collect();
    let filters: Vec<Value> = match args.corpus.parent().map(|d| d.join("filters.json")) {
        Some(path) if path.is_file() => serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{} is not a JSON list of filters", path.display()))?,
        _ => Vec::new(),
    };
    let keys: std::collections::BTreeSet<&str> =
        filters.iter().filter_map(|f| f["key"].as_str()).collect();
    let queries: Vec<&str> = order[args.n..args.n + args.queries]
        .iter()
        .map(|&i| lines[i].text.as_str())
        .collect();
    let binary = match &args.trawl_bin {
        Some(b) => b.clone(),
        None => sibling_binary()?,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut server = ServerProcess::spawn(&binary, &[], &args.out.join("hybrid-server.log"))?;
    server.wait_ready(&client, Duration::from_secs(300)).await?;
    let url = format!("{}/collections/hybrid", server.url());
    post(
        &client,
        reqwest::Method::PUT,
        &url,
        &json!({"vector": {"metric": "cosine"}, "text": {},
                "payload_indexes": keys.iter().map(|k| (k.to_string(), json!("keyword")))
                    .collect::<serde_json::Map<String, Value>>()}),
    )
    .await?;
    let started = Instant::now();
    for (b, chunk) in texts.chunks(BATCH).enumerate() {
        let points: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                json!({"id": b * BATCH + i, "text": t, "payload": metadata[b * BATCH + i]})
            })
            .collect();
        post(
            &client,
            reqwest::Method::PUT,
            &format!("{url}/points"),
            &json!({ "points": points }),
        )
        .await?;
        let done = b * BATCH + chunk.len();
        if b % 20 == 0 || done == texts.len() {
            eprintln!(
                "hybrid: {done}/{} written ({:.0}/s)",
                texts.len(),
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let ingest_s = started.elapsed().as_secs_f64();
    loop {
        let info = post(&client, reqwest::Method::GET, &url, &Value::Null).await?;
        if info["indexed_points"] == info["points"] && info["optimizer_status"] == "ok" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // The queries' vectors, embedded once for the `vector` mode.
    let mut vectors = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(64) {
        let answer = post(
            &client,
            reqwest::Method::POST,
            &format!("{}/embed", server.url()),
            &json!({ "inputs": chunk }),
        )
        .await?;
        let embeddings = answer["embeddings"]
            .as_array()
            .context("/embed answered without embeddings")?;
        vectors.extend(embeddings.iter().cloned());
    }
    ensure!(
        vectors.len() == queries.len(),
        "/embed answered {} of {} texts",
        vectors.len(),
        queries.len()
    );
    let mut rows = Vec::new();
    for mode in ["vector", "dense", "lexical", "hybrid"] {
        let before = stage_seconds(&client, server.url()).await?;
        let mut samples = Vec::with_capacity(queries.len());
        let began = Instant::now();
        for (q, v) in queries.iter().zip(&vectors) {
            let body = match mode {
                "vector" => json!({"vector": v, "limit": 10, "with_payload": false}),
                "dense" => json!({"text": q, "limit": 10, "with_payload": false}),
                "lexical" => json!({"lexical": q, "limit": 10, "with_payload": false}),
                _ => json!({"text": q, "mode": "hybrid", "limit": 10, "with_payload": false}),
            };
            timed_query(&client, &url, &body, &mut samples).await?;
        }
        let seconds = began.elapsed().as_secs_f64();
        let after = stage_seconds(&client, server.url()).await?;
        let latency = Latency::from_samples(&samples).context("no queries ran")?;
        let server_ms: serde_json::Map<String, Value> = after
            .iter()
            .map(|(kind, s)| {
                let spent = s - before
                    .iter()
                    .find(|(k, _)| k == kind)
                    .map_or(0.0, |(_, b)| *b);
                (
                    kind.clone(),
                    json!((spent * 1e3 / queries.len() as f64 * 1e3).round() / 1e3),
                )
            })
            .filter(|(_, ms)| ms.as_f64().is_some_and(|ms| ms > 0.0))
            .collect();
        rows.push(Row {
            mode,
            queries: queries.len(),
            qps: (queries.len() as f64 / seconds * 10.0).round() / 10.0,
            p50_ms: (latency.p50_ms * 1e3).round() / 1e3,
            p99_ms: (latency.p99_ms * 1e3).round() / 1e3,
            server_ms: Value::Object(server_ms),
        });
    }
    let mut filtered = Vec::new();
    for f in &filters {
        let (key, any) = (f["key"].as_str().unwrap_or_default(), &f["any"]);
        let matching = metadata
            .iter()
            .filter(|m| any.as_array().is_some_and(|a| a.contains(&m[key])))
            .count();
        let filter = json!({"must": [{"key": key, "match": {"any": any}}]});
        let mut samples = Vec::with_capacity(queries.len());
        let began = Instant::now();
        for q in &queries {
            let body = json!({"text": q, "mode": "hybrid", "limit": 10, "filter": filter});
            let answer = timed_query(&client, &url, &body, &mut samples).await?;
            let hits = answer["hits"]
                .as_array()
                .context("no hits in a query's answer")?;
            ensure!(
                hits.len() == matching.min(10),
                "{}: {} hits where {} points match",
                f["name"],
                hits.len(),
                matching
            );
            if let Some(bad) = hits.iter().find(|h| {
                !any.as_array()
                    .is_some_and(|a| a.contains(&h["payload"][key]))
            }) {
                bail!("{}: a hit outside the filter: {bad}", f["name"]);
            }
        }
        let seconds = began.elapsed().as_secs_f64();
        let latency = Latency::from_samples(&samples).context("no queries ran")?;
        filtered.push(json!({
            "filter": f["name"],
            "selectivity": (matching as f64 / args.n as f64 * 1e4).round() / 1e4,
            "qps": (queries.len() as f64 / seconds * 10.0).round() / 10.0,
            "p50_ms": (latency.p50_ms * 1e3).round() / 1e3,
            "p99_ms": (latency.p99_ms * 1e3).round() / 1e3,
            "hits_checked": true,
        }));
    }
    let dense_qps = rows
        .iter()
        .find(|r| r.mode == "dense")
        .map_or(0.0, |r| r.qps);
    println!(
        "hybrid: {} points ({} in {:.0} s), {} queries per mode, one at a time",
        args.n,
        args.corpus.display(),
        ingest_s,
        args.queries
    );
    print_table(
        &["mode", "queries", "qps", "p50_ms", "p99_ms", "server_ms"],
        &rows,
        8,
    )?;
    for r in &rows {
        println!(
            "{}: {:.2}x the dense text query's q/s",
            r.mode,
            r.qps / dense_qps.max(1e-9)
        );
    }
    if !filtered.is_empty() {
        println!("hybrid queries under each filter (every hit checked against it):");
        print_table(
            &["filter", "selectivity", "qps", "p50_ms", "p99_ms"],
            &filtered,
            8,
        )?;
    }
    let path = write_json(
        &args.out,
        "hybrid.json",
        &json!({
            "benchmark": "hybrid",
            "machine": MachineInfo::collect(),
            "corpus": args.corpus,
            "points": args.n,
            "queries": args.queries,
            "seed": args.seed,
            "ingest_s": ingest_s,
            "rows": rows,
            "filtered": filtered,
        }),
    )?;
    eprintln!("hybrid: wrote {}", path.display());
    Ok(())
}

/// `POST {collection}/query` with `body`, its time added to `samples`.
async fn timed_query(
    client: &reqwest::Client,
    collection: &str,
    body: &Value,
    samples: &mut Vec<Duration>,
) -> Result<Value> {
    let at = Instant::now();
    let answer = post(
        client,
        reqwest::Method::POST,
        &format!("{collection}/query"),
        body,
    )
    .await?;
    samples.push(at.elapsed());
    Ok(answer)
}

/// Seconds spent so far per kind of query stage (`/metrics` sums).
async fn stage_seconds(client: &reqwest::Client, base: &str) -> Result<Vec<(String, f64)>> {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("trawl_query_stage_duration_seconds_sum{kind=\"")?;
            let (kind, value) = rest.split_once("\"} ")?;
            Some((kind.to_string(), value.trim().parse().ok()?))
        })
        .collect())
}

async fn post(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: &Value,
) -> Result<Value> {
    let mut request = client.request(method.clone(), url);
    if !body.is_null() {
        request = request.json(body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let answer = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{method} {url}: {status}: {answer}");
    }
    Ok(serde_json::from_str(&answer).unwrap_or(Value::Null))
}
