//! Search and batch search.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use trawl_index::{Collection, SearchQuery};
use trawl_proto::{
    BatchSearchRequest, BatchSearchResponse, ErrorBody, SearchRequest, SearchResponse,
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
    let mut answers = run(&state, collection, vec![request], &[String::new()]).await?;
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
    let prefixes: Vec<String> = (0..request.searches.len())
        .map(|i| format!("searches[{i}]."))
        .collect();
    let results = run(&state, collection, request.searches, &prefixes).await?;
    Ok(Json(BatchSearchResponse { results }))
}

struct Prepared {
    filter: Option<trawl_index::filter::Filter>,
    request: SearchRequest,
}

/// Runs `requests` (the query vectors of each vector searched embedded
/// together); errors name the fields of request `i` after `prefixes[i]`.
pub(crate) async fn run(
    state: &AppState,
    collection: Collection,
    requests: Vec<SearchRequest>,
    prefixes: &[String],
) -> Result<Vec<SearchResponse>, ApiError> {
    let started = Instant::now();
    let limits = &state.config().limits;
    let max_limit = limits.max_limit;
    let field = |i: usize, name: &str| {
        format!(
            "{}{name}",
            prefixes.get(i).map(String::as_str).unwrap_or_default()
        )
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
                    .map(|h| convert::hit(&config, h))
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
