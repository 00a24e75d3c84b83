//! The background sealer and optimiser: one thread per collection.
//!
//! - **Seal**: frozen appendable segments are written into one sealed
//!   segment (files, then the graph built over them) once writes pause for
//!   [`QUIET`], so a bulk load becomes one segment built once; under a steady
//!   stream of writes, once the oldest has waited [`MAX_WAIT`] or more than
//!   [`MAX_UNSEALED`] points wait, and at once while an upsert waits for room
//!   (writers wait while a whole segment is frozen and the appendable one is
//!   full: see `Collection::wait_for_room`). An appendable segment that
//!   has not reached its size is sealed too after [`IDLE`] without writes,
//!   so every point ends up behind a graph. A seal takes in the newest
//!   sealed segment while that one holds at most
//!   [`super::SealPolicy::fold_ratio`] times the points sealed (its graph
//!   kept, only the new points inserted; see [`foldable`]): a load sealed in
//!   steps ends as one segment whose graph was built once.
//! - **Merge** (the optimiser): segments whose deleted share passed
//!   [`VACUUM_RATIO`] are rewritten without their deleted points, and when
//!   there are more than [`MAX_SEGMENTS`] the smallest are merged once
//!   writes pause for [`QUIET`] (or at once past [`HARD_MAX_SEGMENTS`]), so
//!   a search walks few graphs. Once writes pause for [`IDLE_MERGE`], the
//!   smallest segments are merged into larger ones (up to
//!   [`MAX_MERGED_POINTS`]; see [`Plan::Idle`]): a bulk load sealed in
//!   steps ends as one segment. A count or idle merge is abandoned (its files
//!   removed) as soon as a writer waits for the sealer, and any build when
//!   the server stops. Builds use every core at a lower priority
//!   ([`crate::background`]), as does this thread; searches keep running on
//!   the old segments meanwhile and get a contended core first.
//! - **Checkpoint**: after each of these the manifest is rewritten (with every
//!   segment's deleted offsets) and the log cut through the records it covers;
//!   segment directories it no longer names are removed. A log past
//!   [`super::AUTO_SNAPSHOT_WAL_BYTES`] makes the thread seal what it has.
//!
//! Sealing and merging never hold the writer lock while they write files or
//! build graphs: they take it only to swap the segment set.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use roaring::RoaringBitmap;

use super::manifest::{self, Manifest, SegmentFacts};
use super::segment::{self, Sealed, Source};
use super::set::{SealedEntry, SegmentSet};
use super::{CollectionConfig, Inner, snapshot};
use crate::background;
use crate::error::Result;
use crate::payload_index::PayloadIndex;
use crate::types::{Offset, PayloadType};

/// Writes pause this long before frozen segments are sealed ...
pub const QUIET: Duration = Duration::from_millis(500);
/// ... unless more points than this wait ...
pub const MAX_UNSEALED: usize = 200_000;
/// ... or the oldest frozen segment has waited this long.
pub const MAX_WAIT: Duration = Duration::from_secs(3);
/// An appendable segment below its size is sealed after this long without writes.
pub const IDLE: Duration = Duration::from_secs(1);
/// Writes pause this long before the optimiser merges small segments into
/// larger ones (fewer graphs for a search to walk) ...
pub const IDLE_MERGE: Duration = Duration::from_secs(5);
/// ... into segments of at most this many points.
pub const MAX_MERGED_POINTS: u64 = 1_000_000;
/// More sealed segments than this are merged at once, writes or not ...
pub const MAX_SEGMENTS: usize = 8;
/// ... down to this many ...
const MERGED_SEGMENTS: usize = 4;
/// ... once writes pause for [`QUIET`], unless there are more than this
/// many (a load that never pauses).
pub const HARD_MAX_SEGMENTS: usize = 4 * MAX_SEGMENTS;
/// A segment whose deleted points pass this share of it is rewritten.
pub const VACUUM_RATIO: f64 = 0.2;
/// ... once they are at least this many.
const VACUUM_MIN: u64 = 64;
/// A merge builds on its largest source's graph when at least this share of
/// that graph's nodes is live (else it builds anew: deletions leave holes in
/// the links).
const REUSE_MIN_LIVE: f64 = 0.9;
/// How often the thread looks for work when nothing wakes it.
const POLL: Duration = Duration::from_millis(100);
/// Pause after a failed step (a full disk), before trying again.
const BACKOFF: Duration = Duration::from_secs(1);

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Milliseconds since the process's epoch, for [`Inner::last_write`].
pub(crate) fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

