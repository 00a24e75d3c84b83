//! Recall against brute force on real embeddings: texts from the shorttext
//! corpus embedded in-process with the default model, indexed in a collection,
//! searched with and without filters on the corpus's own attributes.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use trawl_encoders::{Embedder, EmbedderConfig};
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, SearchQuery,
};

use crate::support::TempDir;

/// Base points: every `STRIDE`-th corpus line; queries: lines half a stride further.
/// (6,000 points spread over the whole corpus: embedding them in-process is
/// most of the test's time, on the critical path of the end-to-end suite.)
const BASE: usize = 6_000;
const QUERIES: usize = 200;
const STRIDE: usize = 40;
const K: usize = 10;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Doc {
    text: String,
    payload: Payload,
}

fn corpus() -> (Vec<Doc>, Vec<Doc>) {
    let path = std::env::var_os("TRAWL_SHORTTEXT").map_or_else(
        || root().join("../shared/data/shorttext/corpus.jsonl.gz"),
        PathBuf::from,
    );
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set TRAWL_SHORTTEXT)", path.display()));
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let (mut base, mut queries) = (Vec::new(), Vec::new());
    for (i, line) in reader.lines().enumerate() {
        let (into_base, into_queries) = (
            i % STRIDE == 0 && base.len() < BASE,
            i % STRIDE == STRIDE / 2 && queries.len() < QUERIES,
        );
        if !into_base && !into_queries {
            if base.len() == BASE && queries.len() == QUERIES {
                break;
            }
            continue;
        }
        let v: Value = serde_json::from_str(&line.expect("line")).expect("json");
        let doc = Doc {
            text: format!(
                "{} {}",
                v["title"].as_str().unwrap_or(""),
                v["text"].as_str().unwrap_or("")
            ),
            payload: v["metadata"].as_object().cloned().unwrap_or_default(),
        };
        if into_base {
            base.push(doc)
        } else {
            queries.push(doc)
        }
    }
    (base, queries)
}

fn any(key: &str, values: &[&str]) -> Filter {
    Filter {
        must: vec![Condition::MatchAny {
            key: key.into(),
            any: values
                .iter()
                .map(|v| MatchValue::Keyword((*v).to_string()))
                .collect(),
        }],
        ..Filter::default()
    }
}

#[test]
fn recall_at_10_on_real_embeddings_with_and_without_filters() {
    let seed = STRIDE as u64 * 1_000 + BASE as u64;
    println!(
        "sample: every {STRIDE}th shorttext line, {BASE} points, {QUERIES} queries (seed {seed})"
    );
    let lib = root().join("vendor/onnxruntime/libonnxruntime.so.1.31.1");
    trawl_encoders::init_runtime(&lib).expect("ONNX Runtime (run `make setup`)");
    let embedder = Embedder::load(
        &EmbedderConfig::new(root().join("models/all-minilm-l6-v2")),
        Arc::new(()),
    )
    .expect("model");
    let (base, queries) = corpus();
    let started = std::time::Instant::now();
    let texts: Vec<String> = base.iter().map(|d| d.text.clone()).collect();
    let vectors = embedder.embed_blocking(&texts, false).expect("embed base");
    let query_texts: Vec<String> = queries.iter().map(|d| d.text.clone()).collect();
    let query_vectors = embedder
        .embed_blocking(&query_texts, false)
        .expect("embed queries");
    println!(
        "embedded {} texts in {:.1} s",
        texts.len() + query_texts.len(),
        started.elapsed().as_secs_f64()
    );

    let dir = TempDir::new("recall");
    let mut schema = BTreeMap::new();
    for key in ["source", "pos", "lexname"] {
        schema.insert(key.to_string(), PayloadType::Keyword);
    }
    schema.insert("len_words".to_string(), PayloadType::Integer);
    let config = CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: 384,
                metric: Metric::Cosine,
                layout: Layout::Float,
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema: schema,
    };
    let collection = Collection::create(
        "recall",
        &dir.0.join("recall"),
        config,
        WalOptions {
            sync: false,
            ..WalOptions::default()
        },
    )
    .expect("create");
    let payloads: Vec<Payload> = base.iter().map(|d| d.payload.clone()).collect();
    let writes: Vec<PointWrite> = vectors
        .into_iter()
        .zip(base)
        .enumerate()
        .map(|(i, (e, d))| PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: PointId::Num(i as u64),
            vector: e.pooled,
            payload: Some(d.payload),
        })
        .collect();
    collection.upsert(writes).expect("upsert");
    let started = std::time::Instant::now();
    collection.wait_indexed();
    println!("graph built in {:.1} s", started.elapsed().as_secs_f64());

    let filters: Vec<(&str, Option<Filter>)> = vec![
        ("none", None),
        ("source=wordnet", Some(any("source", &["wordnet"]))),
        ("pos=verb", Some(any("pos", &["verb"]))),
        (
            "lexname=animal|plant",
            Some(any("lexname", &["noun.animal", "noun.plant"])),
        ),
        ("lexname=noun.food", Some(any("lexname", &["noun.food"]))),
        (
            "lexname=verb.weather",
            Some(any("lexname", &["verb.weather"])),
        ),
    ];
    for (name, filter) in &filters {
        let (mut found, mut wanted) = (0usize, 0usize);
        for q in &query_vectors {
            let query = |exact| SearchQuery {
                using: "",
                vector: &q.pooled,
                filter: filter.as_ref(),
                filter_limits: FilterLimits::default(),
                limit: K,
                ef: None,
                exact,
                oversample: None,
                rerank: true,
                with_payload: false,
                with_vector: false,
            };
            let truth = collection.search(&query(true)).expect("exact");
            let got = collection.search(&query(false)).expect("search");
            assert_eq!(
                got.len(),
                truth.len(),
                "{name}: never short of the exact answer"
            );
            wanted += truth.len();
            found += got
                .iter()
                .filter(|h| truth.iter().any(|t| t.id == h.id))
                .count();
        }
        let matching = payloads
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&PointId::Num(*i as u64), Some(p)))
            })
            .count();
        let recall = found as f64 / wanted.max(1) as f64;
        println!(
            "{name:>22}: {matching:>6} points ({:.2}%), recall@{K} {recall:.4}",
            100.0 * matching as f64 / BASE as f64
        );
        assert!(recall >= 0.95, "{name}: recall@{K} {recall}");
    }
}
