//! Upserts: checked whole before anything is written, then embedded (points
//! given as text) and written a chunk at a time, so that a long write shows
//! progress: within the request (`wait=true`, the default: a timeout says how
//! many points were written) or as a queued operation (`wait=false`, see
//! [`crate::operations`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trawl_index::sparse::SparseVector;
use trawl_index::{Collection, PointId, PointWrite};
use trawl_proto::{
    ErrorBody, NamedVector, Operation, Payload, PointInput, UpsertPoints, UpsertResult,
};

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
    // Points are checked on the write pool (a large batch's checks take
    // milliseconds that searches should not wait behind).
    if params.wait == Some(false) {
        let operations = Arc::clone(state.operations()?);
        let checker = state.clone();
        let accepted = blocking_write(move || {
            // Encoded for the queue first, then checked (which consumes the
            // points, so the request is never copied): a bad point is a 4xx
            // here, not a failed operation.
            let count = request.points.len();
            let bytes = serde_json::to_vec(&request)
                .map_err(|e| ApiError::Internal(format!("encoding a queued write: {e}")))?;
            prepare(&checker, &collection, request.points, true)?;
            operations.accept(collection.name(), count, &bytes)
        })
        .await?;
        return Ok((StatusCode::ACCEPTED, Json(accepted)).into_response());
    }
    let checker = state.clone();
    let checked = collection.clone();
    let prepared =
        blocking_write(move || prepare(&checker, &checked, request.points, false)).await?;
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
    /// One per vector of the collection that some point holds or may fill
    /// from its text (the unnamed vector first).
    batches: Vec<Batch>,
    /// Each point's sparse vectors, checked.
    sparse: Vec<BTreeMap<String, SparseVector>>,
    payloads: Vec<Option<Payload>>,
}

/// The values of one vector across the points of an upsert.
#[derive(Clone)]
struct Batch {
    name: String,
    vectors: Vectors,
    /// Whether each point holds the vector (else its item is a placeholder).
    held: Vec<bool>,
}

impl Batch {
    fn new(state: &AppState, name: &str, vector: &trawl_index::VectorConfig) -> Self {
        Self {
            name: name.to_string(),
            vectors: Vectors::new(state, vector.layout, vector.dims),
            held: Vec::new(),
        }
    }

