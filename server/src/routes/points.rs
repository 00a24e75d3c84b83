//! Points: get, delete by ids or filter, payload updates (upserts are in
//! [`super::upsert`]).

use axum::Json;
use axum::extract::{Path, State};
use serde_json::Value;
use trawl_index::{PayloadUpdate, Selection};
use trawl_proto::{
    DeletePayloadKeys, DeletePoints, DeleteResult, ErrorBody, Payload, PointRecord, SetPayload,
    UpdateResult,
};

use crate::convert;
use crate::error::{ApiError, WriteJson};
use crate::routes::{
    BodyRejections, CollectionPath, KeyRequired, PointPath, ReadOnlyKey, StorageFull, Unavailable,
    blocking, blocking_write,
};
use crate::state::AppState;

/// Delete points by ids or by filter.
#[utoipa::path(post, path = "/collections/{name}/points/delete", tag = "points", request_body = DeletePoints,
    params(CollectionPath),
    responses(
        (status = 200, description = "Deleted", body = DeleteResult),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Neither or both of ids and filter, or a bad filter", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    WriteJson(request): WriteJson<DeletePoints>,
) -> Result<Json<DeleteResult>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let limits = state.config().filter_limits();
    let deleted = match Chosen::of(request.ids, request.filter)? {
        Chosen::Ids(ids) => blocking_write(move || Ok(collection.delete(&ids)?)).await?,
        Chosen::Filter(filter) => {
            blocking_write(move || Ok(collection.delete_by_filter(&filter, &limits)?)).await?
        }
    };
    Ok(Json(DeleteResult { deleted }))
}

/// The points a write applies to, as the request named them.
enum Chosen {
    Ids(Vec<trawl_index::PointId>),
    Filter(trawl_index::filter::Filter),
}

