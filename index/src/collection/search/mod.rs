//! Search: the planner's choice between an exact scan and a filtered graph walk.
//!
//! 1. The filter is validated against the payload schema, then resolved to an
//!    exact bitmap when every condition is indexed, or estimated otherwise.
//! 2. Few candidates (at most [`EXACT_THRESHOLD`], or `exact: true`) → exact scan
//!    over them: perfect recall, and cheaper than a graph walk at that size.
//! 3. Otherwise the planner weighs a scan against the HNSW walk with the filter
//!    inside ([`planner::choose`]); the walk is merged with an exact scan of the
//!    offsets the graph does not cover yet.
//! 4. Safety net: if the walk found fewer than `limit` while more points match,
//!    the search falls back to the exact scan, so a restrictive filter never
//!    returns short or collapses recall.
//!
//! Compact layouts (bi-granular): the same choice runs on the codes, for
//! `limit × oversample` candidates (the walk's `ef` at least that), with a
//! larger scan threshold and walk cost since codes scan fast; the candidates
//! are then reranked with their full vectors from the vector file. When no
//! more points match than candidates are wanted (or `exact: true`), every match
//! is scored exactly instead.
//!
//! Multi-vector layout: the same plan on the document FDEs (dot product with
//! the query's FDE) for `limit × oversample` candidates, reranked by exact
//! Chamfer similarity over their token vectors from the token file; with
//! `exact: true`, or when no more points match than candidates are wanted,
//! every match is scored by Chamfer.

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use super::multivector::{ChamferScorer, prepare_tokens};
use super::point_ops::prepare_vector;
use super::set::SegmentSet;
use super::store::VectorStore;
use super::value_graphs::{self, ValueGraph};
use super::{Collection, Layout, Points};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::graph::{EF_RANGE, FlatGraph, FloatScorer, Scorer};
use crate::payload_index::PayloadIndex;
use crate::planner::{self, Strategy};
use crate::sparse::SparseVector;
use crate::types::{Offset, Payload, PointId};

pub(crate) use crate::topk::TopK;
pub(super) use layouts::{FullScorer, rerank};
use layouts::{search_codes, search_fde, search_float};

mod layouts;

/// Candidate sets up to this size are scanned exactly.
pub const EXACT_THRESHOLD: usize = 4_096;
/// Vectors a filtered scan prefetches ahead of the one it scores.
const SCAN_PREFETCH: usize = 4;
/// Default `ef` before the planner scales it.
pub const DEFAULT_EF: usize = 64;
/// Compact layouts: collections or filtered sets up to this size are scanned
/// on their codes (a code scan costs a fraction of a float scan).
pub const CODE_SCAN_THRESHOLD: usize = 8 * EXACT_THRESHOLD;
/// Compact layouts: a walk's distance computation against a code scan's. A
/// code is a few cache lines at most and scans stream them, so the walk's
/// bookkeeping weighs more than it does against a float scan.
/// Compact layouts walk through rejected nodes: walking only inside the
/// filter gave candidates too poor for the rerank (recall@10 0.937 at 48 %,
/// binary, default oversample, against 0.95 wanted), while the scan covers
/// up to 32,768 matches.
const CODE_WALK: planner::WalkCost = planner::WalkCost {
    distance: 8,
    check: 0.0,
    within: false,
};
/// The FDEs of multivector collections: walked through rejected nodes too
/// (the walk inside the filter is not yet measured on FDE candidates).
const FDE_WALK: planner::WalkCost = planner::WalkCost {
    within: false,
    ..planner::FLOAT_WALK
};
/// Compact layouts, filtered code scans: rerank up to this share (1/x) of the
/// matches ...
const FILTERED_SCAN_SHARE: usize = 8;
/// ... but no more than this many candidates (or the query's own number).
const FILTERED_SCAN_RERANK: usize = 1_024;
/// Multivector layout: an FDE scan is as cheap as a float scan of this many
/// dims per point; the exact-scan threshold shrinks in proportion ...
const FDE_SCAN_DIMS: usize = 512;
/// ... down to this many points.
const FDE_SCAN_MIN: usize = 128;
/// Largest `params.oversample`.
pub const MAX_OVERSAMPLE: f32 = 1_000.0;

