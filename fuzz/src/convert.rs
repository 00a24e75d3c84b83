//! The HTTP layer's conversions and pre-index checks, mirrored.
//!
//! The real ones are `server/src/convert.rs` and the route handlers in
//! `server/src/routes/{mod,search,points,collections}.rs`. Depending on
//! `trawl-server` would compile axum, tokio, tokenizers and the ONNX Runtime
//! bindings with the fuzzer's instrumentation on every build (a release build
//! of nearly the whole workspace), so the few lines that turn API values into
//! domain values are repeated here, in the same order and with the same
//! checks. Every `match` on an API type is exhaustive: a new variant in
//! `trawl-proto` stops this crate from compiling until the mirror follows.
//!
//! Errors are plain strings: which status code they become is the server's
//! business, not the fuzzer's.

use trawl_index::filter as domain;
use trawl_index::muvera::FdeParams;
use trawl_index::{CollectionConfig, HnswParams, Layout, Metric, PayloadType, PointId};
use trawl_proto as api;

/// Largest search `limit` (the server's `--max-limit` default).
pub const MAX_LIMIT: usize = 1_000;
/// Most token vectors in one multi-vector (`--max-multivector-tokens` default).
pub const MAX_TOKENS: usize = 1_024;
/// Most points in one upsert (`--max-upsert-points` default).
pub const MAX_UPSERT_POINTS: usize = 10_000;
/// Dimension of the default encoder, for a create request without `dims`.
pub const ENCODER_DIMS: usize = 384;

/// An API id to a domain id (`convert::point_id`).
pub fn point_id(id: &api::PointId) -> Result<PointId, String> {
    match id {
        api::PointId::Num(n) => Ok(PointId::Num(*n)),
        api::PointId::Uuid(s) => uuid::Uuid::parse_str(s)
            .map(PointId::Uuid)
            .map_err(|_| format!("{s:?} is neither an unsigned integer nor a UUID")),
    }
}

/// An API filter to the domain filter (`convert::filter`).
pub fn filter(f: &api::Filter) -> Result<domain::Filter, String> {
    let list = |conditions: &[api::Condition]| -> Result<Vec<domain::Condition>, String> {
        conditions.iter().map(condition).collect()
    };
    Ok(domain::Filter {
        must: list(&f.must)?,
        should: list(&f.should)?,
        must_not: list(&f.must_not)?,
    })
}

fn match_value(v: &api::MatchValue) -> domain::MatchValue {
    match v {
        api::MatchValue::Keyword(s) => domain::MatchValue::Keyword(s.clone()),
        api::MatchValue::Integer(n) => domain::MatchValue::Integer(*n),
        api::MatchValue::Bool(b) => domain::MatchValue::Bool(*b),
    }
}

fn condition(c: &api::Condition) -> Result<domain::Condition, String> {
    Ok(match c {
        api::Condition::Match {
            key,
            matches: api::Match::Value { value },
        } => domain::Condition::Match {
            key: key.clone(),
            value: match_value(value),
        },
        api::Condition::Match {
            key,
            matches: api::Match::Any { any },
        } => domain::Condition::MatchAny {
            key: key.clone(),
            any: any.iter().map(match_value).collect(),
        },
        api::Condition::Range { key, range } => domain::Condition::Range {
            key: key.clone(),
            range: domain::Range {
                gt: range.gt,
                gte: range.gte,
                lt: range.lt,
                lte: range.lte,
            },
        },
        api::Condition::Exists { key, exists } => domain::Condition::Exists {
            key: key.clone(),
            exists: *exists,
        },
        api::Condition::HasId { has_id } => {
            domain::Condition::HasId(has_id.iter().map(point_id).collect::<Result<_, _>>()?)
        }
        api::Condition::Nested(inner) => domain::Condition::Nested(filter(inner)?),
    })
}

/// Metric names (`convert::metric`).
pub fn metric(m: api::Metric) -> Metric {
    match m {
        api::Metric::Cosine => Metric::Cosine,
        api::Metric::Dot => Metric::Dot,
        api::Metric::L2 => Metric::L2,
    }
}

/// Payload index types (`convert::payload_type`).
pub fn payload_type(t: api::PayloadIndexType) -> PayloadType {
    match t {
        api::PayloadIndexType::Keyword => PayloadType::Keyword,
        api::PayloadIndexType::Integer => PayloadType::Integer,
        api::PayloadIndexType::Float => PayloadType::Float,
        api::PayloadIndexType::Bool => PayloadType::Bool,
    }
}

/// MUVERA parameters, each omitted one at its default (`convert::muvera`).
pub fn muvera(config: &api::MuveraConfig) -> FdeParams {
    let d = FdeParams::default();
    FdeParams {
        k_sim: config.k_sim.unwrap_or(d.k_sim),
        d_proj: config.d_proj.unwrap_or(d.d_proj),
        r_reps: config.r_reps.unwrap_or(d.r_reps),
        fill_empty_partitions: config
            .fill_empty_partitions
            .unwrap_or(d.fill_empty_partitions),
        final_dims: config.final_dims.or(d.final_dims),
        seed: config.seed.unwrap_or(d.seed),
    }
}

/// The collection a create request asks for, before `Store::create`
/// validates it (`routes::collections::create`).
pub fn collection_config(request: &api::CreateCollection) -> Result<CollectionConfig, String> {
    let dims = request.vector.dims.unwrap_or(ENCODER_DIMS);
    let layout = Layout::parse(&request.vector.layout).map_err(|e| e.to_string())?;
    let muvera = match (layout, request.vector.muvera) {
        (Layout::Multivector, Some(given)) if given.fde_dims.is_some() => {
            return Err("vector.muvera.fde_dims is derived".into());
        }
        (Layout::Multivector, given) => Some(muvera(&given.unwrap_or_default())),
        (_, Some(_)) => return Err("vector.muvera applies to the multivector layout only".into()),
        (_, None) => None,
    };
    Ok(CollectionConfig {
        dims,
        metric: metric(request.vector.metric),
        layout,
        muvera,
        hnsw: HnswParams {
            m: request.vector.hnsw.m,
            ef_construction: request.vector.hnsw.ef_construction,
        },
        payload_schema: request
            .payload_indexes
            .iter()
            .map(|(k, t)| (k.clone(), payload_type(*t)))
            .collect(),
    })
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
