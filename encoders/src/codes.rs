//! The compact codes `/embed` returns, with the API's checks: Matryoshka
//! prefixes and binary codes of a pooled vector.
//!
//! The encoding itself (sign bits packed least significant bit first, BEBR
//! residual planes with their least-squares scales, renormalised prefixes)
//! lives in [`trawl_codes`], which the index's compact layouts use too, so a
//! code from `/embed` is bit for bit the one a collection stores for the same
//! vector. This module only turns arguments the API cannot accept into
//! [`EncodeError::InvalidArgument`].

use crate::error::{EncodeError, Result};

pub use trawl_codes::{ALLOWED_BITS, BinaryCode, bit, pack_signs};

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
    Ok(trawl_codes::matryoshka(v, k))
}

/// Binarises `v` with `bits` residual planes (1, 2 or 4).
pub fn binarize(v: &[f32], bits: u8) -> Result<BinaryCode> {
    if !ALLOWED_BITS.contains(&bits) {
        return Err(EncodeError::InvalidArgument {
            field: "bits",
            reason: format!("must be 1, 2 or 4, got {bits}"),
        });
    }
    Ok(BinaryCode::new(v, bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_arguments_name_their_field() {
        let v = [0.5, -0.25, 0.0, 0.75, 0.1, -0.1, 0.2, -0.2];
        for k in [0, 9] {
            let e = matryoshka(&v, k).unwrap_err();
            assert!(matches!(
                e,
                EncodeError::InvalidArgument { field: "dims", .. }
            ));
        }
        for bits in [0, 3, 5, 8] {
            let e = binarize(&v, bits).unwrap_err();
            assert!(matches!(
                e,
                EncodeError::InvalidArgument { field: "bits", .. }
            ));
        }
        let p = matryoshka(&v, 4).unwrap();
        let norm: f32 = p.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-6);
    }
}
