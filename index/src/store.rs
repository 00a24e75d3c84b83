//! The set of collections under a data directory.
//!
//! Layout: `DATA/collections/<name>/` holds `config.json`, `wal.log` and
//! `points.snap`. A collection is created in a temporary directory and renamed
//! into place, and deleted by renaming it away first, so a crash never leaves a
//! half-made collection under its name.
//!
//! A collection whose files are damaged or missing is **refused on its own**:
//! it stays listed as damaged with what was found ([`Store::damaged`]), every
//! request for it fails with [`IndexError::CollectionDamaged`], and the other
//! collections open and serve as usual. An operator then restores a snapshot
//! into its directory and calls [`Store::reopen`], accepts the log's intact
//! prefix through [`Store::reopen`] with `accept_intact_log_prefix`, or
//! deletes it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};

use crate::collection::{Collection, CollectionConfig, SealPolicy};
use crate::error::{IndexError, Result};
use crate::snapshots::{self, RestoreInfo, SnapshotEntry};
use crate::storage::{StorageError, Wal, WalOptions, exchange, read_file, sync_dir, write_file};

/// Longest collection name.
pub const MAX_NAME_LEN: usize = 64;

/// Checks a collection name: 1 to 64 of `[A-Za-z0-9_-]`, not starting with `-` or `_`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(IndexError::InvalidParameter {
            field: "name".into(),
            reason: format!(
                "{name:?} is not a valid collection name: use 1 to {MAX_NAME_LEN} letters, digits, '_' or '-', starting with a letter or digit"
            ),
        })
    }
}

/// Every collection of a data directory.
pub struct Store {
    root: PathBuf,
    wal: WalOptions,
    policy: SealPolicy,
    collections: RwLock<BTreeMap<String, Entry>>,
    /// Alias → collection (locked after `collections` when both are).
    aliases: RwLock<BTreeMap<String, String>>,
    /// Serialises [`Store::reopen`].
    reopening: Mutex<()>,
}

/// One change to the aliases (see [`Store::update_aliases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasAction {
    /// Makes `alias` name `collection` (the alias must not exist yet).
    Create {
        /// The new alias.
        alias: String,
        /// The collection it names.
        collection: String,
    },
    /// Removes `alias`.
    Delete {
        /// The alias.
        alias: String,
    },
}

/// Stored snapshots (in the data directory, beside `collections/`), a
/// directory per collection (see [`crate::snapshots`]).
const SNAPSHOTS_DIR: &str = "snapshots";

/// The aliases file (in the data directory, beside `collections/`).
const ALIASES_FILE: &str = "aliases";
const ALIASES_KIND: [u8; 4] = *b"ALIA";
const ALIASES_VERSION: u16 = 1;

/// A collection as the store holds it.
#[derive(Clone)]
enum Entry {
    Open(Collection),
    /// Refused at open: what was found.
    Damaged(String),
}

/// What an operator is told about a damaged collection, after what was found.
const DAMAGED_HELP: &str = "restore a snapshot into the collection's directory and reopen it, reopen it accepting the log's intact prefix (dropping the damaged record and every record after it), or delete the collection";

impl Store {
    /// Opens (creating if needed) `data_dir` and every collection in it. A
    /// collection that cannot be opened is kept as damaged (see the module
    /// docs); only a data directory that cannot be read at all is an error.
    pub fn open(data_dir: &Path, wal: WalOptions) -> Result<Self> {
        Self::open_with(data_dir, wal, SealPolicy::default())
    }

