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
        api::PayloadIndexType::Text => PayloadType::Text,
    }
}

/// Payload index types, back.
pub fn api_payload_type(t: PayloadType) -> api::PayloadIndexType {
    match t {
        PayloadType::Keyword => api::PayloadIndexType::Keyword,
        PayloadType::Integer => api::PayloadIndexType::Integer,
        PayloadType::Float => api::PayloadIndexType::Float,
        PayloadType::Bool => api::PayloadIndexType::Bool,
        PayloadType::Text => api::PayloadIndexType::Text,
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
        api::Condition::Match {
            key,
            matches: api::Match::Text { text },
        } => domain::Condition::match_text(key.clone(), text),
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

/// A domain hit as the API shows it (no `explain`).
pub fn hit(
    config: &trawl_index::CollectionConfig,
    h: trawl_index::ScoredPoint,
) -> trawl_proto::Hit {
    let v = ApiVectors::new(config, h.vector, h.vectors, h.sparse);
    trawl_proto::Hit {
        id: api_id(&h.id),
        score: h.score,
        payload: h.payload,
        vector: v.vector,
        multivector: v.multivector,
        vectors: v.vectors,
        explain: None,
    }
}

/// A point's stored vectors as the API shows them: the unnamed one as
/// `vector` (or `multivector`), the named ones by name.
pub struct ApiVectors {
    /// The unnamed vector (single-vector layouts).
    pub vector: Option<Vec<f32>>,
    /// The unnamed vector's token vectors (multivector layout).
    pub multivector: Option<Vec<Vec<f32>>>,
    /// The named vectors held.
    pub vectors: std::collections::BTreeMap<String, trawl_proto::NamedVector>,
}

impl ApiVectors {
    /// The vectors of a point of a collection of `config`.
    pub fn new(
        config: &trawl_index::CollectionConfig,
        unnamed: Option<Vec<f32>>,
        named: std::collections::BTreeMap<String, Vec<f32>>,
        sparse: std::collections::BTreeMap<String, trawl_index::sparse::SparseVector>,
    ) -> Self {
        let (vector, multivector) = match (unnamed, config.default_vector()) {
            (Some(stored), Some(vector)) => stored_vector(vector, stored),
            _ => (None, None),
        };
        let vectors = named
            .into_iter()
            .filter_map(|(name, stored)| {
                let vector = config.vectors.get(&name)?;
                let value = match stored_vector(vector, stored) {
                    (_, Some(rows)) => trawl_proto::NamedVector::Multi(rows),
                    (dense, None) => trawl_proto::NamedVector::Dense(dense.unwrap_or_default()),
                };
                Some((name, value))
            })
            .chain(sparse.into_iter().map(|(name, v)| {
                let value = trawl_proto::NamedVector::Sparse(trawl_proto::SparseVector {
                    indices: v.indices,
                    values: v.values,
                });
                (name, value)
            }))
            .collect();
        Self {
            vector,
            multivector,
            vectors,
        }
    }
}

/// The collection a create request asks for: each vector with `dims`
/// resolved (the request's, or `model`'s: the server's model, once loaded)
/// and checked against `max_dims` (`--max-dims`), and a named vector with an
/// `encoder` checked against the model; `Store::create` validates the rest.
pub fn collection_config(
    request: &trawl_proto::CreateCollection,
    model: Option<&trawl_encoders::ModelSpec>,
    max_dims: usize,
) -> Result<trawl_index::CollectionConfig, ApiError> {
    if request.vector.is_none() && request.vectors.is_empty() {
        return Err(ApiError::invalid(
            "vector",
            "give the collection's `vector`, or named vectors in `vectors`",
        ));
    }
    if request.vectors.contains_key("") {
        return Err(ApiError::invalid(
            "vectors",
            "the vector named \"\" is the unnamed one: give it as `vector`",
        ));
    }
    let mut vectors = std::collections::BTreeMap::new();
    let mut sparse = std::collections::BTreeMap::new();
    let given = request
        .vector
        .iter()
        .map(|v| (String::new(), v))
        .chain(request.vectors.iter().filter_map(|(n, v)| match v {
            trawl_proto::VectorSpec::Dense(v) => Some((n.clone(), v)),
            trawl_proto::VectorSpec::Sparse(s) => {
                sparse.insert(n.clone(), trawl_index::sparse::SparseConfig { idf: s.idf });
                None
            }
        }))
        .collect::<Vec<_>>();
    for (name, vector) in given {
        let field = trawl_index::CollectionConfig::field_of(&name);
        vectors.insert(name, vector_config(vector, &field, model, max_dims)?);
    }
    Ok(trawl_index::CollectionConfig {
        text: request.text.as_ref().map(text_config).transpose()?,
        sparse,
        vectors,
        payload_schema: request
            .payload_indexes
            .iter()
            .map(|(k, t)| (k.clone(), payload_type(*t)))
            .collect(),
    })
}

/// A create request's full-text index.
fn text_config(text: &trawl_proto::TextIndex) -> Result<trawl_index::text::TextConfig, ApiError> {
    use trawl_index::text::TextLanguage;
    let language = TextLanguage::from_code(&text.language).ok_or_else(|| {
        let codes: Vec<&str> = TextLanguage::ALL.iter().map(|l| l.code()).collect();
        ApiError::invalid(
            "text.language",
            format!(
                "unknown language {:?}: use one of {}",
                text.language,
                codes.join(", ")
            ),
        )
    })?;
    Ok(trawl_index::text::TextConfig {
        field: text.field.clone(),
        language,
    })
}

/// A collection's full-text index as the API shows it.
pub fn api_text_config(text: &trawl_index::text::TextConfig) -> trawl_proto::TextIndex {
    trawl_proto::TextIndex {
        field: text.field.clone(),
        language: text.language.code().to_string(),
    }
}

/// One vector of a create request; errors name fields under `field`.
fn vector_config(
    vector: &trawl_proto::VectorConfig,
    field: &str,
    model: Option<&trawl_encoders::ModelSpec>,
    max_dims: usize,
) -> Result<trawl_index::VectorConfig, ApiError> {
    use trawl_index::{HnswParams, Layout};
    let layout = Layout::parse(&vector.layout).map_err(|e| match e {
        trawl_index::IndexError::InvalidParameter { reason, .. } => {
            ApiError::invalid(format!("{field}.layout"), reason)
        }
        other => other.into(),
    })?;
    let model_dims = || {
        model.map(|m| m.dims).ok_or_else(|| {
            ApiError::invalid(
                format!("{field}.dims"),
                "the server's model is not loaded yet: give `dims`, or retry once /readyz answers 200",
            )
        })
    };
    let dims = match vector.dims {
        Some(dims) => dims,
        None => model_dims()?,
    };
    if dims > max_dims {
        return Err(ApiError::invalid(
            format!("{field}.dims"),
            format!("must be at most {max_dims} (--max-dims), got {dims}"),
        ));
    }
    if let Some(encoder) = &vector.encoder {
        let wanted = match encoder.as_str() {
            "float" => Layout::Float,
            "multivector" => Layout::Multivector,
            other => {
                return Err(ApiError::invalid(
                    format!("{field}.encoder"),
                    format!(
                        "unknown encoder {other:?}: expected \"float\" (the model's sentence embedding) or \"multivector\" (its token embeddings)"
                    ),
                ));
            }
        };
        if (wanted == Layout::Multivector) != (layout == Layout::Multivector) {
            return Err(ApiError::invalid(
                format!("{field}.encoder"),
                format!(
                    "the {encoder} encoder does not fill a {} layout: use {}",
                    layout.as_str(),
                    if wanted == Layout::Multivector {
                        "layout multivector"
                    } else {
                        "encoder multivector with layout multivector, or a float, binary or matryoshka layout with encoder float"
                    }
                ),
            ));
        }
        if let Some(model) = model
            && model.dims != dims
        {
            return Err(ApiError::invalid(
                format!("{field}.dims"),
                format!(
                    "the server's model ({}) embeds text into {} dimensions, so a vector it fills ({field}.encoder) has {}, not {dims}",
                    model.name, model.dims, model.dims
                ),
            ));
        }
    }
    let muvera = match (layout, vector.muvera) {
        (Layout::Multivector, Some(given)) if given.fde_dims.is_some() => {
            return Err(ApiError::invalid(
                format!("{field}.muvera.fde_dims"),
                "is derived (r_reps · 2^k_sim · d_proj, or final_dims); set those instead",
            ));
        }
        (Layout::Multivector, given) => Some(muvera(&given.unwrap_or_default())),
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                format!("{field}.muvera"),
                "MUVERA parameters apply to the multivector layout only",
            ));
        }
        (_, None) => None,
    };
    Ok(trawl_index::VectorConfig {
        dims,
        metric: metric(vector.metric),
        layout,
        hnsw: HnswParams {
            m: vector.hnsw.m,
            ef_construction: vector.hnsw.ef_construction,
        },
        muvera,
        encoder: vector.encoder.clone(),
    })
}

/// A vector's schema as the API shows it.
pub fn api_vector_config(vector: &trawl_index::VectorConfig) -> trawl_proto::VectorConfig {
    trawl_proto::VectorConfig {
        dims: Some(vector.dims),
        metric: api_metric(vector.metric),
        layout: vector.layout.as_str(),
        hnsw: trawl_proto::HnswConfig {
            m: vector.hnsw.m,
            ef_construction: vector.hnsw.ef_construction,
        },
        muvera: vector.muvera.as_ref().map(api_muvera),
        encoder: vector.encoder.clone(),
    }
}
