//! Unit tests for the write-ahead log, on real files in a fresh temp dir.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::format::FRAME_HEADER_LEN;
use super::*;
use crate::storage::testdir::TestDir;

const NO_SYNC: WalOptions = WalOptions {
    sync: false,
    max_record_bytes: 64 << 20,
};

fn record(i: usize) -> Vec<u8> {
    // Varying lengths, including empty records.
    (0..(i * 7) % 23).map(|j| (i * 31 + j) as u8).collect()
}

/// Byte offset where each record's frame ends, given the payloads in order.
fn frame_ends(records: &[Vec<u8>]) -> Vec<u64> {
    let mut end = HEADER_LEN as u64;
    records
        .iter()
        .map(|r| {
            end += (FRAME_HEADER_LEN + r.len()) as u64;
            end
        })
        .collect()
}

fn numbered(records: &[Vec<u8>], first_lsn: u64) -> Vec<(u64, Vec<u8>)> {
    (first_lsn..).zip(records.iter().cloned()).collect()
}

fn write_log(path: &Path, records: &[Vec<u8>], options: WalOptions) {
    let (wal, rec) = Wal::open(path, options).unwrap();
    assert!(rec.records.is_empty());
    for r in records {
        wal.append(r).unwrap();
    }
}

#[test]
fn wal_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Wal>();
}

#[test]
fn append_reopen_replay_round_trip() {
    let dir = TestDir::new("wal-rt");
    let path = dir.join("wal.log");
    {
        let (wal, rec) = Wal::open(&path, WalOptions::default()).unwrap();
        assert_eq!(rec, Recovered::default());
        assert_eq!(wal.last_lsn(), 0);
        assert_eq!(wal.disk_bytes(), HEADER_LEN as u64);
        assert_eq!(wal.append(b"one").unwrap(), 1);
        assert_eq!(wal.append(b"").unwrap(), 2);
        assert_eq!(wal.append_batch(&[b"three", b"four", b"five"]).unwrap(), 5);
        assert_eq!(wal.append_batch(&[]).unwrap(), 5);
        assert_eq!(wal.last_lsn(), 5);
        assert_eq!(wal.sync_count(), 3);
        assert_eq!(wal.disk_bytes(), std::fs::metadata(&path).unwrap().len());
    }
    let (wal, rec) = Wal::open(&path, WalOptions::default()).unwrap();
    assert_eq!(rec.truncated_bytes, 0);
    let expected: Vec<Vec<u8>> = [&b"one"[..], b"", b"three", b"four", b"five"]
        .iter()
        .map(|r| r.to_vec())
        .collect();
    assert_eq!(rec.records, numbered(&expected, 1));
    assert_eq!(wal.last_lsn(), 5);
    assert_eq!(wal.append(b"six").unwrap(), 6);
}

#[test]
fn oversized_records_are_rejected_before_writing() {
    let dir = TestDir::new("wal-big");
    let path = dir.join("wal.log");
    let options = WalOptions {
        sync: false,
        max_record_bytes: 10,
    };
    let (wal, _) = Wal::open(&path, options).unwrap();
    wal.append(&[1; 10]).unwrap();
    let err = wal.append(&[1; 11]).unwrap_err();
    assert!(matches!(
        err,
        StorageError::RecordTooLarge { len: 11, max: 10 }
    ));
    assert!(wal.append_batch(&[&[2; 3], &[2; 11]]).is_err());
    assert_eq!(wal.last_lsn(), 1);
    assert_eq!(wal.append(b"ok").unwrap(), 2);
}