    /// [`Store::open`] with a segment sealing policy for every collection.
    pub fn open_with(data_dir: &Path, wal: WalOptions, policy: SealPolicy) -> Result<Self> {
        let root = data_dir.join("collections");
        let io = |source| StorageError::Io {
            path: root.clone(),
            source,
        };
        std::fs::create_dir_all(&root).map_err(io)?;
        let mut collections = BTreeMap::new();
        for entry in std::fs::read_dir(&root).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().to_string();
            if let Some(owner) = replaced_owner(&name)
                && !root.join(owner).exists()
            {
                // A restore without an atomic exchange stopped between its
                // two renames: the collection goes back where it was.
                let back = root.join(owner);
                tracing::warn!(collection = owner, "an interrupted restore is undone");
                std::fs::rename(entry.path(), &back).map_err(io)?;
                let opened = open_one(owner, &back, &wal, policy);
                collections.insert(owner.to_string(), opened);
                continue;
            }
            if name.starts_with('.') {
                // Leftovers of an interrupted create, delete or restore.
                let _ = std::fs::remove_dir_all(entry.path());
                continue;
            }
            if validate_name(&name).is_err() || !entry.path().is_dir() {
                tracing::warn!(entry = %entry.path().display(), "ignoring an unexpected entry in the data directory");
                continue;
            }
            if collections.contains_key(&name) {
                continue; // moved back from an interrupted restore above
            }
            let opened = open_one(&name, &entry.path(), &wal, policy);
            collections.insert(name, opened);
        }
        remove_snapshot_leftovers(&data_dir.join(SNAPSHOTS_DIR));
        let aliases = read_aliases(&data_dir.join(ALIASES_FILE));
        for (alias, collection) in &aliases {
            if !collections.contains_key(collection) {
                tracing::warn!(
                    alias,
                    collection,
                    "an alias names a collection that is not in the data directory"
                );
            }
        }
        Ok(Self {
            root,
            wal,
            policy,
            collections: RwLock::new(collections),
            aliases: RwLock::new(aliases),
            reopening: Mutex::new(()),
        })
    }

    /// Every alias and the collection it names, by alias.
    pub fn aliases(&self) -> BTreeMap<String, String> {
        self.aliases.read().clone()
    }

    /// Applies `actions` in order, all or none, and makes the result durable
    /// before it is seen: an alias switched from one collection to another
    /// (a delete and a create in one call) never names neither.
    pub fn update_aliases(&self, actions: &[AliasAction]) -> Result<()> {
        let collections = self.collections.read();
        let mut aliases = self.aliases.write();
        let mut next = aliases.clone();
        for (i, action) in actions.iter().enumerate() {
            match action {
                AliasAction::Create { alias, collection } => {
                    validate_name(alias).map_err(|_| IndexError::InvalidParameter {
                        field: format!("actions[{i}].create.alias"),
                        reason: format!(
                            "{alias:?} is not a valid name: use 1 to {MAX_NAME_LEN} letters, digits, '_' or '-', starting with a letter or digit"
                        ),
                    })?;
                    if collections.contains_key(alias) {
                        return Err(IndexError::NameTaken(format!(
                            "actions[{i}]: {alias:?} is a collection's name; an alias needs a name of its own"
                        )));
                    }
                    if let Some(existing) = next.get(alias) {
                        return Err(IndexError::NameTaken(format!(
                            "actions[{i}]: alias {alias:?} exists (it names {existing:?}); to switch it, delete it and create it again in one request"
                        )));
                    }
                    if !collections.contains_key(collection) {
                        return Err(IndexError::CollectionNotFound(collection.clone()));
                    }
                    next.insert(alias.clone(), collection.clone());
                }
                AliasAction::Delete { alias } => {
                    if next.remove(alias).is_none() {
                        return Err(IndexError::AliasNotFound(alias.clone()));
                    }
                }
            }
        }
        self.write_aliases(&next)?;
        *aliases = next;
        Ok(())
    }

    fn write_aliases(&self, aliases: &BTreeMap<String, String>) -> Result<()> {
        let body = serde_json::to_vec(aliases).map_err(|e| {
            IndexError::Storage(StorageError::io(
                &self.aliases_path(),
                std::io::Error::other(e),
            ))
        })?;
        write_file(&self.aliases_path(), ALIASES_KIND, ALIASES_VERSION, &body)?;
        Ok(())
    }

    fn aliases_path(&self) -> PathBuf {
        self.root
            .parent()
            .map_or_else(|| PathBuf::from(ALIASES_FILE), |d| d.join(ALIASES_FILE))
    }

    /// The collection `name` is, or names if it is an alias.
    fn resolve(&self, name: &str) -> String {
        if self.collections.read().contains_key(name) {
            return name.to_string();
        }
        self.aliases
            .read()
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// Creates a collection.
    pub fn create(&self, name: &str, config: CollectionConfig) -> Result<Collection> {
        validate_name(name)?;
        config.validate()?;
        let mut collections = self.collections.write();
        if collections.contains_key(name) {
            return Err(IndexError::CollectionExists(name.to_string()));
        }
        if let Some(target) = self.aliases.read().get(name) {
            return Err(IndexError::NameTaken(format!(
                "{name:?} is an alias (of {target:?}); a collection needs a name of its own"
            )));
        }
        let staging = self.root.join(format!(".creating-{name}"));
        let _ = std::fs::remove_dir_all(&staging);
        let created =
            Collection::create_with(name, &staging, config, self.wal.clone(), self.policy);
        let created = match created {
            Ok(created) => created,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(error.in_collection(name));
            }
        };
        created.close();
        drop(created);
        let target = self.root.join(name);
        std::fs::rename(&staging, &target).map_err(|source| StorageError::Io {
            path: target.clone(),
            source,
        })?;
        sync_dir(&self.root)?;
        let collection = Collection::open_with(name, &target, self.wal.clone(), self.policy)?;
        collections.insert(name.to_string(), Entry::Open(collection.clone()));
        Ok(collection)
    }

    /// The collection called `name`, or named by the alias `name`.
    pub fn get(&self, name: &str) -> Result<Collection> {
        let name = &self.resolve(name);
        match self.collections.read().get(name) {
            Some(Entry::Open(collection)) => Ok(collection.clone()),
            Some(Entry::Damaged(reason)) => Err(IndexError::CollectionDamaged {
                name: name.to_string(),
                reason: reason.clone(),
            }),
            None => Err(IndexError::CollectionNotFound(name.to_string())),
        }
    }

    /// Every collection that is open, by name.
    pub fn list(&self) -> Vec<Collection> {
        self.collections
            .read()
            .values()
            .filter_map(|entry| match entry {
                Entry::Open(collection) => Some(collection.clone()),
                Entry::Damaged(_) => None,
            })
            .collect()
    }

    /// Every damaged collection as (name, what was found and what to do), by name.
    pub fn damaged(&self) -> Vec<(String, String)> {
        self.collections
            .read()
            .iter()
            .filter_map(|(name, entry)| match entry {
                Entry::Damaged(reason) => Some((name.clone(), reason.clone())),
                Entry::Open(_) => None,
            })
            .collect()
    }

    /// Opens a damaged collection again: after an operator restored its
    /// files, or, with `accept_intact_log_prefix`, cutting its log at the
    /// first damaged record first (the records from there on are dropped,
    /// intact or not). An open collection is returned as it is. When the
    /// collection still cannot be opened it stays damaged, with the new
    /// finding.
    pub fn reopen(&self, name: &str, accept_intact_log_prefix: bool) -> Result<Collection> {
        let name = &self.resolve(name);
        // One reopen at a time; the collection map is not locked while the
        // files are read, so every other collection keeps serving.
        let _one = self.reopening.lock();
        match self.collections.read().get(name) {
            None => return Err(IndexError::CollectionNotFound(name.to_string())),
            Some(Entry::Open(collection)) => return Ok(collection.clone()),
            Some(Entry::Damaged(_)) => {}
        }
        let dir = self.root.join(name);
        let entry = if accept_intact_log_prefix {
            let log = dir.join(crate::collection::WAL_FILE);
            match Wal::cut_at_damage(&log, &self.wal) {
                Ok(_) => open_one(name, &dir, &self.wal, self.policy),
                Err(error) => damaged(name, &IndexError::from(error)),
            }
        } else {
            open_one(name, &dir, &self.wal, self.policy)
        };
        let mut collections = self.collections.write();
        if !matches!(collections.get(name), Some(Entry::Damaged(_))) {
            // Deleted meanwhile.
            if let Entry::Open(collection) = &entry {
                collection.close();
            }
            return Err(IndexError::CollectionNotFound(name.to_string()));
        }
        let outcome = match &entry {
            Entry::Open(collection) => {
                tracing::info!(collection = name, "damaged collection reopened");
                Ok(collection.clone())
            }
            Entry::Damaged(reason) => Err(IndexError::CollectionDamaged {
                name: name.to_string(),
                reason: reason.clone(),
            }),
        };
        collections.insert(name.to_string(), entry);
        outcome
    }

    /// Deletes a collection and its files (a damaged one too), and the
    /// aliases that name it. An alias's name is refused: deleting data
    /// through an alias is too easy a mistake.
    pub fn delete(&self, name: &str) -> Result<()> {
        let mut collections = self.collections.write();
        let Some(removed) = collections.remove(name) else {
            if let Some(target) = self.aliases.read().get(name) {
                return Err(IndexError::InvalidParameter {
                    field: "name".into(),
                    reason: format!(
                        "{name:?} is an alias of {target:?}: delete the alias through POST /aliases, or the collection by its own name"
                    ),
                });
            }
            return Err(IndexError::CollectionNotFound(name.to_string()));
        };
        {
            let mut aliases = self.aliases.write();
            if aliases.values().any(|c| c == name) {
                let mut next = aliases.clone();
                next.retain(|_, c| c != name);
                if let Err(error) = self.write_aliases(&next) {
                    collections.insert(name.to_string(), removed);
                    return Err(error);
                }
                *aliases = next;
            }
        }
        drop(collections);
        if let Entry::Open(collection) = &removed {
            // Handles still held by requests in flight must not write into a
            // directory a new collection of this name may take.
            collection.retire();
        }
        drop(removed);
        let dir = self.root.join(name);
        let trash = self
            .root
            .join(format!(".deleting-{name}-{}", std::process::id()));
        std::fs::rename(&dir, &trash).map_err(|source| StorageError::Io {
            path: dir.clone(),
            source,
        })?;
        sync_dir(&self.root)?;
        let _ = std::fs::remove_dir_all(&trash);
        Ok(())
    }
}

