//! Collections: create, list, describe, delete, recover.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use trawl_proto::{
    CollectionAck, CollectionInfo, CollectionList, CollectionSummary, CreateCollection, ErrorBody,
    MemoryInfo, RecoverCollection,
};

use crate::convert;
use crate::error::{ApiError, ApiJson};
use crate::routes::{
    BodyRejections, CollectionPath, KeyRequired, ReadOnlyKey, StorageFull, Unavailable, blocking,
};
use crate::state::AppState;

/// Create a collection.
#[utoipa::path(put, path = "/collections/{name}", tag = "collections", request_body = CreateCollection,
    params(CollectionPath),
    responses(
        (status = 200, description = "Created", body = CollectionAck),
        (status = 409, description = "Exists already", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Invalid name or schema", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<CreateCollection>,
) -> Result<Json<CollectionAck>, ApiError> {
    // The model's dimension fills an omitted `dims` (the unnamed vector's
    // default, as ever) and checks vectors with an `encoder`.
    let needs_model = request.vector.as_ref().is_some_and(|v| v.dims.is_none())
        || request
            .vectors
            .values()
            .any(|v| v.dense().is_some_and(|v| v.encoder.is_some()));
    let model = match state.try_embedder() {
        Some(embedder) => Some(embedder.spec().clone()),
        None if needs_model => Some(state.embedder()?.spec().clone()),
        None => None,
    };
    let config =
        convert::collection_config(&request, model.as_ref(), state.config().limits.max_dims)?;
    let store = state.store()?.clone();
    let created = name.clone();
    blocking(move || Ok(store.create(&created, config)?)).await?;
    Ok(Json(CollectionAck {
        name,
        status: "created".into(),
    }))
}

/// List collections.
#[utoipa::path(get, path = "/collections", tag = "collections",
    responses((status = 200, description = "Every collection", body = CollectionList), Unavailable, KeyRequired))]
pub async fn list(State(state): State<AppState>) -> Result<Json<CollectionList>, ApiError> {
    let store = state.store()?;
    let mut collections: Vec<CollectionSummary> = store
        .list()
        .into_iter()
        .map(|c| CollectionSummary {
            name: c.name().to_string(),
            points: c.len() as u64,
            status: None,
            error: None,
        })
        .chain(
            store
                .damaged()
                .into_iter()
                .map(|(name, reason)| CollectionSummary {
                    name,
                    points: 0,
                    status: Some("damaged".into()),
                    error: Some(reason),
                }),
        )
        .collect();
    collections.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(CollectionList { collections }))
}

/// Open a damaged collection again: after its files were restored, or
/// accepting the intact prefix of its write-ahead log.
#[utoipa::path(post, path = "/collections/{name}/recover", tag = "collections",
    request_body = RecoverCollection,
    params(CollectionPath),
    responses(
        (status = 200, description = "Open and served again (or was not damaged)", body = CollectionAck),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Body larger than --max-body-bytes", body = ErrorBody),
        (status = 422, description = "Unknown field", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired, ReadOnlyKey,
    ))]
pub async fn recover(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    ApiJson(request): ApiJson<RecoverCollection>,
) -> Result<Json<CollectionAck>, ApiError> {
    let store = state.store()?.clone();
    let target = name.clone();
    blocking(move || Ok(store.reopen(&target, request.accept_intact_log_prefix)?)).await?;
    Ok(Json(CollectionAck {
        name,
        status: "recovered".into(),
    }))
}

/// Describe a collection: schema, counts, memory and disk.
#[utoipa::path(get, path = "/collections/{name}", tag = "collections",
    params(CollectionPath),
    responses(
        (status = 200, description = "The collection", body = CollectionInfo),
        (status = 404, description = "No such collection", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn info(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
) -> Result<Json<CollectionInfo>, ApiError> {
    let collection = state.store()?.get(&name)?;
    // The collection's own name, also when asked through an alias.
    let name = collection.name().to_string();
    let (config, stats) = blocking(move || Ok((collection.config(), collection.stats()))).await?;
    Ok(Json(CollectionInfo {
        name,
        vector: config.default_vector().map(convert::api_vector_config),
        vectors: config
            .vectors
            .iter()
            .filter(|(name, _)| !name.is_empty())
            .map(|(name, v)| {
                let spec = trawl_proto::VectorSpec::Dense(convert::api_vector_config(v));
                (name.clone(), spec)
            })
            .chain(config.sparse.iter().map(|(name, s)| {
                let spec = trawl_proto::VectorSpec::Sparse(trawl_proto::SparseVectorConfig {
                    kind: trawl_proto::SparseKind::Sparse,
                    idf: s.idf,
                });
                (name.clone(), spec)
            }))
            .collect(),
        payload_indexes: config
            .payload_schema
            .iter()
            .map(|(k, t)| (k.clone(), convert::api_payload_type(*t)))
            .collect(),
        text: config.text.as_ref().map(convert::api_text_config),
        points: stats.points,
        tombstones: stats.tombstones,
        indexed_points: stats.indexed,
        graph_segments: stats.segments,
        optimizer_status: if stats.optimizing { "optimizing" } else { "ok" }.into(),
        ram_bytes: stats.ram_bytes,
        disk_bytes: stats.disk_bytes,
        memory: MemoryInfo {
            ram: parts(&stats, true),
            disk: parts(&stats, false),
        },
    }))
}

fn parts(stats: &trawl_index::CollectionStats, in_memory: bool) -> BTreeMap<String, u64> {
    stats
        .memory
        .parts()
        .into_iter()
        .filter(|(_, ram, _)| *ram == in_memory)
        .map(|(name, _, bytes)| (name.to_string(), bytes))
        .collect()
}

/// Delete a collection and its files.
#[utoipa::path(delete, path = "/collections/{name}", tag = "collections",
    params(CollectionPath),
    responses(
        (status = 200, description = "Deleted", body = CollectionAck),
        (status = 404, description = "No such collection", body = ErrorBody),
        Unavailable, KeyRequired, ReadOnlyKey,
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
) -> Result<Json<CollectionAck>, ApiError> {
    let store = state.store()?.clone();
    let deleted = name.clone();
    blocking(move || Ok(store.delete(&deleted)?)).await?;
    Ok(Json(CollectionAck {
        name,
        status: "deleted".into(),
    }))
}
