//! The encoder against the references that the exporter's independent float64
//! numpy forward pass wrote (`models/<model>/reference.json`, made by `make setup`),
//! and int8 against fp32 on the SciFact queries.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use trawl_encoders::{BatchObserver, BatchStats, Embedder, EmbedderConfig, Encoded, Precision};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_dir() -> PathBuf {
    std::env::var_os("TRAWL_MODEL_DIR")
        .map_or_else(|| root().join("models/all-minilm-l6-v2"), PathBuf::from)
}

fn embedder(precision: Precision) -> Embedder {
    embedder_in(&model_dir(), precision, Arc::new(()))
}

fn embedder_in(dir: &Path, precision: Precision, observer: Arc<dyn BatchObserver>) -> Embedder {
    let lib = std::env::var_os("TRAWL_ORT_LIB").map_or_else(
        || root().join("vendor/onnxruntime/libonnxruntime.so.1.31.1"),
        PathBuf::from,
    );
    trawl_encoders::init_runtime(&lib).expect("ONNX Runtime (run `make setup`)");
    let mut config = EmbedderConfig::new(dir);
    config.precision = precision;
    Embedder::load(&config, observer).expect("model (run `make setup`)")
}

/// A directory under the system's temporary folder, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new(label: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path =
            std::env::temp_dir().join(format!("trawl-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).expect("scratch dir");
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Records every batch the encoder ran.
#[derive(Default)]
struct Batches(Mutex<Vec<BatchStats>>);

impl BatchObserver for Batches {
    fn batch_done(&self, stats: &BatchStats) {
        self.0.lock().expect("stats").push(*stats);
    }
}

/// The default model directory with `segment_mask` switched off in its manifest
/// (the graph files are linked, not copied): the padded, one-text-per-row path
/// that graphs from other exporters take.
fn padded_model_dir() -> ScratchDir {
    let dir = ScratchDir::new("padded-model");
    for entry in std::fs::read_dir(model_dir()).expect("model dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == "trawl-model.json" {
            let mut manifest: Value =
                serde_json::from_slice(&std::fs::read(entry.path()).expect("manifest"))
                    .expect("manifest json");
            manifest["segment_mask"] = Value::Bool(false);
            std::fs::write(dir.path().join(&name), manifest.to_string()).expect("write");
        } else {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(&name)).expect("link");
        }
    }
    dir
}

