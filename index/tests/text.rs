//! Full-text (BM25) search: a collection's texts split over several sealed
//! segments, frozen ones and the appendable one score exactly as one tantivy
//! index holding them all; filters, deletions, replacements, points without
//! text and a reopen behave as for vector searches.

mod common;

use std::collections::BTreeMap;

use tantivy::collector::TopDocs;
use tantivy::query::BooleanQuery;
use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{Index, TantivyDocument, Term};
use trawl_index::filter::{Condition, Filter, FilterLimits, MatchValue};
use trawl_index::storage::WalOptions;
use trawl_index::text::{TextConfig, TextLanguage, analyser};
use trawl_index::{
    Collection, CollectionConfig, IndexError, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, SealPolicy, TextSearch, VectorConfig,
};

use common::{Rng, TempDir};

const DIMS: usize = 8;
const WORDS: [&str; 24] = [
    "protein",
    "proteins",
    "cell",
    "cells",
    "binding",
    "tumour",
    "growth",
    "signal",
    "the",
    "of",
    "mouse",
    "human",
    "gene",
    "expression",
    "receptor",
    "pathway",
    "running",
    "runs",
    "blood",
    "pressure",
    "insulin",
    "neuron",
    "immune",
    "response",
];

fn config() -> CollectionConfig {
    let mut config =
        CollectionConfig::single(VectorConfig::new(DIMS, Metric::Cosine, Layout::Float));
    config.text = Some(TextConfig {
        field: "body".into(),
        language: TextLanguage::En,
    });
    config
        .payload_schema
        .insert("group".into(), PayloadType::Keyword);
    config
}

