//! `trawl-bench muvera`: multi-vector retrieval with MUVERA fixed-dimensional
//! encodings (Dhulipala et al., 2024) on BEIR SciFact, in the quantities of
//! `shared/bench/muvera_reference.py` so the two tables lay side by side.
//!
//! Two steps, one command:
//!
//! 1. **Export** (skipped when `--dir` already holds every file, unless
//!    `--force`): every document (`title + " " + text`) and every test query
//!    (those of `qrels/test.tsv`) embedded by Trawl's encoder into per-token
//!    vectors ([CLS] and [SEP] included, each L2-normalised), written as the
//!    multi-vector directory of `shared/bench/README.md`: `doc_tokens.npy`
//!    (float32 `[T, d]`), `doc_offsets.npy` (int64 `[N + 1]`),
//!    `query_tokens.npy`, `query_offsets.npy`, `doc_ids.json`, `query_ids.json`.
//! 2. **Measure**, one thread throughout. Ground truth is the exact Chamfer
//!    top-10 of every query by brute force over all documents (timed: scores
//!    and top-10 selection); its nDCG@10 with the qrels is the quality to
//!    match. Then for each `k_sim,d_proj,R_reps` configuration: the FDE of
//!    every document and query (ms each), the FDE dot-product ranking by brute
//!    force, `recall10@N` of its top-`N` against the exact Chamfer top-10, and
//!    the FDE top-100 reranked by exact Chamfer (nDCG@10, ms per query). A
//!    query's whole MUVERA search, `fde_search_plus_rerank_ms`, is its FDE,
//!    the scan (scores and top-100 selection) and the rerank; the speedup is
//!    the exact Chamfer scan's time over it.
//!
//! 3. **Index path** ([`index_path`]): the documents in a `multivector`
//!    collection built with the first configuration (FDEs in the HNSW graph,
//!    tokens in the mapped file), every query through `Collection::search` at
//!    each `--oversample`: recall@10 against exact Chamfer, nDCG@10, latency.
//!
//! Ties everywhere go to the lower document index, as NumPy's stable argsort
//! does in the reference, so both sides rank identically given equal scores.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use clap::Args;
use serde::Serialize;
use trawl_index::distance::dot;
use trawl_index::muvera::{Fde, FdeParams, chamfer};

use super::data::DEFAULT_DATA_DIR;
use super::model::ModelArgs;
use super::report::{MachineInfo, write_json};

mod export;
mod index_path;

use export::{MultiVectors, export, read_qrels};

/// Depth of the ground truth and of nDCG.
const K: usize = 10;
/// FDE candidates reranked by exact Chamfer.
const RERANK_DEPTH: usize = 100;
/// Candidate depths at which `recall10@N` is reported.
const RECALL_DEPTHS: [usize; 4] = [10, 50, 100, 200];
/// The directory's files; the export is complete when all exist.
const FILES: [&str; 6] = [
    "doc_tokens.npy",
    "doc_offsets.npy",
    "query_tokens.npy",
    "query_offsets.npy",
    "doc_ids.json",
    "query_ids.json",
];

/// Arguments of `trawl-bench muvera`.
#[derive(Debug, Args)]
pub struct MuveraArgs {
    /// The multi-vector directory: written by the export, read by the measurement.
    #[arg(long, default_value = "bench-out/muvera")]
    pub dir: PathBuf,
    /// BEIR directory with `corpus.jsonl`, `queries.jsonl` and `qrels/test.tsv`.
    #[arg(long, default_value = DEFAULT_DATA_DIR)]
    pub data: PathBuf,
    /// Embed again even when `--dir` holds every file.
    #[arg(long)]
    pub force: bool,
    /// FDE configurations, each `k_sim,d_proj,r_reps` (space-separated).
    #[arg(long, num_args = 1.., value_delimiter = ' ', default_values = ["5,16,20", "4,16,10"])]
    pub configs: Vec<FdeConfig>,
    /// Seed of the FDE's random matrices.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Index path: `oversample` values searched through a multivector
    /// collection built with the first configuration (none: skip it).
    #[arg(long, num_args = 0.., value_delimiter = ',', default_values_t = [5.0, 10.0, 20.0])]
    pub oversample: Vec<f32>,
    /// Texts submitted to the encoder at once during the export.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Encoder settings.
    #[command(flatten)]
    pub model: ModelArgs,
}

