//! Reading a collection by id and by payload rather than by similarity:
//! scroll (pages in id order), count and facet counts.
//!
//! Every answer is read from one segment set (as a search is) plus the
//! appendable segment as it is when read. A point being replaced can, for
//! the instant its upsert is applied, be live both in the appendable segment
//! and in an older one; it is counted and returned once, as its newest copy.

use std::collections::{BTreeMap, HashMap};

use roaring::RoaringBitmap;
use serde_json::Value;

use super::Collection;
use super::points::Points;
use super::search::{Filled, View};
use super::set::SegmentSet;
use crate::error::{IndexError, Result};
use crate::filter::{Filter, FilterLimits};
use crate::planner;
use crate::sparse::SparseVector;
use crate::{Offset, Payload, PointId};

/// The most points one scroll page returns.
pub const MAX_SCROLL_LIMIT: usize = 10_000;

/// The most values one facet answer lists.
pub const MAX_FACET_LIMIT: usize = 10_000;

/// A stored point as a scroll returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    /// The id.
    pub id: PointId,
    /// The payload, when asked for.
    pub payload: Option<Payload>,
    /// The stored unnamed vector (normalised for cosine; token vectors one
    /// after another for a multivector layout), when asked for and held.
    pub vector: Option<Vec<f32>>,
    /// The named vectors it holds, when asked for.
    pub vectors: BTreeMap<String, Vec<f32>>,
    /// The sparse vectors it holds, when asked for.
    pub sparse: BTreeMap<String, SparseVector>,
}

/// One page of a scroll.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrollPage {
    /// Up to `limit` points, in id order.
    pub points: Vec<StoredPoint>,
    /// The id to continue after (`None`: the scroll is complete).
    pub next: Option<PointId>,
}

/// What a scroll asks for.
#[derive(Debug, Clone, Copy)]
pub struct ScrollQuery<'a> {
    /// Only points matching this filter.
    pub filter: Option<&'a Filter>,
    /// Only points whose id comes after this one (ids are ordered: integers
    /// by value, then UUIDs).
    pub after: Option<&'a PointId>,
    /// Points per page (1 to [`MAX_SCROLL_LIMIT`]).
    pub limit: usize,
    /// Return payloads.
    pub with_payload: bool,
    /// Return stored vectors.
    pub with_vector: bool,
}

/// A count of points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// The number of points.
    pub count: usize,
    /// Whether `count` is exact (else the planner's estimate).
    pub exact: bool,
}

/// Which points of one segment match: all live ones, a resolved set, or
/// those whose payload passes a check.
enum Matcher<'f> {
    All,
    Set(RoaringBitmap),
    Check(&'f Filter),
}

impl<'a> View<'a> {
    fn matcher<'f>(&self, filter: Option<&'f Filter>) -> Matcher<'f> {
        let Some(filter) = filter else {
            return Matcher::All;
        };
        let points = self.points;
        let ids = |id: &PointId| points.offset_of(id);
        match planner::resolve(filter, self.index, &ids, self.live) {
            Some(set) => Matcher::Set(set),
            None => Matcher::Check(filter),
        }
    }

    /// Whether the live offset `o` matches.
    fn passes(&self, matcher: &Matcher<'_>, o: Offset) -> bool {
        match matcher {
            Matcher::All => true,
            Matcher::Set(set) => set.contains(o),
            Matcher::Check(filter) => filter.matches(
                &self.points.by_offset.get(o),
                self.points.payloads.get(o).as_deref(),
            ),
        }
    }

    /// The live offsets matching `filter`.
    fn matching_bitmap(&self, filter: Option<&Filter>) -> RoaringBitmap {
        match self.matcher(filter) {
            Matcher::All => self.live.clone(),
            Matcher::Set(set) => set,
            matcher @ Matcher::Check(_) => self
                .live
                .iter()
                .filter(|&o| self.passes(&matcher, o))
                .collect(),
        }
    }

    /// Offers this segment's first `cap` matching points after `after` (in
    /// id order) to `page`.
    fn scroll_into(
        &self,
        segment: usize,
        filter: Option<&Filter>,
        after: Option<&PointId>,
        page: &mut Page,
    ) {
        let matcher = self.matcher(filter);
        if let Matcher::Set(set) = &matcher
            && set.is_empty()
        {
            return;
        }
        let points = self.points;
        let past = |id: &PointId| after.is_none_or(|a| id > a);
        if points.sorted.is_empty() {
            for o in self.live {
                let id = points.by_offset.get(o);
                if past(&id) && self.passes(&matcher, o) {
                    page.offer(id, segment, o);
                }
            }
            return;
        }
        // A sealed segment lists its offsets in id order: start after
        // `after` and stop at the page's size.
        let start = after.map_or(0, |a| {
            points
                .sorted
                .partition_point(|&o| points.by_offset.get(o) <= *a)
        });
        let mut taken = 0;
        for &o in &points.sorted[start..] {
            if taken == page.cap {
                break;
            }
            if self.live.contains(o) && self.passes(&matcher, o) {
                let id = points.by_offset.get(o);
                if !page.offer(id, segment, o) {
                    break;
                }
                taken += 1;
            }
        }
    }
}