struct Reference {
    text: String,
    ids: Vec<i64>,
    truncated: bool,
    embedding: Vec<f32>,
    tokens: Vec<Vec<f32>>,
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn references() -> Vec<Reference> {
    let path = model_dir().join("reference.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `make setup`)", path.display()));
    let json: Value = serde_json::from_str(&text).expect("reference.json");
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| Reference {
            text: item["text"].as_str().expect("text").to_string(),
            ids: item["input_ids"]
                .as_array()
                .expect("ids")
                .iter()
                .map(|x| x.as_i64().expect("id"))
                .collect(),
            truncated: item["truncated"].as_bool().expect("truncated"),
            embedding: floats(&item["embedding"]),
            tokens: item["token_vectors"]
                .as_array()
                .expect("token_vectors")
                .iter()
                .map(floats)
                .collect(),
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn texts(refs: &[Reference]) -> Vec<String> {
    refs.iter().map(|r| r.text.clone()).collect()
}

#[test]
fn fp32_matches_the_numpy_forward_pass_packed_several_to_a_row_and_alone() {
    let batches = Arc::new(Batches::default());
    let embedder = embedder_in(&model_dir(), Precision::Fp32, batches.clone());
    assert!(
        embedder.spec().segment_mask,
        "the exporter's graph reads segments"
    );
    matches_the_numpy_forward_pass(&embedder, "packed");
    // The batch of the reference texts (one of 256 tokens, the rest short) was
    // packed: fewer tokens computed than one text per row padded to the longest.
    let stats = batches.0.lock().expect("stats");
    let biggest = stats.iter().max_by_key(|s| s.texts).expect("a batch ran");
    assert!(biggest.texts > 1);
    assert!(
        biggest.padded_tokens < biggest.texts * 256,
        "not packed: {biggest:?}"
    );
}

#[test]
fn fp32_matches_the_numpy_forward_pass_padded_one_to_a_row_and_alone() {
    let dir = padded_model_dir();
    let batches = Arc::new(Batches::default());
    let embedder = embedder_in(dir.path(), Precision::Fp32, batches.clone());
    assert!(!embedder.spec().segment_mask);
    matches_the_numpy_forward_pass(&embedder, "padded");
    let stats = batches.0.lock().expect("stats");
    let biggest = stats.iter().max_by_key(|s| s.texts).expect("a batch ran");
    assert!(biggest.texts > 1);
    assert!(
        biggest.padded_tokens > biggest.tokens && biggest.padded_tokens % biggest.texts == 0,
        "one text per row, padded: {biggest:?}"
    );
}

fn matches_the_numpy_forward_pass(embedder: &Embedder, layout: &str) {
    let refs = references();
    assert!(
        refs.iter().any(|r| r.text.is_empty()),
        "the reference set has an empty text"
    );
    assert!(
        refs.iter().any(|r| r.truncated),
        "the reference set has a text over the limit"
    );

    let batch = embedder.embed_blocking(&texts(&refs), true).expect("batch");
    let mut worst_batch_vs_alone = 0f32;
    for (r, b) in refs.iter().zip(&batch) {
        // Tokenisation: truncated at the model's 256, not the tokenizer file's 128.
        assert_eq!(
            embedder
                .tokenize(std::slice::from_ref(&r.text))
                .expect("tokens")[0]
                .ids,
            r.ids,
            "{:?}",
            r.text
        );
        assert_eq!(b.truncated, r.truncated, "{:?}", r.text);
        assert_eq!(b.n_tokens, r.ids.len());
        let diff = max_abs_diff(&b.pooled, &r.embedding);
        let cos = cosine(&b.pooled, &r.embedding);
        println!(
            "{:>50.50} max|Δ| {diff:.2e} cos {cos:.7}",
            format!("{:?}", r.text)
        );
        assert!(
            diff <= 1e-5 && cos >= 0.99999,
            "{:?}: max|Δ| {diff}, cos {cos}",
            r.text
        );
        let tokens = b.tokens.as_ref().expect("token vectors");
        assert_eq!(tokens.len(), r.tokens.len());
        for (t, rt) in tokens.iter().zip(&r.tokens) {
            assert!(
                max_abs_diff(t, rt) <= 1e-5,
                "{:?}: token vector off",
                r.text
            );
        }

        let alone: Encoded = embedder
            .embed_blocking(std::slice::from_ref(&r.text), false)
            .expect("alone")
            .remove(0);
        let d = max_abs_diff(&alone.pooled, &b.pooled);
        worst_batch_vs_alone = worst_batch_vs_alone.max(d);
        assert!(d <= 1e-5, "{:?}: alone vs in batch max|Δ| {d}", r.text);
        assert!(max_abs_diff(&alone.pooled, &r.embedding) <= 1e-5);
    }
    println!("alone vs {layout} batch: max|Δ| {worst_batch_vs_alone:.2e}");
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    let embedder = embedder(Precision::Fp32);
    let texts: Vec<String> = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "A monkey is playing drums.",
    ]
    .map(String::from)
    .to_vec();
    let e = embedder.embed_blocking(&texts, false).expect("embed");
    let bread = cosine(&e[0].pooled, &e[1].pooled);
    let drums = cosine(&e[0].pooled, &e[2].pooled);
    println!("food~bread {bread:.4}, food~drums {drums:.4}");
    assert!(
        bread > drums + 0.2,
        "food~bread {bread} vs food~drums {drums}"
    );
}

#[test]
fn int8_tracks_fp32_on_the_scifact_queries() {
    let path = std::env::var_os("TRAWL_SCIFACT")
        .map_or_else(|| root().join("../shared/data/scifact"), PathBuf::from)
        .join("queries.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (set TRAWL_SCIFACT to the BEIR SciFact folder)",
            path.display()
        )
    });
    let queries: Vec<String> = text
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("query line");
            v["text"].as_str().expect("text").to_string()
        })
        .collect();
    assert_eq!(queries.len(), 1_109);
    let fp32 = embedder(Precision::Fp32)
        .embed_blocking(&queries, false)
        .expect("fp32");
    let int8 = embedder(Precision::Int8)
        .embed_blocking(&queries, false)
        .expect("int8");
    let cosines: Vec<f32> = fp32
        .iter()
        .zip(&int8)
        .map(|(a, b)| cosine(&a.pooled, &b.pooled))
        .collect();
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    let min = cosines.iter().copied().fold(1.0, f32::min);
    println!(
        "int8 vs fp32 on {} SciFact queries: mean cosine {mean:.5}, min {min:.5}",
        cosines.len()
    );
    assert!(mean >= 0.99, "mean cosine {mean}");
}
