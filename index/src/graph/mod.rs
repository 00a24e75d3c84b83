//! The HNSW graph (Malkov & Yashunin, 2016), wrapping `hnsw_rs`.
//!
//! Everything of `hnsw_rs` stays in this module: its parameters are validated
//! here first (it calls `process::exit` on a bad `M`, and panics on a NaN
//! distance), its lifetimes are fixed to `'static`, and callers see offsets and
//! scores only. Inserts take `&self` and may run in parallel; the graph has no
//! delete, so callers filter deleted offsets at search time and rebuild.
//! Searches run over flat copies of the graph ([`flat`]), never inside `hnsw_rs`.

mod build;
mod bytes;
mod flat;
mod subset;

use std::sync::Arc;

use anndists::dist::Distance;
use hnsw_rs::hnsw::Hnsw;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

pub use build::{BuildSpace, build, build_unless, extend_unless};
pub use bytes::ByteSpace;
pub use flat::FlatGraph;
pub(crate) use flat::WordReader;
pub use subset::SubsetGraph;

use crate::codes::CodeSpec;
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

/// `hnsw_rs` distance adapter for binary codes.
#[derive(Debug, Clone, Copy)]
struct CodeDistance(CodeSpec);

impl Distance<u64> for CodeDistance {
    fn eval(&self, a: &[u64], b: &[u64]) -> f32 {
        let d = self.0.code_distance(a, b);
        if d.is_nan() { f32::MAX } else { d }
    }
}

/// Scores offsets for one query, "higher is better": what a graph walk and a
/// flat scan compare. Scores need only be comparable within one query.
pub trait Scorer {
    /// The score of `offset`.
    fn score(&self, offset: Offset) -> f32;
    /// Starts loading what [`Scorer::score`] will read for `offset`.
    fn prefetch(&self, offset: Offset);
}

/// Scores `f32` vectors stored `dims` per offset: the dot product, or the
/// negated squared Euclidean distance for L2.
#[derive(Debug, Clone, Copy)]
pub struct FloatScorer<'a> {
    query: &'a [f32],
    vectors: &'a [f32],
    metric: Metric,
}

impl<'a> FloatScorer<'a> {
    /// `vectors` holds `query.len()` floats per offset.
    pub fn new(query: &'a [f32], vectors: &'a [f32], metric: Metric) -> Self {
        Self {
            query,
            vectors,
            metric,
        }
    }

    /// Offsets it can score.
    pub fn len(&self) -> usize {
        self.vectors.len() / self.query.len().max(1)
    }

    /// True when it can score nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn row(&self, o: Offset) -> &'a [f32] {
        let d = self.query.len();
        &self.vectors[o as usize * d..(o as usize + 1) * d]
    }
}

impl Scorer for FloatScorer<'_> {
    #[inline]
    fn score(&self, o: Offset) -> f32 {
        match self.metric {
            Metric::Cosine | Metric::Dot => crate::distance::dot(self.query, self.row(o)),
            Metric::L2 => -crate::distance::l2_squared(self.query, self.row(o)),
        }
    }

    #[inline]
    fn prefetch(&self, o: Offset) {
        crate::distance::prefetch(self.row(o));
    }
}

/// What a graph links: `f32` vectors (the float layout, Matryoshka prefixes)
/// or binary codes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Space {
    /// `dims` floats per point, compared by `metric`.
    Floats {
        /// Floats per point.
        dims: usize,
        /// Their metric.
        metric: Metric,
    },
    /// Binary codes of this shape.
    Codes(CodeSpec),
}

impl Space {
    fn element_bytes(&self) -> usize {
        match self {
            Self::Floats { dims, .. } => dims * 4,
            Self::Codes(spec) => spec.words() * 8,
        }
    }
}

/// Points to insert, by offset, in the graph's space.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    /// For [`Space::Floats`].
    Floats(Vec<(Offset, Vec<f32>)>),
    /// For [`Space::Codes`].
    Words(Vec<(Offset, Vec<u64>)>),
}

impl Rows {
    /// Rows held.
    pub fn len(&self) -> usize {
        match self {
            Self::Floats(r) => r.len(),
            Self::Words(r) => r.len(),
        }
    }