/// The aliases stored at `path` (none if the file does not exist yet). A
/// damaged file does not stop the server: it is moved aside to
/// `aliases.damaged` (the log says so), every collection still serves by its
/// own name, and requests through the lost aliases answer 404 until they
/// are created again.
fn read_aliases(path: &Path) -> BTreeMap<String, String> {
    let parsed = match read_file(path, ALIASES_KIND, ALIASES_VERSION) {
        Ok((_, body)) => serde_json::from_slice(&body).map_err(|e| e.to_string()),
        Err(error) if error.is_not_found() => return BTreeMap::new(),
        Err(error) => Err(error.to_string()),
    };
    parsed.unwrap_or_else(|error| {
        let aside = path.with_extension("damaged");
        let moved = std::fs::rename(path, &aside);
        tracing::error!(
            file = %path.display(),
            %error,
            moved_to = %aside.display(),
            moved = moved.is_ok(),
            "the aliases file is damaged: starting without aliases; collections serve by their own names, create the aliases again"
        );
        BTreeMap::new()
    })
}

/// Opens one collection, or records why it cannot be.
fn open_one(name: &str, dir: &Path, wal: &WalOptions, policy: SealPolicy) -> Entry {
    match Collection::open_with(name, dir, wal.clone(), policy) {
        Ok(collection) => Entry::Open(collection),
        Err(error) => damaged(name, &error),
    }
}

