//! `trawl-bench sparse`: sparse-vector search in-process on SPLADE-shaped
//! vectors, the pruned search (MaxScore over each segment's postings)
//! beside brute force (every point's dot product with the query) in one
//! run, with the top-10 of both compared for every query.
//!
//! The vectors are synthetic and seeded, shaped as SPLADE's on MS MARCO
//! passages: a 30,522-term vocabulary (BERT's), indices drawn from a Zipf
//! law (a few terms in most documents, most terms rare), about `--doc-nnz`
//! weights per point and `--query-nnz` per query, weights log-normal around
//! 0.6. The collection is written through the index (log, appendable
//! segment, sealing into segments), then queried one query at a time on one
//! thread, unfiltered and under a payload filter matching 10 % of points.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::sparse::{SparseConfig, SparseVector};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, Layout, Metric, Payload, PayloadType, PointId, PointWrite,
    SealPolicy, SparseSearch, VectorConfig,
};

use super::report::{MachineInfo, print_table, rss_mb, write_json};
use super::stats::percentile;

/// BERT's vocabulary, SPLADE's output space.
const VOCABULARY: usize = 30_522;
const K: usize = 10;

/// Arguments of `trawl-bench sparse`.
#[derive(Debug, Args)]
pub struct SparseArgs {
    /// Points.
    #[arg(long, default_value_t = 100_000)]
    pub points: usize,
    /// Queries (each timed pruned and brute force).
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Mean weights per point.
    #[arg(long, default_value_t = 120)]
    pub doc_nnz: usize,
    /// Mean weights per query.
    #[arg(long, default_value_t = 30)]
    pub query_nnz: usize,
    /// Zipf exponent of the term distribution.
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// Where the collection is written (removed afterwards) and the JSON goes.
    #[arg(long, default_value = "target/bench/sparse")]
    pub out: PathBuf,
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    search: &'static str,
    filter: &'static str,
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Pruned over brute-force queries per second.
    speedup: f64,
    /// Queries whose top-10 differs from brute force's.
    mismatches: usize,
}

/// xorshift64*, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Terms by a Zipf law over the vocabulary (a shuffled rank → term map, so
/// that frequent terms are spread over the index space).
struct Terms {
    cdf: Vec<f64>,
    term_of_rank: Vec<u32>,
}

impl Terms {
    fn new(exponent: f64, rng: &mut Rng) -> Self {
        let mut cdf = Vec::with_capacity(VOCABULARY);
        let mut sum = 0.0;
        for rank in 0..VOCABULARY {
            sum += 1.0 / ((rank + 1) as f64).powf(exponent);
            cdf.push(sum);
        }
        cdf.iter_mut().for_each(|c| *c /= sum);
        let mut term_of_rank: Vec<u32> = (0..VOCABULARY as u32).collect();
        for i in (1..term_of_rank.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            term_of_rank.swap(i, j);
        }
        Self { cdf, term_of_rank }
    }

    /// A vector of about `mean` distinct terms.
    fn vector(&self, mean: usize, rng: &mut Rng) -> SparseVector {
        // Lengths vary by ±50 %.
        let n = (mean as f64 * (0.5 + rng.unit())).round().max(1.0) as usize;
        let mut picked = std::collections::BTreeMap::new();
        let mut tries = 0;
        while picked.len() < n && tries < 20 * n {
            tries += 1;
            let u = rng.unit();
            let rank = self.cdf.partition_point(|&c| c < u).min(VOCABULARY - 1);
            let weight = (0.6 * (0.5 * rng.normal()).exp()) as f32;
            picked.insert(self.term_of_rank[rank], weight);
        }
        SparseVector {
            indices: picked.keys().copied().collect(),
            values: picked.values().copied().collect(),
        }
    }
}

