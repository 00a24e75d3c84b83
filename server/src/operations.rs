//! Queued writes (`PUT /collections/{name}/points?wait=false`).
//!
//! An upsert too long for one request (thousands of long texts to embed) is
//! checked whole, then written to `DATA/operations/<id>.points.json` with a
//! status file `<id>.json` beside it, both fsynced, before the 202 answer:
//! from then on it is the server's to finish, through restarts. One worker
//! carries out the queued operations in order, embedding and writing a
//! chunk at a time (as a waiting upsert does) and recording after each chunk
//! how many points are written. An operation interrupted by a crash resumes
//! after its last recorded chunk, so at most one chunk is written twice (the
//! same points, upserted again). Once finished, its points file is removed
//! and its status kept: the last [`RETAINED_OPERATIONS`] finished ones
//! answer `GET /operations/{id}`.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use trawl_proto::{Operation, OperationStatus, UpsertPoints};

use crate::error::ApiError;
use crate::routes::blocking_write;
use crate::routes::upsert::prepare;
use crate::state::AppState;

/// Finished operations whose status is kept.
pub const RETAINED_OPERATIONS: usize = 1_000;

/// The directory under the data directory.
const DIR: &str = "operations";
const STATUS_EXT: &str = "json";
const POINTS_SUFFIX: &str = ".points.json";

/// The queue: every known operation's status, and the worker's channel.
pub struct Operations {
    dir: PathBuf,
    capacity: usize,
    table: Mutex<Table>,
    queue: UnboundedSender<String>,
}

#[derive(Default)]
struct Table {
    ops: HashMap<String, Operation>,
    /// Finished ids, oldest first.
    finished: VecDeque<String>,
    /// Queued or running.
    pending: usize,
}

