//! Searcher threads and the checks of what they read while writers run.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use trawl_index::filter::{Filter, FilterLimits};
use trawl_index::{Collection, IndexError, PointId, ScoredPoint, SearchQuery};

use crate::common::Rng;
use crate::world::{World, close, same_vector, version_of};
use crate::{Counts, LIMITS, SNAPSHOT_EVERY, mix};

/// Records a failure if a searcher thread panics: the writers wait for the
/// searchers, and must not wait forever.
struct Guard<'a>(&'a World);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail("panicked".into());
        }
    }
}

/// Searches, reads and snapshots until the writers are done.
pub fn search_loop(
    world: &World,
    c: &Collection,
    index: u64,
    writers: &AtomicUsize,
    counts: &Counts,
) {
    let _guard = Guard(world);
    let mut rng = Rng(mix(world.seed ^ (0x5ea7 + index)) | 1);
    while writers.load(Ordering::SeqCst) > 0 && !world.stopped() {
        let roll = rng.next() % 20;
        if index == 0 && rng.next().is_multiple_of(SNAPSHOT_EVERY) {
            if let Err(e) = c.snapshot() {
                world.fail(format!("snapshot: {e}"));
            }
            Counts::add(&counts.snapshots);
        } else if roll < 6 {
            search_once(world, c, &mut rng, true);
            Counts::add(&counts.exact);
        } else if roll < 17 {
            search_once(world, c, &mut rng, false);
            Counts::add(&counts.approximate);
        } else {
            read_once(world, c, &mut rng);
            Counts::add(&counts.searcher_gets);
        }
        world.searched();
    }
}

pub fn query<'a>(
    vector: &'a [f32],
    filter: Option<&'a Filter>,
    limit: usize,
    exact: bool,
    with_vector: bool,
) -> SearchQuery<'a> {
    SearchQuery {
        using: "",
        vector,
        filter,
        filter_limits: FilterLimits::default(),
        limit,
        ef: None,
        exact,
        oversample: None,
        rerank: true,
        with_payload: true,
        with_vector,
    }
}

/// A search, what it asked and the ticks it ran between.
pub struct Search<'a> {
    pub what: String,
    pub vector: &'a [f32],
    pub filter: Option<&'a Filter>,
    pub limit: usize,
    pub with_vector: bool,
    pub start: u64,
    pub end: u64,
}

/// One search while the writers run, and its checks.
fn search_once(world: &World, c: &Collection, rng: &mut Rng, exact: bool) {
    let vector = world.random_query(rng);
    let pick = rng.next() as usize % (world.filters.len() + 2);
    let (name, filter) = match world.filters.get(pick) {
        Some((name, f)) => (*name, Some(f)),
        None => ("none", None),
    };
    let limit = LIMITS[rng.next() as usize % LIMITS.len()];
    let with_vector = rng.next().is_multiple_of(4);
    let start = world.tick();
    let result = c.search(&query(&vector, filter, limit, exact, with_vector));
    let end = world.tick();
    let search = Search {
        what: format!(
            "{} search, limit {limit}, filter {name}, ticks {start}..{end}",
            if exact { "exact" } else { "approximate" }
        ),
        vector: &vector,
        filter,
        limit,
        with_vector,
        start,
        end,
    };
    let hits = match result {
        Ok(hits) => hits,
        Err(e) => return world.fail(format!("{}: {e}", search.what)),
    };
    check_hits(world, &search, &hits);
    if filter.is_none() && hits.len() != limit {
        // Writers keep a quarter of their ids at least: never fewer points than `limit`.
        world.fail(format!("{}: {} results", search.what, hits.len()));
    }
    if exact {
        check_complete(world, &search, &hits);
    }
}

