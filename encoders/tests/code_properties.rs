//! Properties of the encoder's codes (`trawl_encoders::codes`), the ones
//! `/embed` returns, on random vectors from `trawl_codes::testgen`: the API
//! accepts exactly the arguments the codes are defined for, and what it
//! returns is `trawl_codes`' code, to the bit. The codes' own properties
//! (packing, residual planes, scales, prefixes against the scalar reference)
//! are tested in `trawl-codes`.

use proptest::prelude::*;
use trawl_codes::testgen;
use trawl_encoders::EncodeError;
use trawl_encoders::codes;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `binarize` accepts 1, 2 and 4 bits and returns `trawl_codes`' code
    /// (planes, scales, bytes and words); any other count is an invalid `bits`.
    #[test]
    fn binary_codes_are_the_shared_codes(bits in 0_u8..9, v in testgen::vector()) {
        match codes::binarize(&v, bits) {
            Ok(code) => {
                prop_assert!(codes::ALLOWED_BITS.contains(&bits));
                let want = trawl_codes::BinaryCode::new(&v, bits);
                prop_assert_eq!(code.to_bytes(), want.to_bytes());
                prop_assert_eq!(code.to_words(), want.to_words());
                prop_assert_eq!(
                    code.scales().iter().map(|s| s.to_bits()).collect::<Vec<_>>(),
                    want.scales().iter().map(|s| s.to_bits()).collect::<Vec<_>>()
                );
            }
            Err(e) => {
                prop_assert!(!codes::ALLOWED_BITS.contains(&bits));
                let named = matches!(e, EncodeError::InvalidArgument { field: "bits", .. });
                prop_assert!(named, "{:?}", e);
            }
        }
    }

    /// `matryoshka` accepts `1 ≤ k ≤ d` and returns `trawl_codes`' prefix;
    /// any other `k` is an invalid `dims`.
    #[test]
    fn prefixes_are_the_shared_prefixes(
        (v, k) in testgen::vector().prop_flat_map(|v| {
            let d = v.len();
            (Just(v), 0..d + 3)
        }),
    ) {
        match codes::matryoshka(&v, k) {
            Ok(prefix) => {
                prop_assert!((1..=v.len()).contains(&k));
                let want = trawl_codes::matryoshka(&v, k);
                prop_assert_eq!(
                    prefix.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
                );
            }
            Err(e) => {
                prop_assert!(k == 0 || k > v.len());
                let named = matches!(e, EncodeError::InvalidArgument { field: "dims", .. });
                prop_assert!(named, "{:?}", e);
            }
        }
    }
}