/// A search.
#[derive(Debug, Clone, Copy)]
pub struct SearchQuery<'a> {
    /// The vector searched, by name (`""`: the unnamed, v1 vector).
    pub using: &'a str,
    /// The query vector; for a multivector collection, the query's token
    /// vectors one after another.
    pub vector: &'a [f32],
    /// Only points matching this filter.
    pub filter: Option<&'a Filter>,
    /// Filter limits.
    pub filter_limits: FilterLimits,
    /// Results wanted.
    pub limit: usize,
    /// HNSW `ef`; the planner's choice when `None`.
    pub ef: Option<usize>,
    /// Brute force.
    pub exact: bool,
    /// Compact layouts: candidates per result to rerank (the layout's default when `None`).
    pub oversample: Option<f32>,
    /// Compact layouts: rerank the candidates with the full vectors (else
    /// return the codes' scores).
    pub rerank: bool,
    /// Return payloads.
    pub with_payload: bool,
    /// Return vectors.
    pub with_vector: bool,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPoint {
    /// The point's id.
    pub id: PointId,
    /// Higher is better.
    pub score: f32,
    /// The payload, when asked for.
    pub payload: Option<Payload>,
    /// The stored unnamed vector, when asked for and held.
    pub vector: Option<Vec<f32>>,
    /// The named vectors it holds, when asked for.
    pub vectors: BTreeMap<String, Vec<f32>>,
    /// The sparse vectors it holds, when asked for.
    pub sparse: BTreeMap<String, SparseVector>,
}

impl Collection {
    /// Runs a search; results best first.
    pub fn search(&self, query: &SearchQuery<'_>) -> Result<Vec<ScoredPoint>> {
        let (v, vector_config, names) = {
            let config = self.inner.config.read();
            if let Some(filter) = query.filter {
                filter.validate(&config.payload_schema, &query.filter_limits)?;
            }
            let (v, vector) = config.vector(query.using, "using")?;
            // The names, to return the vectors by name, only when asked.
            let names = if query.with_vector {
                config.names()
            } else {
                Vec::new()
            };
            (v, vector.clone(), names)
        };
        let (dims, metric, layout) = (
            vector_config.dims,
            vector_config.metric,
            vector_config.layout,
        );
        let vector = if layout == Layout::Multivector {
            prepare_tokens("multivector", query.vector.to_vec(), dims, metric)?
        } else {
            prepare_vector("vector", query.vector.to_vec(), dims, metric)?
        };
        if let Some(ef) = query.ef
            && !EF_RANGE.contains(&ef)
        {
            return Err(IndexError::InvalidParameter {
                field: "params.ef".into(),
                reason: format!(
                    "must be between {} and {}, got {ef}",
                    EF_RANGE.start(),
                    EF_RANGE.end()
                ),
            });
        }
        let oversample = query
            .oversample
            .unwrap_or_else(|| layout.default_oversample(dims));
        if !(1.0..=MAX_OVERSAMPLE).contains(&oversample) {
            return Err(IndexError::InvalidParameter {
                field: "params.oversample".into(),
                reason: format!("must be between 1 and {MAX_OVERSAMPLE}, got {oversample}"),
            });
        }
        let k = query.limit;
        let params = Params {
            query,
            v,
            vector: &vector,
            dims,
            metric,
            layout,
            m: vector_config.hnsw.m,
            // Candidates for the rerank: `limit × oversample`.
            n: ((k as f64 * f64::from(oversample)).ceil() as usize).clamp(k, *EF_RANGE.end()),
            asked: query.oversample.is_some(),
        };
        // No collection lock is held: the sealed segments never change, and
        // the set holds their live offsets as of now.
        let set = self.inner.segments();
        let with_vector = query.with_vector.then_some(names.as_slice());
        gather(&set, k, query.with_payload, with_vector, |view| {
            Ok(view.search(&params))
        })
    }