#[test]
fn intact_record_above_a_lowered_limit_is_not_discarded() {
    let dir = TestDir::new("wal-limit");
    let path = dir.join("wal.log");
    write_log(&path, &[vec![7; 100], vec![8; 5]], NO_SYNC);
    let before = std::fs::read(&path).unwrap();
    let lowered = WalOptions {
        sync: false,
        max_record_bytes: 50,
    };
    let err = Wal::open(&path, lowered).unwrap_err();
    assert!(
        matches!(err, StorageError::Corrupt { ref reason, .. } if reason.contains("larger limit")),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let (_, rec) = Wal::open(&path, NO_SYNC).unwrap();
    assert_eq!(rec.records.len(), 2);
}

#[test]
fn torn_tail_at_every_cut_point_recovers_the_prefix() {
    let dir = TestDir::new("wal-torn");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..10).map(record).collect();
    write_log(&path, &records, NO_SYNC);
    let full = std::fs::read(&path).unwrap();
    let ends = frame_ends(&records);
    assert_eq!(*ends.last().unwrap(), full.len() as u64);
    for cut in HEADER_LEN..full.len() {
        std::fs::write(&path, &full[..cut]).unwrap();
        let kept = ends.iter().filter(|&&e| e <= cut as u64).count();
        let valid_end = if kept == 0 {
            HEADER_LEN as u64
        } else {
            ends[kept - 1]
        };
        let (wal, rec) = Wal::open(&path, NO_SYNC).unwrap();
        assert_eq!(rec.records, numbered(&records[..kept], 1), "cut {cut}");
        assert_eq!(rec.truncated_bytes, cut as u64 - valid_end, "cut {cut}");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), valid_end);
        assert_eq!(wal.append(b"after").unwrap(), kept as u64 + 1);
        drop(wal);
        let (_, rec) = Wal::open(&path, NO_SYNC).unwrap();
        assert_eq!(rec.truncated_bytes, 0);
        assert_eq!(rec.records.len(), kept + 1);
        assert_eq!(rec.records[kept], (kept as u64 + 1, b"after".to_vec()));
    }
}

#[test]
fn torn_tail_with_sync_on() {
    let dir = TestDir::new("wal-torn-sync");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (1..6).map(record).collect();
    write_log(&path, &records, WalOptions::default());
    let len = std::fs::metadata(&path).unwrap().len();
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(len - 3).unwrap();
    drop(file);
    let (wal, rec) = Wal::open(&path, WalOptions::default()).unwrap();
    assert_eq!(rec.records, numbered(&records[..4], 1));
    assert_eq!(
        rec.truncated_bytes,
        (FRAME_HEADER_LEN + records[4].len() - 3) as u64
    );
    assert_eq!(wal.append(b"x").unwrap(), 5);
}

#[test]
fn flipped_bit_in_middle_record_is_refused_until_repaired() {
    let dir = TestDir::new("wal-flip");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..5).map(|i| vec![i as u8 + 1; 12]).collect();
    write_log(&path, &records, NO_SYNC);
    let full = std::fs::read(&path).unwrap();
    let ends = frame_ends(&records);
    // Every byte of the third frame: len, lsn, crc and payload.
    for at in ends[1] as usize..ends[2] as usize {
        let mut damaged = full.clone();
        damaged[at] ^= 1 << (at % 8);
        std::fs::write(&path, &damaged).unwrap();
        let err = Wal::open(&path, NO_SYNC).expect_err("damage followed by intact records");
        let message = err.to_string();
        assert!(
            matches!(err, StorageError::Corrupt { .. }) && message.contains("record 3 "),
            "flip at {at}: {message}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), damaged, "nothing cut");
        // The operator's explicit choice: the intact prefix.
        let cut = Wal::cut_at_damage(&path, &NO_SYNC).unwrap();
        assert_eq!(cut, full.len() as u64 - ends[1]);
        let (wal, rec) = Wal::open(&path, NO_SYNC).unwrap();
        assert_eq!(rec.records, numbered(&records[..2], 1), "flip at {at}");
        assert_eq!(rec.truncated_bytes, 0);
        assert_eq!(wal.append(b"new third").unwrap(), 3);
    }
}

#[test]
fn a_complete_last_record_with_a_bad_checksum_is_refused() {
    let dir = TestDir::new("wal-flip-last");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8 + 1; 12]).collect();
    write_log(&path, &records, NO_SYNC);
    let mut damaged = std::fs::read(&path).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x10;
    std::fs::write(&path, &damaged).unwrap();
    let err = Wal::open(&path, NO_SYNC).expect_err("a complete record is not a torn write");
    assert!(err.to_string().contains("record 3 "), "{err}");
}

#[test]
fn zeros_after_the_last_record_are_a_torn_tail() {
    let dir = TestDir::new("wal-zeros");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..3).map(|i| vec![i as u8 + 1; 12]).collect();
    write_log(&path, &records, NO_SYNC);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(&path, &bytes).unwrap();
    let (_, rec) = Wal::open(&path, NO_SYNC).unwrap();
    assert_eq!(rec.records, numbered(&records, 1));
    assert_eq!(rec.truncated_bytes, 4096);
}

