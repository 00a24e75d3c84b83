//! The query endpoint: one or more retrieval stages (`prefetch`) on a
//! collection's named vectors; fusion of several stages and lexical stages
//! come with hybrid retrieval, in the same request shape.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::filter::Filter;
use crate::ids::PointId;
use crate::points::SearchParams;

fn default_limit() -> usize {
    10
}

fn yes() -> bool {
    true
}

/// One retrieval stage: exactly one of `vector`, `text`, `multivector` or
/// `point` (by example: that point's stored vector, the point itself
/// excluded), on the named vector `using`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryStage {
    /// The named vector searched (`""`, the default, is the collection's
    /// `vector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// A query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// A query text, embedded with the collection's encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Query token vectors (multi-vector collections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// By example: the stored vector of this point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<PointId>,
    /// This stage's own filter (the query's filter applies too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Candidates this stage passes on (default: the query's `limit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub limit: Option<usize>,
    /// Tuning of this stage's search.
    #[serde(default)]
    pub params: SearchParams,
}

/// Body of `POST /collections/{name}/query`: either `prefetch` stages, or
/// one stage's fields at the top level (`{"text": "...", "limit": 5}` is a
/// plain search; `{"point": 17}` finds the points most like point 17).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryRequest {
    /// Retrieval stages (one, for now; several are combined by fusion,
    /// which comes with hybrid retrieval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefetch: Option<Vec<QueryStage>>,
    /// The named vector of the top-level stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// The top-level stage's query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// The top-level stage's query text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The top-level stage's query token vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// The top-level stage by example.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<PointId>,
    /// Applies to every stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Results returned (default 10; at most `--max-limit`).
    #[serde(default = "default_limit")]
    #[schema(minimum = 1)]
    pub limit: usize,
    /// Return payloads (default true).
    #[serde(default = "yes")]
    pub with_payload: bool,
    /// Return stored vectors (default false).
    #[serde(default)]
    pub with_vector: bool,
    /// Tuning of the top-level stage.
    #[serde(default)]
    pub params: SearchParams,
}