impl Chosen {
    /// Exactly one of `ids` and `filter`.
    fn of(
        ids: Option<Vec<trawl_proto::PointId>>,
        filter: Option<trawl_proto::Filter>,
    ) -> Result<Self, ApiError> {
        match (ids, filter) {
            (Some(ids), None) => ids
                .iter()
                .enumerate()
                .map(|(i, id)| convert::point_id(id, &format!("ids[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Self::Ids),
            (None, Some(filter)) => convert::filter(&filter).map(Self::Filter),
            _ => Err(ApiError::invalid(
                "ids",
                "send exactly one of `ids` or `filter`",
            )),
        }
    }

    fn selection(&self) -> Selection<'_> {
        match self {
            Self::Ids(ids) => Selection::Ids(ids),
            Self::Filter(filter) => Selection::Filter(filter),
        }
    }
}

/// Runs a payload update on the write pool.
async fn update_payload(
    state: &AppState,
    name: &str,
    chosen: Chosen,
    update: PayloadUpdate,
) -> Result<Json<UpdateResult>, ApiError> {
    let collection = state.store()?.get(name)?;
    let limits = state.config().filter_limits();
    let max_bytes = state.config().limits.max_payload_bytes;
    let updated = blocking_write(move || {
        Ok(collection.update_payload_within(chosen.selection(), &update, &limits, max_bytes)?)
    })
    .await?;
    Ok(Json(UpdateResult { updated }))
}

/// Set payload keys: merge `payload`'s top-level keys into each chosen
/// point's payload (other keys stay). Durable when answered; vectors are kept.
#[utoipa::path(post, path = "/collections/{name}/points/payload", tag = "points", request_body = SetPayload,
    params(CollectionPath),
    responses(
        (status = 200, description = "Updated", body = UpdateResult),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body, or the payload, too large", body = ErrorBody),
        (status = 422, description = "Neither or both of ids and filter, or a bad filter or id", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn set_payload(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    WriteJson(request): WriteJson<SetPayload>,
) -> Result<Json<UpdateResult>, ApiError> {
    check_payload(&request.payload, "payload", &state)?;
    let chosen = Chosen::of(request.ids, request.filter)?;
    update_payload(&state, &name, chosen, PayloadUpdate::Merge(request.payload)).await
}

/// Replace payloads: each chosen point's payload becomes `payload`. Durable
/// when answered; vectors are kept.
#[utoipa::path(put, path = "/collections/{name}/points/payload", tag = "points", request_body = SetPayload,
    params(CollectionPath),
    responses(
        (status = 200, description = "Updated", body = UpdateResult),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body, or the payload, too large", body = ErrorBody),
        (status = 422, description = "Neither or both of ids and filter, or a bad filter or id", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn replace_payload(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    WriteJson(request): WriteJson<SetPayload>,
) -> Result<Json<UpdateResult>, ApiError> {
    check_payload(&request.payload, "payload", &state)?;
    let chosen = Chosen::of(request.ids, request.filter)?;
    update_payload(
        &state,
        &name,
        chosen,
        PayloadUpdate::Replace(request.payload),
    )
    .await
}

/// Delete payload keys: remove these top-level keys from each chosen point's
/// payload. Durable when answered; vectors are kept.
#[utoipa::path(post, path = "/collections/{name}/points/payload/delete", tag = "points", request_body = DeletePayloadKeys,
    params(CollectionPath),
    responses(
        (status = 200, description = "Updated", body = UpdateResult),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "No keys, an empty key, neither or both of ids and filter, or a bad filter or id", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn delete_payload_keys(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    WriteJson(request): WriteJson<DeletePayloadKeys>,
) -> Result<Json<UpdateResult>, ApiError> {
    let chosen = Chosen::of(request.ids, request.filter)?;
    update_payload(
        &state,
        &name,
        chosen,
        PayloadUpdate::DeleteKeys(request.keys),
    )
    .await
}

/// Get one point.
#[utoipa::path(get, path = "/collections/{name}/points/{id}", tag = "points", operation_id = "get_point",
    params(PointPath),
    responses(
        (status = 200, description = "The point", body = PointRecord),
        (status = 404, description = "No such collection or point", body = ErrorBody),
        (status = 422, description = "Malformed id", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn get(
    State(state): State<AppState>,
    Path(PointPath { name, id }): Path<PointPath>,
) -> Result<Json<PointRecord>, ApiError> {
    let collection = state.store()?.get(&name)?;
    let api_id = match id.parse::<u64>() {
        Ok(n) => trawl_proto::PointId::Num(n),
        Err(_) => trawl_proto::PointId::Str(id),
    };
    let domain_id = convert::point_id(&api_id, "id")?;
    let config = collection.config();
    let wanted = domain_id.clone();
    let point = blocking(move || {
        collection
            .fetch(std::slice::from_ref(&wanted), true, true)
            .pop()
            .flatten()
            .ok_or_else(|| trawl_index::IndexError::PointNotFound(wanted.to_string()).into())
    })
    .await?;
    let v = convert::ApiVectors::new(&config, point.vector, point.vectors, point.sparse);
    Ok(Json(PointRecord {
        id: convert::api_id(&domain_id),
        payload: point.payload,
        vector: v.vector,
        multivector: v.multivector,
        vectors: v.vectors,
    }))
}

/// Refuses a payload past `--max-payload-bytes` (compact JSON) or `--max-payload-depth`.
pub(crate) fn check_payload(
    payload: &Payload,
    field: &str,
    state: &AppState,
) -> Result<(), ApiError> {
    let limits = &state.config().limits;
    let depth = 1 + payload.values().map(depth).max().unwrap_or(0);
    if depth > limits.max_payload_depth {
        return Err(ApiError::LimitExceeded {
            field: format!("{field} (nesting depth)"),
            limit: limits.max_payload_depth,
            got: depth,
        });
    }
    let bytes = trawl_index::json_len(payload);
    if bytes > limits.max_payload_bytes {
        return Err(ApiError::LimitExceeded {
            field: format!("{field} (bytes)"),
            limit: limits.max_payload_bytes,
            got: bytes,
        });
    }
    Ok(())
}

/// Nesting depth of a JSON value: 0 for a scalar, 1 + the deepest child for
/// an array or object.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