#[derive(Default)]
struct State {
    pending: bool,
    stopped: bool,
}

/// Wakes the sealer thread.
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

    /// Waits for a notification or `timeout`; false when stopped.
    fn wait(&self, timeout: Duration) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if !state.pending && !state.stopped {
            match self.wake.wait_timeout(state, timeout) {
                Ok((s, _)) => state = s,
                Err(_) => return false,
            }
        }
        state.pending = false;
        !state.stopped
    }
}

pub(crate) fn start(inner: &Arc<Inner>) {
    let weak = Arc::downgrade(inner);
    let signal = Arc::clone(&inner.signal);
    let name = format!("trawl-seal-{}", inner.name);
    match std::thread::Builder::new().name(name).spawn(move || {
        background::lower_priority(background::NICE);
        run(&weak, &signal);
    }) {
        Ok(handle) => *inner.sealer.lock() = Some(handle),
        Err(error) => {
            tracing::error!(%error, collection = %inner.name, "cannot start the sealer thread; new points stay in exact scans");
        }
    }
}

/// Stops the sealer and waits for it (it finishes the step under way).
pub(crate) fn stop(inner: &Inner) {
    inner.signal.stop();
    let handle = inner.sealer.lock().take();
    if let Some(handle) = handle
        && handle.thread().id() != std::thread::current().id()
    {
        let _ = handle.join();
    }
}

fn run(weak: &Weak<Inner>, signal: &Signal) {
    while signal.wait(POLL) {
        let Some(inner) = weak.upgrade() else { return };
        loop {
            if signal.is_stopped() {
                return;
            }
            match step(&inner) {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::error!(%error, collection = %inner.name, "sealing or merging failed; retrying");
                    std::thread::sleep(BACKOFF);
                    break;
                }
            }
        }
    }
}

/// One unit of work; false when there was none.
fn step(inner: &Inner) -> Result<bool> {
    let quiet = now_ms().saturating_sub(inner.last_write.load(Ordering::Acquire));
    let set = inner.segments();
    let frozen: usize = set.frozen.iter().map(|f| f.points.read().len()).sum();
    let waited = set
        .frozen
        .first()
        .map_or(0, |f| now_ms().saturating_sub(f.at));
    let appendable = set.appendable.read().live.len();
    drop(set);
    if frozen > 0
        && (inner.stalled.load(Ordering::Acquire) > 0
            || quiet >= QUIET.as_millis() as u64
            || frozen >= MAX_UNSEALED
            || waited >= MAX_WAIT.as_millis() as u64)
    {
        return seal_frozen(inner);
    }
    if (appendable > 0 && quiet >= IDLE.as_millis() as u64)
        || inner.wal.disk_bytes() > snapshot::AUTO_SNAPSHOT_WAL_BYTES
    {
        freeze(inner)?;
        return seal_frozen(inner);
    }
    if merge(inner, Plan::Needed)? {
        return Ok(true);
    }
    if quiet >= QUIET.as_millis() as u64 && merge(inner, Plan::Count)? {
        return Ok(true);
    }
    if quiet >= IDLE_MERGE.as_millis() as u64 {
        return merge(inner, Plan::Idle);
    }
    Ok(false)
}

/// Whether the optimiser has work: points to seal, or segments to merge
/// (now, or once writes pause).
pub(crate) fn pending(inner: &Inner) -> bool {
    if inner.maintenance.try_lock().is_none() {
        return true;
    }
    let set = inner.segments();
    !set.frozen.is_empty()
        || !set.appendable.read().live.is_empty()
        || [Plan::Needed, Plan::Count, Plan::Idle]
            .into_iter()
            .any(|plan| !merge_plan(&set.sealed, plan).is_empty())
}

/// Seals everything written so far (the appendable segment included),
/// merges as the optimiser would, and writes the manifest; the log is then
/// cut through every record it covers.
pub(crate) fn flush(inner: &Inner) -> Result<()> {
    freeze(inner)?;
    // One call seals every segment frozen by now. Points written meanwhile
    // stay in the log, which the checkpoint keeps: a flush (and so a
    // snapshot) under continuous writes ends instead of chasing them.
    seal_frozen(inner)?;
    while merge(inner, Plan::Needed)? || merge(inner, Plan::Count)? {}
    let _one = inner.maintenance.lock();
    inner.check_live()?;
    checkpoint(inner)
}