    /// Ids of every live point matching `filter` (for delete by filter).
    pub(crate) fn matching_ids(
        &self,
        filter: &Filter,
        limits: &FilterLimits,
    ) -> Result<Vec<PointId>> {
        filter.validate(&self.inner.config.read().payload_schema, limits)?;
        let set = self.inner.segments();
        let mut ids = Vec::new();
        for entry in &set.sealed {
            let view = View {
                points: &entry.segment.points,
                live: &entry.live,
                index: &entry.index,
                graphs: &[],
                values: &[],
                oversample: &[],
            };
            view.matching(filter, &mut ids);
        }
        for frozen in &set.frozen {
            View::frozen(&frozen.points.read(), &frozen.live).matching(filter, &mut ids);
        }
        View::unsealed(&set.appendable.read()).matching(filter, &mut ids);
        Ok(ids)
    }
}

/// Runs `per_segment` on every segment of `set` and merges their hits into
/// the `k` best, filled with payloads and vectors as asked.
pub(super) fn gather(
    set: &SegmentSet,
    k: usize,
    with_payload: bool,
    with_vector: Option<&[String]>,
    mut per_segment: impl FnMut(&View<'_>) -> Result<Vec<(Offset, f32)>>,
) -> Result<Vec<ScoredPoint>> {
    // Segment `i`: the sealed ones, then the frozen ones, then the
    // appendable one (oldest first).
    let mut found: Vec<Hit> = Vec::new();
    // Sealed and frozen segments' points never change (their deletions
    // go to the set's bitmaps): their hits are filled once merged. The
    // appendable segment may replace a hit's point (and clear its
    // payload) as soon as its lock is released: its hits are filled
    // under it.
    let mut add = |segment: usize, view: View<'_>, fill_now: bool| -> Result<()> {
        for (offset, score) in per_segment(&view)? {
            let fill =
                fill_now.then(|| Filled::read(view.points, offset, with_payload, with_vector));
            found.push(Hit {
                id: view.points.by_offset.get(offset),
                score,
                segment,
                offset,
                filled: fill,
            });
        }
        Ok(())
    };
    for (i, entry) in set.sealed.iter().enumerate() {
        let view = View {
            points: &entry.segment.points,
            live: &entry.live,
            index: &entry.index,
            graphs: &entry.segment.graphs,
            values: &entry.segment.values,
            oversample: &entry.segment.oversample,
        };
        add(i, view, false)?;
    }
    let first_frozen = set.sealed.len();
    for (i, frozen) in set.frozen.iter().enumerate() {
        add(
            first_frozen + i,
            View::frozen(&frozen.points.read(), &frozen.live),
            false,
        )?;
    }
    let appendable = first_frozen + set.frozen.len();
    add(appendable, View::unsealed(&set.appendable.read()), true)?;
    // A point being replaced can show in two segments for an instant:
    // keep the newest.
    let mut newest = std::collections::HashMap::with_capacity(found.len());
    for hit in &found {
        let at = newest.entry(hit.id.clone()).or_insert(hit.segment);
        *at = (*at).max(hit.segment);
    }
    found.retain(|hit| newest.get(&hit.id) == Some(&hit.segment));
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    found.truncate(k);
    // Payloads and vectors only for the hits returned.
    Ok(found
        .into_iter()
        .map(|hit| {
            let filled = hit.filled.unwrap_or_else(|| {
                let read =
                    |points: &Points| Filled::read(points, hit.offset, with_payload, with_vector);
                match hit.segment.checked_sub(first_frozen) {
                    None => read(&set.sealed[hit.segment].segment.points),
                    Some(i) => read(&set.frozen[i].points.read()),
                }
            });
            ScoredPoint {
                id: hit.id,
                score: hit.score,
                payload: filled.payload,
                vector: filled.vector,
                vectors: filled.vectors,
                sparse: filled.sparse,
            }
        })
        .collect())
}

