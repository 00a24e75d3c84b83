//! The set of collections under a data directory.
//!
//! Layout: `DATA/collections/<name>/` holds `config.json`, `wal.log` and
//! `points.snap`. A collection is created in a temporary directory and renamed
//! into place, and deleted by renaming it away first, so a crash never leaves a
//! half-made collection under its name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use parking_lot::RwLock;

use crate::collection::{Collection, CollectionConfig};
use crate::error::{IndexError, Result};
use crate::storage::{StorageError, WalOptions, sync_dir};

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
    collections: RwLock<BTreeMap<String, Collection>>,
}

impl Store {
    /// Opens (creating if needed) `data_dir` and every collection in it.
    pub fn open(data_dir: &Path, wal: WalOptions) -> Result<Self> {
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
            let collection = Collection::open(&name, &entry.path(), wal.clone())?;
            collections.insert(name, collection);
        }
        Ok(Self {
            root,
            wal,
            collections: RwLock::new(collections),
        })
    }

    /// Creates a collection.
    pub fn create(&self, name: &str, config: CollectionConfig) -> Result<Collection> {
        validate_name(name)?;
        config.validate()?;
        let mut collections = self.collections.write();
        if collections.contains_key(name) {
            return Err(IndexError::CollectionExists(name.to_string()));
        }
        let staging = self.root.join(format!(".creating-{name}"));
        let _ = std::fs::remove_dir_all(&staging);
        Collection::create(name, &staging, config, self.wal.clone())?.close();
        let target = self.root.join(name);
        std::fs::rename(&staging, &target).map_err(|source| StorageError::Io {
            path: target.clone(),
            source,
        })?;
        sync_dir(&self.root)?;
        let collection = Collection::open(name, &target, self.wal.clone())?;
        collections.insert(name.to_string(), collection.clone());
        Ok(collection)
    }

    /// The collection called `name`.
    pub fn get(&self, name: &str) -> Result<Collection> {
        self.collections
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| IndexError::CollectionNotFound(name.to_string()))
    }

    /// Every collection, by name.
    pub fn list(&self) -> Vec<Collection> {
        self.collections.read().values().cloned().collect()
    }

    /// Deletes a collection and its files.
    pub fn delete(&self, name: &str) -> Result<()> {
        let removed = self
            .collections
            .write()
            .remove(name)
            .ok_or_else(|| IndexError::CollectionNotFound(name.to_string()))?;
        removed.close();
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

impl Store {
    /// Stops every collection's background work; the store can be dropped and reopened.
    pub fn close(&self) {
        for collection in self.collections.read().values() {
            collection.close();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.close();
    }
}
