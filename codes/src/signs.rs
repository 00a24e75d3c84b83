//! Sign bits and their packing.
//!
//! A plane holds one bit per dimension: dimension `j` is bit `j % 64` of word
//! `j / 64`, which is bit `j % 8` of byte `j / 8` of the words' little-endian
//! bytes. The bit is set when `x_j > 0` ([`is_set`]): `0.0`, `−0.0` and NaN
//! give 0. Bits past the last dimension are 0, so a popcount of two XORed
//! planes is their Hamming distance.

/// The sign convention: a dimension's bit is set when its value is positive.
#[inline]
pub fn is_set(x: f32) -> bool {
    x > 0.0
}

/// `u64` words per plane of `dims` dimensions.
#[inline]
pub const fn words_per_plane(dims: usize) -> usize {
    dims.div_ceil(64)
}

/// Bytes per plane of `dims` dimensions.
#[inline]
pub const fn bytes_per_plane(dims: usize) -> usize {
    dims.div_ceil(8)
}

/// Appends the sign plane of `v`: [`words_per_plane`] words.
pub fn push_signs(v: &[f32], out: &mut Vec<u64>) {
    let start = out.len();
    out.resize(start + words_per_plane(v.len()), 0);
    for (j, &x) in v.iter().enumerate() {
        if is_set(x) {
            out[start + j / 64] |= 1 << (j % 64);
        }
    }
}

/// The sign plane of `v` as [`bytes_per_plane`] bytes.
pub fn pack_signs(v: &[f32]) -> Vec<u8> {
    let mut words = Vec::with_capacity(words_per_plane(v.len()));
    push_signs(v, &mut words);
    plane_bytes(&words, v.len())
}

/// A plane of `dims` dimensions given as words, as [`bytes_per_plane`]
/// little-endian bytes.
pub fn plane_bytes(words: &[u64], dims: usize) -> Vec<u8> {
    let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    bytes.truncate(bytes_per_plane(dims));
    bytes
}

/// Bit `j` of a plane packed as bytes.
#[inline]
pub fn bit(plane: &[u8], j: usize) -> bool {
    plane[j / 8] >> (j % 8) & 1 == 1
}

/// Bit `j` of a plane packed as words.
#[inline]
pub fn word_bit(plane: &[u64], j: usize) -> bool {
    plane[j / 64] >> (j % 64) & 1 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{reference, testgen};
    use proptest::prelude::*;

    #[test]
    fn zero_of_either_sign_is_unset_and_padding_stays_zero() {
        let v = [0.0, -0.0, 1e-30, -1.0, f32::NAN, 2.0, 0.5, 0.5, 0.5];
        assert_eq!(pack_signs(&v), vec![0b1110_0100, 0b1]);
        let mut words = Vec::new();
        push_signs(&v, &mut words);
        assert_eq!(words, vec![0b1_1110_0100]);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Words and bytes unpack, by the reference's reading of the
        /// documented layout, to the signs; the padding is zero; `bit` and
        /// `word_bit` read the same bits.
        #[test]
        fn packing_unpacks_to_the_signs(v in testgen::vector()) {
            let d = v.len();
            let signs = reference::signs(&v);
            let mut words = Vec::new();
            push_signs(&v, &mut words);
            prop_assert_eq!(words.len(), d.div_ceil(64));
            prop_assert_eq!(reference::unpack_words(&words, words.len() * 64), {
                let mut padded = signs.clone();
                padded.resize(words.len() * 64, false);
                padded
            });
            let bytes = pack_signs(&v);
            prop_assert_eq!(bytes.len(), d.div_ceil(8));
            prop_assert_eq!(reference::unpack_bytes(&bytes, bytes.len() * 8), {
                let mut padded = signs.clone();
                padded.resize(bytes.len() * 8, false);
                padded
            });
            for (j, s) in signs.iter().enumerate() {
                prop_assert_eq!(bit(&bytes, j), *s, "dimension {}", j);
                prop_assert_eq!(word_bit(&words, j), *s, "dimension {}", j);
            }
        }

        /// The popcount of XORed sign words is the number of dimensions whose
        /// signs differ.
        #[test]
        fn popcount_of_xored_words_is_the_hamming_distance(
            (a, b) in testgen::vector_pair(),
        ) {
            let (mut wa, mut wb) = (Vec::new(), Vec::new());
            push_signs(&a, &mut wa);
            push_signs(&b, &mut wb);
            let popcount: u32 = wa.iter().zip(&wb).map(|(x, y)| (x ^ y).count_ones()).sum();
            let want = reference::hamming(&reference::signs(&a), &reference::signs(&b));
            prop_assert_eq!(popcount as usize, want);
        }
    }
}