/// Runs the benchmark.
pub fn run(args: &SparseArgs) -> Result<()> {
    if args.points == 0 || args.queries == 0 {
        bail!("--points and --queries must be positive");
    }
    let dir = args.out.join("collection");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let mut config = CollectionConfig::single(VectorConfig::new(1, Metric::Dot, Layout::Float));
    config.vectors.clear();
    config
        .sparse
        .insert("splade".into(), SparseConfig { idf: false });
    config
        .payload_schema
        .insert("decile".into(), PayloadType::Keyword);
    let wal = WalOptions {
        sync: false,
        ..WalOptions::default()
    };
    let collection = Collection::create_with("sparse", &dir, config, wal, SealPolicy::default())?;
    let mut rng = Rng(0x5ba2_5e00_d0c5);
    let terms = Terms::new(args.zipf, &mut rng);
    let rss0 = rss_mb();
    let started = Instant::now();
    let mut nnz = 0usize;
    let mut batch = Vec::with_capacity(1_000);
    for i in 0..args.points {
        let v = terms.vector(args.doc_nnz, &mut rng);
        nnz += v.len();
        let mut payload = Payload::new();
        payload.insert("decile".into(), format!("d{}", i % 10).into());
        let mut p = PointWrite::new(PointId::Num(i as u64), Vec::new(), Some(payload));
        p.sparse.insert("splade".into(), v);
        batch.push(p);
        if batch.len() == 1_000 || i + 1 == args.points {
            collection.upsert(std::mem::take(&mut batch))?;
        }
        if (i + 1) % 20_000 == 0 {
            eprintln!("sparse: {} of {} points written", i + 1, args.points);
        }
    }
    collection.wait_indexed();
    let ingest_s = started.elapsed().as_secs_f64();
    let stats = collection.stats();
    eprintln!(
        "sparse: {} points, {:.1} weights each, in {} segments, {ingest_s:.1} s; sparse files {:.0} MB",
        stats.points,
        nnz as f64 / args.points as f64,
        stats.segments,
        stats.memory.sparse_file as f64 / 1e6,
    );
    let queries: Vec<SparseVector> = (0..args.queries)
        .map(|_| terms.vector(args.query_nnz, &mut rng))
        .collect();
    let decile = Filter {
        must: vec![Condition::Match {
            key: "decile".into(),
            value: MatchValue::Keyword("d3".into()),
        }],
        ..Filter::default()
    };
    let mut rows = Vec::new();
    for (filter_name, filter) in [("none", None), ("10 %", Some(&decile))] {
        let mut answers: Vec<Vec<Vec<(PointId, f32)>>> = Vec::new();
        let mut timings = Vec::new();
        for exact in [false, true] {
            let mut lat = Vec::with_capacity(queries.len());
            let mut got = Vec::with_capacity(queries.len());
            let t = Instant::now();
            for q in &queries {
                let one = Instant::now();
                let hits = collection.search_sparse(&SparseSearch {
                    using: "splade",
                    vector: q,
                    filter,
                    filter_limits: FilterLimits::default(),
                    limit: K,
                    exact,
                    with_payload: false,
                    with_vector: false,
                })?;
                lat.push(one.elapsed().as_secs_f64() * 1e3);
                got.push(hits.into_iter().map(|h| (h.id, h.score)).collect());
            }
            let qps = queries.len() as f64 / t.elapsed().as_secs_f64();
            lat.sort_by(f64::total_cmp);
            timings.push((qps, lat));
            answers.push(got);
        }
        let mismatches = answers[0]
            .iter()
            .zip(&answers[1])
            .filter(|(a, b)| !same(a, b))
            .count();
        let speedup = timings[0].0 / timings[1].0;
        for (i, (qps, lat)) in timings.into_iter().enumerate() {
            rows.push(Row {
                search: if i == 0 { "pruned" } else { "brute force" },
                filter: filter_name,
                qps: round(qps, 1),
                p50_ms: round(percentile(&lat, 50.0), 3),
                p99_ms: round(percentile(&lat, 99.0), 3),
                speedup: if i == 0 { round(speedup, 2) } else { 1.0 },
                mismatches: if i == 0 { mismatches } else { 0 },
            });
        }
    }
    print_table(
        &[
            "search",
            "filter",
            "qps",
            "p50_ms",
            "p99_ms",
            "speedup",
            "mismatches",
        ],
        &rows,
        10,
    )?;
    let path = write_json(
        &args.out,
        "sparse.json",
        &serde_json::json!({
            "machine": MachineInfo::collect(),
            "points": stats.points,
            "segments": stats.segments,
            "weights_per_point": nnz as f64 / args.points as f64,
            "query_nnz": args.query_nnz,
            "vocabulary": VOCABULARY,
            "zipf": args.zipf,
            "ingest_s": round(ingest_s, 1),
            "rss_growth_mb": round(rss_mb() - rss0, 1),
            "sparse_file_mb": round(stats.memory.sparse_file as f64 / 1e6, 1),
            "rows": rows,
        }),
    )?;
    eprintln!("wrote {}", path.display());
    collection.close();
    drop(collection);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// Whether two top-10s agree: the same scores (up to rounding), and the
/// same points above the last score (ties at it may differ).
fn same(a: &[(PointId, f32)], b: &[(PointId, f32)]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let close = |x: f32, y: f32| (x - y).abs() <= 1e-4 * y.abs().max(1.0);
    if !a.iter().zip(b).all(|(x, y)| close(x.1, y.1)) {
        return false;
    }
    let last = b.last().map_or(0.0, |x| x.1);
    let above = |v: &[(PointId, f32)]| {
        let mut ids: Vec<PointId> = v
            .iter()
            .filter(|x| x.1 > last && !close(x.1, last))
            .map(|x| x.0.clone())
            .collect();
        ids.sort();
        ids
    };
    above(a) == above(b)
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}
