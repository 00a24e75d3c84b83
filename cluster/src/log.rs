//! A shard's Raft log on disk, which is also its write-ahead log: an entry
//! is acknowledged to the leader once it is fsynced here, and the shard's
//! state machine replays entries past its last checkpoint from here after
//! a restart (the shard keeps no second log).
//!
//! The files are `raft-log`'s (the Raft log of openraft's author, used by
//! Databend): checksummed records in chunk files, entries cached in memory
//! up to a bound and read back from their chunk past it; the vote, the
//! commit index and the purge point are records of the same log. This module
//! encodes openraft's types into its records and answers openraft's
//! [`RaftLogStorage`] with it.

use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::ops::{Bound, RangeBounds};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{
    AnyError, CommittedLeaderId, EntryPayload, LeaderId, Membership, OptionalSend, StorageError,
    StorageIOError,
};
use raft_log::api::raft_log_writer::RaftLogWriter;
use raft_log::codeq::{Decode, Encode};
use raft_log::{Config, RaftLog};

use crate::types::{Entry, LogId, NodeId, TypeConfig, Vote};

/// A shard's log (cheap to clone: clones share the files).
#[derive(Clone)]
pub struct LogStore {
    log: Arc<Mutex<RaftLog<Records>>>,
}

impl LogStore {
    /// Opens the log in `dir` (created if missing), replaying its records.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir
            .to_str()
            .ok_or_else(|| io::Error::other(format!("{} is not UTF-8", dir.display())))?;
        let log = RaftLog::open(Arc::new(Config::new(path)))?;
        Ok(Self {
            log: Arc::new(Mutex::new(log)),
        })
    }

    /// How many handles share the files (openraft's tasks hold some until
    /// they end): the directory stays locked until the last one is dropped.
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.log)
    }

    fn lock(&self) -> MutexGuard<'_, RaftLog<Records>> {
        // A panic while the log was held leaves its in-memory state as the
        // last call left it; the files are checksummed records either way.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends `entries` and returns once they are on disk (openraft's
    /// [`RaftLogStorage::append`] reports that through a callback instead).
    pub async fn append_synced(&self, entries: Vec<Entry>) -> io::Result<()> {
        append_unpurged(&mut self.lock(), entries)?;
        self.sync().await
    }

    /// Writes what was buffered to the files and fsyncs them, returning
    /// once they are on disk.
    async fn sync(&self) -> io::Result<()> {
        let (done, synced) = tokio::sync::oneshot::channel();
        self.lock().flush(true, Some(Flushed::Wait(done)))?;
        synced
            .await
            .map_err(|_| io::Error::other("the log's flush worker stopped"))?
    }
}

/// Appends the entries past the purge point. openraft never sends entries
/// at or below it (they are applied and in a snapshot already), but its
/// storage suite appends some after a purge, and the files accept only
/// ascending indexes: those are dropped, as a purge would drop them.
fn append_unpurged(
    log: &mut RaftLog<Records>,
    entries: impl IntoIterator<Item = Entry>,
) -> io::Result<()> {
    let purged = log.log_state().purged().map(|id| id.0.index);
    log.append(
        entries
            .into_iter()
            .filter(|e| purged.is_none_or(|p| e.log_id.index > p))
            .map(|e| (StoredLogId(e.log_id), StoredPayload(e.payload))),
    )?;
    Ok(())
}

fn write_error(e: io::Error) -> StorageError<NodeId> {
    StorageIOError::write_logs(AnyError::new(&e)).into()
}

fn read_error(e: io::Error) -> StorageError<NodeId> {
    StorageIOError::read_logs(AnyError::new(&e)).into()
}

