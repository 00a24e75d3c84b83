//! Scalar references: the codes from their definitions, one dimension at a
//! time, unpacked (a plane is a `Vec<bool>`, `true` for `+1`), and the packed
//! layouts read by their documented formulas, not by the crate's readers.
//! Slow and plain on purpose: the packed codes here and the popcount kernels
//! of the index are tested against them.

/// The sign plane of `v`: `x_j > 0`.
pub fn signs(v: &[f32]) -> Vec<bool> {
    v.iter().map(|&x| x > 0.0).collect()
}

/// BEBR's residual planes and scales of `v`: plane `p` is the signs of
/// `r_p`, its scale `a_p = (Σ_j |r_{p,j}|) / d`, and `r_{p+1,j} = r_{p,j} ∓ a_p`.
/// The same `f32` operations in the same order as the packed encoder, so the
/// two agree to the bit.
pub fn binarize(v: &[f32], bits: u8) -> (Vec<Vec<bool>>, Vec<f32>) {
    let d = v.len();
    let mut r = v.to_vec();
    let (mut planes, mut scales) = (Vec::new(), Vec::new());
    for _ in 0..bits {
        let mut total = 0.0_f32;
        for x in &r {
            total += x.abs();
        }
        let a = total / d.max(1) as f32;
        let s = signs(&r);
        for (x, &set) in r.iter_mut().zip(&s) {
            *x = if set { *x - a } else { *x + a };
        }
        planes.push(s);
        scales.push(a);
    }
    (planes, scales)
}

/// `Σ_p a_p·s_p`, dimension by dimension, planes in order.
pub fn rebuild(planes: &[Vec<bool>], scales: &[f32]) -> Vec<f32> {
    let d = planes.first().map_or(0, Vec::len);
    (0..d)
        .map(|j| {
            let mut x = 0.0_f32;
            for (plane, &a) in planes.iter().zip(scales) {
                x += if plane[j] { a } else { -a };
            }
            x
        })
        .collect()
}

/// The first `dims` bits of a plane packed as words: bit `j % 64` of word `j / 64`.
pub fn unpack_words(words: &[u64], dims: usize) -> Vec<bool> {
    (0..dims)
        .map(|j| words[j / 64] & (1 << (j % 64)) != 0)
        .collect()
}

/// The first `dims` bits of a plane packed as bytes: bit `j % 8` of byte `j / 8`.
pub fn unpack_bytes(bytes: &[u8], dims: usize) -> Vec<bool> {
    (0..dims)
        .map(|j| bytes[j / 8] & (1 << (j % 8)) != 0)
        .collect()
}

/// The planes and scales of an index row of `bits` planes of `dims`
/// dimensions: `bits` planes of `⌈dims/64⌉` words, then the scales as `f32`
/// bits, two per word, low half first. A 1-bit row has no scale: `[1.0]`.
pub fn unpack_row(row: &[u64], bits: u8, dims: usize) -> (Vec<Vec<bool>>, Vec<f32>) {
    let (b, wpp) = (usize::from(bits), dims.div_ceil(64));
    let planes = (0..b)
        .map(|p| unpack_words(&row[p * wpp..(p + 1) * wpp], dims))
        .collect();
    let scales = if b == 1 {
        vec![1.0]
    } else {
        (0..b)
            .map(|p| f32::from_bits((row[b * wpp + p / 2] >> (32 * (p % 2))) as u32))
            .collect()
    };
    (planes, scales)
}

/// The number of dimensions whose signs differ.
pub fn hamming(a: &[bool], b: &[bool]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count()
}

/// `a·b` in `f64`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

/// `q·x̂` in `f64` for the code given by its planes and scales:
/// `Σ_p a_p·Σ_j ±q_j`.
pub fn dot_with_code(q: &[f32], planes: &[Vec<bool>], scales: &[f32]) -> f64 {
    planes
        .iter()
        .zip(scales)
        .map(|(plane, &a)| {
            let signed: f64 = q
                .iter()
                .zip(plane)
                .map(|(x, &set)| if set { f64::from(*x) } else { -f64::from(*x) })
                .sum();
            f64::from(a) * signed
        })
        .sum()
}

/// `‖v − r‖²` in `f64`.
pub fn squared_error(v: &[f32], r: &[f32]) -> f64 {
    v.iter()
        .zip(r)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
        .sum()
}

/// The first `k` dimensions of `v` divided by their norm, in `f64`.
pub fn matryoshka(v: &[f32], k: usize) -> Vec<f64> {
    let head = &v[..k];
    let norm = dot(head, head).sqrt();
    head.iter().map(|x| f64::from(*x) / norm).collect()
}
