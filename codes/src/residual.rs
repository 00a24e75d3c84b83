//! Residual binary codes (BEBR): `b` sign planes with one scale each.
//!
//! Plane 0 holds the signs of `x` with scale `a_0 = mean|x|`; plane `p` holds
//! the signs `s_p` of the residual `r_p = x − Σ_{i<p} a_i·s_i` with
//! `a_p = mean|r_p|`, the scale that minimises `‖r_p − a·s_p‖`. The residual
//! is updated in place after each plane (`r_{p+1} = r_p − a_p·s_p`), which
//! fixes the `f32` rounding every user of the codes sees. The code stands for
//! `x̂ = Σ_p a_p·s_p`; fewer planes are a prefix of more.
//!
//! Two packings of the same planes:
//!
//! - [`BinaryCode`]: planes and scales apart, as `/embed` returns them
//!   (`to_words`: each plane starts on a word boundary; `to_bytes`: each plane
//!   is `⌈d/8⌉` bytes; the scales beside them, one per plane even for 1 bit);
//! - [`RowLayout`]: one row of `u64` words as the index stores it: the planes,
//!   then (for `b > 1`) the scales as `f32` bits, two per word, even planes'
//!   in the low half. A 1-bit row keeps no scale: Hamming distances and the
//!   cosine with the signs need none, and it reads as 1.

use crate::signs::{plane_bytes, push_signs, word_bit, words_per_plane};

/// Bits per dimension (planes) that `/embed` and the index's layouts accept.
pub const ALLOWED_BITS: [u8; 3] = [1, 2, 4];

/// `mean|x|`, the least-squares scale of a sign code of `x` (0 for no
/// dimensions). Summed in `f32`, left to right.
pub fn mean_abs(x: &[f32]) -> f32 {
    x.iter().fold(0.0_f32, |sum, x| sum + x.abs()) / x.len().max(1) as f32
}

/// Appends `bits` residual sign planes of `v` to `out` ([`words_per_plane`]
/// words each) and returns their scales `a_p`.
pub fn push_planes(v: &[f32], bits: u8, out: &mut Vec<u64>) -> Vec<f32> {
    let mut residual = v.to_vec();
    let mut scales = Vec::with_capacity(usize::from(bits));
    for _ in 0..bits {
        let scale = mean_abs(&residual);
        push_signs(&residual, out);
        for r in &mut residual {
            *r -= if crate::signs::is_set(*r) {
                scale
            } else {
                -scale
            };
        }
        scales.push(scale);
    }
    scales
}

/// `Σ_p a_p·s_p` for planes given with their scales.
fn rebuild<'a>(dims: usize, planes: impl Iterator<Item = (&'a [u64], f32)>) -> Vec<f32> {
    let mut out = vec![0f32; dims];
    for (plane, scale) in planes {
        for (j, x) in out.iter_mut().enumerate() {
            *x += if word_bit(plane, j) { scale } else { -scale };
        }
    }
    out
}

/// A residual binary code: `bits` sign planes and their scales.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryCode {
    dims: usize,
    bits: u8,
    /// The planes, [`words_per_plane`] words each, plane 0 first.
    words: Vec<u64>,
    scales: Vec<f32>,
}

impl BinaryCode {
    /// Binarises `v` with `bits` residual planes (see [`ALLOWED_BITS`]).
    pub fn new(v: &[f32], bits: u8) -> Self {
        let mut words = Vec::with_capacity(usize::from(bits) * words_per_plane(v.len()));
        let scales = push_planes(v, bits, &mut words);
        Self {
            dims: v.len(),
            bits,
            words,
            scales,
        }
    }

    /// The vector's dimension `d`.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Planes (bits per dimension).
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// The scale `a_p` of each plane.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Plane `p` as [`words_per_plane`] words.
    pub fn plane(&self, p: usize) -> &[u64] {
        let wpp = words_per_plane(self.dims);
        &self.words[p * wpp..(p + 1) * wpp]
    }

    /// All planes as words, plane 0 first, each starting on a word boundary.
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// All planes as little-endian `u64` words (see [`BinaryCode::words`]).
    pub fn to_words(&self) -> Vec<u64> {
        self.words.clone()
    }

    /// All planes as one byte string, `⌈d/8⌉` bytes per plane, plane 0 first.
    pub fn to_bytes(&self) -> Vec<u8> {
        (0..usize::from(self.bits))
            .flat_map(|p| plane_bytes(self.plane(p), self.dims))
            .collect()
    }