#[test]
fn corrupt_header_is_an_error_and_leaves_the_file() {
    let dir = TestDir::new("wal-header");
    let path = dir.join("wal.log");
    write_log(&path, &[b"a".to_vec()], NO_SYNC);
    let full = std::fs::read(&path).unwrap();
    for at in [0, 9, 14, 21] {
        let mut damaged = full.clone();
        damaged[at] ^= 0x40;
        std::fs::write(&path, &damaged).unwrap();
        let err = Wal::open(&path, NO_SYNC).unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), damaged);
    }
    std::fs::write(&path, &full[..HEADER_LEN - 1]).unwrap();
    let err = Wal::open(&path, NO_SYNC).unwrap_err();
    assert!(err.to_string().contains("shorter than its"), "{err}");
}

#[test]
fn truncate_through_then_reopen_keeps_later_records_and_lsns() {
    let dir = TestDir::new("wal-trunc");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..10).map(record).collect();
    {
        let (wal, _) = Wal::open(&path, WalOptions::default()).unwrap();
        for r in &records {
            wal.append(r).unwrap();
        }
        let before = wal.disk_bytes();
        wal.truncate_through(4).unwrap();
        assert!(wal.disk_bytes() < before);
        assert_eq!(wal.disk_bytes(), std::fs::metadata(&path).unwrap().len());
        assert_eq!(wal.last_lsn(), 10);
        wal.truncate_through(3).unwrap(); // below the base: no-op
        assert_eq!(wal.append(b"eleven").unwrap(), 11);
    }
    assert!(!tmp_path(&path).exists());
    let mut expected = numbered(&records[4..], 5);
    expected.push((11, b"eleven".to_vec()));
    {
        let (wal, rec) = Wal::open(&path, WalOptions::default()).unwrap();
        assert_eq!(rec.records, expected);
        assert_eq!(rec.truncated_bytes, 0);
        wal.truncate_through(100).unwrap(); // clamped to the last record
        assert_eq!(wal.disk_bytes(), HEADER_LEN as u64);
    }
    let (wal, rec) = Wal::open(&path, WalOptions::default()).unwrap();
    assert!(rec.records.is_empty());
    assert_eq!(wal.last_lsn(), 11);
    assert_eq!(wal.append(b"twelve").unwrap(), 12);
}

