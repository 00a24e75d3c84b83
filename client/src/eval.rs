//! `trawl-eval`: a BEIR-format dataset through a running Trawl, over HTTP.
//!
//! For each requested layout: create a collection, ingest the corpus as text
//! (`title + " " + text`, as BEIR and MTEB embed documents) in batches, wait
//! until the graph covers every point (so that the graph, not the exact scan of
//! the not-yet-indexed tail, answers), run every query of the split that has
//! judgements through `POST /collections/{name}/search/batch` with its text
//! (each query at `limit` 10 for nDCG@10 and MRR@10, and at 100 for
//! recall@100), and score the rankings with binary relevance (a judgement
//! with a score above 0 is relevant). `--exact` asks for
//! brute-force search, which separates the encoder's quality from the index's
//! recall. `--mode` picks the retrievers: `dense` (the above), `lexical`
//! (BM25 over the collection's full-text index, through
//! `POST /collections/{name}/query`), `hybrid` (the server's default fusion
//! of both), or a fusion named outright (`rrf`, `dbsf`, `minmax`: dense and
//! lexical stages of [`FUSED_DEPTH`] candidates each). Without `--url` a `trawl` server is started for the run (the binary
//! beside this one, with the default model) and stopped afterwards.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bench::report::{MachineInfo, write_json};
use crate::bench::server::{ServerProcess, check_ready, sibling_binary};

/// Results fetched per query (recall@100 needs 100).
const DEPTH: usize = 100;
/// Queries per batch request.
const QUERY_BATCH: usize = 32;
/// Candidates of each stage of the fusions named by `--mode`.
pub const FUSED_DEPTH: usize = 100;

/// Arguments of `trawl-eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A BEIR directory: `corpus.jsonl`, `queries.jsonl`, `qrels/<split>.tsv`.
    #[arg(long, default_value = "../shared/data/scifact")]
    pub data: PathBuf,
    /// The judgement split.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Layouts to evaluate, comma-separated (`float`, `binary`, `binary:2`,
    /// `binary:4`, `matryoshka:K`, `multivector`: MUVERA candidates reranked
    /// by Chamfer over the model's token vectors), one collection each.
    #[arg(long, default_value = "float")]
    pub layout: String,
    /// Retrievers to evaluate, comma-separated, each on the same collection:
    /// `dense`, `lexical` (BM25), `hybrid` (the server's default fusion of
    /// both), `rrf`, `dbsf`, `minmax` (dense and lexical fused so, the last
    /// with weights 0.5 and 0.5), `rerank` (dense and lexical fused by DBSF,
    /// the candidates reranked by exact Chamfer over the model's token
    /// vectors, held in a named vector `tokens`).
    #[arg(long, default_value = "dense")]
    pub mode: String,
    /// Brute-force search (perfect index recall): the encoder's quality alone.
    #[arg(long)]
    pub exact: bool,
    /// `params.oversample` for compact and multivector layouts (the layout's default otherwise).
    #[arg(long)]
    pub oversample: Option<f32>,
    /// A running server; without it one is started for the run.
    #[arg(long)]
    pub url: Option<String>,
    /// The server's full API key, if it has one (`--url` only).
    #[arg(long, env = "TRAWL_API_KEY", hide_env_values = true)]
    pub api_key: Option<crate::ApiKey>,
    /// The server binary started without `--url` (default: `trawl` beside this binary).
    #[arg(long)]
    pub trawl_bin: Option<PathBuf>,
    /// Documents per upsert request.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// A published MTEB result file to print beside the measured figures.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Where the JSON report goes.
    #[arg(long, default_value = "bench-out")]
    pub out: PathBuf,
    /// Keep the collections afterwards (they are deleted by default).
    #[arg(long)]
    pub keep: bool,
    /// Evaluate this existing collection instead of creating and filling one
    /// per layout: its points' ids are the corpus's `_id`s (as `trawl import`
    /// writes them). Nothing is written or deleted.
    #[arg(long)]
    pub collection: Option<String>,
    /// A quick run: only the first N judged queries. Scores on a subset are
    /// not comparable with published figures.
    #[arg(long)]
    pub max_queries: Option<usize>,
    /// A quick run: at most N documents, the ones judged for the kept queries
    /// first, then others in file order (all judged documents are kept even
    /// when they exceed N).
    #[arg(long)]
    pub max_docs: Option<usize>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

