//! Reading a collection by id and payload: scroll, count, facet.

use axum::Json;
use axum::extract::{Path, State};
use trawl_index::ScrollQuery;
use trawl_proto::{
    CountRequest, CountResponse, ErrorBody, FacetRequest, FacetResponse, FacetValue, PointRecord,
    ScrollRequest, ScrollResponse,
};

use crate::convert;
use crate::error::{ApiError, ApiJson};
use crate::routes::{BodyRejections, CollectionPath, KeyRequired, Unavailable, blocking};
use crate::state::AppState;

/// One page of the collection's points in id order (integers by value, then
/// UUIDs), optionally filtered. Pass each page's `next` as the next request's
/// `cursor`: every point present for the whole scroll is returned exactly
/// once, whatever is written meanwhile.
#[utoipa::path(post, path = "/collections/{name}/points/scroll", tag = "points", request_body = ScrollRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "One page", body = ScrollResponse),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Bad limit, cursor or filter", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn scroll(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<ScrollRequest>,
) -> Result<Json<ScrollResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let filter = request.filter.as_ref().map(convert::filter).transpose()?;
    let after = request
        .cursor
        .as_deref()
        .map(convert::parse_cursor)
        .transpose()?;
    let limits = state.config().filter_limits();
    let config = collection.config();
    let page = blocking(move || {
        let query = ScrollQuery {
            filter: filter.as_ref(),
            after: after.as_ref(),
            limit: request.limit,
            with_payload: request.with_payload,
            with_vector: request.with_vectors,
        };
        Ok(collection.scroll(&query, &limits)?)
    })
    .await?;
    let points = page
        .points
        .into_iter()
        .map(|p| {
            let v = convert::ApiVectors::new(&config, p.vector, p.vectors, p.sparse);
            PointRecord {
                id: convert::api_id(&p.id),
                payload: p.payload,
                vector: v.vector,
                multivector: v.multivector,
                vectors: v.vectors,
            }
        })
        .collect();
    Ok(Json(ScrollResponse {
        points,
        next: page.next.as_ref().map(convert::cursor),
    }))
}

/// How many points match a filter (every point without one): exactly, or
/// estimated from the payload indexes with `exact: false`.
#[utoipa::path(post, path = "/collections/{name}/points/count", tag = "points", request_body = CountRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "The count", body = CountResponse),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Bad filter", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn count(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<CountRequest>,
) -> Result<Json<CountResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let filter = request.filter.as_ref().map(convert::filter).transpose()?;
    let limits = state.config().filter_limits();
    let counted =
        blocking(move || Ok(collection.count(filter.as_ref(), request.exact, &limits)?)).await?;
    Ok(Json(CountResponse {
        count: counted.count,
        exact: counted.exact,
    }))
}

/// How many points hold each value of an indexed keyword, integer or bool
/// payload field, among the points matching a filter; most frequent first.
#[utoipa::path(post, path = "/collections/{name}/facet", tag = "points", request_body = FacetRequest,
    params(CollectionPath),
    responses(
        (status = 200, description = "Value counts", body = FacetResponse),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Key without a keyword, integer or bool index, bad limit or filter", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn facet(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<FacetRequest>,
) -> Result<Json<FacetResponse>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let filter = request.filter.as_ref().map(convert::filter).transpose()?;
    let limits = state.config().filter_limits();
    let values = blocking(move || {
        Ok(collection.facet(&request.key, filter.as_ref(), request.limit, &limits)?)
    })
    .await?;
    Ok(Json(FacetResponse {
        values: values
            .into_iter()
            .map(|(value, count)| FacetValue { value, count })
            .collect(),
    }))
}
