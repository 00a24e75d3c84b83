//! The export half of `trawl-bench muvera`: SciFact's documents and test
//! queries embedded into per-token vectors, written as the multi-vector
//! directory `../shared/bench/muvera_reference.py` reads.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use trawl_encoders::{Embedder, Precision};

use super::MuveraArgs;
use crate::bench::npy;

#[derive(Deserialize)]
pub(super) struct Record {
    #[serde(rename = "_id")]
    pub(super) id: String,
    #[serde(default)]
    pub(super) title: String,
    pub(super) text: String,
}

/// `(id, title + " " + text)` of every record of a BEIR `.jsonl` file.
fn read_records(path: &Path) -> Result<Vec<(String, String)>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for (number, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&line)
            .with_context(|| format!("{}:{}: not a BEIR record", path.display(), number + 1))?;
        let text = format!("{} {}", r.title, r.text).trim().to_string();
        out.push((r.id, text));
    }
    Ok(out)
}

/// Relevant documents per query: the qrels lines (after the header) with a positive score.
pub(super) fn read_qrels(path: &Path) -> Result<HashMap<String, HashSet<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rel: HashMap<String, HashSet<String>> = HashMap::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(q), Some(doc), Some(score)) = (fields.next(), fields.next(), fields.next())
        else {
            bail!(
                "{}:{}: expected 3 tab-separated fields",
                path.display(),
                number + 1
            );
        };
        let score: i64 = score
            .trim()
            .parse()
            .with_context(|| format!("{}:{}: score", path.display(), number + 1))?;
        if score > 0 {
            rel.entry(q.to_string())
                .or_default()
                .insert(doc.to_string());
        }
    }
    Ok(rel)
}

/// Token vectors of many texts, concatenated, with each text's first row.
pub(super) struct MultiVectors {
    pub(super) dims: usize,
    /// `offsets[i]..offsets[i + 1]` are text `i`'s rows of `tokens`.
    pub(super) offsets: Vec<usize>,
    pub(super) tokens: Vec<f32>,
}

impl MultiVectors {
    pub(super) fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Text `i`'s token vectors, flattened.
    pub(super) fn get(&self, i: usize) -> &[f32] {
        &self.tokens[self.offsets[i] * self.dims..self.offsets[i + 1] * self.dims]
    }

    pub(super) fn rows(&self) -> usize {
        self.offsets[self.len()]
    }

    pub(super) fn write(&self, dir: &Path, name: &str) -> Result<()> {
        npy::write_f32(
            &dir.join(format!("{name}_tokens.npy")),
            self.rows(),
            self.dims,
            &self.tokens,
        )?;
        let offsets: Vec<i64> = self.offsets.iter().map(|&o| o as i64).collect();
        write_i64_vector(&dir.join(format!("{name}_offsets.npy")), &offsets)
    }

    pub(super) fn read(dir: &Path, name: &str) -> Result<Self> {
        let tokens = npy::read_f32(&dir.join(format!("{name}_tokens.npy")))?;
        let offsets_path = dir.join(format!("{name}_offsets.npy"));
        let raw = npy::read_int(&offsets_path)?;
        let offsets = check_offsets(&raw.data, tokens.rows)
            .with_context(|| format!("{}", offsets_path.display()))?;
        Ok(Self {
            dims: tokens.cols,
            offsets,
            tokens: tokens.data,
        })
    }
}

/// Offsets as row indices, checked: they start at 0, never decrease and end at `rows`.
pub(super) fn check_offsets(raw: &[i64], rows: usize) -> Result<Vec<usize>> {
    ensure!(
        raw.len() >= 2,
        "needs at least 2 offsets, has {}",
        raw.len()
    );
    ensure!(raw[0] == 0, "the first offset is {}, not 0", raw[0]);
    ensure!(raw.windows(2).all(|w| w[0] <= w[1]), "offsets decrease");
    let last = raw[raw.len() - 1];
    ensure!(
        usize::try_from(last).ok() == Some(rows),
        "the last offset is {last}, but there are {rows} token rows"
    );
    Ok(raw.iter().map(|&o| o as usize).collect())
}

