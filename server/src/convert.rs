//! Where API types become domain types and back: ids, filters, metrics, payload types.

use trawl_index::filter as domain;
use trawl_index::{Metric, PayloadType, PointId};
use trawl_proto as api;

use crate::error::ApiError;

/// An API id to a domain id: a string that parses as a UUID (in any of its
/// forms) is that UUID; any other string of 1 to 256 bytes is kept as given.
pub fn point_id(id: &api::PointId, field: &str) -> Result<PointId, ApiError> {
    match id {
        api::PointId::Num(n) => Ok(PointId::Num(*n)),
        api::PointId::Str(s) => match uuid::Uuid::parse_str(s) {
            Ok(u) => Ok(PointId::Uuid(u)),
            Err(_) => PointId::string(s).ok_or_else(|| {
                ApiError::invalid(
                    field,
                    if s.is_empty() {
                        "an id must not be an empty string".to_string()
                    } else {
                        format!(
                            "a string id has at most {} bytes, this one {}",
                            trawl_index::MAX_STRING_ID_BYTES,
                            s.len()
                        )
                    },
                )
            }),
        },
    }
}

/// A domain id to an API id.
pub fn api_id(id: &PointId) -> api::PointId {
    match id {
        PointId::Num(n) => api::PointId::Num(*n),
        PointId::Uuid(u) => api::PointId::Str(u.hyphenated().to_string()),
        PointId::Str(s) => api::PointId::Str(s.to_string()),
    }
}

/// A scroll cursor: the id the next page starts after, as `n:<integer>`,
/// `u:<uuid>` or `s:<string>`. Clients pass it back as they got it.
pub fn cursor(id: &PointId) -> String {
    match id {
        PointId::Num(n) => format!("n:{n}"),
        PointId::Uuid(u) => format!("u:{}", u.hyphenated()),
        PointId::Str(s) => format!("s:{s}"),
    }
}

/// A scroll cursor back to the id it names.
pub fn parse_cursor(cursor: &str) -> Result<PointId, ApiError> {
    let id = match cursor.split_once(':') {
        Some(("n", n)) => n.parse().ok().map(PointId::Num),
        Some(("u", u)) => uuid::Uuid::parse_str(u).ok().map(PointId::Uuid),
        Some(("s", s)) => PointId::string(s),
        _ => None,
    };
    id.ok_or_else(|| {
        ApiError::invalid(
            "cursor",
            format!("{cursor:?} is not a cursor: pass the `next` of the previous page as it came"),
        )
    })
}

/// Metric names.
pub fn metric(m: api::Metric) -> Metric {
    match m {
        api::Metric::Cosine => Metric::Cosine,
        api::Metric::Dot => Metric::Dot,
        api::Metric::L2 => Metric::L2,
    }
}

/// Metric names, back.
pub fn api_metric(m: Metric) -> api::Metric {
    match m {
        Metric::Cosine => api::Metric::Cosine,
        Metric::Dot => api::Metric::Dot,
        Metric::L2 => api::Metric::L2,
    }
}

/// Payload index types.
pub fn payload_type(t: api::PayloadIndexType) -> PayloadType {
    match t {
        api::PayloadIndexType::Keyword => PayloadType::Keyword,
        api::PayloadIndexType::Integer => PayloadType::Integer,
        api::PayloadIndexType::Float => PayloadType::Float,
        api::PayloadIndexType::Bool => PayloadType::Bool,
    }
}

/// Payload index types, back.
pub fn api_payload_type(t: PayloadType) -> api::PayloadIndexType {
    match t {
        PayloadType::Keyword => api::PayloadIndexType::Keyword,
        PayloadType::Integer => api::PayloadIndexType::Integer,
        PayloadType::Float => api::PayloadIndexType::Float,
        PayloadType::Bool => api::PayloadIndexType::Bool,
    }
}

/// An API filter to the domain filter.
pub fn filter(f: &api::Filter) -> Result<domain::Filter, ApiError> {
    let list =
        |conditions: &[api::Condition], name: &str| -> Result<Vec<domain::Condition>, ApiError> {
            conditions
                .iter()
                .enumerate()
                .map(|(i, c)| condition(c, &format!("filter.{name}[{i}]")))
                .collect()
        };
    Ok(domain::Filter {
        must: list(&f.must, "must")?,
        should: list(&f.should, "should")?,
        must_not: list(&f.must_not, "must_not")?,
    })
}