/// One FDE configuration, in the paper's symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdeConfig {
    /// SimHash hyperplanes per repetition.
    pub k_sim: u32,
    /// Dimensions each bucket is projected to.
    pub d_proj: u32,
    /// Repetitions.
    pub r_reps: u32,
}

impl FromStr for FdeConfig {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [k_sim, d_proj, r_reps] = parts.as_slice() else {
            return Err(format!("expected k_sim,d_proj,r_reps, got {s:?}"));
        };
        let num = |name: &str, v: &str| {
            v.parse::<u32>()
                .map_err(|e| format!("{name} in {s:?}: {e}"))
        };
        Ok(Self {
            k_sim: num("k_sim", k_sim)?,
            d_proj: num("d_proj", d_proj)?,
            r_reps: num("r_reps", r_reps)?,
        })
    }
}

impl FdeConfig {
    fn params(self, seed: u64) -> FdeParams {
        FdeParams {
            k_sim: self.k_sim,
            d_proj: self.d_proj,
            r_reps: self.r_reps,
            fill_empty_partitions: true,
            final_dims: None,
            seed,
        }
    }
}

/// Runs the export when needed, then the measurement.
pub fn run(args: &MuveraArgs) -> Result<()> {
    ensure!(args.batch > 0, "--batch must be positive");
    for config in &args.configs {
        config
            .params(args.seed)
            .validate()
            .map_err(anyhow::Error::msg)?;
    }
    if args.force || !FILES.iter().all(|f| args.dir.join(f).is_file()) {
        export(args)?;
    } else {
        eprintln!(
            "muvera: {} holds every file; measuring (--force embeds again)",
            args.dir.display()
        );
    }
    measure(args)
}

// ---------------------------------------------------------------------------
// Measurement

/// The `k` best indices of `scores`, best first; ties go to the lower index.
fn top_k(scores: &[f32], k: usize) -> Vec<usize> {
    let order = |a: &usize, b: &usize| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    let k = k.min(idx.len());
    if k == 0 {
        return Vec::new();
    }
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, order);
        idx.truncate(k);
    }
    idx.sort_unstable_by(order);
    idx
}

/// `candidates` reordered by exact Chamfer with `query`, best first; ties keep
/// the candidates' order.
fn rerank(query: &[f32], candidates: &[usize], docs: &MultiVectors) -> Vec<usize> {
    let mut scored: Vec<(f32, usize)> = candidates
        .iter()
        .map(|&j| (chamfer(query, docs.get(j), docs.dims), j))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, j)| j).collect()
}

/// nDCG@10 with binary relevance: the ideal ranking puts `min(10, |relevant|)`
/// relevant documents first (as the reference computes it).
fn ndcg_at_10(ranked: &[usize], doc_ids: &[String], relevant: &HashSet<String>) -> f64 {
    let gain = |rank: usize| 1.0 / (rank as f64 + 2.0).log2();
    let dcg: f64 = ranked
        .iter()
        .take(K)
        .enumerate()
        .filter(|&(_, &j)| relevant.contains(&doc_ids[j]))
        .map(|(rank, _)| gain(rank))
        .sum();
    let ideal: f64 = (0..relevant.len().min(K)).map(gain).sum();
    if ideal > 0.0 { dcg / ideal } else { 0.0 }
}

/// `|top ∩ truth| / |truth|`.
fn recall(top: &[usize], truth: &[usize]) -> f64 {
    let hits = truth.iter().filter(|j| top.contains(j)).count();
    hits as f64 / truth.len().max(1) as f64
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

fn ms_per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e3 / n.max(1) as f64
}

