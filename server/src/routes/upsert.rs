//! Upserts: checked whole before anything is written, then embedded (points
//! given as text) and written a chunk at a time, so that a long write shows
//! progress: within the request (`wait=true`, the default: a timeout says how
//! many points were written) or as a queued operation (`wait=false`, see
//! [`crate::operations`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trawl_index::{Collection, PointId, PointWrite};
use trawl_proto::{ErrorBody, Operation, Payload, PointInput, UpsertPoints, UpsertResult};

use crate::convert;
use crate::error::{ApiError, WriteJson};
use crate::routes::points::check_payload;
use crate::routes::{
    BodyRejections, CollectionPath, KeyRequired, ReadOnlyKey, StorageFull, Unavailable, Vectors,
    blocking_write,
};
use crate::state::AppState;

/// The query parameters of an upsert.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpsertParams {
    /// `true` (the default): answer once every point is written. `false`:
    /// answer 202 with an operation once the points are queued on disk
    /// (`GET /operations/{id}` reports on it), or 429 when
    /// `--max-queued-operations` are waiting.
    pub wait: Option<bool>,
}

impl UpsertParams {
    /// Parses the query string: `wait=true|false` and nothing else.
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut wait = None;
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            match pair.split_once('=').unwrap_or((pair, "")) {
                ("wait", "true") => wait = Some(true),
                ("wait", "false") => wait = Some(false),
                ("wait", other) => {
                    return Err(ApiError::invalid(
                        "wait",
                        format!("expected true or false, got {other:?}"),
                    ));
                }
                (other, _) => {
                    return Err(ApiError::invalid(
                        other,
                        "unknown query parameter; an upsert takes `wait`",
                    ));
                }
            }
        }
        Ok(Self { wait })
    }
}

/// Insert or replace points. Acknowledged writes are durable (fsynced) and
/// searchable. Points given as `text` are embedded and written a chunk at a
/// time: with `wait=false` the write is queued on disk and carried out in
/// the background (202 with an operation to poll).
#[utoipa::path(put, path = "/collections/{name}/points", tag = "points", request_body = UpsertPoints,
    params(CollectionPath, UpsertParams),
    responses(
        (status = 200, description = "Written", body = UpsertResult),
        (status = 202, description = "Queued (`wait=false`): poll GET /operations/{id}", body = Operation),
        (status = 404, description = "No such collection", body = ErrorBody),
        (status = 413, description = "Too many points", body = ErrorBody),
        (status = 422, description = "Bad vector, id, field or query parameter", body = ErrorBody),
        (status = 429, description = "The embedding queue is full (points given as text), or (`wait=false`) --max-queued-operations are waiting", body = ErrorBody),
        BodyRejections, Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn upsert(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    RawQuery(query): RawQuery,
    WriteJson(request): WriteJson<UpsertPoints>,
) -> Result<Response, ApiError> {
    let params = UpsertParams::parse(query.as_deref())?;
    let collection = state.store()?.get(&name)?;
    ApiError::check_limit(
        "points",
        request.points.len(),
        state.config().limits.max_upsert_points,
    )?;
    if params.wait == Some(false) {
        // Checked now, so that a bad point is a 4xx here, not a failed operation.
        prepare(&state, &collection, request.points.clone(), true)?;
        let operations = Arc::clone(state.operations()?);
        let collection = collection.name().to_string();
        let accepted = blocking_write(move || operations.accept(&collection, &request)).await?;
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    let prepared = prepare(&state, &collection, request.points, false)?;
    let total = prepared.len();
    let progress = Arc::new(Progress::default());
    // Stops the write after its current chunk if this request ends first
    // (its time is up, or the client went away).
    let _stop = StopOnDrop(Arc::clone(&progress));
    let work = tokio::spawn(write_chunks(
        state.clone(),
        collection,
        prepared,
        Arc::clone(&progress),
    ));
    let timeout = state.config().request_timeout();
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(result)) => result.map(|upserted| Json(UpsertResult { upserted }).into_response()),
        Ok(Err(join)) => Err(ApiError::Internal(format!("upsert task: {join}"))),
        Err(_) => {
            progress.stopped.store(true, Ordering::SeqCst);
            let in_flight = progress.in_flight.load(Ordering::SeqCst);
            let written = progress.written.load(Ordering::SeqCst);
            if written == total {
                return Ok(Json(UpsertResult { upserted: total }).into_response());
            }
            Err(ApiError::UpsertTimeout {
                seconds: timeout.as_secs(),
                written,
                in_flight,
                total,
            })
        }
    }
}

