//! Per-input scratch directories.
//!
//! Everything lives under `$TMPDIR/trawl-fuzz-<pid>/`; `scripts/fuzz-smoke` points
//! `TMPDIR` at a directory of its own (on tmpfs when there is one) and removes it
//! afterwards. A [`Dir`] removes itself when dropped, so a long run does not
//! fill the disk.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// The process's root under the system temp directory.
pub fn root() -> PathBuf {
    std::env::temp_dir().join(format!("trawl-fuzz-{}", std::process::id()))
}

/// A fresh, empty directory, removed (with its contents) on drop.
pub struct Dir(PathBuf);

impl Dir {
    /// Creates `root()/<prefix>-<n>`.
    pub fn new(prefix: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = root().join(format!("{prefix}-{n}"));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("the fuzz scratch directory must be creatable");
        Self(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
