//! The index path of `trawl-bench muvera`: the documents in a real
//! `multivector` collection (FDEs in the HNSW graph, token vectors in the
//! mapped token file), each query searched through `Collection::search` at
//! several `oversample` values. This is what a search through the server
//! costs, minus HTTP and the query's embedding.

use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;
use trawl_index::filter::FilterLimits;
use trawl_index::muvera::FdeParams;
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, PointId, PointWrite, SearchQuery,
};

use super::{Bench, K, ndcg_at_10, recall, round};
use crate::bench::stats::Latency;

/// Documents per upsert while building.
const UPSERT_BATCH: usize = 256;

/// One `oversample` value's figures on the collection.
#[derive(Debug, Serialize)]
pub(super) struct IndexRow {
    k_sim: u32,
    d_proj: u32,
    r_reps: u32,
    fde_dim: usize,
    oversample: f32,
    candidates: usize,
    /// Recall of the returned top-10 against the exact Chamfer top-10.
    recall10: f64,
    ndcg10: f64,
    mean_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    speedup_vs_exact: f64,
    build_s: f64,
    ram_mb: f64,
    disk_mb: f64,
}

/// Builds the collection in a scratch directory, then measures each oversample.
pub(super) fn measure(
    bench: &Bench<'_>,
    params: FdeParams,
    oversamples: &[f32],
) -> Result<Vec<IndexRow>> {
    let scratch = std::env::temp_dir().join(format!("trawl-bench-muvera-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let config = CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: bench.docs.dims,
                metric: Metric::Cosine,
                layout: Layout::Multivector,
                hnsw: HnswParams::default(),
                muvera: Some(params),
                encoder: None,
            },
        )]),
        payload_schema: Default::default(),
    };
    let wal = WalOptions {
        sync: false,
        ..WalOptions::default()
    };
    let started = Instant::now();
    let collection = Collection::create("muvera", &scratch, config, wal)
        .with_context(|| format!("cannot create a collection in {}", scratch.display()))?;
    let n = bench.docs.len();
    for start in (0..n).step_by(UPSERT_BATCH) {
        let points = (start..(start + UPSERT_BATCH).min(n))
            .map(|j| PointWrite {
                vectors: Default::default(),
                sparse: Default::default(),
                id: PointId::Num(j as u64),
                vector: bench.docs.get(j).to_vec(),
                payload: None,
            })
            .collect();
        collection.upsert(points)?;
        eprint!(
            "\rmuvera: index: {}/{n} documents   ",
            (start + UPSERT_BATCH).min(n)
        );
    }
    collection.wait_indexed();
    let build_s = started.elapsed().as_secs_f64();
    let stats = collection.stats();
    eprintln!("\rmuvera: index: {n} documents in the graph after {build_s:.1} s");

    let mut rows = Vec::new();
    for &oversample in oversamples {
        let mut latencies = Vec::with_capacity(bench.measured.len());
        let (mut recall_sum, mut ndcg_sum) = (0.0, 0.0);
        for (k, &(i, relevant)) in bench.measured.iter().enumerate() {
            let query = SearchQuery {
                using: "",
                vector: bench.queries.get(i),
                filter: None,
                filter_limits: FilterLimits::default(),
                limit: K,
                ef: None,
                exact: false,
                oversample: Some(oversample),
                rerank: true,
                with_payload: false,
                with_vector: false,
            };
            let t = Instant::now();
            let hits = collection.search(&query)?;
            latencies.push(t.elapsed());
            let ranked: Vec<usize> = hits
                .iter()
                .filter_map(|h| match h.id {
                    PointId::Num(j) => Some(j as usize),
                    PointId::Uuid(_) | PointId::Str(_) => None,
                })
                .collect();
            recall_sum += recall(&ranked, &bench.gt[k]);
            ndcg_sum += ndcg_at_10(&ranked, bench.doc_ids, relevant);
        }
        let nq = bench.measured.len();
        let latency = Latency::from_samples(&latencies).context("no queries")?;
        rows.push(IndexRow {
            k_sim: params.k_sim,
            d_proj: params.d_proj,
            r_reps: params.r_reps,
            fde_dim: params.dims(),
            oversample,
            candidates: (K as f32 * oversample).ceil() as usize,
            recall10: round(recall_sum / nq as f64, 4),
            ndcg10: round(ndcg_sum / nq as f64, 5),
            mean_ms: round(latency.mean_ms, 2),
            p50_ms: round(latency.p50_ms, 2),
            p99_ms: round(latency.p99_ms, 2),
            speedup_vs_exact: round(bench.exact_ms / latency.mean_ms, 1),
            build_s: round(build_s, 1),
            ram_mb: round(stats.ram_bytes as f64 / 1e6, 1),
            disk_mb: round(stats.disk_bytes as f64 / 1e6, 1),
        });
    }
    collection.close();
    drop(collection);
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(rows)
}

/// The rows as a plain table.
pub(super) fn print_table(rows: &[IndexRow]) {
    println!(
        "{:>12} {:>8} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9}",
        "k,d,R",
        "fde_dim",
        "oversample",
        "candidates",
        "recall10",
        "ndcg10",
        "mean_ms",
        "p99_ms",
        "speedup",
        "build_s",
        "ram_mb",
        "disk_mb"
    );
    for r in rows {
        println!(
            "{:>12} {:>8} {:>10} {:>10} {:>9.4} {:>9.5} {:>9.2} {:>9.2} {:>8.1} {:>9.1} {:>9.1} {:>9.1}",
            format!("{},{},{}", r.k_sim, r.d_proj, r.r_reps),
            r.fde_dim,
            r.oversample,
            r.candidates,
            r.recall10,
            r.ndcg10,
            r.mean_ms,
            r.p99_ms,
            r.speedup_vs_exact,
            r.build_s,
            r.ram_mb,
            r.disk_mb
        );
    }
}
