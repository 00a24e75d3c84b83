//! Properties of how the index stores and scores binary codes
//! (`trawl_index::codes`), on random vectors from `trawl_codes::testgen`
//! (random dimensions, including ones that are not multiples of 8 or 64).
//! The codes themselves (packing, residual planes and scales, the row layout)
//! are `trawl_codes`' and tested there; here:
//!
//! - a stored row is `trawl_codes`' row of the vector, at its offset;
//! - Hamming distance by the dispatched popcount kernel equals a bit-by-bit count;
//! - the asymmetric score (float query against codes, from the quantised and
//!   bit-sliced query) is within the documented bound of the exact `q · x̂`,
//!   and the code-to-code distance is the metric's distance of the
//!   reconstructions' dot product.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use trawl_codes::{RowLayout, reference, testgen};
use trawl_index::Metric;
use trawl_index::codes::{CodeKind, CodeSpec, Codes, QueryCode};
use trawl_index::distance;
use trawl_index::graph::Scorer;

fn spec(bits: u8, dims: usize, metric: Metric) -> CodeSpec {
    CodeSpec {
        kind: CodeKind::Binary { bits },
        dims,
        metric,
    }
}

fn encode(spec: &CodeSpec, v: &[f32]) -> Vec<u64> {
    let mut words = Vec::new();
    spec.encode(v, &mut words, &mut Vec::new());
    words
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Each offset holds `trawl_codes`' row of its vector, `spec.words()` long,
    /// whose planes unpack to the scalar reference's.
    #[test]
    fn stored_rows_are_the_shared_rows(
        bits in testgen::bits(),
        docs in testgen::dims().prop_flat_map(|d| vec(testgen::vector_of(d), 1..4)),
    ) {
        let d = docs[0].len();
        let s = spec(bits, d, Metric::Dot);
        let mut store = Codes::new(s);
        docs.iter().for_each(|v| store.push(v));
        let layout = RowLayout::new(bits, d);
        for (o, v) in docs.iter().enumerate() {
            let row = store.words(o as u32);
            let mut want = Vec::new();
            layout.push(v, &mut want);
            prop_assert_eq!(row.len(), s.words());
            prop_assert_eq!(row, &want[..]);
            let (planes, _) = reference::unpack_row(row, bits, d);
            prop_assert_eq!(planes, reference::binarize(v, bits).0);
        }
    }

    /// Hamming distance by the dispatched kernel (`popcnt` where the CPU has
    /// it), the portable one and the graph's 1-bit distance all equal the
    /// number of dimensions whose signs differ.
    #[test]
    fn hamming_equals_a_bit_by_bit_count((a, b) in testgen::vector_pair()) {
        let d = a.len();
        let s = spec(1, d, Metric::Cosine);
        let (wa, wb) = (encode(&s, &a), encode(&s, &b));
        let want = reference::hamming(&reference::signs(&a), &reference::signs(&b));
        prop_assert_eq!(distance::hamming(&wa, &wb) as usize, want);
        prop_assert_eq!(distance::hamming_scalar(&wa, &wb) as usize, want);
        prop_assert_eq!(s.code_distance(&wa, &wb), want as f32);
        prop_assert_eq!(distance::hamming(&wa, &wa), 0);
    }

    /// The asymmetric score of every code is within the documented bound of
    /// the exact `q · x̂` computed from the unpacked planes and scales: each
    /// quantised query component is within `delta / 2` of the query's, so a
    /// plane's dot product is within `d · delta / 2` and the score within
    /// `Σ_p s_p · d · delta / 2`.
    #[test]
    fn asymmetric_scores_are_within_the_quantisation_bound_of_the_exact_dot(
        bits in testgen::bits(),
        (q, docs) in testgen::dims()
            .prop_flat_map(|d| (testgen::vector_of(d), vec(testgen::vector_of(d), 1..6))),
    ) {
        let d = q.len();
        let s = spec(bits, d, Metric::Dot);
        let mut store = Codes::new(s);
        docs.iter().for_each(|v| store.push(v));
        let query = s.query(&q);
        let QueryCode::Planes(quantised) = &query else {
            panic!("binary codes are scored from the query's bit planes");
        };
        let delta = quantised.delta();
        let scorer = store.scorer(&query);
        let q_abs: f64 = q.iter().map(|x| f64::from(x.abs())).sum();
        for o in 0..docs.len() {
            let (planes, scales) = reference::unpack_row(store.words(o as u32), bits, d);
            let exact = reference::dot_with_code(&q, &planes, &scales);
            let scale_sum: f64 = scales.iter().map(|x| f64::from(*x)).sum();
            // Each quantised component is within delta / 2 of the query's.
            let bound = scale_sum * (d as f64 * f64::from(delta) / 2.0 + 1e-5 * q_abs) + 1e-6;
            let got = f64::from(scorer.score(o as u32));
            prop_assert!(
                (got - exact).abs() <= bound,
                "{} bits, {} dims, code {}: score {} vs exact {} (bound {})",
                bits, d, o, got, exact, bound
            );
        }
    }

    /// Between two residual codes, the graph's distance is the metric's
    /// distance of the reconstructions' dot product (computed there from
    /// popcounts of every pair of planes).
    #[test]
    fn code_distance_is_the_distance_of_the_reconstructions(
        bits in select(vec![2_u8, 4]),
        metric in select(vec![Metric::Cosine, Metric::Dot, Metric::L2]),
        (a, b) in testgen::vector_pair(),
    ) {
        let d = a.len();
        let s = spec(bits, d, metric);
        let (ra, rb) = (encode(&s, &a), encode(&s, &b));
        let rebuild = |row: &[u64]| {
            let (planes, scales) = reference::unpack_row(row, bits, d);
            reference::rebuild(&planes, &scales)
        };
        let dot = reference::dot(&rebuild(&ra), &rebuild(&rb));
        let want = match metric {
            Metric::Cosine => (1.0 - dot).max(0.0),
            _ if dot <= 0.0 => 1.0 - dot,
            _ => 1.0 / (1.0 + dot),
        };
        let got = f64::from(s.code_distance(&ra, &rb));
        // f32 sums of up to 16 plane pairs of `d` terms each.
        let norms = reference::dot(&a, &a).sqrt() * reference::dot(&b, &b).sqrt();
        prop_assert!(
            (got - want).abs() <= 1e-4 * (1.0 + norms),
            "{} bits, {:?}, {} dims: {} vs {}", bits, metric, d, got, want
        );
    }
}
