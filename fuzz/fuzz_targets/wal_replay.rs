//! Arbitrary bytes as a write-ahead log: recovery with the real
//! `trawl_index::storage::Wal`, and replay by a real `Collection`.
//!
//! Input: `[mode][limit][rest]`. `limit` below 128 opens with the default
//! record limit, else with `(limit - 128) * 8` bytes.
//!
//! - mode 0, raw: `rest` is the log file. `Wal::open` may refuse it (the file
//!   must then be untouched) or recover: lsns consecutive, the file cut to a
//!   prefix of itself by exactly `truncated_bytes`, a second open finds the
//!   same records and nothing to cut, and the next append continues the lsns.
//! - mode 1, damage: `rest` is `[kind][offset: u16 LE][mask][records]`, records
//!   `[len: u16 LE][bytes]`. The records are appended with `Wal::append`, the
//!   file is then truncated at, flipped at (xor `mask`) or extended after
//!   `offset`; recovery must return a prefix of the records, holding at least
//!   (for a cut, exactly) those that end before the damage, or refuse the file;
//!   it must refuse when the damage hit the header, an intact record exceeds
//!   the limit, or a flipped record has intact records after it (corruption,
//!   never cut as a torn tail).
//! - mode 2, collection: the records of mode 1, undamaged, are the log of a
//!   float (even `limit`) or multivector (odd) collection: `Collection::open`
//!   decodes and applies them, and must not panic whatever they hold; a
//!   collection that opens reopens with the same number of points.

#![no_main]

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use trawl_fuzz::fixture;
use trawl_fuzz::scratch::Dir;
use trawl_index::storage::{Recovered, Wal, WalOptions};
use trawl_index::{Collection, Layout, Metric};

fuzz_target!(|data: &[u8]| {
    let (Some(&mode), Some(&limit)) = (data.first(), data.get(1)) else {
        return;
    };
    let options = WalOptions {
        sync: false,
        max_record_bytes: if limit < 128 {
            WalOptions::default().max_record_bytes
        } else {
            usize::from(limit - 128) * 8
        },
    };
    let rest = &data[2..];
    match mode % 3 {
        0 => raw(rest, &options),
        1 => damaged(rest, &options),
        _ => collection(rest, limit % 2 == 1),
    }
});

fn raw(file: &[u8], options: &WalOptions) {
    let dir = Dir::new("wal");
    let path = dir.path().join("wal.log");
    fs::write(&path, file).expect("write the log");
    match Wal::open(&path, options.clone()) {
        Ok((wal, recovered)) => {
            check_consecutive(&recovered, &wal);
            let kept = fs::read(&path).expect("read the log");
            assert_eq!(
                kept.len() as u64 + recovered.truncated_bytes,
                file.len() as u64,
                "truncated_bytes is not what was cut"
            );
            assert_eq!(kept[..], file[..kept.len()], "recovery rewrote kept bytes");
            assert_eq!(wal.disk_bytes(), kept.len() as u64);
            drop(wal);
            reopen_and_append(&path, options, &recovered);
        }
        Err(_) => assert_eq!(
            fs::read(&path).expect("read the log"),
            file,
            "a refused log was modified"
        ),
    }
}

/// Records as `[len: u16 LE][bytes]`, the last one cut short by the end of input.
fn records(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let [a, b, tail @ ..] = bytes {
        let len = usize::from(u16::from_le_bytes([*a, *b])).min(tail.len());
        out.push(tail[..len].to_vec());
        bytes = &tail[len..];
    }
    out
}

