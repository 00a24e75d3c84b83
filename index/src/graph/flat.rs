//! A frozen, flat copy of an HNSW graph, and the search over it.
//!
//! `hnsw_rs` builds the graph; its node lists sit behind a lock per node and an
//! `Arc` per link, and its search allocates, so every query pays for structure
//! it only needs while inserting. After each batch of inserts the graph is
//! copied into this form: layer 0 as one array with a fixed stride per offset
//! (degree, then links, as hnswlib lays it out), the sparse upper layers as maps.
//! Vectors are not copied: searches read the collection's own vector array, so
//! each vector is stored once for search.
//!
//! The search is the paper's (greedy descent through the upper layers, then a
//! best-first beam of width `ef` on layer 0) with hnswlib's treatment of a
//! filter: rejected nodes are walked through but never enter the results. The
//! per-query buffers (visited marks, heaps) live in a per-thread scratch and are
//! reused, so a query allocates only its answer.

use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use super::Scorer;
use crate::types::Offset;

/// Links of one upper layer.
#[derive(Debug, Default, Clone, PartialEq)]
struct UpperLayer {
    /// Node → (start, count) in `links`.
    nodes: HashMap<Offset, (u32, u32)>,
    links: Vec<Offset>,
}

impl UpperLayer {
    fn links(&self, node: Offset) -> &[Offset] {
        self.nodes.get(&node).map_or(&[], |&(start, count)| {
            &self.links[start as usize..(start + count) as usize]
        })
    }
}

/// One node's links, layer 0 first.
pub(crate) type Adjacency = (Offset, Vec<Vec<Offset>>);

/// A read-only HNSW graph over offsets `[0, span)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatGraph {
    /// Layer 0: `stride` words per offset: 0 for an offset that is not a node,
    /// else 1 + its degree; then the links.
    stride: usize,
    base: Vec<u32>,
    /// `upper[l - 1]` is layer `l`.
    upper: Vec<UpperLayer>,
    entry: Option<Offset>,
    nodes: usize,
}

impl FlatGraph {
    /// An empty graph.
    pub fn empty() -> Self {
        Self {
            stride: 1,
            base: Vec::new(),
            upper: Vec::new(),
            entry: None,
            nodes: 0,
        }
    }

    /// Builds from each node's links. The entry point is a node of the highest
    /// layer, `preferred` if it is one. Links to offsets that are not nodes are dropped.
    pub(crate) fn from_adjacency(mut nodes: Vec<Adjacency>, preferred: Option<Offset>) -> Self {
        if nodes.is_empty() {
            return Self::empty();
        }
        nodes.sort_unstable_by_key(|(o, _)| *o);
        nodes.dedup_by_key(|(o, _)| *o);
        let span = nodes.last().map_or(0, |(o, _)| *o as usize + 1);
        let mut present = vec![false; span];
        for (o, _) in &nodes {
            present[*o as usize] = true;
        }
        let is_node = |o: &Offset| (*o as usize) < span && present[*o as usize];
        let top = nodes
            .iter()
            .map(|(_, layers)| layers.len().saturating_sub(1))
            .max()
            .unwrap_or(0);
        let entry = preferred
            .and_then(|p| {
                nodes
                    .binary_search_by_key(&p, |(o, _)| *o)
                    .ok()
                    .filter(|&i| nodes[i].1.len().saturating_sub(1) == top)
                    .map(|_| p)
            })
            .or_else(|| {
                nodes
                    .iter()
                    .find(|(_, layers)| layers.len().saturating_sub(1) == top)
                    .map(|(o, _)| *o)
            });
        let max_degree = nodes
            .iter()
            .map(|(_, layers)| layers.first().map_or(0, Vec::len))
            .max()
            .unwrap_or(0);
        let stride = max_degree + 1;
        let mut base = vec![0u32; span * stride];
        let mut upper = vec![UpperLayer::default(); top];
        for (o, layers) in &nodes {
            for (level, links) in layers.iter().enumerate() {
                let links = links.iter().copied().filter(|l| is_node(l) && l != o);
                if level == 0 {
                    let row = &mut base[*o as usize * stride..(*o as usize + 1) * stride];
                    let mut degree = 0;
                    for (slot, link) in row[1..].iter_mut().zip(links) {
                        *slot = link;
                        degree += 1;
                    }
                    row[0] = degree + 1;
                } else {
                    let layer = &mut upper[level - 1];
                    let start = layer.links.len() as u32;
                    layer.links.extend(links);
                    let count = layer.links.len() as u32 - start;
                    layer.nodes.insert(*o, (start, count));
                }
            }
        }
        Self {
            stride,
            base,
            upper,
            entry,
            nodes: nodes.len(),
        }
    }

