//! `trawl-bench export`: the vector benchmark directory from a text corpus,
//! embedded with Trawl's own encoder (format: `shared/bench/README.md`).
//!
//! Corpus lines are shuffled with a seeded generator; the first `n` become the
//! base, the next `queries` the queries (so queries are never in the base).
//! Writes `base.npy`, `queries.npy` (float32, L2-normalised), `gt.npy` (int32,
//! exact top-100 by dot product, best first), `meta.jsonl` (each base row's
//! `metadata`), and copies `filters.json` from beside the corpus.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;
use trawl_encoders::{Embedder, Precision};

use super::model::ModelArgs;
use super::npy;

/// Ground-truth depth.
const GT_DEPTH: usize = 100;

/// Arguments of `trawl-bench export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The corpus: JSON lines `{_id, title, text, metadata}`, optionally gzipped.
    #[arg(long, default_value = "../shared/data/shorttext/corpus.jsonl.gz")]
    pub corpus: PathBuf,
    /// Base vectors.
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Query vectors (texts not in the base).
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// Seed of the shuffle.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
    /// Encoder settings.
    #[command(flatten)]
    pub model: ModelArgs,
}

pub(crate) struct Line {
    pub(crate) text: String,
    pub(crate) meta: Value,
}

pub(crate) fn read_corpus(path: &std::path::Path) -> Result<Vec<Line>> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    reader
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(&line?)?;
            let title = v["title"].as_str().unwrap_or("");
            let text = v["text"].as_str().unwrap_or("");
            Ok(Line {
                text: if title.is_empty() {
                    text.to_string()
                } else {
                    format!("{title} {text}")
                },
                meta: v
                    .get("metadata")
                    .cloned()
                    .unwrap_or(Value::Object(Default::default())),
            })
        })
        .collect()
}

/// Seeded Fisher–Yates with xorshift64*.
pub(crate) fn shuffle(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed.max(1);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
    order
}

/// Exact top-`GT_DEPTH` base rows for each query by dot product, on all cores.
pub fn ground_truth(base: &[f32], queries: &[f32], dims: usize) -> Vec<i32> {
    let nq = queries.len() / dims;
    let threads = super::model::cores();
    let mut gt = vec![0i32; nq * GT_DEPTH];
    let chunk = nq.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (qi, out) in gt.chunks_mut(chunk * GT_DEPTH).enumerate() {
            scope.spawn(move || {
                for (j, row) in out.chunks_mut(GT_DEPTH).enumerate() {
                    let q = &queries[(qi * chunk + j) * dims..(qi * chunk + j + 1) * dims];
                    let mut scored: Vec<(f32, i32)> = base
                        .chunks_exact(dims)
                        .enumerate()
                        .map(|(i, b)| (trawl_index::distance::dot(q, b), i as i32))
                        .collect();
                    let k = GT_DEPTH.min(scored.len());
                    scored.select_nth_unstable_by(k.saturating_sub(1), |a, b| b.0.total_cmp(&a.0));
                    scored.truncate(k);
                    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    for (slot, (_, i)) in row.iter_mut().zip(scored) {
                        *slot = i;
                    }
                }
            });
        }
    });
    gt
}

/// Runs the export.
pub fn run(args: &ExportArgs) -> Result<()> {
    let started = Instant::now();
    let lines = read_corpus(&args.corpus)?;
    anyhow::ensure!(
        lines.len() >= args.n + args.queries,
        "{} has {} texts; --n {} + --queries {} do not fit",
        args.corpus.display(),
        lines.len(),
        args.n,
        args.queries
    );
    let order = shuffle(lines.len(), args.seed);
    let base_rows = &order[..args.n];
    let query_rows = &order[args.n..args.n + args.queries];
    eprintln!(
        "export: {} texts read, embedding {} + {}",
        lines.len(),
        args.n,
        args.queries
    );

    trawl_encoders::init_runtime(&args.model.ort_lib)?;
    let embedder = Embedder::load(
        &args.model.embedder_config(Precision::Fp32, 4_096),
        Arc::new(()),
    )?;
    let dims = embedder.spec().dims;
    let embed = |rows: &[usize], what: &str| -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(rows.len() * dims);
        let t = Instant::now();
        for (i, chunk) in rows.chunks(8_192).enumerate() {
            let texts: Vec<String> = chunk.iter().map(|&r| lines[r].text.clone()).collect();
            for e in embedder.embed_blocking(&texts, false)? {
                out.extend_from_slice(&e.pooled);
            }
            eprintln!(
                "export: {what} {}/{} ({:.0} texts/s)",
                ((i + 1) * 8_192).min(rows.len()),
                rows.len(),
                out.len() as f64 / dims as f64 / t.elapsed().as_secs_f64()
            );
        }
        Ok(out)
    };
    let base = embed(base_rows, "base")?;
    let queries = embed(query_rows, "queries")?;

    std::fs::create_dir_all(&args.out)?;
    npy::write_f32(&args.out.join("base.npy"), args.n, dims, &base)?;
    npy::write_f32(&args.out.join("queries.npy"), args.queries, dims, &queries)?;
    let t = Instant::now();
    let gt = ground_truth(&base, &queries, dims);
    eprintln!(
        "export: exact top-{GT_DEPTH} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    npy::write_i32(&args.out.join("gt.npy"), args.queries, GT_DEPTH, &gt)?;
    let mut meta = std::io::BufWriter::new(std::fs::File::create(args.out.join("meta.jsonl"))?);
    for &r in base_rows {
        serde_json::to_writer(&mut meta, &lines[r].meta)?;
        meta.write_all(b"\n")?;
    }
    meta.flush()?;
    if let Some(filters) = args
        .corpus
        .parent()
        .map(|d| d.join("filters.json"))
        .filter(|p| p.is_file())
    {
        std::fs::copy(&filters, args.out.join("filters.json"))?;
    }
    eprintln!(
        "export: wrote {} in {:.0} s",
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
