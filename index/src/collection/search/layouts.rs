//! The candidates of one segment by layout: float vectors (graph or scan,
//! value graphs under a filter), compact codes (candidates for the rerank)
//! and multivector FDEs; and the exact rerank of candidates.

use super::*;

/// The float layout: the graph and scans on the full vectors in memory.
pub(super) fn search_float(
    ctx: &Ctx<'_>,
    query: &SearchQuery<'_>,
    vector: &[f32],
    metric: Metric,
    k: usize,
) -> Vec<(Offset, f32)> {
    let scorer = FloatScorer::new(vector, ctx.store.vectors().all(), metric);
    let covering = ctx
        .exact_set
        .filter(|_| !ctx.unfiltered)
        .and_then(|set| Some((value_graphs::covering(ctx.values, set)?, set)));
    let found = match covering {
        Some((graph, set)) => value_graphs::walk(graph, set, ctx.live, ctx.m, query, &scorer, k),
        None => match ctx.plan(query, k, EXACT_THRESHOLD, planner::FLOAT_WALK) {
            Strategy::Exact => None,
            Strategy::Graph { ef } => ctx.walk(&scorer, k, query.ef.unwrap_or(ef), true),
        },
    };
    let mut found = found.unwrap_or_else(|| ctx.scan(&scorer, k));
    if metric == Metric::L2 {
        // The scorer ranks by squared distance; the API answers the distance.
        for (_, s) in &mut found {
            *s = -(-*s).max(0.0).sqrt();
        }
    }
    found
}

/// Compact layouts: `n` candidates from the codes, by a graph walk or a flat
/// scan of the codes, as the planner weighs them.
pub(super) fn search_codes<S: Scorer>(
    ctx: &Ctx<'_>,
    query: &SearchQuery<'_>,
    scorer: &S,
    n: usize,
) -> Vec<(Offset, f32)> {
    let found = match ctx.plan(query, n, CODE_SCAN_THRESHOLD, CODE_WALK) {
        Strategy::Exact => None,
        Strategy::Graph { ef } => ctx.walk(scorer, n, query.ef.unwrap_or(ef).max(n), false),
    };
    found.unwrap_or_else(|| {
        // Under a filter the nearest matches lie farther from the query, where
        // codes rank less reliably: a scan reranks up to 1/8 of the matches.
        let n = if ctx.unfiltered {
            n
        } else {
            (ctx.estimation.exp / FILTERED_SCAN_SHARE).clamp(n, n.max(FILTERED_SCAN_RERANK))
        };
        ctx.scan(scorer, n)
    })
}

/// Multivector layout: `n` candidates by the dot product of the query's FDE
/// with the documents' (in the heap), by a graph walk or a scan. An FDE is
/// long, so the scan threshold shrinks with its length.
pub(super) fn search_fde(
    ctx: &Ctx<'_>,
    query: &SearchQuery<'_>,
    encoding: &[f32],
    n: usize,
) -> Vec<(Offset, f32)> {
    let scorer = FloatScorer::new(encoding, ctx.store.vectors().all(), Metric::Dot);
    let threshold = (EXACT_THRESHOLD * FDE_SCAN_DIMS / encoding.len().max(1))
        .clamp(FDE_SCAN_MIN, EXACT_THRESHOLD);
    let found = match ctx.plan(query, n, threshold, FDE_WALK) {
        Strategy::Exact => None,
        Strategy::Graph { ef } => ctx.walk(&scorer, n, query.ef.unwrap_or(ef).max(n), false),
    };
    found.unwrap_or_else(|| ctx.scan(&scorer, n))
}

/// The `k` best of `candidates` by an exact `scorer` (full vectors, Chamfer).
pub(in crate::collection) fn rerank<S: Scorer>(
    full: &S,
    k: usize,
    candidates: &[(Offset, f32)],
) -> Vec<(Offset, f32)> {
    let mut top = TopK::new(k);
    for (i, &(o, _)) in candidates.iter().enumerate() {
        if let Some(&(next, _)) = candidates.get(i + SCAN_PREFETCH) {
            full.prefetch(next);
        }
        top.push(full.score(o), o);
    }
    top.into_sorted()
}

/// Exact scores of the full vectors (in the heap or the vector file), on the API's scale.
pub(in crate::collection) struct FullScorer<'a> {
    pub(in crate::collection) store: &'a VectorStore,
    pub(in crate::collection) vector: &'a [f32],
    pub(in crate::collection) metric: Metric,
}

impl Scorer for FullScorer<'_> {
    #[inline]
    fn score(&self, o: Offset) -> f32 {
        self.metric.score(self.vector, self.store.vectors().get(o))
    }

    #[inline]
    fn prefetch(&self, o: Offset) {
        crate::distance::prefetch(self.store.vectors().get(o));
    }
}
