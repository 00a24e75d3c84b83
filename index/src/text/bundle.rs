//! A sealed segment's tantivy index as one checksummed file.
//!
//! tantivy keeps an index as a directory of files (`meta.json` and a few
//! files per tantivy segment). A sealed segment's index is built in a
//! scratch directory, then its files are copied one after another into
//! `text.bin`, which ends with the storage layer's footer like every other
//! file of the segment: the manifest names it with its length and checksum,
//! snapshots link it, the damage checks and the scrub read it. Searches
//! read it mapped, through [`BundleDirectory`], a read-only tantivy
//! [`Directory`] whose files are ranges of the mapping.
//!
//! ```text
//! body: count:u32 { name_len:u16 name start:u64 len:u64 }* pad { file bytes, padded to 8 }*
//! ```
//!
//! The `unsafe` of this module is declaring the mapped body a stable
//! address for tantivy's `OwnedBytes` (see [`Body`]).
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::io::Write;
use std::ops::{Deref, Range};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, OwnedBytes, WatchCallback, WatchHandle, WritePtr,
};

use crate::storage::{FileWriter, MappedFile, StorageError};

/// The file's kind in its footer.
pub(crate) const KIND: [u8; 4] = *b"SFTX";
/// Its format version.
pub(crate) const VERSION: u16 = 1;

/// Copies every file of the tantivy index in `dir` (but its lock files) into
/// the bundle at `path`.
pub(crate) fn write(path: &Path, dir: &Path) -> Result<(), StorageError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| StorageError::io(&p, e)
    };
    let mut files: Vec<(String, u64)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".lock") {
            continue;
        }
        let len = entry.metadata().map_err(io(&entry.path()))?.len();
        files.push((name, len));
    }
    files.sort();
    let mut toc = Vec::new();
    toc.extend_from_slice(&(files.len() as u32).to_le_bytes());
    let toc_len: usize = 4 + files.iter().map(|(n, _)| 2 + n.len() + 16).sum::<usize>();
    let mut start = toc_len.next_multiple_of(8) as u64;
    for (name, len) in &files {
        let name_len = u16::try_from(name.len())
            .map_err(|_| StorageError::corrupt(dir, "a tantivy file name is too long"))?;
        toc.extend_from_slice(&name_len.to_le_bytes());
        toc.extend_from_slice(name.as_bytes());
        toc.extend_from_slice(&start.to_le_bytes());
        toc.extend_from_slice(&len.to_le_bytes());
        start = (start + len).next_multiple_of(8);
    }
    toc.resize(toc_len.next_multiple_of(8), 0);
    let mut out = FileWriter::create(path, KIND, VERSION)?;
    let written = io(path);
    out.write_all(&toc).map_err(&written)?;
    for (name, len) in &files {
        let file_path = dir.join(name);
        let mut file = std::fs::File::open(&file_path).map_err(io(&file_path))?;
        let copied = std::io::copy(&mut file, &mut out).map_err(io(&file_path))?;
        if copied != *len {
            return Err(StorageError::corrupt(
                &file_path,
                "the file changed while it was bundled",
            ));
        }
        let pad = (len.next_multiple_of(8) - len) as usize;
        out.write_all(&[0u8; 8][..pad]).map_err(&written)?;
    }
    out.finish()
}

/// The mapped body of a bundle, as tantivy's `OwnedBytes` wants it.
#[derive(Debug, Clone)]
struct Body(Arc<MappedFile>);

impl Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.0.body()
    }
}

// SAFETY: the bytes are a read-only mapping owned by the `MappedFile`, which
// the `Arc` keeps alive and never remaps: moving or cloning a `Body` never
// moves the bytes it derefs to.
unsafe impl stable_deref_trait::StableDeref for Body {}

/// A bundle opened for reading: a read-only tantivy directory.
#[derive(Debug, Clone)]
pub(crate) struct BundleDirectory {
    bytes: OwnedBytes,
    files: Arc<HashMap<PathBuf, Range<usize>>>,
}

impl BundleDirectory {
    /// Reads the table of contents of the mapped bundle `file`.
    pub(crate) fn new(file: Arc<MappedFile>, path: &Path) -> Result<Self, StorageError> {
        let corrupt = |reason: &str| StorageError::corrupt(path, reason);
        let body = file.body();
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], StorageError> {
            let bytes = body
                .get(at..at + n)
                .ok_or_else(|| corrupt("its table of files is truncated"))?;
            at += n;
            Ok(bytes)
        };
        let count = u32::from_le_bytes(take(4)?.try_into().unwrap_or_default());
        let mut files = HashMap::with_capacity(count as usize);
        for _ in 0..count {
            let len = u16::from_le_bytes(take(2)?.try_into().unwrap_or_default()) as usize;
            let name = std::str::from_utf8(take(len)?)
                .map_err(|_| corrupt("a file name is not UTF-8"))?
                .to_string();
            let start = u64::from_le_bytes(take(8)?.try_into().unwrap_or_default()) as usize;
            let len = u64::from_le_bytes(take(8)?.try_into().unwrap_or_default()) as usize;
            let end = start
                .checked_add(len)
                .filter(|&end| end <= body.len())
                .ok_or_else(|| corrupt("a file lies past the end of the bundle"))?;
            files.insert(PathBuf::from(name), start..end);
        }
        Ok(Self {
            bytes: OwnedBytes::new(Body(file)),
            files: Arc::new(files),
        })
    }

    fn slice(&self, path: &Path) -> Result<OwnedBytes, OpenReadError> {
        let range = self
            .files
            .get(path)
            .ok_or_else(|| OpenReadError::FileDoesNotExist(path.to_path_buf()))?;
        Ok(self.bytes.slice(range.clone()))
    }
}

fn read_only(path: &Path) -> Arc<std::io::Error> {
    Arc::new(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "{}: a sealed segment's text index is read-only",
            path.display()
        ),
    ))
}

impl Directory for BundleDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        Ok(Arc::new(self.slice(path)?))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: read_only(path),
            filepath: path.to_path_buf(),
        })
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        Ok(self.files.contains_key(path))
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: read_only(path),
            filepath: path.to_path_buf(),
        })
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        Ok(self.slice(path)?.as_slice().to_vec())
    }

    fn atomic_write(&self, path: &Path, _data: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            read_only(path).to_string(),
        ))
    }

    /// Nothing ever writes a bundle: readers need no lock (tantivy's reader
    /// takes the meta lock while it loads).
    fn acquire_lock(&self, _lock: &Lock) -> Result<DirectoryLock, LockError> {
        Ok(DirectoryLock::from(Box::new(())))
    }

    fn sync_directory(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn watch(&self, _callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}