    /// The vector the code stands for: `Σ_p a_p·s_p`.
    pub fn reconstruct(&self) -> Vec<f32> {
        let planes = (0..usize::from(self.bits)).map(|p| (self.plane(p), self.scales[p]));
        rebuild(self.dims, planes)
    }
}

/// Where the index keeps a code of `bits` planes of `dims` dimensions in one
/// row of `u64` words (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    bits: u8,
    dims: usize,
    wpp: usize,
}

impl RowLayout {
    /// The layout of codes of `bits` planes of `dims` dimensions.
    #[inline]
    pub fn new(bits: u8, dims: usize) -> Self {
        Self {
            bits,
            dims,
            wpp: words_per_plane(dims),
        }
    }

    /// Words per row: the planes, then `⌈b/2⌉` words of scales when `b > 1`.
    #[inline]
    pub fn words(&self) -> usize {
        let bits = usize::from(self.bits);
        let scales = if bits > 1 { bits.div_ceil(2) } else { 0 };
        bits * self.wpp + scales
    }

    /// Planes per row.
    #[inline]
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Words per plane.
    #[inline]
    pub fn words_per_plane(&self) -> usize {
        self.wpp
    }

    /// Plane `p` of `row`.
    #[inline]
    pub fn plane<'a>(&self, row: &'a [u64], p: usize) -> &'a [u64] {
        &row[p * self.wpp..(p + 1) * self.wpp]
    }

    /// The scale of plane `p` of `row` (1 for a 1-bit row, which keeps none).
    #[inline]
    pub fn scale(&self, row: &[u64], p: usize) -> f32 {
        if self.bits == 1 {
            return 1.0;
        }
        let word = row[usize::from(self.bits) * self.wpp + p / 2];
        f32::from_bits((word >> (32 * (p % 2))) as u32)
    }

    /// Appends the row of `v` (`v.len()` is the layout's `dims`).
    pub fn push(&self, v: &[f32], out: &mut Vec<u64>) {
        debug_assert_eq!(v.len(), self.dims);
        let scales = push_planes(v, self.bits, out);
        if self.bits > 1 {
            out.extend(scales.chunks(2).map(|pair| {
                let lo = u64::from(pair[0].to_bits());
                let hi = pair.get(1).map_or(0, |s| u64::from(s.to_bits()));
                lo | (hi << 32)
            }));
        }
    }

    /// The vector a row stands for, `Σ_p a_p·s_p` (the signs alone for 1 bit).
    pub fn reconstruct(&self, row: &[u64]) -> Vec<f32> {
        let planes = (0..usize::from(self.bits)).map(|p| (self.plane(row, p), self.scale(row, p)));
        rebuild(self.dims, planes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference, testgen};
    use proptest::prelude::*;

    #[test]
    fn residual_error_shrinks_as_bits_grow() {
        let v: Vec<f32> = (0..384)
            .map(|j| ((j * 7919) % 200) as f32 / 100.0 - 1.0)
            .collect();
        let err = |bits| reference::squared_error(&v, &BinaryCode::new(&v, bits).reconstruct());
        let (e1, e2, e4) = (err(1), err(2), err(4));
        assert!(e2 < e1 && e4 < e2, "errors {e1} {e2} {e4}");
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// The packed code equals the scalar reference to the bit: its planes
        /// unpack to the reference's signs, its scales are the reference's.
        #[test]
        fn codes_equal_the_scalar_reference(bits in testgen::bits(), v in testgen::vector()) {
            let d = v.len();
            let code = BinaryCode::new(&v, bits);
            let (planes, scales) = reference::binarize(&v, bits);
            prop_assert_eq!(code.dims(), d);
            prop_assert_eq!(code.bits(), bits);
            prop_assert_eq!(code.scales(), &scales[..]);
            for (p, plane) in planes.iter().enumerate() {
                prop_assert_eq!(code.plane(p).len(), d.div_ceil(64));
                prop_assert_eq!(&reference::unpack_words(code.plane(p), d), plane, "plane {}", p);
            }
            prop_assert!(scales.iter().all(|s| *s >= 0.0), "scales {:?}", scales);
        }

        /// `to_words` is the planes back to back, a whole number of words
        /// each; `to_bytes` is the planes back to back, `⌈d/8⌉` bytes each;
        /// both hold the same bits, the padding zero.
        #[test]
        fn words_and_bytes_hold_the_same_planes(bits in testgen::bits(), v in testgen::vector()) {
            let d = v.len();
            let code = BinaryCode::new(&v, bits);
            let (wpp, bpp, b) = (d.div_ceil(64), d.div_ceil(8), usize::from(bits));
            let (words, bytes) = (code.to_words(), code.to_bytes());
            prop_assert_eq!(words.len(), b * wpp);
            prop_assert_eq!(bytes.len(), b * bpp);
            for p in 0..b {
                let from_words = reference::unpack_words(&words[p * wpp..(p + 1) * wpp], wpp * 64);
                let from_bytes = reference::unpack_bytes(&bytes[p * bpp..(p + 1) * bpp], bpp * 8);
                prop_assert_eq!(&from_words[..d], &from_bytes[..d], "plane {}", p);
                prop_assert!(from_words[d..].iter().all(|x| !x), "padding of plane {}", p);
                prop_assert!(from_bytes[d..].iter().all(|x| !x), "padding of plane {}", p);
            }
        }

        /// The index's row: the planes of the code, then its scales (none for
        /// 1 bit); it reconstructs what the code does (the signs for 1 bit).
        #[test]
        fn rows_hold_the_code_then_its_scales(bits in testgen::bits(), v in testgen::vector()) {
            let d = v.len();
            let code = BinaryCode::new(&v, bits);
            let layout = RowLayout::new(bits, d);
            let mut row = vec![7]; // rows are appended: the first word is another row's
            layout.push(&v, &mut row);
            let row = &row[1..];
            prop_assert_eq!(row.len(), layout.words());
            let (planes, scales) = reference::unpack_row(row, bits, d);
            prop_assert_eq!(&row[..code.words().len()], code.words());
            for (p, plane) in planes.iter().enumerate() {
                prop_assert_eq!(&reference::unpack_words(layout.plane(row, p), d), plane);
                prop_assert_eq!(layout.scale(row, p).to_bits(), scales[p].to_bits());
            }
            if bits == 1 {
                prop_assert_eq!(row.len(), d.div_ceil(64));
                prop_assert_eq!(layout.reconstruct(row), reference::rebuild(&planes, &[1.0]));
            } else {
                prop_assert_eq!(&scales[..], code.scales());
                prop_assert_eq!(layout.reconstruct(row), code.reconstruct());
            }
        }

        /// `Σ_p a_p·s_p` rebuilt from the unpacked planes; the first scale is
        /// `mean|x|`; 1 and 2 bits are prefixes of 4; the error does not grow
        /// from 1 to 2 to 4 bits.
        #[test]
        fn residual_codes_rebuild_and_improve_with_bits(v in testgen::vector()) {
            let d = v.len();
            let codes: Vec<BinaryCode> = [1_u8, 2, 4].iter().map(|&b| BinaryCode::new(&v, b)).collect();
            for code in &codes {
                let (planes, scales) = reference::binarize(&v, code.bits());
                let want = reference::rebuild(&planes, &scales);
                let tolerance = 1e-6 * code.scales().iter().sum::<f32>();
                for (j, (g, w)) in code.reconstruct().iter().zip(&want).enumerate() {
                    prop_assert!((g - w).abs() <= tolerance, "dimension {}: {} vs {}", j, g, w);
                }
            }
            let mean_abs = v.iter().map(|x| f64::from(x.abs())).sum::<f64>() / d as f64;
            prop_assert!((f64::from(codes[0].scales()[0]) - mean_abs).abs() <= 1e-5 * (mean_abs + 1e-30));
            prop_assert_eq!(&codes[2].words()[..codes[1].words().len()], codes[1].words());
            prop_assert_eq!(&codes[2].scales()[..2], codes[1].scales());
            prop_assert_eq!(&codes[1].words()[..codes[0].words().len()], codes[0].words());
            let errors: Vec<f64> =
                codes.iter().map(|c| reference::squared_error(&v, &c.reconstruct())).collect();
            // Room for f32 rounding only: in exact arithmetic each plane lowers
            // the error by d·a_p².
            let slack = 1e-5 * reference::squared_error(&v, &vec![0.0; d]) + 1e-12;
            prop_assert!(
                errors[1] <= errors[0] + slack && errors[2] <= errors[1] + slack,
                "squared errors for 1, 2, 4 bits: {:?}", errors
            );
        }
    }
}
