//! Checksummed files written atomically (snapshots, manifests).
//!
//! Layout: the body, then a fixed footer of [`FOOTER_LEN`] bytes:
//!
//! ```text
//! [kind: 4 bytes][version: u16 LE][body length: u64 LE][crc32 of body: u32 LE][magic "TRWL"]
//! ```
//!
//! A file is written to `<path>.tmp`, fsync'd, renamed over `<path>`, and the
//! directory is fsync'd, so after a crash `<path>` holds either the previous
//! complete file or the new complete file. A stale `<path>.tmp` left by a crash
//! is garbage and is overwritten by the next write.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{StorageError, parent_dir, tmp_path};

/// Length in bytes of the footer that ends every file written by [`FileWriter`].
pub const FOOTER_LEN: usize = 4 + 2 + 8 + 4 + 4;

const FOOTER_MAGIC: [u8; 4] = *b"TRWL";
const BUF_CAPACITY: usize = 1 << 20;

/// Streams a body to `<path>.tmp` while computing its crc32; [`finish`]
/// appends the footer, fsyncs and renames the file over `path`.
///
/// Dropping the writer without calling [`finish`] deletes the temporary file
/// and leaves `path` untouched. Writes to one `path` must not overlap: two
/// writers would share the same temporary file.
///
/// [`finish`]: FileWriter::finish
pub struct FileWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: Option<BufWriter<File>>,
    hasher: crc32fast::Hasher,
    len: u64,
    kind: [u8; 4],
    version: u16,
}

impl FileWriter {
    /// Creates (or truncates) `<path>.tmp` for a file of the given `kind` and
    /// format `version`.
    pub fn create(path: &Path, kind: [u8; 4], version: u16) -> Result<Self, StorageError> {
        let tmp = tmp_path(path);
        let file = File::create(&tmp).map_err(|e| StorageError::io(&tmp, e))?;
        Ok(FileWriter {
            path: path.to_path_buf(),
            tmp,
            out: Some(BufWriter::with_capacity(BUF_CAPACITY, file)),
            hasher: crc32fast::Hasher::new(),
            len: 0,
            kind,
            version,
        })
    }

    /// Number of body bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.len
    }

    /// Writes the footer, fsyncs the temporary file, renames it over the
    /// target path and fsyncs the directory. The new file is durable when this
    /// returns `Ok`; on error the temporary file is removed and the previous
    /// file (if any) is left in place.
    pub fn finish(mut self) -> Result<(), StorageError> {
        let Some(out) = self.out.take() else {
            return Err(StorageError::corrupt(&self.path, "writer already finished"));
        };
        let result = self.finish_inner(out);
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn finish_inner(&mut self, mut out: BufWriter<File>) -> Result<(), StorageError> {
        let crc = std::mem::take(&mut self.hasher).finalize();
        let footer = encode_footer(self.kind, self.version, self.len, crc);
        out.write_all(&footer)
            .map_err(|e| StorageError::io(&self.tmp, e))?;
        let file = out
            .into_inner()
            .map_err(|e| StorageError::io(&self.tmp, e.into_error()))?;
        file.sync_all()
            .map_err(|e| StorageError::io(&self.tmp, e))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| StorageError::io(&self.path, e))?;
        sync_dir(parent_dir(&self.path))
    }
}

impl Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| std::io::Error::other("FileWriter already finished"))?;
        let n = out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.out.as_mut() {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            // Abandoned: discard the partial file, keep the previous one.
            drop(out);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl std::fmt::Debug for FileWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWriter")
            .field("path", &self.path)
            .field("kind", &self.kind.escape_ascii().to_string())
            .field("version", &self.version)
            .field("bytes_written", &self.len)
            .finish()
    }
}

/// Writes `body` to `path` atomically: to `<path>.tmp`, with a footer
/// `[kind: 4 bytes][version: u16 LE][body length: u64 LE][crc32 of body: u32 LE][magic: 4 bytes]`,
/// fsync, rename over `path`, fsync the directory.
///
/// For large bodies prefer [`FileWriter`], which streams instead of requiring
/// the whole body in memory.
pub fn write_file(
    path: &Path,
    kind: [u8; 4],
    version: u16,
    body: &[u8],
) -> Result<(), StorageError> {
    let mut writer = FileWriter::create(path, kind, version)?;
    writer
        .write_all(body)
        .map_err(|e| StorageError::io(&writer.tmp, e))?;
    writer.finish()
}

