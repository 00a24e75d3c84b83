//! A shard's state machine: its collection (the storage engine's segments),
//! fed by the shard's Raft log.
//!
//! A replica's directory:
//!
//! ```text
//! log/               the Raft log (raft-log's chunks): the shard's only log
//! data-<n>/          the collection (config, manifest, segments) and
//!   positions.json   the Raft positions of what it applied (below)
//! CURRENT            which data-<n> is the collection (swapped atomically)
//! snapshots/         <id>.tar: the newest Raft snapshot, current.json its
//!                    description; incoming-<n>.tar while one is received
//! ```
//!
//! Entry `i` of the Raft log is record `i + 1` of the collection (whose
//! record 0 means "none"). The collection's manifest says through which
//! record it covers the log; `positions.json` turns that into a Raft log id
//! (the leader of each run of entries) and the membership in force, and is
//! written before an entry of a new leader or a membership is applied, so it
//! always reaches as far as the manifest. After a restart the collection
//! holds what its manifest covers and openraft applies the committed entries
//! after it again from the log.
//!
//! A snapshot checkpoints the collection, hard-links its sealed files and
//! packs them into one tar file on disk: it is streamed to a replica in
//! chunks and unpacked into a new `data-<n>`, never held in memory whole.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{
    AnyError, BasicNode, CommittedLeaderId, EntryPayload, ErrorSubject, ErrorVerb, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};
use trawl_index::{Collection, CollectionConfig, SealPolicy};

use crate::types::{Applied, Entry, LogId, NodeId, TypeConfig};

const CURRENT: &str = "CURRENT";
const POSITIONS: &str = "positions.json";
const SNAPSHOTS: &str = "snapshots";
const SNAPSHOT_META: &str = "current.json";

/// The collection a replica serves (swapped when a snapshot is installed).
pub type Current = Arc<RwLock<Arc<Collection>>>;

/// The Raft positions of what a collection applied.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Positions {
    /// The first entry of each leader's run of entries, in log order.
    leaders: Vec<(u64, CommittedLeaderId<NodeId>)>,
    /// The memberships applied, in log order (the last one or two kept).
    memberships: Vec<StoredMembership<NodeId, BasicNode>>,
}

impl Positions {
    /// The log id of entry `index` (one this replica applied).
    fn log_id(&self, index: u64) -> Option<LogId> {
        let (_, leader) = self
            .leaders
            .iter()
            .rev()
            .find(|(first, _)| *first <= index)?;
        Some(LogId::new(*leader, index))
    }

    /// The membership in force at entry `index`.
    fn membership_at(&self, index: Option<u64>) -> StoredMembership<NodeId, BasicNode> {
        self.memberships
            .iter()
            .rev()
            .find(|m| m.log_id().map(|l| l.index) <= index)
            .cloned()
            .unwrap_or_default()
    }

    /// Drops what no checkpoint at or past `index` needs.
    fn forget_before(&mut self, index: u64) {
        if let Some(keep) = self.leaders.iter().rposition(|(first, _)| *first <= index) {
            self.leaders.drain(..keep);
        }
        if let Some(keep) = self
            .memberships
            .iter()
            .rposition(|m| m.log_id().map(|l| l.index) <= Some(index))
        {
            self.memberships.drain(..keep);
        }
    }
}

/// What `current.json` says of the newest snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SnapshotFile {
    meta: SnapshotMeta<NodeId, BasicNode>,
    file: String,
}

/// What the state machine, its snapshot builders and the blocking threads
/// they run on share.
struct Shared {
    current: Current,
    state: Mutex<State>,
    /// Held across a snapshot's build and an install: a build checkpoints
    /// the collection that is current while it runs.
    swap: Mutex<()>,
}

/// The data directory in use and the Raft positions of what it applied.
struct State {
    /// The data directory's generation (`data-<n>`).
    generation: u64,
    positions: Positions,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn collection(&self) -> Arc<Collection> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A shard replica's state machine (clones share the collection and the
/// positions; openraft's worker holds one at a time).
#[derive(Clone)]
pub struct ShardMachine {
    root: PathBuf,
    name: String,
    policy: SealPolicy,
    shared: Arc<Shared>,
    next_file: u64,
}

fn storage_error(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: impl ToString,
) -> StorageError<NodeId> {
    StorageIOError::new(subject, verb, AnyError::error(e.to_string())).into()
}

fn sm_write(e: impl ToString) -> StorageError<NodeId> {
    storage_error(ErrorSubject::StateMachine, ErrorVerb::Write, e)
}

fn sm_read(e: impl ToString) -> StorageError<NodeId> {
    storage_error(ErrorSubject::StateMachine, ErrorVerb::Read, e)
}

fn snapshot_error(
    meta: Option<&SnapshotMeta<NodeId, BasicNode>>,
    verb: ErrorVerb,
    e: impl ToString,
) -> StorageError<NodeId> {
    let subject = match meta {
        Some(meta) => ErrorSubject::Snapshot(Some(meta.signature())),
        None => ErrorSubject::Snapshot(None),
    };
    storage_error(subject, verb, e)
}

/// Writes `bytes` to `path` through a temporary file, fsynced and renamed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Fsyncs every file and directory under `dir` (an unpacked snapshot).
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            std::fs::File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

fn data_dir(root: &Path, generation: u64) -> PathBuf {
    root.join(format!("data-{generation}"))
}

fn read_positions(dir: &Path) -> io::Result<Positions> {
    match std::fs::read(dir.join(POSITIONS)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Positions::default()),
        Err(e) => Err(e),
    }
}