    /// True without rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

enum Builder {
    Floats(Hnsw<'static, f32, MetricDistance>),
    Words(Hnsw<'static, u64, CodeDistance>),
}

/// Runs `$body` with `$h` bound to the builder's `hnsw_rs` graph, whatever its element type.
macro_rules! with_hnsw {
    ($builder:expr, $h:ident => $body:expr) => {
        match $builder {
            Builder::Floats($h) => $body,
            Builder::Words($h) => $body,
        }
    };
}

/// An HNSW graph keyed by offset, in segments.
///
/// `hnsw_rs` builds one segment as points arrive; after each batch its graph is
/// copied into a [`FlatGraph`], which searches use. Segments loaded from a
/// snapshot are flat only (they cannot take inserts); new points go to the
/// `hnsw_rs` segment, and a rebuild merges everything into one.
pub struct Graph {
    builder: Builder,
    /// Loaded from a snapshot.
    frozen: Vec<Arc<FlatGraph>>,
    /// Flat copy of the builder's graph, refreshed after each batch.
    view: RwLock<Arc<FlatGraph>>,
    space: Space,
    params: HnswParams,
}

/// Maximum number of layers.
const MAX_LAYERS: usize = 16;

impl Graph {
    /// An empty graph. `params` must have passed [`HnswParams::validate`].
    pub fn new(params: HnswParams, space: Space, capacity_hint: usize) -> Self {
        Self::with_frozen(params, space, capacity_hint, Vec::new())
    }

    /// A graph made of segments loaded from a snapshot, plus an empty `hnsw_rs`
    /// segment for the points that come next.
    pub fn with_frozen(
        params: HnswParams,
        space: Space,
        capacity_hint: usize,
        frozen: Vec<FlatGraph>,
    ) -> Self {
        debug_assert!(params.validate().is_ok());
        let m = params.m.clamp(*M_RANGE.start(), *M_RANGE.end());
        let capacity = capacity_hint.max(1_024);
        let ef_c = params.ef_construction.max(m);
        let builder = match space {
            Space::Floats { metric, .. } => Builder::Floats(Hnsw::new(
                m,
                capacity,
                MAX_LAYERS,
                ef_c,
                MetricDistance(metric),
            )),
            Space::Codes(spec) => {
                Builder::Words(Hnsw::new(m, capacity, MAX_LAYERS, ef_c, CodeDistance(spec)))
            }
        };
        Self {
            builder,
            frozen: frozen
                .into_iter()
                .filter(|g| !g.is_empty())
                .map(Arc::new)
                .collect(),
            view: RwLock::new(Arc::new(FlatGraph::empty())),
            space,
            params,
        }
    }

    /// The construction parameters.
    pub fn params(&self) -> HnswParams {
        self.params
    }

    /// What the graph links.
    pub fn space(&self) -> Space {
        self.space
    }

    fn built(&self) -> usize {
        with_hnsw!(&self.builder, h => h.get_nb_point())
    }

    /// Points inserted so far, over all segments.
    pub fn len(&self) -> usize {
        self.frozen_len() + self.built()
    }

    /// Points in the segments loaded from a snapshot.
    pub fn frozen_len(&self) -> usize {
        self.frozen.iter().map(|g| g.len()).sum()
    }

    /// True when nothing has been inserted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The segments searches use (for snapshots).
    pub fn segments(&self) -> Vec<Arc<FlatGraph>> {
        let mut all = self.frozen.clone();
        let view = Arc::clone(&self.view.read());
        if !view.is_empty() {
            all.push(view);
        }
        all
    }

    /// Inserts points in parallel (rayon), then refreshes the flat copy that
    /// searches use. Rows of the wrong kind or length are skipped.
    pub fn insert_batch(&self, rows: &Rows) {
        let inserted = match (&self.builder, rows, self.space) {
            (Builder::Floats(h), Rows::Floats(rows), Space::Floats { dims, .. }) => {
                insert(h, rows, dims)
            }
            (Builder::Words(h), Rows::Words(rows), Space::Codes(spec)) => {
                insert(h, rows, spec.words())
            }
            _ => 0,
        };
        if inserted > 0 {
            *self.view.write() = Arc::new(self.freeze());
        }
    }

    /// Copies the `hnsw_rs` graph into flat arrays.
    fn freeze(&self) -> FlatGraph {
        with_hnsw!(&self.builder, h => freeze(h))
    }

    /// The `k` best offsets by `scorer` accepted by `accept`, best first, with
    /// the scorer's scores, over every segment. The scorer must cover every
    /// offset in the graph.
    ///
    /// `ef` is clamped to at least `k`. With a very selective `accept` the walk can
    /// return fewer than `k`: the planner avoids sending such filters here.
    pub fn search<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        accept: Option<&dyn Fn(Offset) -> bool>,
    ) -> Vec<(Offset, f32)> {
        self.merge_segments(k, |segment| segment.search(scorer, k, ef, accept))
    }

    /// Like [`Graph::search`] with a filter, but each segment is walked only
    /// through accepted nodes ([`FlatGraph::search_within`]); `accept` must be
    /// cheap to call (a bitmap lookup).
    pub fn search_within<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        accept: &dyn Fn(Offset) -> bool,
    ) -> Vec<(Offset, f32)> {
        self.merge_segments(k, |segment| segment.search_within(scorer, k, ef, accept))
    }