/// Reads and verifies a file written by [`write_file`] or [`FileWriter`],
/// returning its format version and body.
///
/// Fails with [`StorageError::Corrupt`] on a missing footer or bad magic
/// (for example a truncated file), a wrong `kind`, a version newer than
/// `max_version`, a body length that does not match the file size, or a
/// checksum mismatch; with [`StorageError::Io`] if the file cannot be read
/// (see [`StorageError::is_not_found`]).
pub fn read_file(
    path: &Path,
    kind: [u8; 4],
    max_version: u16,
) -> Result<(u16, Vec<u8>), StorageError> {
    let mut data = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    let footer_at = data.len().saturating_sub(FOOTER_LEN);
    let (version, body_len, expected) = check_footer(
        path,
        data.len() as u64,
        &data[footer_at..],
        kind,
        max_version,
    )?;
    let body_len = body_len as usize;
    data.truncate(body_len);
    let crc = crc32fast::hash(&data);
    if crc != expected {
        return Err(StorageError::corrupt(
            path,
            format!("checksum mismatch: footer says {expected:08x}, body hashes to {crc:08x}"),
        ));
    }
    Ok((version, data))
}

/// A checksummed file's body read in pieces: for a large file decoded into
/// another form (a segment's graph), so that the file's bytes and the
/// decoded form are never both whole in memory. [`CheckedBody::finish`]
/// reads the rest and checks the checksum; nothing decoded may be used
/// before it returns `Ok`.
pub struct CheckedBody {
    file: std::fs::File,
    path: std::path::PathBuf,
    len: u64,
    remaining: u64,
    buf: Vec<u8>,
    at: usize,
    hasher: crc32fast::Hasher,
    expected: u32,
}

/// Bytes a [`CheckedBody`] reads at a time.
const PIECE: usize = 1 << 20;

impl CheckedBody {
    /// Opens `path` and checks its footer (kind, version, length).
    pub fn open(path: &Path, kind: [u8; 4], max_version: u16) -> Result<(u16, Self), StorageError> {
        use std::os::unix::fs::FileExt;
        let io = |e| StorageError::io(path, e);
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut footer = vec![0u8; FOOTER_LEN.min(len as usize)];
        file.read_exact_at(&mut footer, len.saturating_sub(FOOTER_LEN as u64))
            .map_err(io)?;
        let (version, body_len, expected) = check_footer(path, len, &footer, kind, max_version)?;
        Ok((
            version,
            Self {
                file,
                path: path.to_path_buf(),
                len: body_len,
                remaining: body_len,
                buf: Vec::new(),
                at: 0,
                hasher: crc32fast::Hasher::new(),
                expected,
            },
        ))
    }

    /// The body's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the next piece into the buffer; false at the body's end or on
    /// a read error (which [`CheckedBody::finish`] then reports).
    fn fill(&mut self) -> bool {
        use std::io::Read;
        if self.remaining == 0 {
            return false;
        }
        let n = PIECE.min(self.remaining as usize);
        self.buf.resize(n, 0);
        if self.file.read_exact(&mut self.buf).is_err() {
            self.buf.clear();
            return false;
        }
        self.hasher.update(&self.buf);
        self.remaining -= n as u64;
        self.at = 0;
        true
    }

    /// The next `N` bytes of the body.
    pub fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        let mut filled = 0;
        while filled < N {
            if self.at == self.buf.len() && !self.fill() {
                return None;
            }
            let n = (N - filled).min(self.buf.len() - self.at);
            out[filled..filled + n].copy_from_slice(&self.buf[self.at..self.at + n]);
            self.at += n;
            filled += n;
        }
        Some(out)
    }

    /// Reads what is left of the body and checks its checksum.
    pub fn finish(mut self) -> Result<(), StorageError> {
        while self.fill() {}
        if self.remaining > 0 {
            return Err(StorageError::corrupt(
                &self.path,
                "the body could not be read to its end",
            ));
        }
        let crc = self.hasher.finalize();
        if crc != self.expected {
            return Err(StorageError::corrupt(
                &self.path,
                format!(
                    "checksum mismatch: footer says {:08x}, body hashes to {crc:08x}",
                    self.expected
                ),
            ));
        }
        Ok(())
    }
}

