//! Properties of the index's binary codes (`trawl_index::codes`), on random
//! vectors of random dimensions, including ones that are not multiples of 8
//! or 64:
//!
//! - sign bits unpack to the vector's signs, with zero padding;
//! - Hamming distance by the dispatched popcount kernel equals a bit-by-bit count;
//! - residual codes (2 and 4 bits): the planes and scales read back from the
//!   documented row layout rebuild what `codes::reconstruct` returns; fewer
//!   bits are a prefix of more; the reconstruction error does not grow with the
//!   bits;
//! - the asymmetric score (float query against codes, from quantised tables) is
//!   within the documented bound of the exact `q · x̂`, and the code-to-code
//!   distance is the metric's distance of the reconstructions' dot product.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use trawl_index::Metric;
use trawl_index::codes::{self, CodeKind, CodeSpec, Codes, QueryCode, words_per_plane};
use trawl_index::distance;
use trawl_index::graph::Scorer;

/// A component: mostly uniform, sometimes exactly zero (either sign) or tiny,
/// since `x > 0` decides a bit.
fn component() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -1.0_f32..1.0,
        1 => select(vec![0.0_f32, -0.0]),
        1 => -1e-30_f32..1e-30,
    ]
}

/// Dimensions at and around the byte and word boundaries, or anywhere up to 300.
fn dims() -> impl Strategy<Value = usize> {
    prop_oneof![
        select(vec![
            1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 191, 255, 256, 257
        ]),
        1_usize..300,
    ]
}

fn vector(d: usize) -> impl Strategy<Value = Vec<f32>> {
    vec(component(), d)
}

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

/// Bit `j` of a plane: bit `j % 64` of word `j / 64`.
fn bit(plane: &[u64], j: usize) -> bool {
    (plane[j / 64] >> (j % 64)) & 1 == 1
}

/// The planes and scales of a code row, read from the documented layout:
/// `bits` planes of whole words, then the scales as `f32` bits, two per word,
/// low half first (a 1-bit code has no scale: 1).
fn unpack(row: &[u64], bits: u8, dims: usize) -> (Vec<&[u64]>, Vec<f32>) {
    let b = usize::from(bits);
    let wpp = words_per_plane(dims);
    let planes = (0..b).map(|p| &row[p * wpp..(p + 1) * wpp]).collect();
    let scales = if b == 1 {
        vec![1.0]
    } else {
        (0..b)
            .map(|p| f32::from_bits((row[b * wpp + p / 2] >> (32 * (p % 2))) as u32))
            .collect()
    };
    (planes, scales)
}

/// `Σ_p s_p · (±1)` per dimension.
fn rebuild(planes: &[&[u64]], scales: &[f32], dims: usize) -> Vec<f32> {
    (0..dims)
        .map(|j| {
            planes.iter().zip(scales).fold(0.0_f32, |x, (plane, &s)| {
                x + if bit(plane, j) { s } else { -s }
            })
        })
        .collect()
}

fn squared_error(v: &[f32], r: &[f32]) -> f64 {
    v.iter()
        .zip(r)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
        .sum()
}

