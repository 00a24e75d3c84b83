//! Distance kernels: dot product and squared L2 on `f32`, Hamming on packed bits.
//!
//! On x86-64 with AVX2 and FMA (checked once at run time) the float kernels use
//! explicit `std::arch` intrinsics, eight lanes times four accumulators; elsewhere
//! a scalar version with eight independent accumulators, which compilers
//! vectorise with the baseline instruction set. Tests check both against a plain
//! sequential sum.
#![allow(unsafe_code)]

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// How similarity is measured. Scores are "higher is better" for every metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Cosine similarity; vectors are normalised on the way in, so it is a dot product.
    Cosine,
    /// Raw dot product.
    Dot,
    /// Euclidean distance; the score is its negation.
    L2,
}

impl Metric {
    /// The metric's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "cosine",
            Self::Dot => "dot",
            Self::L2 => "l2",
        }
    }

    /// Score of `stored` for `query` ("higher is better"). For cosine both must be normalised.
    #[inline]
    pub fn score(self, query: &[f32], stored: &[f32]) -> f32 {
        match self {
            Self::Cosine | Self::Dot => dot(query, stored),
            Self::L2 => -l2_squared(query, stored).sqrt(),
        }
    }

    /// Graph distance ("lower is better", never negative) consistent with [`Metric::score`].
    ///
    /// The graph needs non-negative distances. Cosine uses `max(0, 1 − a·b)`;
    /// dot products are unbounded, so `Dot` maps them through the decreasing,
    /// positive, invertible `s ↦ 1 − s` for `s ≤ 0` and `s ↦ 1 / (1 + s)` for `s > 0`.
    #[inline]
    pub fn distance(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Self::Cosine | Self::Dot => self.distance_of_dot(dot(a, b)),
            Self::L2 => l2_squared(a, b),
        }
    }

    /// [`Metric::distance`] of two vectors whose dot product is `s`, for
    /// cosine and dot (L2 needs the norms too: it answers `−s`, unclamped).
    #[inline]
    pub fn distance_of_dot(self, s: f32) -> f32 {
        match self {
            Self::Cosine => (1.0 - s).max(0.0),
            Self::Dot => {
                if s <= 0.0 {
                    1.0 - s
                } else {
                    1.0 / (1.0 + s)
                }
            }
            Self::L2 => -s,
        }
    }

    /// The score that a graph distance stands for.
    #[inline]
    pub fn score_from_distance(self, distance: f32) -> f32 {
        match self {
            Self::Cosine => 1.0 - distance,
            Self::Dot => {
                if distance >= 1.0 {
                    1.0 - distance
                } else {
                    1.0 / distance - 1.0
                }
            }
            Self::L2 => -distance.max(0.0).sqrt(),
        }
    }
}

type Kernel = fn(&[f32], &[f32]) -> f32;

struct Kernels {
    dot: Kernel,
    l2: Kernel,
    hamming: fn(&[u64], &[u64]) -> u32,
    planes: PlaneKernel,
    dot_i8: fn(&[i8], &[i8]) -> i32,
}

type PlaneKernel = fn(&[u64], &[u64]) -> (u32, u32);

fn kernels() -> &'static Kernels {
    static KERNELS: OnceLock<Kernels> = OnceLock::new();
    KERNELS.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            let avx512 = std::arch::is_x86_feature_detected!("avx512f");
            return Kernels {
                dot: if avx512 { x86::dot_512 } else { x86::dot },
                l2: x86::l2_squared,
                hamming: if std::arch::is_x86_feature_detected!("popcnt") {
                    x86::hamming
                } else {
                    hamming_scalar
                },
                planes: if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
                {
                    x86::plane_counts_avx512
                } else if std::arch::is_x86_feature_detected!("popcnt") {
                    x86::plane_counts
                } else {
                    plane_counts_scalar
                },
                dot_i8: if avx512 && std::arch::is_x86_feature_detected!("avx512bw") {
                    x86::dot_i8_512
                } else {
                    x86::dot_i8
                },
            };
        }
        Kernels {
            dot: dot_scalar,
            l2: l2_squared_scalar,
            hamming: hamming_scalar,
            planes: plane_counts_scalar,
            dot_i8: dot_i8_scalar,
        }
    })
}