fn vote_error(e: io::Error) -> StorageError<NodeId> {
    StorageIOError::write_vote(AnyError::new(&e)).into()
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError<NodeId>> {
        let from = match range.start_bound() {
            Bound::Included(&i) => i,
            Bound::Excluded(&i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let to = match range.end_bound() {
            Bound::Included(&i) => i.saturating_add(1),
            Bound::Excluded(&i) => i,
            Bound::Unbounded => u64::MAX,
        };
        if from >= to {
            return Ok(Vec::new());
        }
        let log = self.lock();
        log.read(from, to)
            .map(|record| {
                record.map(|(id, payload)| Entry {
                    log_id: id.0,
                    payload: payload.0,
                })
            })
            .collect::<io::Result<Vec<_>>>()
            .map_err(read_error)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let log = self.lock();
        let state = log.log_state();
        let last_purged_log_id = state.purged().map(|id| id.0);
        Ok(LogState {
            last_purged_log_id,
            last_log_id: state.last().map(|id| id.0).or(last_purged_log_id),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError<NodeId>> {
        self.lock()
            .save_vote(StoredVote(*vote))
            .map_err(vote_error)?;
        self.sync().await.map_err(vote_error)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError<NodeId>> {
        Ok(self.lock().log_state().vote().map(|v| v.0))
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId>,
    ) -> Result<(), StorageError<NodeId>> {
        // Written with the next flush: a commit index lost to a crash is
        // learnt again from the leader.
        if let Some(id) = committed {
            self.lock().commit(StoredLogId(id)).map_err(write_error)?;
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError<NodeId>> {
        Ok(self.lock().log_state().committed().map(|id| id.0))
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut log = self.lock();
        append_unpurged(&mut log, entries).map_err(write_error)?;
        // Acknowledged (to openraft, and so to the leader) once fsynced.
        log.flush(true, Some(Flushed::Raft(callback)))
            .map_err(write_error)
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        self.lock().truncate(log_id.index).map_err(write_error)?;
        self.sync().await.map_err(write_error)
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError<NodeId>> {
        // Entries up to a snapshot go: durable with the next flush (a purge
        // lost to a crash only leaves entries that are covered already).
        self.lock()
            .purge(StoredLogId(log_id))
            .map_err(write_error)?;
        Ok(())
    }
}

/// raft-log's types for a shard's log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Records;

impl raft_log::Types for Records {
    type LogId = StoredLogId;
    type LogPayload = StoredPayload;
    type Vote = StoredVote;
    type Callback = Flushed;
    type UserData = ();

    fn log_index(log_id: &StoredLogId) -> u64 {
        log_id.0.index
    }

    fn payload_size(payload: &StoredPayload) -> u64 {
        match &payload.0 {
            EntryPayload::Normal(command) => command.record.len() as u64,
            _ => 64,
        }
    }
}

/// Told when a flush reached the disk (or failed).
enum Flushed {
    /// openraft's: the entries appended may be acknowledged.
    Raft(LogFlushed<TypeConfig>),
    /// A caller waiting for a vote or a truncation to be durable.
    Wait(tokio::sync::oneshot::Sender<io::Result<()>>),
}

impl raft_log::Callback for Flushed {
    fn send(self, result: io::Result<()>) {
        match self {
            Flushed::Raft(callback) => callback.log_io_completed(result),
            Flushed::Wait(done) => {
                let _ = done.send(result);
            }
        }
    }
}

fn put_u64(mut w: impl Write, x: u64) -> io::Result<usize> {
    w.write_all(&x.to_be_bytes())?;
    Ok(8)
}

fn get_u64(mut r: impl Read) -> io::Result<u64> {
    let mut b = [0; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_be_bytes(b))
}

fn put_bytes(mut w: impl Write, bytes: &[u8]) -> io::Result<usize> {
    put_u64(&mut w, bytes.len() as u64)?;
    w.write_all(bytes)?;
    Ok(8 + bytes.len())
}

fn get_bytes(mut r: impl Read) -> io::Result<Vec<u8>> {
    let len = get_u64(&mut r)?;
    let mut bytes = Vec::new();
    r.take(len).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "a log record ends inside its payload",
        ));
    }
    Ok(bytes)
}

/// A log id as a record stores it: term, leader, index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StoredLogId(LogId);

impl Ord for StoredLogId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl PartialOrd for StoredLogId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Encode for StoredLogId {
    fn encode<W: Write>(&self, mut w: W) -> io::Result<usize> {
        Ok(put_u64(&mut w, self.0.leader_id.term)?
            + put_u64(&mut w, self.0.leader_id.node_id)?
            + put_u64(&mut w, self.0.index)?)
    }
}

impl Decode for StoredLogId {
    fn decode<R: Read>(mut r: R) -> io::Result<Self> {
        let (term, node) = (get_u64(&mut r)?, get_u64(&mut r)?);
        Ok(Self(LogId::new(
            CommittedLeaderId::new(term, node),
            get_u64(&mut r)?,
        )))
    }
}

/// A vote as a record stores it: term, leader, committed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd)]
struct StoredVote(Vote);

impl Encode for StoredVote {
    fn encode<W: Write>(&self, mut w: W) -> io::Result<usize> {
        let v = &self.0;
        Ok(put_u64(&mut w, v.leader_id.term)?
            + put_u64(&mut w, v.leader_id.node_id)?
            + put_u64(&mut w, u64::from(v.committed))?)
    }
}

impl Decode for StoredVote {
    fn decode<R: Read>(mut r: R) -> io::Result<Self> {
        let (term, node) = (get_u64(&mut r)?, get_u64(&mut r)?);
        Ok(Self(Vote {
            leader_id: LeaderId::new(term, node),
            committed: get_u64(&mut r)? != 0,
        }))
    }
}

/// An entry's payload as a record stores it: a kind byte, then the
/// command's record bytes as they are, or a membership as JSON.
#[derive(Debug, Clone)]
struct StoredPayload(EntryPayload<TypeConfig>);

const BLANK: u8 = 0;
const NORMAL: u8 = 1;
const MEMBERSHIP: u8 = 2;

impl Encode for StoredPayload {
    fn encode<W: Write>(&self, mut w: W) -> io::Result<usize> {
        match &self.0 {
            EntryPayload::Blank => {
                w.write_all(&[BLANK])?;
                Ok(1)
            }
            EntryPayload::Normal(command) => {
                w.write_all(&[NORMAL])?;
                Ok(1 + put_bytes(&mut w, &command.record)?)
            }
            EntryPayload::Membership(membership) => {
                w.write_all(&[MEMBERSHIP])?;
                let json = serde_json::to_vec(membership).map_err(io::Error::other)?;
                Ok(1 + put_bytes(&mut w, &json)?)
            }
        }
    }
}

impl Decode for StoredPayload {
    fn decode<R: Read>(mut r: R) -> io::Result<Self> {
        let mut kind = [0];
        r.read_exact(&mut kind)?;
        Ok(Self(match kind[0] {
            BLANK => EntryPayload::Blank,
            NORMAL => EntryPayload::Normal(crate::types::Command {
                record: get_bytes(&mut r)?,
            }),
            MEMBERSHIP => {
                let membership: Membership<NodeId, openraft::BasicNode> =
                    serde_json::from_slice(&get_bytes(&mut r)?)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                EntryPayload::Membership(membership)
            }
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a log entry of unknown kind {other}"),
                ));
            }
        }))
    }
}
