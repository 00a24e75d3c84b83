//! Proptest strategies for codes: vectors of random dimensions, at and
//! around the byte and word boundaries, with the components that decide a
//! sign bit (exact zeros of either sign, tiny values) drawn often. The
//! property tests of this crate, `encoders`, `index` and `server` draw from
//! here (feature `testgen`).

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::ALLOWED_BITS;

/// A component: mostly uniform in `[−1, 1)`, sometimes exactly zero (either
/// sign) or tiny, since `x > 0` decides a bit.
pub fn component() -> impl Strategy<Value = f32> {
    // Floats from integers: proptest 1.12's f32 range sampler can fail its own
    // internal assertion for some seeds.
    prop_oneof![
        8 => (-1_000_000_i32..1_000_000).prop_map(|n| n as f32 / 1e6),
        1 => select(vec![0.0_f32, -0.0]),
        1 => (-1_000_i32..1_000).prop_map(|n| n as f32 * 1e-33),
    ]
}

/// Dimensions at and around the byte and word boundaries, or anywhere up to 300.
pub fn dims() -> impl Strategy<Value = usize> {
    prop_oneof![
        select(vec![
            1, 7, 8, 9, 63, 64, 65, 127, 128, 129, 191, 255, 256, 257
        ]),
        1_usize..300,
    ]
}

/// A vector of `d` components.
pub fn vector_of(d: usize) -> impl Strategy<Value = Vec<f32>> {
    vec(component(), d)
}

/// A vector of random dimension ([`dims`]).
pub fn vector() -> impl Strategy<Value = Vec<f32>> {
    dims().prop_flat_map(vector_of)
}

/// Two vectors of the same random dimension.
pub fn vector_pair() -> impl Strategy<Value = (Vec<f32>, Vec<f32>)> {
    dims().prop_flat_map(|d| (vector_of(d), vector_of(d)))
}

/// Bits per dimension of a binary code: 1, 2 or 4.
pub fn bits() -> impl Strategy<Value = u8> {
    select(ALLOWED_BITS.to_vec())
}
