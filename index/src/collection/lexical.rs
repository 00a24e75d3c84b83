//! Lexical search: BM25 over the collection's text field ([`crate::text`]),
//! with the same filters, liveness and merge of segments as a vector search.

use super::Collection;
use std::path::Path;

use tantivy::Searcher;

use super::search::{ScoredPoint, View, gather, matcher};
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
        // Each segment's index as of now, in the order `gather` visits them;
        // BM25's statistics over all of them, each segment scored with the
        // very searcher the statistics counted.
        let mut searchers: Vec<Option<Searcher>> = set
            .sealed
            .iter()
            .map(|e| e.segment.points.text.as_ref().map(|t| t.searcher()))
            .collect();
        for frozen in &set.frozen {
            searchers.push(frozen.points.read().text.as_ref().map(|t| t.searcher()));
        }
        searchers.push(set.appendable.read().text.as_ref().map(|t| t.searcher()));
        let statistics = Statistics::new(searchers.iter().flatten().cloned().collect());
        let with_vector = query.with_vector.then_some(names.as_slice());
        let mut segments = searchers.iter();
        gather(
            &set,
            query.limit,
            query.with_payload,
            with_vector,
            |view| match segments.next() {
                Some(Some(searcher)) => {
                    view.search_text(searcher, &statistics, &parsed, query.filter, query.limit)
                }
                _ => Ok(Vec::new()),
            },
        )
    }
}

impl View<'_> {
    /// The segment's `k` best live points matching `filter` for a text
    /// query, read from `searcher` (its text index).
    fn search_text(
        &self,
        searcher: &Searcher,
        statistics: &Statistics,
        query: &TextQuery,
        filter: Option<&Filter>,
        k: usize,
    ) -> Result<Vec<(Offset, f32)>> {
        let (points, live) = (self.points, self.live);
        let ids = |id: &PointId| points.offset_of(id);
        let exact = filter.and_then(|f| planner::resolve(f, self.index, &ids, live));
        let allowed = matcher(points, live, filter, exact.as_ref());
        let path = points
            .text
            .as_ref()
            .map(|t| t.path())
            .unwrap_or(Path::new(""));
        Ok(statistics.search(searcher, query, k, &allowed, path)?)
    }
}
