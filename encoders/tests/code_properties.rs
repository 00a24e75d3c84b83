//! Properties of the encoder's binary codes (`trawl_encoders::codes`), the
//! bytes `/embed` returns, on random vectors of random dimensions, including
//! ones that are not multiples of 8 or 64:
//!
//! - packing sign bits and unpacking them round-trips, least significant bit
//!   first, with zero padding;
//! - the `u64` words are the planes' little-endian bytes, each plane starting
//!   on a word boundary, so a popcount of XORed words is the Hamming distance;
//! - residual codes (2 and 4 bits) rebuild as `Σ_p a_p·s_p` from their planes
//!   and scales, fewer bits are a prefix of more, and the reconstruction error
//!   does not grow with the bits.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use trawl_encoders::codes::{self, BinaryCode};

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

fn binarize(v: &[f32], bits: u8) -> BinaryCode {
    codes::binarize(v, bits).expect("1, 2 and 4 bits are allowed")
}

/// Bit `j` of a packed plane, read here without the crate: bit `j % 8` of byte `j / 8`.
fn bit(plane: &[u8], j: usize) -> bool {
    plane[j / 8] & (1 << (j % 8)) != 0
}

fn squared_error(v: &[f32], r: &[f32]) -> f64 {
    v.iter()
        .zip(r)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// `pack_signs` then unpacking gives `x > 0` back, in `⌈d/8⌉` bytes with
    /// zero padding, and the crate's `bit` reads the same bits; a 1-bit code's
    /// plane is that packing.
    #[test]
    fn sign_packing_round_trips(v in dims().prop_flat_map(vector)) {
        let d = v.len();
        let packed = codes::pack_signs(&v);
        prop_assert_eq!(packed.len(), d.div_ceil(8));
        for (j, x) in v.iter().enumerate() {
            prop_assert_eq!(bit(&packed, j), *x > 0.0, "dimension {}", j);
            prop_assert_eq!(codes::bit(&packed, j), *x > 0.0, "dimension {}", j);
        }
        for j in d..packed.len() * 8 {
            prop_assert!(!bit(&packed, j), "padding bit {} of {} dims", j, d);
        }
        let code = binarize(&v, 1);
        prop_assert_eq!(code.dims, d);
        prop_assert_eq!(&code.planes, &vec![packed.clone()]);
        prop_assert_eq!(code.to_bytes(), packed);
    }

    /// Every plane is `⌈d/8⌉` bytes; `to_bytes` concatenates them, plane 0
    /// first; `to_words` gives each plane `⌈d/64⌉` words whose bit `j % 64` of
    /// word `j / 64` is dimension `j`, the rest zero.
    #[test]
    fn bytes_and_words_hold_the_planes(
        bits in select(vec![1_u8, 2, 4]),
        v in dims().prop_flat_map(vector),
    ) {
        let d = v.len();
        let code = binarize(&v, bits);
        prop_assert_eq!(code.planes.len(), usize::from(bits));
        prop_assert_eq!(code.scales.len(), usize::from(bits));
        prop_assert!(code.planes.iter().all(|p| p.len() == d.div_ceil(8)));
        prop_assert_eq!(code.to_bytes(), code.planes.concat());
        let words = code.to_words();
        let wpp = d.div_ceil(64);
        prop_assert_eq!(words.len(), usize::from(bits) * wpp);
        for (plane, plane_words) in code.planes.iter().zip(words.chunks(wpp)) {
            for j in 0..wpp * 64 {
                let in_word = (plane_words[j / 64] >> (j % 64)) & 1 == 1;
                prop_assert_eq!(in_word, j < d && bit(plane, j), "bit {} of {} dims", j, d);
            }
        }
    }

    /// The popcount of XORed 1-bit words is the number of dimensions whose
    /// signs differ, counted bit by bit.
    #[test]
    fn popcount_of_words_is_the_hamming_distance(
        (a, b) in dims().prop_flat_map(|d| (vector(d), vector(d))),
    ) {
        let (wa, wb) = (binarize(&a, 1).to_words(), binarize(&b, 1).to_words());
        let popcount: u32 = wa.iter().zip(&wb).map(|(x, y)| (x ^ y).count_ones()).sum();
        let (pa, pb) = (codes::pack_signs(&a), codes::pack_signs(&b));
        let by_bits = (0..a.len()).filter(|&j| bit(&pa, j) != bit(&pb, j)).count();
        let by_signs = a.iter().zip(&b).filter(|(x, y)| (**x > 0.0) != (**y > 0.0)).count();
        prop_assert_eq!(popcount as usize, by_bits);
        prop_assert_eq!(by_bits, by_signs);
    }

    /// Residual codes: `reconstruct` is `Σ_p a_p·s_p` computed from the
    /// unpacked planes and scales; the scales are non-negative, the first is
    /// `mean|x|`; the 2-bit code is the first half of the 4-bit one and the
    /// 1-bit code its first plane; the error does not grow from 1 to 2 to 4 bits.
    #[test]
    fn residual_codes_rebuild_from_planes_and_improve_with_bits(
        v in dims().prop_flat_map(vector),
    ) {
        let d = v.len();
        let codes: Vec<BinaryCode> = [1_u8, 2, 4].iter().map(|&b| binarize(&v, b)).collect();
        for code in &codes {
            prop_assert!(code.scales.iter().all(|s| *s >= 0.0), "scales {:?}", code.scales);
            let want: Vec<f32> = (0..d)
                .map(|j| {
                    code.planes
                        .iter()
                        .zip(&code.scales)
                        .map(|(plane, &a)| if bit(plane, j) { a } else { -a })
                        .sum()
                })
                .collect();
            let got = code.reconstruct();
            let tolerance = 1e-6 * code.scales.iter().sum::<f32>();
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert!((g - w).abs() <= tolerance, "dimension {}: {} vs {}", j, g, w);
            }
        }
        let mean_abs = v.iter().map(|x| f64::from(x.abs())).sum::<f64>() / d as f64;
        prop_assert!((f64::from(codes[0].scales[0]) - mean_abs).abs() <= 1e-5 * (mean_abs + 1e-30));
        prop_assert_eq!(&codes[2].planes[..2], &codes[1].planes[..]);
        prop_assert_eq!(&codes[2].scales[..2], &codes[1].scales[..]);
        prop_assert_eq!(&codes[1].planes[..1], &codes[0].planes[..]);
        let errors: Vec<f64> = codes.iter().map(|c| squared_error(&v, &c.reconstruct())).collect();
        // Room for f32 rounding only: in exact arithmetic each plane lowers
        // the error by d·a_p².
        let slack = 1e-5 * squared_error(&v, &vec![0.0; d]) + 1e-12;
        prop_assert!(
            errors[1] <= errors[0] + slack && errors[2] <= errors[1] + slack,
            "squared errors for 1, 2, 4 bits: {:?}", errors
        );
    }
}
