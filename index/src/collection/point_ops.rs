//! Writes and reads of points: upsert, delete (by ids or filter), get.
//!
//! A write is validated completely first (nothing is written when any point is
//! bad), then logged and synced, then applied in memory, all under the writer
//! lock so that the log's order is the order of application.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::multivector::prepare_tokens;
use super::record::{LoggedPoint, Record};
use super::{Collection, CollectionConfig, Layout, VectorConfig, sealer};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::sparse::SparseVector;
use crate::storage::StorageError;
use crate::types::{Payload, PayloadType, PointId};

/// The longest an upsert waits for the sealer to make room (well inside the
/// server's default 30 s request timeout).
pub const STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);
/// How often a waiting upsert looks again (the sealer also wakes it).
const STALL_POLL: std::time::Duration = std::time::Duration::from_millis(50);
/// Waits at least this long are logged.
const STALL_REPORT: std::time::Duration = std::time::Duration::from_secs(1);

/// Stored vectors by name (`""`: the unnamed vector).
pub type NamedVectors = BTreeMap<String, Vec<f32>>;

/// A point to write (serialisable: a cluster node forwards the points it
/// embedded to the shard's leader).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PointWrite {
    /// Its id.
    pub id: PointId,
    /// Its unnamed vector (the v1 `vector`; empty: none), with the
    /// vector's dimension; for a multivector layout, its token vectors one
    /// after another (a whole number of rows of the vector's dimension).
    pub vector: Vec<f32>,
    /// Its named vectors, in the same form.
    pub vectors: BTreeMap<String, Vec<f32>>,
    /// Its sparse vectors, by name.
    pub sparse: BTreeMap<String, SparseVector>,
    /// Its payload.
    pub payload: Option<Payload>,
}

impl PointWrite {
    /// A point holding the unnamed vector only.
    pub fn new(id: PointId, vector: Vec<f32>, payload: Option<Payload>) -> Self {
        Self {
            id,
            vector,
            vectors: BTreeMap::new(),
            sparse: BTreeMap::new(),
            payload,
        }
    }
}

/// Checks a vector of `config` as given (`field` names it in errors) and
/// returns it as stored (normalised for cosine).
pub(crate) fn prepare(field: &str, vector: Vec<f32>, config: &VectorConfig) -> Result<Vec<f32>> {
    if config.layout == Layout::Multivector {
        prepare_tokens(field, vector, config.dims, config.metric)
    } else {
        prepare_vector(field, vector, config.dims, config.metric)
    }
}

/// Checks a vector's dimension and values; normalises it for cosine.
pub(crate) fn prepare_vector(
    field: &str,
    mut v: Vec<f32>,
    dims: usize,
    metric: Metric,
) -> Result<Vec<f32>> {
    if v.len() != dims {
        return Err(IndexError::DimensionMismatch {
            field: field.to_string(),
            expected: dims,
            got: v.len(),
        });
    }
    if let Some(i) = v.iter().position(|x| !x.is_finite()) {
        return Err(IndexError::InvalidVector {
            field: field.to_string(),
            reason: format!(
                "component {i} is {} (only finite numbers are allowed)",
                v[i]
            ),
        });
    }
    if metric == Metric::Cosine {
        let norm = v
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 {
            return Err(IndexError::InvalidVector {
                field: field.to_string(),
                reason: "a zero vector has no direction for cosine similarity".into(),
            });
        }
        v.iter_mut()
            .for_each(|x| *x = (f64::from(*x) / norm) as f32);
    }
    Ok(v)
}

impl Collection {
    /// Checks the vector named `name` of a point (token vectors, flattened,
    /// for a multivector layout) as [`Collection::upsert`] would, writing
    /// nothing; `field` names it in the error.
    pub fn check_vector(&self, name: &str, field: &str, vector: &[f32]) -> Result<()> {
        let config = self.inner.config.read();
        let (_, vector_config) = config.vector(name, field)?;
        prepare(field, vector.to_vec(), vector_config).map(drop)
    }

    /// Inserts or replaces points; durable when it returns.
    pub fn upsert(&self, points: Vec<PointWrite>) -> Result<usize> {
        let n = points.len();
        // Each chunk is durable before the next is written; the call
        // returns once all are.
        for chunk in self.upsert_chunks(points)? {
            self.wait_for_room(chunk.len());
            self.write(Record::Upsert(chunk))?;
        }
        Ok(n)
    }

