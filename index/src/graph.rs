//! The HNSW graph (Malkov & Yashunin, 2016), wrapping `hnsw_rs`.
//!
//! Everything of `hnsw_rs` stays in this module: its parameters are validated
//! here first (it calls `process::exit` on a bad `M`, and panics on a NaN
//! distance), its lifetimes are fixed to `'static`, and callers see offsets and
//! scores only. Inserts take `&self` and may run in parallel; the graph has no
//! delete, so callers filter deleted offsets at search time and rebuild.

use anndists::dist::Distance;
use hnsw_rs::hnsw::Hnsw;
use serde::{Deserialize, Serialize};

use crate::distance::Metric;
use crate::types::Offset;

/// Construction parameters, named as in the paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HnswParams {
    /// `M`: links per node and layer (layer 0 keeps `2·M`).
    pub m: usize,
    /// `ef_construction`: candidate list size while inserting.
    pub ef_construction: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construction: 200,
        }
    }
}

/// Bounds on the parameters.
pub const M_RANGE: std::ops::RangeInclusive<usize> = 2..=128;
/// Bounds on `ef_construction`.
pub const EF_CONSTRUCTION_RANGE: std::ops::RangeInclusive<usize> = 4..=4_096;
/// Bounds on the search-time `ef`.
pub const EF_RANGE: std::ops::RangeInclusive<usize> = 1..=16_384;

impl HnswParams {
    /// Checks the parameters; the message names the offending one.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !M_RANGE.contains(&self.m) {
            return Err((
                "m",
                format!(
                    "must be between {} and {}, got {}",
                    M_RANGE.start(),
                    M_RANGE.end(),
                    self.m
                ),
            ));
        }
        if !EF_CONSTRUCTION_RANGE.contains(&self.ef_construction) {
            return Err((
                "ef_construction",
                format!(
                    "must be between {} and {}, got {}",
                    EF_CONSTRUCTION_RANGE.start(),
                    EF_CONSTRUCTION_RANGE.end(),
                    self.ef_construction
                ),
            ));
        }
        Ok(())
    }
}

/// `hnsw_rs` distance adapter for a [`Metric`].
#[derive(Debug, Clone, Copy)]
struct MetricDistance(Metric);

impl Distance<f32> for MetricDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = self.0.distance(a, b);
        // A NaN would make hnsw_rs panic; inputs are validated finite, so this only guards overflow.
        if d.is_nan() { f32::MAX } else { d }
    }
}

/// An HNSW graph over `f32` vectors, keyed by offset.
pub struct Graph {
    hnsw: Hnsw<'static, f32, MetricDistance>,
    metric: Metric,
    dims: usize,
    params: HnswParams,
}

/// Maximum number of layers.
const MAX_LAYERS: usize = 16;

impl Graph {
    /// An empty graph. `params` must have passed [`HnswParams::validate`].
    pub fn new(params: HnswParams, dims: usize, metric: Metric, capacity_hint: usize) -> Self {
        debug_assert!(params.validate().is_ok());
        let m = params.m.clamp(*M_RANGE.start(), *M_RANGE.end());
        let hnsw = Hnsw::new(
            m,
            capacity_hint.max(1_024),
            MAX_LAYERS,
            params.ef_construction.max(m),
            MetricDistance(metric),
        );
        Self {
            hnsw,
            metric,
            dims,
            params,
        }
    }

    /// The construction parameters.
    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// Points inserted so far.
    pub fn len(&self) -> usize {
        self.hnsw.get_nb_point()
    }

    /// True when nothing has been inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Inserts points in parallel (rayon). Each vector must have the graph's dimension.
    pub fn insert_batch(&self, points: &[(&[f32], Offset)]) {
        let items: Vec<(&[f32], usize)> = points
            .iter()
            .filter(|(v, _)| v.len() == self.dims)
            .map(|(v, offset)| (*v, *offset as usize))
            .collect();
        if items.len() == 1 {
            self.hnsw.insert_slice(items[0]);
        } else if !items.is_empty() {
            self.hnsw.parallel_insert_slice(&items);
        }
    }

    /// The `k` nearest offsets to `query` accepted by `accept`, best first, with scores.
    ///
    /// `ef` is clamped to at least `k`. With a very selective `accept` the walk can
    /// return fewer than `k`: the planner avoids sending such filters here.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        accept: Option<&(dyn Fn(Offset) -> bool + Sync)>,
    ) -> Vec<(Offset, f32)> {
        if self.is_empty() || k == 0 || query.len() != self.dims {
            return Vec::new();
        }
        let ef = ef.max(k);
        let neighbours = match accept {
            Some(accept) => {
                let filter = |id: &usize| u32::try_from(*id).is_ok_and(accept);
                self.hnsw.search_filter(query, k, ef, Some(&filter))
            }
            None => self.hnsw.search(query, k, ef),
        };
        neighbours
            .into_iter()
            .filter_map(|n| {
                let offset = Offset::try_from(n.d_id).ok()?;
                Some((offset, self.metric.score_from_distance(n.distance)))
            })
            .collect()
    }

    /// Approximate heap bytes: the stored vectors plus links.
    pub fn ram_bytes(&self) -> usize {
        let per_point = self.dims * 4 + 2 * self.params.m * 8 + 64;
        self.len() * per_point
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_before_hnsw_rs_sees_them() {
        assert!(HnswParams::default().validate().is_ok());
        let bad_m = HnswParams {
            m: 300,
            ef_construction: 200,
        };
        assert_eq!(bad_m.validate().unwrap_err().0, "m");
        let bad_ef = HnswParams {
            m: 16,
            ef_construction: 0,
        };
        assert_eq!(bad_ef.validate().unwrap_err().0, "ef_construction");
    }

    #[test]
    fn finds_itself_and_respects_the_filter() {
        let dims = 8;
        let vectors: Vec<Vec<f32>> = (0..200)
            .map(|i| {
                let mut v: Vec<f32> = (0..dims)
                    .map(|j| ((i * 31 + j * 7) % 17) as f32 - 8.0)
                    .collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter_mut().for_each(|x| *x /= n);
                v
            })
            .collect();
        let graph = Graph::new(HnswParams::default(), dims, Metric::Cosine, 200);
        let items: Vec<(&[f32], Offset)> = vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (v.as_slice(), i as Offset))
            .collect();
        graph.insert_batch(&items);
        assert_eq!(graph.len(), 200);
        let hits = graph.search(&vectors[42], 1, 64, None);
        assert!((hits[0].1 - 1.0).abs() < 1e-5);
        let even = |o: Offset| o.is_multiple_of(2);
        let hits = graph.search(&vectors[43], 10, 64, Some(&even));
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|(o, _)| o.is_multiple_of(2)));
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
    }
}
