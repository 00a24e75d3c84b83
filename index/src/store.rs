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
use std::path::{Path, PathBuf};

use parking_lot::{Mutex, RwLock};

use crate::collection::{Collection, CollectionConfig, SealPolicy};
use crate::error::{IndexError, Result};
use crate::storage::{StorageError, Wal, WalOptions, read_file, sync_dir, write_file};

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
            if name.starts_with('.') {
                // Leftovers of an interrupted create or delete.
                let _ = std::fs::remove_dir_all(entry.path());
                continue;
            }
            if validate_name(&name).is_err() || !entry.path().is_dir() {
                tracing::warn!(entry = %entry.path().display(), "ignoring an unexpected entry in the data directory");
                continue;
            }
            let opened = open_one(&name, &entry.path(), &wal, policy);
            collections.insert(name, opened);
        }
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
            collection.close();
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
