//! The checks once no writer is left: the count, every point, exact searches
//! against brute force over the model, recall of approximate ones.

use std::collections::BTreeMap;

use trawl_index::{Collection, IndexError, Payload, PointId, ScoredPoint};

use crate::common::Rng;
use crate::search::{Search, check_hits, query};
use crate::world::{World, close, same_vector};
use crate::{LIMIT, MIN_RECALL, QUERIES, mix};

/// A live point of the model: id, vector as stored, payload.
type Point = (u64, Vec<f64>, Payload);

pub fn check_settled(world: &World, c: &Collection, model: &BTreeMap<u64, u64>, stage: &str) {
    let ctx = format!("{} seed {:#x}, {stage}", world.sc.name, world.seed);
    assert_eq!(c.len(), model.len(), "{ctx}: len() against the model");
    for id in 0..world.sc.ids() {
        let got = c.get(&PointId::Num(id));
        let want = model.get(&id).copied();
        let ok = match (&got, want) {
            (Ok((vector, payload)), Some(v)) => {
                payload.as_ref() == Some(&world.payload(id, v))
                    && same_vector(vector, &world.stored(id, v))
            }
            (Err(IndexError::PointNotFound(_)), None) => true,
            _ => false,
        };
        assert!(
            ok,
            "{ctx}: get of id {id} answered {:?}, the model has {}; {}",
            got.map(|(_, p)| p),
            want.map_or("it deleted".into(), |v| format!("v{v}")),
            world.describe(id)
        );
    }
    let points: Vec<Point> = model
        .iter()
        .map(|(&id, &v)| (id, world.stored(id, v), world.payload(id, v)))
        .collect();
    let mut rng = Rng(mix(world.seed ^ 0x5e77) | 1);
    let filters = std::iter::once(("none", None))
        .chain(world.filters.iter().map(|(name, f)| (*name, Some(f))));
    for (name, filter) in filters {
        let matching: Vec<Point> = points
            .iter()
            .filter(|(id, _, p)| filter.is_none_or(|f| f.matches(&PointId::Num(*id), Some(p))))
            .cloned()
            .collect();
        let (mut found, mut wanted) = (0, 0);
        for q in 0..QUERIES {
            let vector = world.random_query(&mut rng);
            let truth = brute_force(world, &matching, &vector);
            let tick = world.tick();
            let search = Search {
                what: format!("{ctx}: query {q}, filter {name}"),
                vector: &vector,
                filter,
                limit: LIMIT,
                with_vector: false,
                start: tick,
                end: tick,
            };
            let what = &search.what;
            let exact = c.search(&query(&vector, filter, LIMIT, true, false));
            let exact = exact.unwrap_or_else(|e| panic!("{what}: exact search: {e}"));
            check_hits(world, &search, &exact);
            assert_same_top(what, &exact, &truth);
            let approximate = c.search(&query(&vector, filter, LIMIT, false, false));
            let approximate =
                approximate.unwrap_or_else(|e| panic!("{what}: approximate search: {e}"));
            check_hits(world, &search, &approximate);
            wanted += truth.len();
            found += approximate
                .iter()
                .filter(|h| truth.iter().any(|t| h.id == PointId::Num(t.0)))
                .count();
        }
        world.assert_no_failures();
        let recall = found as f64 / wanted.max(1) as f64;
        println!(
            "{ctx}: filter {name:>10} ({:>4} points): recall@{LIMIT} {recall:.3}",
            matching.len()
        );
        assert!(
            recall >= MIN_RECALL,
            "{ctx}: filter {name}: recall@{LIMIT} {recall:.3} < {MIN_RECALL}"
        );
    }
}

/// The top [`LIMIT`] of `points` for `query`, best first.
fn brute_force(world: &World, points: &[Point], query: &[f32]) -> Vec<(u64, f64)> {
    let mut scored: Vec<(u64, f64)> = points
        .iter()
        .map(|(id, v, _)| (*id, world.score(query, v)))
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(LIMIT);
    scored
}

/// An exact search's results are brute force's (but for ties at the cut).
fn assert_same_top(what: &str, got: &[ScoredPoint], truth: &[(u64, f64)]) {
    let ids: Vec<PointId> = got.iter().map(|h| h.id.clone()).collect();
    let scores: Vec<f32> = got.iter().map(|h| h.score).collect();
    assert_eq!(
        got.len(),
        truth.len(),
        "{what}: exact search {ids:?}, brute force {truth:?}"
    );
    let Some(&(_, last)) = truth.last() else {
        return;
    };
    for (rank, (hit, &(id, score))) in got.iter().zip(truth).enumerate() {
        let same = hit.id == PointId::Num(id) || close(score, last);
        assert!(
            same && close(f64::from(hit.score), score),
            "{what}: rank {rank}: exact search {ids:?} (scores {scores:?}), brute force {truth:?}"
        );
    }
}
