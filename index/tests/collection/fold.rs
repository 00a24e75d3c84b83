//! Seals that take in the newest sealed segment: a load sealed in steps
//! ends as one segment whose graph was built once.

use trawl_index::{Collection, PointId, SealPolicy};

use super::common::{Rng, TempDir};
use super::{config, points, query, wal};

#[test]
fn a_seal_takes_in_the_small_segment_before_it_and_keeps_what_it_deleted() {
    let seed = 0x5eed_0f01;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("fold");
    let path = dir.0.join("docs");
    let policy = SealPolicy {
        points: 3_000,
        ..SealPolicy::default()
    };
    let c = Collection::create_with("docs", &path, config(), wal(), policy).unwrap();
    // Past the exact-scan threshold (4,096) once folded: searches walk the graph.
    let all = points(6_300, &mut rng);
    c.upsert(all[..3_000].to_vec()).unwrap();
    c.wait_indexed();
    assert_eq!((c.stats().segments, c.stats().indexed), (1, 3_000));
    // Deleted from the segment before the fold: they stay deleted in the
    // segment that takes it in.
    let gone: Vec<PointId> = (0..20).map(PointId::Num).collect();
    c.delete(&gone).unwrap();

    // As many points again: one segment of both.
    c.upsert(all[3_000..6_000].to_vec()).unwrap();
    c.wait_indexed();
    let stats = c.stats();
    assert_eq!(
        (
            stats.segments,
            stats.points,
            stats.indexed,
            stats.tombstones
        ),
        (1, 5_980, 5_980, 0)
    );

    // Far fewer than a quarter of it: a segment of their own.
    c.upsert(all[6_000..6_300].to_vec()).unwrap();
    c.wait_indexed();
    assert_eq!((c.stats().segments, c.stats().points), (2, 6_280));

    // The folded segment's points and the new ones are reached through the
    // graph (each its own nearest neighbour for nearly all), the deleted
    // never; the same after a reopen.
    let probe = |c: &Collection| {
        let mut found = 0;
        for p in all.iter().step_by(7) {
            let hits = c.search(&query(&p.vector, None, 5, false)).unwrap();
            assert!(
                hits.iter().all(|h| !gone.contains(&h.id)),
                "a deleted point served"
            );
            found += usize::from(hits.first().is_some_and(|h| h.id == p.id));
        }
        let asked = all
            .iter()
            .step_by(7)
            .filter(|p| !gone.contains(&p.id))
            .count();
        assert!(
            found * 100 >= asked * 97,
            "the graph finds {found} of {asked}"
        );
    };
    probe(&c);
    c.close();
    drop(c);
    let c = Collection::open_with("docs", &path, wal(), policy).unwrap();
    let stats = c.stats();
    assert_eq!(
        (stats.segments, stats.points, stats.indexed),
        (2, 6_280, 6_280)
    );
    probe(&c);
    // Only the two segments' directories are left.
    let dirs = std::fs::read_dir(path.join("segments")).unwrap().count();
    assert_eq!(dirs, 2);
}

#[test]
fn without_folding_every_seal_is_a_segment_of_its_own() {
    let mut rng = Rng(0x5eed_0f02);
    let dir = TempDir::new("no-fold");
    let policy = SealPolicy {
        points: 1_000,
        fold_ratio: 0,
        ..SealPolicy::default()
    };
    let c = Collection::create_with("docs", &dir.0.join("docs"), config(), wal(), policy).unwrap();
    let all = points(2_000, &mut rng);
    for chunk in all.chunks(1_000) {
        c.upsert(chunk.to_vec()).unwrap();
        c.wait_indexed();
    }
    assert_eq!((c.stats().segments, c.stats().points), (2, 2_000));
}