    /// Each node's links, layer 0 first.
    pub(crate) fn adjacency(&self) -> Vec<Adjacency> {
        let mut out: Vec<Adjacency> = Vec::with_capacity(self.nodes);
        let mut index: HashMap<Offset, usize> = HashMap::new();
        for o in 0..self.span() {
            let o = o as Offset;
            if self.contains(o) {
                index.insert(o, out.len());
                out.push((o, vec![self.links0(o).to_vec()]));
            }
        }
        for layer in &self.upper {
            let mut nodes: Vec<_> = layer.nodes.keys().copied().collect();
            nodes.sort_unstable();
            for o in nodes {
                if let Some(&i) = index.get(&o) {
                    out[i].1.push(layer.links(o).to_vec());
                }
            }
        }
        out
    }

    /// The same graph with offsets renumbered by `map`; nodes it maps to `None`
    /// are dropped with their links.
    pub fn remap(&self, map: impl Fn(Offset) -> Option<Offset>) -> Self {
        let nodes = self
            .adjacency()
            .into_iter()
            .filter_map(|(o, layers)| {
                let o = map(o)?;
                let layers = layers
                    .into_iter()
                    .map(|links| links.into_iter().filter_map(&map).collect())
                    .collect();
                Some((o, layers))
            })
            .collect();
        Self::from_adjacency(nodes, self.entry.and_then(&map))
    }

    /// The node searches start from (on the top layer).
    pub fn entry(&self) -> Option<Offset> {
        self.entry
    }

    /// Nodes in the graph.
    pub fn len(&self) -> usize {
        self.nodes
    }