/// One configuration's row, its columns first in the reference's order.
#[derive(Debug, Serialize)]
struct ConfigRow {
    k_sim: u32,
    d_proj: u32,
    r_reps: u32,
    fde_dim: usize,
    doc_fde_ms: f64,
    query_fde_ms: f64,
    #[serde(rename = "recall10@10")]
    recall10_at_10: f64,
    #[serde(rename = "recall10@50")]
    recall10_at_50: f64,
    #[serde(rename = "recall10@100")]
    recall10_at_100: f64,
    #[serde(rename = "recall10@200")]
    recall10_at_200: f64,
    rerank100_ms: f64,
    ndcg10_fde100_rerank: f64,
    /// Brute-force FDE scan: the dot products with every document and the top-100.
    fde_scan_ms: f64,
    /// `query_fde_ms + fde_scan_ms + rerank100_ms`: one query's whole MUVERA search.
    fde_search_plus_rerank_ms: f64,
    /// `exact_chamfer_ms_per_query / fde_search_plus_rerank_ms`.
    speedup_vs_exact: f64,
}

impl ConfigRow {
    fn cells(&self) -> Vec<(&'static str, String)> {
        vec![
            ("k_sim", self.k_sim.to_string()),
            ("d_proj", self.d_proj.to_string()),
            ("r_reps", self.r_reps.to_string()),
            ("fde_dim", self.fde_dim.to_string()),
            ("doc_fde_ms", self.doc_fde_ms.to_string()),
            ("query_fde_ms", self.query_fde_ms.to_string()),
            ("recall10@10", self.recall10_at_10.to_string()),
            ("recall10@50", self.recall10_at_50.to_string()),
            ("recall10@100", self.recall10_at_100.to_string()),
            ("recall10@200", self.recall10_at_200.to_string()),
            ("rerank100_ms", self.rerank100_ms.to_string()),
            (
                "ndcg10_fde100_rerank",
                self.ndcg10_fde100_rerank.to_string(),
            ),
            ("fde_scan_ms", self.fde_scan_ms.to_string()),
            (
                "fde_search_plus_rerank_ms",
                self.fde_search_plus_rerank_ms.to_string(),
            ),
            ("speedup_vs_exact", self.speedup_vs_exact.to_string()),
        ]
    }
}

/// `DIR/muvera.json`.
#[derive(Debug, Serialize)]
struct Report {
    machine: MachineInfo,
    dir: PathBuf,
    qrels: PathBuf,
    seed: u64,
    threads: usize,
    docs: usize,
    queries: usize,
    dim: usize,
    doc_tokens: usize,
    query_tokens: usize,
    exact_chamfer_ms_per_query: f64,
    ndcg10_exact_chamfer: f64,
    configs: Vec<ConfigRow>,
    index: Vec<index_path::IndexRow>,
}

/// The data every configuration is measured on.
struct Bench<'a> {
    docs: &'a MultiVectors,
    queries: &'a MultiVectors,
    doc_ids: &'a [String],
    /// The measured queries (those with relevant documents) and their relevant sets.
    measured: Vec<(usize, &'a HashSet<String>)>,
    /// Exact Chamfer top-10 per measured query.
    gt: Vec<Vec<usize>>,
    exact_ms: f64,
}

