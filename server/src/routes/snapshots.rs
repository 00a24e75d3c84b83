//! Snapshots: take, list, download, delete, restore.
//!
//! A download is one tar archive streamed from the snapshot's files (never
//! held in memory); a restore streams the uploaded archive to disk, checks it
//! whole, and only then replaces the collection (see `trawl_index::snapshots`).
//! Both run on tokio's blocking threads, not the write pool: a slow client
//! must not hold a thread that writes need.

use std::io::{Read, Write};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use trawl_proto::ErrorBody;

use super::{CollectionPath, KeyRequired, ReadOnlyKey, StorageFull, Unavailable, blocking_write};
use crate::body::{self, BodyRules};
use crate::error::ApiError;
use crate::state::AppState;

/// A stored snapshot.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotDescription {
    /// Its name, unique among the collection's snapshots.
    pub name: String,
    /// The collection it was taken of.
    pub collection: String,
    /// When it was taken (RFC 3339, UTC).
    pub created: String,
    /// The last log record it holds.
    pub lsn: u64,
    /// Live points.
    pub points: u64,
    /// Bytes of its files. Segment files are hard links shared with the
    /// collection until its merges replace them.
    pub bytes: u64,
}

impl From<trawl_index::SnapshotEntry> for SnapshotDescription {
    fn from(e: trawl_index::SnapshotEntry) -> Self {
        Self {
            name: e.name,
            collection: e.collection,
            created: e.created,
            lsn: e.lsn,
            points: e.points,
            bytes: e.bytes,
        }
    }
}

/// Answer of `POST /collections/{name}/snapshots`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotAck {
    /// Live points it holds.
    pub points: usize,
    /// The last log record it covers.
    pub lsn: u64,
    /// Bytes of its files.
    pub bytes: u64,
    /// The snapshot's name: download it from `GET .../snapshots/{name}`.
    pub name: String,
    /// When it was taken (RFC 3339, UTC).
    pub created: String,
}

/// Take a snapshot: checkpoint the collection (seal every point, write the
/// manifest, truncate the log), then store the sealed files (hard links) and
/// the log records written since, under a new name.
#[utoipa::path(post, path = "/collections/{name}/snapshots", tag = "snapshots",
    params(CollectionPath),
    responses(
        (status = 200, description = "Snapshot taken", body = SnapshotAck),
        (status = 404, description = "No such collection", body = ErrorBody),
        Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn create(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
) -> Result<Json<SnapshotAck>, ApiError> {
    let store = state.store()?.clone();
    let taken = blocking_write(move || Ok(store.create_snapshot(&name)?)).await?;
    Ok(Json(SnapshotAck {
        points: taken.points as usize,
        lsn: taken.lsn,
        bytes: taken.bytes,
        name: taken.name,
        created: taken.created,
    }))
}

/// The stored snapshots of a collection.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotList {
    /// Oldest first.
    pub snapshots: Vec<SnapshotDescription>,
}

/// List a collection's stored snapshots (also those of a deleted collection,
/// which are kept until deleted).
#[utoipa::path(get, path = "/collections/{name}/snapshots", tag = "snapshots",
    params(CollectionPath),
    responses(
        (status = 200, description = "The snapshots, oldest first", body = SnapshotList),
        (status = 404, description = "No such collection, and no snapshots of one", body = ErrorBody),
        (status = 422, description = "Not a valid collection or snapshot name", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn list(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
) -> Result<Json<SnapshotList>, ApiError> {
    let store = state.store()?.clone();
    let found = super::blocking(move || Ok(store.snapshots(&name)?)).await?;
    Ok(Json(SnapshotList {
        snapshots: found.into_iter().map(Into::into).collect(),
    }))
}

/// The `{name}` and `{snapshot}` path parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SnapshotPath {
    /// Collection name (or an alias).
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    pub name: String,
    /// Snapshot name, as `POST .../snapshots` or the list gave it.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    pub snapshot: String,
}

/// Download a snapshot as one file: a tar archive of the collection's files
/// (`snapshot.json` first) whose last member, `checksums.json`, lists every
/// other member's length and CRC-32. `PUT .../snapshots/restore` takes it back.
#[utoipa::path(get, path = "/collections/{name}/snapshots/{snapshot}", tag = "snapshots",
    params(SnapshotPath),
    responses(
        (status = 200, description = "The archive, streamed", content_type = "application/x-tar", body = Vec<u8>),
        (status = 404, description = "No such collection or snapshot", body = ErrorBody),
        (status = 422, description = "Not a valid collection or snapshot name", body = ErrorBody),
        Unavailable, KeyRequired,
    ))]