/// What one search asks of every segment.
#[derive(Clone, Copy)]
struct Params<'a> {
    query: &'a SearchQuery<'a>,
    /// The vector searched: its index in the config.
    v: usize,
    /// The prepared query vector (normalised; tokens for multivector).
    vector: &'a [f32],
    dims: usize,
    metric: Metric,
    layout: Layout,
    /// HNSW `M` (the planner's walk cost).
    m: usize,
    /// Candidates for the rerank.
    n: usize,
    /// Whether `n` came from the query's own `oversample`.
    asked: bool,
}

impl Params<'_> {
    /// The candidates a segment reranks: more than `n` if its codes were
    /// calibrated to need more ([`super::calibrate`]) and the query did not
    /// set its oversample.
    fn candidates(&self, calibrated: Option<u16>) -> usize {
        match calibrated {
            Some(c) if !self.asked => {
                let k = self.query.limit;
                self.n.max((k * usize::from(c)).min(*EF_RANGE.end()))
            }
            _ => self.n,
        }
    }
}

/// A segment's hit, before the segments' hits are merged.
struct Hit {
    id: PointId,
    score: f32,
    /// Which segment (see [`Collection::search`]).
    segment: usize,
    offset: Offset,
    /// The payload and vector asked for, read already (unsealed segments).
    filled: Option<Filled>,
}

/// What a hit returns besides its id and score.
pub(super) struct Filled {
    pub(super) payload: Option<Payload>,
    pub(super) vector: Option<Vec<f32>>,
    pub(super) vectors: BTreeMap<String, Vec<f32>>,
    pub(super) sparse: BTreeMap<String, SparseVector>,
}

impl Filled {
    /// The payload and stored vectors (`with_vector`: the collection's
    /// vectors' names, in order) of `offset`, as far as asked for.
    pub(super) fn read(
        points: &Points,
        offset: Offset,
        with_payload: bool,
        with_vector: Option<&[String]>,
    ) -> Self {
        let (mut vector, mut vectors, mut sparse) = (None, BTreeMap::new(), BTreeMap::new());
        for (v, name) in with_vector.unwrap_or_default().iter().enumerate() {
            // The dense vectors' names, then the sparse ones'.
            if let Some(s) = v.checked_sub(points.stores.len()) {
                if let Some(held) = points.sparse.get(s).and_then(|store| store.vector(offset)) {
                    sparse.insert(name.clone(), held);
                }
                continue;
            }
            let Some(stored) = points.stored_if(v, offset) else {
                continue;
            };
            if name.is_empty() {
                vector = Some(stored.to_vec());
            } else {
                vectors.insert(name.clone(), stored.to_vec());
            }
        }
        Self {
            vector,
            vectors,
            sparse,
            payload: if with_payload {
                points
                    .payloads
                    .get(offset)
                    .map(std::borrow::Cow::into_owned)
            } else {
                None
            },
        }
    }
}

/// One segment as a search reads it.
pub(super) struct View<'a> {
    pub(super) points: &'a Points,
    pub(super) live: &'a RoaringBitmap,
    pub(super) index: &'a PayloadIndex,
    /// A sealed segment's graphs (per vector); none for unsealed ones.
    pub(super) graphs: &'a [FlatGraph],
    /// A sealed segment's value graphs (per vector).
    pub(super) values: &'a [Vec<ValueGraph>],
    /// The calibrated oversample of a sealed segment's codes, per vector.
    pub(super) oversample: &'a [Option<u16>],
}

impl<'a> View<'a> {
    /// The appendable segment: its own live offsets and index, no graph.
    pub(super) fn unsealed(points: &'a Points) -> Self {
        Self::frozen(points, &points.live)
    }

    /// A frozen segment: its index (which may still hold deleted points:
    /// answers are cut to `live`), no graph.
    pub(super) fn frozen(points: &'a Points, live: &'a RoaringBitmap) -> Self {
        Self {
            points,
            live,
            index: &points.payload_index,
            graphs: &[],
            values: &[],
            oversample: &[],
        }
    }