/// How far a chunked write is, and whether to go on.
#[derive(Debug, Default)]
pub struct Progress {
    /// Points written (durably), the first ones of the request.
    written: AtomicUsize,
    /// Points of the chunk being written (they may or may not land).
    in_flight: AtomicUsize,
    /// Write no further chunk.
    stopped: AtomicBool,
}

/// Sets `stopped` when dropped.
struct StopOnDrop(Arc<Progress>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::SeqCst);
    }
}

/// The points of an upsert, checked: ids, vectors or texts to embed, payloads.
#[derive(Clone)]
pub struct Prepared {
    ids: Vec<PointId>,
    vectors: Vectors,
    payloads: Vec<Option<Payload>>,
}

/// Checks every point of an upsert into `collection`. Vectors given as
/// such are checked here too when the write will be split (some points are
/// text) or `queued`: otherwise the one write checks them before it writes.
pub fn prepare(
    state: &AppState,
    collection: &Collection,
    points: Vec<PointInput>,
    queued: bool,
) -> Result<Prepared, ApiError> {
    let mut ids = Vec::with_capacity(points.len());
    let mut payloads = Vec::with_capacity(points.len());
    let config = collection.config();
    let config = convert::unnamed(&config)?;
    let mut vectors = Vectors::new(state, config.layout, config.dims);
    for (i, p) in points.into_iter().enumerate() {
        ids.push(convert::point_id(&p.id, &format!("points[{i}].id"))?);
        vectors.take(p.vector, p.text, p.multivector, |name| {
            format!("points[{i}].{name}")
        })?;
        if let Some(payload) = &p.payload {
            check_payload(payload, &format!("points[{i}].payload"), state)?;
        }
        payloads.push(p.payload);
    }
    vectors.check_model(state)?;
    if queued || vectors.has_texts() {
        let name = match config.layout {
            trawl_index::Layout::Multivector => "multivector",
            _ => "vector",
        };
        for (i, vector) in vectors.given() {
            collection.check_vector("", &format!("points[{i}].{name}"), vector)?;
        }
    }
    Ok(Prepared {
        ids,
        vectors,
        payloads,
    })
}

impl Prepared {
    /// Points left.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No points left.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Removes and returns the first `n` points.
    pub fn take_front(&mut self, n: usize) -> Self {
        let n = n.min(self.len());
        Self {
            ids: self.ids.drain(..n).collect(),
            vectors: self.vectors.take_front(n),
            payloads: self.payloads.drain(..n).collect(),
        }
    }

    /// Points written at once: the embed request limit when some are text
    /// (so that a long write makes progress it can report), else all.
    pub fn chunk(&self, state: &AppState) -> usize {
        if self.vectors.has_texts() {
            state.config().limits.max_inputs
        } else {
            self.len().max(1)
        }
    }

    /// Embeds the texts; the writes, in order.
    pub async fn resolve(self, state: &AppState) -> Result<Vec<PointWrite>, ApiError> {
        let vectors = self.vectors.resolve(state).await?;
        Ok(self
            .ids
            .into_iter()
            .zip(vectors)
            .zip(self.payloads)
            .map(|((id, vector), payload)| PointWrite {
                vectors: Default::default(),
                id,
                vector,
                payload,
            })
            .collect())
    }
}

/// Embeds and writes `prepared` a chunk at a time, counting in `progress`
/// and stopping once it says so; returns the points written.
async fn write_chunks(
    state: AppState,
    collection: Collection,
    mut prepared: Prepared,
    progress: Arc<Progress>,
) -> Result<usize, ApiError> {
    while !prepared.is_empty() {
        let chunk = prepared.take_front(prepared.chunk(&state));
        let n = chunk.len();
        let writes = chunk.resolve(&state).await?;
        progress.in_flight.store(n, Ordering::SeqCst);
        if progress.stopped.load(Ordering::SeqCst) {
            progress.in_flight.store(0, Ordering::SeqCst);
            break;
        }
        let collection = collection.clone();
        let written = blocking_write(move || Ok(collection.upsert(writes)?)).await;
        if written.is_ok() {
            progress.written.fetch_add(n, Ordering::SeqCst);
        }
        progress.in_flight.store(0, Ordering::SeqCst);
        written?;
    }
    Ok(progress.written.load(Ordering::SeqCst))
}