/// A 1-D little-endian int64 `.npy` file (format 1.0; `npy` writes 2-D arrays only).
pub(super) fn write_i64_vector(path: &Path, data: &[i64]) -> Result<()> {
    let mut header = format!(
        "{{'descr': '<i8', 'fortran_order': False, 'shape': ({},), }}",
        data.len()
    );
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&u16::try_from(header.len())?.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    for x in data {
        out.write_all(&x.to_le_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// Embeds `texts` into per-token vectors, `batch` texts at a time.
pub(super) fn embed_tokens(
    embedder: &Embedder,
    texts: &[String],
    batch: usize,
    what: &str,
) -> Result<MultiVectors> {
    let dims = embedder.spec().dims;
    let mut out = MultiVectors {
        dims,
        offsets: vec![0],
        tokens: Vec::new(),
    };
    let started = Instant::now();
    let mut reported = Instant::now();
    for (i, chunk) in texts.chunks(batch).enumerate() {
        for encoded in embedder.embed_blocking(chunk, true)? {
            let tokens = encoded
                .tokens
                .context("the encoder returned no token vectors")?;
            for t in &tokens {
                ensure!(
                    t.len() == dims,
                    "a token vector has {} dims, not {dims}",
                    t.len()
                );
                out.tokens.extend_from_slice(t);
            }
            out.offsets.push(out.offsets[out.len()] + tokens.len());
        }
        let done = ((i + 1) * batch).min(texts.len());
        if done == texts.len() || reported.elapsed() >= Duration::from_secs(10) {
            reported = Instant::now();
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "muvera: {what} {done}/{} ({:.1} texts/s, {} tokens, {:.0} s)",
                texts.len(),
                done as f64 / secs,
                out.rows(),
                secs
            );
        }
    }
    Ok(out)
}

pub(super) fn export(args: &MuveraArgs) -> Result<()> {
    let started = Instant::now();
    let docs = read_records(&args.data.join("corpus.jsonl"))?;
    let rel = read_qrels(&args.data.join("qrels").join("test.tsv"))?;
    let queries: Vec<(String, String)> = read_records(&args.data.join("queries.jsonl"))?
        .into_iter()
        .filter(|(id, _)| rel.contains_key(id))
        .collect();
    ensure!(
        !docs.is_empty() && !queries.is_empty(),
        "{}: {} documents, {} test queries",
        args.data.display(),
        docs.len(),
        queries.len()
    );
    eprintln!(
        "muvera: embedding {} documents and {} test queries into token vectors",
        docs.len(),
        queries.len()
    );
    trawl_encoders::init_runtime(&args.model.ort_lib)?;
    let embedder = Embedder::load(
        &args.model.embedder_config(Precision::Fp32, 2 * args.batch),
        Arc::new(()),
    )?;
    let texts = |rows: &[(String, String)]| -> Vec<String> {
        rows.iter().map(|(_, text)| text.clone()).collect()
    };
    let ids = |rows: &[(String, String)]| -> Vec<String> {
        rows.iter().map(|(id, _)| id.clone()).collect()
    };
    let doc_mv = embed_tokens(&embedder, &texts(&docs), args.batch, "documents")?;
    let query_mv = embed_tokens(&embedder, &texts(&queries), args.batch, "queries")?;
    // Stops the encoder's threads before the single-threaded measurement.
    drop(embedder);

    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    // The id files last: a directory without them is an unfinished export.
    for f in ["doc_ids.json", "query_ids.json"] {
        let _ = std::fs::remove_file(args.dir.join(f));
    }
    doc_mv.write(&args.dir, "doc")?;
    query_mv.write(&args.dir, "query")?;
    std::fs::write(
        args.dir.join("doc_ids.json"),
        serde_json::to_string(&ids(&docs))?,
    )?;
    std::fs::write(
        args.dir.join("query_ids.json"),
        serde_json::to_string(&ids(&queries))?,
    )?;
    eprintln!(
        "muvera: wrote {} ({} document tokens, {} query tokens) in {:.0} s",
        args.dir.display(),
        doc_mv.rows(),
        query_mv.rows(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::muvera::FdeConfig;

    #[test]
    fn offsets_slice_the_token_rows_and_bad_ones_are_refused() {
        let offsets = check_offsets(&[0, 2, 2, 3], 3).unwrap();
        let mv = MultiVectors {
            dims: 2,
            offsets,
            tokens: vec![1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
        };
        assert_eq!(mv.len(), 3);
        assert_eq!(mv.get(0), &[1.0, 1.5, 2.0, 2.5]);
        assert!(mv.get(1).is_empty());
        assert_eq!(mv.get(2), &[3.0, 3.5]);
        assert!(check_offsets(&[1, 3], 3).is_err());
        assert!(check_offsets(&[0, 2, 1, 3], 3).is_err());
        assert!(check_offsets(&[0, 2], 3).is_err());
        assert!(check_offsets(&[0], 0).is_err());
    }

    #[test]
    fn configs_parse_and_the_offsets_file_is_numpy_1d() {
        let c: FdeConfig = "5,16,20".parse().unwrap();
        assert_eq!((c.k_sim, c.d_proj, c.r_reps), (5, 16, 20));
        assert!("5,16".parse::<FdeConfig>().is_err());
        let dir = std::env::temp_dir().join(format!("trawl-muvera-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("o.npy");
        write_i64_vector(&f, &[0, 3, 7]).unwrap();
        let bytes = std::fs::read(&f).unwrap();
        let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
        assert_eq!((10 + header_len) % 64, 0);
        assert!(String::from_utf8_lossy(&bytes[10..10 + header_len]).contains("'shape': (3,)"));
        let back = npy::read_int(&f).unwrap();
        assert_eq!((back.rows, back.data), (3, vec![0, 3, 7]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
