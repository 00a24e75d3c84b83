//! Durable storage: write-ahead log, checksummed snapshot files, and the
//! memory-mapped vector file ([`VectorFile`]) that compact layouts rerank from.
//!
//! Two durable building blocks, both independent of what they store:
//!
//! - [`Wal`]: a per-collection write-ahead log of opaque byte records. An
//!   append returns its log sequence number (lsn) once the record is fsync'd;
//!   concurrent appenders share fsyncs (group commit). Opening the log replays
//!   every intact record and cuts off a torn or corrupt tail.
//! - [`write_file`] / [`FileWriter`] / [`read_file`]: snapshot files that end
//!   with a footer (kind, format version, body length, crc32, magic) and are
//!   written to a temporary file, fsync'd and renamed into place, so a reader
//!   sees either the old file or the complete new one.
//!
//! Recovery is "last snapshot, then the log records after the lsn it covers";
//! [`Wal::truncate_through`] drops the covered records once the snapshot is
//! durable.

mod mapped;
mod snapshot;
#[cfg(test)]
pub(crate) mod testdir;
mod vectors;
mod wal;

use std::path::{Path, PathBuf};

pub use mapped::MappedFile;
pub use snapshot::{CheckedBody, FOOTER_LEN, FileWriter, read_file, sync_dir, write_file};
pub use vectors::VectorFile;
pub use wal::{Recovered, Wal, WalOptions};

/// Errors from the write-ahead log and snapshot files.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An operating-system I/O call failed on `path`.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file exists but its contents are not what they should be.
    #[error("corrupt file {}: {reason}", path.display())]
    Corrupt {
        /// The corrupt file.
        path: PathBuf,
        /// What check failed, in words.
        reason: String,
    },
    /// A log record is larger than [`WalOptions::max_record_bytes`].
    #[error("record of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Length of the rejected record in bytes.
        len: usize,
        /// The configured limit in bytes.
        max: usize,
    },
}

impl StorageError {
    /// True when this is an I/O error saying the file does not exist
    /// (for example a snapshot that was never written).
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// True when the disk (or a quota) is full: the write failed without
    /// harm and may succeed once space returns.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StorageError::Io { source, .. } => {
                matches!(
                    source.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                ) || matches!(source.raw_os_error(), Some(28 | 122))
            }
            _ => false,
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        StorageError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// `path` with `.tmp` appended to its file name (`wal.log` → `wal.log.tmp`).
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The directory holding `path` (`.` for a bare file name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Swaps two directories (or files) on one file system atomically, where the
/// file system can (Linux `renameat2` with `RENAME_EXCHANGE`); returns false,
/// changing nothing, where it cannot.
#[allow(unsafe_code)]
pub(crate) fn exchange(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let cstr = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (cstr(a)?, cstr(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::ENOTSUP) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmp_path_appends_suffix() {
        assert_eq!(
            tmp_path(Path::new("/a/b/wal.log")),
            PathBuf::from("/a/b/wal.log.tmp")
        );
        assert_eq!(parent_dir(Path::new("wal.log")), Path::new("."));
        assert_eq!(parent_dir(Path::new("/a/wal.log")), Path::new("/a"));
    }

    #[test]
    fn errors_display_path_and_reason() {
        let e = StorageError::corrupt(Path::new("/x/points.snap"), "checksum mismatch");
        assert_eq!(
            e.to_string(),
            "corrupt file /x/points.snap: checksum mismatch"
        );
        let e = StorageError::io(
            Path::new("/x/none"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert!(e.is_not_found());
        assert!(e.to_string().starts_with("I/O error on /x/none"));
    }
}
