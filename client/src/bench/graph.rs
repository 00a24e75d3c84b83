//! `trawl-bench graph`: the HNSW graph builders alone, on a vector benchmark
//! directory, in the peers' columns (so the table lays beside `peers.py`'s
//! hnswlib and FAISS rows).
//!
//! Each builder builds one graph over every base row (cosine, `M`,
//! `ef_construction`, all cores), timed; RAM is the growth of the process's
//! resident set over the build (the base vectors are loaded before, as the
//! peers load theirs). Searches walk the resulting flat graph with one
//! thread over an `ef` sweep, scoring the same in-memory vectors, with
//! recall@10 against `gt.npy`.
//!
//! - `trawl`: the index's own builder (`trawl_index::graph::build`), which
//!   reads the vectors where they are and builds straight into the flat graph.
//! - `trawl-i8`: the same builder over the vectors quantised to bytes
//!   (`trawl_index::graph::ByteSpace`), as sealing builds float segments.
//! - `trawl-i8-grow`: `trawl-i8` over the first 40 % of the rows, then the
//!   rest inserted into that graph (`extend_unless`, as a seal that takes in
//!   the segment before does); both steps' times go to stderr.
//! - `hnsw_rs`: the `hnsw_rs` builder as collections have used it: rows copied
//!   in, inserted in parallel batches of 4,096, and the graph copied into the
//!   flat form after each batch.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use trawl_index::graph::{BuildSpace, ByteSpace, FloatScorer, Graph, Rows, Space};
use trawl_index::{HnswParams, Metric, Offset};

use super::npy;
use super::report::{MachineInfo, rss_mb, write_json};
use super::stats::percentile;

const K: usize = 10;
const EFS: [usize; 9] = [10, 16, 24, 32, 48, 64, 96, 128, 256];
/// Rows per `hnsw_rs` insert batch, as the collection's indexer inserts them.
const HNSW_RS_BATCH: usize = 4_096;

/// Arguments of `trawl-bench graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// The benchmark directory (`trawl-bench export` writes it).
    #[arg(long)]
    pub dir: PathBuf,
    /// Builders to run, one after the other: `trawl`, `trawl-i8`, `trawl-i8-grow`, `hnsw_rs`.
    #[arg(long, default_value = "trawl,hnsw_rs")]
    pub builders: String,
    /// HNSW `M`.
    #[arg(long, default_value_t = 16)]
    pub m: usize,
    /// HNSW `ef_construction`.
    #[arg(long, default_value_t = 200)]
    pub ef_construction: usize,
    /// Build over the first N base rows only (0: all).
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    system: String,
    layout: &'static str,
    params: String,
    build_s: f64,
    ram_mb: f64,
    graph_mb: f64,
    ef: usize,
    #[serde(rename = "recall@10")]
    recall: f64,
    qps_1thread: f64,
    p50_ms: f64,
    p99_ms: f64,
}

struct Floats<'a> {
    data: &'a [f32],
    dims: usize,
}

impl BuildSpace for Floats<'_> {
    fn distance(&self, a: Offset, b: Offset) -> f32 {
        Metric::Cosine.distance(self.row(a), self.row(b))
    }

    fn prefetch(&self, a: Offset) {
        // The first lines only: the hardware prefetcher follows a sequential read.
        let row = self.row(a);
        trawl_index::distance::prefetch(&row[..row.len().min(64)]);
    }
}

impl Floats<'_> {
    fn row(&self, o: Offset) -> &[f32] {
        &self.data[o as usize * self.dims..(o as usize + 1) * self.dims]
    }
}

