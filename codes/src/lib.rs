//! Compact codes of embeddings, in one place for the encoder's `/embed`
//! outputs and the index's compact layouts, so that the two cannot drift.
//!
//! - **Sign bits** ([`signs`]): dimension `j` is set when `x_j > 0`, packed
//!   least significant bit first into `u64` words (bit `j % 64` of word
//!   `j / 64`), or equally into the words' little-endian bytes.
//! - **Residual bit planes** ([`residual`]), as in Tencent's BEBR (Gan et al.,
//!   2023, "Binary Embedding-based Retrieval at Tencent"): plane `p` holds the
//!   signs `s_p ∈ {−1, +1}^d` of the residual `r_p = x − Σ_{i<p} a_i·s_i` with
//!   the least-squares scale `a_p = mean|r_p|`; the code stands for
//!   `x̂ = Σ_p a_p·s_p`. [`RowLayout`] is how the index keeps one code in a
//!   row of words, scales included.
//! - **Matryoshka prefixes** ([`prefix`](mod@prefix)), as in Matryoshka Representation
//!   Learning (Kusupati et al., 2022): the first `k` dimensions, renormalised.
//! - **Scalar references** ([`reference`](mod@reference)): the same codes from their
//!   definitions, one dimension at a time, unpacked; packed code and popcount
//!   kernels are tested against them.
//! - **`testgen`** (feature `testgen`): the proptest strategies every crate's
//!   property tests draw vectors from.
//!
//! ```
//! use trawl_codes::{BinaryCode, RowLayout, matryoshka};
//!
//! let x = [0.5_f32, -0.25, 0.0, 0.75];
//! let code = BinaryCode::new(&x, 2);
//! assert_eq!(code.plane(0), &[0b1001]); // x_j > 0 for j = 0 and 3
//! assert_eq!(code.scales()[0], 0.375); // mean|x|
//! assert_eq!(code.to_bytes(), vec![0b1001, code.plane(1)[0] as u8]);
//!
//! // The index's row: the planes, then the scales.
//! let layout = RowLayout::new(2, x.len());
//! let mut row = Vec::new();
//! layout.push(&x, &mut row);
//! assert_eq!(&row[..2], code.words());
//! assert_eq!(layout.scale(&row, 1), code.scales()[1]);
//!
//! let p = matryoshka(&x, 2);
//! assert!((p[0] * p[0] + p[1] * p[1] - 1.0).abs() < 1e-6);
//! ```

pub mod prefix;
pub mod reference;
pub mod residual;
pub mod signs;
#[cfg(any(test, feature = "testgen"))]
pub mod testgen;

pub use prefix::{matryoshka, normalize, prefix};
pub use residual::{ALLOWED_BITS, BinaryCode, RowLayout};
pub use signs::{bit, bytes_per_plane, pack_signs, push_signs, word_bit, words_per_plane};