fn measure(args: &MuveraArgs) -> Result<()> {
    let machine = MachineInfo::collect();
    let dir = &args.dir;
    let docs = MultiVectors::read(dir, "doc")?;
    let queries = MultiVectors::read(dir, "query")?;
    ensure!(
        docs.dims == queries.dims,
        "documents have {} dims, queries {}",
        docs.dims,
        queries.dims
    );
    let read_ids = |f: &str| -> Result<Vec<String>> {
        let path = dir.join(f);
        serde_json::from_str(
            &std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )
        .with_context(|| format!("{}", path.display()))
    };
    let doc_ids = read_ids("doc_ids.json")?;
    let query_ids = read_ids("query_ids.json")?;
    ensure!(
        doc_ids.len() == docs.len() && query_ids.len() == queries.len(),
        "ids and offsets disagree"
    );
    let qrels_path = args.data.join("qrels").join("test.tsv");
    let rel = read_qrels(&qrels_path)?;
    let measured: Vec<(usize, &HashSet<String>)> = query_ids
        .iter()
        .enumerate()
        .filter_map(|(i, q)| rel.get(q).map(|r| (i, r)))
        .collect();
    ensure!(
        !measured.is_empty(),
        "no query of {} has qrels",
        dir.display()
    );
    let dim = docs.dims;
    eprintln!(
        "muvera: {} documents ({} tokens), {} queries ({} tokens), {dim} dims; exact Chamfer by brute force, one thread",
        docs.len(),
        docs.rows(),
        measured.len(),
        queries.rows()
    );

    let mut scores = vec![0.0_f32; docs.len()];
    let mut gt = Vec::with_capacity(measured.len());
    let t = Instant::now();
    for &(i, _) in &measured {
        let q = queries.get(i);
        for (j, s) in scores.iter_mut().enumerate() {
            *s = chamfer(q, docs.get(j), dim);
        }
        gt.push(top_k(&scores, K));
    }
    let exact_ms = ms_per(t.elapsed(), measured.len());
    let ndcg_exact = measured
        .iter()
        .zip(&gt)
        .map(|(&(_, r), g)| ndcg_at_10(g, &doc_ids, r))
        .sum::<f64>()
        / measured.len() as f64;
    eprintln!("muvera: exact Chamfer {exact_ms:.1} ms/query, nDCG@10 {ndcg_exact:.5}");

    let bench = Bench {
        docs: &docs,
        queries: &queries,
        doc_ids: &doc_ids,
        measured,
        gt,
        exact_ms,
    };
    let mut rows = Vec::new();
    for config in &args.configs {
        rows.push(measure_config(&bench, config.params(args.seed))?);
    }
    let index = match args.configs.first() {
        Some(first) if !args.oversample.is_empty() => {
            index_path::measure(&bench, first.params(args.seed), &args.oversample)?
        }
        _ => Vec::new(),
    };

    let report = Report {
        machine,
        dir: dir.clone(),
        qrels: qrels_path,
        seed: args.seed,
        threads: 1,
        docs: docs.len(),
        queries: bench.measured.len(),
        dim,
        doc_tokens: docs.rows(),
        query_tokens: queries.rows(),
        exact_chamfer_ms_per_query: round(exact_ms, 2),
        ndcg10_exact_chamfer: round(ndcg_exact, 5),
        configs: rows,
        index,
    };
    println!(
        "docs {}  queries {}  dim {}  exact_chamfer_ms_per_query {}  ndcg10_exact_chamfer {}",
        report.docs,
        report.queries,
        report.dim,
        report.exact_chamfer_ms_per_query,
        report.ndcg10_exact_chamfer
    );
    print_table(&report.configs);
    if !report.index.is_empty() {
        println!("index path (multivector collection, HNSW on the FDEs, Chamfer rerank):");
        index_path::print_table(&report.index);
    }
    let path = write_json(dir, "muvera.json", &report)?;
    eprintln!("muvera: wrote {}", path.display());
    Ok(())
}

/// One row per configuration, columns as wide as their names (at least 14, as the reference).
fn print_table(rows: &[ConfigRow]) {
    let Some(first) = rows.first() else { return };
    let widths: Vec<usize> = first
        .cells()
        .iter()
        .map(|(name, _)| name.len().max(14))
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| format!("{c:>w$}"))
            .collect();
        println!("{}", padded.join("  "));
    };
    line(first.cells().iter().map(|(name, _)| *name).collect());
    for row in rows {
        let cells = row.cells();
        line(cells.iter().map(|(_, v)| v.as_str()).collect());
    }
}