/// The smallest ids seen so far, at most `cap`, each with the newest
/// segment holding it.
struct Page {
    cap: usize,
    best: BTreeMap<PointId, (usize, Offset)>,
}

impl Page {
    /// Offers a point; false when it (and so any larger id) cannot enter.
    fn offer(&mut self, id: PointId, segment: usize, offset: Offset) -> bool {
        if self.best.len() >= self.cap
            && let Some((last, _)) = self.best.last_key_value()
            && id > *last
        {
            return false;
        }
        let at = self.best.entry(id).or_insert((segment, offset));
        if segment > at.0 {
            *at = (segment, offset);
        }
        if self.best.len() > self.cap {
            self.best.pop_last();
        }
        true
    }
}

impl Collection {
    /// The live points among `ids`, in their order (`None` for an id not
    /// stored), with payloads and vectors as asked: what a fused query
    /// returns for its final hits.
    pub fn fetch(
        &self,
        ids: &[PointId],
        with_payload: bool,
        with_vector: bool,
    ) -> Vec<Option<StoredPoint>> {
        let names = if with_vector {
            self.inner.config.read().names()
        } else {
            Vec::new()
        };
        let with_vector = with_vector.then_some(names.as_slice());
        let set = self.inner.segments();
        ids.iter()
            .map(|id| {
                set.find(id, |points, offset| {
                    let filled = Filled::read(points, offset, with_payload, with_vector);
                    StoredPoint {
                        id: id.clone(),
                        payload: filled.payload,
                        vector: filled.vector,
                        vectors: filled.vectors,
                        sparse: filled.sparse,
                    }
                })
            })
            .collect()
    }

    /// One page of the points in id order, after `query.after`.
    ///
    /// Paging with each page's `next` returns every point that is present
    /// for the whole scroll exactly once, whatever writes, seals and merges
    /// happen meanwhile: the order is the ids', not the storage's.
    pub fn scroll(&self, query: &ScrollQuery<'_>, limits: &FilterLimits) -> Result<ScrollPage> {
        if !(1..=MAX_SCROLL_LIMIT).contains(&query.limit) {
            return Err(IndexError::InvalidParameter {
                field: "limit".into(),
                reason: format!(
                    "must be between 1 and {MAX_SCROLL_LIMIT}, got {}",
                    query.limit
                ),
            });
        }
        self.validate_filter(query.filter, limits)?;
        let names = if query.with_vector {
            self.inner.config.read().names()
        } else {
            Vec::new()
        };
        let with_vector = query.with_vector.then_some(names.as_slice());
        let set = self.inner.segments();
        // One more than the page, to know whether another page follows.
        let mut page = Page {
            cap: query.limit + 1,
            best: BTreeMap::new(),
        };
        for (i, entry) in set.sealed.iter().enumerate() {
            entry
                .view()
                .scroll_into(i, query.filter, query.after, &mut page);
        }
        let first_frozen = set.sealed.len();
        let unsealed = Unsealed::read(&set);
        for (i, view) in unsealed.views().enumerate() {
            view.scroll_into(first_frozen + i, query.filter, query.after, &mut page);
        }
        let more = page.best.len() > query.limit;
        let points: Vec<StoredPoint> = page
            .best
            .into_iter()
            .take(query.limit)
            .map(|(id, (segment, offset))| {
                let points = match segment.checked_sub(first_frozen) {
                    None => &set.sealed[segment].segment.points,
                    Some(i) => unsealed.points(i),
                };
                let filled = Filled::read(points, offset, query.with_payload, with_vector);
                StoredPoint {
                    id,
                    payload: filled.payload,
                    vector: filled.vector,
                    vectors: filled.vectors,
                    sparse: filled.sparse,
                }
            })
            .collect();
        let next = more.then(|| points.last().map(|p| p.id.clone())).flatten();
        Ok(ScrollPage { points, next })
    }