    /// Adds the ids of the live points matching `filter`.
    fn matching(&self, filter: &Filter, out: &mut Vec<PointId>) {
        let points = self.points;
        let ids = |id: &PointId| points.offset_of(id);
        match planner::resolve(filter, self.index, &ids, self.live) {
            Some(set) => out.extend(set.iter().map(|o| points.by_offset.get(o))),
            None => out.extend(
                self.live
                    .iter()
                    .filter(|&o| {
                        filter.matches(&points.by_offset.get(o), points.payloads.get(o).as_deref())
                    })
                    .map(|o| points.by_offset.get(o)),
            ),
        }
    }

    /// The segment's best `limit` (offset, score) pairs for the query.
    fn search(&self, params: &Params<'_>) -> Vec<(Offset, f32)> {
        let query = params.query;
        let points = self.points;
        // Points without the vector searched are not candidates.
        let absent = &points.absent[params.v];
        let holding;
        let live = if absent.is_empty() {
            self.live
        } else {
            holding = self.live - absent;
            &holding
        };
        if live.is_empty() {
            return Vec::new();
        }
        let ids = |id: &PointId| points.offset_of(id);
        let exact_set = query
            .filter
            .and_then(|f| planner::resolve(f, self.index, &ids, live));
        let matches = matcher(points, live, query.filter, exact_set.as_ref());
        let total = live.len() as usize;
        let estimation = match (query.filter, &exact_set) {
            (None, _) => planner::CardinalityEstimation {
                min: total,
                exp: total,
                max: total,
            },
            (Some(_), Some(set)) => planner::CardinalityEstimation::exact(set.len() as usize),
            (Some(f), None) => planner::estimate(f, self.index, &ids, live),
        };
        let ctx = Ctx {
            store: points.store(params.v),
            live,
            graph: self.graphs.get(params.v),
            values: self.values.get(params.v).map_or(&[], Vec::as_slice),
            m: params.m,
            total,
            matches: &matches,
            exact_set: exact_set.as_ref(),
            unfiltered: query.filter.is_none(),
            estimation: &estimation,
        };
        let params = Params {
            n: params.candidates(self.oversample.get(params.v).copied().flatten()),
            ..*params
        };
        ctx.best(&params)
    }
}

/// Whether an offset of `points` is in `live` and matches `filter`: by the
/// `exact` set when the filter was resolved, else read from its payload.
pub(super) fn matcher<'a>(
    points: &'a Points,
    live: &'a RoaringBitmap,
    filter: Option<&'a Filter>,
    exact: Option<&'a RoaringBitmap>,
) -> impl Fn(Offset) -> bool + 'a {
    move |o| {
        live.contains(o)
            && match (filter, exact) {
                (None, _) => true,
                (Some(_), Some(set)) => set.contains(o),
                (Some(f), None) => {
                    f.matches(&points.by_offset.get(o), points.payloads.get(o).as_deref())
                }
            }
    }
}

/// What every search strategy reads, in one segment.
struct Ctx<'a> {
    /// The store of the vector searched.
    store: &'a VectorStore,
    live: &'a RoaringBitmap,
    /// Sealed segments' graph (over every offset of the segment).
    graph: Option<&'a FlatGraph>,
    /// Sealed segments' value graphs.
    values: &'a [ValueGraph],
    /// HNSW `M`.
    m: usize,
    /// Live points.
    total: usize,
    matches: &'a dyn Fn(Offset) -> bool,
    exact_set: Option<&'a RoaringBitmap>,
    unfiltered: bool,
    estimation: &'a planner::CardinalityEstimation,
}

