//! Payload updates: merge keys into, replace, or delete keys from the
//! payloads of points chosen by id or by filter, without resending vectors.
//!
//! An update is logged as an upsert of the points it changes, with their
//! stored vectors and new payloads: it is as durable as an upsert, replays
//! the same way, moves the points to the appendable segment (where the
//! payload index follows), and costs what rewriting those points costs.

use std::collections::HashSet;

use super::Collection;
use super::record::{LoggedPoint, Record};
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::types::{Payload, PointId};

/// Points updated per hold of the writer lock (then the lock is released, so
/// that other writes and the sealer interleave with a large update).
const UPDATE_CHUNK: usize = 256;

/// How an update changes each chosen point's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum PayloadUpdate {
    /// Sets these top-level keys, keeping the others.
    Merge(Payload),
    /// Replaces the whole payload.
    Replace(Payload),
    /// Removes these top-level keys (absent ones are ignored).
    DeleteKeys(Vec<String>),
}

impl PayloadUpdate {
    /// The payload `old` becomes.
    fn apply(&self, old: Option<Payload>) -> Payload {
        match self {
            Self::Replace(new) => new.clone(),
            Self::Merge(keys) => {
                let mut payload = old.unwrap_or_default();
                payload.extend(keys.iter().map(|(k, v)| (k.clone(), v.clone())));
                payload
            }
            Self::DeleteKeys(keys) => {
                let mut payload = old.unwrap_or_default();
                for key in keys {
                    payload.remove(key);
                }
                payload
            }
        }
    }
}

/// Length of `payload` as compact JSON, counted without building the text.
pub fn json_len(payload: &Payload) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, payload) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Which points an update (or another write) applies to.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// These ids (unknown ones are skipped, a repeated one counts once).
    Ids(&'a [PointId]),
    /// Every point matching this filter when the update starts.
    Filter(&'a Filter),
}

impl Collection {
    /// Changes the payloads of the chosen points; returns how many existed
    /// (and so now hold the updated payload). Durable when it returns.
    ///
    /// Each point is read and rewritten under the writer lock, so a
    /// concurrent upsert of the same point is never undone by stale data: the
    /// update applies to whichever version is current when its chunk runs. A
    /// point deleted before its chunk runs is skipped.
    pub fn update_payload(
        &self,
        selection: Selection<'_>,
        update: &PayloadUpdate,
        limits: &FilterLimits,
    ) -> Result<usize> {
        self.update_payload_within(selection, update, limits, usize::MAX)
    }

    /// [`Collection::update_payload`], refusing (`LimitExceeded`, nothing
    /// written) an update that would make a payload longer than
    /// `max_payload_bytes` as compact JSON ([`json_len`]). Every chosen point
    /// is checked before anything is written; a concurrent write that grows
    /// a payload between that check and its chunk stops the update there.
    pub fn update_payload_within(
        &self,
        selection: Selection<'_>,
        update: &PayloadUpdate,
        limits: &FilterLimits,
        max_payload_bytes: usize,
    ) -> Result<usize> {
        if let PayloadUpdate::DeleteKeys(keys) = update {
            if keys.is_empty() {
                return Err(IndexError::InvalidParameter {
                    field: "keys".into(),
                    reason: "list at least one key".into(),
                });
            }
            if let Some(i) = keys.iter().position(String::is_empty) {
                return Err(IndexError::InvalidParameter {
                    field: format!("keys[{i}]"),
                    reason: "must not be empty".into(),
                });
            }
        }
        let ids: Vec<PointId> = match selection {
            Selection::Ids(ids) => {
                let mut seen = HashSet::with_capacity(ids.len());
                ids.iter().filter(|id| seen.insert(*id)).cloned().collect()
            }
            Selection::Filter(filter) => {
                let mut ids = self.matching_ids(filter, limits)?;
                ids.sort_unstable();
                ids.dedup();
                ids
            }
        };
        // Deleting keys only shrinks a payload.
        let checked =
            max_payload_bytes < usize::MAX && !matches!(update, PayloadUpdate::DeleteKeys(_));
        let fits = |id: &PointId, payload: &Payload| {
            let got = json_len(payload);
            if got > max_payload_bytes {
                return Err(IndexError::LimitExceeded {
                    field: format!("payload of point {id} after the update (bytes)"),
                    limit: max_payload_bytes,
                    got,
                });
            }
            Ok(())
        };
        if checked {
            let set = self.inner.segments();
            for id in &ids {
                let old = set.find(id, |points, offset| {
                    points
                        .payloads
                        .get(offset)
                        .map(std::borrow::Cow::into_owned)
                });
                if let Some(old) = old {
                    fits(id, &update.apply(old))?;
                }
            }
        }
        let budget = self.inner.wal.max_record_bytes() / 2;
        let mut updated = 0;
        for chunk in ids.chunks(UPDATE_CHUNK) {
            self.wait_for_room(chunk.len());
            let _writer = self.inner.write_lock.lock();
            let set = self.inner.segments();
            let mut batch = Vec::new();
            let mut bytes = 0;
            for id in chunk {
                let Some(((vectors, sparse), old)) = set.find(id, |points, offset| {
                    let old = points
                        .payloads
                        .get(offset)
                        .map(std::borrow::Cow::into_owned);
                    ((points.stored_all(offset), points.sparse_all(offset)), old)
                }) else {
                    continue;
                };
                updated += 1;
                let payload = update.apply(old.clone());
                if checked {
                    fits(id, &payload)?;
                }
                if old.as_ref() == Some(&payload) || (old.is_none() && payload.is_empty()) {
                    continue;
                }
                let point = LoggedPoint {
                    id: id.clone(),
                    vectors,
                    sparse,
                    payload: Some(payload),
                };
                let size = super::point_ops::record_bytes(&point);
                if !batch.is_empty() && bytes + size > budget {
                    self.write_locked(Record::Upsert(std::mem::take(&mut batch)))?;
                    bytes = 0;
                }
                bytes += size;
                batch.push(point);
            }
            if !batch.is_empty() {
                self.write_locked(Record::Upsert(batch))?;
            }
        }
        Ok(updated)
    }
}
