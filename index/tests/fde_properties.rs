//! Properties of MUVERA fixed-dimensional encodings (`trawl_index::muvera`)
//! for random token sets and small random parameters (`k_sim`, `d_proj`,
//! `R_reps`, filling, final projection):
//!
//! - two encoders built independently from the same parameters give
//!   bit-identical encodings, also after the parameters went through JSON
//!   (they are stored with the collection, and query FDEs must match document
//!   FDEs written long before);
//! - another seed gives another encoding;
//! - every coordinate, and the query FDE's dot product with the document FDE,
//!   is finite.

use proptest::collection::vec;
use proptest::prelude::*;
use trawl_index::distance::dot;
use trawl_index::muvera::{Fde, FdeParams};

/// Small parameters: `k_sim` 0..=4, `d_proj` in `d_proj`, `r_reps` in `r_reps`,
/// filling on or off, sometimes a final projection, any seed.
fn params(
    d_proj: std::ops::RangeInclusive<u32>,
    r_reps: std::ops::RangeInclusive<u32>,
) -> impl Strategy<Value = FdeParams> {
    (0_u32..=4, d_proj, r_reps, any::<bool>(), any::<u64>()).prop_flat_map(
        |(k_sim, d_proj, r_reps, fill, seed)| {
            let p = FdeParams {
                k_sim,
                d_proj,
                r_reps,
                fill_empty_partitions: fill,
                final_dims: None,
                seed,
            };
            let concatenated = p.concatenated_dims() as u32;
            prop::option::of(1..=concatenated)
                .prop_map(move |final_dims| FdeParams { final_dims, ..p })
        },
    )
}

/// A token component: never zero or tiny, so that every token has a side of
/// every hyperplane and a projection that depends on its signs.
fn component() -> impl Strategy<Value = f32> {
    // From integers: proptest 1.12's f32 range sampler can fail its own
    // internal assertion for some seeds.
    (100_000_u32..1_000_000, any::<bool>()).prop_map(|(n, negative)| {
        let x = n as f32 / 1e6;
        if negative { -x } else { x }
    })
}

/// `n` tokens of `dims` components, flattened.
fn tokens(dims: usize, n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<f32>> {
    vec(vec(component(), dims), n).prop_map(|t| t.concat())
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Same parameters, same bits: two encoders built apart, and a third from
    /// the parameters read back from their JSON.
    #[test]
    fn encodings_are_bit_identical_for_the_same_seed(
        params in params(1..=8, 1..=4),
        (dims, query, doc) in (1_usize..=24).prop_flat_map(|d| (Just(d), tokens(d, 0..6), tokens(d, 0..9))),
    ) {
        let json = serde_json::to_string(&params).unwrap();
        let read_back: FdeParams = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(read_back, params);
        let a = Fde::new(params, dims).unwrap();
        let b = Fde::new(params, dims).unwrap();
        let c = Fde::new(read_back, dims).unwrap();
        let (qa, da) = (a.encode_query(&query), a.encode_document(&doc));
        prop_assert_eq!(qa.len(), params.dims());
        prop_assert_eq!(da.len(), params.dims());
        for other in [&b, &c] {
            prop_assert_eq!(bits(&other.encode_query(&query)), bits(&qa));
            prop_assert_eq!(bits(&other.encode_document(&doc)), bits(&da));
        }
    }

    /// Another seed, another encoding, for any non-empty token set. (Enough
    /// random signs, `dims · d_proj · R_reps ≥ 40`, that a coincidence has
    /// probability below 2⁻⁴⁰.)
    #[test]
    fn another_seed_gives_another_encoding(
        params in params(4..=8, 2..=4),
        other_seed in any::<u64>(),
        (dims, query, doc) in (5_usize..=24).prop_flat_map(|d| (Just(d), tokens(d, 1..6), tokens(d, 1..9))),
    ) {
        prop_assume!(other_seed != params.seed);
        let a = Fde::new(params, dims).unwrap();
        let b = Fde::new(FdeParams { seed: other_seed, ..params }, dims).unwrap();
        prop_assert_ne!(bits(&a.encode_query(&query)), bits(&b.encode_query(&query)));
        prop_assert_ne!(bits(&a.encode_document(&doc)), bits(&b.encode_document(&doc)));
    }

    /// Every coordinate of both sides is finite, and so is their dot product,
    /// also for empty token sets.
    #[test]
    fn query_dot_document_is_finite(
        params in params(1..=8, 1..=4),
        (dims, query, doc) in (1_usize..=24).prop_flat_map(|d| (Just(d), tokens(d, 0..6), tokens(d, 0..9))),
    ) {
        let fde = Fde::new(params, dims).unwrap();
        let (q, d) = (fde.encode_query(&query), fde.encode_document(&doc));
        prop_assert!(q.iter().chain(&d).all(|x| x.is_finite()), "{:?} {:?}", q, d);
        prop_assert!(dot(&q, &d).is_finite());
        if query.is_empty() {
            prop_assert!(q.iter().all(|x| *x == 0.0));
        }
        if doc.is_empty() {
            prop_assert!(d.iter().all(|x| *x == 0.0));
        }
    }
}