/// Checks the footer of a file of `file_len` bytes whose last
/// [`FOOTER_LEN`] bytes are `footer`; returns the format version, the body
/// length and the body's expected crc32.
pub(crate) fn check_footer(
    path: &Path,
    file_len: u64,
    footer: &[u8],
    kind: [u8; 4],
    max_version: u16,
) -> Result<(u16, u64, u32), StorageError> {
    if file_len < FOOTER_LEN as u64 || footer.len() != FOOTER_LEN {
        return Err(StorageError::corrupt(
            path,
            format!(
                "file is {file_len} bytes, shorter than the {FOOTER_LEN}-byte footer (truncated?)"
            ),
        ));
    }
    let body_len = file_len - FOOTER_LEN as u64;
    let footer = Footer::decode(footer);
    if footer.magic != FOOTER_MAGIC {
        return Err(StorageError::corrupt(
            path,
            "bad footer magic (truncated, or not a trawl checksummed file)",
        ));
    }
    if footer.kind != kind {
        return Err(StorageError::corrupt(
            path,
            format!(
                "wrong file kind: expected \"{}\", found \"{}\"",
                kind.escape_ascii(),
                footer.kind.escape_ascii()
            ),
        ));
    }
    if footer.version > max_version {
        return Err(StorageError::corrupt(
            path,
            format!(
                "unsupported format version {} (this build reads up to {max_version})",
                footer.version
            ),
        ));
    }
    if footer.body_len != body_len {
        return Err(StorageError::corrupt(
            path,
            format!(
                "length mismatch: footer says {} body bytes, file holds {body_len}",
                footer.body_len
            ),
        ));
    }
    Ok((footer.version, body_len, footer.crc))
}

