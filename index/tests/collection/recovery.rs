//! Crash recovery: leftovers of a seal the manifest never named, and a
//! manifest that must never cover less of the log than it did.

use super::*;

/// A crash after a segment was sealed and renamed into place but before the
/// first manifest named it leaves segments, no manifest, and a log never
/// cut: the collection opens from its log with every point (the segments
/// are leftovers), instead of being refused as damaged.
#[test]
fn segments_sealed_before_the_first_manifest_are_leftovers_after_a_crash() {
    let seed = 0x5eed_0009;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("no-manifest");
    let batch = points(300, &mut rng);
    // A donor of sealed segment directories.
    let donor = Collection::create("donor", &dir.0.join("donor"), config(), wal()).unwrap();
    donor.upsert(batch.clone()).unwrap();
    donor.wait_indexed();
    donor.close();
    drop(donor);
    // The same points only in the log: the sealer stopped before it ran.
    let path = dir.0.join("docs");
    let c = Collection::create("docs", &path, config(), wal()).unwrap();
    c.close();
    c.upsert(batch.clone()).unwrap();
    drop(c);
    assert!(!path.join("manifest.bin").exists());
    copy_dir(&dir.0.join("donor/segments"), &path.join("segments"));

    let c = Collection::open("docs", &path, wal()).unwrap();
    assert_eq!(c.stats().points, 300);
    for p in &batch[..50] {
        let hits = c.search(&query(&p.vector, None, 1, true)).unwrap();
        assert_eq!(hits[0].id, p.id);
    }
    // The next checkpoint seals the log's points and drops the leftovers.
    c.wait_indexed();
    assert_eq!(c.stats().points, 300);
    // The optimiser may still hold the collection (an idle merge): stop it
    // before opening the files again, as every other reopen here does.
    c.close();
    drop(c);
    let c = Collection::open("docs", &path, wal()).unwrap();
    assert_eq!(c.stats().points, 300);
}

/// Waits until the optimiser has nothing left to do (at most 60 s).
fn settled(c: &Collection) {
    let started = std::time::Instant::now();
    while c.stats().optimizing || c.stats().tombstones > 0 {
        assert!(started.elapsed().as_secs() < 60, "not settled within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A checkpoint taken with nothing unsealed covers the whole log, deletes
/// included; a later one taken while new points wait unsealed (a vacuum
/// merge during writes) must not cover less, or the manifest on disk ends
/// before the log it cut begins and the collection is refused as damaged at
/// the next start (seen after `kill -9` in the end-to-end crash test).
#[test]
fn a_later_checkpoint_never_covers_less_of_the_log() {
    let seed = 0x5eed_0013;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("monotonic-manifest");
    let policy = trawl_index::SealPolicy {
        points: 2_000,
        bytes: 1 << 30,
        fold_ratio: trawl_index::FOLD_RATIO,
    };
    let path = dir.0.join("docs");
    let c = Collection::create_with("docs", &path, config(), wal(), policy).unwrap();
    let all = points(501, &mut rng);
    c.upsert(all[..500].to_vec()).unwrap();
    c.wait_indexed();
    // Deletes of sealed points leave nothing unsealed: the vacuum's
    // checkpoint covers the whole log, the delete record included.
    let first: Vec<PointId> = all[..150].iter().map(|p| p.id.clone()).collect();
    c.delete(&first).unwrap();
    settled(&c);
    // A new point waits unsealed while more deletes start another vacuum.
    c.upsert(all[500..].to_vec()).unwrap();
    let second: Vec<PointId> = all[150..300].iter().map(|p| p.id.clone()).collect();
    c.delete(&second).unwrap();
    // Stop right after that vacuum's checkpoint, before the idle seal of the
    // new point writes another one: as a crash there would.
    let started = std::time::Instant::now();
    while c.stats().tombstones > 0 {
        assert!(started.elapsed().as_secs() < 60, "no vacuum within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(c.stats().unsealed, 1, "the new point is still unsealed");
    c.close();
    drop(c);
    let c = Collection::open("docs", &path, wal()).unwrap();
    assert_eq!(c.stats().points, 201);
    let last = &all[500];
    let hits = c.search(&query(&last.vector, None, 1, true)).unwrap();
    assert_eq!(hits[0].id, last.id);
}
