//! Named vectors: one collection holding a float, a binary and a
//! multivector representation, points holding any subset of them, each
//! searched on its own storage and graph, through sealing, merging, payload
//! updates, a reopen, and a log replayed after a crash.

mod common;

use std::collections::BTreeMap;

use trawl_index::filter::FilterLimits;
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, IndexError, Layout, Metric, Payload, PayloadUpdate,
    PointId, PointWrite, ScrollQuery, SealPolicy, SearchQuery, Selection, VectorConfig,
};

use common::{Rng, TempDir};

const DENSE: usize = 16;
const CODES: usize = 64;
const TOKEN: usize = 8;

fn config() -> CollectionConfig {
    let hnsw = HnswParams {
        m: 12,
        ef_construction: 64,
    };
    let mut config = CollectionConfig::single(VectorConfig {
        hnsw,
        ..VectorConfig::new(DENSE, Metric::Cosine, Layout::Float)
    });
    config.vectors.insert(
        "codes".into(),
        VectorConfig {
            hnsw,
            ..VectorConfig::new(CODES, Metric::Cosine, Layout::Binary { bits: 1 })
        },
    );
    config.vectors.insert(
        "tokens".into(),
        VectorConfig {
            hnsw,
            ..VectorConfig::new(TOKEN, Metric::Dot, Layout::Multivector)
        },
    );
    config
}

/// Point `i`'s vectors: the codes every 2nd, the tokens every 3rd, the
/// unnamed one all but every 5th of those (every point holds at least one).
struct Drawn {
    dense: Option<Vec<f32>>,
    codes: Option<Vec<f32>>,
    tokens: Option<Vec<f32>>,
}

fn draw(i: u64, rng: &mut Rng) -> Drawn {
    let mut v = |n: usize| (0..n).map(|_| rng.unit()).collect::<Vec<f32>>();
    Drawn {
        dense: (!i.is_multiple_of(5) || !(i.is_multiple_of(2) || i.is_multiple_of(3)))
            .then(|| v(DENSE)),
        codes: i.is_multiple_of(2).then(|| v(CODES)),
        tokens: i.is_multiple_of(3).then(|| v(TOKEN * 3)),
    }
}

fn write(i: u64, d: &Drawn, version: u64) -> PointWrite {
    let mut vectors = BTreeMap::new();
    if let Some(c) = &d.codes {
        vectors.insert("codes".to_string(), c.clone());
    }
    if let Some(t) = &d.tokens {
        vectors.insert("tokens".to_string(), t.clone());
    }
    let mut payload = Payload::new();
    payload.insert("version".into(), serde_json::json!(version));
    PointWrite {
        id: PointId::Num(i),
        vector: d.dense.clone().unwrap_or_default(),
        vectors,
        sparse: Default::default(),
        payload: Some(payload),
    }
}

fn search<'a>(using: &'a str, vector: &'a [f32], exact: bool) -> SearchQuery<'a> {
    SearchQuery {
        using,
        vector,
        filter: None,
        filter_limits: FilterLimits::default(),
        limit: 10,
        ef: None,
        exact,
        oversample: None,
        rerank: true,
        with_payload: false,
        with_vector: true,
    }
}

fn normalised(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / n).collect()
}

/// Every search on each vector finds only points holding it, and a point's
/// own vector finds the point first.
fn check(c: &Collection, all: &BTreeMap<u64, Drawn>) {
    for (&i, d) in all.iter().step_by(7) {
        for (using, given) in [("", &d.dense), ("codes", &d.codes), ("tokens", &d.tokens)] {
            let Some(given) = given else { continue };
            for exact in [true, false] {
                let hits = c.search(&search(using, given, exact)).unwrap();
                assert_eq!(hits.len(), 10, "{using:?} exact {exact}");
                if using != "tokens" {
                    // Chamfer of a token set with itself need not be the best.
                    assert_eq!(hits[0].id, PointId::Num(i), "{using:?} exact {exact}");
                }
                for hit in &hits {
                    let PointId::Num(n) = hit.id else {
                        panic!("{:?}", hit.id)
                    };
                    let held = &all[&n];
                    let holds = match using {
                        "" => held.dense.is_some(),
                        "codes" => held.codes.is_some(),
                        _ => held.tokens.is_some(),
                    };
                    assert!(holds, "{n} lacks {using:?} but was found by it");
                    // Vectors come back by name, as held.
                    assert_eq!(hit.vector.is_some(), held.dense.is_some());
                    assert_eq!(hit.vectors.contains_key("codes"), held.codes.is_some());
                    assert_eq!(hit.vectors.contains_key("tokens"), held.tokens.is_some());
                }
            }
        }
        let (vectors, _) = c.get_vectors(&PointId::Num(i)).unwrap();
        match (vectors.get(""), &d.dense) {
            (Some(got), Some(given)) => {
                for (a, b) in got.iter().zip(normalised(given)) {
                    assert!((a - b).abs() < 1e-5, "{i}: {got:?} {given:?}");
                }
            }
            (got, given) => assert_eq!(got.is_some(), given.is_some(), "{i}"),
        }
        assert_eq!(vectors.get("tokens"), d.tokens.as_ref(), "{i}");
        assert_eq!(vectors.contains_key("codes"), d.codes.is_some(), "{i}");
    }
}

