//! How many candidates a compact layout's sealed segment must rerank.
//!
//! A search over codes walks the segment's graph for `limit × oversample`
//! candidates (the walk's `ef` at least that) and reranks them with the full
//! vectors. How many it needs depends on the data and grows with the
//! segment: measured on 200,000 synthetic points (32 latent dimensions,
//! 1-bit codes, one segment), recall@10 0.83 at the default oversample 8,
//! 0.975 at 24; the same points in five segments of 40,000 reached 0.975 at 8
//! (each segment reranks its own). The codes alone rank well enough there
//! (98 % of the true top 10 within the code scores' top 70): it is the walk
//! through a large graph of coarse, tied Hamming distances that needs the
//! wider beam.
//!
//! So when a segment is sealed, a sample of its own points serves as
//! queries: their exact top 10 by the full vectors, then the search as it
//! runs (walk, rerank) at growing oversamples until the sample's mean
//! recall@10 reaches [`TARGET`]. The oversample found is stored with the
//! segment; searches that do not set `params.oversample` take the larger of
//! it and the layout's default (never fewer candidates than before: real
//! queries may sit farther from the points than the points do from each
//! other).

use rayon::prelude::*;

use super::search::{DEFAULT_EF, FullScorer, TopK, rerank};
use super::store::VectorStore;
use super::{Points, VectorConfig};
use crate::graph::FlatGraph;
use crate::types::Offset;

/// Mean recall@10 the sample must reach.
pub const TARGET: f64 = 0.985;
/// Points sampled as queries.
const SAMPLE: usize = 64;
/// Results per sampled query.
const K: usize = 10;
/// Oversamples tried after the layout's default, those above it in order;
/// the last is the most a segment is calibrated to.
const LADDER: [u16; 8] = [2, 4, 8, 12, 16, 24, 32, 48];
/// Segments smaller than this are not calibrated (their candidates are a
/// large share of them anyway, and the sample would be most of the segment).
const MIN_POINTS: usize = 4 * 1_024;

/// The smallest oversample (the layout's default, or one of [`LADDER`] above it)
/// at which the sample's recall@10 through `graph` reaches [`TARGET`], or
/// `None` for layouts without codes and small segments. Reads every full
/// vector once (a compact layout's vector file is then dropped from the
/// resident set again).
/// `holding`: the offsets that hold vector `v` (those its graph links).
pub(crate) fn oversample(
    points: &Points,
    v: usize,
    holding: &[Offset],
    graph: &FlatGraph,
    config: &VectorConfig,
    seed: u64,
) -> Option<u16> {
    let store = points.store(v);
    let codes = store.codes()?;
    let spec = config.code_spec()?;
    let n = holding.len();
    if n < MIN_POINTS {
        return None;
    }
    // An even spread of them, shifted by the seed.
    let step = n / SAMPLE;
    let sample: Vec<Offset> = (0..SAMPLE)
        .map(|i| holding[(i * step + (seed as usize % step)) % n])
        .collect();
    let queries: Vec<Vec<f32>> = sample
        .iter()
        .map(|&o| store.vectors().get(o).to_vec())
        .collect();
    let truth = exact_top(store, holding, config, &sample, &queries);
    let default = config.layout.default_oversample(config.dims);
    let recall = |oversample: u16| -> f64 {
        let wanted = K * usize::from(oversample);
        let found: usize = (0..queries.len())
            .into_par_iter()
            .map(|q| {
                let qcode = spec.query(&queries[q]);
                let scorer = codes.scorer(&qcode);
                let me = sample[q];
                // The graph links only the points holding the vector.
                let not_me = |o: Offset| o != me;
                let candidates =
                    graph.search(&scorer, wanted, wanted.max(DEFAULT_EF), Some(&not_me));
                let full = FullScorer {
                    store,
                    vector: &queries[q],
                    metric: config.metric,
                };
                rerank(&full, K, &candidates)
                    .iter()
                    .filter(|(o, _)| truth[q].contains(o))
                    .count()
            })
            .sum();
        found as f64 / (K * queries.len()) as f64
    };
    // The default first (it may already do), then the ladder above it.
    let first = default.ceil().clamp(1.0, f32::from(u16::MAX)) as u16;
    let tries = std::iter::once(first).chain(LADDER.into_iter().filter(|&o| o > first));
    let mut chosen = first;
    for oversample in tries {
        chosen = oversample;
        if recall(oversample) >= TARGET {
            break;
        }
    }
    store.release_rerank_file();
    Some(chosen)
}

/// The exact top [`K`] of each query among the segment's points (the query's
/// own point excluded), in one pass over the vectors.
fn exact_top(
    store: &VectorStore,
    holding: &[Offset],
    config: &VectorConfig,
    sample: &[Offset],
    queries: &[Vec<f32>],
) -> Vec<Vec<Offset>> {
    const CHUNK: usize = 4_096;
    let partial: Vec<Vec<Vec<(Offset, f32)>>> = holding
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut tops: Vec<TopK> = queries.iter().map(|_| TopK::new(K)).collect();
            for &o in chunk {
                let v = store.vectors().get(o);
                for (q, query) in queries.iter().enumerate() {
                    if o != sample[q] {
                        tops[q].push(config.metric.score(query, v), o);
                    }
                }
            }
            tops.into_iter().map(TopK::into_sorted).collect()
        })
        .collect();
    (0..queries.len())
        .map(|q| {
            let mut top = TopK::new(K);
            for part in &partial {
                for &(o, score) in &part[q] {
                    top.push(score, o);
                }
            }
            top.into_sorted().into_iter().map(|(o, _)| o).collect()
        })
        .collect()
}