/// Freezes the appendable segment if it holds live points.
fn freeze(inner: &Inner) -> Result<()> {
    let _writer = inner.write_lock.lock();
    let current = inner.segments();
    if current.appendable.read().live.is_empty() {
        return Ok(());
    }
    let mut next = (*current).clone();
    let config = inner.config.read().clone();
    next.freeze(&config, inner.wal.last_lsn())?;
    *inner.set.write() = Arc::new(next);
    Ok(())
}

/// Seals every frozen segment into one; false when there was none.
fn seal_frozen(inner: &Inner) -> Result<bool> {
    let _one = inner.maintenance.lock();
    inner.check_live()?;
    let frozen = inner.segments().frozen.clone();
    let Some(last) = frozen.last() else {
        return Ok(false);
    };
    let lsn = last.lsn;
    let config = inner.config.read().clone();
    let id = inner.next_segment.fetch_add(1, Ordering::AcqRel);
    let root = inner.dir.join(segment::DIR);
    let started = Instant::now();
    let incoming: u64 = frozen.iter().map(|f| f.live.len()).sum();
    let fold = foldable(&inner.segments().sealed, incoming, inner.policy.fold_ratio);
    // Frozen points never change (deletions go to the set's bitmaps), so
    // their read locks are never contended; the graph is then built from
    // the new files.
    let (written, lives) = {
        let guards: Vec<_> = frozen.iter().map(|f| f.points.read()).collect();
        let lives: Vec<Arc<RoaringBitmap>> = fold
            .iter()
            .map(|e| Arc::clone(&e.live))
            .chain(frozen.iter().map(|f| Arc::clone(&f.live)))
            .collect();
        let points = fold
            .iter()
            .map(|e| &e.segment.points)
            .chain(guards.iter().map(|g| &**g));
        let sources: Vec<Source<'_>> = points
            .zip(&lives)
            .map(|(points, live)| Source { points, live })
            .collect();
        (segment::write(&root, id, &config, &sources)?, lives)
    };
    release_read_files(fold.iter());
    let start = fold
        .as_ref()
        .and_then(|e| reusable_graph(std::slice::from_ref(e)));
    let stopped = || inner.signal.is_stopped();
    let Some(sealed) =
        background::pool().install(|| written.seal(&config, start.as_deref(), &stopped))?
    else {
        // Shutting down: the frozen points are replayed from the log at the next start.
        return Ok(false);
    };
    let (points, oversample) = (sealed.points.len(), format!("{:?}", sealed.oversample));
    let ready = Ready::new(sealed, &config);
    // The build's scratch is freed: return it before the segment counts as indexed.
    background::release_freed_memory();
    {
        let _writer = inner.write_lock.lock();
        let current = inner.segments();
        let same = current.frozen.len() >= frozen.len()
            && current
                .frozen
                .iter()
                .zip(&frozen)
                .all(|(a, b)| Arc::ptr_eq(&a.points, &b.points));
        if !same {
            return Err(internal(
                inner,
                "the frozen segments changed while they were sealed",
            ));
        }
        let folded = match &fold {
            Some(e) => Some(current_live(inner, &current, e, "a folded segment")?),
            None => None,
        };
        let before: Vec<&RoaringBitmap> = lives.iter().map(|l| &**l).collect();
        let now: Vec<&RoaringBitmap> = folded
            .into_iter()
            .chain(current.frozen.iter().map(|f| &*f.live))
            .collect();
        let entry = ready.entry(inner, &before, &now);
        let mut next = (*current).clone();
        next.frozen.drain(..frozen.len());
        if let Some(e) = &fold {
            next.sealed.retain(|c| !Arc::ptr_eq(&c.segment, &e.segment));
        }
        next.sealed.extend(entry);
        inner.sealed_lsn.store(lsn, Ordering::Release);
        *inner.set.write() = Arc::new(next);
    }
    inner.room.1.notify_all();
    for f in &frozen {
        for store in &f.points.read().stores {
            store.remove_files();
        }
    }
    tracing::info!(
        collection = %inner.name,
        segment = id,
        points,
        folded = fold.as_ref().map_or(0, |e| e.live.len()),
        %oversample,
        seconds = started.elapsed().as_secs_f64(),
        "segment sealed"
    );
    drop((frozen, fold));
    background::release_freed_memory();
    checkpoint(inner)?;
    Ok(true)
}