/// Runs the benchmark.
pub fn run(args: &GraphArgs) -> Result<()> {
    let base = npy::read_f32(&args.dir.join("base.npy"))?;
    let queries = npy::read_f32(&args.dir.join("queries.npy"))?;
    let gt = npy::read_int(&args.dir.join("gt.npy"))?;
    let n = if args.limit == 0 {
        base.rows
    } else {
        args.limit.min(base.rows)
    };
    let dims = base.cols;
    let data = &base.data[..n * dims];
    let truths: Vec<Vec<Offset>> = if n == base.rows {
        (0..queries.rows)
            .map(|i| gt.row(i).iter().take(K).map(|&x| x as Offset).collect())
            .collect()
    } else {
        // Ground truth over the prefix, by brute force.
        (0..queries.rows)
            .map(|i| {
                let q = queries.row(i);
                let mut all: Vec<(Offset, f32)> = (0..n as Offset)
                    .map(|o| {
                        (
                            o,
                            trawl_index::distance::dot(
                                q,
                                &data[o as usize * dims..(o as usize + 1) * dims],
                            ),
                        )
                    })
                    .collect();
                all.sort_by(|a, b| b.1.total_cmp(&a.1));
                all.into_iter().take(K).map(|(o, _)| o).collect()
            })
            .collect()
    };
    let params = HnswParams {
        m: args.m,
        ef_construction: args.ef_construction,
    };
    if let Err((field, reason)) = params.validate() {
        bail!("{field}: {reason}");
    }
    let mut rows = Vec::new();
    for builder in args.builders.split(',').map(str::trim) {
        let rss0 = rss_mb();
        let started = Instant::now();
        let points: Vec<Offset> = (0..n as Offset).collect();
        let bytes = || {
            ByteSpace::new(n, dims, Metric::Cosine, |o| {
                &data[o as usize * dims..(o as usize + 1) * dims]
            })
        };
        let (graph, keep) = match builder {
            "trawl" | "trawl-i8" => {
                let graph = if builder == "trawl" {
                    trawl_index::graph::build(&Floats { data, dims }, &points, params, 0x7ea1)
                } else {
                    trawl_index::graph::build(&bytes(), &points, params, 0x7ea1)
                };
                (graph, None)
            }
            "trawl-i8-grow" => {
                let space = bytes();
                let first = trawl_index::graph::build(&space, &points[..n * 2 / 5], params, 0x7ea1);
                eprintln!(
                    "graph: first 40 % in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
                let t = Instant::now();
                let all = trawl_index::graph::extend_unless(
                    &space,
                    &points,
                    params,
                    0x7ea1,
                    &first,
                    &|| false,
                );
                eprintln!("graph: the rest in {:.1} s", t.elapsed().as_secs_f64());
                (
                    all.unwrap_or_else(trawl_index::graph::FlatGraph::empty),
                    None,
                )
            }
            "hnsw_rs" => {
                let g = Graph::new(
                    params,
                    Space::Floats {
                        dims,
                        metric: Metric::Cosine,
                    },
                    n,
                );
                for start in (0..n).step_by(HNSW_RS_BATCH) {
                    let end = (start + HNSW_RS_BATCH).min(n);
                    let batch = Rows::Floats(
                        (start..end)
                            .map(|o| (o as Offset, data[o * dims..(o + 1) * dims].to_vec()))
                            .collect(),
                    );
                    g.insert_batch(&batch);
                }
                let flat = g
                    .segments()
                    .pop()
                    .map(|s| (*s).clone())
                    .unwrap_or_else(trawl_index::graph::FlatGraph::empty);
                // The builder stays alive beside the flat graph, as in a collection.
                (flat, Some(g))
            }
            other => bail!(
                "unknown builder {other:?}: expected trawl, trawl-i8, trawl-i8-grow or hnsw_rs"
            ),
        };
        let build_s = started.elapsed().as_secs_f64();
        let ram_mb = rss_mb() - rss0;
        let graph_mb = graph.ram_bytes() as f64 / 1e6;
        eprintln!(
            "graph: {builder} built {} nodes in {build_s:.1} s (RSS +{ram_mb:.0} MB)",
            graph.len()
        );
        for ef in EFS {
            let search = |i: usize| -> Vec<Offset> {
                let scorer = FloatScorer::new(queries.row(i), data, Metric::Cosine);
                graph
                    .search(&scorer, K, ef, None)
                    .into_iter()
                    .map(|(o, _)| o)
                    .collect()
            };
            let mut best = f64::MAX;
            let mut answers = Vec::new();
            for _ in 0..3 {
                let t = Instant::now();
                answers = (0..queries.rows).map(search).collect::<Vec<_>>();
                best = best.min(t.elapsed().as_secs_f64());
            }
            let mut lat: Vec<f64> = (0..queries.rows.min(300))
                .map(|i| {
                    let t = Instant::now();
                    let _ = search(i);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            lat.sort_by(f64::total_cmp);
            let hits: usize = answers
                .iter()
                .zip(&truths)
                .map(|(a, t)| a.iter().filter(|o| t.contains(o)).count())
                .sum();
            rows.push(Row {
                system: format!("trawl-graph:{builder}"),
                layout: "float",
                params: format!("M={},efC={}", args.m, args.ef_construction),
                build_s: round(build_s, 1),
                ram_mb: round(ram_mb, 1),
                graph_mb: round(graph_mb, 1),
                ef,
                recall: round(hits as f64 / (queries.rows * K) as f64, 4),
                qps_1thread: round(queries.rows as f64 / best, 1),
                p50_ms: round(percentile(&lat, 50.0), 3),
                p99_ms: round(percentile(&lat, 99.0), 3),
            });
        }
        drop(keep);
        drop(graph);
    }
    print_table(&rows)?;
    let path = write_json(
        &args.dir,
        "trawl_graph.json",
        &serde_json::json!({
            "machine": MachineInfo::collect(),
            "points": n,
            "dims": dims,
            "rows": rows,
        }),
    )?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn print_table(rows: &[Row]) -> Result<()> {
    let columns = [
        "system",
        "params",
        "build_s",
        "ram_mb",
        "graph_mb",
        "ef",
        "recall@10",
        "qps_1thread",
        "p50_ms",
        "p99_ms",
    ];
    super::report::print_table(&columns, rows, 14)
}