/// Reads a JSON-lines file of BEIR records.
fn read_jsonl(path: &Path) -> Result<Vec<Doc>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    BufReader::new(file)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(i, l)| {
            let l = l?;
            serde_json::from_str(&l)
                .with_context(|| format!("{} line {}: not a BEIR record", path.display(), i + 1))
        })
        .collect()
}

/// Query id → relevant document ids.
fn read_qrels(path: &Path) -> Result<BTreeMap<String, HashSet<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut qrels: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let cols: Vec<&str> = line.split('\t').collect();
        if i == 0 && cols.first() == Some(&"query-id") {
            continue;
        }
        ensure!(
            cols.len() >= 3,
            "{} line {}: expected query-id, corpus-id, score",
            path.display(),
            i + 1
        );
        let score: f64 = cols[2]
            .trim()
            .parse()
            .with_context(|| format!("{} line {}: bad score", path.display(), i + 1))?;
        let entry = qrels.entry(cols[0].to_string()).or_default();
        if score > 0.0 {
            entry.insert(cols[1].to_string());
        }
    }
    qrels.retain(|_, rel| !rel.is_empty());
    Ok(qrels)
}

/// Retrieval metrics of one ranking against one relevant set.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Scores {
    /// nDCG@10 with binary gains.
    pub ndcg10: f64,
    /// Share of the relevant documents in the first 100.
    pub recall100: f64,
    /// Reciprocal rank of the first relevant document in the first 10.
    pub mrr10: f64,
}

/// Scores `ranking` (best first) against `relevant`.
pub fn score(ranking: &[String], relevant: &HashSet<String>) -> Scores {
    if relevant.is_empty() {
        return Scores::default();
    }
    let gain = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 = ranking
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, d)| relevant.contains(*d))
        .map(|(i, _)| gain(i))
        .sum();
    let ideal: f64 = (0..relevant.len().min(10)).map(gain).sum();
    let found = ranking
        .iter()
        .take(100)
        .filter(|d| relevant.contains(*d))
        .count();
    let mrr = ranking
        .iter()
        .take(10)
        .position(|d| relevant.contains(d))
        .map_or(0.0, |i| 1.0 / (i + 1) as f64);
    Scores {
        ndcg10: dcg / ideal,
        recall100: found as f64 / relevant.len() as f64,
        mrr10: mrr,
    }
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    dataset: String,
    layout: String,
    mode: String,
    search: &'static str,
    docs: usize,
    queries: usize,
    #[serde(rename = "ndcg@10")]
    ndcg10: f64,
    #[serde(rename = "recall@100")]
    recall100: f64,
    #[serde(rename = "mrr@10")]
    mrr10: f64,
    ingest_s: f64,
    searches_per_s: f64,
    ram_bytes: u64,
    memory: Value,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Runs the evaluation.
