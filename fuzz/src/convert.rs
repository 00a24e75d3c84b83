//! The HTTP layer's conversions, from the server crate itself.
//!
//! `point_id`, `filter` and `collection_config` call `trawl_server::convert`,
//! the code the route handlers run. Only the per-item vector check stays here
//! ([`item_vector`]): in the server it is tangled with embedding the texts on
//! the encoder queue, which needs a loaded model.
//!
//! Errors become plain strings: which status code they become is the server's
//! business, not the fuzzer's.

use trawl_index::filter as domain;
use trawl_index::{CollectionConfig, Layout, PointId};
use trawl_proto as api;

/// Largest search `limit` (the server's `--max-limit` default).
pub const MAX_LIMIT: usize = 1_000;
/// Most token vectors in one multi-vector (`--max-multivector-tokens` default).
pub const MAX_TOKENS: usize = 1_024;
/// Most points in one upsert (`--max-upsert-points` default).
pub const MAX_UPSERT_POINTS: usize = 10_000;
/// Dimension of the default encoder, for a create request without `dims`.
pub const ENCODER_DIMS: usize = 384;
/// Most dimensions of a collection (the server's `--max-dims` default).
pub const MAX_DIMS: usize = 65_536;

/// An API id to a domain id (`convert::point_id`).
pub fn point_id(id: &api::PointId) -> Result<PointId, String> {
    trawl_server::convert::point_id(id, "id").map_err(|e| e.to_string())
}

/// An API filter to the domain filter (`convert::filter`).
pub fn filter(f: &api::Filter) -> Result<domain::Filter, String> {
    trawl_server::convert::filter(f).map_err(|e| e.to_string())
}

/// The collection a create request asks for, before `Store::create`
/// validates it (`convert::collection_config`, with the server's defaults).
pub fn collection_config(request: &api::CreateCollection) -> Result<CollectionConfig, String> {
    let dims = request.vector.dims.unwrap_or(ENCODER_DIMS);
    trawl_server::convert::collection_config(request, dims, MAX_DIMS).map_err(|e| e.to_string())
}

/// One item's vector, as `routes::Vectors::take` and `resolve` produce it for
/// a collection of `layout` and `dims`: exactly one of `vector`, `text` or
/// `multivector`; token vectors (at most [`MAX_TOKENS`], each of `dims`) only
/// for the multivector layout, flattened. A text stands for the encoder's
/// output, here a fixed vector of the right shape.
pub fn item_vector(
    layout: Layout,
    dims: usize,
    vector: Option<&Vec<f32>>,
    text: Option<&String>,
    multivector: Option<&Vec<Vec<f32>>>,
) -> Result<Vec<f32>, String> {
    let multi = layout == Layout::Multivector;
    match (multi, vector, text, multivector) {
        (false, Some(v), None, None) => Ok(v.clone()),
        (true, None, None, Some(rows)) => {
            if rows.len() > MAX_TOKENS {
                return Err("too many token vectors".into());
            }
            if rows.is_empty() {
                return Err("a multi-vector needs at least one token vector".into());
            }
            if rows.iter().any(|row| row.len() != dims) {
                return Err("a token vector has the wrong dimension".into());
            }
            Ok(rows.concat())
        }
        (_, None, Some(_), None) => Ok(embedded_text(dims)),
        _ => Err("send exactly one of the vector fields the collection takes".into()),
    }
}

/// What the fixture's stand-in encoder returns for any text: a fixed unit-ish
/// vector of `dims` (one token vector for a multivector collection).
pub fn embedded_text(dims: usize) -> Vec<f32> {
    (0..dims).map(|i| 1.0 / (i as f32 + 1.0)).collect()
}

/// Most searches in one batch request (`--max-batch-searches` default).
pub const MAX_BATCH_SEARCHES: usize = 256;