/// Checks each result on its own: a unique id, the payload and score of the
/// version it names, a version the id may hold while the search ran.
pub fn check_hits(world: &World, search: &Search<'_>, hits: &[ScoredPoint]) {
    let what = &search.what;
    if hits.len() > search.limit {
        world.fail(format!("{what}: {} results", hits.len()));
    }
    let mut seen = HashSet::new();
    for (rank, hit) in hits.iter().enumerate() {
        let fail = |message: String| world.fail(format!("{what}: result {rank}: {message}"));
        let id = match &hit.id {
            &PointId::Num(id) if id < world.sc.ids() => id,
            other => return fail(format!("id {other:?} was never written")),
        };
        if !seen.insert(id) {
            fail(format!("id {id} twice in one result"));
        }
        if rank > 0 && hit.score > hits[rank - 1].score {
            fail(format!(
                "score {} after {}",
                hit.score,
                hits[rank - 1].score
            ));
        }
        let Some(version) = version_of(hit.payload.as_ref()) else {
            fail(format!(
                "id {id}: payload {:?} has no version (every write gives one); {}",
                hit.payload,
                world.describe(id)
            ));
            continue;
        };
        if hit.payload.as_ref() != Some(&world.payload(id, version)) {
            fail(format!(
                "id {id}: payload {:?} is not version {version}'s",
                hit.payload
            ));
        }
        if search
            .filter
            .is_some_and(|f| !f.matches(&hit.id, hit.payload.as_ref()))
        {
            fail(format!(
                "id {id}: payload {:?} fails the filter",
                hit.payload
            ));
        }
        let stored = world.stored(id, version);
        let want = world.score(search.vector, &stored);
        if !close(f64::from(hit.score), want) {
            fail(format!(
                "id {id} v{version}: score {}, but v{version}'s vector scores {want}",
                hit.score
            ));
        }
        if search.with_vector && !hit.vector.as_ref().is_some_and(|v| same_vector(v, &stored)) {
            fail(format!("id {id}: the vector returned is not v{version}'s"));
        }
        if !world.admits(id, Some(version), search.start, search.end) {
            fail(format!(
                "id {id} v{version} was not live then (a stale version, or a delete undone); {}",
                world.describe(id)
            ));
        }
    }
}

/// An exact search holds every point that no write touched while it ran,
/// that matches and that scores better than its last result (every such
/// point when it came back short): else a point was lost.
fn check_complete(world: &World, search: &Search<'_>, hits: &[ScoredPoint]) {
    let found: HashSet<PointId> = hits.iter().map(|h| h.id.clone()).collect();
    let last = match hits.last() {
        Some(h) if hits.len() == search.limit => Some(f64::from(h.score)),
        _ => None,
    };
    for id in 0..world.sc.ids() {
        if found.contains(&PointId::Num(id)) {
            continue;
        }
        let Some(Some(version)) = world.settled(id, search.start, search.end) else {
            continue;
        };
        let score = world.score(search.vector, &world.stored(id, version));
        if last.is_some_and(|last| score <= last || close(score, last)) {
            continue;
        }
        let payload = world.payload(id, version);
        if search
            .filter
            .is_some_and(|f| !f.matches(&PointId::Num(id), Some(&payload)))
        {
            continue;
        }
        return world.fail(format!(
            "{}: id {id} v{version} (score {score}) is missing from {} results, the last scoring {last:?}; {}",
            search.what,
            hits.len(),
            world.describe(id)
        ));
    }
}

/// One read of a random id while the writers run.
fn read_once(world: &World, c: &Collection, rng: &mut Rng) {
    let id = rng.next() % world.sc.ids();
    let start = world.tick();
    let got = c.get(&PointId::Num(id));
    let end = world.tick();
    let what = format!("get of id {id}, ticks {start}..{end}");
    let state = match &got {
        Ok((vector, payload)) => {
            let Some(version) = version_of(payload.as_ref()) else {
                return world.fail(format!("{what}: payload {payload:?} has no version"));
            };
            if payload.as_ref() != Some(&world.payload(id, version))
                || !same_vector(vector, &world.stored(id, version))
            {
                return world.fail(format!(
                    "{what}: vector or payload {payload:?} is not version {version}'s"
                ));
            }
            Some(version)
        }
        Err(IndexError::PointNotFound(_)) => None,
        Err(e) => return world.fail(format!("{what}: {e}")),
    };
    if !world.admits(id, state, start, end) {
        world.fail(format!(
            "{what}: {} cannot be its state then; {}",
            state.map_or("not found".into(), |v| format!("v{v}")),
            world.describe(id)
        ));
    }
}