fn measure_config(bench: &Bench<'_>, params: FdeParams) -> Result<ConfigRow> {
    let fde = Fde::new(params, bench.docs.dims).map_err(anyhow::Error::msg)?;
    let fd = fde.dims();
    let nd = bench.docs.len();
    let nq = bench.measured.len();

    let t = Instant::now();
    let mut doc_fde = Vec::with_capacity(nd * fd);
    for j in 0..nd {
        doc_fde.extend(fde.encode_document(bench.docs.get(j)));
    }
    let doc_fde_ms = ms_per(t.elapsed(), nd);
    let t = Instant::now();
    let query_fde: Vec<Vec<f32>> = bench
        .measured
        .iter()
        .map(|&(i, _)| fde.encode_query(bench.queries.get(i)))
        .collect();
    let query_fde_ms = ms_per(t.elapsed(), nq);

    let deepest = RECALL_DEPTHS[RECALL_DEPTHS.len() - 1];
    let mut scores = vec![0.0_f32; nd];
    let (mut scan, mut reranking) = (Duration::ZERO, Duration::ZERO);
    let mut recall_sums = [0.0_f64; RECALL_DEPTHS.len()];
    let mut ndcg_sum = 0.0;
    for (k, (&(i, relevant), fq)) in bench.measured.iter().zip(&query_fde).enumerate() {
        let t = Instant::now();
        for (s, d) in scores.iter_mut().zip(doc_fde.chunks_exact(fd)) {
            *s = dot(fq, d);
        }
        let candidates = top_k(&scores, RERANK_DEPTH);
        scan += t.elapsed();

        let t = Instant::now();
        let reranked = rerank(bench.queries.get(i), &candidates, bench.docs);
        reranking += t.elapsed();

        // Untimed: the deeper list for recall, from the same scores.
        let ranked = top_k(&scores, deepest);
        for (sum, &n) in recall_sums.iter_mut().zip(&RECALL_DEPTHS) {
            *sum += recall(&ranked[..n.min(ranked.len())], &bench.gt[k]);
        }
        ndcg_sum += ndcg_at_10(&reranked, bench.doc_ids, relevant);
    }
    let recall_at = |n: usize| round(recall_sums[n] / nq as f64, 4);
    let fde_scan_ms = ms_per(scan, nq);
    let rerank_ms = ms_per(reranking, nq);
    let total_ms = query_fde_ms + fde_scan_ms + rerank_ms;
    Ok(ConfigRow {
        k_sim: params.k_sim,
        d_proj: params.d_proj,
        r_reps: params.r_reps,
        fde_dim: fd,
        doc_fde_ms: round(doc_fde_ms, 3),
        query_fde_ms: round(query_fde_ms, 3),
        recall10_at_10: recall_at(0),
        recall10_at_50: recall_at(1),
        recall10_at_100: recall_at(2),
        recall10_at_200: recall_at(3),
        rerank100_ms: round(rerank_ms, 2),
        ndcg10_fde100_rerank: round(ndcg_sum / nq as f64, 5),
        fde_scan_ms: round(fde_scan_ms, 2),
        fde_search_plus_rerank_ms: round(total_ms, 2),
        speedup_vs_exact: round(bench.exact_ms / total_ms, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_of_a_hand_checked_ranking() {
        let ids: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let relevant: HashSet<String> = ["b", "d"].iter().map(|s| s.to_string()).collect();
        // Relevant at ranks 2 and 4 (1-based): DCG = 1/log2(3) + 1/log2(5);
        // ideal = 1 + 1/log2(3).
        let got = ndcg_at_10(&[0, 1, 2, 3], &ids, &relevant);
        let want = (1.0 / 3f64.log2() + 1.0 / 5f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        assert_eq!(ndcg_at_10(&[1, 3, 0, 2], &ids, &relevant), 1.0);
        assert_eq!(ndcg_at_10(&[0, 2], &ids, &relevant), 0.0);
    }

    #[test]
    fn top_k_is_best_first_with_ties_to_the_lower_index() {
        let scores = [0.5, 0.9, 0.5, 0.1, 0.9];
        assert_eq!(top_k(&scores, 3), vec![1, 4, 0]);
        assert_eq!(top_k(&scores, 10), vec![1, 4, 0, 2, 3]);
        assert!(top_k(&scores, 0).is_empty());
    }
}
