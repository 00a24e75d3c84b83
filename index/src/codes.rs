//! Compact codes: the coarse side of the bi-granular layout (BiDR).
//!
//! A collection with a compact layout keeps one code per point in memory, and
//! its graph and flat scans run on the codes; the full `f32` vectors stay in a
//! memory-mapped file and are read only to rerank candidates.
//!
//! The codes themselves are [`trawl_codes`]' (the same bits `/embed` returns
//! for the same vector); this module stores them by offset and scores them.
//!
//! - **binary** (1 bit per dimension): the sign of each component, packed into
//!   `u64` words (dimension `j` is bit `j % 64` of word `j / 64`). Two codes
//!   (graph construction) are compared by Hamming distance with `count_ones`.
//! - **binary:b** (`b` = 2 or 4): residual binarisation as in Tencent's BEBR.
//!   Plane 0 holds the signs of `x` with scale `s₀ = mean|x|`; plane `p` holds
//!   the signs of the residual `rₚ = x − Σ_{i<p} sᵢ·bᵢ` with `sₚ = mean|rₚ|`
//!   (the scale that minimises ‖rₚ − s·sign(rₚ)‖). The vector is reconstructed
//!   as `Σ sₚ·bₚ` with `bₚ ∈ {−1, +1}ᵈ`. A row is `b` planes of words, then
//!   the `b` scales as `f32` bits, two per word ([`RowLayout`]).
//! - **matryoshka:k**: the first `k` components, renormalised for cosine.
//!
//! A query is scored against binary codes asymmetrically, the float query
//! against the signs: `q·x̂ = Σₚ sₚ (2·Σ_{j: bit set} qⱼ − Σⱼ qⱼ)` (`sₚ = 1` for
//! one bit). As in RaBitQ (Gao & Long, 2024), the query is quantised once to
//! 4-bit levels `qⱼ ≈ lo + Δ·uⱼ` and bit-sliced into planes `Uₖ`, so the inner
//! sum is `lo·popcount(c) + Δ·Σₖ 2ᵏ·popcount(c ∧ Uₖ)`: five popcounts per code
//! word, no table lookups.
//!
//! Scores are "higher is better" and comparable within one query only; they
//! order candidates for the rerank.

use crate::distance::{self, Metric};
use crate::graph::Scorer;
use crate::types::Offset;

pub use trawl_codes::{RowLayout, words_per_plane};

/// Score 1-bit codes asymmetrically (the float query against the signs) rather
/// than by Hamming distance to the query's own signs.
const ASYMMETRIC_SIGNS: bool = true;

/// What a compact code keeps of a vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// `bits` sign planes (1, 2 or 4).
    Binary {
        /// Bit planes per dimension.
        bits: u8,
    },
    /// The first `k` dimensions.
    Prefix {
        /// Prefix length.
        k: usize,
    },
}

/// The shape of one collection's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeSpec {
    /// What is kept.
    pub kind: CodeKind,
    /// Dimension of the full vectors.
    pub dims: usize,
    /// The collection's metric (prefixes are renormalised for cosine).
    pub metric: Metric,
}

impl CodeSpec {
    /// `u64` words per code (binary kinds).
    pub fn words(&self) -> usize {
        match self.kind {
            CodeKind::Binary { bits } => RowLayout::new(bits, self.dims).words(),
            CodeKind::Prefix { .. } => 0,
        }
    }

    /// `f32`s per code (prefix kind).
    pub fn floats(&self) -> usize {
        match self.kind {
            CodeKind::Prefix { k } => k,
            CodeKind::Binary { .. } => 0,
        }
    }

    /// Bytes per code.
    pub fn bytes(&self) -> usize {
        self.words() * 8 + self.floats() * 4
    }

    /// Appends the code of `v` (a stored vector: already normalised for cosine).
    pub fn encode(&self, v: &[f32], words: &mut Vec<u64>, floats: &mut Vec<f32>) {
        match self.kind {
            CodeKind::Binary { bits } => RowLayout::new(bits, v.len()).push(v, words),
            CodeKind::Prefix { k } if self.metric == Metric::Cosine => {
                floats.extend(trawl_codes::matryoshka(v, k));
            }
            CodeKind::Prefix { k } => floats.extend(trawl_codes::prefix(v, k)),
        }
    }

