//! Read-only, memory-mapped checksummed files: the large files of sealed
//! segments (full vectors, token vectors, payloads), which are written once
//! with [`super::FileWriter`] and then only read.
//!
//! Opening checks the footer (kind, version, length) at once; the body's
//! checksum is verified by streaming the file through `read`, never through
//! the mapping, so a verification does not make the whole file resident in
//! the process (a compact layout's full vectors should stay on disk until a
//! rerank reads a few rows).
//!
//! The `unsafe` of this module is mapping the file (undefined behaviour if
//! another process truncates it: the segment's files are the server's own and
//! never written again) and viewing the mapped body as `f32`s or `u64`s (the
//! mapping is page-aligned, and callers ask only for views whose start is a
//! multiple of the element size).
#![allow(unsafe_code)]

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::{Advice, Mmap, MmapOptions};

use super::snapshot::check_footer;
use super::{FOOTER_LEN, StorageError};

/// A checksummed file mapped read-only.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    map: Option<Mmap>,
    body_len: usize,
    crc: u32,
    version: u16,
}

impl MappedFile {
    /// Drops the file's pages from this process's resident set, after a pass
    /// that read all of it (an index rebuilt from the payloads): they stay in
    /// the page cache, and later reads map them in again.
    pub fn release_resident(&self) {
        if let Some(map) = &self.map {
            // SAFETY: a read-only shared mapping of a file never written
            // again: dropping its pages loses nothing.
            let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    /// Drops the pages wholly inside bytes `start..end` of the body from this
    /// process's resident set (as [`MappedFile::release_resident`] does for
    /// the whole file), behind a sequential pass.
    pub fn release_range(&self, start: usize, end: usize) {
        let page = page_size();
        let start = start.div_ceil(page) * page;
        let end = end.min(self.body_len) / page * page;
        if let Some(map) = &self.map
            && start < end
        {
            // SAFETY: as in `release_resident`.
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
            };
        }
    }

    /// Maps the file at `path`, checking its footer (not yet its checksum:
    /// see [`MappedFile::verify`]). `random` advises the kernel that reads
    /// will be scattered (reranks), so that it does not read ahead.
    pub fn open(
        path: &Path,
        kind: [u8; 4],
        max_version: u16,
        random: bool,
    ) -> Result<Self, StorageError> {
        let file = File::open(path).map_err(|e| StorageError::io(path, e))?;
        let len = file
            .metadata()
            .map_err(|e| StorageError::io(path, e))?
            .len();
        let mut footer = [0u8; FOOTER_LEN];
        if len >= FOOTER_LEN as u64 {
            file.read_exact_at(&mut footer, len - FOOTER_LEN as u64)
                .map_err(|e| StorageError::io(path, e))?;
        }
        let (version, body_len, crc) = check_footer(path, len, &footer, kind, max_version)?;
        let body_len = usize::try_from(body_len)
            .map_err(|_| StorageError::corrupt(path, "file too large for this platform"))?;
        let map = if body_len == 0 {
            None
        } else {
            // SAFETY: the file is never written again once sealed, and the
            // mapping is read-only; see the module's comment.
            let map = unsafe { MmapOptions::new().len(body_len).map(&file) }
                .map_err(|e| StorageError::io(path, e))?;
            if random {
                let _ = map.advise(Advice::Random);
            }
            Some(map)
        };
        Ok(Self {
            path: path.to_path_buf(),
            map,
            body_len,
            crc,
            version,
        })
    }

    /// Reads the whole body through `read` (not the mapping) and compares its
    /// checksum with the footer's.
    pub fn verify(&self) -> Result<(), StorageError> {
        verify_stream(&self.path, self.body_len as u64, self.crc)
    }

    /// The format version the footer states.
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The body's bytes.
    pub fn body(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// Bytes of the body.
    pub fn len(&self) -> usize {
        self.body_len
    }

    /// True for an empty body.
    pub fn is_empty(&self) -> bool {
        self.body_len == 0
    }

    /// The body from byte `start` (a multiple of 4) as `f32`s, up to a whole number of them.
    pub fn f32s(&self, start: usize) -> &[f32] {
        let bytes = &self.body()[start.min(self.body_len)..];
        assert_eq!(start % 4, 0, "f32 view at byte {start}");
        // SAFETY: inside the mapping, which lives as long as `&self`; the
        // base is page-aligned and `start` a multiple of 4; every bit
        // pattern is a valid f32.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<f32>(), bytes.len() / 4) }
    }

    /// The body from byte `start` (a multiple of 4) as `u32`s, up to a whole number of them.
    pub fn u32s(&self, start: usize) -> &[u32] {
        let bytes = &self.body()[start.min(self.body_len)..];
        assert_eq!(start % 4, 0, "u32 view at byte {start}");
        // SAFETY: as in `f32s`; every bit pattern is a valid u32.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<u32>(), bytes.len() / 4) }
    }

    /// The body from byte `start` (a multiple of 8) as `u64`s, up to a whole number of them.
    pub fn u64s(&self, start: usize) -> &[u64] {
        let bytes = &self.body()[start.min(self.body_len)..];
        assert_eq!(start % 8, 0, "u64 view at byte {start}");
        // SAFETY: as in `f32s`, with 8-byte alignment.
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<u64>(), bytes.len() / 8) }
    }
}

/// Streams the first `body_len` bytes of `path` and compares their crc32 with `expected`.
/// The system's page size.
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(size)
        .ok()
        .filter(|&s| s > 0)
        .unwrap_or(4096)
}

pub(crate) fn verify_stream(path: &Path, body_len: u64, expected: u32) -> Result<(), StorageError> {
    let file = File::open(path).map_err(|e| StorageError::io(path, e))?;
    // One buffer: a `BufReader` around it would copy every byte twice.
    let mut reader = file.take(body_len);
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| StorageError::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let crc = hasher.finalize();
    if crc != expected {
        return Err(StorageError::corrupt(
            path,
            format!("checksum mismatch: footer says {expected:08x}, body hashes to {crc:08x}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::storage::FileWriter;
    use crate::storage::testdir::TestDir;

    #[test]
    fn maps_verifies_and_detects_a_flipped_byte() {
        let dir = TestDir::new("mapped");
        let path = dir.join("v.f32");
        let mut w = FileWriter::create(&path, *b"TEST", 1).unwrap();
        for i in 0..1_000u32 {
            w.write_all(&(i as f32).to_le_bytes()).unwrap();
        }
        w.finish().unwrap();
        let m = MappedFile::open(&path, *b"TEST", 1, true).unwrap();
        m.verify().unwrap();
        assert_eq!(m.f32s(0).len(), 1_000);
        assert_eq!(m.f32s(4 * 999), &[999.0]);
        drop(m);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let m = MappedFile::open(&path, *b"TEST", 1, true).unwrap();
        assert!(matches!(m.verify(), Err(StorageError::Corrupt { .. })));
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert!(MappedFile::open(&path, *b"TEST", 1, true).is_err());
    }
}
