//! Sparse-vector search: dot products over a sparse vector's inverted index
//! ([`crate::sparse`]), pruned by MaxScore, with the same filters, liveness
//! and merge of segments as a dense search.

use super::Collection;
use super::search::{ScoredPoint, View, gather, matcher};
use crate::error::Result;
use crate::filter::{Filter, FilterLimits};
use crate::planner;
use crate::sparse::{self, SparseVector, Term};
use crate::types::{Offset, PointId};

/// A search of a sparse vector.
#[derive(Debug, Clone, Copy)]
pub struct SparseSearch<'a> {
    /// The sparse vector searched.
    pub using: &'a str,
    /// The query's indices and weights (checked as a point's are).
    pub vector: &'a SparseVector,
    /// Only points matching this filter.
    pub filter: Option<&'a Filter>,
    /// Filter limits.
    pub filter_limits: FilterLimits,
    /// Results wanted.
    pub limit: usize,
    /// Score every candidate point instead of pruning (the brute force the
    /// pruned search is measured against; the results are the same).
    pub exact: bool,
    /// Return payloads.
    pub with_payload: bool,
    /// Return vectors.
    pub with_vector: bool,
}

impl Collection {
    /// The points whose sparse vector `query.using` has the largest dot
    /// product with `query.vector`, best first (points sharing no index with
    /// the query are not returned). With the vector's `idf`, each query
    /// weight is first multiplied by its index's inverse document frequency
    /// over the whole collection.
    pub fn search_sparse(&self, query: &SparseSearch<'_>) -> Result<Vec<ScoredPoint>> {
        let (s, config, names) = {
            let config = self.inner.config.read();
            let (s, sparse) = config.sparse_vector(query.using, "using")?;
            if let Some(filter) = query.filter {
                filter.validate(&config.payload_schema, &query.filter_limits)?;
            }
            let names = if query.with_vector {
                config.names()
            } else {
                Vec::new()
            };
            (s, sparse, names)
        };
        let mut vector = SparseVector::prepare(
            "sparse",
            query.vector.indices.clone(),
            query.vector.values.clone(),
        )?;
        if vector.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        let set = self.inner.segments();
        if config.idf {
            // Document frequencies over every segment as of now.
            let mut n = 0u64;
            let mut df = vec![0u64; vector.len()];
            let mut count = |store: &sparse::SparseStore| {
                n += store.holding();
                for (d, &t) in df.iter_mut().zip(&vector.indices) {
                    *d += store.postings(t).map_or(0, |p| p.docs.len() as u64);
                }
            };
            for entry in &set.sealed {
                count(&entry.segment.points.sparse[s]);
            }
            for frozen in &set.frozen {
                count(&frozen.points.read().sparse[s]);
            }
            count(&set.appendable.read().sparse[s]);
            for (w, d) in vector.values.iter_mut().zip(df) {
                *w *= sparse::idf(n, d);
            }
        }
        let with_vector = query.with_vector.then_some(names.as_slice());
        gather(&set, query.limit, query.with_payload, with_vector, |view| {
            Ok(view.search_sparse(s, &vector, query))
        })
    }
}

impl View<'_> {
    /// The segment's `k` best live points matching the filter for the
    /// (weighted) query `vector` of sparse vector `s`.
    fn search_sparse(
        &self,
        s: usize,
        vector: &SparseVector,
        query: &SparseSearch<'_>,
    ) -> Vec<(Offset, f32)> {
        let (points, live) = (self.points, self.live);
        let Some(store) = points.sparse.get(s) else {
            return Vec::new();
        };
        let ids = |id: &PointId| points.offset_of(id);
        let exact = query
            .filter
            .and_then(|f| planner::resolve(f, self.index, &ids, live));
        let allowed = matcher(points, live, query.filter, exact.as_ref());
        let terms: Vec<Term<'_>> = vector
            .indices
            .iter()
            .zip(&vector.values)
            .filter_map(|(&t, &w)| store.postings(t).map(|p| (p, w)))
            .collect();
        let postings: usize = terms.iter().map(|(p, _)| p.docs.len()).sum();
        // Scoring a point reads its weights and the query's.
        let per_point = store.weights() / store.holding().max(1) as usize + vector.len();
        match &exact {
            // A filter matching few enough points that scoring them costs
            // less than reading the postings: score those points alone.
            Some(set) if (set.len() as usize).saturating_mul(per_point) < postings => {
                sparse::exhaustive(store, vector, set.iter(), query.limit, &allowed)
            }
            Some(set) if query.exact => {
                sparse::exhaustive(store, vector, set.iter(), query.limit, &allowed)
            }
            _ if query.exact => {
                sparse::exhaustive(store, vector, live.iter(), query.limit, &allowed)
            }
            _ => sparse::max_score(&terms, query.limit, &allowed),
        }
    }
}
