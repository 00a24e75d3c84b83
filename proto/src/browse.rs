//! Reading a collection by id and payload: scroll, count, facet.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::filter::Filter;
use crate::points::PointRecord;

fn yes() -> bool {
    true
}

fn default_scroll_limit() -> usize {
    100
}

fn default_facet_limit() -> usize {
    10
}

/// Body of `POST /collections/{name}/points/scroll`: one page of points in
/// id order (integers by value, then UUIDs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrollRequest {
    /// Only points matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Points per page (1 to 10,000; default 100).
    #[serde(default = "default_scroll_limit")]
    #[schema(minimum = 1, maximum = 10000, default = 100)]
    pub limit: usize,
    /// Where to continue: the `next` of the previous page (absent for the
    /// first page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Return payloads (default true).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub with_payload: bool,
    /// Return stored vectors (default false).
    #[serde(default)]
    pub with_vectors: bool,
}

/// One page of a scroll.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScrollResponse {
    /// Up to `limit` points, in id order.
    pub points: Vec<PointRecord>,
    /// The cursor of the next page; `null` when this page is the last.
    pub next: Option<String>,
}

/// Body of `POST /collections/{name}/points/count`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    /// Count only points matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Count exactly (default true); `false` accepts the planner's estimate
    /// from the payload indexes, which reads no payload.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub exact: bool,
}

/// Answer of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CountResponse {
    /// The number of points.
    pub count: usize,
    /// Whether `count` is exact.
    pub exact: bool,
}

/// Body of `POST /collections/{name}/facet`: how many points hold each value
/// of an indexed keyword, integer or bool field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacetRequest {
    /// The payload field (with a keyword, integer or bool index).
    pub key: String,
    /// Count only points matching this filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Values listed, most frequent first (1 to 10,000; default 10).
    #[serde(default = "default_facet_limit")]
    #[schema(minimum = 1, maximum = 10000, default = 10)]
    pub limit: usize,
}

/// One value of a facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacetValue {
    /// The value (a string, an integer or a boolean, as the field holds it).
    #[schema(value_type = crate::filter::MatchValue)]
    pub value: serde_json::Value,
    /// Points holding it (a point counts once per value).
    pub count: usize,
}

/// Answer of a facet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacetResponse {
    /// Values, most frequent first (ties by value).
    pub values: Vec<FacetValue>,
}