    /// Prepares `query` (a prepared query vector) for scoring against codes.
    pub fn query(&self, query: &[f32]) -> QueryCode {
        match self.kind {
            CodeKind::Binary { bits: 1 } if !ASYMMETRIC_SIGNS => {
                let mut words = Vec::with_capacity(self.words());
                trawl_codes::push_signs(query, &mut words);
                QueryCode::Bits(words)
            }
            CodeKind::Binary { .. } => QueryCode::Planes(QueryPlanes::new(query)),
            CodeKind::Prefix { .. } => {
                let mut floats = Vec::with_capacity(self.floats());
                self.encode(query, &mut Vec::new(), &mut floats);
                QueryCode::Prefix(floats)
            }
        }
    }

    /// Graph distance between two binary codes ("lower is better", never
    /// negative): Hamming for 1 bit; for more, the metric's distance of the
    /// reconstructions' dot product, from popcounts of every pair of planes.
    pub fn code_distance(&self, a: &[u64], b: &[u64]) -> f32 {
        match self.kind {
            CodeKind::Binary { bits: 1 } => distance::hamming(a, b) as f32,
            CodeKind::Binary { bits } => {
                let s = reconstructed_dot(a, b, RowLayout::new(bits, self.dims), self.dims);
                match self.metric {
                    Metric::Cosine => (1.0 - s).max(0.0),
                    _ => {
                        if s <= 0.0 {
                            1.0 - s
                        } else {
                            1.0 / (1.0 + s)
                        }
                    }
                }
            }
            CodeKind::Prefix { .. } => 0.0,
        }
    }

    /// Turns a coarse score for `query` into the API's scale (for `rerank:
    /// false`): for sign bits the cosine between the query and the sign vector
    /// (`1 − 2h/d` for a Hamming distance `h` between signs), for residual codes
    /// the dot product with the reconstruction, for prefixes their own score.
    pub fn api_score(&self, query: &QueryCode, coarse: f32) -> f32 {
        match (query, self.kind, self.metric) {
            (QueryCode::Bits(_), _, _) => 1.0 + 2.0 * coarse / self.dims as f32,
            (QueryCode::Planes(q), CodeKind::Binary { bits: 1 }, _) => {
                coarse / (q.norm * (self.dims as f32).sqrt()).max(f32::MIN_POSITIVE)
            }
            (_, CodeKind::Prefix { .. }, Metric::L2) => -(-coarse).max(0.0).sqrt(),
            _ => coarse,
        }
    }
}

/// A query prepared for one kind of code.
#[derive(Debug, Clone)]
pub enum QueryCode {
    /// The query's own sign bits (1-bit codes).
    Bits(Vec<u64>),
    /// The query quantised and bit-sliced (binary codes).
    Planes(QueryPlanes),
    /// The query's prefix.
    Prefix(Vec<f32>),
}

/// A query quantised to [`distance::QUERY_PLANES`]-bit levels `qⱼ ≈ lo + delta·uⱼ`,
/// bit-sliced for [`distance::plane_counts`].
#[derive(Debug, Clone)]
pub struct QueryPlanes {
    /// `planes[k·W + w]`: bit `k` of `uⱼ` for the 64 components of word `w`
    /// (`W` words per plane).
    planes: Vec<u64>,
    lo: f32,
    delta: f32,
    /// Σ of the quantised components.
    sum: f32,
    /// The query's Euclidean norm.
    norm: f32,
}

