//! Per-collection write-ahead log of opaque byte records with group commit.
//!
//! # On-disk format (version 1)
//!
//! ```text
//! header:  [magic "TRWLWAL\0"][version: u16 LE][reserved: u16 = 0][base lsn: u64 LE][crc32 of the previous 20 bytes: u32 LE]
//! record:  [len: u32 LE][lsn: u64 LE][crc32 of (lsn bytes + payload): u32 LE][payload: len bytes]
//! ```
//!
//! The first record has lsn `base + 1` and each next record the previous lsn
//! plus one. A fresh log has base 0, so lsns start at 1.
//!
//! # Recovery
//!
//! [`Wal::open`] reads records in order and stops at the first one whose
//! header is incomplete, whose length runs past the end of the file, whose lsn
//! is not the previous plus one, or whose checksum does not match; a record
//! that fails its checks is never returned. What follows decides what that is:
//!
//! - a **torn tail**, the last write cut short by a crash: the damaged record
//!   runs past the end of the file, or only zero bytes follow it, and no
//!   intact record comes after it. It is cut off (`set_len` + fsync) and
//!   reported as [`Recovered::truncated_bytes`]; nothing in it was
//!   acknowledged, since a record is acknowledged only once it is synced.
//! - **corruption**: any other damage, in particular a damaged record with
//!   intact records after it (a crash never leaves those), or a complete
//!   last record with a bad checksum. `open` fails with
//!   [`StorageError::Corrupt`] saying where, and changes nothing: cutting
//!   there would silently drop acknowledged writes. [`Wal::cut_at_damage`]
//!   is the operator's explicit choice of the intact prefix.
//!
//! A record longer than
//! [`WalOptions::max_record_bytes`] is treated as damage unless its checksum
//! is valid, in which case `open` fails rather than discard acknowledged data
//! (reopen with a larger limit). A corrupt file header is an error, never
//! silently reset, because the base lsn would be lost.
//!
//! # Truncation
//!
//! [`Wal::truncate_through`] rewrites the log: a new header carrying the new
//! base lsn plus the frames after it (copied verbatim, so lsns and checksums
//! are unchanged) go to `<path>.tmp`, which is fsync'd, renamed over the log,
//! and the directory fsync'd. A crash at any point leaves either the old or
//! the new log; `open` removes a stale `<path>.tmp`. The copy is proportional
//! to the records kept, which is small right after a snapshot.
//!
//! # Failures
//!
//! If a write fails (a full disk, say), the file is cut back to its length
//! before the write and the records of that write, and any queued behind it,
//! fail; the log stays usable, so appends succeed again once space returns.
//! If an fsync fails, or the cut does, the state of the file is unknown, so
//! the log is poisoned: that append and every later one fail, and the log
//! must be reopened (which recovers whatever reached the disk intact). An
//! append that returned an error after a failed fsync may therefore still
//! reappear on replay.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::{StorageError, parent_dir, sync_dir, tmp_path};
use format::{HEADER_LEN, READ_BUF, encode_frame, encode_header, scan, skip_records};

mod format;

/// Options for [`Wal::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalOptions {
    /// Fsync appends (and the log's creation, truncation and recovery) before
    /// returning. Default `true`; `false` only for benchmarks and tests, where
    /// an acknowledged record may be lost in a power failure.
    pub sync: bool,
    /// Largest accepted record payload in bytes (default 64 MiB, capped at
    /// `u32::MAX`). Must not be lowered below the size of records already in
    /// a log: `open` refuses such a log instead of truncating it.
    pub max_record_bytes: usize,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            sync: true,
            max_record_bytes: 64 << 20,
        }
    }
}

/// What [`Wal::open`] found in an existing log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The lsn before the log's first record (records up to it were dropped
    /// by [`Wal::truncate_through`], covered by a snapshot).
    pub base_lsn: u64,
    /// Every intact record as `(lsn, payload)`, in lsn order, lsns consecutive.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Bytes cut off the end of the file (a torn write or corruption); 0 after
    /// a clean shutdown.
    pub truncated_bytes: u64,
}

/// A write-ahead log; `Send + Sync`, appends take `&self`.
///
/// An append encodes its record into a shared buffer and waits until the
/// record is durable. One waiting thread at a time becomes the leader: it
/// takes the whole buffer, writes it with one `write` and one fsync, and wakes
/// the others; records appended meanwhile are covered by the next fsync
/// (group commit).
pub struct Wal {
    path: PathBuf,
    sync: bool,
    max_record_bytes: usize,
    state: Mutex<State>,
    flushed: Condvar,
    file: Mutex<LogFile>,
    disk_bytes: AtomicU64,
    sync_count: AtomicU64,
}

