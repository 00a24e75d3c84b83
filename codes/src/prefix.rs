//! Matryoshka prefixes (MRL): the first `k` dimensions of a vector, which a
//! model trained for it packs with most of the meaning, renormalised to unit
//! length for cosine.

/// Scales `v` to unit Euclidean length (leaves a zero vector alone). The
/// squares are summed in `f32`, left to right, so every caller gets the same
/// bits.
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// The first `k` dimensions of `v`, as they are (zeros past `v.len()`).
pub fn prefix(v: &[f32], k: usize) -> Vec<f32> {
    let mut out = v[..k.min(v.len())].to_vec();
    out.resize(k, 0.0);
    out
}

/// The first `k` dimensions of `v`, renormalised.
pub fn matryoshka(v: &[f32], k: usize) -> Vec<f32> {
    let mut out = prefix(v, k);
    normalize(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference, testgen};
    use proptest::prelude::*;

    #[test]
    fn short_vectors_are_padded_and_zero_stays_zero() {
        assert_eq!(prefix(&[1.0, 2.0], 3), vec![1.0, 2.0, 0.0]);
        assert_eq!(matryoshka(&[3.0, 4.0, 5.0], 2), vec![0.6, 0.8]);
        assert_eq!(matryoshka(&[0.0, 0.0, 1.0], 2), vec![0.0, 0.0]);
    }

    proptest! {
        /// The prefix is the reference's (renormalised in `f64`) within `f32`
        /// rounding, and has unit length.
        #[test]
        fn prefixes_are_the_renormalised_first_dimensions(
            (v, k) in testgen::vector().prop_flat_map(|v| {
                let d = v.len();
                (Just(v), 1..=d)
            }),
        ) {
            // A prefix of only zeros and tiny values has no `f32` norm to scale by.
            prop_assume!(reference::dot(&v[..k], &v[..k]) > 1e-20);
            let got = matryoshka(&v, k);
            let want = reference::matryoshka(&v, k);
            prop_assert_eq!(got.len(), k);
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert!((f64::from(*g) - w).abs() <= 1e-5, "dimension {}: {} vs {}", j, g, w);
            }
            let norm = reference::dot(&got, &got);
            prop_assert!((norm - 1.0).abs() < 1e-5, "norm² {}", norm);
        }
    }
}
