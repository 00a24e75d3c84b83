//! Value graphs: per sealed float segment, a graph over the points of each
//! payload value worth one ([`worth_a_graph`]), built at sealing, stored in
//! the segment's `values` file, and walked by a filter whose matches all
//! hold that value ([`walk`]). See [`SubsetGraph`].

use std::path::Path;

use roaring::RoaringBitmap;

use super::record::Reader;
use super::search;
use crate::SearchQuery;
use crate::error::Result;
use crate::graph::{BuildSpace, HnswParams, Scorer, SubsetGraph};
use crate::payload_index::PayloadIndex;
use crate::planner::{self, Strategy};
use crate::storage::{StorageError, read_file};
use crate::types::Offset;

/// A graph over the points of a segment holding one value of an indexed
/// payload field ([`SubsetGraph`]): a filter that selects within the value
/// walks it instead of the segment's graph. Built at sealing for the values
/// [`worth_a_graph`] picks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueGraph {
    pub(crate) field: String,
    pub(crate) value: serde_json::Value,
    pub(crate) graph: SubsetGraph,
}

/// Whether the `count` of `total` points of a float-layout segment that
/// hold one payload value are worth a graph of their own
/// ([`ValueGraph`]), built at sealing: when the planner
/// would walk the segment's graph for a filter matching exactly them (a
/// scan of them costs more), and they are fewer than
/// [`planner::WITHIN_EF_SHARE`] of the points, below which the walk inside
/// the filter widens its beam and bridges over ever more rejected nodes.
/// On 100,000 384-d vectors at `M` 16 that is ~9 % to 25 % of the points.
pub(super) fn worth_a_graph(count: usize, total: usize, m: usize) -> bool {
    let share = count as f64 / total.max(1) as f64;
    count > search::EXACT_THRESHOLD
        && share < planner::WITHIN_EF_SHARE
        && matches!(
            planner::choose(
                &planner::CardinalityEstimation::exact(count),
                total,
                DEFAULT_LIMIT,
                search::DEFAULT_EF,
                search::EXACT_THRESHOLD,
                m,
                planner::FLOAT_WALK,
            ),
            Strategy::Graph { .. }
        )
}

/// The `limit` the planner's thresholds are weighed for.
const DEFAULT_LIMIT: usize = 10;

/// The graphs over the points of each payload value of `index` worth one
/// ([`worth_a_graph`]) among `holding` (the points
/// with the vector), in `space`; `None` once `cancelled` says so.
pub(super) fn build(
    space: &dyn BuildSpace,
    index: &PayloadIndex,
    holding: &RoaringBitmap,
    params: HnswParams,
    seed: u64,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Vec<ValueGraph>> {
    let total = holding.len() as usize;
    let mut out = Vec::new();
    for field in index.schema().keys() {
        let Some(values) = index.values(field) else {
            continue;
        };
        for (value, bitmap) in values {
            let set = bitmap & holding;
            if !worth_a_graph(set.len() as usize, total, params.m) {
                continue;
            }
            let seed = seed ^ (out.len() as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let graph = SubsetGraph::build_unless(space, &set, params, seed, cancelled)?;
            out.push(ValueGraph {
                field: field.clone(),
                value,
                graph,
            });
        }
    }
    Some(out)
}

/// The body of a `values` file.
pub(super) fn encode(graphs: &[ValueGraph]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&(graphs.len() as u32).to_le_bytes());
    for g in graphs {
        let header = serde_json::to_vec(&(&g.field, &g.value)).unwrap_or_default();
        body.extend_from_slice(&(header.len() as u32).to_le_bytes());
        body.extend_from_slice(&header);
        g.graph.encode(&mut body);
    }
    body
}

/// Reads a `values` file (`kind`, `version`) of a segment of `span` points.
pub(super) fn read(
    path: &Path,
    kind: [u8; 4],
    version: u16,
    span: usize,
) -> Result<Vec<ValueGraph>> {
    let corrupt = |reason: &str| StorageError::corrupt(path, reason);
    let (_, body) = read_file(path, kind, version)?;
    let mut r = Reader {
        bytes: &body,
        at: 0,
    };
    let count = r.u32().ok_or_else(|| corrupt("no count"))?;
    let mut out = Vec::new();
    for _ in 0..count {
        let header = r
            .u32()
            .and_then(|len| r.take(len as usize))
            .ok_or_else(|| corrupt("truncated"))?;
        let (field, value): (String, serde_json::Value) = serde_json::from_slice(header)
            .map_err(|_| corrupt("a value graph's field and value do not decode"))?;
        let graph = SubsetGraph::decode(&mut r, span)
            .ok_or_else(|| corrupt("a value graph does not decode or does not fit the segment"))?;
        out.push(ValueGraph {
            field,
            value,
            graph,
        });
    }
    if r.at != body.len() {
        return Err(corrupt("bytes after the last value graph").into());
    }
    Ok(out)
}

/// The smallest of `values` holding every point of `set` (a resolved
/// filter's matches), if any.
pub(super) fn covering<'a>(
    values: &'a [ValueGraph],
    set: &RoaringBitmap,
) -> Option<&'a SubsetGraph> {
    values
        .iter()
        .map(|v| &v.graph)
        .filter(|g| g.covers(set))
        .min_by_key(|g| g.len())
}

/// A graph walk on a value graph covering a filter's matches `set` (of
/// the segment's `live` points, `m` links a node):
/// the planner weighs a walk of it (its own points the whole, `set` a
/// share of them) against a scan of `set`. Through every node when
/// only deleted points fall outside the filter, else only through
/// matches. `None` when the scan wins or the walk came back short.
pub(super) fn walk<S: Scorer>(
    graph: &SubsetGraph,
    set: &RoaringBitmap,
    live: &RoaringBitmap,
    m: usize,
    query: &SearchQuery<'_>,
    scorer: &S,
    k: usize,
) -> Option<Vec<(Offset, f32)>> {
    if query.exact {
        return None;
    }
    let matched = set.len() as usize;
    let strategy = planner::choose(
        &planner::CardinalityEstimation::exact(matched),
        graph.len(),
        k,
        query.ef.unwrap_or(search::DEFAULT_EF),
        search::EXACT_THRESHOLD,
        m,
        planner::FLOAT_WALK,
    );
    let Strategy::Graph { ef } = strategy else {
        return None;
    };
    let within = graph.set().intersection_len(live) > set.len();
    let accept = |o: Offset| set.contains(o);
    let found = graph.search(scorer, k, query.ef.unwrap_or(ef), &accept, within);
    (found.len() >= k.min(matched)).then_some(found)
}