/// Fsyncs a directory, making renames and file creations inside it durable.
/// A no-op on platforms where directories cannot be opened (Windows).
pub fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    #[cfg(unix)]
    {
        let d = File::open(dir).map_err(|e| StorageError::io(dir, e))?;
        d.sync_all().map_err(|e| StorageError::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

struct Footer {
    kind: [u8; 4],
    version: u16,
    body_len: u64,
    crc: u32,
    magic: [u8; 4],
}

impl Footer {
    /// `bytes` is exactly [`FOOTER_LEN`] long.
    fn decode(bytes: &[u8]) -> Footer {
        let mut kind = [0u8; 4];
        let mut version = [0u8; 2];
        let mut body_len = [0u8; 8];
        let mut crc = [0u8; 4];
        let mut magic = [0u8; 4];
        kind.copy_from_slice(&bytes[0..4]);
        version.copy_from_slice(&bytes[4..6]);
        body_len.copy_from_slice(&bytes[6..14]);
        crc.copy_from_slice(&bytes[14..18]);
        magic.copy_from_slice(&bytes[18..22]);
        Footer {
            kind,
            version: u16::from_le_bytes(version),
            body_len: u64::from_le_bytes(body_len),
            crc: u32::from_le_bytes(crc),
            magic,
        }
    }
}

fn encode_footer(kind: [u8; 4], version: u16, body_len: u64, crc: u32) -> [u8; FOOTER_LEN] {
    let mut f = [0u8; FOOTER_LEN];
    f[0..4].copy_from_slice(&kind);
    f[4..6].copy_from_slice(&version.to_le_bytes());
    f[6..14].copy_from_slice(&body_len.to_le_bytes());
    f[14..18].copy_from_slice(&crc.to_le_bytes());
    f[18..22].copy_from_slice(&FOOTER_MAGIC);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::testdir::TestDir;

    const KIND: [u8; 4] = *b"PNTS";

    fn corrupt_reason(err: StorageError) -> String {
        match err {
            StorageError::Corrupt { reason, .. } => reason,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_replace() {
        let dir = TestDir::new("snap-rt");
        let path = dir.join("points.snap");
        write_file(&path, KIND, 3, b"hello snapshot").unwrap();
        assert_eq!(
            read_file(&path, KIND, 3).unwrap(),
            (3, b"hello snapshot".to_vec())
        );
        // Replacing keeps the file readable and leaves no temporary behind.
        write_file(&path, KIND, 3, b"").unwrap();
        assert_eq!(read_file(&path, KIND, 5).unwrap(), (3, Vec::new()));
        assert!(!tmp_path(&path).exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_checked_body_reads_in_pieces_and_catches_a_flipped_byte() {
        let dir = TestDir::new("snap-checked");
        let path = dir.join("graph.bin");
        // Over two pieces, so that values straddle a piece's end.
        let words: Vec<u32> = (0..(PIECE as u32 / 4 * 2 + 3))
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let mut body: Vec<u8> = vec![7]; // one byte first: u32s straddle pieces
        for w in &words {
            body.extend_from_slice(&w.to_le_bytes());
        }
        write_file(&path, KIND, 1, &body).unwrap();
        let (version, mut reader) = CheckedBody::open(&path, KIND, 1).unwrap();
        assert_eq!(version, 1);
        assert_eq!(reader.take::<1>(), Some([7]));
        for (i, w) in words.iter().take(words.len() - 1).enumerate() {
            assert_eq!(
                reader.take::<4>().map(u32::from_le_bytes),
                Some(*w),
                "word {i}"
            );
        }
        // The last word is left unread: finish reads it for the checksum.
        reader.finish().unwrap();

        let mut bytes = std::fs::read(&path).unwrap();
        bytes[PIECE + 5] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        let (_, mut reader) = CheckedBody::open(&path, KIND, 1).unwrap();
        while reader.take::<4>().is_some() {}
        assert!(corrupt_reason(reader.finish().unwrap_err()).contains("checksum mismatch"));
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(CheckedBody::open(&path, KIND, 1).is_err());
    }

    #[test]
    fn streaming_writer_matches_write_file() {
        let dir = TestDir::new("snap-stream");
        let a = dir.join("a.snap");
        let b = dir.join("b.snap");
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = FileWriter::create(&a, KIND, 1).unwrap();
        for chunk in body.chunks(65_537) {
            w.write_all(chunk).unwrap();
        }
        assert_eq!(w.bytes_written(), body.len() as u64);
        w.finish().unwrap();
        write_file(&b, KIND, 1, &body).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(read_file(&a, KIND, 1).unwrap().1, body);
    }

    #[test]
    fn abandoned_writer_keeps_previous_file() {
        let dir = TestDir::new("snap-abandon");
        let path = dir.join("m.snap");
        write_file(&path, KIND, 1, b"old").unwrap();
        let mut w = FileWriter::create(&path, KIND, 1).unwrap();
        w.write_all(b"half of the new").unwrap();
        drop(w);
        assert!(!tmp_path(&path).exists());
        assert_eq!(read_file(&path, KIND, 1).unwrap().1, b"old");
    }

    #[test]
    fn flipped_body_byte_is_a_checksum_mismatch() {
        let dir = TestDir::new("snap-flip");
        let path = dir.join("p.snap");
        write_file(&path, KIND, 1, b"0123456789").unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        raw[4] ^= 0x10;
        std::fs::write(&path, &raw).unwrap();
        let reason = corrupt_reason(read_file(&path, KIND, 1).unwrap_err());
        assert!(reason.contains("checksum mismatch"), "{reason}");
    }

    #[test]
    fn truncated_file_is_rejected() {
        let dir = TestDir::new("snap-trunc");
        let path = dir.join("p.snap");
        write_file(&path, KIND, 1, b"0123456789").unwrap();
        let full = std::fs::read(&path).unwrap();
        for cut in [1, 5, FOOTER_LEN, full.len()] {
            std::fs::write(&path, &full[..full.len() - cut]).unwrap();
            let reason = corrupt_reason(read_file(&path, KIND, 1).unwrap_err());
            assert!(
                reason.contains("magic") || reason.contains("shorter"),
                "{reason}"
            );
        }
    }

    #[test]
    fn wrong_length_in_footer_is_rejected() {
        let dir = TestDir::new("snap-len");
        let path = dir.join("p.snap");
        write_file(&path, KIND, 1, b"0123456789").unwrap();
        let mut raw = std::fs::read(&path).unwrap();
        let at = raw.len() - FOOTER_LEN + 6;
        raw[at] ^= 1;
        std::fs::write(&path, &raw).unwrap();
        let reason = corrupt_reason(read_file(&path, KIND, 1).unwrap_err());
        assert!(reason.contains("length mismatch"), "{reason}");
    }

    #[test]
    fn wrong_kind_and_newer_version_are_rejected() {
        let dir = TestDir::new("snap-kind");
        let path = dir.join("p.snap");
        write_file(&path, KIND, 4, b"body").unwrap();
        let reason = corrupt_reason(read_file(&path, *b"MANI", 4).unwrap_err());
        assert!(reason.contains("wrong file kind"), "{reason}");
        assert!(
            reason.contains("MANI") && reason.contains("PNTS"),
            "{reason}"
        );
        let reason = corrupt_reason(read_file(&path, KIND, 3).unwrap_err());
        assert!(reason.contains("unsupported format version 4"), "{reason}");
    }

    #[test]
    fn missing_file_is_not_found() {
        let dir = TestDir::new("snap-missing");
        let err = read_file(&dir.join("nope"), KIND, 1).unwrap_err();
        assert!(err.is_not_found(), "{err}");
    }
}
