//! Compact layouts on real files: codes in memory, full vectors in the mapped
//! vector file, candidates reranked exactly, across a reopen.

mod common;

use std::collections::{BTreeMap, HashSet};

use trawl_index::filter::{Condition, Filter, FilterLimits, Range};
use trawl_index::storage::WalOptions;
use trawl_index::{
    Collection, CollectionConfig, HnswParams, Layout, Metric, Payload, PayloadType, PointId,
    PointWrite, ScoredPoint, SearchQuery,
};

use common::{Rng, TempDir};

const DIMS: usize = 64;

/// Clustered vectors (a centre plus noise), so that neighbours mean something.
fn vectors(n: usize, centres: &[Vec<f32>], rng: &mut Rng) -> Vec<Vec<f32>> {
    (0..n)
        .map(|_| {
            let c = &centres[(rng.next() % centres.len() as u64) as usize];
            c.iter().map(|x| x + 0.3 * rng.unit()).collect()
        })
        .collect()
}

fn config(layout: &str) -> CollectionConfig {
    let mut payload_schema = BTreeMap::new();
    payload_schema.insert("bucket".to_string(), PayloadType::Integer);
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: std::collections::BTreeMap::from([(
            String::new(),
            trawl_index::VectorConfig {
                dims: DIMS,
                metric: Metric::Cosine,
                layout: Layout::parse(layout).unwrap(),
                hnsw: HnswParams {
                    m: 16,
                    ef_construction: 64,
                },
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema,
    }
}

fn fill(c: &Collection, data: &[Vec<f32>]) {
    for (chunk, rows) in data.chunks(5_000).enumerate() {
        let points = rows
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let id = chunk * 5_000 + i;
                let mut payload = Payload::new();
                payload.insert("bucket".into(), serde_json::json!(id % 100));
                PointWrite {
                    vectors: Default::default(),
                    sparse: Default::default(),
                    id: PointId::Num(id as u64),
                    vector: v.clone(),
                    payload: Some(payload),
                }
            })
            .collect();
        c.upsert(points).unwrap();
    }
}

fn search(
    c: &Collection,
    v: &[f32],
    limit: usize,
    filter: Option<&Filter>,
    oversample: Option<f32>,
    rerank: bool,
    exact: bool,
) -> Vec<ScoredPoint> {
    c.search(&SearchQuery {
        using: "",
        vector: v,
        filter,
        filter_limits: FilterLimits::default(),
        limit,
        ef: None,
        exact,
        oversample,
        rerank,
        with_payload: false,
        with_vector: false,
    })
    .unwrap()
}

fn ids(hits: &[ScoredPoint]) -> Vec<PointId> {
    hits.iter().map(|h| h.id.clone()).collect()
}

fn recall(got: &[ScoredPoint], truth: &[ScoredPoint]) -> f64 {
    let t: HashSet<PointId> = truth.iter().map(|h| h.id.clone()).collect();
    got.iter().filter(|h| t.contains(&h.id)).count() as f64 / truth.len().max(1) as f64
}

fn no_sync() -> WalOptions {
    WalOptions {
        sync: false,
        ..WalOptions::default()
    }
}

/// Every compact layout: the rerank is exact over its candidates, recall holds
/// on the graph and on the code scan, memory is where it should be, and a
/// reopen answers the same.
#[test]
fn compact_layouts_rerank_their_candidates_exactly_and_survive_reopen() {
    let seed = 0x0001_a701_u64;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    // More points than the code-scan threshold, so that the graph is walked.
    let centres: Vec<Vec<f32>> = (0..2_000)
        .map(|_| (0..DIMS).map(|_| rng.unit()).collect())
        .collect();
    let data = vectors(34_000, &centres, &mut rng);
    let queries = vectors(20, &centres, &mut rng);
    let float_ram = {
        let dir = TempDir::new("float");
        let c = Collection::create("f", &dir.0, config("float"), no_sync()).unwrap();
        fill(&c, &data);
        let stats = c.stats();
        assert_eq!(stats.memory.vectors_file, 0);
        stats.memory.vectors + stats.memory.codes
    };
    // (layout, least recall@10 unfiltered, filtered). The filtered matches are
    // scattered over many clusters, where coarse codes separate points less.
    for (layout, min_recall, min_filtered) in [
        ("binary", 0.9, 0.75),
        ("binary:2", 0.9, 0.85),
        ("binary:4", 0.95, 0.9),
        ("matryoshka:48", 0.9, 0.7),
    ] {
        let dir = TempDir::new(&layout.replace(':', "-"));
        let c = Collection::create("c", &dir.0, config(layout), no_sync()).unwrap();
        fill(&c, &data);
        c.wait_indexed();
        let stats = c.stats();
        assert_eq!(stats.indexed, 34_000, "{layout}");
        assert_eq!(
            stats.memory.vectors, 0,
            "{layout}: no full vectors in the heap"
        );
        assert!(
            stats.memory.vectors_file >= (34_000 * DIMS * 4) as u64,
            "{layout}: {stats:?}"
        );
        assert!(
            sealed_file(&dir.0, "vectors.f32"),
            "{layout}: the full vectors on disk"
        );
        let ram = stats.memory.vectors + stats.memory.codes;
        if layout.starts_with("binary") {
            assert!(ram * 4 <= float_ram, "{layout}: {ram} vs float {float_ram}");
        }

        let mut total = 0.0;
        for q in &queries {
            let exact = search(&c, q, 10, None, None, true, true);
            let got = search(&c, q, 10, None, None, true, false);
            assert_eq!(got.len(), 10);
            total += recall(&got, &exact);

            // The rerank equals the exact ranking of the candidate set.
            let candidates = search(&c, q, 80, None, Some(1.0), false, false);
            assert_eq!(candidates.len(), 80);
            let mut rescored: Vec<(PointId, f32)> = candidates
                .iter()
                .map(|h| {
                    let (v, _) = c.get(&h.id).unwrap();
                    let qn: f32 = q.iter().map(|x| x * x).sum::<f32>().sqrt();
                    (h.id.clone(), v.iter().zip(q).map(|(a, b)| a * b / qn).sum())
                })
                .collect();
            rescored.sort_by(|a, b| b.1.total_cmp(&a.1));
            let reranked = search(&c, q, 10, None, Some(8.0), true, false);
            assert_eq!(
                ids(&reranked),
                rescored
                    .iter()
                    .take(10)
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>(),
                "{layout}"
            );
            for (h, r) in reranked.iter().zip(&rescored) {
                assert!((h.score - r.1).abs() < 1e-4, "{layout}: exact scores");
            }
        }
        let r = total / queries.len() as f64;
        println!("{layout}: recall@10 {r:.3}");
        assert!(r >= min_recall, "{layout}: recall@10 {r}");

        // A filter small enough for the code scan, and one smaller than the candidates.
        let some = Filter {
            must: vec![Condition::Range {
                key: "bucket".into(),
                range: Range {
                    lt: Some(10.0),
                    ..Range::default()
                },
            }],
            ..Filter::default()
        };
        let one = Filter {
            must: vec![Condition::HasId(vec![PointId::Num(7), PointId::Num(1_234)])],
            ..Filter::default()
        };
        let mut filtered = 0.0;
        for q in &queries {
            let exact = search(&c, q, 10, Some(&some), None, true, true);
            let got = search(&c, q, 10, Some(&some), None, true, false);
            filtered += recall(&got, &exact);
            let both = search(&c, q, 10, Some(&one), None, true, false);
            assert_eq!(both.len(), 2, "{layout}");
        }
        let r = filtered / queries.len() as f64;
        // The matches are scattered over many clusters: a harder test for the codes.
        println!("{layout}: filtered recall@10 {r:.3}");
        assert!(r >= min_filtered, "{layout}: filtered recall@10 {r}");

        // Coarse scores without a rerank are the codes' own, best first.
        let coarse = search(&c, &queries[0], 10, None, None, false, false);
        assert!(coarse.windows(2).all(|w| w[0].score >= w[1].score));
        if layout.starts_with("binary") {
            assert!(coarse.iter().all(|h| (-1.5..=1.5).contains(&h.score)));
        }

        // Reopen: snapshot plus a log tail, vectors rewritten to the file.
        let before = search(&c, &queries[1], 10, None, None, true, false);
        c.snapshot().unwrap();
        c.upsert(vec![PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: PointId::Num(1_000_000),
            vector: queries[1].clone(),
            payload: None,
        }])
        .unwrap();
        c.close();
        drop(c);
        let c = Collection::open("c", &dir.0, no_sync()).unwrap();
        assert_eq!(c.len(), 34_001);
        let after = search(&c, &queries[1], 11, None, None, true, false);
        assert_eq!(after[0].id, PointId::Num(1_000_000), "{layout}");
        assert!((after[0].score - 1.0).abs() < 1e-5);
        assert_eq!(ids(&after[1..]), ids(&before), "{layout}");
        let (v, _) = c.get(&PointId::Num(33_999)).unwrap();
        let qn: f32 = data[33_999].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            v.iter()
                .zip(&data[33_999])
                .all(|(a, b)| (a - b / qn).abs() < 1e-6)
        );
        c.close();
    }
}

