//! Stored snapshots of collections, their one-file form, and restores.
//!
//! A snapshot of collection `c` is a directory `DATA/snapshots/c/<name>/`
//! holding what `c`'s own directory needs to open as it was (see
//! [`Collection::capture`](crate::Collection)): `config.json`,
//! `manifest.bin`, hard links to the sealed segments' files under
//! `segments/`, and `wal.log` with the log records that followed the
//! manifest; plus `snapshot.json` (what it is: collection, creation time,
//! last log record, points). Sealed files are never written again, so a hard
//! link is a frozen copy that costs no space until the collection's merges
//! replace the originals.
//!
//! **One file.** A download is a tar archive (POSIX ustar, readable by `tar`)
//! of those files, `snapshot.json` first, and a last member
//! `checksums.json` listing every other member's path, length and CRC-32.
//! A restore reads such an archive as a stream, writes its members into a
//! staging directory beside the collections, checks every member against
//! the list (a truncated or altered file, a member missing or added, no
//! list at the end: all refused), opens the staged collection as start-up
//! would (manifest, segment files against their lengths and checksums, the
//! log's records), and only then swaps it in for the collection; anything
//! refused leaves the collection as it was.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::collection::{Collection, SnapshotInfo};
use crate::error::{IndexError, Result};
use crate::storage::{StorageError, sync_dir};

/// The member that says what a snapshot is.
pub(crate) const META: &str = "snapshot.json";
/// The archive's last member: every other member's length and checksum.
const CHECKSUMS: &str = "checksums.json";
const FORMAT: &str = "trawl-snapshot";
const VERSION: u32 = 1;
/// Largest `snapshot.json` or `checksums.json` read.
const MAX_LIST_BYTES: u64 = 64 << 20;
/// Longest snapshot name.
pub const MAX_SNAPSHOT_NAME_LEN: usize = 128;
/// The files at the top of a collection's directory that a snapshot holds.
const TOP_FILES: [&str; 3] = ["config.json", "manifest.bin", "wal.log"];

/// `snapshot.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    collection: String,
    name: String,
    /// RFC 3339, UTC.
    created: String,
    lsn: u64,
    points: u64,
}

/// A stored snapshot, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// Its name (unique among the collection's snapshots).
    pub name: String,
    /// The collection it was taken of.
    pub collection: String,
    /// When it was taken (RFC 3339, UTC).
    pub created: String,
    /// The last log record it holds.
    pub lsn: u64,
    /// Live points.
    pub points: u64,
    /// Bytes of its files (hard links share theirs with the collection's
    /// segments until those are merged away).
    pub bytes: u64,
}

/// What a restore put in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreInfo {
    /// The collection restored.
    pub collection: String,
    /// The collection the snapshot was taken of.
    pub source: String,
    /// The snapshot's name.
    pub snapshot: String,
    /// Live points after the restore.
    pub points: u64,
    /// Bytes read.
    pub bytes: u64,
}

/// Checks a snapshot name: 1 to 128 of `[A-Za-z0-9._-]`, starting with a
/// letter or digit.
pub fn validate_snapshot_name(name: &str) -> Result<()> {
    if plain_name(name, MAX_SNAPSHOT_NAME_LEN) {
        return Ok(());
    }
    Err(IndexError::InvalidParameter {
        field: "snapshot".into(),
        reason: format!(
            "{name:?} is not a snapshot name: 1 to {MAX_SNAPSHOT_NAME_LEN} letters, digits, '.', '_' or '-', starting with a letter or digit"
        ),
    })
}

fn plain_name(name: &str, max: usize) -> bool {
    !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |e| StorageError::io(path, e).into()
}