    fn skip(&mut self) {
        self.vectors.skip();
        self.held.push(false);
    }
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
    let mut batches: Vec<Batch> = config
        .vectors
        .iter()
        .map(|(name, vector)| Batch::new(state, name, vector))
        .collect();
    // The unnamed vector's batch comes first (names sort after "").
    let unnamed = config.default_vector().is_some();
    let mut sparse = Vec::with_capacity(points.len());
    for (i, mut p) in points.into_iter().enumerate() {
        ids.push(convert::point_id(&p.id, &format!("points[{i}].id"))?);
        let held_sparse = take_sparse(&config, i, &mut p.vectors)?;
        if let Some(name) = p
            .vectors
            .keys()
            .find(|n| !config.vectors.contains_key(*n) || n.is_empty())
        {
            return Err(ApiError::invalid(
                format!("points[{i}].vectors.{name}"),
                format!(
                    "the collection has no vector named {name:?}; its named vectors are {}",
                    config.vector_names()
                ),
            ));
        }
        let gives_unnamed = p.vector.is_some() || p.multivector.is_some();
        let mut holds = false;
        for batch in &mut batches {
            let vector = &config.vectors[&batch.name];
            let field = |name: &str| {
                if batch.name.is_empty() {
                    format!("points[{i}].{name}")
                } else {
                    format!("points[{i}].vectors.{}", batch.name)
                }
            };
            if batch.name.is_empty() {
                if gives_unnamed
                    || p.text.is_some()
                    || (p.vectors.is_empty() && held_sparse.is_empty())
                {
                    batch.vectors.take(
                        p.vector.take(),
                        p.text.clone(),
                        p.multivector.take(),
                        field,
                    )?;
                    batch.held.push(true);
                    holds = true;
                } else {
                    batch.skip();
                }
                continue;
            }
            match p.vectors.remove(&batch.name) {
                Some(NamedVector::Dense(v)) => batch.vectors.take(Some(v), None, None, field)?,
                Some(NamedVector::Multi(rows)) => {
                    batch.vectors.take(None, None, Some(rows), field)?
                }
                Some(NamedVector::Sparse(_)) => {
                    return Err(ApiError::invalid(
                        field(""),
                        format!(
                            "{:?} is a dense vector: give a vector (a list of numbers), not {{indices, values}}",
                            batch.name
                        ),
                    ));
                }
                None if p.text.is_some() && vector.encoder.is_some() => {
                    batch.vectors.take(None, p.text.clone(), None, field)?
                }
                None => {
                    batch.skip();
                    continue;
                }
            }
            batch.held.push(true);
            holds = true;
        }
        if !unnamed && gives_unnamed {
            return Err(ApiError::invalid(
                format!("points[{i}].vector"),
                format!(
                    "the collection has no unnamed vector: give its vectors by name in `vectors` ({})",
                    config.vector_names()
                ),
            ));
        }
        if !held_sparse.is_empty() {
            holds = true;
        }
        sparse.push(held_sparse);
        if !holds {
            return Err(ApiError::invalid(
                format!("points[{i}].vectors"),
                format!(
                    "the point holds no vector: give one of the collection's vectors ({}){}",
                    config.vector_names(),
                    if p.text.is_some() {
                        "; `text` fills only the unnamed vector and those created with an `encoder`"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if let Some(payload) = &p.payload {
            check_payload(payload, &format!("points[{i}].payload"), state)?;
        }
        if let (Some(text_index), Some(text)) = (&config.text, p.text.take()) {
            // The full-text index reads the text from its payload field.
            let payload = p.payload.get_or_insert_with(Default::default);
            match payload.get(&text_index.field) {
                Some(serde_json::Value::String(given)) if *given == text => {}
                Some(_) => {
                    return Err(ApiError::invalid(
                        format!("points[{i}].payload.{}", text_index.field),
                        format!(
                            "the collection stores a point's `text` in its payload field {:?}: give the text once, as `text` or in the payload",
                            text_index.field
                        ),
                    ));
                }
                None => {
                    payload.insert(text_index.field.clone(), serde_json::Value::String(text));
                }
            }
        }
        payloads.push(p.payload);
    }
    // Vectors no point holds are left out.
    batches.retain(|b| b.held.iter().any(|h| *h));
    let texts = batches.iter().any(|b| b.vectors.has_texts());
    for batch in &batches {
        batch.vectors.check_model(state)?;
        if queued || texts {
            let layout = config.vectors[&batch.name].layout;
            for (i, vector) in batch.vectors.given() {
                if !batch.held[i] {
                    continue;
                }
                let field = match (batch.name.as_str(), layout) {
                    ("", trawl_index::Layout::Multivector) => format!("points[{i}].multivector"),
                    ("", _) => format!("points[{i}].vector"),
                    (name, _) => format!("points[{i}].vectors.{name}"),
                };
                collection.check_vector(&batch.name, &field, vector)?;
            }
        }
    }
    Ok(Prepared {
        ids,
        batches,
        sparse,
        payloads,
    })
}

/// Moves the sparse vectors out of a point's `vectors` (point `i`), checked.
fn take_sparse(
    config: &trawl_index::CollectionConfig,
    i: usize,
    vectors: &mut BTreeMap<String, NamedVector>,
) -> Result<BTreeMap<String, SparseVector>, ApiError> {
    let mut held = BTreeMap::new();
    for name in config.sparse.keys() {
        let field = format!("points[{i}].vectors.{name}");
        match vectors.remove(name) {
            None => {}
            Some(NamedVector::Sparse(v)) => {
                let v = SparseVector::prepare(&field, v.indices, v.values)?;
                // A vector with no weight left is none (it could never be found).
                if !v.is_empty() {
                    held.insert(name.clone(), v);
                }
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    field,
                    format!(
                        "{name:?} is a sparse vector: give it as {{\"indices\": [...], \"values\": [...]}}"
                    ),
                ));
            }
        }
    }
    Ok(held)
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
            batches: self
                .batches
                .iter_mut()
                .map(|b| Batch {
                    name: b.name.clone(),
                    vectors: b.vectors.take_front(n),
                    held: b.held.drain(..n).collect(),
                })
                .collect(),
            sparse: self.sparse.drain(..n).collect(),
            payloads: self.payloads.drain(..n).collect(),
        }
    }

    /// Points written at once: the embed request limit when some are text
    /// (so that a long write makes progress it can report), else all.
    pub fn chunk(&self, state: &AppState) -> usize {
        if self.batches.iter().any(|b| b.vectors.has_texts()) {
            state.config().limits.max_inputs
        } else {
            self.len().max(1)
        }
    }

    /// Embeds the texts, each once for every vector it fills (the pooled
    /// vector and the token vectors come from one pass); the writes, in order.
    pub async fn resolve(self, state: &AppState) -> Result<Vec<PointWrite>, ApiError> {
        for batch in &self.batches {
            batch.vectors.check_model(state)?;
        }
        let mut texts = BTreeMap::new();
        for batch in &self.batches {
            texts.extend(batch.vectors.texts().iter().cloned());
        }
        let tokens = self.batches.iter().any(|b| b.vectors.wants_tokens());
        let encoded = super::embed_texts(state, texts, tokens).await?;
        let mut writes: Vec<PointWrite> = self
            .ids
            .into_iter()
            .zip(self.payloads)
            .zip(self.sparse)
            .map(|((id, payload), sparse)| {
                let mut write = PointWrite::new(id, Vec::new(), payload);
                write.sparse = sparse;
                write
            })
            .collect();
        for batch in self.batches {
            let vectors = batch.vectors.fill(state, &encoded)?;
            for ((write, vector), held) in writes.iter_mut().zip(vectors).zip(batch.held) {
                match (held, batch.name.is_empty()) {
                    (false, _) => {}
                    (true, true) => write.vector = vector,
                    (true, false) => {
                        write.vectors.insert(batch.name.clone(), vector);
                    }
                }
            }
        }
        Ok(writes)
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