#[test]
fn layouts_are_checked_against_the_vectors() {
    let dir = TempDir::new("invalid");
    let create = |layout: &str, metric: Metric| {
        let mut cfg = config("float");
        cfg.vectors.get_mut("").unwrap().metric = metric;
        Layout::parse(layout).and_then(|layout| {
            cfg.vectors.get_mut("").unwrap().layout = layout;
            Collection::create(
                layout.as_str().as_str(),
                &dir.0.join(layout.as_str().replace(':', "-")),
                cfg,
                no_sync(),
            )
        })
    };
    for bad in ["binary:3", "matryoshka:0", "matryoshka:x", "nope"] {
        let err = create(bad, Metric::Cosine).err().unwrap().to_string();
        assert!(err.contains("vector.layout"), "{bad}: {err}");
    }
    let err = create("matryoshka:64", Metric::Cosine)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("shorter"), "{err}");
    let err = create("binary", Metric::L2).err().unwrap().to_string();
    assert!(err.contains("cosine or dot"), "{err}");
    assert!(create("matryoshka:16", Metric::L2).is_ok());
    assert!(create("binary:4", Metric::Dot).is_ok());
    assert_eq!(Layout::parse("binary:2").unwrap().as_str(), "binary:2");
    let json = serde_json::to_string(&Layout::parse("matryoshka:128").unwrap()).unwrap();
    assert_eq!(json, "\"matryoshka:128\"");
    let back: Layout = serde_json::from_str(&json).unwrap();
    assert_eq!(back, Layout::Matryoshka { k: 128 });
}

