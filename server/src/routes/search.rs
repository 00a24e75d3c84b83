//! Search and batch search.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use trawl_index::{Collection, SearchQuery};
use trawl_proto::{
    BatchSearchRequest, BatchSearchResponse, Condition, ErrorBody, Filter, Hit, QueryRequest,
    QueryStage, SearchParams, SearchRequest, SearchResponse,
};

use crate::convert;
use crate::error::{ApiError, ApiJson};
use crate::routes::{BodyRejections, CollectionPath, KeyRequired, Unavailable, Vectors, blocking};
use crate::state::AppState;

/// Find the nearest points to a vector or a text, optionally filtered.
#[utoipa::path(post, path = "/collections/{name}/search", tag = "search", request_body = SearchRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "Hits, best first", body = SearchResponse),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes, or too many query tokens", body = ErrorBody),
        (status = 422, description = "Bad vector, filter or parameter", body = ErrorBody),
        (status = 429, description = "The embedding queue is full (text queries)", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn search(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<SearchRequest>,
) -> Result<Json<SearchResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let mut answers = run(&state, collection, vec![request], "").await?;
    Ok(Json(answers.remove(0)))
}

/// Run several searches in one request.
#[utoipa::path(post, path = "/collections/{name}/search/batch", tag = "search", request_body = BatchSearchRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "One answer per search", body = BatchSearchResponse),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Too many searches", body = ErrorBody),
        (status = 422, description = "Bad vector, filter or parameter", body = ErrorBody),
        (status = 429, description = "The embedding queue is full (text queries)", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn batch(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<BatchSearchRequest>,
) -> Result<Json<BatchSearchResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    ApiError::check_limit(
        "searches",
        request.searches.len(),
        state.config().limits.max_batch_searches,
    )?;
    let results = run(&state, collection, request.searches, "searches").await?;
    Ok(Json(BatchSearchResponse { results }))
}

struct Prepared {
    filter: Option<trawl_index::filter::Filter>,
    request: SearchRequest,
}

async fn run(
    state: &AppState,
    collection: Collection,
    requests: Vec<SearchRequest>,
    prefix: &str,
) -> Result<Vec<SearchResponse>, ApiError> {
    let started = Instant::now();
    let limits = &state.config().limits;
    let max_limit = limits.max_limit;
    let field = |i: usize, name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}[{i}].{name}")
        }
    };
    let mut prepared = Vec::with_capacity(requests.len());
    let config = collection.config();
    // The query vectors of the searches of each vector searched, embedded
    // together; each search's (vector, place among them).
    let mut batches: BTreeMap<String, (Vectors, usize)> = BTreeMap::new();
    let mut places = Vec::with_capacity(requests.len());
    for (i, mut request) in requests.into_iter().enumerate() {
        let using = request.using.clone().unwrap_or_default();
        let (_, vector) = config.vector(&using, &field(i, "using"))?;
        if request.text.is_some() && !using.is_empty() && vector.encoder.is_none() {
            return Err(ApiError::invalid(
                field(i, "text"),
                format!(
                    "the vector {using:?} has no encoder to embed text with: send `vector` (or `multivector`), or search a vector created with an `encoder`"
                ),
            ));
        }
        let (vectors, count) = batches
            .entry(using.clone())
            .or_insert_with(|| (Vectors::new(state, vector.layout, vector.dims), 0));
        places.push((using, *count));
        *count += 1;
        if request.limit == 0 || request.limit > max_limit {
            return Err(ApiError::invalid(
                field(i, "limit"),
                format!("must be between 1 and {max_limit}, got {}", request.limit),
            ));
        }
        if let Some(ef) = request.params.ef
            && ef > limits.max_ef
        {
            return Err(ApiError::invalid(
                field(i, "params.ef"),
                format!("must be at most {} (--max-ef), got {ef}", limits.max_ef),
            ));
        }
        if let Some(oversample) = request.params.oversample
            && oversample > limits.max_oversample as f32
        {
            return Err(ApiError::invalid(
                field(i, "params.oversample"),
                format!(
                    "must be at most {} (--max-oversample), got {oversample}",
                    limits.max_oversample
                ),
            ));
        }
        vectors.take(
            request.vector.take(),
            request.text.take(),
            request.multivector.take(),
            |name| field(i, name),
        )?;
        let filter = request.filter.as_ref().map(convert::filter).transpose()?;
        prepared.push(Prepared { filter, request });
    }
    let mut resolved = BTreeMap::new();
    for (using, (vectors, _)) in batches {
        resolved.insert(using, vectors.resolve(state).await?);
    }
    let limits = state.config().filter_limits();
    blocking(move || {
        prepared
            .iter()
            .zip(&places)
            .map(|(p, (using, place))| {
                let query = SearchQuery {
                    using,
                    vector: &resolved[using][*place],
                    filter: p.filter.as_ref(),
                    filter_limits: limits,
                    limit: p.request.limit,
                    ef: p.request.params.ef,
                    exact: p.request.params.exact,
                    oversample: p.request.params.oversample,
                    rerank: p.request.params.rerank.unwrap_or(true),
                    with_payload: p.request.with_payload,
                    with_vector: p.request.with_vector,
                };
                let hits = collection
                    .search(&query)?
                    .into_iter()
                    .map(|h| {
                        let v = convert::ApiVectors::new(&config, h.vector, h.vectors);
                        Hit {
                            id: convert::api_id(&h.id),
                            score: h.score,
                            payload: h.payload,
                            vector: v.vector,
                            multivector: v.multivector,
                            vectors: v.vectors,
                        }
                    })
                    .collect();
                Ok(SearchResponse {
                    hits,
                    took_ms: started.elapsed().as_secs_f64() * 1e3,
                })
            })
            .collect()
    })
    .await
}

