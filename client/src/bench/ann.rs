//! `trawl-bench ann`: Trawl's index on a vector benchmark directory, in the
//! columns of `shared/bench/peers.py` so the tables lay side by side.
//!
//! Build: one collection (M = 16, ef_construction = 200), every base row upserted
//! with its metadata as payload (keyword indexes on the filter keys), then the
//! graph built in the background on all cores, timed until complete. Search: one
//! thread, every query, best of 3 runs; `recall@10` against `gt.npy`. RAM is the
//! growth of the process's resident set over the build, as the peers measure it.
//! `--filtered` runs the filter sweep of `filters.json` on the first 300 queries,
//! with ground truth by brute force over the matching rows. Last, a snapshot
//! and a reopen are timed: the snapshot stores the graph, so the reopened
//! collection searches with it at once.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use serde_json::Value;
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, PayloadType, PointId, PointWrite,
    SearchQuery,
};

use super::npy;
use super::report::{MachineInfo, rss_mb, write_json};
use super::stats::percentile;

const K: usize = 10;
const EFS: [usize; 12] = [10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512];
const FILTER_EFS: [usize; 5] = [16, 32, 64, 128, 256];
const OVERSAMPLES: [f32; 11] = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 40.0];

/// Arguments of `trawl-bench ann`.
#[derive(Debug, Args)]
pub struct AnnArgs {
    /// The benchmark directory (`trawl-bench export` writes it).
    #[arg(long)]
    pub dir: PathBuf,
    /// Run the filter sweep instead of the unfiltered ef sweep.
    #[arg(long)]
    pub filtered: bool,
    /// Queries used by `--filtered`.
    #[arg(long, default_value_t = 300)]
    pub filtered_queries: usize,
    /// Storage layouts to build and measure one after the other, comma-separated
    /// (`float`, `binary`, `binary:2`, `binary:4`, `matryoshka:K`). Compact
    /// layouts sweep the oversampling factor instead of `ef`.
    #[arg(long, default_value = "float")]
    pub layout: String,
    /// HNSW `M`.
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// HNSW `ef_construction`.
    #[arg(long, default_value_t = 200)]
    pub ef_construction: usize,
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    system: &'static str,
    layout: String,
    params: String,
    build_s: f64,
    ram_mb: f64,
    ef: String,
    /// Candidates per result reranked (compact layouts).
    #[serde(skip_serializing_if = "Option::is_none")]
    oversample: Option<f32>,
    /// Memory for vectors and codes, from the collection's own accounting.
    vectors_codes_mb: f64,
    /// Everything the collection accounts in memory (graph, payloads, ids too).
    index_ram_mb: f64,
    #[serde(rename = "recall@10")]
    recall: f64,
    qps_1thread: f64,
    p50_ms: f64,
    p99_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    selectivity: Option<f64>,
}