fn write_positions(dir: &Path, positions: &Positions) -> io::Result<()> {
    let bytes = serde_json::to_vec(positions).map_err(io::Error::other)?;
    write_atomic(&dir.join(POSITIONS), &bytes)
}

impl ShardMachine {
    /// Opens the replica's collection under `root`, creating it with
    /// `config` when `root` holds none yet.
    pub fn open(
        root: &Path,
        name: &str,
        config: &CollectionConfig,
        policy: SealPolicy,
    ) -> io::Result<Self> {
        std::fs::create_dir_all(root.join(SNAPSHOTS))?;
        let (generation, collection) = match std::fs::read_to_string(root.join(CURRENT)) {
            Ok(text) => {
                let generation: u64 = text
                    .trim()
                    .strip_prefix("data-")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| {
                        io::Error::other(format!("{CURRENT} names no data directory: {text:?}"))
                    })?;
                let dir = data_dir(root, generation);
                let collection =
                    Collection::open_shard(name, &dir, policy).map_err(io::Error::other)?;
                (generation, collection)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let dir = data_dir(root, 0);
                if dir.exists() {
                    // A creation that did not finish: nothing was applied.
                    std::fs::remove_dir_all(&dir)?;
                }
                let collection = Collection::create_shard(name, &dir, config.clone(), policy)
                    .map_err(io::Error::other)?;
                write_atomic(&root.join(CURRENT), b"data-0")?;
                (0, collection)
            }
            Err(e) => return Err(e),
        };
        let positions = read_positions(&data_dir(root, generation))?;
        let machine = Self {
            root: root.to_path_buf(),
            name: name.to_string(),
            policy,
            shared: Arc::new(Shared {
                current: Arc::new(RwLock::new(Arc::new(collection))),
                state: Mutex::new(State {
                    generation,
                    positions,
                }),
                swap: Mutex::new(()),
            }),
            next_file: 0,
        };
        machine.remove_stale(generation)?;
        Ok(machine)
    }

    /// The collection this replica serves, shared with its readers.
    pub fn current(&self) -> Current {
        Arc::clone(&self.shared.current)
    }

    /// Removes data directories other than the current one and partial
    /// snapshot files (left by a crash).
    fn remove_stale(&self, generation: u64) -> io::Result<()> {
        let current = format!("data-{generation}");
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("data-") && name != current {
                std::fs::remove_dir_all(entry.path())?;
            }
        }
        let keep = read_snapshot_file(&self.root)?.map(|s| s.file);
        for entry in std::fs::read_dir(self.root.join(SNAPSHOTS))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != SNAPSHOT_META && Some(&name) != keep.as_ref() {
                remove_path(&entry.path())?;
            }
        }
        Ok(())
    }
}

/// Creates the file a snapshot being received is written to (read back
/// when it is installed).
pub(crate) async fn create_incoming(path: &Path) -> io::Result<tokio::fs::File> {
    tokio::fs::File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .await
}

fn remove_path(path: &Path) -> io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