/// The newest sealed segment, when a seal of `incoming` points should take
/// its points in too (its graph kept, only the new points inserted): a
/// load faster than the sealer, sealed in steps, then ends as one segment
/// whose graph was built once, instead of several segments merged later
/// (which inserts most points a second time). Only while that segment holds
/// at most `ratio` ([`super::SealPolicy::fold_ratio`]) times the incoming points (so a point is
/// rewritten a few times at most, and a trickle of small seals never
/// rewrites a large segment) and few enough of its points were deleted for
/// its graph to be reused ([`REUSE_MIN_LIVE`]).
fn foldable(sealed: &[SealedEntry], incoming: u64, ratio: u64) -> Option<SealedEntry> {
    let newest = sealed.last()?;
    let (live, total) = (newest.live.len(), newest.segment.points.len() as u64);
    let reusable = live as f64 >= REUSE_MIN_LIVE * total as f64;
    (live > 0
        && reusable
        && live <= ratio.saturating_mul(incoming)
        && live + incoming <= MAX_MERGED_POINTS)
        .then(|| newest.clone())
}

/// A segment just written, with its payload index built before the writer
/// lock is taken (it parses every payload).
struct Ready {
    sealed: Sealed,
    index: PayloadIndex,
    schema: BTreeMap<String, PayloadType>,
}

impl Ready {
    fn new(mut sealed: Sealed, config: &CollectionConfig) -> Self {
        let schema = config.payload_schema.clone();
        let index = match sealed.index.take() {
            Some(index) if *index.schema() == schema => index,
            _ => segment::payload_index(&sealed.points, &sealed.points.live, &schema),
        };
        Self {
            sealed,
            index,
            schema,
        }
    }

    /// Under the writer lock: the set's entry for the segment, whose offsets
    /// are the points of the `before` bitmaps in order, minus those no
    /// longer live in `now` (deleted while it was written); `None` when none
    /// is left.
    fn entry(
        self,
        inner: &Inner,
        before: &[&RoaringBitmap],
        now: &[&RoaringBitmap],
    ) -> Option<SealedEntry> {
        let Self {
            sealed,
            mut index,
            schema,
        } = self;
        let mut live = sealed.points.live.clone();
        let mut new = 0 as Offset;
        for (before, now) in before.iter().zip(now) {
            for o in before.iter() {
                if !now.contains(o) {
                    live.remove(new);
                    index.remove_offset(new);
                }
                new += 1;
            }
        }
        let current = &inner.config.read().payload_schema;
        if *current != schema {
            // A field was indexed while the segment was written.
            index = segment::payload_index(&sealed.points, &live, current);
        }
        (!live.is_empty()).then(|| SealedEntry {
            segment: Arc::new(sealed),
            live: Arc::new(live),
            index: Arc::new(index),
        })
    }
}

/// Which merges [`merge_plan`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Segments past [`VACUUM_RATIO`] deleted, and the smallest when there
    /// are more than [`HARD_MAX_SEGMENTS`]: run whatever writers do (and
    /// writers do not wait for room meanwhile).
    Needed,
    /// The smallest when there are more than [`MAX_SEGMENTS`], once writes
    /// pause for [`QUIET`]: a merge during a load would hold the sealer
    /// while the unsealed tail grows (at 1,000,000 points a 121 s merge left
    /// 640,000 points unsealed). Abandoned as soon as a writer waits.
    Count,
    /// Once writes pause ([`IDLE_MERGE`]): the smallest segments together,
    /// each no larger than twice those taken before it (so a point is
    /// rewritten a few times over a collection's life, not at every merge),
    /// up to [`MAX_MERGED_POINTS`]. Abandoned as soon as a writer waits for
    /// the sealer.
    Idle,
}

/// The sealed segments (indices) a merge of `plan` takes; empty for none.
fn merge_plan(sealed: &[SealedEntry], plan: Plan) -> Vec<usize> {
    let mut by_size: Vec<usize> = (0..sealed.len()).collect();
    by_size.sort_by_key(|&i| sealed[i].live.len());
    let mut chosen: Vec<usize> = match plan {
        Plan::Needed => {
            let mut chosen: Vec<usize> = sealed
                .iter()
                .enumerate()
                .filter(|(_, e)| {
                    let total = e.segment.points.len() as u64;
                    let dead = total - e.live.len();
                    dead >= VACUUM_MIN.min(total) && dead as f64 > VACUUM_RATIO * total as f64
                })
                .map(|(i, _)| i)
                .collect();
            if sealed.len() > HARD_MAX_SEGMENTS {
                chosen.extend(&by_size[..sealed.len() - MERGED_SEGMENTS + 1]);
            }
            chosen
        }
        Plan::Count if sealed.len() > MAX_SEGMENTS => {
            by_size[..sealed.len() - MERGED_SEGMENTS + 1].to_vec()
        }
        Plan::Count => Vec::new(),
        Plan::Idle => {
            let (mut chosen, mut total) = (Vec::new(), 0u64);
            for i in by_size {
                let n = sealed[i].live.len();
                if !chosen.is_empty() && (n > 2 * total || total + n > MAX_MERGED_POINTS) {
                    break;
                }
                chosen.push(i);
                total += n;
            }
            if chosen.len() < 2 {
                chosen.clear();
            }
            chosen
        }
    };
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}