    /// The `k` best of what `walk` finds in each non-empty segment.
    fn merge_segments(
        &self,
        k: usize,
        walk: impl Fn(&FlatGraph) -> Vec<(Offset, f32)>,
    ) -> Vec<(Offset, f32)> {
        if k == 0 {
            return Vec::new();
        }
        let view = Arc::clone(&self.view.read());
        let mut found: Vec<(Offset, f32)> = Vec::new();
        let mut searched = 0;
        for segment in self.frozen.iter().chain([&view]).filter(|g| !g.is_empty()) {
            found.extend(walk(segment));
            searched += 1;
        }
        if searched > 1 {
            found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            found.truncate(k);
        }
        found
    }

    /// Approximate heap bytes: `hnsw_rs`'s copy of its points and links, plus
    /// the flat segments.
    pub fn ram_bytes(&self) -> usize {
        let per_point = self.space.element_bytes() + 2 * self.params.m * 8 + 64;
        self.built() * per_point + self.segments().iter().map(|g| g.ram_bytes()).sum::<usize>()
    }
}

fn insert<T, D>(h: &Hnsw<'static, T, D>, rows: &[(Offset, Vec<T>)], len: usize) -> usize
where
    T: Clone + Send + Sync + serde::Serialize + std::fmt::Debug,
    D: Distance<T> + Send + Sync,
{
    let items: Vec<(&[T], usize)> = rows
        .iter()
        .filter(|(_, v)| v.len() == len)
        .map(|(offset, v)| (v.as_slice(), *offset as usize))
        .collect();
    if items.len() == 1 {
        h.insert_slice(items[0]);
    } else if !items.is_empty() {
        h.parallel_insert_slice(&items);
    }
    items.len()
}

fn freeze<T, D>(h: &Hnsw<'static, T, D>) -> FlatGraph
where
    T: Clone + Send + Sync + serde::Serialize + std::fmt::Debug,
    D: Distance<T> + Send + Sync,
{
    if h.get_nb_point() == 0 {
        return FlatGraph::empty();
    }
    let indexation = h.get_point_indexation();
    let top = usize::from(h.get_max_level_observed());
    let entry = indexation
        .get_layer_iterator(top)
        .next()
        .and_then(|p| Offset::try_from(p.get_origin_id()).ok());
    let nodes = indexation
        .into_iter()
        .filter_map(|point| {
            let offset = Offset::try_from(point.get_origin_id()).ok()?;
            let level = usize::from(point.get_point_id().0);
            let layers = point
                .get_neighborhood_id()
                .into_iter()
                .take(level + 1)
                .map(|layer| {
                    layer
                        .into_iter()
                        .filter_map(|n| Offset::try_from(n.d_id).ok())
                        .collect()
                })
                .collect();
            Some((offset, layers))
        })
        .collect();
    FlatGraph::from_adjacency(nodes, entry)
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
        let space = Space::Floats {
            dims,
            metric: Metric::Cosine,
        };
        let graph = Graph::new(HnswParams::default(), space, 200);
        let rows = Rows::Floats(
            vectors
                .iter()
                .enumerate()
                .map(|(i, v)| (i as Offset, v.clone()))
                .collect(),
        );
        graph.insert_batch(&rows);
        assert_eq!(graph.len(), 200);
        let flat: Vec<f32> = vectors.concat();
        let scorer = FloatScorer::new(&vectors[42], &flat, Metric::Cosine);
        let hits = graph.search(&scorer, 1, 64, None);
        assert!((hits[0].1 - 1.0).abs() < 1e-5);
        let even = |o: Offset| o.is_multiple_of(2);
        let scorer = FloatScorer::new(&vectors[43], &flat, Metric::Cosine);
        let hits = graph.search(&scorer, 10, 64, Some(&even));
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|(o, _)| o.is_multiple_of(2)));
        assert!(hits.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
    }
}