fn match_value(v: &api::MatchValue) -> domain::MatchValue {
    match v {
        api::MatchValue::Keyword(s) => domain::MatchValue::Keyword(s.clone()),
        api::MatchValue::Integer(n) => domain::MatchValue::Integer(*n),
        api::MatchValue::Bool(b) => domain::MatchValue::Bool(*b),
    }
}

fn condition(c: &api::Condition, path: &str) -> Result<domain::Condition, ApiError> {
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
        api::Condition::HasId { has_id } => domain::Condition::HasId(
            has_id
                .iter()
                .enumerate()
                .map(|(i, id)| point_id(id, &format!("{path}.has_id[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        api::Condition::Nested(inner) => domain::Condition::Nested(filter(inner)?),
    })
}

/// MUVERA parameters from the API's, each omitted one at its default.
pub fn muvera(config: &trawl_proto::MuveraConfig) -> trawl_index::muvera::FdeParams {
    let d = trawl_index::muvera::FdeParams::default();
    trawl_index::muvera::FdeParams {
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

/// The API's view of stored MUVERA parameters, with the encoding's dimension.
pub fn api_muvera(params: &trawl_index::muvera::FdeParams) -> trawl_proto::MuveraConfig {
    trawl_proto::MuveraConfig {
        k_sim: Some(params.k_sim),
        d_proj: Some(params.d_proj),
        r_reps: Some(params.r_reps),
        fill_empty_partitions: Some(params.fill_empty_partitions),
        final_dims: params.final_dims,
        seed: Some(params.seed),
        fde_dims: Some(params.dims()),
    }
}

/// A stored vector as the API shows it: the vector, or for a multi-vector
/// collection its token vectors as rows.
pub fn stored_vector(
    config: &trawl_index::VectorConfig,
    stored: Vec<f32>,
) -> (Option<Vec<f32>>, Option<Vec<Vec<f32>>>) {
    if config.layout == trawl_index::Layout::Multivector {
        let rows = stored
            .chunks(config.dims.max(1))
            .map(<[f32]>::to_vec)
            .collect();
        (None, Some(rows))
    } else {
        (Some(stored), None)
    }
}

/// The unnamed vector (`""`) of a collection: the v1 `vector`.
pub fn unnamed(
    config: &trawl_index::CollectionConfig,
) -> Result<&trawl_index::VectorConfig, ApiError> {
    config.default_vector().ok_or_else(|| {
        ApiError::invalid(
            "vector",
            format!(
                "the collection has no unnamed vector; its vectors are {}",
                config.vector_names()
            ),
        )
    })
}

/// The collection a create request asks for, with `dims` resolved (the
/// request's, or the default encoder's) and checked against `max_dims`
/// (`--max-dims`); `Store::create` validates the rest.
pub fn collection_config(
    request: &trawl_proto::CreateCollection,
    dims: usize,
    max_dims: usize,
) -> Result<trawl_index::CollectionConfig, ApiError> {
    use trawl_index::{HnswParams, Layout};
    if dims > max_dims {
        return Err(ApiError::invalid(
            "vector.dims",
            format!("must be at most {max_dims} (--max-dims), got {dims}"),
        ));
    }
    let layout = Layout::parse(&request.vector.layout)?;
    let muvera = match (layout, request.vector.muvera) {
        (Layout::Multivector, Some(given)) if given.fde_dims.is_some() => {
            return Err(ApiError::invalid(
                "vector.muvera.fde_dims",
                "is derived (r_reps · 2^k_sim · d_proj, or final_dims); set those instead",
            ));
        }
        (Layout::Multivector, given) => Some(muvera(&given.unwrap_or_default())),
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "vector.muvera",
                "MUVERA parameters apply to the multivector layout only",
            ));
        }
        (_, None) => None,
    };
    Ok(trawl_index::CollectionConfig {
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims,
                metric: metric(request.vector.metric),
                layout,
                hnsw: HnswParams {
                    m: request.vector.hnsw.m,
                    ef_construction: request.vector.hnsw.ef_construction,
                },
                muvera,
            },
        )]),
        payload_schema: request
            .payload_indexes
            .iter()
            .map(|(k, t)| (k.clone(), payload_type(*t)))
            .collect(),
    })
}
