//! The query endpoint: one or more retrieval stages (`prefetch`) on a
//! collection's named vectors and its full-text index, fused into one
//! ranking (`fusion`); `{"text": ..., "mode": "hybrid"}` fuses every
//! retriever a text can query.

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
/// excluded), on the named vector `using`; or `sparse`, a sparse query
/// vector on the sparse vector `using` (`params.exact` scores every
/// candidate instead of pruning); or `lexical`, a BM25 search of the
/// collection's full-text index.
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
    /// A lexical stage: the points whose text best matches this one (BM25;
    /// collections created with `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<String>,
    /// A sparse query vector, for the sparse vector `using`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<crate::points::SparseVector>,
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
    /// The top-level stage, lexical (BM25).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lexical: Option<String>,
    /// The top-level stage's sparse query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sparse: Option<crate::points::SparseVector>,
    /// How a top-level `text` is searched: `dense` (the default: the vector
    /// `using`), `lexical` (BM25 over the full-text index) or `hybrid` (every
    /// retriever a text can query, fused: the dense vectors the model
    /// fills and the full-text index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<QueryMode>,
    /// How the hits of several stages are combined (default `rrf` for
    /// `prefetch` stages, `dbsf` for `mode: "hybrid"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fusion: Option<Fusion>,
    /// Rescore the fused candidates exactly on one vector (e.g. Chamfer over
    /// token vectors) and return the best by that score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<RerankStage>,
    /// Return each hit's rank and score in every stage.
    #[serde(default)]
    pub explain: bool,
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

/// How a top-level `text` is searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueryMode {
    /// The dense vector `using`, the text embedded by the model.
    Dense,
    /// BM25 over the collection's full-text index.
    Lexical,
    /// The dense vectors the model fills and the full-text index, fused.
    Hybrid,
}

/// How the hits of several stages are combined into one ranking: `"rrf"`
/// (reciprocal rank fusion, `1 / (k + rank)` summed over the stages, `k`
/// 60), `{"rrf": {"k": ...}}`, `"dbsf"` (distribution-based score fusion:
/// each stage's scores scaled by their mean ± 3 standard deviations, then
/// summed) or `{"weights": [...]}` (each stage's scores min-max normalised,
/// then summed with these weights, one per stage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Fusion {
    /// `"rrf"` or `"dbsf"`.
    Named(FusionName),
    /// `{"rrf": {"k": 60}}`.
    Rrf {
        /// RRF's parameters.
        rrf: RrfParams,
    },
    /// `{"weights": [0.5, 0.5]}`.
    Weights {
        /// One weight per stage, in `prefetch` order.
        weights: Vec<f32>,
    },
}

/// A fusion named without parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FusionName {
    /// Reciprocal rank fusion with `k` 60.
    Rrf,
    /// Distribution-based score fusion.
    Dbsf,
}

fn default_rrf_k() -> f32 {
    60.0
}

/// Reciprocal rank fusion's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RrfParams {
    /// Added to every rank (default 60): larger values flatten the
    /// difference between the first ranks.
    #[serde(default = "default_rrf_k")]
    pub k: f32,
}

/// The last stage of a query: the first `limit` candidates of the stages
/// (fused, if several) scored exactly on the vector `using` (brute force:
/// full-precision vectors, or Chamfer over token vectors) with the query
/// given here, or with the query's top-level `text` when none is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RerankStage {
    /// The vector scored (`""`, the default, is the collection's `vector`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// A query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// A query text, embedded with the vector's encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Query token vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// Candidates rescored (default 100, or the query's `limit` if larger).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub limit: Option<usize>,
}