    /// How many points match `filter` (all points without one). With
    /// `exact` false and a filter, the planner's estimate (from the payload
    /// indexes, without reading payloads) when it is not already exact.
    pub fn count(
        &self,
        filter: Option<&Filter>,
        exact: bool,
        limits: &FilterLimits,
    ) -> Result<Count> {
        self.validate_filter(filter, limits)?;
        let set = self.inner.segments();
        let Some(filter) = filter.filter(|_| !exact) else {
            let (matching, _) = matching_bitmaps(&set, filter);
            return Ok(Count {
                count: matching.iter().map(|b| b.len() as usize).sum(),
                exact: true,
            });
        };
        let unsealed = Unsealed::read(&set);
        let views = set.sealed.iter().map(SealedView::view);
        let mut estimate = 0;
        let mut precise = true;
        for view in views.chain(unsealed.views()) {
            let points = view.points;
            let ids = |id: &PointId| points.offset_of(id);
            let e = planner::estimate(filter, view.index, &ids, view.live);
            precise &= e.min == e.max;
            estimate += e.exp;
        }
        Ok(Count {
            count: estimate,
            exact: precise,
        })
    }

    /// The values of the indexed payload field `key` among the points
    /// matching `filter`, with how many points hold each, most frequent first
    /// (ties by value), at most `limit`. A point holding a value twice (in an
    /// array) counts once for it.
    pub fn facet(
        &self,
        key: &str,
        filter: Option<&Filter>,
        limit: usize,
        limits: &FilterLimits,
    ) -> Result<Vec<(Value, usize)>> {
        if !(1..=MAX_FACET_LIMIT).contains(&limit) {
            return Err(IndexError::InvalidParameter {
                field: "limit".into(),
                reason: format!("must be between 1 and {MAX_FACET_LIMIT}, got {limit}"),
            });
        }
        match self.inner.config.read().payload_schema.get(key) {
            Some(ty @ (crate::PayloadType::Float | crate::PayloadType::Text)) => {
                return Err(IndexError::InvalidParameter {
                    field: "key".into(),
                    reason: format!(
                        "`{key}` is indexed as {}: facets count keyword, integer and bool values",
                        ty.as_str()
                    ),
                });
            }
            Some(_) => {}
            None => {
                return Err(IndexError::InvalidParameter {
                    field: "key".into(),
                    reason: format!(
                        "`{key}` has no payload index: create one (keyword, integer or bool) to count its values"
                    ),
                });
            }
        }
        self.validate_filter(filter, limits)?;
        let set = self.inner.segments();
        let (matching, unsealed) = matching_bitmaps(&set, filter);
        let views = set.sealed.iter().map(SealedView::view);
        let mut counts: HashMap<ValueKey, (Value, usize)> = HashMap::new();
        for (view, matching) in views.chain(unsealed.views()).zip(&matching) {
            for (value, holders) in view.index.values(key).unwrap_or_default() {
                let n = holders.intersection_len(matching) as usize;
                if n > 0 {
                    counts
                        .entry(ValueKey::of(&value))
                        .or_insert_with(|| (value, 0))
                        .1 += n;
                }
            }
        }
        let mut values: Vec<(Value, usize)> = counts.into_values().collect();
        values.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| ValueKey::of(&a.0).cmp(&ValueKey::of(&b.0)))
        });
        values.truncate(limit);
        Ok(values)
    }

    fn validate_filter(&self, filter: Option<&Filter>, limits: &FilterLimits) -> Result<()> {
        if let Some(filter) = filter {
            filter.validate(&self.inner.config.read().payload_schema, limits)?;
        }
        Ok(())
    }
}