fn read_snapshot_file(root: &Path) -> io::Result<Option<SnapshotFile>> {
    match std::fs::read(root.join(SNAPSHOTS).join(SNAPSHOT_META)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(io::Error::other),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Makes `file` (in `snapshots/`) the current snapshot, described by
/// `meta`, and removes every other snapshot file.
fn publish_snapshot(
    root: &Path,
    meta: &SnapshotMeta<NodeId, BasicNode>,
    file: &str,
) -> io::Result<()> {
    let described = SnapshotFile {
        meta: meta.clone(),
        file: file.to_string(),
    };
    let bytes = serde_json::to_vec(&described).map_err(io::Error::other)?;
    let dir = root.join(SNAPSHOTS);
    write_atomic(&dir.join(SNAPSHOT_META), &bytes)?;
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != SNAPSHOT_META && name != file && !name.starts_with("incoming-") {
            remove_path(&entry.path())?;
        }
    }
    Ok(())
}

/// Builds a snapshot of a replica.
pub struct Builder {
    root: PathBuf,
    shared: Arc<Shared>,
}

impl Builder {
    /// Checkpoints the collection, links its files into `snapshots/` and
    /// packs them into a tar file there; returns its description.
    fn build(&self) -> io::Result<(SnapshotMeta<NodeId, BasicNode>, PathBuf)> {
        let _one = self.shared.swap.lock().unwrap_or_else(|p| p.into_inner());
        let collection = self.shared.collection();
        let dir = self.root.join(SNAPSHOTS);
        let stamp = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        );
        let linked = dir.join(format!("build-{stamp}"));
        let covered = collection
            .checkpoint_into(&linked)
            .map_err(io::Error::other)?;
        let (last_log_id, last_membership) = {
            let mut state = self.shared.state();
            let data = data_dir(&self.root, state.generation);
            let positions = &mut state.positions;
            let index = covered.checked_sub(1);
            let log_id = match index {
                Some(i) => Some(positions.log_id(i).ok_or_else(|| {
                    io::Error::other(format!("no leader known for entry {i} of the shard's log"))
                })?),
                None => None,
            };
            let membership = positions.membership_at(index);
            if let Some(i) = index {
                positions.forget_before(i);
                write_positions(&data, positions)?;
            }
            (log_id, membership)
        };
        let snapshot_id = match &last_log_id {
            Some(l) => format!(
                "{}-{}-{}-{stamp}",
                l.leader_id.term, l.leader_id.node_id, l.index
            ),
            None => format!("empty-{stamp}"),
        };
        let file = format!("{snapshot_id}.tar");
        let tmp = dir.join(format!("{file}.tmp"));
        {
            let out = std::fs::File::create(&tmp)?;
            let mut tar = tar::Builder::new(io::BufWriter::new(out));
            tar.follow_symlinks(false);
            tar.append_dir_all(".", &linked)?;
            let out = tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
            out.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(&file))?;
        std::fs::remove_dir_all(&linked)?;
        let meta = SnapshotMeta {
            last_log_id,
            last_membership,
            snapshot_id,
        };
        publish_snapshot(&self.root, &meta, &file)?;
        Ok((meta, dir.join(file)))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let builder = Builder {
            root: self.root.clone(),
            shared: Arc::clone(&self.shared),
        };
        let (meta, path) = tokio::task::spawn_blocking(move || builder.build())
            .await
            .map_err(|e| snapshot_error(None, ErrorVerb::Write, e))?
            .map_err(|e| snapshot_error(None, ErrorVerb::Write, e))?;
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| snapshot_error(Some(&meta), ErrorVerb::Read, e))?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(file),
        })
    }
}

