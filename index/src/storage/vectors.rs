//! Full-precision vectors in a memory-mapped file: the fine side of the
//! bi-granular layout. The vectors are not loaded into the heap; a rerank
//! reads only its candidates' rows, and the kernel's page cache decides what
//! stays resident.
//!
//! The file holds `dims` little-endian `f32`s per row, row `i` at byte
//! `i · dims · 4`, and only grows: rows are written once with `pwrite` into
//! space reserved beforehand (allocated with `fallocate`, or zero-filled where
//! the filesystem cannot, so a later write cannot fail for want of space), then read through a read-only
//! shared mapping of the whole reserved length, which sees the writes through
//! the page cache. Growing remaps, which needs `&mut self`: no row slice can be
//! alive across it. The file is derived data (the log and snapshots hold the
//! vectors too): it is rewritten from them at every open.
//!
//! The `unsafe` of this module is the `fallocate` call, mapping the file (undefined behaviour if
//! another process truncates it: the collection directory is the server's own)
//! and viewing mapped bytes as `f32`s (the mapping is page-aligned and rows are
//! whole `f32`s, so the view is aligned).
#![allow(unsafe_code)]

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::{Advice, Mmap, MmapOptions};

use super::StorageError;

/// Rows reserved at least, when the file first grows.
const MIN_ROWS: usize = 1_024;
/// Bytes of zeros written per call while reserving.
const ZERO_CHUNK: usize = 1 << 20;

/// Allocates the blocks of `len` bytes at `offset` (reading as zeros), so
/// that later writes there cannot fail for want of space: `fallocate`, which
/// takes microseconds (the appendable segment's lock is held meanwhile), or,
/// where the filesystem cannot, by writing zeros.
fn allocate(file: &File, offset: u64, len: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let (Ok(at), Ok(n)) = (libc::off_t::try_from(offset), libc::off_t::try_from(len)) else {
            return Err(std::io::Error::other("file too large"));
        };
        // SAFETY: a system call on an open descriptor this file owns.
        if unsafe { libc::fallocate(file.as_raw_fd(), 0, at, n) } == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if !matches!(
            error.raw_os_error(),
            Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
        ) {
            return Err(error);
        }
    }
    let zeros = vec![0u8; ZERO_CHUNK.min(len as usize)];
    let mut at = 0u64;
    while at < len {
        let n = (zeros.len() as u64).min(len - at) as usize;
        file.write_all_at(&zeros[..n], offset + at)?;
        at += n as u64;
    }
    Ok(())
}

/// Append-only `f32` rows in a memory-mapped file.
#[derive(Debug)]
pub struct VectorFile {
    path: PathBuf,
    file: File,
    map: Option<Mmap>,
    dims: usize,
    len: usize,
    capacity: usize,
}

impl VectorFile {
    /// Creates (or empties) the file at `path` for rows of `dims` floats.
    pub fn create(path: &Path, dims: usize) -> Result<Self, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(|e| StorageError::io(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            map: None,
            dims: dims.max(1),
            len: 0,
            capacity: 0,
        })
    }

    /// Floats per row.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows written.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the file takes on disk (its reserved length).
    pub fn disk_bytes(&self) -> u64 {
        (self.capacity * self.dims * 4) as u64
    }

    /// Makes room for `additional` more rows, so that the next pushes cannot
    /// fail for want of space.
    pub fn reserve(&mut self, additional: usize) -> Result<(), StorageError> {
        let needed = self.len.saturating_add(additional);
        if needed <= self.capacity {
            return Ok(());
        }
        let capacity = needed.max(self.capacity.saturating_mul(2)).max(MIN_ROWS);
        let row = self.dims * 4;
        let (from, to) = (self.capacity * row, capacity * row);
        if let Err(e) = allocate(&self.file, from as u64, (to - from) as u64) {
            // Give back what was taken (a full disk): the file keeps its
            // reserved length, and a later reserve starts again from there.
            let _ = self.file.set_len(from as u64);
            return Err(StorageError::io(&self.path, e));
        }
        // SAFETY: the file is this collection's own and only grows while mapped;
        // the mapping is read-only and covers bytes that exist (just written).
        let map = unsafe { MmapOptions::new().len(to).map(&self.file) }
            .map_err(|e| StorageError::io(&self.path, e))?;
        // Reranks read scattered rows: read-ahead would only evict useful pages.
        let _ = map.advise(Advice::Random);
        self.map = Some(map);
        self.capacity = capacity;
        Ok(())
    }

    /// Appends a row of `dims` floats (reserving space first if needed).
    pub fn push(&mut self, row: &[f32]) -> Result<(), StorageError> {
        debug_assert_eq!(row.len(), self.dims);
        self.reserve(1)?;
        let bytes: Vec<u8> = row.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.file
            .write_all_at(&bytes, (self.len * self.dims * 4) as u64)
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.len += 1;
        Ok(())
    }

    /// Appends whole rows (`rows.len()` a multiple of `dims`) with one write.
    pub fn push_rows(&mut self, rows: &[f32]) -> Result<(), StorageError> {
        debug_assert_eq!(rows.len() % self.dims, 0);
        let n = rows.len() / self.dims;
        self.reserve(n)?;
        let bytes: Vec<u8> = rows.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.file
            .write_all_at(&bytes, (self.len * self.dims * 4) as u64)
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.len += n;
        Ok(())
    }

    /// Rows `start..start + n`, flattened. Panics past [`VectorFile::len`].
    #[inline]
    pub fn rows(&self, start: usize, n: usize) -> &[f32] {
        assert!(start + n <= self.len, "rows {start}+{n} of {}", self.len);
        if n == 0 {
            return &[];
        }
        let Some(map) = &self.map else {
            unreachable!("rows exist only after a reservation mapped the file");
        };
        let from = start * self.dims * 4;
        let bytes = &map[from..from + n * self.dims * 4];
        // SAFETY: as in `get`: inside the mapping, 4-byte aligned, written
        // before `len` counted the rows and never written again.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), n * self.dims) }
    }

    /// Row `i`. Panics past [`VectorFile::len`].
    #[inline]
    pub fn get(&self, i: usize) -> &[f32] {
        assert!(i < self.len, "row {i} of {}", self.len);
        let Some(map) = &self.map else {
            unreachable!("rows exist only after a reservation mapped the file");
        };
        let start = i * self.dims * 4;
        let bytes = &map[start..start + self.dims * 4];
        debug_assert_eq!(bytes.as_ptr().align_offset(std::mem::align_of::<f32>()), 0);
        // SAFETY: `bytes` lies inside the mapping, which lives as long as `&self`;
        // its start is 4-byte aligned (page-aligned base, offsets in whole f32s);
        // every bit pattern is a valid f32; the row was written before `len`
        // counted it and is never written again.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), self.dims) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testdir::TestDir;

    #[test]
    fn rows_read_back_across_growth_and_the_file_is_recreated_empty() {
        let dir = TestDir::new("vectors");
        let path = dir.path().join("vectors.f32");
        let mut file = VectorFile::create(&path, 3).unwrap();
        for i in 0..3_000 {
            file.push(&[i as f32, -(i as f32), 0.5]).unwrap();
        }
        assert_eq!(file.len(), 3_000);
        assert_eq!(file.get(0), &[0.0, -0.0, 0.5]);
        assert_eq!(file.get(2_999), &[2_999.0, -2_999.0, 0.5]);
        assert!(file.disk_bytes() >= 3_000 * 12);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            file.disk_bytes(),
            "reserved space is allocated on disk"
        );
        drop(file);
        let file = VectorFile::create(&path, 3).unwrap();
        assert!(file.is_empty());
    }
}