/// Per segment (sealed, frozen, appendable), the live offsets matching
/// `filter`, each point in its newest segment only; with the unsealed
/// segments still read-locked, so that their indexes can be read against
/// these offsets.
fn matching_bitmaps<'s>(
    set: &'s SegmentSet,
    filter: Option<&Filter>,
) -> (Vec<RoaringBitmap>, Unsealed<'s>) {
    let mut out: Vec<RoaringBitmap> = set
        .sealed
        .iter()
        .map(|entry| entry.view().matching_bitmap(filter))
        .collect();
    let unsealed = Unsealed::read(set);
    out.extend(unsealed.views().map(|view| view.matching_bitmap(filter)));
    // Points of an upsert being applied are live in the appendable segment
    // (the last) and, until it is published, in an older one.
    let appendable = unsealed.appendable();
    let older = out.len() - 1;
    for o in &appendable.live {
        let id = appendable.by_offset.get(o);
        for (i, view) in set
            .sealed
            .iter()
            .map(SealedView::view)
            .chain(unsealed.frozen_views())
            .enumerate()
            .take(older)
        {
            if let Some(old) = view.points.offset_of(&id)
                && view.live.contains(old)
            {
                out[i].remove(old);
            }
        }
    }
    (out, unsealed)
}

/// A sealed entry seen as a [`View`].
trait SealedView {
    fn view(&self) -> View<'_>;
}

impl SealedView for super::set::SealedEntry {
    fn view(&self) -> View<'_> {
        View {
            points: &self.segment.points,
            live: &self.live,
            index: &self.index,
            graphs: &[],
            values: &[],
            oversample: &[],
        }
    }
}

/// The frozen segments and the appendable one, read-locked for as long as
/// an answer reads them.
struct Unsealed<'s> {
    set: &'s SegmentSet,
    frozen: Vec<parking_lot::RwLockReadGuard<'s, Points>>,
    appendable: parking_lot::RwLockReadGuard<'s, Points>,
}

impl<'s> Unsealed<'s> {
    fn read(set: &'s SegmentSet) -> Self {
        Self {
            set,
            frozen: set.frozen.iter().map(|f| f.points.read()).collect(),
            appendable: set.appendable.read(),
        }
    }

    fn frozen_views(&self) -> impl Iterator<Item = View<'_>> {
        self.frozen
            .iter()
            .zip(&self.set.frozen)
            .map(|(points, f)| View::frozen(points, &f.live))
    }

    /// The frozen segments, then the appendable one.
    fn views(&self) -> impl Iterator<Item = View<'_>> {
        self.frozen_views()
            .chain(std::iter::once(View::unsealed(&self.appendable)))
    }

    /// The points of the `i`-th segment of [`Self::views`].
    fn points(&self, i: usize) -> &Points {
        self.frozen.get(i).map_or(&*self.appendable, |p| &**p)
    }

    fn appendable(&self) -> &Points {
        &self.appendable
    }
}

/// A facet value's identity and order: integers by value, then strings,
/// then booleans (false first).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum ValueKey {
    Int(i64),
    Str(String),
    Bool(bool),
    Other(String),
}

impl ValueKey {
    fn of(value: &Value) -> Self {
        match value {
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Self::Other(n.to_string()), Self::Int),
            Value::String(s) => Self::Str(s.clone()),
            Value::Bool(b) => Self::Bool(*b),
            other => Self::Other(other.to_string()),
        }
    }
}