    /// `points` checked and prepared as logged, in chunks of one record
    /// each that fit the log's record limit (with room to spare): a batch
    /// of token sets easily outgrows it.
    pub(super) fn upsert_chunks(&self, points: Vec<PointWrite>) -> Result<Vec<Vec<LoggedPoint>>> {
        let config = self.inner.config.read().clone();
        let logged = points
            .into_iter()
            .enumerate()
            .map(|(i, p)| logged_point(&config, i, p))
            .collect::<Result<Vec<_>>>()?;
        let budget = self.inner.wal.max_record_bytes() / 2;
        let mut chunks = Vec::new();
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for point in logged {
            let size = record_bytes(&point);
            if !chunk.is_empty() && bytes + size > budget {
                chunks.push(std::mem::take(&mut chunk));
                bytes = 0;
            }
            bytes += size;
            chunk.push(point);
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        Ok(chunks)
    }

    /// Deletes points by id; returns how many existed (an id listed twice
    /// counts once).
    pub fn delete(&self, ids: &[PointId]) -> Result<usize> {
        let _writer = self.inner.write_lock.lock();
        let existing: Vec<PointId> = {
            let set = self.inner.segments();
            let mut seen = std::collections::HashSet::with_capacity(ids.len());
            ids.iter()
                .filter(|id| set.find(id, |_, _| ()).is_some() && seen.insert(*id))
                .cloned()
                .collect()
        };
        self.write_locked(Record::Delete(existing.clone()))?;
        Ok(existing.len())
    }

    /// Deletes every point matching `filter`; returns how many.
    pub fn delete_by_filter(&self, filter: &Filter, limits: &FilterLimits) -> Result<usize> {
        let _writer = self.inner.write_lock.lock();
        let matching = self.matching_ids(filter, limits)?;
        self.write_locked(Record::Delete(matching.clone()))?;
        Ok(matching.len())
    }

    /// Indexes a payload field from now on (existing points included).
    pub fn create_payload_index(&self, key: &str, ty: PayloadType) -> Result<()> {
        if key.is_empty() {
            return Err(IndexError::InvalidParameter {
                field: "key".into(),
                reason: "must not be empty".into(),
            });
        }
        if let Some(existing) = self.inner.config.read().payload_schema.get(key) {
            if *existing == ty {
                return Ok(());
            }
            return Err(IndexError::InvalidParameter {
                field: key.to_string(),
                reason: format!("already indexed as {}", existing.as_str()),
            });
        }
        self.write(Record::CreateIndex(key.to_string(), ty))
    }

    /// The stored vector (normalised for cosine; a multivector collection's
    /// token vectors one after another) and payload of a point.
    pub fn get(&self, id: &PointId) -> Result<(Vec<f32>, Option<Payload>)> {
        self.get_vectors(id)
            .map(|(mut vectors, payload)| (vectors.remove("").unwrap_or_default(), payload))
    }

    /// The stored vectors a point holds, by name, and its payload.
    pub fn get_vectors(&self, id: &PointId) -> Result<(NamedVectors, Option<Payload>)> {
        let names: Vec<String> = self.inner.config.read().vectors.keys().cloned().collect();
        self.inner
            .segments()
            .find(id, |points, offset| {
                (
                    names
                        .iter()
                        .enumerate()
                        .filter_map(|(v, name)| {
                            points
                                .stored_if(v, offset)
                                .map(|x| (name.clone(), x.to_vec()))
                        })
                        .collect(),
                    points
                        .payloads
                        .get(offset)
                        .map(std::borrow::Cow::into_owned),
                )
            })
            .ok_or_else(|| IndexError::PointNotFound(id.to_string()))
    }

    /// Backpressure: while one whole segment already waits for the sealer,
    /// an upsert that would freeze another waits (up to [`STALL_LIMIT`]) for
    /// the sealer to make room, so that writes faster than segments can be
    /// built leave a bounded tail of points that searches scan exactly (and
    /// hold in the heap) rather than a growing one. The sealer seals at once
    /// while writers wait. Past the limit the write goes ahead (and says so
    /// in the log): a stalled sealer must not stop writes. Nothing waits
    /// while a needed merge runs (the sealer cannot seal until it ends), so
    /// the tail grows then as it would without backpressure; a merge started
    /// because writes paused is abandoned once a writer waits.
    pub(super) fn wait_for_room(&self, incoming: usize) {
        let inner = &*self.inner;
        let limit = inner.policy.points.saturating_mul(2);
        // Only frozen points can be waited for (the sealer seals them at
        // once): with none, nothing waits, however large the batch.
        let full = || {
            let set = inner.segments();
            let frozen: usize = set.frozen.iter().map(|f| f.points.read().len()).sum();
            frozen > 0 && frozen + set.appendable.read().len() + incoming > limit
        };
        // A merge holds the sealer for its whole build: waiting for it
        // would hold writes for minutes at a large collection.
        let merging = || inner.merging.load(Ordering::Acquire);
        if !full() || merging() || inner.sealer.lock().is_none() {
            return;
        }
        let started = std::time::Instant::now();
        inner.stalled.fetch_add(1, Ordering::AcqRel);
        inner.signal.notify();
        while full() && !merging() && started.elapsed() < STALL_LIMIT && !inner.signal.is_stopped()
        {
            let mut guard = inner.room.0.lock();
            inner.room.1.wait_for(&mut guard, STALL_POLL);
        }
        inner.stalled.fetch_sub(1, Ordering::AcqRel);
        let waited = started.elapsed();
        if waited >= STALL_LIMIT {
            tracing::warn!(
                collection = %inner.name,
                seconds = waited.as_secs_f64(),
                "a write waited for the sealer past the limit; writing anyway"
            );
        } else if waited >= STALL_REPORT {
            tracing::info!(
                collection = %inner.name,
                seconds = waited.as_secs_f64(),
                "a write waited for the sealer to catch up"
            );
        }
    }

    fn write(&self, record: Record) -> Result<()> {
        let _writer = self.inner.write_lock.lock();
        self.write_locked(record)
    }

    /// Logs (synced) then applies; the caller holds the writer lock. A full
    /// disk fails before anything is logged or applied (the vector files'
    /// room is reserved first, and a failed log write is undone), so the
    /// write can simply be retried once space returns.
    pub(super) fn write_locked(&self, record: Record) -> Result<()> {
        if matches!(&record, Record::Delete(ids) if ids.is_empty()) {
            return Ok(());
        }
        self.inner.check_live()?;
        let Some(wal) = self.inner.wal.own() else {
            return Err(IndexError::InvalidParameter {
                field: "collection".into(),
                reason: format!(
                    "{} is a shard: its writes are applied from its Raft log",
                    self.inner.name
                ),
            });
        };
        self.reserve_for(&record)?;
        let lsn = wal.append(&record.encode()).map_err(self.full())?;
        self.apply_locked(record, lsn)
    }

    /// Storage errors as errors of this collection (a full disk names it).
    fn full(&self) -> impl Fn(StorageError) -> IndexError + '_ {
        |e| IndexError::from(e).in_collection(&self.inner.name)
    }

