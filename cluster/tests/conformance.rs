//! openraft's storage conformance suite (`openraft::testing::Suite`) against
//! the shard log on real files, and the log across a reopen.
//!
//! The suite drives a log store and a state machine together. The state
//! machine here keeps the applied records in memory and writes its
//! snapshots to real files: it stands in for the shard's segment store
//! (the suite checks the log store's side of their contract and the
//! snapshot plumbing, not the segments).

use std::collections::BTreeSet;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use openraft::storage::{RaftLogStorage, RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    AnyError, BasicNode, CommittedLeaderId, EntryPayload, LeaderId, Membership, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use trawl_cluster::{Applied, Command, Entry, LogId, LogStore, NodeId, TypeConfig, Vote};

/// What the test machine has applied, as its snapshot files hold it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct State {
    applied: Option<LogId>,
    membership: StoredMembership<NodeId, BasicNode>,
    records: Vec<Vec<u8>>,
}

struct Machine {
    dir: PathBuf,
    state: State,
    current: Current,
    next: Arc<AtomicU64>,
}

/// The newest snapshot built or installed: its description and its file.
type Current = Arc<Mutex<Option<(SnapshotMeta<NodeId, BasicNode>, PathBuf)>>>;

fn io_error(e: io::Error) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(AnyError::new(&e)).into()
}

impl Machine {
    fn path(&self) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("snapshot-{n}"))
    }
}

struct Builder {
    path: PathBuf,
    state: State,
    current: Current,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let bytes = serde_json::to_vec(&self.state).map_err(|e| io_error(io::Error::other(e)))?;
        tokio::fs::write(&self.path, &bytes)
            .await
            .map_err(io_error)?;
        let meta = SnapshotMeta {
            last_log_id: self.state.applied,
            last_membership: self.state.membership.clone(),
            snapshot_id: self.path.display().to_string(),
        };
        let file = tokio::fs::File::open(&self.path).await.map_err(io_error)?;
        *self.current.lock().unwrap() = Some((meta.clone(), self.path.clone()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(file),
        })
    }
}

impl RaftStateMachine<TypeConfig> for Machine {
    type SnapshotBuilder = Builder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>> {
        Ok((self.state.applied, self.state.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + openraft::OptionalSend,
        I::IntoIter: openraft::OptionalSend,
    {
        let mut out = Vec::new();
        for e in entries {
            self.state.applied = Some(e.log_id);
            match e.payload {
                EntryPayload::Blank => {}
                EntryPayload::Normal(command) => self.state.records.push(command.record),
                EntryPayload::Membership(m) => {
                    self.state.membership = StoredMembership::new(Some(e.log_id), m);
                }
            }
            out.push(Applied {
                index: e.log_id.index,
            });
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        Builder {
            path: self.path(),
            state: self.state.clone(),
            current: Arc::clone(&self.current),
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<tokio::fs::File>, StorageError<NodeId>> {
        let file = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(self.path())
            .await
            .map_err(io_error)?;
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        mut snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError<NodeId>> {
        snapshot.rewind().await.map_err(io_error)?;
        let mut bytes = Vec::new();
        snapshot.read_to_end(&mut bytes).await.map_err(io_error)?;
        let state: State =
            serde_json::from_slice(&bytes).map_err(|e| io_error(io::Error::other(e)))?;
        self.state = State {
            applied: meta.last_log_id,
            membership: meta.last_membership.clone(),
            records: state.records,
        };
        let path = self.path();
        tokio::fs::write(&path, &bytes).await.map_err(io_error)?;
        *self.current.lock().unwrap() = Some((meta.clone(), path));
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let Some((meta, path)) = self.current.lock().unwrap().clone() else {
            return Ok(None);
        };
        let file = tokio::fs::File::open(path).await.map_err(io_error)?;
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(file),
        }))
    }
}

struct OnDisk;

impl StoreBuilder<TypeConfig, LogStore, Machine, tempfile::TempDir> for OnDisk {
    async fn build(&self) -> Result<(tempfile::TempDir, LogStore, Machine), StorageError<NodeId>> {
        let dir = tempfile::tempdir().map_err(io_error)?;
        let log = LogStore::open(&dir.path().join("log")).map_err(io_error)?;
        let machine = Machine {
            dir: dir.path().to_path_buf(),
            state: State::default(),
            current: Current::default(),
            next: Arc::new(AtomicU64::new(0)),
        };
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