fn read_meta(dir: &Path) -> Result<Vec<serde_json::Map<String, Value>>> {
    let file = std::fs::File::open(dir.join("meta.jsonl")).context("meta.jsonl")?;
    std::io::BufReader::new(file)
        .lines()
        .map(|l| {
            Ok(serde_json::from_str::<Value>(&l?)?
                .as_object()
                .cloned()
                .unwrap_or_default())
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct FilterSpec {
    name: String,
    key: String,
    any: Vec<String>,
}

fn recall(got: &[PointId], truth: &HashSet<u64>) -> f64 {
    let hits = got
        .iter()
        .filter(|id| matches!(id, PointId::Num(n) if truth.contains(n)))
        .count();
    hits as f64 / truth.len().clamp(1, K) as f64
}

/// Times `search` over every query (best of 3); returns qps, per-query p50/p99 and the last answers.
fn measure(
    queries: &npy::Array<f32>,
    n: usize,
    search: &dyn Fn(&[f32]) -> Vec<PointId>,
) -> (f64, f64, f64, Vec<Vec<PointId>>) {
    let mut best = f64::MAX;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        answers = (0..n).map(|i| search(queries.row(i))).collect();
        best = best.min(t.elapsed().as_secs_f64());
    }
    let mut lat: Vec<f64> = (0..n.min(200))
        .map(|i| {
            let t = Instant::now();
            let _ = search(queries.row(i));
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    lat.sort_by(f64::total_cmp);
    (
        n as f64 / best,
        percentile(&lat, 50.0),
        percentile(&lat, 99.0),
        answers,
    )
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

/// Runs the benchmark: every layout of `--layout` in turn, one table.
pub fn run(args: &AnnArgs) -> Result<()> {
    let base = npy::read_f32(&args.dir.join("base.npy"))?;
    let queries = npy::read_f32(&args.dir.join("queries.npy"))?;
    let gt = npy::read_int(&args.dir.join("gt.npy"))?;
    let meta = if args.filtered {
        read_meta(&args.dir)?
    } else {
        Vec::new()
    };
    let filters: Vec<FilterSpec> = if args.filtered {
        serde_json::from_str(
            &std::fs::read_to_string(args.dir.join("filters.json")).context("filters.json")?,
        )?
    } else {
        Vec::new()
    };
    let data = Data {
        base: &base,
        queries: &queries,
        gt: &gt,
        meta: &meta,
        filters: &filters,
    };
    let mut rows = Vec::new();
    let mut restarts = Vec::new();
    for layout in args.layout.split(',').map(str::trim) {
        let (mut r, restart) = run_layout(args, &data, layout)?;
        rows.append(&mut r);
        restarts.push(restart);
    }
    print_table(args, &rows)?;
    let file = if args.filtered {
        "trawl_filtered.json"
    } else {
        "trawl.json"
    };
    let path = write_json(
        &args.dir,
        file,
        &serde_json::json!({
            "benchmark": "ann",
            "machine": MachineInfo::collect(),
            "filtered": args.filtered,
            "restarts": restarts,
            "rows": rows,
        }),
    )?;
    eprintln!("ann: wrote {}", path.display());
    Ok(())
}

struct Data<'a> {
    base: &'a npy::Array<f32>,
    queries: &'a npy::Array<f32>,
    gt: &'a npy::Array<i64>,
    meta: &'a [serde_json::Map<String, Value>],
    filters: &'a [FilterSpec],
}

/// Builds one collection with `layout` and measures it; returns its rows and
/// the snapshot / reopen timings.
fn run_layout(args: &AnnArgs, data: &Data<'_>, layout_name: &str) -> Result<(Vec<Row>, Value)> {
    let Data {
        base,
        queries,
        gt,
        meta,
        filters,
    } = *data;
    let keys: BTreeMap<String, PayloadType> = filters
        .iter()
        .map(|f| (f.key.clone(), PayloadType::Keyword))
        .collect();
    let layout = Layout::parse(layout_name)?;
    let compact = layout != Layout::Float;
    let config = CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: base.cols,
                metric: Metric::Dot,
                layout,
                hnsw: HnswParams {
                    m: args.m,
                    ef_construction: args.ef_construction,
                },
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema: keys,
    };
    let scratch = std::env::temp_dir().join(format!("trawl-bench-ann-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let rss0 = rss_mb();
    let t = Instant::now();
    let collection = Collection::create(
        "bench",
        &scratch,
        config,
        WalOptions {
            sync: false,
            ..WalOptions::default()
        },
    )?;
    for start in (0..base.rows).step_by(10_000) {
        let end = (start + 10_000).min(base.rows);
        let points = (start..end)
            .map(|i| PointWrite {
                vectors: Default::default(),
                sparse: Default::default(),
                id: PointId::Num(i as u64),
                vector: base.row(i).to_vec(),
                payload: meta.get(i).cloned(),
            })
            .collect();
        collection.upsert(points)?;
    }
    collection.wait_indexed();
    // The optimiser merges what the load sealed in steps once writes pause:
    // the build ends when it has nothing left to do (else the searches below
    // would time the segments before the merge, beside a running build).
    while collection.stats().optimizing {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let build_s = round(t.elapsed().as_secs_f64(), 2);
    // The log (and a compact layout's vector file) leave dirty pages behind;
    // flush them now, so that their write-back does not run under the timings.
    if let Err(error) = std::process::Command::new("sync").status() {
        eprintln!("ann: cannot run sync ({error}); timings may include write-back");
    }
    let ram_mb = round(rss_mb() - rss0, 1);
    let stats = collection.stats();
    let mb = |b: u64| round(b as f64 / 1e6, 1);
    let vectors_codes_mb = mb(stats.memory.vectors + stats.memory.codes);
    let index_ram_mb = mb(stats.ram_bytes);
    eprintln!(
        "ann: {layout_name}: built {} points in {build_s} s, RSS +{ram_mb} MB; memory by part: {:?}",
        base.rows, stats.memory
    );
    let params = format!("M={} efC={}", args.m, args.ef_construction);
    let row = |ef: String,
               oversample: Option<f32>,
               recall: f64,
               qps: f64,
               p50: f64,
               p99: f64,
               filter: Option<(&str, f64)>| Row {
        system: "trawl",
        layout: layout_name.to_string(),
        params: params.clone(),
        build_s,
        ram_mb,
        ef,
        oversample,
        vectors_codes_mb,
        index_ram_mb,
        recall: round(recall, 4),
        qps_1thread: round(qps, 1),
        p50_ms: round(p50, 3),
        p99_ms: round(p99, 3),
        filter: filter.map(|(n, _)| n.to_string()),
        selectivity: filter.map(|(_, s)| round(s, 5)),
    };
    let search_with = |filter: Option<&Filter>,
                       ef: Option<usize>,
                       oversample: Option<f32>,
                       exact: bool,
                       v: &[f32]|
     -> Vec<PointId> {
        let query = SearchQuery {
            using: "",
            vector: v,
            filter,
            filter_limits: FilterLimits::default(),
            limit: K,
            ef,
            exact,
            oversample,
            rerank: true,
            with_payload: false,
            with_vector: false,
        };
        collection
            .search(&query)
            .map(|hits| hits.into_iter().map(|h| h.id).collect())
            .unwrap_or_default()
    };
    let search = |filter: Option<&Filter>, ef: Option<usize>, exact: bool, v: &[f32]| {
        search_with(filter, ef, None, exact, v)
    };
    let mut rows = Vec::new();
    if args.filtered {
        let nq = args.filtered_queries.min(queries.rows);
        for spec in filters {
            let filter = Filter {
                must: vec![Condition::MatchAny {
                    key: spec.key.clone(),
                    any: spec
                        .any
                        .iter()
                        .map(|v| MatchValue::Keyword(v.clone()))
                        .collect(),
                }],
                ..Filter::default()
            };
            let matching = meta
                .iter()
                .filter(|m| {
                    m.get(&spec.key)
                        .and_then(Value::as_str)
                        .is_some_and(|v| spec.any.iter().any(|a| a == v))
                })
                .count();
            let selectivity = matching as f64 / base.rows as f64;
            let truths: Vec<HashSet<u64>> = (0..nq)
                .map(|i| {
                    search(Some(&filter), None, true, queries.row(i))
                        .into_iter()
                        .filter_map(|id| {
                            if let PointId::Num(n) = id {
                                Some(n)
                            } else {
                                None
                            }
                        })
                        .collect()
                })
                .collect();
            let settings = std::iter::once(None).chain(FILTER_EFS.iter().map(|&e| Some(e)));
            for ef in settings {
                let (qps, p50, p99, answers) =
                    measure(queries, nq, &|v| search(Some(&filter), ef, false, v));
                let r = answers
                    .iter()
                    .zip(&truths)
                    .map(|(a, t)| recall(a, t))
                    .sum::<f64>()
                    / nq as f64;
                let ef_label = ef.map_or_else(|| "auto".to_string(), |e| e.to_string());
                rows.push(row(
                    ef_label,
                    None,
                    r,
                    qps,
                    p50,
                    p99,
                    Some((&spec.name, selectivity)),
                ));
            }
        }
    } else {
        let truths: Vec<HashSet<u64>> = (0..queries.rows)
            .map(|i| gt.row(i).iter().take(K).map(|&x| x as u64).collect())
            .collect();
        // Float sweeps ef; compact layouts sweep the candidates reranked
        // (the walk's ef is then at least limit × oversample).
        // Compact layouts also sweep ef with every walk result reranked
        // (oversample = ef / limit).
        let settings: Vec<(Option<usize>, Option<f32>)> = if compact {
            OVERSAMPLES
                .iter()
                .map(|&o| (None, Some(o)))
                .chain(
                    EFS.iter()
                        .filter(|&&e| (K..=128).contains(&e))
                        .map(|&e| (Some(e), Some(e as f32 / K as f32))),
                )
                .collect()
        } else {
            EFS.iter().map(|&e| (Some(e), None)).collect()
        };
        for (ef, oversample) in settings {
            let (qps, p50, p99, answers) = measure(queries, queries.rows, &|v| {
                search_with(None, ef, oversample, false, v)
            });
            let r = answers
                .iter()
                .zip(&truths)
                .map(|(a, t)| recall(a, t))
                .sum::<f64>()
                / queries.rows as f64;
            let ef_label = ef.map_or_else(|| "auto".to_string(), |e| e.to_string());
            rows.push(row(ef_label, oversample, r, qps, p50, p99, None));
        }
    }
    // Restart: a snapshot stores the graph, so opening it needs no rebuild.
    let t = Instant::now();
    collection.snapshot()?;
    let snapshot_s = round(t.elapsed().as_secs_f64(), 2);
    collection.close();
    drop(collection);
    let t = Instant::now();
    let reopened = Collection::open("bench", &scratch, WalOptions::default())?;
    let reopen_s = round(t.elapsed().as_secs_f64(), 2);
    let stats = reopened.stats();
    eprintln!(
        "ann: snapshot {snapshot_s} s; reopen {reopen_s} s with {} of {} points in the graph at once",
        stats.indexed, stats.points
    );
    reopened.close();
    drop(reopened);
    let _ = std::fs::remove_dir_all(&scratch);

    Ok((
        rows,
        serde_json::json!({
            "layout": layout_name,
            "snapshot_s": snapshot_s,
            "reopen_s": reopen_s,
            "reopen_indexed": stats.indexed,
            "memory": {
                "vectors": stats.memory.vectors,
                "codes": stats.memory.codes,
                "graph": stats.memory.graph,
                "vectors_file": stats.memory.vectors_file,
            },
        }),
    ))
}

fn print_table(args: &AnnArgs, rows: &[Row]) -> Result<()> {
    let mut columns = vec![
        "system",
        "layout",
        "params",
        "build_s",
        "ram_mb",
        "vectors_codes_mb",
        "ef",
        "oversample",
        "recall@10",
        "qps_1thread",
        "p50_ms",
        "p99_ms",
    ];
    if args.filtered {
        columns.extend(["filter", "selectivity"]);
    }
    super::report::print_table(&columns, rows, 12)
}