impl Ctx<'_> {
    /// The segment's best `limit` (offset, score) pairs, by the layout's plan.
    fn best(&self, params: &Params<'_>) -> Vec<(Offset, f32)> {
        let (query, vector, k, n) = (params.query, params.vector, params.query.limit, params.n);
        match (
            self.store,
            params.layout.code_spec(params.dims, params.metric),
        ) {
            (VectorStore::Multivector { tokens, fde, .. }, _) => {
                let chamfer = ChamferScorer {
                    query: vector,
                    dims: params.dims,
                    store: tokens,
                };
                if query.exact || (query.rerank && self.estimation.max <= n) {
                    self.scan(&chamfer, k)
                } else {
                    let candidates = search_fde(self, query, &fde.encode_query(vector), n);
                    if query.rerank {
                        rerank(&chamfer, k, &candidates)
                    } else {
                        // The FDE product sums one Chamfer estimate per repetition.
                        let reps = fde.params().r_reps as f32;
                        candidates
                            .into_iter()
                            .take(k)
                            .map(|(o, s)| (o, s / reps))
                            .collect()
                    }
                }
            }
            (VectorStore::Compact { codes, .. }, Some(spec)) => {
                let qcode = spec.query(vector);
                let scorer = codes.scorer(&qcode);
                let full = FullScorer {
                    store: self.store,
                    vector,
                    metric: params.metric,
                };
                // Every match is a candidate: score them all exactly (unless the
                // codes' own scores were asked for).
                if query.exact || (query.rerank && self.estimation.max <= n) {
                    self.scan(&full, k)
                } else {
                    let candidates = search_codes(self, query, &scorer, n);
                    if query.rerank {
                        rerank(&full, k, &candidates)
                    } else {
                        candidates
                            .into_iter()
                            .take(k)
                            .map(|(o, s)| (o, spec.api_score(&qcode, s)))
                            .collect()
                    }
                }
            }
            _ => search_float(self, query, vector, params.metric, k),
        }
    }

    /// The planner's choice for `k` results with the given cost constants.
    fn plan(
        &self,
        query: &SearchQuery<'_>,
        k: usize,
        threshold: usize,
        walk: planner::WalkCost,
    ) -> Strategy {
        if query.exact || self.total <= threshold || self.graph.is_none() {
            Strategy::Exact
        } else {
            planner::choose(
                self.estimation,
                self.total,
                k,
                query.ef.unwrap_or(DEFAULT_EF),
                threshold,
                self.m,
                walk,
            )
        }
    }

    /// The `k` best by `scorer` from a graph walk with the filter inside it,
    /// plus the offsets the graph does not cover yet; `None` if the walk came
    /// back short while more points match (the caller then scans).
    /// `within`: walk only through matching points when the filter is a
    /// bitmap ([`planner::WalkCost::within`]).
    fn walk<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        within: bool,
    ) -> Option<Vec<(Offset, f32)>> {
        let graph = self.graph?;
        let unfiltered = self.unfiltered && self.live.len() as usize == graph.len();
        let accept: &dyn Fn(Offset) -> bool = self.matches;
        let found = match self.exact_set {
            // A resolved filter is a bitmap, cheap to check: walk inside it.
            Some(set) if within && !self.unfiltered => {
                let within = |o: Offset| set.contains(o);
                graph.search_within(scorer, k, ef, &within)
            }
            _ => graph.search(scorer, k, ef, (!unfiltered).then_some(accept)),
        };
        let short = found.len() < k.min(self.estimation.min.max(1)) && found.len() < self.total;
        (!short).then_some(found)
    }

    /// The `k` best by `scorer` over every matching point.
    fn scan<S: Scorer>(&self, scorer: &S, k: usize) -> Vec<(Offset, f32)> {
        let mut top = TopK::new(k);
        match self.exact_set {
            Some(set) => {
                // Matching points are scattered: fetch a few ahead of the kernel.
                let mut ahead = set.iter().skip(SCAN_PREFETCH);
                for o in set {
                    if let Some(next) = ahead.next() {
                        scorer.prefetch(next);
                    }
                    top.push(scorer.score(o), o);
                }
            }
            // Every live point: no need to ask `matches` (which checks
            // liveness again) of each.
            None if self.unfiltered => {
                for o in self.live {
                    top.push(scorer.score(o), o);
                }
            }
            None => {
                for o in self.live {
                    if (self.matches)(o) {
                        top.push(scorer.score(o), o);
                    }
                }
            }
        }
        top.into_sorted()
    }
}