/// Marks a merge under way ([`Inner::merging`]) until dropped.
struct Merging<'a>(&'a Inner);

impl<'a> Merging<'a> {
    fn start(inner: &'a Inner) -> Self {
        inner.merging.store(true, Ordering::Release);
        // Writers waiting for room stop waiting.
        inner.room.1.notify_all();
        Self(inner)
    }
}

impl Drop for Merging<'_> {
    fn drop(&mut self) {
        self.0.merging.store(false, Ordering::Release);
    }
}

/// Runs one merge of `plan`; false when there was nothing to merge (or the
/// merge was abandoned for a shutdown).
fn merge(inner: &Inner, plan: Plan) -> Result<bool> {
    let _one = inner.maintenance.lock();
    inner.check_live()?;
    let set = inner.segments();
    let chosen = merge_plan(&set.sealed, plan);
    if chosen.is_empty() {
        return Ok(false);
    }
    // In the set's order: where an id has two live copies, the newer
    // segment's must stay the later offset.
    let entries: Vec<SealedEntry> = chosen.iter().map(|&i| set.sealed[i].clone()).collect();
    drop(set);
    // Writers wait for a count or idle merge (their wait abandons it) but
    // not for a needed one.
    let _merging = (plan == Plan::Needed).then(|| Merging::start(inner));
    let config = inner.config.read().clone();
    let id = inner.next_segment.fetch_add(1, Ordering::AcqRel);
    let started = Instant::now();
    let sources: Vec<Source<'_>> = entries
        .iter()
        .map(|e| Source {
            points: &e.segment.points,
            live: &e.live,
        })
        .collect();
    let written = segment::write(&inner.dir.join(segment::DIR), id, &config, &sources)?;
    release_read_files(&entries);
    let cancelled = || {
        inner.signal.is_stopped()
            || (plan != Plan::Needed && inner.stalled.load(Ordering::Acquire) > 0)
    };
    let start = reusable_graph(&entries);
    let Some(sealed) =
        background::pool().install(|| written.seal(&config, start.as_deref(), &cancelled))?
    else {
        tracing::info!(
            collection = %inner.name,
            segments = entries.len(),
            seconds = started.elapsed().as_secs_f64(),
            "merge abandoned: writers need the sealer, or the server stops"
        );
        background::release_freed_memory();
        return Ok(!inner.signal.is_stopped());
    };
    let (points, oversample) = (sealed.points.len(), format!("{:?}", sealed.oversample));
    let ready = Ready::new(sealed, &config);
    background::release_freed_memory();
    {
        let _writer = inner.write_lock.lock();
        let current = inner.segments();
        let now = entries
            .iter()
            .map(|e| current_live(inner, &current, e, "a merged segment"))
            .collect::<Result<Vec<_>>>()?;
        let before: Vec<&RoaringBitmap> = entries.iter().map(|e| &*e.live).collect();
        let entry = ready.entry(inner, &before, &now);
        let mut next = (*current).clone();
        next.sealed
            .retain(|c| !entries.iter().any(|e| Arc::ptr_eq(&c.segment, &e.segment)));
        next.sealed.extend(entry);
        *inner.set.write() = Arc::new(next);
    }
    tracing::info!(
        collection = %inner.name,
        segment = id,
        merged = entries.len(),
        plan = ?plan,
        points,
        %oversample,
        seconds = started.elapsed().as_secs_f64(),
        "segments merged"
    );
    drop(entries);
    background::release_freed_memory();
    checkpoint(inner)?;
    Ok(true)
}

