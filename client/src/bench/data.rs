//! The benchmark corpora: BEIR SciFact queries and documents as plain texts.
//!
//! A BEIR directory holds `queries.jsonl` and `corpus.jsonl`, one JSON object
//! per line with `_id`, `text` and (documents only) `title`.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use clap::ValueEnum;
use serde::Deserialize;

/// Default BEIR directory, relative to the current directory (the workspace root).
pub const DEFAULT_DATA_DIR: &str = "../shared/data/scifact";

/// Documents in the `long` workload: the first this many of `corpus.jsonl`.
pub const LONG_DOCUMENTS: usize = 500;

/// A named set of texts to embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Every query of `queries.jsonl` (`text`): short sentences.
    Short,
    /// The first [`LONG_DOCUMENTS`] documents of `corpus.jsonl` (`title + " " + text`),
    /// most of them cut at the model's token limit.
    Long,
}

impl Workload {
    /// The workload's name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::Short => "short",
            Self::Long => "long",
        }
    }

    /// Reads the workload's texts from the BEIR directory `dir`.
    pub fn load(self, dir: &Path) -> Result<Vec<String>> {
        let texts = match self {
            Self::Short => read_texts(&dir.join("queries.jsonl"), usize::MAX)?,
            Self::Long => read_texts(&dir.join("corpus.jsonl"), LONG_DOCUMENTS)?,
        };
        ensure!(
            !texts.is_empty(),
            "workload {}: no texts in {}",
            self.name(),
            dir.display()
        );
        Ok(texts)
    }
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    title: String,
    text: String,
}

impl Record {
    /// `title + " " + text`, trimmed (so a record without title is its text),
    /// as the raw ONNX Runtime baseline builds it.
    fn into_text(self) -> String {
        format!("{} {}", self.title, self.text).trim().to_string()
    }
}

/// The first `limit` texts of a BEIR `.jsonl` file.
fn read_texts(path: &Path, limit: usize) -> Result<Vec<String>> {
    let file = File::open(path).with_context(|| {
        format!(
            "cannot open {} (run from the workspace root, or pass --data)",
            path.display()
        )
    })?;
    let mut texts = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        if texts.len() == limit {
            break;
        }
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a BEIR record", path.display(), number + 1))?;
        texts.push(record.into_text());
    }
    Ok(texts)
}

/// `path` made absolute against the current directory, for messages and JSON.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_text_joins_title_and_text() {
        let doc: Record = serde_json::from_str(r#"{"_id": "1", "title": "T", "text": "body"}"#)
            .expect("valid record");
        assert_eq!(doc.into_text(), "T body");
        let query: Record =
            serde_json::from_str(r#"{"_id": "2", "text": "q?", "metadata": {}}"#).expect("valid");
        assert_eq!(query.into_text(), "q?");
    }
}