fn damaged(name: &str, error: &IndexError) -> Entry {
    tracing::error!(collection = name, %error, help = DAMAGED_HELP, "collection is damaged and will not be served");
    Entry::Damaged(format!("{error}; to recover: {DAMAGED_HELP}"))
}

/// The collection a `.replaced-<name>-<32 hex digits>` directory held.
fn replaced_owner(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix(".replaced-")?;
    let owner = rest.get(..rest.len().checked_sub(33)?)?;
    (rest.as_bytes()[owner.len()] == b'-' && validate_name(owner).is_ok()).then_some(owner)
}

/// Removes the hidden directories an interrupted snapshot or deletion of one
/// left under `root/<collection>/`.
fn remove_snapshot_leftovers(root: &Path) {
    let Ok(collections) = std::fs::read_dir(root) else {
        return;
    };
    for collection in collections.flatten() {
        let Ok(entries) = std::fs::read_dir(collection.path()) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Snapshots: take, list, export, delete, restore (see [`crate::snapshots`]).
impl Store {
    fn snapshots_root(&self) -> PathBuf {
        self.root
            .parent()
            .map_or_else(|| PathBuf::from(SNAPSHOTS_DIR), |d| d.join(SNAPSHOTS_DIR))
    }

    /// The collection `name` is or names, whose snapshots exist or which
    /// exists (open or damaged).
    fn snapshot_owner(&self, name: &str) -> Result<String> {
        let name = self.resolve(name);
        validate_name(&name)?;
        if self.collections.read().contains_key(&name) || self.snapshots_root().join(&name).is_dir()
        {
            Ok(name)
        } else {
            Err(IndexError::CollectionNotFound(name))
        }
    }

    /// Takes a snapshot of the collection (checkpointing it first) and
    /// stores it under the data directory's `snapshots/<collection>/`.
    pub fn create_snapshot(&self, name: &str) -> Result<SnapshotEntry> {
        let collection = self.get(name)?;
        snapshots::create(&self.snapshots_root(), &collection)
    }

    /// The stored snapshots of a collection (or of a deleted one whose
    /// snapshots were kept), oldest first.
    pub fn snapshots(&self, name: &str) -> Result<Vec<SnapshotEntry>> {
        let owner = self.snapshot_owner(name)?;
        snapshots::list(&self.snapshots_root(), &owner)
    }

    /// Writes the stored snapshot `snapshot` to `out` as one archive (see
    /// [`crate::snapshots`]); returns the bytes of its files.
    pub fn export_snapshot(&self, name: &str, snapshot: &str, out: impl Write) -> Result<u64> {
        let owner = self.snapshot_owner(name)?;
        snapshots::export(&self.snapshots_root(), &owner, snapshot, out)
    }

    /// Checks that the stored snapshot `snapshot` of `name` exists (404
    /// `SnapshotNotFound` otherwise), without reading it.
    pub fn check_snapshot(&self, name: &str, snapshot: &str) -> Result<()> {
        let owner = self.snapshot_owner(name)?;
        snapshots::check(&self.snapshots_root(), &owner, snapshot)
    }

    /// Deletes a stored snapshot.
    pub fn delete_snapshot(&self, name: &str, snapshot: &str) -> Result<()> {
        let owner = self.snapshot_owner(name)?;
        snapshots::delete(&self.snapshots_root(), &owner, snapshot)
    }

    /// Restores the collection `name` (or the one the alias `name` names)
    /// from a snapshot archive read from `input`, creating it if it does not
    /// exist. The archive is written to a staging directory and checked
    /// whole (every member against its checksum, then the collection opened
    /// as at start-up) before anything replaces the collection; a refused
    /// archive changes nothing. The swap is one atomic rename where the file
    /// system allows it; the replaced collection's files are then removed.
    pub fn restore_snapshot(&self, name: &str, input: impl Read) -> Result<RestoreInfo> {
        let target = self.resolve(name);
        validate_name(&target)?;
        let staging = self.root.join(format!(
            ".restoring-{target}-{}",
            uuid::Uuid::new_v4().simple()
        ));
        let info = snapshots::stage(input, &staging, &target, |dir| {
            let inner = Collection::open_inner(&target, dir, self.wal.clone(), self.policy)?;
            let points = inner.segments().len() as u64;
            drop(inner);
            // The check's copy of the collection is freed: hand it back
            // before the copy that stays is opened, so that a restore's peak
            // holds one copy, not two.
            crate::background::release_freed_memory();
            Ok(points)
        })
        .map_err(|e| e.in_collection(&target))?;
        let _one = self.reopening.lock();
        // Retired before the map is locked (it waits for the collection's
        // write and maintenance in progress), and again under the lock in
        // case the name was created meanwhile (then a no-op otherwise).
        let current = self.collections.read().get(&target).cloned();
        if let Some(Entry::Open(collection)) = current {
            collection.retire();
        }
        let mut collections = self.collections.write();
        let existing = collections.get(&target).cloned();
        if let Some(Entry::Open(collection)) = &existing {
            collection.retire();
        }
        if self.aliases.read().contains_key(&target) && !collections.contains_key(&target) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(IndexError::NameTaken(format!(
                "{target:?} became an alias while the snapshot was read"
            )));
        }
        let dir = self.root.join(&target);
        let swapped = (|| -> Result<bool> {
            let exists = dir.try_exists().map_err(|e| StorageError::io(&dir, e))?;
            if exists {
                if exchange(&staging, &dir).map_err(|e| StorageError::io(&dir, e))? {
                    return Ok(true);
                }
                // No atomic exchange here: move the old directory aside first.
                let aside = self.root.join(format!(
                    ".replaced-{target}-{}",
                    uuid::Uuid::new_v4().simple()
                ));
                std::fs::rename(&dir, &aside).map_err(|e| StorageError::io(&dir, e))?;
                std::fs::rename(&staging, &dir).map_err(|e| StorageError::io(&dir, e))?;
                std::fs::rename(&aside, &staging).map_err(|e| StorageError::io(&aside, e))?;
                return Ok(true);
            }
            std::fs::rename(&staging, &dir).map_err(|e| StorageError::io(&dir, e))?;
            Ok(false)
        })();
        let replaced = match swapped {
            Ok(replaced) => replaced,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&staging);
                if let Some(entry) = existing {
                    let reopened = match entry {
                        Entry::Open(_) => open_one(&target, &dir, &self.wal, self.policy),
                        damaged => damaged,
                    };
                    collections.insert(target.clone(), reopened);
                }
                return Err(error.in_collection(&target));
            }
        };
        sync_dir(&self.root)?;
        let mut opened = open_one(&target, &dir, &self.wal, self.policy);
        let outcome = match &opened {
            Entry::Open(_) => Ok(info),
            Entry::Damaged(reason) => {
                // It opened when staged, so this is the environment (a
                // full disk, say): the replaced collection goes back.
                let error = IndexError::InvalidSnapshot(format!(
                    "the restored collection did not open in place: {reason}"
                ));
                if replaced && matches!(exchange(&staging, &dir), Ok(true)) {
                    opened = match existing {
                        Some(Entry::Open(_)) => open_one(&target, &dir, &self.wal, self.policy),
                        Some(damaged) => damaged,
                        None => opened,
                    };
                }
                Err(error)
            }
        };
        collections.insert(target.clone(), opened);
        drop(collections);
        if replaced {
            let _ = std::fs::remove_dir_all(&staging);
        }
        if outcome.is_ok() {
            tracing::info!(
                collection = target,
                replaced,
                "collection restored from a snapshot"
            );
        }
        outcome
    }
}

impl Store {
    /// Stops every collection's background work; the store can be dropped and reopened.
    pub fn close(&self) {
        for entry in self.collections.read().values() {
            if let Entry::Open(collection) = entry {
                collection.close();
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}