fn dot64(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Packing sign bits and reading them back gives the signs (`x > 0`), in
    /// `⌈d/64⌉` words, with the padding bits zero.
    #[test]
    fn sign_bits_unpack_to_the_signs(v in dims().prop_flat_map(vector)) {
        let d = v.len();
        let s = spec(1, d, Metric::Cosine);
        let words = encode(&s, &v);
        prop_assert_eq!(words.len(), s.words());
        prop_assert_eq!(words.len(), d.div_ceil(64));
        for (j, x) in v.iter().enumerate() {
            prop_assert_eq!(bit(&words, j), *x > 0.0, "dimension {}", j);
        }
        for j in d..words.len() * 64 {
            prop_assert!(!bit(&words, j), "padding bit {} of {} dims", j, d);
        }
        let back = codes::reconstruct(&words, 1, d);
        for (j, (r, x)) in back.iter().zip(&v).enumerate() {
            prop_assert_eq!(*r, if *x > 0.0 { 1.0 } else { -1.0 }, "dimension {}", j);
        }
    }

    /// Hamming distance by the dispatched kernel (`popcnt` where the CPU has
    /// it), the portable one and the graph's 1-bit distance all equal the
    /// number of dimensions whose signs differ.
    #[test]
    fn hamming_equals_a_bit_by_bit_count(
        (a, b) in dims().prop_flat_map(|d| (vector(d), vector(d))),
    ) {
        let d = a.len();
        let s = spec(1, d, Metric::Cosine);
        let (wa, wb) = (encode(&s, &a), encode(&s, &b));
        let want = a.iter().zip(&b).filter(|(x, y)| (**x > 0.0) != (**y > 0.0)).count();
        prop_assert_eq!(distance::hamming(&wa, &wb) as usize, want);
        prop_assert_eq!(distance::hamming_scalar(&wa, &wb) as usize, want);
        prop_assert_eq!(s.code_distance(&wa, &wb), want as f32);
        prop_assert_eq!(distance::hamming(&wa, &wa), 0);
    }

    /// Residual codes: the row has the documented length and layout (the
    /// planes and scales read from it rebuild what `reconstruct` returns), every
    /// scale is non-negative, and the 2-bit code is the first half of the 4-bit one.
    #[test]
    fn residual_rows_unpack_to_planes_and_scales(v in dims().prop_flat_map(vector)) {
        let d = v.len();
        let wpp = words_per_plane(d);
        let mut rows = Vec::new();
        for bits in [2_u8, 4] {
            let s = spec(bits, d, Metric::Cosine);
            let row = encode(&s, &v);
            let b = usize::from(bits);
            prop_assert_eq!(row.len(), s.words());
            prop_assert_eq!(row.len(), b * wpp + b.div_ceil(2));
            let (planes, scales) = unpack(&row, bits, d);
            prop_assert!(scales.iter().all(|s| *s >= 0.0), "scales {:?}", scales);
            // Plane 0 holds the vector's own signs.
            for (j, x) in v.iter().enumerate() {
                prop_assert_eq!(bit(planes[0], j), *x > 0.0, "dimension {}", j);
            }
            for plane in &planes {
                prop_assert!((d..wpp * 64).all(|j| !bit(plane, j)), "padding");
            }
            let want = rebuild(&planes, &scales, d);
            let got = codes::reconstruct(&row, bits, d);
            let tolerance = 1e-6 * scales.iter().sum::<f32>();
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert!((g - w).abs() <= tolerance, "dimension {}: {} vs {}", j, g, w);
            }
            rows.push((planes.iter().map(|p| p.to_vec()).collect::<Vec<_>>(), scales));
        }
        let ((planes2, scales2), (planes4, scales4)) = (&rows[0], &rows[1]);
        prop_assert_eq!(&planes4[..2], &planes2[..]);
        prop_assert_eq!(&scales4[..2], &scales2[..]);
    }

    /// More bits never reconstruct worse: 1 bit (scaled by `mean|x|`, its
    /// least-squares scale), 2 bits, 4 bits.
    #[test]
    fn reconstruction_error_does_not_grow_with_bits(v in dims().prop_flat_map(vector)) {
        let d = v.len();
        let mean_abs = v.iter().map(|x| x.abs()).sum::<f32>() / d as f32;
        let one: Vec<f32> = codes::reconstruct(&encode(&spec(1, d, Metric::Dot), &v), 1, d)
            .iter()
            .map(|s| s * mean_abs)
            .collect();
        let errors: Vec<f64> = std::iter::once(squared_error(&v, &one))
            .chain([2_u8, 4].map(|bits| {
                let row = encode(&spec(bits, d, Metric::Dot), &v);
                squared_error(&v, &codes::reconstruct(&row, bits, d))
            }))
            .collect();
        // Room for f32 rounding only: in exact arithmetic each plane lowers
        // the error by d·scale².
        let slack = 1e-5 * squared_error(&v, &vec![0.0; d]) + 1e-12;
        prop_assert!(
            errors[1] <= errors[0] + slack && errors[2] <= errors[1] + slack,
            "squared errors for 1, 2, 4 bits: {:?}", errors
        );
    }

    /// The asymmetric score of every code is within the documented bound of
    /// the exact `q · x̂` computed from the unpacked planes and scales: each
    /// quantised query component is within `delta / 2` of the query's, so a
    /// plane's dot product is within `d · delta / 2` and the score within
    /// `Σ_p s_p · d · delta / 2`.
    #[test]
    fn asymmetric_scores_are_within_the_quantisation_bound_of_the_exact_dot(
        bits in select(vec![1_u8, 2, 4]),
        (q, docs) in dims().prop_flat_map(|d| (vector(d), vec(vector(d), 1..6))),
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
            let (planes, scales) = unpack(store.words(o as u32), bits, d);
            let exact: f64 = planes
                .iter()
                .zip(&scales)
                .map(|(plane, &sp)| {
                    let signed: f64 = q
                        .iter()
                        .enumerate()
                        .map(|(j, x)| if bit(plane, j) { f64::from(*x) } else { -f64::from(*x) })
                        .sum();
                    f64::from(sp) * signed
                })
                .sum();
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
        (a, b) in dims().prop_flat_map(|d| (vector(d), vector(d))),
    ) {
        let d = a.len();
        let s = spec(bits, d, metric);
        let (ra, rb) = (encode(&s, &a), encode(&s, &b));
        let dot = dot64(&codes::reconstruct(&ra, bits, d), &codes::reconstruct(&rb, bits, d));
        let want = match metric {
            Metric::Cosine => (1.0 - dot).max(0.0),
            _ if dot <= 0.0 => 1.0 - dot,
            _ => 1.0 / (1.0 + dot),
        };
        let got = f64::from(s.code_distance(&ra, &rb));
        // f32 sums of up to 16 plane pairs of `d` terms each.
        let norms = dot64(&a, &a).sqrt() * dot64(&b, &b).sqrt();
        prop_assert!(
            (got - want).abs() <= 1e-4 * (1.0 + norms),
            "{} bits, {:?}, {} dims: {} vs {}", bits, metric, d, got, want
        );
    }
}
