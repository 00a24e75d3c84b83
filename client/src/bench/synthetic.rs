//! Seeded synthetic vectors whose nearest neighbours mean something.
//!
//! Isotropic Gaussians in a few hundred dimensions have no meaningful
//! neighbours (every point is about as far from a query as every other), so
//! recall measured on them measures the data rather than the index. Embeddings
//! of real text have a low intrinsic dimension; these vectors do too.

use trawl_index::distance::dot;

use crate::load::workload::mix64;

/// Latent dimensions of the vectors.
pub const LATENT_DIMS: usize = 32;
/// Standard deviation of the isotropic noise beside the latent signal (whose
/// components have unit variance).
const NOISE: f32 = 0.3;
/// The stream the basis is drawn from; callers use other streams.
const BASIS_STREAM: u64 = u64::MAX;

/// Seeded vectors of low intrinsic dimension: `x = normalise(B·z / √L + NOISE · g)` with `z ~ N(0, I_L)`
/// (`L` = [`LATENT_DIMS`]), `g ~ N(0, I_dims)` and `B` a seeded Gaussian
/// `dims × L` matrix. Every vector is a function of the seed, a stream and
/// its index, so any one can be drawn again without the others.
pub struct Synthetic {
    dims: usize,
    seed: u64,
    basis: Vec<f32>,
}

impl Synthetic {
    /// The distribution of `dims`-dimensional vectors drawn from `seed`.
    pub fn new(dims: usize, seed: u64) -> Self {
        let mut g = Gaussian::new(seed, BASIS_STREAM, 0);
        let basis = (0..dims * LATENT_DIMS).map(|_| g.sample()).collect();
        Self { dims, seed, basis }
    }

    /// The vectors' dimension.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The `index`-th vector of `stream`, unit length.
    pub fn vector(&self, stream: u64, index: u64) -> Vec<f32> {
        let mut g = Gaussian::new(self.seed, stream, index);
        let z: [f32; LATENT_DIMS] = std::array::from_fn(|_| g.sample());
        let scale = 1.0 / (LATENT_DIMS as f32).sqrt();
        let mut v: Vec<f32> = self
            .basis
            .chunks_exact(LATENT_DIMS)
            .map(|row| dot(row, &z) * scale + NOISE * g.sample())
            .collect();
        let norm = dot(&v, &v).sqrt().max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    }
}

/// Standard normal samples by Box–Muller from a SplitMix64 counter.
struct Gaussian {
    key: u64,
    counter: u64,
    spare: Option<f32>,
}

impl Gaussian {
    fn new(seed: u64, stream: u64, index: u64) -> Self {
        Self {
            key: mix64(mix64(mix64(seed) ^ stream) ^ index),
            counter: 0,
            spare: None,
        }
    }

    /// Uniform in [0, 1), 53 bits.
    fn uniform(&mut self) -> f64 {
        self.counter += 1;
        (mix64(self.key.wrapping_add(self.counter)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn sample(&mut self) -> f32 {
        if let Some(x) = self.spare.take() {
            return x;
        }
        let r = (-2.0 * (1.0 - self.uniform()).ln()).sqrt();
        let theta = std::f64::consts::TAU * self.uniform();
        self.spare = Some((r * theta.sin()) as f32);
        (r * theta.cos()) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_repeatable() {
        let data = Synthetic::new(64, 7);
        let v = data.vector(0, 3);
        assert!((dot(&v, &v) - 1.0).abs() < 1e-4);
        assert_eq!(v, Synthetic::new(64, 7).vector(0, 3));
        assert_ne!(v, data.vector(1, 3));
        assert_ne!(v, Synthetic::new(64, 8).vector(0, 3));
    }

    #[test]
    fn gaussian_has_unit_variance() {
        let mut g = Gaussian::new(1, 0, 0);
        let xs: Vec<f64> = (0..20_000).map(|_| f64::from(g.sample())).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
