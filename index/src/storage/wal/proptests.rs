//! Property: whatever the damage, recovery returns exactly a prefix of the
//! appended records, never a record with altered content, and it cuts only a
//! torn tail: damage followed by an intact record is refused, and the
//! explicit repair then keeps exactly the records before the damage.

use proptest::prelude::*;
use proptest::sample::Index;

use super::format::FRAME_HEADER_LEN;
use super::*;
use crate::storage::testdir::TestDir;

const NO_SYNC: WalOptions = WalOptions {
    sync: false,
    max_record_bytes: 1 << 16,
};

#[derive(Clone, Debug)]
enum Damage {
    /// Cut the file at this position (anywhere after the header).
    Truncate(Index),
    /// Flip one bit of one byte (header included).
    Flip(Index, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::Truncate),
        (any::<Index>(), 0u8..8).prop_map(|(i, b)| Damage::Flip(i, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn recovery_returns_an_exact_prefix(
        records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..16),
        damage in damage(),
    ) {
        let dir = TestDir::new("wal-prop");
        let path = dir.join("wal.log");
        {
            let (wal, _) = Wal::open(&path, NO_SYNC).unwrap();
            let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
            // Mix single appends and a batch.
            let (first, rest) = refs.split_at(refs.len() / 2);
            for r in first {
                wal.append(r).unwrap();
            }
            wal.append_batch(rest).unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let mut ends = Vec::new();
        let mut end = HEADER_LEN;
        for r in &records {
            end += FRAME_HEADER_LEN + r.len();
            ends.push(end);
        }
        prop_assert_eq!(end, bytes.len());

        // The number of records that must survive the damage.
        let kept = match damage {
            Damage::Truncate(i) => {
                let cut = HEADER_LEN + i.index(bytes.len() - HEADER_LEN);
                bytes.truncate(cut);
                ends.iter().filter(|&&e| e <= cut).count()
            }
            Damage::Flip(i, bit) => {
                let at = i.index(bytes.len());
                bytes[at] ^= 1 << bit;
                if at < HEADER_LEN {
                    std::fs::write(&path, &bytes).unwrap();
                    let is_corrupt = matches!(Wal::open(&path, NO_SYNC), Err(StorageError::Corrupt { .. }));
                    prop_assert!(is_corrupt);
                    return Ok(());
                }
                let kept = ends.iter().filter(|&&e| e <= at).count();
                std::fs::write(&path, &bytes).unwrap();
                match Wal::open(&path, NO_SYNC) {
                    Err(StorageError::Corrupt { .. }) => {
                        // Refused, and nothing cut; the explicit repair keeps the prefix.
                        prop_assert_eq!(std::fs::read(&path).unwrap(), bytes.clone());
                        let cut = Wal::cut_at_damage(&path, &NO_SYNC).unwrap();
                        let valid_end = if kept == 0 { HEADER_LEN } else { ends[kept - 1] };
                        prop_assert_eq!(cut, (bytes.len() - valid_end) as u64);
                        bytes.truncate(valid_end);
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other}"),
                    Ok(_) => {
                        // Only the last record may be taken for a torn tail.
                        prop_assert_eq!(kept, records.len() - 1, "damage at {} was cut silently", at);
                    }
                }
                kept
            }
        };
        std::fs::write(&path, &bytes).unwrap();
        let damaged_len = bytes.len() as u64;

        let (wal, rec) = Wal::open(&path, NO_SYNC).unwrap();
        prop_assert_eq!(rec.records.len(), kept);
        for (i, (lsn, payload)) in rec.records.iter().enumerate() {
            prop_assert_eq!(*lsn, i as u64 + 1);
            prop_assert_eq!(payload, &records[i]);
        }
        let valid_end = if kept == 0 { HEADER_LEN } else { ends[kept - 1] } as u64;
        prop_assert_eq!(rec.truncated_bytes, damaged_len - valid_end);
        prop_assert_eq!(wal.append(b"next").unwrap(), kept as u64 + 1);
        drop(wal);

        let (_, again) = Wal::open(&path, NO_SYNC).unwrap();
        prop_assert_eq!(again.truncated_bytes, 0);
        prop_assert_eq!(&again.records[..kept], &rec.records[..]);
        prop_assert_eq!(&again.records[kept], &(kept as u64 + 1, b"next".to_vec()));
    }
}
