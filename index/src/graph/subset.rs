//! A graph over a subset of a segment's offsets: the points holding one
//! payload value (a *value graph*).
//!
//! A filter correlated with the query's neighbourhood (a query's neighbours
//! mostly hold one value, the filter asks for another) leaves the segment's
//! graph a poor road to the matches: the walk either scores the whole
//! non-matching region near the query or, moving only through matches,
//! bridges over rejected nodes at the cost of many filter checks and a wider
//! beam. Qdrant answers this with extra links among the points of each
//! indexed payload value; here the points of such a value get a graph of
//! their own, so a filter that selects within the value walks a graph whose
//! every node may match. Nodes are numbered locally (`0..len`, in offset
//! order) so the graph's arrays are the size of the subset, not the segment.

use roaring::RoaringBitmap;

use super::build::{BuildSpace, build_unless};
use super::flat::{FlatGraph, WordReader};
use super::{HnswParams, Scorer};
use crate::types::Offset;

/// An HNSW graph over some offsets of a segment, in local numbering.
#[derive(Debug, Clone, PartialEq)]
pub struct SubsetGraph {
    /// Local node `i` is offset `nodes[i]`; ascending.
    nodes: Vec<Offset>,
    /// The same offsets, for subset checks.
    set: RoaringBitmap,
    graph: FlatGraph,
}

/// A build space seen through the local numbering.
struct Local<'a> {
    space: &'a dyn BuildSpace,
    nodes: &'a [Offset],
}

impl BuildSpace for Local<'_> {
    #[inline]
    fn distance(&self, a: Offset, b: Offset) -> f32 {
        self.space
            .distance(self.nodes[a as usize], self.nodes[b as usize])
    }

    #[inline]
    fn prefetch(&self, a: Offset) {
        self.space.prefetch(self.nodes[a as usize]);
    }
}

/// A scorer seen through the local numbering.
struct LocalScorer<'a, S> {
    scorer: &'a S,
    nodes: &'a [Offset],
}

impl<S: Scorer> Scorer for LocalScorer<'_, S> {
    #[inline]
    fn score(&self, local: Offset) -> f32 {
        self.scorer.score(self.nodes[local as usize])
    }

    #[inline]
    fn prefetch(&self, local: Offset) {
        self.scorer.prefetch(self.nodes[local as usize]);
    }
}

impl SubsetGraph {
    /// Builds the graph over `set` (offsets into `space`), or `None` once
    /// `cancelled` says so.
    pub fn build_unless(
        space: &dyn BuildSpace,
        set: &RoaringBitmap,
        params: HnswParams,
        seed: u64,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Option<Self> {
        let nodes: Vec<Offset> = set.iter().collect();
        let local: Vec<Offset> = (0..nodes.len() as Offset).collect();
        let graph = build_unless(
            &Local {
                space,
                nodes: &nodes,
            },
            &local,
            params,
            seed,
            cancelled,
        )?;
        Some(Self {
            nodes,
            set: set.clone(),
            graph,
        })
    }

    /// Offsets it holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether every offset of `other` is one of its nodes.
    pub fn covers(&self, other: &RoaringBitmap) -> bool {
        other.len() <= self.set.len() && other.is_subset(&self.set)
    }

    /// The offsets it holds.
    pub fn set(&self) -> &RoaringBitmap {
        &self.set
    }

    /// Approximate heap bytes.
    pub fn ram_bytes(&self) -> usize {
        self.nodes.len() * 4 + self.set.serialized_size() + self.graph.ram_bytes()
    }

    /// The `k` best offsets by `scorer` among the nodes `accept`ed, best
    /// first: walking through rejected nodes ([`FlatGraph::search`]) when
    /// `within` is false (few are rejected: deleted points), else only
    /// through accepted ones ([`FlatGraph::search_within`]).
    pub fn search<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        accept: &dyn Fn(Offset) -> bool,
        within: bool,
    ) -> Vec<(Offset, f32)> {
        let local = LocalScorer {
            scorer,
            nodes: &self.nodes,
        };
        let accept = |l: Offset| accept(self.nodes[l as usize]);
        let found = if within {
            self.graph.search_within(&local, k, ef, &accept)
        } else {
            self.graph.search(&local, k, ef, Some(&accept))
        };
        found
            .into_iter()
            .map(|(l, s)| (self.nodes[l as usize], s))
            .collect()
    }