/// Dot product. Panics in debug builds if the lengths differ.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().dot)(a, b)
}

/// Dot product of two `i8` vectors (scalar-quantised), exact in `i32` for
/// up to 2^17 components. Panics in debug builds if the lengths differ.
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().dot_i8)(a, b)
}

/// Portable [`dot_i8`].
pub fn dot_i8_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// Squared Euclidean distance.
#[inline]
pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().l2)(a, b)
}

/// Asks the CPU to start loading `data` into cache, one hint per 64-byte line
/// (a hint; no effect off x86-64). Graph walks and filtered scans read vectors
/// in an order the hardware prefetcher cannot guess.
#[inline]
pub fn prefetch(data: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        for x in data.iter().step_by(16) {
            // SAFETY: SSE is part of the x86-64 baseline; a prefetch never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// Like [`prefetch`], for packed codes.
#[inline]
pub fn prefetch_words(data: &[u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        for x in data.iter().step_by(8) {
            // SAFETY: as in `prefetch`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast::<i8>()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// Like [`prefetch`], for `i8` codes.
#[inline]
pub fn prefetch_bytes(data: &[i8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        for x in data.iter().step_by(64) {
            // SAFETY: as in `prefetch`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// Hamming distance between packed bit strings of equal length (the `popcnt`
/// instruction when the CPU has it).
#[inline]
pub fn hamming(a: &[u64], b: &[u64]) -> u32 {
    debug_assert_eq!(a.len(), b.len());
    (kernels().hamming)(a, b)
}

/// Bit planes per word of a query quantised for [`plane_counts`].
pub const QUERY_PLANES: usize = 4;
// The AVX-512 kernel spells out four planes.
const _: () = assert!(QUERY_PLANES == 4);

/// For a bit string `code` of `W` words and a query's bit planes
/// (`planes[p·W + w]` is bit `p` of the quantised components of word `w`, for
/// `p < `[`QUERY_PLANES`]): `(popcount(code), Σ_p 2^p · popcount(code & plane_p))`,
/// that is the set bits and the sum of the quantised query components at them.
#[inline]
pub fn plane_counts(code: &[u64], planes: &[u64]) -> (u32, u32) {
    debug_assert_eq!(code.len() * QUERY_PLANES, planes.len());
    (kernels().planes)(code, planes)
}

/// Portable [`plane_counts`].
#[inline(always)]
pub fn plane_counts_scalar(code: &[u64], planes: &[u64]) -> (u32, u32) {
    let words = code.len();
    let mut set = 0;
    let mut weighted = 0;
    for (w, &c) in code.iter().enumerate() {
        set += c.count_ones();
        for p in 0..QUERY_PLANES {
            weighted += (c & planes[p * words + w]).count_ones() << p;
        }
    }
    (set, weighted)
}

/// Portable Hamming distance.
pub fn hamming_scalar(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// Portable dot product with eight independent accumulators.
pub fn dot_scalar(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks = n / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += ca[i] * cb[i];
        }
    }
    let tail: f32 = a[chunks..]
        .iter()
        .zip(&b[chunks..])
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

/// Portable squared L2 with eight independent accumulators.
pub fn l2_squared_scalar(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let chunks = n / 8 * 8;
    for (ca, cb) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for i in 0..8 {
            let d = ca[i] - cb[i];
            acc[i] += d * d;
        }
    }
    let tail: f32 = a[chunks..]
        .iter()
        .zip(&b[chunks..])
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256, _mm_add_ps, _mm_add_ss, _mm_cvtss_f32, _mm_movehl_ps, _mm_shuffle_ps,
        _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
        _mm256_loadu_ps, _mm256_setzero_ps, _mm256_sub_ps, _mm512_add_ps, _mm512_fmadd_ps,
        _mm512_loadu_ps, _mm512_reduce_add_ps, _mm512_setzero_ps,
    };

    /// Hamming distance with `popcnt`. Only installed after run-time detection.
    pub fn hamming(a: &[u64], b: &[u64]) -> u32 {
        // SAFETY: `kernels()` installs this function only when POPCNT was detected.
        unsafe { hamming_popcnt(a, b) }
    }

    #[target_feature(enable = "popcnt")]
    unsafe fn hamming_popcnt(a: &[u64], b: &[u64]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
    }

    /// [`super::plane_counts`] with `popcnt`. Only installed after run-time detection.
    pub fn plane_counts(code: &[u64], planes: &[u64]) -> (u32, u32) {
        // SAFETY: `kernels()` installs this function only when POPCNT was detected.
        unsafe { plane_counts_popcnt(code, planes) }
    }

    #[target_feature(enable = "popcnt")]
    unsafe fn plane_counts_popcnt(code: &[u64], planes: &[u64]) -> (u32, u32) {
        super::plane_counts_scalar(code, planes)
    }

    /// [`super::plane_counts`] eight words at a time with AVX-512's `vpopcntq`.
    /// Only installed after run-time detection of AVX512F and AVX512_VPOPCNTDQ.
    pub fn plane_counts_avx512(code: &[u64], planes: &[u64]) -> (u32, u32) {
        assert!(planes.len() >= code.len() * super::QUERY_PLANES);
        // SAFETY: `kernels()` installs this function only when both features
        // were detected; the assertion bounds every masked load below.
        unsafe { plane_counts_vpopcnt(code, planes) }
    }

    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    unsafe fn plane_counts_vpopcnt(code: &[u64], planes: &[u64]) -> (u32, u32) {
        use std::arch::x86_64::{
            _mm512_add_epi64, _mm512_and_si512, _mm512_maskz_loadu_epi64, _mm512_popcnt_epi64,
            _mm512_reduce_add_epi64, _mm512_setzero_si512, _mm512_slli_epi64,
        };
        let words = code.len();
        let mut set = _mm512_setzero_si512();
        let mut weighted = _mm512_setzero_si512();
        let mut start = 0;
        while start < words {
            let mask: u8 = if words - start >= 8 {
                u8::MAX
            } else {
                (1u8 << (words - start)) - 1
            };
            // SAFETY: the mask covers only words `start..words` of `code` and
            // of each plane (each plane is `words` long).
            unsafe {
                let c = _mm512_maskz_loadu_epi64(mask, code.as_ptr().add(start).cast());
                set = _mm512_add_epi64(set, _mm512_popcnt_epi64(c));
                let plane = |p: usize| {
                    let u = _mm512_maskz_loadu_epi64(
                        mask,
                        planes.as_ptr().add(p * words + start).cast(),
                    );
                    _mm512_popcnt_epi64(_mm512_and_si512(c, u))
                };
                let p0 = plane(0);
                let p1 = _mm512_slli_epi64::<1>(plane(1));
                let p2 = _mm512_slli_epi64::<2>(plane(2));
                let p3 = _mm512_slli_epi64::<3>(plane(3));
                weighted = _mm512_add_epi64(
                    weighted,
                    _mm512_add_epi64(_mm512_add_epi64(p0, p1), _mm512_add_epi64(p2, p3)),
                );
            }
            start += 8;
        }
        (
            _mm512_reduce_add_epi64(set) as u32,
            _mm512_reduce_add_epi64(weighted) as u32,
        )
    }

    /// [`super::dot_i8`] with AVX2. Only installed after run-time detection.
    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: `kernels()` installs this function only when AVX2 was detected.
        unsafe { dot_i8_avx2(a, b) }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn dot_i8_avx2(a: &[i8], b: &[i8]) -> i32 {
        use std::arch::x86_64::{
            __m128i, _mm_loadu_si128, _mm256_add_epi32, _mm256_cvtepi8_epi16, _mm256_madd_epi16,
            _mm256_setzero_si256, _mm256_storeu_si256,
        };
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = _mm256_setzero_si256();
        let mut i = 0;
        // SAFETY (loads): i + 16 <= n bounds each 16-byte load inside both slices.
        while i + 16 <= n {
            let x = _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(pa.add(i).cast::<__m128i>()) });
            let y = _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(pb.add(i).cast::<__m128i>()) });
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
            i += 16;
        }
        let mut lanes = [0i32; 8];
        // SAFETY: `lanes` holds 32 bytes.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
        lanes.iter().sum::<i32>() + super::dot_i8_scalar(&a[i..n], &b[i..n])
    }

    /// [`super::dot_i8`] with AVX-512BW. Only installed after run-time detection.
    pub fn dot_i8_512(a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: `kernels()` installs this function only when AVX-512F and
        // AVX-512BW (and AVX2, for the tail) were detected.
        unsafe { dot_i8_avx512(a, b) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx2")]
    unsafe fn dot_i8_avx512(a: &[i8], b: &[i8]) -> i32 {
        use std::arch::x86_64::{
            __m256i, _mm256_loadu_si256, _mm512_add_epi32, _mm512_cvtepi8_epi16, _mm512_madd_epi16,
            _mm512_reduce_add_epi32, _mm512_setzero_si512,
        };
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_si512(); 2];
        let mut i = 0;
        // SAFETY (loads): i + 64 <= n, resp. i + 32 <= n, bound each 32-byte load inside both slices.
        while i + 64 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                let x = _mm512_cvtepi8_epi16(unsafe {
                    _mm256_loadu_si256(pa.add(i + 32 * k).cast::<__m256i>())
                });
                let y = _mm512_cvtepi8_epi16(unsafe {
                    _mm256_loadu_si256(pb.add(i + 32 * k).cast::<__m256i>())
                });
                *slot = _mm512_add_epi32(*slot, _mm512_madd_epi16(x, y));
            }
            i += 64;
        }
        while i + 32 <= n {
            let x =
                _mm512_cvtepi8_epi16(unsafe { _mm256_loadu_si256(pa.add(i).cast::<__m256i>()) });
            let y =
                _mm512_cvtepi8_epi16(unsafe { _mm256_loadu_si256(pb.add(i).cast::<__m256i>()) });
            acc[0] = _mm512_add_epi32(acc[0], _mm512_madd_epi16(x, y));
            i += 32;
        }
        let total = _mm512_reduce_add_epi32(_mm512_add_epi32(acc[0], acc[1]));
        total + unsafe { dot_i8_avx2(&a[i..n], &b[i..n]) }
    }

    /// Dot product with AVX2 + FMA. Only installed after run-time detection of both.
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `kernels()` installs this function only when AVX2 and FMA were detected.
        unsafe { dot_avx2(a, b) }
    }

    /// Dot product with AVX-512F. Only installed after run-time detection.
    pub fn dot_512(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: `kernels()` installs this function only when AVX-512F (and
        // AVX2 + FMA, for the tail) were detected.
        unsafe { dot_avx512(a, b) }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    unsafe fn dot_avx512(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm512_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): i + 64 <= n, resp. i + 16 <= n, bound every unaligned load inside both slices.
        while i + 64 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                let x = unsafe { _mm512_loadu_ps(pa.add(i + 16 * k)) };
                let y = unsafe { _mm512_loadu_ps(pb.add(i + 16 * k)) };
                *slot = _mm512_fmadd_ps(x, y, *slot);
            }
            i += 64;
        }
        while i + 16 <= n {
            let x = unsafe { _mm512_loadu_ps(pa.add(i)) };
            let y = unsafe { _mm512_loadu_ps(pb.add(i)) };
            acc[0] = _mm512_fmadd_ps(x, y, acc[0]);
            i += 16;
        }
        let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        let mut total = _mm512_reduce_add_ps(sum);
        // The tail (fewer than 16): the AVX2 kernel handles it, 8 at a time.
        if i < n {
            total += unsafe { dot_avx2(&a[i..n], &b[i..n]) };
        }
        total
    }

    /// Squared L2 with AVX2 + FMA. Only installed after run-time detection of both.
    pub fn l2_squared(a: &[f32], b: &[f32]) -> f32 {
        // SAFETY: as for `dot`.
        unsafe { l2_avx2(a, b) }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn hsum(v: __m256) -> f32 {
        let lo = _mm256_castps256_ps128(v);
        let hi = _mm256_extractf128_ps::<1>(v);
        let s = _mm_add_ps(lo, hi);
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s));
        _mm_cvtss_f32(s)
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): i + 32 <= n, resp. i + 8 <= n, bound every unaligned load inside both slices.
        while i + 32 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                let x = unsafe { _mm256_loadu_ps(pa.add(i + 8 * k)) };
                let y = unsafe { _mm256_loadu_ps(pb.add(i + 8 * k)) };
                *slot = _mm256_fmadd_ps(x, y, *slot);
            }
            i += 32;
        }
        while i + 8 <= n {
            let x = unsafe { _mm256_loadu_ps(pa.add(i)) };
            let y = unsafe { _mm256_loadu_ps(pb.add(i)) };
            acc[0] = _mm256_fmadd_ps(x, y, acc[0]);
            i += 8;
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut total = unsafe { hsum(sum) };
        for j in i..n {
            total += a[j] * b[j];
        }
        total
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn l2_avx2(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        // SAFETY (all loads): as in `dot_avx2`.
        while i + 32 <= n {
            for (k, slot) in acc.iter_mut().enumerate() {
                let x = unsafe { _mm256_loadu_ps(pa.add(i + 8 * k)) };
                let y = unsafe { _mm256_loadu_ps(pb.add(i + 8 * k)) };
                let d = _mm256_sub_ps(x, y);
                *slot = _mm256_fmadd_ps(d, d, *slot);
            }
            i += 32;
        }
        while i + 8 <= n {
            let x = unsafe { _mm256_loadu_ps(pa.add(i)) };
            let y = unsafe { _mm256_loadu_ps(pb.add(i)) };
            let d = _mm256_sub_ps(x, y);
            acc[0] = _mm256_fmadd_ps(d, d, acc[0]);
            i += 8;
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut total = unsafe { hsum(sum) };
        for j in i..n {
            let d = a[j] - b[j];
            total += d * d;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let mut s = seed.max(1);
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 2_000_001) as f32 / 1_000_000.0 - 1.0
        };
        (
            (0..n).map(|_| next()).collect(),
            (0..n).map(|_| next()).collect(),
        )
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
    }

    #[test]
    fn installed_kernels_match_a_sequential_sum_at_every_length() {
        for n in (0..70).chain([127, 128, 129, 384, 768, 1000]) {
            let (a, b) = vectors(n, n as u64 + 7);
            let want_dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let want_l2: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
            for (name, got) in [("dot", dot(&a, &b)), ("dot_scalar", dot_scalar(&a, &b))] {
                assert!(close(got, want_dot), "{name} n={n}: {got} vs {want_dot}");
            }
            // Both x86 kernels where the CPU has them (the installed one is either).
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                let got = x86::dot(&a, &b);
                assert!(close(got, want_dot), "dot_avx2 n={n}: {got} vs {want_dot}");
                if std::arch::is_x86_feature_detected!("avx512f") {
                    let got = x86::dot_512(&a, &b);
                    assert!(
                        close(got, want_dot),
                        "dot_avx512 n={n}: {got} vs {want_dot}"
                    );
                }
            }
            for (name, got) in [
                ("l2", l2_squared(&a, &b)),
                ("l2_scalar", l2_squared_scalar(&a, &b)),
            ] {
                assert!(close(got, want_l2), "{name} n={n}: {got} vs {want_l2}");
            }
        }
    }

    #[test]
    fn every_i8_kernel_is_exact_at_every_length() {
        for n in (0..100).chain([127, 128, 129, 384, 768, 1000]) {
            let (a, b) = vectors(n, n as u64 + 11);
            // The extremes too: -128 * -128 summed is where i16 sums would wrap.
            let q = |v: &[f32]| -> Vec<i8> {
                v.iter()
                    .map(|x| (x * 128.0).clamp(-128.0, 127.0) as i8)
                    .collect()
            };
            let (mut a, b) = (q(&a), q(&b));
            if n % 3 == 0 {
                a.iter_mut().for_each(|x| *x = -128);
            }
            let want: i32 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum();
            assert_eq!(dot_i8(&a, &b), want, "installed n={n}");
            assert_eq!(dot_i8_scalar(&a, &b), want, "scalar n={n}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                assert_eq!(x86::dot_i8(&a, &b), want, "avx2 n={n}");
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                {
                    assert_eq!(x86::dot_i8_512(&a, &b), want, "avx512 n={n}");
                }
            }
        }
    }

    #[test]
    fn scores_and_distances_agree() {
        let (mut a, mut b) = vectors(384, 3);
        for metric in [Metric::Dot, Metric::L2, Metric::Cosine] {
            if metric == Metric::Cosine {
                // Cosine inputs are normalised on the way in.
                for v in [&mut a, &mut b] {
                    let n = dot(v, v).sqrt();
                    v.iter_mut().for_each(|x| *x /= n);
                }
            }
            let s = metric.score(&a, &b);
            let d = metric.distance(&a, &b);
            assert!(d >= 0.0, "{metric:?}: graph distances are never negative");
            assert!(close(metric.score_from_distance(d), s), "{metric:?}");
        }
        // Dot: the distance decreases as the score grows, on both sides of 0.
        let d = |s: f32| {
            let (a, b) = ([s], [1.0]);
            Metric::Dot.distance(&a, &b)
        };
        assert!(d(-3.0) > d(-1.0) && d(-1.0) > d(0.0) && d(0.0) > d(0.5) && d(0.5) > d(7.0));
        for s in [-3.0f32, -0.5, 0.0, 0.25, 7.0] {
            assert!(close(Metric::Dot.score_from_distance(d(s)), s), "{s}");
        }
    }

    #[test]
    fn hamming_counts_differing_bits() {
        assert_eq!(hamming(&[0b1011, u64::MAX], &[0b0001, 0]), 2 + 64);
        assert_eq!(hamming_scalar(&[0b1011, u64::MAX], &[0b0001, 0]), 2 + 64);
    }

    #[test]
    fn plane_counts_sum_the_quantised_components_at_set_bits() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for words in [1, 2, 6, 8, 9, 17] {
            let code: Vec<u64> = (0..words).map(|_| next()).collect();
            // Quantised components 0..2^P, bit-sliced into planes.
            let values: Vec<u32> = (0..words * 64)
                .map(|_| (next() % (1 << QUERY_PLANES)) as u32)
                .collect();
            let mut planes = vec![0u64; words * QUERY_PLANES];
            for (j, v) in values.iter().enumerate() {
                for p in 0..QUERY_PLANES {
                    planes[p * words + j / 64] |= u64::from((v >> p) & 1) << (j % 64);
                }
            }
            let bit = |j: usize| (code[j / 64] >> (j % 64)) & 1 == 1;
            let want_set = (0..words * 64).filter(|&j| bit(j)).count() as u32;
            let want_sum: u32 = (0..words * 64).filter(|&j| bit(j)).map(|j| values[j]).sum();
            assert_eq!(plane_counts(&code, &planes), (want_set, want_sum));
            assert_eq!(plane_counts_scalar(&code, &planes), (want_set, want_sum));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            {
                assert_eq!(
                    x86::plane_counts_avx512(&code, &planes),
                    (want_set, want_sum)
                );
            }
        }
    }
}
