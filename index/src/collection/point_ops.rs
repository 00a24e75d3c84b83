//! Writes and reads of points: upsert, delete (by ids or filter), get.
//!
//! A write is validated completely first (nothing is written when any point is
//! bad), then logged and synced, then applied in memory, all under the writer
//! lock so that the log's order is the order of application.

use super::multivector::prepare_tokens;
use super::record::{LoggedPoint, Record};
use super::{Collection, CollectionConfig, Layout, Points};
use crate::distance::Metric;
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::storage::StorageError;
use crate::types::{Offset, Payload, PayloadType, PointId};

/// A point to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PointWrite {
    /// Its id.
    pub id: PointId,
    /// Its vector, with the collection's dimension; for a multivector
    /// collection, its token vectors one after another (a whole number of
    /// rows of the collection's dimension).
    pub vector: Vec<f32>,
    /// Its payload.
    pub payload: Option<Payload>,
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
    /// Inserts or replaces points; durable when it returns.
    pub fn upsert(&self, points: Vec<PointWrite>) -> Result<usize> {
        let (dims, metric, layout) = {
            let config = self.inner.config.read();
            (config.dims, config.metric, config.layout)
        };
        let logged = points
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let vector = if layout == Layout::Multivector {
                    prepare_tokens(&format!("points[{i}].multivector"), p.vector, dims, metric)?
                } else {
                    prepare_vector(&format!("points[{i}].vector"), p.vector, dims, metric)?
                };
                Ok(LoggedPoint {
                    vector,
                    id: p.id,
                    payload: p.payload,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let n = logged.len();
        if n == 0 {
            return Ok(0);
        }
        // One record per chunk that fits the log's record limit (with room
        // to spare): a batch of token sets easily outgrows it. Each chunk is
        // durable before the next is written; the call returns once all are.
        let budget = self.inner.wal.max_record_bytes() / 2;
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for point in logged {
            let size = record_bytes(&point);
            if !chunk.is_empty() && bytes + size > budget {
                self.write(Record::Upsert(std::mem::take(&mut chunk)))?;
                bytes = 0;
            }
            bytes += size;
            chunk.push(point);
        }
        self.write(Record::Upsert(chunk))?;
        Ok(n)
    }

    /// Deletes points by id; returns how many existed (an id listed twice
    /// counts once).
    pub fn delete(&self, ids: &[PointId]) -> Result<usize> {
        let _writer = self.inner.write_lock.lock();
        let existing: Vec<PointId> = {
            let points = self.inner.points.read();
            let mut seen = std::collections::HashSet::with_capacity(ids.len());
            ids.iter()
                .filter(|id| points.ids.contains_key(id) && seen.insert(**id))
                .copied()
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
        let points = self.inner.points.read();
        let offset = *points
            .ids
            .get(id)
            .ok_or_else(|| IndexError::PointNotFound(id.to_string()))?;
        Ok((
            points.stored(offset).to_vec(),
            points.payloads[offset as usize].clone(),
        ))
    }

    fn write(&self, record: Record) -> Result<()> {
        let _writer = self.inner.write_lock.lock();
        self.write_locked(record)
    }

    /// Logs (synced) then applies; the caller holds the writer lock. A full
    /// disk fails before anything is logged or applied (the vector files'
    /// room is reserved first, and a failed log write is undone), so the
    /// write can simply be retried once space returns.
    fn write_locked(&self, record: Record) -> Result<()> {
        if matches!(&record, Record::Delete(ids) if ids.is_empty()) {
            return Ok(());
        }
        let full = |e: StorageError| IndexError::from(e).in_collection(&self.inner.name);
        if let Record::Upsert(batch) = &record {
            // Room for the vectors first: once logged, applying must not run out of disk.
            self.inner.points.write().reserve(batch).map_err(full)?;
        }
        self.inner.wal.append(&record.encode()).map_err(full)?;
        let applied = {
            let mut points = self.inner.points.write();
            let mut config = self.inner.config.write();
            apply(&mut points, &mut config, record)
        };
        self.inner.signal.notify();
        applied.map_err(Into::into)
    }
}

/// Applies a logged record to memory (live writes and replay share this).
/// Fails only if the vector file cannot be written (the points before the
/// failing one are applied; the log still holds the whole record).
pub(crate) fn apply(
    points: &mut Points,
    config: &mut CollectionConfig,
    record: Record,
) -> Result<(), StorageError> {
    match record {
        Record::Upsert(batch) => {
            points.reserve(&batch)?;
            for p in batch {
                if !points.fits(p.vector.len()) {
                    continue;
                }
                let Ok(offset) = Offset::try_from(points.len()) else {
                    tracing::error!("collection is full: 2^32 offsets used");
                    return Ok(());
                };
                match (&mut points.tokens, &points.fde) {
                    (Some(tokens), Some(fde)) => {
                        let encoding = fde.encode_document(&p.vector);
                        tokens.push(&p.vector)?;
                        points.vectors.push(&encoding)?;
                    }
                    _ => points.vectors.push(&p.vector)?,
                }
                remove(points, &p.id);
                if let Some(codes) = &mut points.codes {
                    codes.push(&p.vector);
                }
                points.by_offset.push(p.id);
                if let Some(payload) = &p.payload {
                    points.payload_index.insert(offset, payload);
                    points.payload_bytes += payload_size(payload);
                }
                points.payloads.push(p.payload);
                points.live.insert(offset);
                points.ids.insert(p.id, offset);
            }
        }
        Record::Delete(ids) => ids.iter().for_each(|id| remove(points, id)),
        Record::CreateIndex(key, ty) => {
            let existing = points
                .live
                .iter()
                .filter_map(|o| points.payloads[o as usize].as_ref().map(|p| (o, p)));
            match points.payload_index.add_field(&key, ty, existing) {
                Ok(()) => {
                    config.payload_schema.insert(key, ty);
                }
                Err(error) => tracing::error!(%error, key, "cannot index payload field"),
            }
        }
    }
    Ok(())
}

impl Points {
    /// Room for a batch's vectors (and tokens), so that applying it cannot
    /// then fail for want of disk.
    pub(crate) fn reserve(&mut self, batch: &[LoggedPoint]) -> Result<(), StorageError> {
        self.vectors.reserve(batch.len())?;
        if let Some(tokens) = &mut self.tokens {
            let rows = batch.iter().map(|p| p.vector.len() / self.dims).sum();
            tokens.reserve(batch.len(), rows)?;
        }
        Ok(())
    }
}

fn remove(points: &mut Points, id: &PointId) {
    if let Some(offset) = points.ids.remove(id) {
        points.live.remove(offset);
        if let Some(payload) = points.payloads[offset as usize].take() {
            points.payload_index.remove(offset, &payload);
            points.payload_bytes = points.payload_bytes.saturating_sub(payload_size(&payload));
        }
    }
}

/// An upper bound of a point's bytes in an upsert record.
fn record_bytes(point: &LoggedPoint) -> usize {
    32 + 4 * point.vector.len() + point.payload.as_ref().map_or(0, payload_size)
}

/// Rough heap size of a payload (its JSON length plus map overhead).
pub(crate) fn payload_size(payload: &Payload) -> usize {
    serde_json::to_string(payload).map_or(0, |s| s.len()) + 48 * payload.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::HnswParams;
    use crate::storage::WalOptions;
    use crate::storage::testdir::TestDir;

    #[test]
    fn delete_counts_a_repeated_id_once() {
        // Found by fuzz/request_decode: `{"ids": [1, 1]}` answered `deleted: 2`.
        let dir = TestDir::new("delete-dup");
        let config = CollectionConfig {
            dims: 2,
            metric: Metric::Dot,
            layout: Layout::Float,
            hnsw: HnswParams::default(),
            payload_schema: Default::default(),
            muvera: None,
        };
        let wal = WalOptions {
            sync: false,
            ..WalOptions::default()
        };
        let c = Collection::create("c", &dir.join("c"), config, wal).unwrap();
        let point = |n| PointWrite {
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