/// Takes a snapshot of `collection` into `root/<collection>/`: checkpoints,
/// links the files into a hidden directory, writes `snapshot.json`, and
/// renames the directory into place, so a crash leaves no half snapshot
/// under a name (hidden leftovers are removed at start-up).
pub(crate) fn create(root: &Path, collection: &Collection) -> Result<SnapshotEntry> {
    let name = collection.name();
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let created = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let staging = dir.join(format!(
        ".taking-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let mut meta_len = 0u64;
    let taken = (|| -> Result<(SnapshotInfo, String)> {
        let info = collection.capture(&staging)?;
        let stamp: String = created
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let mut snapshot = format!("{name}-{stamp}-{}", info.lsn);
        let mut n = 1;
        while dir.join(&snapshot).exists() {
            n += 1;
            snapshot = format!("{name}-{stamp}-{}-{n}", info.lsn);
        }
        let meta = Meta {
            format: FORMAT.into(),
            version: VERSION,
            collection: name.to_string(),
            name: snapshot.clone(),
            created: created.clone(),
            lsn: info.lsn,
            points: info.points as u64,
        };
        let path = staging.join(META);
        let json = serde_json::to_vec_pretty(&meta).expect("serialisable");
        meta_len = json.len() as u64;
        std::fs::write(&path, json).map_err(io(&path))?;
        std::fs::File::open(&path)
            .and_then(|f| f.sync_all())
            .map_err(io(&path))?;
        sync_dir(&staging)?;
        let target = dir.join(&snapshot);
        std::fs::rename(&staging, &target).map_err(io(&target))?;
        sync_dir(&dir)?;
        Ok((info, snapshot))
    })();
    match taken {
        Ok((info, snapshot)) => {
            tracing::info!(
                collection = name,
                snapshot,
                points = info.points,
                lsn = info.lsn,
                "snapshot taken"
            );
            Ok(SnapshotEntry {
                name: snapshot,
                collection: name.to_string(),
                created,
                lsn: info.lsn,
                points: info.points as u64,
                bytes: info.bytes + meta_len,
            })
        }
        Err(error) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(error.in_collection(name))
        }
    }
}

/// Every stored snapshot of `collection`, oldest first.
pub(crate) fn list(root: &Path, collection: &str) -> Result<Vec<SnapshotEntry>> {
    let dir = root.join(collection);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io(&dir, e).into()),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        match describe(&entry.path()) {
            Ok(snapshot) => found.push(snapshot),
            Err(error) => {
                tracing::warn!(snapshot = %entry.path().display(), %error, "skipping an unreadable snapshot");
            }
        }
    }
    found.sort_by(|a, b| (&a.created, a.lsn, &a.name).cmp(&(&b.created, b.lsn, &b.name)));
    Ok(found)
}

fn describe(dir: &Path) -> Result<SnapshotEntry> {
    let path = dir.join(META);
    let meta: Meta = serde_json::from_slice(&std::fs::read(&path).map_err(io(&path))?)
        .map_err(|e| StorageError::corrupt(&path, e.to_string()))?;
    let bytes = members(dir)?.iter().map(|(_, _, len)| len).sum();
    Ok(SnapshotEntry {
        name: meta.name,
        collection: meta.collection,
        created: meta.created,
        lsn: meta.lsn,
        points: meta.points,
        bytes,
    })
}

/// The directory of `collection`'s snapshot `name`, which must exist.
fn snapshot_dir(root: &Path, collection: &str, name: &str) -> Result<PathBuf> {
    validate_snapshot_name(name)?;
    let dir = root.join(collection).join(name);
    if dir.join(META).is_file() {
        Ok(dir)
    } else {
        Err(IndexError::SnapshotNotFound {
            collection: collection.to_string(),
            name: name.to_string(),
        })
    }
}

/// Checks that `collection`'s snapshot `name` exists (one `stat`).
pub(crate) fn check(root: &Path, collection: &str, name: &str) -> Result<()> {
    snapshot_dir(root, collection, name).map(drop)
}

/// Deletes a stored snapshot.
pub(crate) fn delete(root: &Path, collection: &str, name: &str) -> Result<()> {
    let dir = snapshot_dir(root, collection, name)?;
    let trash = root.join(collection).join(format!(
        ".deleting-{name}-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::rename(&dir, &trash).map_err(io(&dir))?;
    let _ = std::fs::remove_dir_all(&trash);
    Ok(())
}

/// A snapshot's files as (archive path, file path, length): `snapshot.json`
/// first, then the rest in path order.
fn members(dir: &Path) -> Result<Vec<(String, PathBuf, u64)>> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf, u64)>) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(io(dir))?
            .collect::<std::io::Result<_>>()
            .map_err(io(dir))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            let kind = entry.file_type().map_err(io(&path))?;
            let member = format!("{prefix}{name}");
            if kind.is_dir() {
                walk(&path, &format!("{member}/"), out)?;
            } else {
                let len = entry.metadata().map_err(io(&path))?.len();
                out.push((member, path, len));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort_by_key(|(member, _, _)| (member != META, member.clone()));
    Ok(out)
}

/// One line of `checksums.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Checksum {
    path: String,
    bytes: u64,
    /// CRC-32 (IEEE), 8 hex digits.
    crc32: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Checksums {
    files: Vec<Checksum>,
}

/// A reader that checksums what passes through it.
struct Crc<R> {
    inner: R,
    hasher: crc32fast::Hasher,
    bytes: u64,
}

impl<R: Read> Read for Crc<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