impl ShardMachine {
    /// Applies `entries` (on a blocking thread: a write may wait for the
    /// sealer, and persisting positions fsyncs).
    fn apply_blocking(&self, entries: Vec<Entry>) -> io::Result<Vec<Applied>> {
        let collection = self.shared.collection();
        let mut state = self.shared.state();
        let data = data_dir(&self.root, state.generation);
        let positions = &mut state.positions;
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let log_id = entry.log_id;
            let lsn = log_id.index + 1;
            let mut changed = false;
            if positions.leaders.last().map(|(_, l)| l) != Some(&log_id.leader_id) {
                positions.leaders.push((log_id.index, log_id.leader_id));
                changed = true;
            }
            if let EntryPayload::Membership(m) = &entry.payload {
                positions
                    .memberships
                    .push(StoredMembership::new(Some(log_id), m.clone()));
                changed = true;
            }
            if changed {
                write_positions(&data, positions)?;
            }
            match &entry.payload {
                EntryPayload::Normal(command) => {
                    collection
                        .apply_logged(lsn, &command.record)
                        .map_err(io::Error::other)?;
                }
                EntryPayload::Blank | EntryPayload::Membership(_) => {
                    collection.advance_applied(lsn).map_err(io::Error::other)?;
                }
            }
            out.push(Applied {
                index: log_id.index,
                refused: None,
            });
        }
        Ok(out)
    }

    fn snapshot_path(&self, file: &str) -> PathBuf {
        self.root.join(SNAPSHOTS).join(file)
    }

    /// Unpacks the received snapshot `file` into a new data directory,
    /// opens it and makes it the replica's collection.
    fn install_blocking(
        &self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        file: std::fs::File,
    ) -> io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let _one = self.shared.swap.lock().unwrap_or_else(|p| p.into_inner());
        file.sync_all()?;
        let received = file.metadata()?;
        let previous = self.shared.state().generation;
        let generation = previous + 1;
        let dir = data_dir(&self.root, generation);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        {
            let mut reader = io::BufReader::new(&file);
            io::Seek::seek(&mut reader, io::SeekFrom::Start(0))?;
            let mut archive = tar::Archive::new(reader);
            archive.set_preserve_permissions(false);
            archive.unpack(&dir)?;
        }
        let positions = Positions {
            leaders: meta
                .last_log_id
                .iter()
                .map(|l| (l.index, l.leader_id))
                .collect(),
            memberships: vec![meta.last_membership.clone()],
        };
        write_positions(&dir, &positions)?;
        sync_tree(&dir)?;
        let collection =
            Collection::open_shard(&self.name, &dir, self.policy).map_err(io::Error::other)?;
        let covered = collection.durable_lsn();
        let expected = meta.last_log_id.map(|l| l.index + 1).unwrap_or(0);
        if covered != expected {
            return Err(io::Error::other(format!(
                "snapshot {} covers record {covered} of the shard, its description says {expected}",
                meta.snapshot_id
            )));
        }
        write_atomic(
            &self.root.join(CURRENT),
            format!("data-{generation}").as_bytes(),
        )?;
        let old = {
            let mut state = self.shared.state();
            let old = std::mem::replace(
                &mut *self
                    .shared
                    .current
                    .write()
                    .unwrap_or_else(|p| p.into_inner()),
                Arc::new(collection),
            );
            *state = State {
                generation,
                positions,
            };
            old
        };
        old.close();
        let previous = data_dir(&self.root, previous);
        if let Err(error) = std::fs::remove_dir_all(&previous) {
            tracing::warn!(%error, dir = %previous.display(), "cannot remove the replaced data");
        }
        // The received file becomes the current snapshot (found by inode:
        // openraft hands back the file it was given).
        let mut kept = None;
        for entry in std::fs::read_dir(self.root.join(SNAPSHOTS))? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("incoming-") {
                let m = entry.metadata()?;
                if m.ino() == received.ino() && m.dev() == received.dev() {
                    kept = Some(name);
                }
            }
        }
        let name = format!("{}.tar", meta.snapshot_id);
        match kept {
            Some(incoming) => {
                std::fs::rename(self.snapshot_path(&incoming), self.snapshot_path(&name))?
            }
            None => {
                let mut out = std::fs::File::create(self.snapshot_path(&name))?;
                let mut reader = &file;
                io::Seek::seek(&mut reader, io::SeekFrom::Start(0))?;
                io::copy(&mut reader, &mut out)?;
                out.sync_all()?;
            }
        }
        publish_snapshot(&self.root, meta, &name)?;
        for entry in std::fs::read_dir(self.root.join(SNAPSHOTS))? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("incoming-") {
                std::fs::remove_file(entry.path())?;
            }
        }
        Ok(())
    }
}

impl RaftStateMachine<TypeConfig> for ShardMachine {
    type SnapshotBuilder = Builder;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId>, StoredMembership<NodeId, BasicNode>), StorageError<NodeId>> {
        let applied = self.shared.collection().applied_lsn();
        let state = self.shared.state();
        let positions = &state.positions;
        let index = applied.checked_sub(1);
        let log_id = match index {
            Some(i) => Some(positions.log_id(i).ok_or_else(|| {
                sm_read(format!("no leader known for entry {i} of the shard's log"))
            })?),
            None => None,
        };
        Ok((
            log_id,
            positions.memberships.last().cloned().unwrap_or_default(),
        ))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Applied>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry> + Send,
        I::IntoIter: Send,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let machine = self.clone();
        tokio::task::spawn_blocking(move || machine.apply_blocking(entries))
            .await
            .map_err(sm_write)?
            .map_err(sm_write)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        Builder {
            root: self.root.clone(),
            shared: Arc::clone(&self.shared),
        }
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<tokio::fs::File>, StorageError<NodeId>> {
        self.next_file += 1;
        let path = self.snapshot_path(&format!("incoming-{}.tar", self.next_file));
        let file = create_incoming(&path)
            .await
            .map_err(|e| snapshot_error(None, ErrorVerb::Write, e))?;
        Ok(Box::new(file))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, BasicNode>,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError<NodeId>> {
        let file = snapshot.into_std().await;
        let machine = self.clone();
        let owned = meta.clone();
        tokio::task::spawn_blocking(move || machine.install_blocking(&owned, file))
            .await
            .map_err(|e| snapshot_error(Some(meta), ErrorVerb::Write, e))?
            .map_err(|e| snapshot_error(Some(meta), ErrorVerb::Write, e))
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let Some(described) =
            read_snapshot_file(&self.root).map_err(|e| snapshot_error(None, ErrorVerb::Read, e))?
        else {
            return Ok(None);
        };
        let path = self.snapshot_path(&described.file);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| snapshot_error(Some(&described.meta), ErrorVerb::Read, e))?;
        Ok(Some(Snapshot {
            meta: described.meta,
            snapshot: Box::new(file),
        }))
    }
}