/// A text of 3 to 40 words, skewed towards the first words of [`WORDS`].
fn text(rng: &mut Rng) -> String {
    let n = 3 + (rng.next() % 38) as usize;
    (0..n)
        .map(|_| {
            let a = (rng.next() % WORDS.len() as u64) as usize;
            let b = (rng.next() % WORDS.len() as u64) as usize;
            WORDS[a.min(b)]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn point(i: u64, body: Option<&str>, rng: &mut Rng) -> PointWrite {
    let mut payload = Payload::new();
    payload.insert("group".into(), serde_json::json!(format!("g{}", i % 3)));
    if let Some(body) = body {
        payload.insert("body".into(), serde_json::json!(body));
    }
    PointWrite::new(
        PointId::Num(i),
        (0..DIMS).map(|_| rng.unit()).collect(),
        Some(payload),
    )
}

fn search(c: &Collection, text: &str, filter: Option<&Filter>, limit: usize) -> Vec<(u64, f32)> {
    c.search_text(&TextSearch {
        text,
        filter,
        filter_limits: FilterLimits::default(),
        limit,
        with_payload: true,
        with_vector: false,
    })
    .unwrap()
    .into_iter()
    .map(|hit| {
        let PointId::Num(id) = hit.id else {
            panic!("numeric ids only")
        };
        (id, hit.score)
    })
    .collect()
}

/// The same texts in one tantivy index (one segment), searched with the
/// same analyser and query: BM25 as tantivy computes it alone.
fn reference(texts: &BTreeMap<u64, String>, query: &str, limit: usize) -> Vec<(u64, f32)> {
    let mut builder = Schema::builder();
    let id = builder.add_u64_field("id", tantivy::schema::STORED);
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("trawl")
        .set_index_option(IndexRecordOption::WithFreqs);
    let body = builder.add_text_field(
        "body",
        TextOptions::default().set_indexing_options(indexing),
    );
    let index = Index::create_in_ram(builder.build());
    index
        .tokenizers()
        .register("trawl", analyser(TextLanguage::En));
    let mut writer = index.writer_with_num_threads(1, 50_000_000).unwrap();
    for (&i, t) in texts {
        let mut doc = TantivyDocument::new();
        doc.add_u64(id, i);
        doc.add_text(body, t);
        writer.add_document(doc).unwrap();
    }
    writer.commit().unwrap();
    let searcher = index.reader().unwrap().searcher();
    let mut analyser = analyser(TextLanguage::En);
    let mut stream = analyser.token_stream(query);
    let mut terms = Vec::new();
    while stream.advance() {
        terms.push(Term::from_field_text(body, &stream.token().text));
    }
    let query = BooleanQuery::new_multiterms_query(terms);
    searcher
        .search(&query, &TopDocs::with_limit(limit).order_by_score())
        .unwrap()
        .into_iter()
        .map(|(score, address)| {
            let doc: TantivyDocument = searcher.doc(address).unwrap();
            (doc.get_first(id).and_then(|v| v.as_u64()).unwrap(), score)
        })
        .collect()
}

fn assert_same(got: &[(u64, f32)], want: &[(u64, f32)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.1 - w.1).abs() <= 1e-4 * w.1.abs().max(1.0),
            "{what}: score {g:?} vs tantivy's {w:?}\n{got:?}\n{want:?}"
        );
    }
    // Equal scores may come in either order: compare the sets of ids per score.
    let ids = |v: &[(u64, f32)]| {
        let mut ids: Vec<u64> = v.iter().map(|x| x.0).collect();
        ids.sort_unstable();
        ids
    };
    let last = want.last().map_or(0.0, |w| w.1);
    let strictly_above = |v: &[(u64, f32)]| -> Vec<(u64, f32)> {
        v.iter().copied().filter(|x| x.1 > last + 1e-4).collect()
    };
    assert_eq!(
        ids(&strictly_above(got)),
        ids(&strictly_above(want)),
        "{what}: different points above the last score"
    );
}

const QUERIES: [&str; 5] = [
    "protein binding",
    "The growth of tumour cells",
    "insulin and blood pressure in mice",
    "immune response pathway",
    "neurons running",
];

#[test]
fn bm25_over_segments_equals_one_tantivy_index() {
    let seed = 0x7e47_0001;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("text");
    let path = dir.0.join("docs");
    let policy = SealPolicy {
        points: 150,
        bytes: 1 << 30,
        fold_ratio: trawl_index::FOLD_RATIO,
    };
    let c =
        Collection::create_with("docs", &path, config(), WalOptions::default(), policy).unwrap();
    let mut texts = BTreeMap::new();
    let mut writes = Vec::new();
    for i in 0..700u64 {
        // Every 7th point has no text: never a lexical hit.
        if i % 7 == 0 {
            writes.push(point(i, None, &mut rng));
        } else {
            let t = text(&mut rng);
            writes.push(point(i, Some(&t), &mut rng));
            texts.insert(i, t);
        }
    }
    for chunk in writes.chunks(50) {
        c.upsert(chunk.to_vec()).unwrap();
    }
    // Sealed segments, and the last points still in the appendable one.
    c.wait_indexed();
    let extra: Vec<PointWrite> = (700..760u64)
        .map(|i| {
            let t = text(&mut rng);
            texts.insert(i, t.clone());
            point(i, Some(&t), &mut rng)
        })
        .collect();
    c.upsert(extra).unwrap();
    let stats = c.stats();
    assert!(stats.segments >= 2 && stats.unsealed > 0, "{stats:?}");
    for q in QUERIES {
        let got = search(&c, q, None, 10);
        assert!(!got.is_empty(), "{q}");
        assert!(
            got.iter().all(|(id, _)| id % 7 != 0 || *id >= 700),
            "{q}: {got:?}"
        );
        assert_same(&got, &reference(&texts, q, 10), q);
    }

    // A filter is honoured (group is indexed; the scores stay the collection's).
    let filter = Filter {
        must: vec![Condition::Match {
            key: "group".into(),
            value: MatchValue::Keyword("g1".into()),
        }],
        ..Filter::default()
    };
    for q in QUERIES {
        let got = search(&c, q, Some(&filter), 10);
        assert!(!got.is_empty(), "{q}");
        assert!(got.iter().all(|(id, _)| id % 3 == 1), "{q}: {got:?}");
        let all = search(&c, q, None, 1_000);
        let want: Vec<(u64, f32)> = all
            .into_iter()
            .filter(|(id, _)| id % 3 == 1)
            .take(10)
            .collect();
        assert_same(&got, &want, q);
    }

    // Reopened: sealed segments' text files are read back, the log replayed.
    drop(c);
    let c = Collection::open_with("docs", &path, WalOptions::default(), policy).unwrap();
    for q in QUERIES {
        assert_same(&search(&c, q, None, 10), &reference(&texts, q, 10), q);
    }

    // Deleted and replaced points: never returned with their old text.
    let deleted: Vec<PointId> = (1..700).step_by(5).map(PointId::Num).collect();
    c.delete(&deleted).unwrap();
    let mut replaced = Vec::new();
    for i in (2..700u64).step_by(5) {
        replaced.push(point(i, Some("zebrafish"), &mut rng));
    }
    c.upsert(replaced).unwrap();
    for q in QUERIES {
        let got = search(&c, q, None, 50);
        assert!(
            got.iter()
                .all(|(id, _)| *id >= 700 || (id % 5 != 1 && id % 5 != 2)),
            "{q}: {got:?}"
        );
    }
    let zebra = search(&c, "Zebrafish!", None, 1_000);
    let mut ids: Vec<u64> = zebra.iter().map(|x| x.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, (2..700u64).step_by(5).collect::<Vec<_>>());
    c.wait_indexed();
    let zebra = search(&c, "zebrafish", None, 1_000);
    assert_eq!(zebra.len(), ids.len());

    // Stop words only, or nothing: no hits, not an error.
    assert!(search(&c, "the of", None, 10).is_empty());
    assert!(search(&c, "", None, 10).is_empty());
}

#[test]
fn a_collection_without_a_text_index_refuses_lexical_search() {
    let dir = TempDir::new("notext");
    let mut config = config();
    config.text = None;
    let c =
        Collection::create("plain", &dir.0.join("plain"), config, WalOptions::default()).unwrap();
    let err = c
        .search_text(&TextSearch {
            text: "protein",
            filter: None,
            filter_limits: FilterLimits::default(),
            limit: 10,
            with_payload: false,
            with_vector: false,
        })
        .unwrap_err();
    assert!(
        matches!(&err, IndexError::InvalidParameter { field, .. } if field == "lexical"),
        "{err}"
    );
}