pub fn run(args: &EvalArgs) -> Result<()> {
    ensure!(args.batch > 0, "--batch must be at least 1");
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &EvalArgs) -> Result<()> {
    let corpus = read_jsonl(&args.data.join("corpus.jsonl"))?;
    let queries = read_jsonl(&args.data.join("queries.jsonl"))?;
    let qrels = read_qrels(&args.data.join("qrels").join(format!("{}.tsv", args.split)))?;
    let mut queries: Vec<Doc> = queries
        .into_iter()
        .filter(|q| qrels.contains_key(&q.id))
        .collect();
    if let Some(n) = args.max_queries {
        queries.truncate(n);
    }
    let corpus = match args.max_docs {
        Some(n) => subset(corpus, &queries, &qrels, n),
        None => corpus,
    };
    ensure!(
        !queries.is_empty(),
        "no query of {} has judgements in the {} split",
        args.data.display(),
        args.split
    );
    let dataset = args.data.file_name().map_or_else(
        || "dataset".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let client = crate::http_client(args.api_key.as_ref())?
        .timeout(Duration::from_secs(600))
        .build()?;
    let mut spawned = None;
    let url = match &args.url {
        Some(url) => {
            let url = url.trim_end_matches('/').to_string();
            check_ready(&client, &url).await?;
            url
        }
        None => {
            let binary = match &args.trawl_bin {
                Some(b) => b.clone(),
                None => sibling_binary()?,
            };
            let log = args.out.join("eval-server.log");
            let mut server = ServerProcess::spawn(&binary, &[], &log)?;
            server.wait_ready(&client, Duration::from_secs(300)).await?;
            let url = server.url().to_string();
            spawned = Some(server);
            url
        }
    };
    eprintln!(
        "eval: {dataset}: {} documents, {} queries with judgements, server {url}",
        corpus.len(),
        queries.len()
    );
    let mut rows = Vec::new();
    // An existing collection is one row per mode, labelled with its name.
    let layouts: Vec<&str> = match &args.collection {
        Some(name) => vec![name.as_str()],
        None => args
            .layout
            .split(',')
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect(),
    };
    for layout in layouts {
        rows.extend(
            evaluate(
                args, &client, &url, &dataset, &corpus, &queries, &qrels, layout,
            )
            .await?,
        );
    }
    drop(spawned);
    print_table(&rows);
    let reference = match &args.reference {
        Some(path) => Some(reference_scores(path)?),
        None => None,
    };
    if let Some(r) = &reference {
        println!(
            "published: ndcg@10 {:.5}  recall@100 {:.5}  mrr@10 {:.5}  ({})",
            r.ndcg10,
            r.recall100,
            r.mrr10,
            args.reference
                .as_deref()
                .map_or(String::new(), |p| p.display().to_string())
        );
    }
    let path = write_json(
        &args.out,
        &format!(
            "eval-{dataset}{}.json",
            if args.exact { "-exact" } else { "" }
        ),
        &json!({
            "benchmark": "eval",
            "machine": MachineInfo::collect(),
            "dataset": dataset,
            "split": args.split,
            "exact": args.exact,
            "oversample": args.oversample,
            "documents": corpus.len(),
            "subset": args.max_queries.is_some() || args.max_docs.is_some(),
            "published": reference.map(|r| json!({"ndcg@10": r.ndcg10, "recall@100": r.recall100, "mrr@10": r.mrr10})),
            "rows": rows,
        }),
    )?;
    eprintln!("eval: wrote {}", path.display());
    Ok(())
}

/// At most `n` documents of `corpus`: every document judged relevant to one of
/// `queries`, then the others in file order.
fn subset(
    corpus: Vec<Doc>,
    queries: &[Doc],
    qrels: &BTreeMap<String, HashSet<String>>,
    n: usize,
) -> Vec<Doc> {
    let judged: HashSet<&str> = queries
        .iter()
        .filter_map(|q| qrels.get(&q.id))
        .flatten()
        .map(String::as_str)
        .collect();
    let mut room = n.saturating_sub(
        corpus
            .iter()
            .filter(|d| judged.contains(d.id.as_str()))
            .count(),
    );
    corpus
        .into_iter()
        .filter(|d| {
            judged.contains(d.id.as_str())
                || (room > 0 && {
                    room -= 1;
                    true
                })
        })
        .collect()
}

/// The published figures of an MTEB result file (test split).
fn reference_scores(path: &Path) -> Result<Scores> {
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
    )?;
    let s = &v["scores"]["test"][0];
    let get = |k: &str| {
        s[k].as_f64()
            .with_context(|| format!("{}: no {k} in scores.test[0]", path.display()))
    };
    Ok(Scores {
        ndcg10: get("ndcg_at_10")?,
        recall100: get("recall_at_100")?,
        mrr10: get("mrr_at_10")?,
    })
}

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value> {
    let (status, answer) = crate::load::setup::call(client, method.clone(), url, body).await?;
    if !(200..300).contains(&status) {
        bail!("{method} {url}: {status}: {answer}");
    }
    Ok(answer)
}