/// A token set per point: 3 to 24 tokens, each near one of the point's topics.
fn token_sets(n: usize, topics: &[Vec<f32>], rng: &mut Rng) -> Vec<Vec<f32>> {
    (0..n)
        .map(|_| {
            let own: Vec<usize> = (0..3)
                .map(|_| (rng.next() % topics.len() as u64) as usize)
                .collect();
            let tokens = 3 + (rng.next() % 22) as usize;
            (0..tokens)
                .flat_map(|_| {
                    let t = &topics[own[(rng.next() % 3) as usize]];
                    t.iter().map(|x| x + 0.4 * rng.unit()).collect::<Vec<f32>>()
                })
                .collect()
        })
        .collect()
}

/// Σ over query tokens of the best dot product with a document token (both
/// normalised, as the collection stores them for cosine).
fn naive_chamfer(query: &[f32], doc: &[f32], dims: usize) -> f32 {
    let unit = |v: &[f32]| -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    };
    query
        .chunks(dims)
        .map(|q| {
            let q = unit(q);
            doc.chunks(dims)
                .map(|d| unit(d).iter().zip(&q).map(|(a, b)| a * b).sum::<f32>())
                .fold(f32::NEG_INFINITY, f32::max)
        })
        .sum()
}

/// Multi-vector points: token vectors in the token file, FDEs in the graph,
/// Chamfer reranks equal to a naive Chamfer, filters, bad token sets, and the
/// same answers (FDE scores bit for bit) after a reopen.
#[test]
fn multivector_collections_rerank_fde_candidates_by_chamfer() {
    const TOKEN_DIMS: usize = 32;
    let seed = 0x0006_f0de_u64;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let topics: Vec<Vec<f32>> = (0..200)
        .map(|_| (0..TOKEN_DIMS).map(|_| rng.unit()).collect())
        .collect();
    let docs = token_sets(3_000, &topics, &mut rng);
    let queries = token_sets(15, &topics, &mut rng);

    let mut cfg = config("multivector");
    cfg.vectors.get_mut("").unwrap().dims = TOKEN_DIMS;
    cfg.vectors.get_mut("").unwrap().muvera = Some(trawl_index::muvera::FdeParams {
        k_sim: 3,
        d_proj: 8,
        r_reps: 8,
        ..Default::default()
    });
    let dir = TempDir::new("multivector");
    let c = Collection::create("m", &dir.0, cfg.clone(), no_sync()).unwrap();
    fill(&c, &docs);
    c.wait_indexed();
    let stats = c.stats();
    assert_eq!(stats.indexed, 3_000);
    let rows: usize = docs.iter().map(|d| d.len() / TOKEN_DIMS).sum();
    assert!(stats.memory.vectors_file >= (rows * TOKEN_DIMS * 4) as u64);
    assert_eq!(
        stats.memory.vectors,
        (3_000 * 8 * 8 * 8 * 4) as u64,
        "the FDEs in the heap"
    );
    assert!(
        sealed_file(&dir.0, "tokens.f32"),
        "the token vectors on disk"
    );

    let mut total = 0.0;
    for q in &queries {
        let mut truth: Vec<(PointId, f32)> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| (PointId::Num(i as u64), naive_chamfer(q, d, TOKEN_DIMS)))
            .collect();
        truth.sort_by(|a, b| b.1.total_cmp(&a.1));
        let exact = search(&c, q, 10, None, None, true, true);
        assert_eq!(
            ids(&exact),
            truth
                .iter()
                .take(10)
                .map(|t| t.0.clone())
                .collect::<Vec<_>>()
        );
        for (h, t) in exact.iter().zip(&truth) {
            assert!((h.score - t.1).abs() < 1e-3, "{} vs {}", h.score, t.1);
        }
        let got = search(&c, q, 10, None, Some(10.0), true, false);
        total += recall(&got, &exact);
        // Reranked scores are exact Chamfer, best first.
        for h in &got {
            let PointId::Num(i) = h.id else { panic!() };
            let naive = naive_chamfer(q, &docs[i as usize], TOKEN_DIMS);
            assert!((h.score - naive).abs() < 1e-3);
        }
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
    }
    let r = total / queries.len() as f64;
    println!("multivector: recall@10 of FDE top-100 reranked {r:.3}");
    assert!(r >= 0.9, "recall@10 {r}");

    // A filter: every hit matches, and exact search agrees with brute force.
    let some = Filter {
        must: vec![Condition::Range {
            key: "bucket".into(),
            range: Range {
                lt: Some(20.0),
                ..Range::default()
            },
        }],
        ..Filter::default()
    };
    let hits = search(&c, &queries[0], 10, Some(&some), None, true, false);
    assert_eq!(hits.len(), 10);
    assert!(
        hits.iter()
            .all(|h| matches!(h.id, PointId::Num(i) if i % 100 < 20))
    );

    // Bad token sets are refused and nothing is written.
    let bad = |vector: Vec<f32>| {
        c.upsert(vec![PointWrite {
            vectors: Default::default(),
            sparse: Default::default(),
            id: PointId::Num(9_999_999),
            vector,
            payload: None,
        }])
        .unwrap_err()
        .to_string()
    };
    assert!(bad(vec![]).contains("at least one token"));
    assert!(bad(vec![0.5; TOKEN_DIMS + 3]).contains("dimensions"));
    let mut nan = vec![0.5; 2 * TOKEN_DIMS];
    nan[TOKEN_DIMS + 1] = f32::NAN;
    assert!(bad(nan).contains("multivector[1]"));
    assert_eq!(c.len(), 3_000);

    // A stored point reads back as its normalised tokens.
    let (stored, _) = c.get(&PointId::Num(5)).unwrap();
    assert_eq!(stored.len(), docs[5].len());

    // Reopen: snapshot plus a log tail; FDE scores are identical bit for bit.
    let coarse_before = search(&c, &queries[1], 10, None, None, false, false);
    let before = search(&c, &queries[1], 10, None, None, true, false);
    c.snapshot().unwrap();
    c.upsert(vec![PointWrite {
        vectors: Default::default(),
        sparse: Default::default(),
        id: PointId::Num(1_000_000),
        vector: queries[1].clone(),
        payload: None,
    }])
    .unwrap();
    c.close();
    drop(c);
    let c = Collection::open("m", &dir.0, no_sync()).unwrap();
    assert_eq!(c.len(), 3_001);
    assert_eq!(c.config().vectors[""].muvera, cfg.vectors[""].muvera);
    let after = search(&c, &queries[1], 11, None, None, true, false);
    assert_eq!(after[0].id, PointId::Num(1_000_000));
    assert_eq!(ids(&after[1..]), ids(&before));
    let exact_again = search(&c, &queries[1], 10, None, None, true, true);
    assert_eq!(exact_again[0].id, PointId::Num(1_000_000));
    c.delete(&[PointId::Num(1_000_000)]).unwrap();
    let coarse_after = search(&c, &queries[1], 10, None, None, false, false);
    assert_eq!(
        coarse_after
            .iter()
            .map(|h| (h.id.clone(), h.score.to_bits()))
            .collect::<Vec<_>>(),
        coarse_before
            .iter()
            .map(|h| (h.id.clone(), h.score.to_bits()))
            .collect::<Vec<_>>()
    );
    c.close();
}