/// Query: one retrieval stage on a named vector, given in `prefetch` or at
/// the top level; by `vector`, `text`, `multivector` or by example (`point`:
/// that point's stored vector, the point itself excluded). Several stages
/// are combined by fusion, which comes with hybrid retrieval.
#[utoipa::path(post, path = "/collections/{name}/query", tag = "search", request_body = QueryRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "Hits, best first", body = SearchResponse),
        (status = 404, description = "No such collection, or no such point to search by", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes, or too many query tokens", body = ErrorBody),
        (status = 422, description = "Bad stage, vector, filter or parameter", body = ErrorBody),
        (status = 429, description = "The embedding queue is full (text queries)", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn query(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<QueryRequest>,
) -> Result<Json<SearchResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let (stage, at) = one_stage(&request)?;
    let using = stage.using.clone().unwrap_or_default();
    let config = collection.config();
    let (_, searched) = config.vector(&using, &format!("{at}using"))?;
    let max_limit = state.config().limits.max_limit;
    let limit = match stage.limit {
        Some(l) if l == 0 || l > max_limit => {
            return Err(ApiError::invalid(
                format!("{at}limit"),
                format!("must be between 1 and {max_limit}, got {l}"),
            ));
        }
        Some(l) => l.min(request.limit),
        None => request.limit,
    };
    let given = [
        stage.vector.is_some(),
        stage.text.is_some(),
        stage.multivector.is_some(),
        stage.point.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::invalid(
            format!("{at}vector"),
            "give exactly one of `vector`, `text`, `multivector` or `point`",
        ));
    }
    let mut filters: Vec<Filter> = [request.filter.clone(), stage.filter.clone()]
        .into_iter()
        .flatten()
        .collect();
    let (mut vector, mut multivector) = (stage.vector.clone(), stage.multivector.clone());
    if let Some(example) = &stage.point {
        let id = convert::point_id(example, &format!("{at}point"))?;
        let source = collection.clone();
        let (mut stored, _) = blocking(move || Ok(source.get_vectors(&id)?)).await?;
        let Some(stored) = stored.remove(&using) else {
            return Err(ApiError::invalid(
                format!("{at}point"),
                format!("the point holds no vector {using:?} to search by"),
            ));
        };
        (vector, multivector) = convert::stored_vector(searched, stored);
        filters.push(Filter {
            must_not: vec![Condition::HasId {
                has_id: vec![example.clone()],
            }],
            ..Filter::default()
        });
    }
    let filter = match filters.len() {
        0 => None,
        1 => filters.pop(),
        _ => Some(Filter {
            must: filters.into_iter().map(Condition::Nested).collect(),
            ..Filter::default()
        }),
    };
    let search = SearchRequest {
        using: Some(using),
        vector,
        text: stage.text.clone(),
        multivector,
        filter,
        limit,
        with_payload: request.with_payload,
        with_vector: request.with_vector,
        params: stage.params,
    };
    let mut answers = run(&state, collection, vec![search], "").await?;
    Ok(Json(answers.remove(0)))
}

/// The request's one stage, and the prefix its fields' errors carry.
fn one_stage(request: &QueryRequest) -> Result<(QueryStage, &'static str), ApiError> {
    let top_level = request.using.is_some()
        || request.vector.is_some()
        || request.text.is_some()
        || request.multivector.is_some()
        || request.point.is_some();
    match &request.prefetch {
        None => Ok((
            QueryStage {
                using: request.using.clone(),
                vector: request.vector.clone(),
                text: request.text.clone(),
                multivector: request.multivector.clone(),
                point: request.point.clone(),
                filter: None,
                limit: None,
                params: request.params,
            },
            "",
        )),
        Some(_) if top_level || request.params != SearchParams::default() => {
            Err(ApiError::invalid(
                "prefetch",
                "give the stage in `prefetch` or at the top level, not both",
            ))
        }
        Some(stages) => match stages.as_slice() {
            [] => Err(ApiError::invalid("prefetch", "give at least one stage")),
            [stage] => Ok((stage.clone(), "prefetch[0].")),
            more => Err(ApiError::invalid(
                "prefetch",
                format!(
                    "{} stages: combining several stages needs fusion, which is not available yet; send one stage",
                    more.len()
                ),
            )),
        },
    }
}