fn damaged(rest: &[u8], options: &WalOptions) {
    let [kind, lo, hi, mask, tail @ ..] = rest else {
        return;
    };
    let written = records(tail);
    let dir = Dir::new("wal");
    let path = dir.path().join("wal.log");
    let (wal, fresh) = Wal::open(&path, fixture::wal_options()).expect("create a log");
    assert_eq!(fresh, Recovered::default(), "a new log holds records");
    let header = wal.disk_bytes();
    let mut ends = Vec::with_capacity(written.len());
    for (i, record) in written.iter().enumerate() {
        let lsn = wal.append(record).expect("append");
        assert_eq!(lsn, i as u64 + 1, "lsns of a new log start at 1");
        ends.push(wal.disk_bytes());
    }
    drop(wal);
    let mut file = fs::read(&path).expect("read the log");
    assert_eq!(file.len() as u64, ends.last().copied().unwrap_or(header));

    let offset = usize::from(u16::from_le_bytes([*lo, *hi]));
    let intact_before = |at: usize| ends.iter().filter(|&&e| e <= at as u64).count();
    // (records certainly intact, exactly those recovered, header damaged,
    // damage with intact records after it, refusal allowed)
    let (intact, exact, header_hit, corrupt, damaged) = match kind % 4 {
        0 => (written.len(), true, false, false, false),
        1 => {
            let at = offset % (file.len() + 1);
            file.truncate(at);
            (intact_before(at), true, (at as u64) < header, false, false)
        }
        2 => {
            let at = offset % file.len();
            file[at] ^= if *mask == 0 { 1 } else { *mask };
            let k = intact_before(at);
            let start = if k == 0 { header } else { ends[k - 1] };
            // A changed length frames other bytes, whose crc32 may match by chance.
            let in_len_field = (at as u64) >= start && (at as u64) < start + 4;
            let followed = (at as u64) >= header && k + 1 < written.len();
            (k, !in_len_field, (at as u64) < header, followed, true)
        }
        _ => {
            // Bytes after the last record: zeros are a torn tail, others may be
            // a complete bad record (refused).
            file.extend(std::iter::repeat_n(*mask, offset % 97));
            (written.len(), false, false, false, true)
        }
    };
    fs::write(&path, &file).expect("write the damaged log");

    let too_large = |r: &Vec<u8>| r.len() > options.max_record_bytes;
    let must_refuse = header_hit || corrupt || written[..intact].iter().any(too_large);
    let may_refuse = must_refuse || damaged || written.iter().any(too_large);
    match Wal::open(&path, options.clone()) {
        Ok((wal, recovered)) => {
            assert!(
                !must_refuse,
                "a damaged header or an over-limit record was accepted"
            );
            check_consecutive(&recovered, &wal);
            let got = recovered.records.len();
            assert!(got >= intact, "lost intact records: {got} of {intact}");
            if exact {
                assert_eq!(got, intact, "returned records past the damage");
            }
            for (i, (lsn, payload)) in recovered.records.iter().enumerate() {
                assert_eq!(*lsn, i as u64 + 1);
                if let Some(original) = written.get(i) {
                    assert_eq!(payload, original, "record {lsn} changed");
                }
            }
            if got <= written.len() {
                let end = if got == 0 { header } else { ends[got - 1] };
                assert_eq!(fs::metadata(&path).expect("stat").len(), end);
                assert_eq!(recovered.truncated_bytes, file.len() as u64 - end);
            }
            drop(wal);
            reopen_and_append(&path, options, &recovered);
        }
        Err(e) => assert!(may_refuse, "refused a log it should recover: {e}"),
    }
}

/// Lsns consecutive and ending at the log's last lsn.
fn check_consecutive(recovered: &Recovered, wal: &Wal) {
    for pair in recovered.records.windows(2) {
        assert_eq!(pair[1].0, pair[0].0 + 1, "lsns not consecutive");
    }
    if let Some((last, _)) = recovered.records.last() {
        assert_eq!(*last, wal.last_lsn(), "last_lsn is not the last record's");
    }
}

/// A second open cuts nothing and finds the same records; an append then
/// continues the lsns and survives a third open.
fn reopen_and_append(path: &Path, options: &WalOptions, first: &Recovered) {
    let (wal, again) = Wal::open(path, options.clone()).expect("a recovered log reopens");
    assert_eq!(again.truncated_bytes, 0, "a recovered log was cut again");
    assert_eq!(
        again.records, first.records,
        "a second open found other records"
    );
    let next = wal.last_lsn() + 1;
    if options.max_record_bytes < 4 {
        return;
    }
    assert_eq!(wal.append(b"next").expect("append after recovery"), next);
    drop(wal);
    let (_, last) = Wal::open(path, options.clone()).expect("reopen after an append");
    assert_eq!(last.records.len(), first.records.len() + 1);
    assert_eq!(last.records.last(), Some(&(next, b"next".to_vec())));
}

/// `config.json` of a freshly created collection of each layout.
fn config_file(multivector: bool) -> &'static [u8] {
    static FILES: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    let files = FILES.get_or_init(|| {
        [Layout::Float, Layout::Multivector].map(|layout| {
            let dir = Dir::new("template");
            let metric = if layout == Layout::Multivector {
                Metric::Dot
            } else {
                Metric::Cosine
            };
            let collection = Collection::create(
                "template",
                dir.path(),
                fixture::config(layout, metric),
                fixture::wal_options(),
            )
            .expect("create the template collection");
            collection.close();
            drop(collection);
            fs::read(dir.path().join("config.json")).expect("a collection keeps config.json")
        })
    });
    &files[usize::from(multivector)]
}

fn collection(rest: &[u8], multivector: bool) {
    let written = match rest {
        [_, _, _, _, tail @ ..] => records(tail),
        _ => return,
    };
    let dir = Dir::new("replay");
    fs::write(dir.path().join("config.json"), config_file(multivector)).expect("write config");
    let (wal, _) = Wal::open(&dir.path().join("wal.log"), fixture::wal_options()).expect("log");
    for record in &written {
        wal.append(record).expect("append");
    }
    drop(wal);
    let Ok(collection) = Collection::open("replay", dir.path(), fixture::wal_options()) else {
        return;
    };
    let points = collection.len();
    collection.close();
    drop(collection);
    let again = Collection::open("replay", dir.path(), fixture::wal_options())
        .expect("a collection that opened reopens");
    assert_eq!(
        again.len(),
        points,
        "a second replay found another number of points"
    );
    again.close();
}