#[test]
fn multivector_collections_need_cosine_or_dot_and_their_parameters() {
    let dir = TempDir::new("multivector-invalid");
    let try_create = |tag: &str, cfg: CollectionConfig| {
        Collection::create(tag, &dir.0.join(tag), cfg, no_sync())
            .err()
            .map(|e| e.to_string())
    };
    let mut cfg = config("multivector");
    assert!(
        try_create("a", cfg.clone())
            .unwrap()
            .contains("vector.muvera")
    );
    cfg.vectors.get_mut("").unwrap().muvera = Some(trawl_index::muvera::FdeParams {
        k_sim: 11,
        ..Default::default()
    });
    assert!(try_create("b", cfg.clone()).unwrap().contains("k_sim"));
    cfg.vectors.get_mut("").unwrap().muvera = Some(trawl_index::muvera::FdeParams::default());
    cfg.vectors.get_mut("").unwrap().metric = Metric::L2;
    assert!(
        try_create("c", cfg.clone())
            .unwrap()
            .contains("cosine or dot")
    );
    let mut float = config("float");
    float.vectors.get_mut("").unwrap().muvera = Some(trawl_index::muvera::FdeParams::default());
    assert!(
        try_create("d", float)
            .unwrap()
            .contains("multivector layout only")
    );
}

/// Whether a sealed segment of the collection in `dir` holds `file`.
fn sealed_file(dir: &std::path::Path, file: &str) -> bool {
    std::fs::read_dir(dir.join("segments"))
        .map(|d| d.flatten().any(|e| e.path().join(file).exists()))
        .unwrap_or(false)
}