#[test]
fn points_hold_any_subset_of_named_vectors_each_searched_on_its_own() {
    let seed = 0x5eed_00a1;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let dir = TempDir::new("named");
    let path = dir.0.join("docs");
    let policy = SealPolicy {
        points: 300,
        bytes: 1 << 30,
        // Segments of their own (no seal takes in the one before).
        fold_ratio: 0,
    };
    let c =
        Collection::create_with("docs", &path, config(), WalOptions::default(), policy).unwrap();
    let mut all = BTreeMap::new();
    for i in 0..1_500u64 {
        all.insert(i, draw(i, &mut rng));
    }
    let writes: Vec<PointWrite> = all.iter().map(|(&i, d)| write(i, d, 1)).collect();
    for chunk in writes.chunks(100) {
        c.upsert(chunk.to_vec()).unwrap();
    }
    c.wait_indexed();
    assert!(c.stats().segments >= 2, "{:?}", c.stats());
    check(&c, &all);

    // A payload update keeps every vector as it was, absent ones absent.
    let ids: Vec<PointId> = (0..1_500).step_by(4).map(PointId::Num).collect();
    let mut merge = Payload::new();
    merge.insert("touched".into(), serde_json::json!(true));
    c.update_payload(
        Selection::Ids(&ids),
        &PayloadUpdate::Merge(merge),
        &FilterLimits::default(),
    )
    .unwrap();
    check(&c, &all);

    // Unknown names and wrong dimensions are refused, naming the field.
    let mut bad = write(5_000, &all[&0], 1);
    bad.vectors.insert("nope".into(), vec![1.0; 4]);
    let err = c.upsert(vec![bad]).unwrap_err().to_string();
    assert!(
        err.contains("points[0].vectors.nope") && err.contains("\"codes\""),
        "{err}"
    );
    let mut bad = write(5_000, &all[&0], 1);
    bad.vectors.insert("codes".into(), vec![1.0; 3]);
    let err = c.upsert(vec![bad]).unwrap_err().to_string();
    assert!(err.contains("points[0].vectors.codes"), "{err}");
    let empty = PointWrite {
        id: PointId::Num(5_001),
        vector: Vec::new(),
        vectors: BTreeMap::new(),
        sparse: Default::default(),
        payload: None,
    };
    assert!(c.upsert(vec![empty]).is_err());
    let err = c.search(&search("nope", &[1.0; 4], false)).unwrap_err();
    assert!(matches!(err, IndexError::InvalidParameter { ref field, .. } if field == "using"));
    assert_eq!(c.len(), 1_500);

    // Scroll returns each point's vectors by name.
    let page = c
        .scroll(
            &ScrollQuery {
                filter: None,
                after: None,
                limit: 30,
                with_payload: false,
                with_vector: true,
            },
            &FilterLimits::default(),
        )
        .unwrap();
    for p in &page.points {
        let PointId::Num(n) = p.id else { panic!() };
        assert_eq!(p.vector.is_some(), all[&n].dense.is_some());
        assert_eq!(p.vectors.contains_key("tokens"), all[&n].tokens.is_some());
    }

    // Unsealed points (the log's) after a crash-like drop, then a reopen.
    let tail: Vec<PointWrite> = (1_500..1_560u64)
        .map(|i| {
            let d = draw(i, &mut rng);
            let w = write(i, &d, 1);
            all.insert(i, d);
            w
        })
        .collect();
    c.upsert(tail).unwrap();
    c.close();
    drop(c);
    let c = Collection::open_with("docs", &path, WalOptions::default(), policy).unwrap();
    assert_eq!(c.len(), 1_560);
    check(&c, &all);
    c.wait_indexed();
    check(&c, &all);
    // Its files: one set per vector, and which points lack which.
    let segments = std::fs::read_dir(path.join("segments")).unwrap();
    let names: Vec<String> = segments
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect();
    for file in [
        "graph.bin",
        "graph.codes.bin",
        "codes.codes.bin",
        "tokens.tokens.f32",
        "absent.bin",
    ] {
        assert!(names.iter().any(|n| n == file), "no {file} in {names:?}");
    }
}