impl Operations {
    /// Opens (creating) `DATA/operations`: finished operations are listed,
    /// unfinished ones queued again (in the order they were accepted).
    /// Returns the queue and the receiving end for [`run`].
    pub fn open(
        data_dir: &Path,
        capacity: usize,
    ) -> anyhow::Result<(Arc<Self>, UnboundedReceiver<String>)> {
        let dir = data_dir.join(DIR);
        std::fs::create_dir_all(&dir)?;
        let mut found = Vec::new();
        let mut known = std::collections::HashSet::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if name.ends_with(".tmp") {
                // A status or points file whose write did not finish.
                std::fs::remove_file(&path)?;
                continue;
            }
            if name.ends_with(POINTS_SUFFIX) || !name.ends_with(STATUS_EXT) {
                continue;
            }
            // Known even if unreadable: its points file is kept for an operator.
            known.insert(name.trim_end_matches(&format!(".{STATUS_EXT}")).to_string());
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Operation>(&b).map_err(|e| e.to_string()))
            {
                Ok(op) => found.push(op),
                Err(error) => {
                    tracing::error!(
                        path = %path.display(),
                        error,
                        "unreadable operation status: not resumed (its files are kept)"
                    );
                }
            }
        }
        // RFC 3339 times of one format order as text; ties by id.
        found.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
        let (queue, receiver) = unbounded_channel();
        let ops = Arc::new(Self {
            dir,
            capacity,
            table: Mutex::new(Table::default()),
            queue,
        });
        for entry in std::fs::read_dir(&ops.dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if let Some(id) = name.strip_suffix(POINTS_SUFFIX)
                && !known.contains(id)
            {
                // Written before its status: never accepted.
                std::fs::remove_file(&path)?;
            }
        }
        let mut resumed = 0;
        for mut op in found {
            if !op.status.finished() && !ops.points_path(&op.id).exists() {
                op.status = OperationStatus::Failed;
                op.error = Some(
                    ApiError::Internal(format!("operation {}: its points file is missing", op.id))
                        .body()
                        .error,
                );
                op.finished = Some(now());
                ops.persist(&op)?;
            }
            let id = op.id.clone();
            let finished = op.status.finished();
            if finished {
                // Left by a crash between the final status and the removal.
                let _ = std::fs::remove_file(ops.points_path(&id));
            }
            {
                let mut table = ops.lock();
                table.ops.insert(id.clone(), op);
                if finished {
                    table.finished.push_back(id.clone());
                } else {
                    table.pending += 1;
                }
            }
            if !finished {
                resumed += 1;
                let _ = ops.queue.send(id);
            }
        }
        ops.forget_old();
        if resumed > 0 {
            tracing::info!(operations = resumed, "queued writes resume");
        }
        Ok((ops, receiver))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn status_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.{STATUS_EXT}"))
    }

    fn points_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}{POINTS_SUFFIX}"))
    }

    /// Queues `request` (an upsert's body as JSON, of `points` points,
    /// checked already) for `collection`: durable when it returns.
    pub fn accept(
        &self,
        collection: &str,
        points: usize,
        request: &[u8],
    ) -> Result<Operation, ApiError> {
        {
            let mut table = self.lock();
            if table.pending >= self.capacity {
                return Err(ApiError::QueueFull(format!(
                    "{} queued writes are waiting (--max-queued-operations {}); retry once some have finished",
                    table.pending, self.capacity
                )));
            }
            // Counted now, so that concurrent requests cannot pass the limit.
            table.pending += 1;
        }
        let op = Operation {
            id: uuid::Uuid::new_v4().to_string(),
            collection: collection.to_string(),
            status: OperationStatus::Queued,
            points,
            written: 0,
            error: None,
            created: now(),
            finished: None,
        };
        let written = write_durably(&self.points_path(&op.id), request)
            .and_then(|()| self.persist(&op))
            .map_err(|e| io_error(collection, &e));
        if let Err(error) = written {
            self.lock().pending -= 1;
            let _ = std::fs::remove_file(self.status_path(&op.id));
            let _ = std::fs::remove_file(self.points_path(&op.id));
            return Err(error);
        }
        self.lock().ops.insert(op.id.clone(), op.clone());
        if self.queue.send(op.id.clone()).is_err() {
            // The worker is gone (the server is stopping): the operation
            // stays on disk and runs at the next start.
            return Err(ApiError::NotReady);
        }
        Ok(op)
    }

    /// The status of operation `id`.
    pub fn get(&self, id: &str) -> Result<Operation, ApiError> {
        self.lock()
            .ops
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::OperationNotFound(id.to_string()))
    }

    /// Operations queued or running.
    pub fn pending(&self) -> usize {
        self.lock().pending
    }

    /// Writes an operation's status file.
    fn persist(&self, op: &Operation) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(op).map_err(std::io::Error::other)?;
        write_durably(&self.status_path(&op.id), &bytes)
    }

    /// Applies `change` to operation `id` and records it on disk.
    fn update(&self, id: &str, change: impl FnOnce(&mut Operation)) -> std::io::Result<()> {
        let op = {
            let mut table = self.lock();
            let Some(op) = table.ops.get_mut(id) else {
                return Ok(());
            };
            let was_finished = op.status.finished();
            change(op);
            let op = op.clone();
            if op.status.finished() && !was_finished {
                table.pending -= 1;
                table.finished.push_back(id.to_string());
            }
            op
        };
        self.persist(&op)?;
        if op.status.finished() {
            let _ = std::fs::remove_file(self.points_path(id));
            self.forget_old();
        }
        Ok(())
    }

    /// Drops the oldest finished operations past [`RETAINED_OPERATIONS`].
    fn forget_old(&self) {
        let old: Vec<String> = {
            let mut table = self.lock();
            let excess = table.finished.len().saturating_sub(RETAINED_OPERATIONS);
            let old: Vec<String> = table.finished.drain(..excess).collect();
            for id in &old {
                table.ops.remove(id);
            }
            old
        };
        for id in old {
            let _ = std::fs::remove_file(self.status_path(&id));
        }
    }
}