fn tar_header(len: u64, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(len);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Writes `collection`'s snapshot `name` to `out` as one tar archive
/// (see the module docs). Returns the bytes of its members.
pub(crate) fn export(root: &Path, collection: &str, name: &str, out: impl Write) -> Result<u64> {
    let dir = snapshot_dir(root, collection, name)?;
    let files = members(&dir)?;
    let mtime = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut builder = tar::Builder::new(out);
    let mut sums = Vec::with_capacity(files.len());
    let sent = |e: std::io::Error| IndexError::Storage(StorageError::io(&dir, e));
    for (member, path, len) in &files {
        let file = std::fs::File::open(path).map_err(io(path))?;
        let mut reader = Crc {
            inner: file.take(*len),
            hasher: crc32fast::Hasher::new(),
            bytes: 0,
        };
        let mut header = tar_header(*len, mtime);
        builder
            .append_data(&mut header, member, &mut reader)
            .map_err(sent)?;
        sums.push(Checksum {
            path: member.clone(),
            bytes: reader.bytes,
            crc32: format!("{:08x}", reader.hasher.finalize()),
        });
    }
    let total = sums.iter().map(|s| s.bytes).sum();
    let list = serde_json::to_vec_pretty(&Checksums { files: sums }).expect("serialisable");
    let mut header = tar_header(list.len() as u64, mtime);
    builder
        .append_data(&mut header, CHECKSUMS, list.as_slice())
        .map_err(sent)?;
    builder.into_inner().map_err(sent)?.flush().map_err(sent)?;
    Ok(total)
}

/// Where an archive's member may go: the top files, `snapshot.json`, or
/// `segments/<dir>/<file>`; plain names only (no `..`, no absolute paths).
fn allowed_member(member: &str) -> bool {
    let parts: Vec<&str> = member.split('/').collect();
    match parts.as_slice() {
        [top] => TOP_FILES.contains(top) || *top == META,
        ["segments", dir, file] => plain_name(dir, 64) && plain_name(file, 64),
        _ => false,
    }
}

/// Reads a snapshot archive from `input` into `staging` (which must not
/// exist) and checks every member against its checksum list; returns what
/// `snapshot.json` says and the bytes read. A malformed, truncated or
/// altered archive is [`IndexError::InvalidSnapshot`]; a failure to write
/// the staging directory (a full disk) a storage error.
fn extract(input: impl Read, staging: &Path) -> Result<(Meta, u64)> {
    let invalid = |reason: String| IndexError::InvalidSnapshot(reason);
    std::fs::create_dir(staging).map_err(io(staging))?;
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(|e| {
        invalid(format!(
            "not a tar archive ({e}); a snapshot is the file GET /collections/{{c}}/snapshots/{{s}} answers"
        ))
    })?;
    let mut found: Vec<Checksum> = Vec::new();
    let mut list: Option<Checksums> = None;
    let mut bytes = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            invalid(format!(
                "the archive breaks off or is damaged after {} members ({e}): the upload is incomplete or the file is truncated",
                found.len()
            ))
        })?;
        let member = entry
            .path()
            .ok()
            .and_then(|p| p.to_str().map(str::to_owned))
            .unwrap_or_default();
        if list.is_some() {
            return Err(invalid(format!(
                "member {member:?} follows {CHECKSUMS}, which must come last"
            )));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(invalid(format!("member {member:?} is not a regular file")));
        }
        if member == CHECKSUMS {
            let mut json = Vec::new();
            (&mut entry)
                .take(MAX_LIST_BYTES)
                .read_to_end(&mut json)
                .map_err(|e| invalid(format!("{CHECKSUMS} breaks off: {e}")))?;
            let parsed: Checksums = serde_json::from_slice(&json)
                .map_err(|e| invalid(format!("{CHECKSUMS} does not parse: {e}")))?;
            list = Some(parsed);
            continue;
        }
        if !allowed_member(&member) {
            return Err(invalid(format!(
                "unexpected member {member:?}: a snapshot holds {}, {META} and segments/<segment>/<file>",
                TOP_FILES.join(", ")
            )));
        }
        if found.iter().any(|f| f.path == member) {
            return Err(invalid(format!("member {member:?} appears twice")));
        }
        let path = staging.join(&member);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        let mut file = std::fs::File::create_new(&path).map_err(io(&path))?;
        let mut reader = Crc {
            inner: &mut entry,
            hasher: crc32fast::Hasher::new(),
            bytes: 0,
        };
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                invalid(format!(
                    "member {member:?} breaks off ({e}): the upload is incomplete or the file is truncated"
                ))
            })?;
            if n == 0 {
                break;
            }
            file.write_all(&buf[..n]).map_err(io(&path))?;
        }
        file.sync_all().map_err(io(&path))?;
        bytes += reader.bytes;
        found.push(Checksum {
            path: member,
            bytes: reader.bytes,
            crc32: format!("{:08x}", reader.hasher.finalize()),
        });
    }
    let Some(list) = list else {
        return Err(invalid(format!(
            "the archive ends after {} members without {CHECKSUMS}: it is truncated, or not a Trawl snapshot",
            found.len()
        )));
    };
    for expected in &list.files {
        match found.iter().find(|f| f.path == expected.path) {
            None => {
                return Err(invalid(format!(
                    "{CHECKSUMS} lists {:?}, which the archive does not hold",
                    expected.path
                )));
            }
            Some(got) if got.bytes != expected.bytes => {
                return Err(invalid(format!(
                    "{:?} has {} bytes, its checksum list says {}: the file was altered",
                    expected.path, got.bytes, expected.bytes
                )));
            }
            Some(got) if !got.crc32.eq_ignore_ascii_case(&expected.crc32) => {
                return Err(invalid(format!(
                    "{:?} has CRC-32 {}, its checksum list says {}: the file was altered",
                    expected.path, got.crc32, expected.crc32
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found
        .iter()
        .find(|f| !list.files.iter().any(|e| e.path == f.path))
    {
        return Err(invalid(format!(
            "{:?} is not in {CHECKSUMS}: the archive was altered",
            extra.path
        )));
    }
    for required in TOP_FILES.iter().chain([&META]) {
        if !found.iter().any(|f| f.path == *required) {
            return Err(invalid(format!("the archive has no {required}")));
        }
    }
    let meta_path = staging.join(META);
    let meta: Meta = serde_json::from_slice(&std::fs::read(&meta_path).map_err(io(&meta_path))?)
        .map_err(|e| invalid(format!("{META} does not parse: {e}")))?;
    if meta.format != FORMAT || meta.version != VERSION {
        return Err(invalid(format!(
            "{META} says format {:?} version {}; this server reads {FORMAT:?} version {VERSION}",
            meta.format, meta.version
        )));
    }
    std::fs::remove_file(&meta_path).map_err(io(&meta_path))?;
    for dir in [staging.join("segments"), staging.to_path_buf()] {
        if dir.is_dir() {
            sync_dir(&dir)?;
        }
    }
    Ok((meta, bytes))
}

/// Reads a snapshot archive into a new directory `staging` and checks it
/// whole: every member, then the collection it makes, opened as start-up
/// would (its sealer not started). On any failure `staging` is removed.
pub(crate) fn stage(
    input: impl Read,
    staging: &Path,
    name: &str,
    open: impl FnOnce(&Path) -> Result<u64>,
) -> Result<RestoreInfo> {
    let staged = (|| {
        let (meta, bytes) = extract(input, staging)?;
        let points = open(staging).map_err(|error| match error {
            IndexError::InsufficientStorage { .. } => error,
            IndexError::Storage(e) if e.is_storage_full() => IndexError::Storage(e),
            other => IndexError::InvalidSnapshot(format!(
                "its files do not open as a collection: {other}"
            )),
        })?;
        Ok(RestoreInfo {
            collection: name.to_string(),
            source: meta.collection,
            snapshot: meta.name,
            points,
            bytes,
        })
    })();
    if staged.is_err() {
        let _ = std::fs::remove_dir_all(staging);
    }
    staged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_collection_s_own_files_may_be_members() {
        for ok in [
            "config.json",
            "manifest.bin",
            "wal.log",
            "snapshot.json",
            "segments/000001/graph.bin",
        ] {
            assert!(allowed_member(ok), "{ok}");
        }
        for bad in [
            "../config.json",
            "/etc/passwd",
            "segments/../../x",
            "segments/000001/../../../x",
            "segments/.hidden/graph.bin",
            "segments/000001/sub/graph.bin",
            "aliases",
            "collections/x/wal.log",
            "",
        ] {
            assert!(!allowed_member(bad), "{bad}");
        }
    }

    #[test]
    fn snapshot_names_are_plain() {
        assert!(validate_snapshot_name("docs-20261206T141212Z-17").is_ok());
        assert!(validate_snapshot_name("a.b_c-1").is_ok());
        for bad in ["", ".hidden", "../x", "a/b", "a b", &"x".repeat(129)] {
            assert!(validate_snapshot_name(bad).is_err(), "{bad:?}");
        }
    }
}
