//! What an import remembers between runs (the progress file) and shows
//! meanwhile (the progress bar).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::mapping::Mapping;
use super::read;

/// What the progress file keeps between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Progress {
    /// The file, as given and absolute.
    pub(super) file: PathBuf,
    /// Its size and modification time (seconds), so an edited file is noticed.
    pub(super) size: u64,
    pub(super) modified: u64,
    pub(super) collection: String,
    pub(super) mapping: Mapping,
    /// Records read and acknowledged (written or skipped), from the start.
    pub(super) records_done: u64,
    pub(super) points_written: u64,
    pub(super) skipped: u64,
}

impl Progress {
    pub(super) fn load(path: &Path) -> Result<Option<Self>> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "{}: not a progress file (remove it, or pass --restart)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Written beside itself, then renamed: a crash leaves the old or the new.
    pub(super) fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// The progress bar (on a terminal) or a line every 10 seconds (otherwise).
/// Its position is where the last record the server acknowledged ends.
pub(super) struct Bar {
    bar: Option<indicatif::ProgressBar>,
    total: Option<u64>,
    counts_rows: bool,
    last_line: std::sync::Mutex<Instant>,
}

impl Bar {
    pub(super) fn new(records: &read::Records, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let (bar, template) = match records.total {
                Some(total) => {
                    let unit = if records.counts_rows {
                        "{pos}/{len} rows"
                    } else {
                        "{bytes}/{total_bytes}"
                    };
                    (
                        indicatif::ProgressBar::new(total),
                        format!("import [{{bar:30}}] {unit} {{msg}} (eta {{eta}})"),
                    )
                }
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "import {spinner} {msg}".to_string(),
                ),
            };
            bar.set_style(
                indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            total: records.total,
            counts_rows: records.counts_rows,
            last_line: std::sync::Mutex::new(Instant::now()),
        }
    }

    pub(super) fn update(&self, position: u64, records: u64, started: Instant) {
        let rate = records as f64 / started.elapsed().as_secs_f64().max(1e-9);
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(format!("{records} records, {rate:.0}/s"));
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < Duration::from_secs(10) {
            return;
        }
        *last = Instant::now();
        let unit = if self.counts_rows { "rows" } else { "bytes" };
        match self.total {
            Some(total) => eprintln!(
                "import: {:.0}% ({position} of {total} {unit}), {records} records, {rate:.0}/s",
                100.0 * position as f64 / total.max(1) as f64
            ),
            None => eprintln!("import: {records} records, {rate:.0}/s"),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