    /// True without nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes == 0
    }

    /// One past the largest offset in the graph.
    pub fn span(&self) -> usize {
        self.base.len() / self.stride
    }

    /// Whether `offset` is a node.
    pub fn contains(&self, offset: Offset) -> bool {
        (offset as usize) < self.span() && self.base[offset as usize * self.stride] > 0
    }

    /// Approximate heap bytes.
    pub fn ram_bytes(&self) -> usize {
        self.base.len() * 4
            + self
                .upper
                .iter()
                .map(|l| l.links.len() * 4 + l.nodes.len() * 24)
                .sum::<usize>()
    }

    #[inline]
    fn links0(&self, node: Offset) -> &[Offset] {
        let row = &self.base[node as usize * self.stride..(node as usize + 1) * self.stride];
        &row[1..row[0].max(1) as usize]
    }

    /// The `k` best offsets by `scorer` among nodes accepted by `accept`, best
    /// first, with the scorer's scores. The scorer must cover [`FlatGraph::span`].
    pub fn search<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        accept: Option<&dyn Fn(Offset) -> bool>,
    ) -> Vec<(Offset, f32)> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if k == 0 {
            return Vec::new();
        }
        let ef = ef.max(k);
        let sim = |o: Offset| scorer.score(o);
        let current = self.descend(scorer, entry);
        let best = sim(current);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch {
                visited,
                candidates,
                results,
                found,
                ..
            } = &mut *scratch;
            let accepted = accept.is_none_or(|a| a(current));
            start(
                self.span(),
                Scored(best, current),
                accepted,
                visited,
                candidates,
                results,
            );
            while let Some(Scored(score, node)) = candidates.pop() {
                let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.0);
                if results.len() >= ef && score < worst {
                    break;
                }
                // The unvisited neighbours first, so that only vectors
                // about to be scored are prefetched (a visited neighbour's
                // 1.5 KB would be fetched for nothing).
                found.clear();
                found.extend(self.links0(node).iter().filter(|&&n| visited.insert(n)));
                if let Some(&first) = found.first() {
                    scorer.prefetch(first);
                }
                for (i, &n) in found.iter().enumerate() {
                    if let Some(&next) = found.get(i + 1) {
                        scorer.prefetch(next);
                    }
                    let s = sim(n);
                    let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.0);
                    if results.len() < ef || s > worst {
                        candidates.push(Scored(s, n));
                        if accept.is_none_or(|a| a(n)) {
                            results.push(Reverse(Scored(s, n)));
                            if results.len() > ef {
                                results.pop();
                            }
                        }
                    }
                }
            }
            best_first(results, k)
        })
    }

    /// The `k` best offsets by `scorer` among nodes accepted by `accept`, best
    /// first, moving **only through accepted nodes**: a popped node's
    /// accepted neighbours are scored, and while fewer than its degree were
    /// found, the accepted neighbours of its rejected neighbours too (the
    /// two-hop expansion of ACORN-1, Patel et al., 2024), so the walk stays
    /// connected inside the accepted subgraph without scoring a rejected node.
    ///
    /// Where a filter is correlated with the query's neighbourhood (the nearest
    /// matches far from the query), walking through rejected nodes
    /// ([`FlatGraph::search`]) scores a large region of non-matching nodes
    /// before it has `ef` matches; this walk scores matches only, at the cost
    /// of more filter checks, so `accept` must be cheap (a bitmap). Until the
    /// first accepted node is found, the walk goes through every neighbour
    /// (as [`FlatGraph::search`] does), so it starts from the accepted nodes
    /// nearest the query wherever the layer-0 entry is.
    pub fn search_within<S: Scorer>(
        &self,
        scorer: &S,
        k: usize,
        ef: usize,
        accept: &dyn Fn(Offset) -> bool,
    ) -> Vec<(Offset, f32)> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        if k == 0 {
            return Vec::new();
        }
        let ef = ef.max(k);
        let current = self.descend(scorer, entry);
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let Scratch {
                visited,
                candidates,
                results,
                found,
                bridges,
            } = &mut *scratch;
            let first = Scored(scorer.score(current), current);
            start(
                self.span(),
                first,
                accept(current),
                visited,
                candidates,
                results,
            );
            while let Some(Scored(score, node)) = candidates.pop() {
                let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.0);
                if results.len() >= ef && score < worst {
                    break;
                }
                found.clear();
                if results.is_empty() {
                    // Not in the accepted subgraph yet: walk through every
                    // neighbour (rejected ones too) until a match turns up.
                    for &n in self.links0(node) {
                        if visited.insert(n) {
                            found.push(n);
                        }
                    }
                    for (i, &n) in found.iter().enumerate() {
                        if let Some(&next) = found.get(i + 1) {
                            scorer.prefetch(next);
                        }
                        let s = scorer.score(n);
                        candidates.push(Scored(s, n));
                        if accept(n) {
                            results.push(Reverse(Scored(s, n)));
                        }
                    }
                    while results.len() > ef {
                        results.pop();
                    }
                } else {
                    self.accepted_neighbours(node, accept, visited, found, bridges);
                    self.score_into(scorer, found, ef, candidates, results);
                }
            }
            best_first(results, k)
        })
    }

    /// Greedy descent through the upper layers from `entry`: the layer-0 node
    /// to start from.
    fn descend<S: Scorer>(&self, scorer: &S, entry: Offset) -> Offset {
        let mut current = entry;
        let mut best = scorer.score(entry);
        for layer in self.upper.iter().rev() {
            loop {
                let mut moved = false;
                for &n in layer.links(current) {
                    let s = scorer.score(n);
                    if s > best {
                        best = s;
                        current = n;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        current
    }

    /// Appends to `found` the unvisited accepted neighbours of `node`, then,
    /// while fewer than its degree were found, those of its unvisited rejected
    /// neighbours. Marks every node it checks as visited.
    fn accepted_neighbours(
        &self,
        node: Offset,
        accept: &dyn Fn(Offset) -> bool,
        visited: &mut Visited,
        found: &mut Vec<Offset>,
        bridges: &mut Vec<Offset>,
    ) {
        let links = self.links0(node);
        let want = found.len() + links.len();
        bridges.clear();
        for &n in links {
            if visited.insert(n) {
                if accept(n) {
                    found.push(n);
                } else {
                    bridges.push(n);
                }
            }
        }
        'bridges: for &b in bridges.iter() {
            for &n in self.links0(b) {
                if found.len() >= want {
                    break 'bridges;
                }
                if visited.insert(n) && accept(n) {
                    found.push(n);
                }
            }
        }
    }

    /// Scores `nodes` (prefetching ahead) into the beam of width `ef`.
    fn score_into<S: Scorer>(
        &self,
        scorer: &S,
        nodes: &[Offset],
        ef: usize,
        candidates: &mut BinaryHeap<Scored>,
        results: &mut BinaryHeap<Reverse<Scored>>,
    ) {
        for (i, &n) in nodes.iter().enumerate() {
            if let Some(&next) = nodes.get(i + 1) {
                scorer.prefetch(next);
            }
            let s = scorer.score(n);
            let worst = results.peek().map_or(f32::NEG_INFINITY, |r| r.0.0);
            if results.len() < ef || s > worst {
                candidates.push(Scored(s, n));
                results.push(Reverse(Scored(s, n)));
                if results.len() > ef {
                    results.pop();
                }
            }
        }
    }

    /// Appends the graph to `out`:
    /// `stride:u32 span:u32 nodes:u64 entry:u32 base:u32*(span·stride) layers:u32
    /// { count:u32 { node:u32 degree:u32 link:u32* }* }*`.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let put = |out: &mut Vec<u8>, x: u32| out.extend_from_slice(&x.to_le_bytes());
        put(out, self.stride as u32);
        put(out, self.span() as u32);
        out.extend_from_slice(&(self.nodes as u64).to_le_bytes());
        put(out, self.entry.unwrap_or(NO_ENTRY));
        for &w in &self.base {
            put(out, w);
        }
        put(out, self.upper.len() as u32);
        for layer in &self.upper {
            put(out, layer.nodes.len() as u32);
            let mut nodes: Vec<_> = layer.nodes.keys().copied().collect();
            nodes.sort_unstable();
            for node in nodes {
                let links = layer.links(node);
                put(out, node);
                put(out, links.len() as u32);
                for &l in links {
                    put(out, l);
                }
            }
        }
    }

    /// Reads what [`FlatGraph::encode`] wrote, checking every link against the
    /// span; `None` if the bytes do not describe a graph.
    pub(crate) fn decode(r: &mut impl WordReader) -> Option<Self> {
        let stride = r.u32()? as usize;
        let span = r.u32()? as usize;
        let nodes = usize::try_from(r.u64()?).ok()?;
        let entry = Some(r.u32()?).filter(|&e| e != NO_ENTRY);
        if stride == 0 || nodes > span || entry.is_some_and(|e| e as usize >= span) {
            return None;
        }
        let words = span.checked_mul(stride)?;
        let mut base = Vec::with_capacity(words.min(1 << 26));
        for _ in 0..words {
            base.push(r.u32()?);
        }
        for row in base.chunks_exact(stride) {
            let end = row[0].max(1) as usize;
            if end > stride || row[1..end].iter().any(|&l| l as usize >= span) {
                return None;
            }
        }
        let present = base.chunks_exact(stride).filter(|row| row[0] > 0).count();
        if present != nodes || entry.is_some_and(|e| base[e as usize * stride] == 0) {
            return None;
        }
        let layers = r.u32()? as usize;
        if layers > 64 {
            return None;
        }
        let mut upper = Vec::with_capacity(layers);
        for _ in 0..layers {
            let count = r.u32()? as usize;
            let mut layer = UpperLayer::default();
            for _ in 0..count {
                let node = r.u32()?;
                let degree = r.u32()?;
                if node as usize >= span || degree as usize > span {
                    return None;
                }
                let start = layer.links.len() as u32;
                for _ in 0..degree {
                    let l = r.u32()?;
                    if l as usize >= span {
                        return None;
                    }
                    layer.links.push(l);
                }
                layer.nodes.insert(node, (start, degree));
            }
            upper.push(layer);
        }
        Some(Self {
            stride,
            base,
            upper,
            entry,
            nodes,
        })
    }
}

const NO_ENTRY: u32 = u32::MAX;

/// Resets the per-query buffers and seeds the beam with the layer-0 start.
fn start(
    span: usize,
    first: Scored,
    accepted: bool,
    visited: &mut Visited,
    candidates: &mut BinaryHeap<Scored>,
    results: &mut BinaryHeap<Reverse<Scored>>,
) {
    visited.reset(span);
    candidates.clear();
    results.clear();
    visited.insert(first.1);
    candidates.push(first);
    if accepted {
        results.push(Reverse(first));
    }
}

/// The `k` best of the beam, best first (ties by offset).
fn best_first(results: &mut BinaryHeap<Reverse<Scored>>, k: usize) -> Vec<(Offset, f32)> {
    let mut found: Vec<(Offset, f32)> = results
        .drain()
        .map(|Reverse(Scored(s, o))| (o, s))
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    found.truncate(k);
    found
}

/// Little-endian words from a byte stream (the snapshot reader).
pub(crate) trait WordReader {
    /// The next `u32`.
    fn u32(&mut self) -> Option<u32>;
    /// The next `u64`.
    fn u64(&mut self) -> Option<u64>;
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Scored(f32, Offset);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// Visited marks by generation: clearing is one increment.
#[derive(Default)]
pub(super) struct Visited {
    marks: Vec<u32>,
    generation: u32,
}

impl Visited {
    pub(super) fn reset(&mut self, span: usize) {
        if self.marks.len() < span {
            self.marks.resize(span, 0);
        }
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.marks.iter_mut().for_each(|m| *m = 0);
            self.generation = 1;
        }
    }

    /// Marks `node`; false if it was marked already.
    #[inline]
    pub(super) fn insert(&mut self, node: Offset) -> bool {
        let mark = &mut self.marks[node as usize];
        if *mark == self.generation {
            false
        } else {
            *mark = self.generation;
            true
        }
    }
}

#[derive(Default)]
struct Scratch {
    visited: Visited,
    candidates: BinaryHeap<Scored>,
    results: BinaryHeap<Reverse<Scored>>,
    /// Accepted nodes to score next ([`FlatGraph::search_within`]).
    found: Vec<Offset>,
    /// Rejected neighbours to bridge over.
    bridges: Vec<Offset>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::Metric;
    use crate::graph::FloatScorer;

    struct Bytes<'a>(&'a [u8], usize);

    impl WordReader for Bytes<'_> {
        fn u32(&mut self) -> Option<u32> {
            let b = self.0.get(self.1..self.1 + 4)?;
            self.1 += 4;
            Some(u32::from_le_bytes(b.try_into().ok()?))
        }
        fn u64(&mut self) -> Option<u64> {
            let b = self.0.get(self.1..self.1 + 8)?;
            self.1 += 8;
            Some(u64::from_le_bytes(b.try_into().ok()?))
        }
    }

    /// A ring of 10 nodes on layer 0, every other node on layer 1, node 4 on layer 2.
    fn ring() -> FlatGraph {
        let nodes = (0..10u32)
            .map(|o| {
                let mut layers = vec![vec![(o + 1) % 10, (o + 9) % 10]];
                if o % 2 == 0 {
                    layers.push(vec![(o + 2) % 10, (o + 8) % 10]);
                }
                if o == 4 {
                    layers.push(vec![]);
                }
                (o, layers)
            })
            .collect();
        FlatGraph::from_adjacency(nodes, None)
    }

    /// The ring's points on a circle: neighbours on the ring are neighbours in space.
    fn circle() -> Vec<f32> {
        (0..10)
            .flat_map(|i| {
                let a = i as f32 / 10.0 * std::f32::consts::TAU;
                [a.cos(), a.sin()]
            })
            .collect()
    }

    #[test]
    fn adjacency_round_trips_and_the_entry_is_on_top() {
        let g = ring();
        assert_eq!(g.len(), 10);
        assert_eq!(g.entry, Some(4));
        let again = FlatGraph::from_adjacency(g.adjacency(), g.entry);
        assert_eq!(again, g);
        let mut bytes = Vec::new();
        g.encode(&mut bytes);
        assert_eq!(FlatGraph::decode(&mut Bytes(&bytes, 0)), Some(g.clone()));
        assert_eq!(
            FlatGraph::decode(&mut Bytes(&bytes[..bytes.len() - 1], 0)),
            None
        );
    }

    #[test]
    fn a_link_past_the_span_does_not_decode() {
        let mut bytes = Vec::new();
        ring().encode(&mut bytes);
        // The first link of node 0 (after stride, span, nodes, entry, degree).
        bytes[24..28].copy_from_slice(&99u32.to_le_bytes());
        assert_eq!(FlatGraph::decode(&mut Bytes(&bytes, 0)), None);
    }

    #[test]
    fn remap_drops_nodes_and_their_links() {
        let g = ring().remap(|o| (o != 4).then_some(if o > 4 { o - 1 } else { o }));
        assert_eq!(g.len(), 9);
        assert!(g.entry.is_some_and(|e| e != 4 || g.contains(e)));
        for (o, layers) in g.adjacency() {
            assert!(o < 9);
            assert!(layers.iter().flatten().all(|&l| l < 9 && l != o));
        }
    }

    #[test]
    fn search_walks_the_ring_and_honours_the_filter() {
        let g = ring();
        let vectors = circle();
        let query = [vectors[14], vectors[15]];
        let dot = FloatScorer::new(&query, &vectors, Metric::Dot);
        let hits = g.search(&dot, 3, 10, None);
        let ids: Vec<Offset> = hits.iter().map(|h| h.0).collect();
        assert_eq!(ids[0], 7);
        assert!(ids[1..].contains(&6) && ids[1..].contains(&8));
        let odd = |o: Offset| o % 2 == 1;
        let l2 = FloatScorer::new(&query, &vectors, Metric::L2);
        let hits = g.search(&l2, 2, 10, Some(&odd));
        assert!(hits.iter().all(|h| h.0 % 2 == 1));
        assert!(hits[0].1.abs() < 1e-3, "L2 score of the query's own point");
    }

    #[test]
    fn within_moves_only_through_accepted_nodes() {
        // On the ring, accept only even nodes: no two accepted nodes are
        // linked, so every step bridges over a rejected neighbour.
        let g = ring();
        let vectors = circle();
        let query = [vectors[2], vectors[3]];
        let scored = RefCell::new(Vec::new());
        struct Counting<'a>(FloatScorer<'a>, &'a RefCell<Vec<Offset>>);
        impl Scorer for Counting<'_> {
            fn score(&self, o: Offset) -> f32 {
                self.1.borrow_mut().push(o);
                self.0.score(o)
            }
            fn prefetch(&self, _: Offset) {}
        }
        let scorer = Counting(FloatScorer::new(&query, &vectors, Metric::Dot), &scored);
        let even = |o: Offset| o.is_multiple_of(2);
        let before_layer0 = {
            let entry = g.entry.unwrap();
            g.descend(&scorer, entry);
            scored.borrow().len()
        };
        scored.borrow_mut().clear();
        let hits = g.search_within(&scorer, 5, 10, &even);
        let mut ids: Vec<Offset> = hits.iter().map(|h| h.0).collect();
        // A query at node 1: 0 and 2 first (36° away), 4 and 8 (108°), then 6.
        assert_eq!(ids.len(), 5);
        assert_eq!(ids[4], 6);
        ids[..2].sort_unstable();
        ids[2..4].sort_unstable();
        assert_eq!(ids, vec![0, 2, 4, 8, 6]);
        // Past the descent, only accepted nodes (and the layer-0 start) were scored.
        let layer0: Vec<Offset> = scored.borrow()[before_layer0..].to_vec();
        let start = layer0.first().copied();
        assert!(
            layer0.iter().all(|&o| even(o) || Some(o) == start),
            "scored rejected nodes: {layer0:?}"
        );
        // Nothing accepted: nothing found, after walking through the rest.
        let none = |_: Offset| false;
        assert!(g.search_within(&scorer, 2, 10, &none).is_empty());
        // A lone accepted node far from the entry is found by walking through.
        let six = |o: Offset| o == 6;
        assert_eq!(g.search_within(&scorer, 1, 10, &six)[0].0, 6);
    }
}