    /// Room for an upsert's vectors, made before it is logged: once logged,
    /// applying must not run out of disk. The caller holds the writer lock.
    pub(super) fn reserve_for(&self, record: &Record) -> Result<()> {
        if let Record::Upsert(batch) = record {
            let current = self.inner.segments();
            current
                .appendable
                .write()
                .reserve(batch)
                .map_err(self.full())?;
        }
        Ok(())
    }

    /// Applies a logged `record` (log record `lsn`) and publishes the new
    /// segment set; the caller holds the writer lock.
    pub(super) fn apply_locked(&self, record: Record, lsn: u64) -> Result<()> {
        let full = self.full();
        let current = self.inner.segments();
        let mut next = (*current).clone();
        let applied = if matches!(record, Record::CreateIndex(..)) {
            let mut config = self.inner.config.write();
            next.apply(&mut config, record, lsn, self.inner.policy)
        } else {
            // Upserts and deletes leave the configuration as it is: a copy
            // keeps searches (which read it first) from waiting for the
            // whole batch to be applied.
            let mut config = self.inner.config.read().clone();
            next.apply(&mut config, record, lsn, self.inner.policy)
        };
        // Published even when applying failed half-way: the log holds the
        // whole record, and what was applied is what searches should see.
        *self.inner.set.write() = Arc::new(next);
        self.inner
            .last_write
            .store(sealer::now_ms(), Ordering::Release);
        self.inner.signal.notify();
        applied.map(|_| ()).map_err(full)
    }
}

