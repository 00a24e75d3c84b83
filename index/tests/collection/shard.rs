//! A collection as a shard: records applied at the indexes of a log it does
//! not own, sealed and checkpointed as any collection, and after a reopen
//! the entries past its manifest applied again (those before skipped).

use trawl_index::{Collection, PointId, SealPolicy};

use super::common::{Rng, TempDir};
use super::{config, points, query, wal};

#[test]
fn a_shard_applies_records_at_log_indexes_and_resumes_after_its_manifest() {
    let seed = 0x5eed_5a4d;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("shard");
    let path = dir.0.join("shard");
    let policy = SealPolicy {
        points: 500,
        ..SealPolicy::default()
    };
    let all = points(1_200, &mut rng);
    let shard = Collection::create_shard("shard", &path, config(), policy).unwrap();
    assert!(shard.is_shard());
    // What a leader proposes: checked and encoded, not applied.
    let bad = {
        let mut p = all[0].clone();
        p.vector.pop();
        p
    };
    assert!(
        shard.upsert_records(vec![bad]).is_err(),
        "a short vector is refused before it is logged"
    );
    // The log of a shard is a Raft log: its own write path refuses.
    assert!(shard.upsert(all[..1].to_vec()).is_err());
    assert!(
        !path.join("wal.log").exists(),
        "a shard keeps no log of its own"
    );

    // The log: records at 2, 4, 5, 7 and a deletion at 9 (blank and
    // membership entries between, which hold no record).
    let record = |points: &[trawl_index::PointWrite]| {
        let mut records = shard.upsert_records(points.to_vec()).unwrap();
        assert_eq!(records.len(), 1, "200 small points make one record");
        records.remove(0)
    };
    let mut log: Vec<(u64, Vec<u8>)> = [2, 4, 5, 7]
        .into_iter()
        .zip(all[..800].chunks(200))
        .map(|(lsn, chunk)| (lsn, record(chunk)))
        .collect();
    let gone: Vec<PointId> = (0..30).map(PointId::Num).collect();
    log.push((9, shard.delete_record(&gone)));
    let index = 9;
    for (lsn, record) in &log {
        assert!(shard.apply_logged(*lsn, record).unwrap());
    }
    // Entries are applied once: the same indexes again change nothing.
    for (lsn, record) in &log {
        assert!(!shard.apply_logged(*lsn, record).unwrap());
    }
    shard.advance_applied(index + 1).unwrap();
    assert_eq!(shard.applied_lsn(), index + 1);
    assert_eq!(shard.len(), 770);
    // Sealed and checkpointed: the manifest covers the whole log.
    shard.wait_indexed();
    assert_eq!(shard.durable_lsn(), index + 1);
    assert_eq!(shard.stats().indexed, 770);

    // Past the manifest: 400 more points at the next index, not yet sealed.
    let tail = record(&all[800..]);
    let tail_lsn = index + 2;
    assert!(shard.apply_logged(tail_lsn, &tail).unwrap());
    assert_eq!(shard.len(), 1_170);
    shard.close();
    drop(shard);

    // Reopened: what the manifest covers, without the tail (the Raft log
    // applies it again), then with it.
    let shard = Collection::open_shard("shard", &path, policy).unwrap();
    assert_eq!(shard.applied_lsn(), index + 1);
    assert_eq!(shard.len(), 770);
    for (lsn, record) in &log {
        assert!(
            !shard.apply_logged(*lsn, record).unwrap(),
            "entry {lsn} applied twice"
        );
    }
    assert!(shard.apply_logged(tail_lsn, &tail).unwrap());
    assert_eq!(shard.len(), 1_170);
    for p in all.iter().step_by(11) {
        let hits = shard.search(&query(&p.vector, None, 3, false)).unwrap();
        if gone.contains(&p.id) {
            assert!(
                hits.iter().all(|h| h.id != p.id),
                "deleted {:?} served",
                p.id
            );
        } else {
            assert_eq!(hits[0].id, p.id, "{:?} is its own nearest neighbour", p.id);
        }
    }

    // A collection with its own log is not a shard.
    let single = Collection::create("single", &dir.0.join("single"), config(), wal()).unwrap();
    assert!(!single.is_shard());
    assert!(single.apply_logged(1, &log[0].1).is_err());
}