#[test]
fn truncate_through_concurrent_with_appends() {
    let dir = TestDir::new("wal-trunc-conc");
    let path = dir.join("wal.log");
    let (wal, _) = Wal::open(&path, NO_SYNC).unwrap();
    let wal = Arc::new(wal);
    let appenders: Vec<_> = (0..4)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                (0..150)
                    .map(|i| {
                        let payload = format!("t{t}-{i}").into_bytes();
                        (wal.append(&payload).unwrap(), payload)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut truncated = 0;
    for _ in 0..30 {
        truncated = wal.last_lsn().saturating_sub(5).max(truncated);
        wal.truncate_through(truncated).unwrap();
        std::thread::yield_now();
    }
    let mut appended = BTreeMap::new();
    for h in appenders {
        appended.extend(h.join().unwrap());
    }
    drop(wal);
    let (_, rec) = Wal::open(&path, NO_SYNC).unwrap();
    let expected: Vec<_> = appended
        .into_iter()
        .filter(|(lsn, _)| *lsn > truncated)
        .collect();
    assert_eq!(rec.records, expected);
    assert_eq!(rec.records.last().map(|r| r.0), Some(600));
}

#[test]
fn group_commit_shares_fsyncs() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 200;
    let dir = TestDir::new("wal-group");
    let path = dir.join("wal.log");
    let (wal, _) = Wal::open(&path, WalOptions::default()).unwrap();

    // One thread alone: one fsync per append.
    let solo = Instant::now();
    for i in 0..50 {
        wal.append(&record(i)).unwrap();
    }
    let solo_rate = 50.0 / solo.elapsed().as_secs_f64();
    drop(wal);
    std::fs::remove_file(&path).unwrap();

    let (wal, _) = Wal::open(&path, WalOptions::default()).unwrap();
    let wal = Arc::new(wal);
    let start = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let wal = Arc::clone(&wal);
            std::thread::spawn(move || {
                let mut last = 0;
                let mut out = Vec::with_capacity(PER_THREAD);
                for i in 0..PER_THREAD {
                    let payload = format!("thread {t} record {i}").into_bytes();
                    let lsn = wal.append(&payload).unwrap();
                    assert!(lsn > last, "lsns grow within a thread");
                    last = lsn;
                    out.push((lsn, payload));
                }
                out
            })
        })
        .collect();
    let mut appended = BTreeMap::new();
    for h in handles {
        appended.extend(h.join().unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = (THREADS * PER_THREAD) as u64;
    let syncs = wal.sync_count();
    println!(
        "wal append throughput, sync on: 1 thread {solo_rate:.0}/s; {THREADS} threads {:.0}/s ({total} appends, {syncs} fsyncs, {:.1} appends per fsync)",
        total as f64 / elapsed,
        total as f64 / syncs as f64
    );
    assert_eq!(
        appended.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    assert!(syncs < total, "{syncs} fsyncs for {total} appends");
    assert_eq!(wal.last_lsn(), total);
    drop(wal);
    let (_, rec) = Wal::open(&path, WalOptions::default()).unwrap();
    assert_eq!(rec.records, appended.into_iter().collect::<Vec<_>>());
}

#[test]
fn second_open_of_the_same_log_fails() {
    let dir = TestDir::new("wal-lock");
    let path = dir.join("wal.log");
    let (wal, _) = Wal::open(&path, NO_SYNC).unwrap();
    let err = Wal::open(&path, NO_SYNC).unwrap_err();
    assert!(
        matches!(err, StorageError::Io { ref source, .. } if source.kind() == std::io::ErrorKind::WouldBlock),
        "{err}"
    );
    // Still locked after a rewrite replaced the file.
    wal.append(b"a").unwrap();
    wal.truncate_through(1).unwrap();
    assert!(Wal::open(&path, NO_SYNC).is_err());
    drop(wal);
    Wal::open(&path, NO_SYNC).unwrap();
}

#[test]
fn stale_tmp_file_is_removed_on_open() {
    let dir = TestDir::new("wal-tmp");
    let path = dir.join("wal.log");
    write_log(&path, &[b"kept".to_vec()], NO_SYNC);
    std::fs::write(tmp_path(&path), b"half-written rewrite").unwrap();
    let (_, rec) = Wal::open(&path, NO_SYNC).unwrap();
    assert_eq!(rec.records, vec![(1, b"kept".to_vec())]);
    assert!(!tmp_path(&path).exists());
}

#[test]
fn missing_directory_is_an_io_error() {
    let dir = TestDir::new("wal-nodir");
    let err = Wal::open(&dir.join("absent/wal.log"), NO_SYNC).unwrap_err();
    assert!(matches!(err, StorageError::Io { .. }), "{err}");
}

#[test]
fn a_base_lsn_without_room_for_records_is_corrupt() {
    // Found by fuzz/wal_replay: a checksummed header with base u64::MAX
    // overflowed the next lsn.
    let dir = TestDir::new("wal-base-max");
    let path = dir.join("wal.log");
    for base in [u64::MAX, u64::MAX / 2 + 1] {
        std::fs::write(&path, super::format::encode_header(base)).unwrap();
        let err = Wal::open(&path, NO_SYNC).unwrap_err();
        assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    }
    std::fs::write(&path, super::format::encode_header(u64::MAX / 2)).unwrap();
    let (wal, _) = Wal::open(&path, NO_SYNC).unwrap();
    assert_eq!(wal.append(b"x").unwrap(), u64::MAX / 2 + 1);
}

#[test]
fn a_copy_holds_exactly_the_records_after_the_given_lsn() {
    let dir = TestDir::new("wal-copy");
    let path = dir.join("wal.log");
    let records: Vec<Vec<u8>> = (0..12).map(record).collect();
    let (wal, _) = Wal::open(&path, NO_SYNC).unwrap();
    for r in &records {
        wal.append(r).unwrap();
    }
    wal.truncate_through(3).unwrap();
    let copy = dir.join("copy.log");
    assert_eq!(wal.copy_after(7, &copy).unwrap(), 12);
    let (copied, rec) = Wal::open(&copy, NO_SYNC).unwrap();
    assert_eq!(rec.base_lsn, 7);
    assert_eq!(rec.records, numbered(&records[7..], 8));
    assert_eq!(copied.last_lsn(), 12);
    // The whole log, from its base.
    let whole = dir.join("whole.log");
    assert_eq!(wal.copy_after(3, &whole).unwrap(), 12);
    let (_, rec) = Wal::open(&whole, NO_SYNC).unwrap();
    assert_eq!(rec.records, numbered(&records[3..], 4));
    // Records the log no longer holds cannot be copied, and nothing is written.
    let gone = dir.join("gone.log");
    assert!(wal.copy_after(2, &gone).is_err());
    assert!(!gone.exists());
    // The log itself is untouched and takes appends.
    assert_eq!(wal.append(b"after").unwrap(), 13);
}
