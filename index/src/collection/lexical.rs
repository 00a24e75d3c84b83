//! Lexical search: BM25 over the collection's text field ([`crate::text`]),
//! with the same filters, liveness and merge of segments as a vector search.

use super::Collection;
use super::search::{ScoredPoint, View, gather};
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::planner;
use crate::text::{Statistics, TextQuery};
use crate::types::{Offset, PointId};

/// A lexical search.
#[derive(Debug, Clone, Copy)]
pub struct TextSearch<'a> {
    /// The query text, analysed as the collection's texts are.
    pub text: &'a str,
    /// Only points matching this filter.
    pub filter: Option<&'a Filter>,
    /// Filter limits.
    pub filter_limits: FilterLimits,
    /// Results wanted.
    pub limit: usize,
    /// Return payloads.
    pub with_payload: bool,
    /// Return vectors.
    pub with_vector: bool,
}

impl Collection {
    /// The points whose text best matches `query.text` by BM25, best first
    /// (points without text, or sharing no term with the query, are not
    /// returned). Refused when the collection has no text index.
    pub fn search_text(&self, query: &TextSearch<'_>) -> Result<Vec<ScoredPoint>> {
        let (text, names) = {
            let config = self.inner.config.read();
            let Some(text) = config.text.clone() else {
                return Err(IndexError::InvalidParameter {
                    field: "lexical".into(),
                    reason: format!(
                        "collection {:?} has no text index (create it with `text: {{\"field\", \"language\"}}`)",
                        self.inner.name
                    ),
                });
            };
            if let Some(filter) = query.filter {
                filter.validate(&config.payload_schema, &query.filter_limits)?;
            }
            let names = if query.with_vector {
                config.names()
            } else {
                Vec::new()
            };
            (text, names)
        };
        let parsed = TextQuery::new(&text, query.text);
        if parsed.is_empty() || query.limit == 0 {
            return Ok(Vec::new());
        }
        let set = self.inner.segments();
        // BM25's statistics over every segment as of now.
        let mut searchers: Vec<_> = set
            .sealed
            .iter()
            .filter_map(|e| e.segment.points.text.as_ref().map(|t| t.searcher()))
            .collect();
        for frozen in &set.frozen {
            searchers.extend(frozen.points.read().text.as_ref().map(|t| t.searcher()));
        }
        searchers.extend(set.appendable.read().text.as_ref().map(|t| t.searcher()));
        let statistics = Statistics::new(searchers);
        let with_vector = query.with_vector.then_some(names.as_slice());
        gather(&set, query.limit, query.with_payload, with_vector, |view| {
            view.search_text(&statistics, &parsed, query.filter, query.limit)
        })
    }
}

impl View<'_> {
    /// The segment's `k` best live points matching `filter` for a text query.
    fn search_text(
        &self,
        statistics: &Statistics,
        query: &TextQuery,
        filter: Option<&Filter>,
        k: usize,
    ) -> Result<Vec<(Offset, f32)>> {
        let Some(text) = &self.points.text else {
            return Ok(Vec::new());
        };
        let (points, live) = (self.points, self.live);
        let ids = |id: &PointId| points.offset_of(id);
        let exact = filter.and_then(|f| planner::resolve(f, self.index, &ids, live));
        let allowed = |o: Offset| {
            live.contains(o)
                && match (filter, &exact) {
                    (None, _) => true,
                    (Some(_), Some(set)) => set.contains(o),
                    (Some(f), None) => {
                        f.matches(&points.by_offset.get(o), points.payloads.get(o).as_deref())
                    }
                }
        };
        Ok(statistics.search(&text.searcher(), query, k, &allowed, text.path())?)
    }
}
