//! openraft's storage conformance suite (`openraft::testing::Suite`) against
//! the shard log on real files with the metadata group's state machine, and
//! the log across a reopen.
//!
//! The suite drives a log store and a state machine together; the metadata
//! machine takes any entry (one that is not a metadata command changes
//! nothing) and snapshots to real files. The shard's own machine (its
//! collection) is exercised by `replication.rs` and `nodes.rs`: the suite's
//! entries are not records of a collection.

use std::collections::BTreeSet;
use std::io;

use openraft::storage::RaftLogStorage;
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    AnyError, CommittedLeaderId, EntryPayload, LeaderId, Membership, StorageError, StorageIOError,
};
use trawl_cluster::meta::MetaMachine;
use trawl_cluster::{Command, Entry, LogId, LogStore, NodeId, TypeConfig, Vote};

struct OnDisk;

fn io_error(e: io::Error) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(AnyError::new(&e)).into()
}

impl StoreBuilder<TypeConfig, LogStore, MetaMachine, tempfile::TempDir> for OnDisk {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, MetaMachine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().map_err(io_error)?;
        let log = LogStore::open(&dir.path().join("log")).map_err(io_error)?;
        let (machine, _) = MetaMachine::open(&dir.path().join("state")).map_err(io_error)?;
        Ok((dir, log, machine))
    }
}

#[test]
fn the_shard_log_passes_openrafts_storage_suite() {
    if let Err(error) = Suite::test_all(OnDisk) {
        panic!("openraft's storage suite failed: {error}");
    }
}

fn log_id(term: u64, node: u64, index: u64) -> LogId {
    LogId::new(CommittedLeaderId::new(term, node), index)
}

fn normal(term: u64, index: u64, record: &[u8]) -> Entry {
    Entry {
        log_id: log_id(term, 1, index),
        payload: EntryPayload::Normal(Command {
            record: record.to_vec(),
        }),
    }
}

async fn append(log: &mut LogStore, entries: Vec<Entry>) {
    log.append_synced(entries).await.unwrap();
}

/// Entries, the vote, the commit index and the purge point come back as
/// they were written once the log is reopened from its files.
#[tokio::test]
async fn a_reopened_log_holds_what_was_flushed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log");
    let vote = Vote {
        leader_id: LeaderId::new(3, 2),
        committed: true,
    };
    let membership = Membership::new(vec![BTreeSet::from([1, 2, 3])], None);
    {
        let mut log = LogStore::open(&path).unwrap();
        log.save_vote(&vote).await.unwrap();
        let mut entries: Vec<Entry> = (1..=5)
            .map(|i| normal(1, i, format!("record {i}").as_bytes()))
            .collect();
        entries.push(Entry {
            log_id: log_id(2, 1, 6),
            payload: EntryPayload::Membership(membership.clone()),
        });
        entries.push(Entry {
            log_id: log_id(2, 1, 7),
            payload: EntryPayload::Blank,
        });
        append(&mut log, entries).await;
        // A conflicting suffix from a new leader replaces 7.
        log.truncate(log_id(2, 1, 7)).await.unwrap();
        append(&mut log, vec![normal(3, 7, b"from the new leader")]).await;
        log.save_committed(Some(log_id(3, 1, 7))).await.unwrap();
        log.purge(log_id(1, 1, 2)).await.unwrap();
        // The commit index and the purge are written with the next flush.
        append(&mut log, vec![normal(3, 8, &[0, 255, 7])]).await;
    }
    let mut log = LogStore::open(&path).unwrap();
    assert_eq!(log.read_vote().await.unwrap(), Some(vote));
    assert_eq!(log.read_committed().await.unwrap(), Some(log_id(3, 1, 7)));
    let state = log.get_log_state().await.unwrap();
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 1, 2)));
    assert_eq!(state.last_log_id, Some(log_id(3, 1, 8)));
    let mut reader = log.get_log_reader().await;
    use openraft::storage::RaftLogReader;
    let entries = reader.try_get_log_entries(0..100).await.unwrap();
    let ids: Vec<u64> = entries.iter().map(|e| e.log_id.index).collect();
    assert_eq!(ids, vec![3, 4, 5, 6, 7, 8]);
    match &entries[0].payload {
        EntryPayload::Normal(c) => assert_eq!(c.record, b"record 3"),
        other => panic!("entry 3 is {other:?}"),
    }
    match &entries[3].payload {
        EntryPayload::Membership(m) => assert_eq!(m, &membership),
        other => panic!("entry 6 is {other:?}"),
    }
    match &entries[4].payload {
        EntryPayload::Normal(c) => assert_eq!(c.record, b"from the new leader"),
        other => panic!("entry 7 is {other:?}"),
    }
    assert_eq!(entries[4].log_id, log_id(3, 1, 7));
    match &entries[5].payload {
        EntryPayload::Normal(c) => assert_eq!(c.record, [0, 255, 7]),
        other => panic!("entry 8 is {other:?}"),
    }
}
