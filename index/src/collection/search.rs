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

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use roaring::RoaringBitmap;

use super::point_ops::prepare_vector;
use super::{Collection, Points, live_below};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::graph::EF_RANGE;
use crate::planner::{self, Strategy};
use crate::types::{Offset, Payload, PointId};

/// Candidate sets up to this size are scanned exactly.
pub const EXACT_THRESHOLD: usize = 4_096;
/// Vectors a filtered scan prefetches ahead of the one it scores.
const SCAN_PREFETCH: usize = 4;
/// Default `ef` before the planner scales it.
pub const DEFAULT_EF: usize = 64;

/// A search.
#[derive(Debug, Clone, Copy)]
pub struct SearchQuery<'a> {
    /// The query vector.
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
    /// The stored vector, when asked for.
    pub vector: Option<Vec<f32>>,
}

#[derive(PartialEq)]
struct Scored(f32, Offset);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    /// Reversed, so that a `BinaryHeap` keeps the worst of the best on top.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

/// Keeps the `k` best (score, offset) pairs.
struct TopK {
    k: usize,
    heap: BinaryHeap<Scored>,
}

impl TopK {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    fn push(&mut self, score: f32, offset: Offset) {
        if self.heap.len() < self.k {
            self.heap.push(Scored(score, offset));
        } else if self.heap.peek().is_some_and(|worst| score > worst.0) {
            self.heap.pop();
            self.heap.push(Scored(score, offset));
        }
    }

    fn into_sorted(self) -> Vec<(Offset, f32)> {
        let mut v: Vec<(Offset, f32)> = self.heap.into_iter().map(|s| (s.1, s.0)).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

impl Collection {
    /// Runs a search; results best first.
    pub fn search(&self, query: &SearchQuery<'_>) -> Result<Vec<ScoredPoint>> {
        let (dims, metric) = {
            let config = self.inner.config.read();
            if let Some(filter) = query.filter {
                filter.validate(&config.payload_schema, &query.filter_limits)?;
            }
            (config.dims, config.metric)
        };
        let vector = prepare_vector("vector", query.vector.to_vec(), dims, metric)?;
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
        let k = query.limit;
        let graph = Arc::clone(&self.inner.graph.read());
        let points = self.inner.points.read();
        let indexed = self.inner.indexed.load(Ordering::Acquire).min(points.len());
        let ids = |id: &PointId| points.ids.get(id).copied();

        let exact_set = query
            .filter
            .and_then(|f| planner::resolve(f, &points.payload_index, &ids, &points.live));
        let matches = |o: Offset| -> bool {
            points.live.contains(o)
                && match (query.filter, &exact_set) {
                    (None, _) => true,
                    (Some(_), Some(set)) => set.contains(o),
                    (Some(f), None) => f.matches(
                        &points.by_offset[o as usize],
                        points.payloads[o as usize].as_ref(),
                    ),
                }
        };
        let total = points.live.len() as usize;
        let estimation = match (query.filter, &exact_set) {
            (None, _) => planner::CardinalityEstimation {
                min: total,
                exp: total,
                max: total,
            },
            (Some(_), Some(set)) => {
                let n = set.len() as usize;
                planner::CardinalityEstimation {
                    min: n,
                    exp: n,
                    max: n,
                }
            }
            (Some(f), None) => planner::estimate(f, &points.payload_index, &ids, &points.live),
        };
        let strategy = if query.exact || total <= EXACT_THRESHOLD {
            Strategy::Exact
        } else {
            planner::choose(
                &estimation,
                total,
                k,
                query.ef.unwrap_or(DEFAULT_EF),
                EXACT_THRESHOLD,
                graph.params().m,
            )
        };

        let scan = || {
            exact_scan(
                &points,
                &vector,
                dims,
                metric,
                k,
                exact_set.as_ref(),
                &matches,
            )
        };
        let best = match strategy {
            Strategy::Exact => scan(),
            Strategy::Graph { ef } => {
                let ef = query.ef.unwrap_or(ef);
                let unfiltered =
                    query.filter.is_none() && live_below(&points.live, indexed) == graph.len();
                let accept: &dyn Fn(Offset) -> bool = &matches;
                let mut top = TopK::new(k);
                let hits = graph.search(
                    &vector,
                    &points.vectors,
                    k,
                    ef,
                    (!unfiltered).then_some(accept),
                );
                for (offset, score) in hits {
                    top.push(score, offset);
                }
                // The tail the graph does not cover yet, exactly.
                for o in indexed..points.len() {
                    let o = o as Offset;
                    if matches(o) {
                        top.push(metric.score(&vector, points.vector(o, dims)), o);
                    }
                }
                let found = top.into_sorted();
                if found.len() < k.min(estimation.min.max(1)) && found.len() < total {
                    // The walk came back short although more points match: scan.
                    scan()
                } else {
                    found
                }
            }
        };
        Ok(best
            .into_iter()
            .map(|(offset, score)| ScoredPoint {
                id: points.by_offset[offset as usize],
                score,
                payload: query
                    .with_payload
                    .then(|| points.payloads[offset as usize].clone())
                    .flatten(),
                vector: query
                    .with_vector
                    .then(|| points.vector(offset, dims).to_vec()),
            })
            .collect())
    }

    /// Ids of every live point matching `filter` (for delete by filter).
    pub(crate) fn matching_ids(
        &self,
        filter: &Filter,
        limits: &FilterLimits,
    ) -> Result<Vec<PointId>> {
        filter.validate(&self.inner.config.read().payload_schema, limits)?;
        let points = self.inner.points.read();
        let ids = |id: &PointId| points.ids.get(id).copied();
        let offsets: Vec<Offset> =
            match planner::resolve(filter, &points.payload_index, &ids, &points.live) {
                Some(set) => set.iter().collect(),
                None => points
                    .live
                    .iter()
                    .filter(|&o| {
                        filter.matches(
                            &points.by_offset[o as usize],
                            points.payloads[o as usize].as_ref(),
                        )
                    })
                    .collect(),
            };
        Ok(offsets
            .into_iter()
            .map(|o| points.by_offset[o as usize])
            .collect())
    }
}

fn exact_scan(
    points: &Points,
    vector: &[f32],
    dims: usize,
    metric: Metric,
    k: usize,
    exact_set: Option<&RoaringBitmap>,
    matches: &dyn Fn(Offset) -> bool,
) -> Vec<(Offset, f32)> {
    let mut top = TopK::new(k);
    match exact_set {
        Some(set) => {
            // Matching points are scattered: fetch a few ahead of the kernel.
            let mut ahead = set.iter().skip(SCAN_PREFETCH);
            for o in set.iter() {
                if let Some(next) = ahead.next() {
                    crate::distance::prefetch(points.vector(next, dims));
                }
                top.push(metric.score(vector, points.vector(o, dims)), o);
            }
        }
        None => {
            for o in points.live.iter() {
                if matches(o) {
                    top.push(metric.score(vector, points.vector(o, dims)), o);
                }
            }
        }
    }
    top.into_sorted()
}
