//! What every benchmark file records about the run, and writing it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use serde::Serialize;

/// The machine and checkout a benchmark ran on.
#[derive(Debug, Clone, Serialize)]
pub struct MachineInfo {
    /// Cores available to the process.
    pub nproc: usize,
    /// The CPU's model name, from `/proc/cpuinfo` where there is one.
    pub cpu: Option<String>,
    /// `std::env::consts::OS` / `ARCH`.
    pub os: String,
    /// When the run started, UTC, RFC 3339.
    pub timestamp: String,
    /// The checkout's commit (`git rev-parse HEAD`), when in a git checkout.
    pub git_commit: Option<String>,
    /// Whether tracked files differ from that commit.
    pub git_dirty: Option<bool>,
    /// This crate's version.
    pub trawl_version: String,
}

impl MachineInfo {
    /// Describes this machine and the current directory's checkout, now.
    pub fn collect() -> Self {
        let git_commit = git(&["rev-parse", "HEAD"]);
        let git_dirty = git_commit
            .as_ref()
            .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
            .map(|changes| !changes.is_empty());
        Self {
            nproc: crate::bench::model::cores(),
            cpu: cpu_model(),
            os: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
            timestamp: utc_rfc3339(unix_seconds()),
            git_commit,
            git_dirty,
            trawl_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Writes `value` as pretty JSON to `dir/file` (creating `dir`) and returns the path.
pub fn write_json(dir: &Path, file: &str, value: &impl Serialize) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(file);
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Trimmed stdout of a successful `git` command, or `None`.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|line| line.starts_with("model name"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// Days to a civil date by Howard Hinnant's `civil_from_days`.
fn utc_rfc3339(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// The process's resident set in MB (0 where `/proc` has none).
pub fn rss_mb() -> f64 {
    proc_status_bytes("self", "VmRSS").map_or(0.0, |b| b as f64 / (1024.0 * 1024.0))
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, ...) in bytes;
/// `pid` may be `self`. `None` where there is no such file or field.
pub fn proc_status_bytes(pid: &str, field: &str) -> Option<u64> {
    proc_field(&format!("/proc/{pid}/status"), field).map(|kb| kb * 1024)
}

/// A field of `/proc/<pid>/io` (`write_bytes`, `read_bytes`, ...), in bytes.
pub fn proc_io_bytes(pid: &str, field: &str) -> Option<u64> {
    proc_field(&format!("/proc/{pid}/io"), field)
}

/// The first number after `field:` in a `/proc` file of `name: value` lines.
fn proc_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Prints `rows` as a plain table of `columns` (fields of their JSON form),
/// each right-aligned in at least `width` characters (wider where a cell or
/// the header needs it); absent fields print blank.
pub fn print_table(columns: &[&str], rows: &[impl Serialize], width: usize) -> Result<()> {
    let cells = rows
        .iter()
        .map(|r| {
            let v = serde_json::to_value(r)?;
            Ok(columns
                .iter()
                .map(|c| match &v[*c] {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .collect())
        })
        .collect::<Result<Vec<Vec<String>>>>()?;
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .chain([c.chars().count(), width])
                .max()
                .unwrap_or(width)
        })
        .collect();
    let line = |row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:>w$}"))
            .collect();
        println!("{}", padded.join("  "));
    };
    line(&columns.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    cells.iter().for_each(|row| line(row));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_status_has_a_resident_set() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(proc_status_bytes("self", "VmRSS").is_some_and(|b| b > 0));
            assert!(proc_status_bytes("self", "NoSuchField").is_none());
        }
    }

    #[test]
    fn rfc3339_of_known_instants() {
        assert_eq!(utc_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_rfc3339(1_767_225_599), "2025-12-31T23:59:59Z");
    }
}
