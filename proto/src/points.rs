//! Points: upsert, get, delete; and search.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::filter::Filter;
use crate::ids::PointId;

/// A JSON object attached to a point.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// A named vector's value: a vector, token vectors (rows) for a
/// `multivector` layout, or `{indices, values}` for a sparse vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NamedVector {
    /// A vector.
    Dense(Vec<f32>),
    /// Token vectors.
    Multi(Vec<Vec<f32>>),
    /// A sparse vector.
    Sparse(SparseVector),
}

/// A sparse vector: indices (any `u32`: vocabulary ids, hashed features)
/// and one weight per index. An index given twice is refused; a zero weight
/// is the same as an absent index.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SparseVector {
    /// The indices (at most 65,536).
    pub indices: Vec<u32>,
    /// Their weights, finite numbers.
    pub values: Vec<f32>,
}

/// One point to upsert: an id, its vectors (the unnamed one as exactly one
/// of `vector`, `text` or `multivector`; named ones in `vectors`; `text`
/// also fills every named vector with an `encoder` not given), and an
/// optional payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    /// The id.
    pub id: PointId,
    /// The vector, with the collection's dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// Text, embedded by the server with the collection's encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Token vectors, for multi-vector collections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// Named vectors, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, NamedVector>,
    /// The payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
}

/// Body of `PUT /collections/{name}/points`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertPoints {
    /// Points to insert or replace.
    pub points: Vec<PointInput>,
}

/// Answer of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpsertResult {
    /// Points written (durably, before this answer).
    pub upserted: usize,
}

/// Body of `POST /collections/{name}/points/delete`: ids or a filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePoints {
    /// Ids to delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<PointId>>,
    /// Delete every point matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

/// Answer of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeleteResult {
    /// Points that existed and were deleted.
    pub deleted: usize,
}

/// Answer of `GET /collections/{name}/points/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PointRecord {
    /// The id.
    pub id: PointId,
    /// The payload.
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
    /// The stored vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// The stored token vectors (multi-vector collections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// The stored named vectors it holds, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, NamedVector>,
}

/// Search tuning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// HNSW `ef` (default: chosen by the planner from `limit` and the filter's selectivity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub ef: Option<usize>,
    /// Candidates per result to rerank, for compact layouts (at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub oversample: Option<f32>,
    /// Rerank candidates with full-precision vectors (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<bool>,
    /// Brute force over every matching point (perfect recall).
    #[serde(default)]
    pub exact: bool,
}

/// Body of `POST /collections/{name}/search`: exactly one of `vector`, `text`, `multivector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The vector searched, by name (default `""`: the unnamed vector);
    /// only points holding it are found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// Query vector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// Query text, embedded with the collection's encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Query token vectors, for multi-vector collections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// Only points matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Results to return (default 10; at most `--max-limit`).
    #[serde(default = "default_limit")]
    #[schema(minimum = 1)]
    pub limit: usize,
    /// Return payloads (default true).
    #[serde(default = "default_true")]
    pub with_payload: bool,
    /// Return stored vectors (default false).
    #[serde(default)]
    pub with_vector: bool,
    /// Tuning.
    #[serde(default)]
    pub params: SearchParams,
}

fn default_limit() -> usize {
    10
}

fn default_true() -> bool {
    true
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hit {
    /// The point's id.
    pub id: PointId,
    /// Similarity, higher is better.
    pub score: f32,
    /// The payload, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payload: Option<Payload>,
    /// The vector, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
    /// The token vectors, when asked for (multi-vector collections).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multivector: Option<Vec<Vec<f32>>>,
    /// The named vectors it holds, when asked for.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vectors: BTreeMap<String, NamedVector>,
    /// Queries with `explain`: where each stage placed the point (stages
    /// that did not return it are left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Vec<StageScore>>,
}

/// A hit's place in one stage of a fused query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageScore {
    /// The stage: its index in `prefetch` (the `hybrid` shortcut's stages
    /// are listed in `stages`).
    pub stage: usize,
    /// 1 for the stage's best hit.
    pub rank: usize,
    /// The stage's own score (similarity, or BM25 for lexical stages).
    pub score: f32,
}

/// Answer of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchResponse {
    /// Results, best first.
    pub hits: Vec<Hit>,
    /// Server-side time in milliseconds.
    pub took_ms: f64,
}

/// Body of `POST /collections/{name}/search/batch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchSearchRequest {
    /// The searches, run in order.
    pub searches: Vec<SearchRequest>,
}

/// Answer of a batch search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchSearchResponse {
    /// One answer per search, in order.
    pub results: Vec<SearchResponse>,
}

/// Body of `POST /collections/{name}/points/payload` (merge these keys into
/// each chosen point's payload) and `PUT` (replace each payload): the
/// points by `ids` or by `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPayload {
    /// The keys to set (`POST`), or the whole new payload (`PUT`).
    #[schema(value_type = Object)]
    pub payload: Payload,
    /// The points to update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<PointId>>,
    /// Update every point matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

/// Body of `POST /collections/{name}/points/payload/delete`: remove these
/// top-level keys from the chosen points' payloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePayloadKeys {
    /// Top-level payload keys to remove (absent ones are ignored).
    pub keys: Vec<String>,
    /// The points to update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<PointId>>,
    /// Update every point matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
}

/// Answer of a payload update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UpdateResult {
    /// Points that existed and now hold the updated payload (durably).
    pub updated: usize,
}
