//! Compact codes derived from a float embedding: Matryoshka prefixes and binary codes.
//!
//! **Matryoshka** (Kusupati et al., 2022, "Matryoshka Representation Learning"):
//! the first `k` dimensions, renormalised to unit length.
//!
//! **Binary** codes pack sign bits: dimension `j` is bit `j % 8` of byte `j / 8`,
//! least significant bit first; the bit is 1 when the value is positive. With
//! `bits = b > 1` the code is a *residual* binarisation in the manner of Tencent's
//! BEBR (Gan et al., 2023, "Binary Embedding-based Retrieval at Tencent"): plane 0
//! binarises the vector `x`; plane `i` binarises the residual
//! `r_i = x − Σ_{p<i} a_p·s_p`, where `s_p ∈ {−1, +1}^d` is plane `p`'s signs and
//! `a_p = mean(|r_p|)` its scale (the least-squares scale for a sign code). The
//! reconstruction `Σ_p a_p·s_p` approaches `x` as `b` grows. Planes follow one
//! another in the packed output, plane 0 first.

use crate::error::{EncodeError, Result};

/// The first `k` dimensions of `v`, renormalised.
pub fn matryoshka(v: &[f32], k: usize) -> Result<Vec<f32>> {
    if k == 0 || k > v.len() {
        return Err(EncodeError::InvalidArgument {
            field: "dims",
            reason: format!(
                "must be between 1 and {} (the model's dimension), got {k}",
                v.len()
            ),
        });
    }
    let mut prefix = v[..k].to_vec();
    crate::session::normalize(&mut prefix);
    Ok(prefix)
}

/// A residual binary code: `bits` sign planes with one scale each.
#[derive(Debug, Clone, PartialEq)]
pub struct BinaryCode {
    /// The vector's dimension `d`.
    pub dims: usize,
    /// `bits` planes of `ceil(d / 8)` bytes each, plane 0 first.
    pub planes: Vec<Vec<u8>>,
    /// The scale `a_p` of each plane.
    pub scales: Vec<f32>,
}

/// Bits per dimension a binary code may have.
pub const ALLOWED_BITS: [u8; 3] = [1, 2, 4];

/// Binarises `v` with `bits` residual planes (1, 2 or 4).
pub fn binarize(v: &[f32], bits: u8) -> Result<BinaryCode> {
    if !ALLOWED_BITS.contains(&bits) {
        return Err(EncodeError::InvalidArgument {
            field: "bits",
            reason: format!("must be 1, 2 or 4, got {bits}"),
        });
    }
    let mut residual = v.to_vec();
    let mut planes = Vec::with_capacity(usize::from(bits));
    let mut scales = Vec::with_capacity(usize::from(bits));
    for _ in 0..bits {
        let scale = residual.iter().map(|x| x.abs()).sum::<f32>() / residual.len().max(1) as f32;
        planes.push(pack_signs(&residual));
        for r in &mut residual {
            *r -= if *r > 0.0 { scale } else { -scale };
        }
        scales.push(scale);
    }
    Ok(BinaryCode {
        dims: v.len(),
        planes,
        scales,
    })
}

impl BinaryCode {
    /// All planes as one byte string, plane 0 first.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.planes.concat()
    }

    /// All planes as little-endian `u64` words; each plane starts on a word boundary.
    pub fn to_words(&self) -> Vec<u64> {
        self.planes
            .iter()
            .flat_map(|plane| {
                plane.chunks(8).map(|chunk| {
                    let mut word = [0u8; 8];
                    word[..chunk.len()].copy_from_slice(chunk);
                    u64::from_le_bytes(word)
                })
            })
            .collect()
    }

    /// The vector the code stands for: `Σ_p a_p·s_p`.
    pub fn reconstruct(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.dims];
        for (plane, &scale) in self.planes.iter().zip(&self.scales) {
            for (j, x) in out.iter_mut().enumerate() {
                *x += if bit(plane, j) { scale } else { -scale };
            }
        }
        out
    }
}

/// Packs `x_j > 0` into bits, least significant bit first.
pub fn pack_signs(v: &[f32]) -> Vec<u8> {
    let mut packed = vec![0u8; v.len().div_ceil(8)];
    for (j, &x) in v.iter().enumerate() {
        if x > 0.0 {
            packed[j / 8] |= 1 << (j % 8);
        }
    }
    packed
}

/// Bit `j` of a packed plane.
pub fn bit(plane: &[u8], j: usize) -> bool {
    plane[j / 8] >> (j % 8) & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(d: usize, seed: u64) -> Vec<f32> {
        // A small deterministic generator (xorshift) so the test needs no crate.
        let mut s = seed.max(1);
        let mut v: Vec<f32> = (0..d)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 20_000) as f32 / 10_000.0 - 1.0
            })
            .collect();
        crate::session::normalize(&mut v);
        v
    }

    #[test]
    fn packing_matches_a_scalar_reference() {
        let v = sample(77, 3);
        let packed = pack_signs(&v);
        assert_eq!(packed.len(), 10);
        for (j, &x) in v.iter().enumerate() {
            assert_eq!(bit(&packed, j), x > 0.0, "dimension {j}");
        }
        // Padding bits past the dimension stay zero.
        assert_eq!(packed[9] >> 5, 0);
    }

    #[test]
    fn words_are_little_endian_bytes() {
        let code = binarize(&sample(128, 9), 2).unwrap();
        let words = code.to_words();
        assert_eq!(words.len(), 4);
        let bytes = code.to_bytes();
        for (w, chunk) in words.iter().zip(bytes.chunks(8)) {
            assert_eq!(w.to_le_bytes().as_slice(), chunk);
        }
    }

    #[test]
    fn residual_error_shrinks_as_bits_grow() {
        let v = sample(384, 42);
        let err = |bits| {
            let r = binarize(&v, bits).unwrap().reconstruct();
            v.iter()
                .zip(&r)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f32>()
        };
        let (e1, e2, e4) = (err(1), err(2), err(4));
        assert!(e2 < e1 && e4 < e2, "errors {e1} {e2} {e4}");
    }

    #[test]
    fn bad_arguments_name_their_field() {
        let v = sample(8, 1);
        for k in [0, 9] {
            let e = matryoshka(&v, k).unwrap_err();
            assert!(matches!(
                e,
                EncodeError::InvalidArgument { field: "dims", .. }
            ));
        }
        let e = binarize(&v, 3).unwrap_err();
        assert!(matches!(
            e,
            EncodeError::InvalidArgument { field: "bits", .. }
        ));
        let p = matryoshka(&v, 4).unwrap();
        let norm: f32 = p.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-6);
    }
}