pub async fn download(
    State(state): State<AppState>,
    Path(SnapshotPath { name, snapshot }): Path<SnapshotPath>,
) -> Result<Response, ApiError> {
    let store = state.store()?.clone();
    {
        let (store, name, snapshot) = (store.clone(), name.clone(), snapshot.clone());
        super::blocking(move || Ok(store.check_snapshot(&name, &snapshot)?)).await?;
    }
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(8);
    let disposition = format!("attachment; filename=\"{snapshot}.tar\"");
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let written = store
            .export_snapshot(&name, &snapshot, &mut out)
            .and_then(|_| out.flush().map_err(|e| io_error(&name, e)));
        if let Err(error) = written {
            // Cut the body short: the client sees a broken transfer (and the
            // archive would fail its checksums), never a complete-looking one.
            tracing::warn!(collection = name, snapshot, %error, "snapshot download failed");
            let _ = out
                .tx
                .blocking_send(Err(std::io::Error::other(error.to_string())));
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-tar"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn io_error(name: &str, e: std::io::Error) -> trawl_index::IndexError {
    trawl_index::IndexError::Storage(trawl_index::storage::StorageError::Io {
        path: name.into(),
        source: e,
    })
}

/// Bytes sent to the client at a time.
const CHUNK: usize = 256 << 10;

/// Hands what is written to the response body in chunks.
struct ChannelWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Answer of a deleted snapshot.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SnapshotDeleted {
    /// The snapshot.
    pub name: String,
    /// `"deleted"`.
    pub status: String,
}

/// Delete a stored snapshot (the collection is not touched).
#[utoipa::path(delete, path = "/collections/{name}/snapshots/{snapshot}", tag = "snapshots",
    params(SnapshotPath),
    responses(
        (status = 200, description = "Deleted", body = SnapshotDeleted),
        (status = 404, description = "No such collection or snapshot", body = ErrorBody),
        (status = 422, description = "Not a valid collection or snapshot name", body = ErrorBody),
        Unavailable, KeyRequired, ReadOnlyKey,
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Path(SnapshotPath { name, snapshot }): Path<SnapshotPath>,
) -> Result<Json<SnapshotDeleted>, ApiError> {
    let store = state.store()?.clone();
    let deleted = snapshot.clone();
    blocking_write(move || Ok(store.delete_snapshot(&name, &deleted)?)).await?;
    Ok(Json(SnapshotDeleted {
        name: snapshot,
        status: "deleted".into(),
    }))
}

/// Answer of a restore.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RestoreAck {
    /// The collection restored (created if it did not exist).
    pub collection: String,
    /// The collection the snapshot was taken of.
    pub source: String,
    /// The snapshot's name.
    pub snapshot: String,
    /// Live points now.
    pub points: u64,
    /// Bytes of the files read.
    pub bytes: u64,
    /// `"restored"`.
    pub status: String,
}

/// Restore a collection from a snapshot archive sent as the body (any
/// content type; `curl --data-binary @file` or `-T file`). The body is
/// streamed to a staging directory, not held in memory, and checked whole:
/// every member against its checksum, then the collection opened as at
/// start-up. Only then does it replace the collection `{name}` (or create
/// it); a corrupt, truncated or foreign file answers 400 `invalid_snapshot`
/// and changes nothing. Requests to the collection during the swap may fail
/// with 404 and can be retried.
#[utoipa::path(put, path = "/collections/{name}/snapshots/restore", tag = "snapshots",
    params(CollectionPath),
    request_body(content = Vec<u8>, content_type = "application/x-tar",
        description = "A file from GET /collections/{c}/snapshots/{s}"),
    responses(
        (status = 200, description = "Restored", body = RestoreAck),
        (status = 400, description = "Not a snapshot, truncated or altered (`invalid_snapshot`); nothing changed", body = ErrorBody),
        (status = 408, description = "The body arrived too slowly (`body_timeout`)", body = ErrorBody),
        (status = 413, description = "Larger than --max-snapshot-upload-bytes", body = ErrorBody),
        (status = 422, description = "Not a valid collection name", body = ErrorBody),
        Unavailable, StorageFull, KeyRequired, ReadOnlyKey,
    ))]
pub async fn restore(
    State(state): State<AppState>,
    Path(CollectionPath { name }): Path<CollectionPath>,
    request: Request,
) -> Response {
    let (outcome, close) = restore_from(state, name, request.into_body()).await;
    let mut response = match outcome {
        Ok(ack) => Json(ack).into_response(),
        Err(error) => error.into_response(),
    };
    if close {
        // What is left of the body is not read as a next request.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The restore's outcome, and whether the connection must close (the body
/// was not read to its end).
async fn restore_from(
    state: AppState,
    name: String,
    body: Body,
) -> (Result<RestoreAck, ApiError>, bool) {
    let store = match state.store() {
        Ok(store) => store.clone(),
        Err(error) => return (Err(error), true),
    };
    let rules = BodyRules::new(state.config());
    let limit = state.config().limits.max_snapshot_upload_bytes;
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(16);
    let target = name.clone();
    let work = tokio::task::spawn_blocking(move || {
        let input = ChannelReader {
            rx,
            current: Bytes::new(),
        };
        store.restore_snapshot(&target, input)
    });
    let forwarded = body::forward(body, &rules, limit, &tx).await;
    if let Err(error) = &forwarded {
        // The archive must not look complete to the reader.
        let _ = tx.send(Err(std::io::Error::other(error.to_string()))).await;
    }
    drop(tx);
    let close = !matches!(forwarded, Ok(true));
    let restored = match work.await {
        Ok(restored) => restored,
        Err(e) => return (Err(ApiError::Internal(format!("restore task: {e}"))), true),
    };
    let outcome = match (restored, forwarded) {
        (Ok(info), _) => Ok(RestoreAck {
            collection: info.collection,
            source: info.source,
            snapshot: info.snapshot,
            points: info.points,
            bytes: info.bytes,
            status: "restored".into(),
        }),
        // Why the body stopped says more than what the reader made of it.
        (Err(_), Err(error)) => Err(error),
        (Err(error), Ok(_)) => Err(ApiError::from(error)),
    };
    (outcome, close)
}

/// The upload as a `Read` for the blocking restore.
struct ChannelReader {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(error)) => return Err(error),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}