#[allow(clippy::too_many_arguments)]
async fn evaluate(
    args: &EvalArgs,
    client: &reqwest::Client,
    url: &str,
    dataset: &str,
    corpus: &[Doc],
    queries: &[Doc],
    qrels: &BTreeMap<String, HashSet<String>>,
    layout: &str,
) -> Result<Vec<Row>> {
    let modes: Vec<&str> = args
        .mode
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if let Some(bad) = modes.iter().find(|m| {
        ![
            "dense", "lexical", "hybrid", "rrf", "dbsf", "minmax", "rerank",
        ]
        .contains(m)
    }) {
        bail!("unknown --mode {bad:?}: use dense, lexical, hybrid, rrf, dbsf, minmax or rerank");
    }
    let lexical = modes.iter().any(|m| *m != "dense");
    let tokens = modes.contains(&"rerank");
    let (collection, ingest_s) = match &args.collection {
        Some(name) => (format!("{url}/collections/{name}"), 0.0),
        None => fill(args, client, url, dataset, corpus, layout, lexical, tokens).await?,
    };
    // Let the graph take every point, so that it answers rather than the tail scan.
    let info = loop {
        let info = call(client, reqwest::Method::GET, &collection, None).await?;
        if info["indexed_points"] == info["points"] {
            break info;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let mut params = serde_json::Map::new();
    if args.exact {
        params.insert("exact".into(), json!(true));
    }
    if let Some(o) = args.oversample {
        params.insert("oversample".into(), json!(o));
    }
    let ids = |result: &Value| -> Vec<String> {
        result["hits"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|h| match (&h["id"], &args.collection) {
                // An existing collection's ids are the documents' own.
                (Value::String(id), Some(_)) => Some(id.clone()),
                (Value::Number(id), Some(_)) => Some(id.to_string()),
                (id, None) => id
                    .as_u64()
                    .and_then(|i| corpus.get(i as usize))
                    .map(|d| d.id.clone()),
                _ => None,
            })
            .collect()
    };
    let mut rows = Vec::new();
    for mode in modes {
        let started = Instant::now();
        let (totals, searches) = if mode == "dense" {
            dense(client, &collection, queries, qrels, &params, &ids).await?
        } else {
            fused(client, &collection, queries, qrels, mode, &params, &ids).await?
        };
        let query_s = started.elapsed().as_secs_f64();
        let n = queries.len() as f64;
        eprintln!("eval: {layout} {mode}: ndcg@10 {:.5}", totals.ndcg10 / n);
        rows.push(Row {
            dataset: dataset.to_string(),
            layout: layout.to_string(),
            mode: mode.to_string(),
            search: if args.exact { "exact" } else { "index" },
            docs: corpus.len(),
            queries: queries.len(),
            ndcg10: round(totals.ndcg10 / n, 5),
            recall100: round(totals.recall100 / n, 5),
            mrr10: round(totals.mrr10 / n, 5),
            ingest_s: round(ingest_s, 1),
            searches_per_s: round(searches as f64 / query_s, 1),
            ram_bytes: info["ram_bytes"].as_u64().unwrap_or(0),
            memory: info["memory"].clone(),
        });
    }
    if !args.keep && args.collection.is_none() {
        let _ = client.delete(&collection).send().await;
    }
    Ok(rows)
}

/// Creates the layout's collection (replacing a previous run's) and ingests
/// the corpus with ids numbering the documents; its URL and the seconds taken.
#[allow(clippy::too_many_arguments)]
async fn fill(
    args: &EvalArgs,
    client: &reqwest::Client,
    url: &str,
    dataset: &str,
    corpus: &[Doc],
    layout: &str,
    lexical: bool,
    tokens: bool,
) -> Result<(String, f64)> {
    let name = format!(
        "eval-{dataset}-{}",
        layout.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let collection = format!("{url}/collections/{name}");
    // A previous run's collection of the same name is replaced.
    let _ = client.delete(&collection).send().await;
    call(
        client,
        reqwest::Method::PUT,
        &collection,
        Some(&{
            let mut body = json!({"vector": {"metric": "cosine", "layout": layout}});
            if lexical {
                body["text"] = json!({});
            }
            if tokens {
                body["vectors"] = json!({"tokens": {"metric": "dot", "layout": "multivector",
                                                    "encoder": "multivector"}});
            }
            body
        }),
    )
    .await
    .with_context(|| format!("cannot create a collection with layout {layout:?}"))?;

    let started = Instant::now();
    for (n, chunk) in corpus.chunks(args.batch).enumerate() {
        let points: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let text = format!("{} {}", d.title, d.text);
                json!({"id": n * args.batch + i, "text": text.trim()})
            })
            .collect();
        call(
            client,
            reqwest::Method::PUT,
            &format!("{collection}/points"),
            Some(&json!({ "points": points })),
        )
        .await?;
        let done = (n * args.batch + chunk.len()).min(corpus.len());
        eprint!(
            "\reval: {layout}: ingest {done}/{} ({:.0} docs/s)   ",
            corpus.len(),
            done as f64 / started.elapsed().as_secs_f64().max(1e-9)
        );
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    let ingest_s = started.elapsed().as_secs_f64();
    Ok((collection, ingest_s))
}

/// Dense search through `search/batch`; the scores summed over the
/// queries, and the searches made.
async fn dense(
    client: &reqwest::Client,
    collection: &str,
    queries: &[Doc],
    qrels: &BTreeMap<String, HashSet<String>>,
    params: &serde_json::Map<String, Value>,
    ids: &dyn Fn(&Value) -> Vec<String>,
) -> Result<(Scores, usize)> {
    let mut totals = Scores::default();
    let mut made = 0;
    for chunk in queries.chunks(QUERY_BATCH) {
        // Each query twice: at `limit` 10, the search an application makes (so
        // compact layouts rerank their default number of candidates), for
        // nDCG@10 and MRR@10; at 100 for recall@100.
        let searches: Vec<Value> = chunk
            .iter()
            .flat_map(|q| {
                [10, DEPTH].map(|limit| {
                    json!({"text": q.text, "limit": limit, "with_payload": false, "params": params})
                })
            })
            .collect();
        made += searches.len();
        let answer = call(
            client,
            reqwest::Method::POST,
            &format!("{collection}/search/batch"),
            Some(&json!({ "searches": searches })),
        )
        .await?;
        let results = answer["results"]
            .as_array()
            .context("search/batch answered without results")?;
        ensure!(
            results.len() == searches.len(),
            "search/batch answered {} of {} searches",
            results.len(),
            searches.len()
        );
        for (q, pair) in chunk.iter().zip(results.chunks_exact(2)) {
            let top10 = score(&ids(&pair[0]), &qrels[&q.id]);
            let top100 = score(&ids(&pair[1]), &qrels[&q.id]);
            totals.ndcg10 += top10.ndcg10;
            totals.mrr10 += top10.mrr10;
            totals.recall100 += top100.recall100;
        }
    }
    Ok((totals, made))
}

/// Lexical and fused queries through `query`, one per query at `limit` 100
/// (their first 10 are the answer at `limit` 10: the stages' candidates do
/// not depend on the limit below [`FUSED_DEPTH`]).
async fn fused(
    client: &reqwest::Client,
    collection: &str,
    queries: &[Doc],
    qrels: &BTreeMap<String, HashSet<String>>,
    mode: &str,
    params: &serde_json::Map<String, Value>,
    ids: &dyn Fn(&Value) -> Vec<String>,
) -> Result<(Scores, usize)> {
    let mut totals = Scores::default();
    for q in queries {
        let stages = json!([
            {"text": q.text, "limit": FUSED_DEPTH, "params": params},
            {"lexical": q.text, "limit": FUSED_DEPTH},
        ]);
        let body = match mode {
            "lexical" => json!({"lexical": q.text, "limit": DEPTH, "with_payload": false}),
            "hybrid" => json!({"text": q.text, "mode": "hybrid", "limit": DEPTH,
                               "with_payload": false, "params": params}),
            "rrf" => {
                json!({"prefetch": stages, "fusion": "rrf", "limit": DEPTH, "with_payload": false})
            }
            "dbsf" => {
                json!({"prefetch": stages, "fusion": "dbsf", "limit": DEPTH, "with_payload": false})
            }
            "rerank" => json!({"prefetch": stages, "fusion": "dbsf", "limit": DEPTH,
                               "with_payload": false,
                               "rerank": {"using": "tokens", "text": q.text, "limit": FUSED_DEPTH}}),
            _ => json!({"prefetch": stages, "fusion": {"weights": [0.5, 0.5]}, "limit": DEPTH,
                        "with_payload": false}),
        };
        let answer = call(
            client,
            reqwest::Method::POST,
            &format!("{collection}/query"),
            Some(&body),
        )
        .await?;
        let ranking = ids(&answer);
        let top10 = score(&ranking[..ranking.len().min(10)], &qrels[&q.id]);
        let top100 = score(&ranking, &qrels[&q.id]);
        totals.ndcg10 += top10.ndcg10;
        totals.mrr10 += top10.mrr10;
        totals.recall100 += top100.recall100;
    }
    Ok((totals, queries.len()))
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<10} {:<16} {:<8} {:<6} {:>6} {:>7} {:>9} {:>10} {:>8} {:>9} {:>9}",
        "dataset",
        "layout",
        "mode",
        "search",
        "docs",
        "queries",
        "ndcg@10",
        "recall@100",
        "mrr@10",
        "ingest_s",
        "search/s"
    );
    for r in rows {
        println!(
            "{:<10} {:<16} {:<8} {:<6} {:>6} {:>7} {:>9.5} {:>10.5} {:>8.5} {:>9.1} {:>9.1}",
            r.dataset,
            r.layout,
            r.mode,
            r.search,
            r.docs,
            r.queries,
            r.ndcg10,
            r.recall100,
            r.mrr10,
            r.ingest_s,
            r.searches_per_s
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn ranking(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metrics_follow_their_definitions() {
        // One relevant document at rank 1: perfect.
        let s = score(&ranking(&["a", "b"]), &set(&["a"]));
        assert_eq!(
            s,
            Scores {
                ndcg10: 1.0,
                recall100: 1.0,
                mrr10: 1.0
            }
        );
        // At rank 3: DCG 1/log2(4) = 0.5 against an ideal of 1.
        let s = score(&ranking(&["x", "y", "a"]), &set(&["a"]));
        assert!((s.ndcg10 - 0.5).abs() < 1e-12);
        assert!((s.mrr10 - 1.0 / 3.0).abs() < 1e-12);
        // Two relevant, one found at rank 2: DCG 1/log2(3), ideal 1 + 1/log2(3).
        let s = score(&ranking(&["x", "a"]), &set(&["a", "b"]));
        let g = 1.0 / 3f64.log2();
        assert!((s.ndcg10 - g / (1.0 + g)).abs() < 1e-12);
        assert_eq!(s.recall100, 0.5);
        // Past rank 10 counts for recall only.
        let mut long: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        long.push("a".into());
        let s = score(&long, &set(&["a"]));
        assert_eq!((s.ndcg10, s.mrr10, s.recall100), (0.0, 0.0, 1.0));
    }

    #[test]
    fn a_subset_keeps_the_judged_documents_first() {
        let doc = |id: &str| Doc {
            id: id.into(),
            title: String::new(),
            text: String::new(),
        };
        let corpus: Vec<Doc> = ["a", "b", "c", "d", "e"].into_iter().map(doc).collect();
        let queries = vec![doc("q1")];
        let qrels = BTreeMap::from([("q1".to_string(), set(&["d"])), ("q2".into(), set(&["e"]))]);
        let ids = |docs: Vec<Doc>| docs.into_iter().map(|d| d.id).collect::<Vec<_>>();
        let all = || {
            ["a", "b", "c", "d", "e"]
                .into_iter()
                .map(doc)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(subset(corpus, &queries, &qrels, 3)), ["a", "b", "d"]);
        assert_eq!(ids(subset(all(), &queries, &qrels, 0)), ["d"]);
        assert_eq!(
            ids(subset(all(), &queries, &qrels, 9)),
            ["a", "b", "c", "d", "e"]
        );
    }

    #[test]
    fn qrels_keep_positive_judgements_and_skip_the_header() {
        let dir = std::env::temp_dir().join(format!("trawl-eval-qrels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.tsv");
        std::fs::write(
            &path,
            "query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t0\n2\td3\t0\n3\td4\t2\n",
        )
        .unwrap();
        let q = read_qrels(&path).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q["1"], set(&["d1"]));
        assert_eq!(q["3"], set(&["d4"]));
        std::fs::write(&path, "1\td1\n").unwrap();
        assert!(read_qrels(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