struct State {
    /// Lsn the next appended record gets.
    next_lsn: u64,
    /// Encoded frames of records `durable_lsn + 1 ..` not yet handed to a leader.
    pending: Vec<u8>,
    /// An empty buffer kept to avoid reallocating `pending`.
    spare: Vec<u8>,
    /// Every record with lsn <= this is on disk (and fsync'd when syncing).
    durable_lsn: u64,
    /// A thread is writing to the file (leader or `truncate_through`).
    busy: bool,
    /// Set when a write or fsync failed; the log must be reopened.
    failed: Option<(std::io::ErrorKind, String)>,
    /// Bumped when a failed write is undone: records queued before it were
    /// discarded, and their appenders get `discarded` as their error.
    generation: u64,
    discarded: Option<(std::io::ErrorKind, String)>,
}

struct LogFile {
    file: File,
    base_lsn: u64,
    len: u64,
}

impl Wal {
    /// Opens (creating if absent) the log at `path`, replays every intact
    /// record, and truncates a torn or corrupt tail.
    ///
    /// The parent directory must exist. The file is locked against a second
    /// `open` while this `Wal` is alive.
    pub fn open(path: &Path, options: WalOptions) -> Result<(Wal, Recovered), StorageError> {
        let max_record_bytes = options.max_record_bytes.min(u32::MAX as usize);
        let tmp = tmp_path(path);
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StorageError::io(&tmp, e));
            }
            _ => {}
        }
        let exists = path.try_exists().map_err(|e| StorageError::io(path, e))?;
        let file = if exists {
            let file = OpenOptions::new()
                .read(true)
                .append(true)
                .open(path)
                .map_err(|e| StorageError::io(path, e))?;
            lock(&file, path)?;
            file
        } else {
            install(path, 0, std::io::empty(), options.sync).map_err(|(e, _)| e)?
        };

        let scan = scan(&file, path, max_record_bytes)?;
        if let Some(damage) = scan.damage.as_ref().filter(|d| !d.is_torn_tail()) {
            return Err(damage_error(path, &scan, damage));
        }
        let truncated_bytes = scan.file_len - scan.valid_end;
        if truncated_bytes > 0 {
            file.set_len(scan.valid_end)
                .map_err(|e| StorageError::io(path, e))?;
            if options.sync {
                file.sync_all().map_err(|e| StorageError::io(path, e))?;
            }
            tracing::warn!(
                path = %path.display(),
                truncated_bytes,
                kept_records = scan.records.len(),
                "cut a torn or corrupt tail off the write-ahead log"
            );
        }
        let last_lsn = scan.base_lsn + scan.records.len() as u64;
        let wal = Wal {
            path: path.to_path_buf(),
            sync: options.sync,
            max_record_bytes,
            state: Mutex::new(State {
                next_lsn: last_lsn + 1,
                pending: Vec::new(),
                spare: Vec::new(),
                durable_lsn: last_lsn,
                busy: false,
                failed: None,
                generation: 0,
                discarded: None,
            }),
            flushed: Condvar::new(),
            file: Mutex::new(LogFile {
                file,
                base_lsn: scan.base_lsn,
                len: scan.valid_end,
            }),
            disk_bytes: AtomicU64::new(scan.valid_end),
            sync_count: AtomicU64::new(0),
        };
        let recovered = Recovered {
            base_lsn: scan.base_lsn,
            records: scan.records,
            truncated_bytes,
        };
        Ok((wal, recovered))
    }

    /// The explicit repair of a damaged log: cuts it at its first damaged
    /// record, dropping that record and everything after it, intact or not;
    /// returns the bytes cut (0 when the log is intact). [`Wal::open`] refuses
    /// such a log; this is for an operator who chose the intact prefix over
    /// restoring a snapshot. The log must not be open.
    pub fn cut_at_damage(path: &Path, options: &WalOptions) -> Result<u64, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| StorageError::io(path, e))?;
        lock(&file, path)?;
        let max_record_bytes = options.max_record_bytes.min(u32::MAX as usize);
        let scan = scan(&file, path, max_record_bytes)?;
        let cut = scan.file_len - scan.valid_end;
        if cut > 0 {
            file.set_len(scan.valid_end)
                .map_err(|e| StorageError::io(path, e))?;
            file.sync_all().map_err(|e| StorageError::io(path, e))?;
            tracing::warn!(
                path = %path.display(),
                cut_bytes = cut,
                kept_records = scan.records.len(),
                "cut the write-ahead log at its first damaged record, as asked"
            );
        }
        Ok(cut)
    }

    /// Appends one record and returns its log sequence number once it is
    /// durable (fsync'd). Concurrent appenders share fsyncs (group commit):
    /// while one thread syncs, others queue their records, and the next sync
    /// covers them all.
    pub fn append(&self, record: &[u8]) -> Result<u64, StorageError> {
        self.append_batch(&[record])
    }

    /// Appends several records with a single sync; returns the lsn of the
    /// last (the records get consecutive lsns). An empty batch writes nothing
    /// and returns [`last_lsn`](Wal::last_lsn).
    pub fn append_batch(&self, records: &[&[u8]]) -> Result<u64, StorageError> {
        for record in records {
            if record.len() > self.max_record_bytes {
                return Err(StorageError::RecordTooLarge {
                    len: record.len(),
                    max: self.max_record_bytes,
                });
            }
        }
        let mut st = self.state.lock();
        self.check_failed(&st)?;
        if records.is_empty() {
            return Ok(st.durable_lsn);
        }
        for record in records {
            let lsn = st.next_lsn;
            encode_frame(&mut st.pending, lsn, record);
            st.next_lsn += 1;
        }
        let mine = st.next_lsn - 1;
        let generation = st.generation;
        loop {
            if st.generation != generation {
                let (kind, msg) = st.discarded.clone().unwrap_or((
                    std::io::ErrorKind::Other,
                    "an earlier write failed".to_owned(),
                ));
                return Err(StorageError::io(&self.path, std::io::Error::new(kind, msg)));
            }
            if st.durable_lsn >= mine {
                return Ok(mine);
            }
            self.check_failed(&st)?;
            if st.busy {
                self.flushed.wait(&mut st);
                continue;
            }
            // Lead: write everything queued so far with one fsync.
            st.busy = true;
            let batch_last = st.next_lsn - 1;
            let spare = std::mem::take(&mut st.spare);
            let mut batch = std::mem::replace(&mut st.pending, spare);
            let result = MutexGuard::unlocked(&mut st, || self.write_batch(&batch));
            batch.clear();
            st.spare = batch;
            st.busy = false;
            let outcome = self.settle(&mut st, result, batch_last);
            self.flushed.notify_all();
            outcome?;
        }
    }

    /// Drops every record with lsn <= `lsn`; call it once a snapshot covering
    /// them is durable. Lsns are unchanged: later records keep theirs and the
    /// next append continues after [`last_lsn`](Wal::last_lsn).
    ///
    /// Implemented by rewriting the log atomically (see the module docs);
    /// appends issued meanwhile queue and are acknowledged after it. `lsn` is
    /// clamped to the last appended record; an `lsn` at or below the current
    /// base is a no-op.
    pub fn truncate_through(&self, lsn: u64) -> Result<(), StorageError> {
        let mut st = self.state.lock();
        self.claim(&mut st)?;
        let batch_last = st.next_lsn - 1;
        let spare = std::mem::take(&mut st.spare);
        let mut batch = std::mem::replace(&mut st.pending, spare);
        let (flushed, rewritten) = MutexGuard::unlocked(&mut st, || {
            let flushed = if batch.is_empty() {
                Ok(())
            } else {
                self.write_batch(&batch)
            };
            let rewritten = match flushed {
                Ok(()) => self.rewrite(lsn.min(batch_last)),
                Err(_) => Ok(()),
            };
            (flushed, rewritten)
        });
        batch.clear();
        st.spare = batch;
        st.busy = false;
        let outcome = self.settle(&mut st, flushed, batch_last).and_then(|()| {
            rewritten.map_err(|(err, poisoned)| {
                if poisoned {
                    st.failed = Some(describe(&err));
                }
                err
            })
        });
        self.flushed.notify_all();
        outcome
    }

    /// Writes a log of the records after `after` (its base `after`) to
    /// `dest`, which must not exist yet, and syncs it; returns the last lsn
    /// it holds. The copy is of durable records only; appends issued
    /// meanwhile queue, as during [`Wal::truncate_through`]. Fails when the
    /// log no longer holds every record after `after`.
    pub fn copy_after(&self, after: u64, dest: &Path) -> Result<u64, StorageError> {
        let mut st = self.state.lock();
        self.claim(&mut st)?;
        let last = st.durable_lsn;
        let copied = MutexGuard::unlocked(&mut st, || self.copy_records(after, dest));
        st.busy = false;
        self.flushed.notify_all();
        drop(st);
        copied.map(|()| last)
    }

    /// Waits until no thread writes the file, then marks it as written by
    /// the caller (who clears `busy` and notifies when done).
    fn claim(&self, st: &mut MutexGuard<'_, State>) -> Result<(), StorageError> {
        loop {
            self.check_failed(st)?;
            if !st.busy {
                st.busy = true;
                return Ok(());
            }
            self.flushed.wait(st);
        }
    }

    fn copy_records(&self, after: u64, dest: &Path) -> Result<(), StorageError> {
        let f = self.file.lock();
        if after < f.base_lsn {
            return Err(StorageError::corrupt(
                &self.path,
                format!(
                    "records {}..={} are no longer in the log (it starts after {})",
                    after + 1,
                    f.base_lsn,
                    f.base_lsn
                ),
            ));
        }
        let offset = skip_records(&f.file, &self.path, f.base_lsn, after, f.len)?;
        (&f.file)
            .seek(SeekFrom::Start(offset))
            .map_err(|e| StorageError::io(&self.path, e))?;
        let mut tail = (&f.file).take(f.len - offset);
        let written = (|| {
            let file = OpenOptions::new().write(true).create_new(true).open(dest)?;
            let mut out = BufWriter::with_capacity(READ_BUF, &file);
            out.write_all(&encode_header(after))?;
            std::io::copy(&mut tail, &mut out)?;
            out.flush()?;
            drop(out);
            file.sync_all()
        })();
        written.map_err(|e| StorageError::io(dest, e))
    }

    /// Lsn of the last durable record (the base lsn if the log holds none;
    /// 0 for a log that never held a record).
    pub fn last_lsn(&self) -> u64 {
        self.state.lock().durable_lsn
    }

    /// Largest record [`Wal::append`] takes.
    pub fn max_record_bytes(&self) -> usize {
        self.max_record_bytes
    }

    /// Current size of the log file in bytes, header included.
    pub fn disk_bytes(&self) -> u64 {
        self.disk_bytes.load(Ordering::Relaxed)
    }

    /// Number of fsyncs of appended data since `open` (0 when
    /// [`WalOptions::sync`] is off); with group commit it grows more slowly
    /// than the number of appends under concurrency.
    pub fn sync_count(&self) -> u64 {
        self.sync_count.load(Ordering::Relaxed)
    }

    /// Path of the log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_failed(&self, st: &State) -> Result<(), StorageError> {
        match &st.failed {
            None => Ok(()),
            Some((kind, msg)) => Err(StorageError::io(
                &self.path,
                std::io::Error::new(
                    *kind,
                    format!("write-ahead log failed earlier and must be reopened: {msg}"),
                ),
            )),
        }
    }

    /// Records the outcome of writing records through `batch_last`. A write
    /// that was undone gives its lsns back: the records of that batch were
    /// never acknowledged, and the next append takes the first of them.
    fn settle(
        &self,
        st: &mut State,
        result: Result<(), (StorageError, bool)>,
        batch_last: u64,
    ) -> Result<(), StorageError> {
        match result {
            Ok(()) => {
                st.durable_lsn = st.durable_lsn.max(batch_last);
                Ok(())
            }
            Err((err, poisoned)) => {
                if poisoned {
                    st.failed = Some(describe(&err));
                } else {
                    // Records queued meanwhile were numbered after the failed
                    // ones: they fail too (their appenders see the generation
                    // change), and numbering restarts after the durable end.
                    st.pending.clear();
                    st.next_lsn = st.durable_lsn + 1;
                    st.generation += 1;
                    st.discarded = Some(describe(&err));
                }
                Err(err)
            }
        }
    }

    /// Writes encoded frames at the end of the log and fsyncs them. The flag
    /// in the error says whether the log is left in an unknown state: a
    /// failed write (a full disk, say) is undone by cutting the file back to
    /// its length before it, and the log stays usable; a failed fsync is not
    /// retried (the kernel may have dropped the dirty pages), so it poisons.
    fn write_batch(&self, batch: &[u8]) -> Result<(), (StorageError, bool)> {
        let mut f = self.file.lock();
        if let Err(e) = f.file.write_all(batch) {
            let undone = f.file.set_len(f.len).is_ok();
            return Err((StorageError::io(&self.path, e), !undone));
        }
        f.len += batch.len() as u64;
        self.disk_bytes.store(f.len, Ordering::Relaxed);
        if self.sync {
            f.file
                .sync_data()
                .map_err(|e| (StorageError::io(&self.path, e), true))?;
            self.sync_count.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Replaces the log by one with base `through` holding the records after
    /// it. Every record up to the last assigned lsn is on disk. The flag in
    /// the error says whether the log is left in an unknown state.
    fn rewrite(&self, through: u64) -> Result<(), (StorageError, bool)> {
        let mut f = self.file.lock();
        if through <= f.base_lsn {
            return Ok(());
        }
        let offset = skip_records(&f.file, &self.path, f.base_lsn, through, f.len)
            .map_err(|e| (e, false))?;
        let kept = f.len - offset;
        (&f.file)
            .seek(SeekFrom::Start(offset))
            .map_err(|e| (StorageError::io(&self.path, e), false))?;
        let tail = (&f.file).take(kept);
        let file = install(&self.path, through, tail, self.sync)?;
        f.file = file;
        f.base_lsn = through;
        f.len = HEADER_LEN as u64 + kept;
        self.disk_bytes.store(f.len, Ordering::Relaxed);
        tracing::debug!(path = %self.path.display(), through, kept_bytes = kept, "truncated write-ahead log");
        Ok(())
    }
}

impl std::fmt::Debug for Wal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wal")
            .field("path", &self.path)
            .field("last_lsn", &self.last_lsn())
            .field("disk_bytes", &self.disk_bytes())
            .finish()
    }
}