impl QueryPlanes {
    fn new(q: &[f32]) -> Self {
        const P: usize = distance::QUERY_PLANES;
        let levels = ((1u32 << P) - 1) as f32;
        let lo = q.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = q.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (lo, delta) = if q.is_empty() {
            (0.0, 1.0)
        } else if hi > lo {
            (lo, (hi - lo) / levels)
        } else {
            (lo, 1.0)
        };
        let words = words_per_plane(q.len());
        let mut planes = vec![0u64; words * P];
        let mut sum = 0f64;
        for (j, &x) in q.iter().enumerate() {
            // Nearest level; `as` saturates, so rounding cannot leave the range.
            let u = (((x - lo) / delta).round() as u32).min(levels as u32);
            sum += f64::from(lo + delta * u as f32);
            for k in 0..P {
                planes[k * words + j / 64] |= u64::from((u >> k) & 1) << (j % 64);
            }
        }
        Self {
            planes,
            lo,
            delta,
            sum: sum as f32,
            norm: distance::dot(q, q).sqrt(),
        }
    }

    /// The quantisation step: each component is within `delta / 2` of the query's.
    pub fn delta(&self) -> f32 {
        self.delta
    }

    /// `q̃·b` for a plane `b ∈ {−1, +1}ᵈ` given by its set bits:
    /// `2·Σ_{set} q̃ⱼ − Σ q̃ⱼ`, with `q̃` the quantised query.
    #[inline]
    fn dot(&self, plane: &[u64]) -> f32 {
        let (set, weighted) = distance::plane_counts(plane, &self.planes);
        2.0 * (self.lo * set as f32 + self.delta * weighted as f32) - self.sum
    }
}

/// `x̂·ŷ` of two multi-bit codes: Σ sᵢ tⱼ (d − 2·hamming(aᵢ, bⱼ)).
fn reconstructed_dot(a: &[u64], b: &[u64], layout: RowLayout, dims: usize) -> f32 {
    let planes = usize::from(layout.bits());
    let mut total = 0.0;
    for i in 0..planes {
        let (pa, si) = (layout.plane(a, i), layout.scale(a, i));
        for j in 0..planes {
            let pb = layout.plane(b, j);
            let agree = dims as f32 - 2.0 * distance::hamming(pa, pb) as f32;
            total += si * layout.scale(b, j) * agree;
        }
    }
    total
}

/// Codes of every offset, in memory.
#[derive(Debug)]
pub struct Codes {
    spec: CodeSpec,
    words: Vec<u64>,
    floats: Vec<f32>,
}

impl Codes {
    /// No codes yet.
    pub fn new(spec: CodeSpec) -> Self {
        Self {
            spec,
            words: Vec::new(),
            floats: Vec::new(),
        }
    }

    /// Codes read back from their parts (as [`Codes::parts`] gave them);
    /// `None` when the parts do not hold whole codes of one count.
    pub fn from_parts(spec: CodeSpec, words: Vec<u64>, floats: Vec<f32>) -> Option<Self> {
        let whole = match (spec.words(), spec.floats()) {
            (w, 0) if w > 0 => words.len().is_multiple_of(w) && floats.is_empty(),
            (0, f) if f > 0 => floats.len().is_multiple_of(f) && words.is_empty(),
            _ => false,
        };
        if !whole {
            return None;
        }
        Some(Self {
            spec,
            words,
            floats,
        })
    }

    /// The code words and floats of every offset, one after another.
    pub fn parts(&self) -> (&[u64], &[f32]) {
        (&self.words, &self.floats)
    }

    /// Offsets coded.
    pub fn len(&self) -> usize {
        match (self.spec.words(), self.spec.floats()) {
            (0, 0) => 0,
            (0, f) => self.floats.len() / f,
            (w, _) => self.words.len() / w,
        }
    }

    /// True without codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The codes' shape.
    pub fn spec(&self) -> &CodeSpec {
        &self.spec
    }

    /// Appends the code of the next offset's vector.
    pub fn push(&mut self, v: &[f32]) {
        self.spec.encode(v, &mut self.words, &mut self.floats);
    }

    /// Binary code words of `offset` (empty for prefixes).
    #[inline]
    pub fn words(&self, offset: Offset) -> &[u64] {
        let n = self.spec.words();
        let at = offset as usize * n;
        &self.words[at..at + n]
    }

    /// Prefix of `offset` (empty for binary codes).
    #[inline]
    pub fn prefix(&self, offset: Offset) -> &[f32] {
        let n = self.spec.floats();
        let at = offset as usize * n;
        &self.floats[at..at + n]
    }

