//! The background graph builder: one thread per collection.
//!
//! It inserts the unindexed tail into the graph in batches (in parallel, with
//! rayon), and rebuilds the graph from the live points when tombstones pass
//! [`REBUILD_RATIO`] of it, or to merge segments: a graph loaded from a
//! snapshot is a read-only segment, and once the points added after it reach
//! [`MERGE_RATIO`] of its size (or two snapshots' segments are loaded), one
//! graph is built over all of them. The thread holds only a weak reference to the
//! collection, and stops when the collection is dropped.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use super::{Inner, live_below};
use crate::graph::Graph;
use crate::types::Offset;

/// Offsets inserted per batch.
const BATCH: usize = 4_096;
/// Rebuild when dead points exceed this share of the graph.
pub const REBUILD_RATIO: f64 = 0.2;
/// Graphs smaller than this are never rebuilt for tombstones.
const REBUILD_MIN_POINTS: usize = 1_000;
/// Merge the segments when the new one reaches this share of the loaded ones.
pub const MERGE_RATIO: f64 = 0.25;

#[derive(Default)]
struct State {
    pending: bool,
    stopped: bool,
}

/// Wakes the indexer thread.
#[derive(Default)]
pub(crate) struct Signal {
    state: Mutex<State>,
    wake: Condvar,
}

impl Signal {
    /// New points or deletions: there may be work.
    pub(crate) fn notify(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.pending = true;
            self.wake.notify_all();
        }
    }

    pub(crate) fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.stopped = true;
            self.wake.notify_all();
        }
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.state.lock().map_or(true, |s| s.stopped)
    }

    /// Blocks until there is work; false when stopped.
    fn wait_work(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        while !state.pending && !state.stopped {
            match self.wake.wait(state) {
                Ok(s) => state = s,
                Err(_) => return false,
            }
        }
        state.pending = false;
        !state.stopped
    }

    /// Polls until the graph covers every offset and needs no rebuild.
    pub(crate) fn wait_idle(&self, inner: &Inner) {
        loop {
            if self.is_stopped() || !has_work(inner) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

pub(crate) fn start(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let signal = Arc::clone(&inner.signal);
    let name = format!("trawl-index-{}", inner.name);
    match std::thread::Builder::new()
        .name(name)
        .spawn(move || run(&weak, &signal))
    {
        Ok(handle) => *inner.indexer.lock() = Some(handle),
        Err(error) => {
            tracing::error!(%error, collection = %inner.name, "cannot start the indexer thread; searches stay exact");
        }
    }
    inner.signal.notify();
}

/// Stops the indexer and waits for it (it finishes the batch under way).
pub(crate) fn stop(inner: &Inner) {
    inner.signal.stop();
    let handle = inner.indexer.lock().take();
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}

fn run(weak: &Weak<Inner>, signal: &Signal) {
    while signal.wait_work() {
        let Some(inner) = weak.upgrade() else { return };
        while !signal.is_stopped() && step(&inner) {}
    }
}

fn has_work(inner: &Inner) -> bool {
    let total = inner.points.read().len();
    inner.indexed.load(Ordering::Acquire) < total || needs_rebuild(inner)
}

fn needs_rebuild(inner: &Inner) -> bool {
    let graph = std::sync::Arc::clone(&inner.graph.read());
    let graph_len = graph.len();
    let frozen = graph.frozen_len();
    let segments = graph.segments().len();
    drop(graph);
    if frozen > 0 && segments > 1 {
        let added = graph_len - frozen;
        if segments > 2 || added as f64 >= MERGE_RATIO * frozen as f64 {
            return true;
        }
    }
    if graph_len < REBUILD_MIN_POINTS {
        return false;
    }
    let indexed = inner.indexed.load(Ordering::Acquire);
    let live_in_graph = live_below(&inner.points.read().live, indexed);
    let dead = graph_len.saturating_sub(live_in_graph);
    dead as f64 > REBUILD_RATIO * graph_len as f64
}

/// One unit of work; false when there was none.
fn step(inner: &Inner) -> bool {
    // Past 256 MiB of log, and past the last snapshot's own size: each
    // snapshot then follows at least as many logged bytes as it writes, so
    // the total written stays linear in the data (a fixed threshold rewrites
    // a large collection, such as one of token vectors, every 256 MiB).
    let threshold =
        super::snapshot::AUTO_SNAPSHOT_WAL_BYTES.max(super::snapshot::disk_bytes(&inner.dir));
    if inner.wal.disk_bytes() > threshold {
        match super::snapshot::take(inner) {
            Ok(info) => {
                tracing::info!(collection = %inner.name, points = info.points, lsn = info.lsn, "automatic snapshot")
            }
            Err(error) => {
                tracing::error!(%error, collection = %inner.name, "automatic snapshot failed")
            }
        }
    }
    if needs_rebuild(inner) {
        rebuild(inner);
        return true;
    }
    let indexed = inner.indexed.load(Ordering::Acquire);
    let (rows, end) = {
        let points = inner.points.read();
        let end = points.len().min(indexed + BATCH);
        if end <= indexed {
            return false;
        }
        let rows = points.graph_rows(
            (indexed..end)
                .filter_map(|o| Offset::try_from(o).ok())
                .filter(|&o| points.live.contains(o)),
        );
        (rows, end)
    };
    let graph = Arc::clone(&inner.graph.read());
    graph.insert_batch(&rows);
    inner.indexed.store(end, Ordering::Release);
    true
}

fn rebuild(inner: &Inner) {
    let started = std::time::Instant::now();
    let indexed = inner.indexed.load(Ordering::Acquire);
    let (config, rows) = {
        let points = inner.points.read();
        let config = inner.config.read().clone();
        let rows = points.graph_rows(points.live.iter().take_while(|&o| (o as usize) < indexed));
        (config, rows)
    };
    let space = config.graph_space();
    let graph = Graph::new(config.hnsw, space, rows.len());
    graph.insert_batch(&rows);
    *inner.graph.write() = Arc::new(graph);
    tracing::info!(
        collection = %inner.name,
        points = rows.len(),
        seconds = started.elapsed().as_secs_f64(),
        "graph rebuilt"
    );
}