/// The error for a log that is damaged somewhere other than a torn tail.
fn damage_error(path: &Path, scan: &format::Scan, damage: &format::Damage) -> StorageError {
    let format::Damage::Bad {
        lsn,
        reason,
        intact_after,
    } = damage
    else {
        return StorageError::corrupt(path, "damaged log");
    };
    let after = match intact_after {
        Some((found, at)) => format!(
            "intact records follow it (lsn {found} at offset {at}), so this is damage, not a write cut short by a crash"
        ),
        None => "it is complete, so this is damage, not a write cut short by a crash".to_owned(),
    };
    StorageError::corrupt(
        path,
        format!(
            "record {lsn} at offset {} is damaged ({reason}); {after}. The {} records before it are intact. Nothing was cut: restore a snapshot, or accept the intact prefix explicitly (dropping record {lsn} and everything after it)",
            scan.valid_end,
            scan.records.len()
        ),
    )
}

fn describe(err: &StorageError) -> (std::io::ErrorKind, String) {
    match err {
        StorageError::Io { source, .. } => (source.kind(), err.to_string()),
        _ => (std::io::ErrorKind::Other, err.to_string()),
    }
}

/// Takes an exclusive advisory lock on the log file.
fn lock(file: &File, path: &Path) -> Result<(), StorageError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(StorageError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "write-ahead log is already open elsewhere",
            ),
        )),
        Err(std::fs::TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
            Ok(())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(StorageError::io(path, e)),
    }
}

/// Writes a header with `base_lsn` followed by `tail` to `<path>.tmp`, syncs,
/// renames it over `path` and syncs the directory; returns the new file, open
/// for appending and locked. The flag in the error is true once the rename
/// happened (the directory sync failed).
fn install(
    path: &Path,
    base_lsn: u64,
    mut tail: impl Read,
    sync: bool,
) -> Result<File, (StorageError, bool)> {
    let tmp = tmp_path(path);
    let written = (|| {
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&tmp)?;
        let mut out = BufWriter::with_capacity(READ_BUF, &file);
        out.write_all(&encode_header(base_lsn))?;
        std::io::copy(&mut tail, &mut out)?;
        out.flush()?;
        drop(out);
        if sync {
            file.sync_all()?;
        }
        Ok(file)
    })();
    let file = match written {
        Ok(file) => file,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err((StorageError::io(&tmp, e), false));
        }
    };
    if let Err(e) = lock(&file, &tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err((e, false));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err((StorageError::io(path, e), false));
    }
    if sync {
        sync_dir(parent_dir(path)).map_err(|e| (e, true))?;
    }
    Ok(file)
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