/// Moves the files of segments just read whole (the sources of a seal or
/// merge) out of the resident set again: until the swap, searches read a
/// few pages of them (the float layout walks its vectors, which stay).
fn release_read_files<'a>(entries: impl IntoIterator<Item = &'a SealedEntry>) {
    for e in entries {
        for store in &e.segment.points.stores {
            store.release_rerank_file();
        }
        e.segment.points.payloads.release_resident();
    }
}

/// The current deletion bitmap of `source`, a segment taken in by a seal or
/// merge (taken under the writer lock, to carry deletions made meanwhile
/// over); an internal error naming `what` if it left the set meanwhile.
fn current_live<'a>(
    inner: &Inner,
    current: &'a SegmentSet,
    source: &SealedEntry,
    what: &str,
) -> Result<&'a RoaringBitmap> {
    current
        .sealed
        .iter()
        .find(|c| Arc::ptr_eq(&c.segment, &source.segment))
        .map(|c| &*c.live)
        .ok_or_else(|| {
            internal(
                inner,
                &format!("{what} left the set while it was rewritten"),
            )
        })
}

/// The graph of a merge's largest source, renumbered as its live points'
/// offsets in the merged segment (sources are written in order, each its
/// live points in order), when few enough of its nodes were deleted
/// ([`REUSE_MIN_LIVE`]) that the links left keep it a good graph; one per
/// vector.
fn reusable_graph(sources: &[SealedEntry]) -> Option<Vec<crate::graph::FlatGraph>> {
    let largest = (0..sources.len()).max_by_key(|&i| sources[i].live.len())?;
    let (graphs, live) = (&sources[largest].segment.graphs, &sources[largest].live);
    let first: u64 = sources[..largest].iter().map(|s| s.live.len()).sum();
    graphs
        .iter()
        .map(|graph| {
            if graph.is_empty() || (live.len() as f64) < REUSE_MIN_LIVE * graph.len() as f64 {
                return None;
            }
            Some(graph.remap(|o| {
                live.contains(o)
                    .then(|| (first + live.rank(o) - 1) as crate::types::Offset)
            }))
        })
        .collect()
}

/// Writes the manifest of the current segment set, then cuts the log
/// through the records it covers and removes segment directories it does
/// not name. The caller holds the maintenance lock.
fn checkpoint(inner: &Inner) -> Result<()> {
    let (manifest, deleted) = {
        let _writer = inner.write_lock.lock();
        let set = inner.segments();
        let unsealed = !set.frozen.is_empty() || !set.appendable.read().live.is_empty();
        // Without unsealed live points, every record so far is covered.
        // Coverage never goes back: an earlier checkpoint with nothing
        // unsealed may have covered records past `sealed_lsn` (deletes of
        // sealed points), whose effects are in the sealed segments' bitmaps
        // now as then, and it cut the log through them.
        let lsn = if unsealed {
            inner.sealed_lsn.load(Ordering::Acquire)
        } else {
            inner.wal.last_lsn()
        }
        .max(inner.manifest_lsn.load(Ordering::Acquire));
        let segments = set
            .sealed
            .iter()
            .map(|e| SegmentFacts::of(&e.segment, &inner.config.read()))
            .collect();
        let deleted = set
            .sealed
            .iter()
            .map(|e| {
                let mut dead = e.segment.points.live.clone();
                dead -= &*e.live;
                dead
            })
            .collect::<Vec<_>>();
        let manifest = Manifest {
            lsn,
            next_segment: inner.next_segment.load(Ordering::Acquire),
            segments,
            payload_schema: inner.config.read().payload_schema.clone(),
        };
        (manifest, deleted)
    };
    manifest::write(&inner.dir, &manifest, &deleted)?;
    inner.manifest_lsn.store(manifest.lsn, Ordering::Release);
    inner.wal.truncate_through(manifest.lsn)?;
    remove_garbage(inner, &manifest);
    Ok(())
}

/// Removes segment directories the manifest does not name.
fn remove_garbage(inner: &Inner, manifest: &Manifest) {
    let root = inner.dir.join(segment::DIR);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let named = manifest
            .segments
            .iter()
            .any(|s| segment::path(&root, s.id) == entry.path());
        if !named && let Err(error) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!(%error, segment = name, "cannot remove an old segment");
        }
    }
}

/// An invariant of the sealer broke (a bug): reported as a storage error on
/// the collection's directory, and the step is retried.
fn internal(inner: &Inner, what: &str) -> crate::error::IndexError {
    crate::storage::StorageError::io(&inner.dir, std::io::Error::other(what.to_string())).into()
}