    /// Appends `nodes:u32 offset:u32* graph` ([`FlatGraph::encode`]).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.nodes.len() as u32).to_le_bytes());
        for o in &self.nodes {
            out.extend_from_slice(&o.to_le_bytes());
        }
        self.graph.encode(out);
    }

    /// Reads what [`SubsetGraph::encode`] wrote; `None` unless the offsets
    /// ascend below `span` and the graph covers exactly the local numbering.
    pub(crate) fn decode(r: &mut impl WordReader, span: usize) -> Option<Self> {
        let len = r.u32()? as usize;
        if len > span {
            return None;
        }
        let mut nodes = Vec::with_capacity(len);
        for _ in 0..len {
            nodes.push(r.u32()?);
        }
        let ascending = nodes.windows(2).all(|w| w[0] < w[1]);
        if !ascending || nodes.last().is_some_and(|&o| o as usize >= span) {
            return None;
        }
        let graph = FlatGraph::decode(r)?;
        if graph.span() > len {
            return None;
        }
        Some(Self {
            set: nodes.iter().copied().collect(),
            nodes,
            graph,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::Metric;
    use crate::graph::FloatScorer;

    struct Rows(Vec<f32>, usize);

    impl BuildSpace for Rows {
        fn distance(&self, a: Offset, b: Offset) -> f32 {
            let row = |o: Offset| &self.0[o as usize * self.1..(o as usize + 1) * self.1];
            Metric::Cosine.distance(row(a), row(b))
        }
    }

    fn circle(n: usize) -> Vec<f32> {
        (0..n)
            .flat_map(|i| {
                let a = i as f32 / n as f32 * std::f32::consts::TAU;
                [a.cos(), a.sin()]
            })
            .collect()
    }

    #[test]
    fn searches_its_subset_in_segment_offsets_and_round_trips() {
        let vectors = circle(600);
        let set: RoaringBitmap = (0..600u32).filter(|o| o % 3 == 0).collect();
        let sub = SubsetGraph::build_unless(
            &Rows(vectors.clone(), 2),
            &set,
            HnswParams::default(),
            1,
            &|| false,
        )
        .unwrap();
        assert_eq!(sub.len(), 200);
        assert!(sub.covers(&(0..600u32).filter(|o| o % 6 == 0).collect()));
        assert!(!sub.covers(&[1u32].into_iter().collect()));
        // The query sits on point 301: its nearest members are 300, 303, 297.
        let query = vectors[602..604].to_vec();
        let scorer = FloatScorer::new(&query, &vectors, Metric::Cosine);
        let hits = sub.search(&scorer, 3, 32, &|_| true, false);
        let offsets: Vec<Offset> = hits.iter().map(|h| h.0).collect();
        assert_eq!(offsets[0], 300);
        assert!(offsets.iter().all(|o| o % 3 == 0), "{offsets:?}");
        // Within a narrower filter, moving only through its nodes.
        let even = |o: Offset| o.is_multiple_of(2);
        let hits = sub.search(&scorer, 2, 32, &even, true);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![300, 306]);
        let mut bytes = Vec::new();
        sub.encode(&mut bytes);
        let mut r = crate::collection::record::Reader {
            bytes: &bytes,
            at: 0,
        };
        assert_eq!(SubsetGraph::decode(&mut r, 600), Some(sub.clone()));
        let mut r = crate::collection::record::Reader {
            bytes: &bytes,
            at: 0,
        };
        assert_eq!(
            SubsetGraph::decode(&mut r, 500),
            None,
            "an offset past the span"
        );
    }
}