    /// All prefixes, `k` per offset (the graph reads them in place).
    pub fn prefixes(&self) -> &[f32] {
        &self.floats
    }

    /// Heap bytes held.
    pub fn ram_bytes(&self) -> usize {
        self.words.capacity() * 8 + self.floats.capacity() * 4
    }

    /// A scorer of offsets for `query` (made by [`CodeSpec::query`] with this spec).
    pub fn scorer<'a>(&'a self, query: &'a QueryCode) -> CodeScorer<'a> {
        CodeScorer { codes: self, query }
    }
}

/// Scores offsets' codes against one query.
pub struct CodeScorer<'a> {
    codes: &'a Codes,
    query: &'a QueryCode,
}

impl Scorer for CodeScorer<'_> {
    #[inline]
    fn score(&self, o: Offset) -> f32 {
        let spec = &self.codes.spec;
        match self.query {
            QueryCode::Bits(q) => -(distance::hamming(q, self.codes.words(o)) as f32),
            QueryCode::Planes(q) => {
                let CodeKind::Binary { bits } = spec.kind else {
                    return f32::NEG_INFINITY;
                };
                let row = self.codes.words(o);
                if bits == 1 {
                    return q.dot(row);
                }
                let layout = RowLayout::new(bits, spec.dims);
                (0..usize::from(bits))
                    .map(|p| layout.scale(row, p) * q.dot(layout.plane(row, p)))
                    .sum()
            }
            QueryCode::Prefix(q) => match spec.metric {
                Metric::L2 => -distance::l2_squared(q, self.codes.prefix(o)),
                _ => distance::dot(q, self.codes.prefix(o)),
            },
        }
    }

    #[inline]
    fn prefetch(&self, o: Offset) {
        if self.codes.spec.floats() > 0 {
            distance::prefetch(self.codes.prefix(o));
        } else {
            distance::prefetch_words(self.codes.words(o));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).max(1);
        let mut v: Vec<f32> = (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 2_000_001) as f32 / 1_000_000.0 - 1.0
            })
            .collect();
        trawl_codes::normalize(&mut v);
        v
    }

    fn spec(kind: CodeKind, dims: usize) -> CodeSpec {
        CodeSpec {
            kind,
            dims,
            metric: Metric::Cosine,
        }
    }

    #[test]
    fn sign_bits_pack_least_significant_first_and_hamming_matches_a_scalar_count() {
        for dims in [1, 7, 63, 64, 65, 130, 384] {
            let s = spec(CodeKind::Binary { bits: 1 }, dims);
            let (a, b) = (random(dims, dims as u64), random(dims, dims as u64 + 1));
            let (mut wa, mut wb) = (Vec::new(), Vec::new());
            s.encode(&a, &mut wa, &mut Vec::new());
            s.encode(&b, &mut wb, &mut Vec::new());
            assert_eq!(wa.len(), s.words());
            for (j, x) in a.iter().enumerate() {
                assert_eq!(
                    (wa[j / 64] >> (j % 64)) & 1 == 1,
                    *x > 0.0,
                    "dims {dims} bit {j}"
                );
            }
            let scalar = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| (**x > 0.0) != (**y > 0.0))
                .count();
            assert_eq!(distance::hamming(&wa, &wb) as usize, scalar, "dims {dims}");
            assert_eq!(s.code_distance(&wa, &wb) as usize, scalar);
            // Unpacking gives the signs back.
            let back = RowLayout::new(1, dims).reconstruct(&wa);
            assert!(back.iter().zip(&a).all(|(r, x)| (*r > 0.0) == (*x > 0.0)));
        }
    }

    #[test]
    fn residual_codes_reconstruct_better_as_bits_grow() {
        let dims = 384;
        let mut errors = Vec::new();
        for bits in [1u8, 2, 4] {
            let s = spec(CodeKind::Binary { bits }, dims);
            let mut total = 0.0;
            for seed in 0..50 {
                let v = random(dims, seed);
                let mut w = Vec::new();
                s.encode(&v, &mut w, &mut Vec::new());
                assert_eq!(w.len(), s.words());
                let mut r = RowLayout::new(bits, dims).reconstruct(&w);
                if bits == 1 {
                    // One plane carries no scale: compare directions.
                    trawl_codes::normalize(&mut r);
                }
                total += v
                    .iter()
                    .zip(&r)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f32>();
            }
            errors.push(total / 50.0);
        }
        assert!(
            errors[0] > errors[1] && errors[1] > errors[2],
            "squared error by bits 1, 2, 4: {errors:?}"
        );
        assert!(errors[2] < 0.05 * errors[0], "{errors:?}");
    }

    #[test]
    fn asymmetric_scores_equal_the_dot_product_with_the_reconstruction() {
        for dims in [5, 64, 100, 384] {
            for bits in [1u8, 2, 4] {
                let s = spec(CodeKind::Binary { bits }, dims);
                let mut codes = Codes::new(s);
                let vs: Vec<Vec<f32>> = (0..20).map(|i| random(dims, 100 + i)).collect();
                vs.iter().for_each(|v| codes.push(v));
                let q = random(dims, 7);
                let qc = s.query(&q);
                let QueryCode::Planes(planes) = &qc else {
                    panic!("residual codes use the query's planes");
                };
                let delta = planes.delta();
                let scorer = codes.scorer(&qc);
                for o in 0..20u32 {
                    let r = RowLayout::new(bits, dims).reconstruct(codes.words(o));
                    let want: f32 = q.iter().zip(&r).map(|(a, b)| a * b).sum();
                    let got = scorer.score(o);
                    // Each quantised component is within delta / 2 of the
                    // query's, so a plane's dot product is within dims · delta / 2.
                    let layout = RowLayout::new(bits, dims);
                    let scales: f32 = (0..usize::from(bits))
                        .map(|p| layout.scale(codes.words(o), p))
                        .sum();
                    let bound = scales * dims as f32 * delta / 2.0 + 1e-4;
                    assert!(
                        (got - want).abs() <= bound,
                        "dims {dims} bits {bits}: {got} vs {want} (bound {bound})"
                    );
                    if bits == 1 {
                        continue;
                    }
                    // Code-to-code: the reconstructions' dot product.
                    let r1 = RowLayout::new(bits, dims).reconstruct(codes.words(1));
                    let want: f32 = r.iter().zip(&r1).map(|(a, b)| a * b).sum();
                    let got = 1.0 - s.code_distance(codes.words(o), codes.words(1));
                    assert!((got - want.min(1.0)).abs() < 1e-3, "{got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn hamming_scores_rank_like_the_bit_distance_and_prefixes_are_renormalised() {
        let dims = 128;
        let s = spec(CodeKind::Binary { bits: 1 }, dims);
        let mut codes = Codes::new(s);
        let vs: Vec<Vec<f32>> = (0..10).map(|i| random(dims, i)).collect();
        vs.iter().for_each(|v| codes.push(v));
        let qc = s.query(&vs[3]);
        let scorer = codes.scorer(&qc);
        // The point's own code scores best, and its API score is the cosine
        // between the query and its sign vector.
        let own = scorer.score(3);
        assert!((0..10).all(|o| scorer.score(o) <= own));
        let signs: Vec<f32> = vs[3]
            .iter()
            .map(|x| if *x > 0.0 { 1.0 } else { -1.0 })
            .collect();
        let cos = distance::dot(&vs[3], &signs) / (dims as f32).sqrt();
        assert!((s.api_score(&qc, own) - cos).abs() < 1e-2);
        let hamming = QueryCode::Bits(codes.words(3).to_vec());
        assert_eq!(codes.scorer(&hamming).score(3), 0.0);
        assert_eq!(s.api_score(&hamming, 0.0), 1.0);
        assert!(codes.scorer(&hamming).score(4) < 0.0);

        let p = spec(CodeKind::Prefix { k: 16 }, dims);
        let mut codes = Codes::new(p);
        codes.push(&vs[0]);
        let n: f32 = codes.prefix(0).iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-5);
        let qc = p.query(&vs[0]);
        assert!((codes.scorer(&qc).score(0) - 1.0).abs() < 1e-5);
        assert_eq!(codes.prefixes().len(), 16);
    }
}