/// Writes `bytes` to `path` atomically and durably (temporary file, fsync,
/// rename, fsync of the directory).
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// A failed queue write: 507 when the disk is full, else 500.
fn io_error(collection: &str, error: &std::io::Error) -> ApiError {
    if error.raw_os_error() == Some(28) {
        ApiError::InsufficientStorage(collection.to_string())
    } else {
        ApiError::Internal(format!("queueing a write: {error}"))
    }
}

fn now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// How long the worker waits before trying a chunk again after a passing
/// refusal (model loading, encoder queue full).
const RETRY: Duration = Duration::from_secs(1);

/// The worker: carries out queued operations one after another.
pub async fn run(state: AppState, ops: Arc<Operations>, mut queue: UnboundedReceiver<String>) {
    while let Some(id) = queue.recv().await {
        // Its own task, so that a panic fails this operation, not the queue.
        let outcome = {
            let (state, ops, id) = (state.clone(), Arc::clone(&ops), id.clone());
            tokio::spawn(async move { carry_out(&state, &ops, &id).await })
                .await
                .unwrap_or_else(|join| Err(ApiError::Internal(format!("queued write: {join}"))))
        };
        let (o, at) = (Arc::clone(&ops), id.clone());
        let recorded = blocking_write(move || {
            o.update(&at, |op| {
                op.finished = Some(now());
                match outcome {
                    Ok(()) => op.status = OperationStatus::Done,
                    Err(error) => {
                        tracing::warn!(operation = at, error = %error, "queued write failed");
                        op.status = OperationStatus::Failed;
                        op.error = Some(error.body().error);
                    }
                }
            })
            .map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await;
        if let Err(error) = recorded {
            tracing::error!(operation = id, %error, "cannot record a queued write's end");
        }
    }
}

/// Embeds and writes operation `id` from where it stopped.
async fn carry_out(state: &AppState, ops: &Arc<Operations>, id: &str) -> Result<(), ApiError> {
    let (collection, done) = {
        let op = ops.get(id)?;
        (op.collection, op.written)
    };
    let path = ops.points_path(id);
    let request: UpsertPoints = {
        let path = path.clone();
        blocking_write(move || {
            let bytes = std::fs::read(&path)
                .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))?;
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Internal(format!("{}: {e}", path.display())))
        })
        .await?
    };
    let target = loop {
        match state.store() {
            Ok(store) => break store.get(&collection)?,
            Err(_) => tokio::time::sleep(RETRY).await,
        }
    };
    record(ops, id, &collection, |op| {
        op.status = OperationStatus::Running
    })
    .await?;
    let mut prepared = prepare(state, &target, request.points, true)?;
    prepared.take_front(done);
    let mut written = done;
    while !prepared.is_empty() {
        let chunk = prepared.take_front(prepared.chunk(state));
        let n = chunk.len();
        let writes = loop {
            match chunk.clone().resolve(state).await {
                Ok(writes) => break writes,
                Err(ApiError::NotReady | ApiError::QueueFull(_) | ApiError::Overloaded) => {
                    tokio::time::sleep(RETRY).await;
                }
                Err(error) => return Err(error),
            }
        };
        let target = target.clone();
        blocking_write(move || Ok(target.upsert(writes)?)).await?;
        written += n;
        record(ops, id, &collection, move |op| op.written = written).await?;
    }
    Ok(())
}

/// [`Operations::update`] on the write pool.
async fn record(
    ops: &Arc<Operations>,
    id: &str,
    collection: &str,
    change: impl FnOnce(&mut Operation) + Send + 'static,
) -> Result<(), ApiError> {
    let (ops, id, collection) = (Arc::clone(ops), id.to_string(), collection.to_string());
    blocking_write(move || {
        ops.update(&id, change)
            .map_err(|e| io_error(&collection, &e))
    })
    .await
}