/// An upper bound of a point's bytes in an upsert record.
pub(super) fn record_bytes(point: &LoggedPoint) -> usize {
    32 + 4 * point.floats()
        + point
            .payload
            .as_ref()
            .map_or(0, super::points::payload_size)
}

/// Point `i` of an upsert into a collection of `config`, checked, as logged.
fn logged_point(config: &CollectionConfig, i: usize, p: PointWrite) -> Result<LoggedPoint> {
    let unnamed_field = |config: &VectorConfig| match config.layout {
        Layout::Multivector => format!("points[{i}].multivector"),
        _ => format!("points[{i}].vector"),
    };
    let mut vectors = vec![None; config.vectors.len()];
    // An empty unnamed vector with nothing else is checked as given (its
    // layout says what it lacks).
    if !p.vector.is_empty() || (p.vectors.is_empty() && config.default_vector().is_some()) {
        let field = format!("points[{i}].vector");
        let (v, vector) = config.vector("", &field)?;
        vectors[v] = Some(prepare(&unnamed_field(vector), p.vector, vector)?);
    }
    for (name, given) in p.vectors {
        let field = format!("points[{i}].vectors.{name}");
        let (v, vector) = config.vector(&name, &field)?;
        vectors[v] = Some(prepare(&field, given, vector)?);
    }
    let mut sparse = vec![
        None;
        if p.sparse.is_empty() {
            0
        } else {
            config.sparse.len()
        }
    ];
    for (name, given) in p.sparse {
        let field = format!("points[{i}].vectors.{name}");
        let (s, _) = config.sparse_vector(&name, &field)?;
        // A vector with no weight left is none (it could never be found).
        sparse[s] = Some(SparseVector::prepare(&field, given.indices, given.values)?)
            .filter(|v| !v.is_empty());
    }
    if vectors.iter().all(Option::is_none) && sparse.iter().all(Option::is_none) {
        let (field, expected) = match config.default_vector() {
            Some(vector) => (unnamed_field(vector), "its vector".to_string()),
            None => (
                format!("points[{i}].vectors"),
                format!("one of its vectors ({})", config.vector_names()),
            ),
        };
        return Err(IndexError::InvalidVector {
            field,
            reason: format!("the point holds no vector: give {expected}"),
        });
    }
    Ok(LoggedPoint {
        id: p.id,
        vectors,
        sparse,
        payload: p.payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CollectionConfig;
    use crate::distance::Metric;
    use crate::graph::HnswParams;
    use crate::storage::WalOptions;
    use crate::storage::testdir::TestDir;

    #[test]
    fn delete_counts_a_repeated_id_once() {
        // Found by fuzz/request_decode: `{"ids": [1, 1]}` answered `deleted: 2`.
        let dir = TestDir::new("delete-dup");
        let config = CollectionConfig {
            text: None,
            sparse: Default::default(),
            vectors: std::collections::BTreeMap::from([(
                String::new(),
                crate::VectorConfig {
                    dims: 2,
                    metric: Metric::Dot,
                    layout: Layout::Float,
                    hnsw: HnswParams::default(),
                    muvera: None,
                    encoder: None,
                },
            )]),
            payload_schema: Default::default(),
        };
        let wal = WalOptions {
            sync: false,
            ..WalOptions::default()
        };
        let c = Collection::create("c", &dir.join("c"), config, wal).unwrap();
        let point = |n| PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: PointId::Num(n),
            vector: vec![1.0, 0.5],
            payload: None,
        };
        c.upsert(vec![point(1), point(2)]).unwrap();
        let ids = [PointId::Num(1), PointId::Num(1), PointId::Num(3)];
        assert_eq!(c.delete(&ids).unwrap(), 1);
        assert_eq!(c.len(), 1);
    }
}
