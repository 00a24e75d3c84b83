//! The query planner: filter cardinality estimation and the choice of search strategy.
//!
//! A filtered search first asks [`resolve`] for the exact set of matching
//! offsets, which exists when every condition can be answered from the payload
//! index. Otherwise [`estimate`] bounds the count from the index alone. Either
//! way [`choose`] picks, by estimated cost, an exact scan over the matching
//! points or the HNSW walk with the filter inside: no single strategy wins at
//! every selectivity.

mod estimate;

use std::borrow::Cow;

use roaring::RoaringBitmap;

pub use estimate::{CardinalityEstimation, estimate};

use crate::filter::{Condition, Filter};
use crate::payload_index::PayloadIndex;
use crate::{Offset, PointId};

/// The exact set of live offsets matching `filter` when every condition can be
/// answered from the payload index (conditions on indexed fields, `has_id`,
/// nested filters made of those); `None` otherwise, and then the caller
/// evaluates [`Filter::matches`] on payloads.
///
/// `ids` maps an external id to its current offset; `live` is the set of live
/// offsets, and the result is always within it. A condition on an indexed field
/// is also unanswerable when some live point holds a value the index could not
/// type and which might satisfy it (e.g. `2.5` in an integer field under a
/// range). A part known to be empty makes the whole result empty even when
/// other parts are unanswerable.
pub fn resolve(
    filter: &Filter,
    index: &PayloadIndex,
    ids: &dyn Fn(&PointId) -> Option<Offset>,
    live: &RoaringBitmap,
) -> Option<RoaringBitmap> {
    Resolver { index, ids, live }.filter(filter)
}

/// The live offsets of the ids in `list` (unknown ids are skipped).
fn ids_bitmap(
    list: &[PointId],
    ids: &dyn Fn(&PointId) -> Option<Offset>,
    live: &RoaringBitmap,
) -> RoaringBitmap {
    let mut bitmap: RoaringBitmap = list.iter().filter_map(ids).collect();
    bitmap &= live;
    bitmap
}

struct Resolver<'a> {
    index: &'a PayloadIndex,
    ids: &'a dyn Fn(&PointId) -> Option<Offset>,
    live: &'a RoaringBitmap,
}

impl Resolver<'_> {
    /// `acc` starts as every live offset and only shrinks; an unanswerable part
    /// is skipped (so `acc` stays a superset of the answer) and remembered.
    fn filter(&self, filter: &Filter) -> Option<RoaringBitmap> {
        let mut acc = self.live.clone();
        let mut unanswered = false;
        for condition in &filter.must {
            match self.condition(condition) {
                Some(set) => acc &= set,
                None => unanswered = true,
            }
            if acc.is_empty() {
                return Some(acc);
            }
        }
        if !filter.should.is_empty() {
            let any: Option<Vec<RoaringBitmap>> =
                filter.should.iter().map(|c| self.condition(c)).collect();
            match any {
                Some(sets) => acc &= sets.into_iter().fold(RoaringBitmap::new(), |a, b| a | b),
                None => unanswered = true,
            }
        }
        for condition in &filter.must_not {
            if acc.is_empty() {
                break;
            }
            match self.condition(condition) {
                Some(set) => acc -= set,
                None => unanswered = true,
            }
        }
        (acc.is_empty() || !unanswered).then_some(acc)
    }

    fn condition(&self, condition: &Condition) -> Option<RoaringBitmap> {
        match condition {
            Condition::HasId(list) => Some(ids_bitmap(list, self.ids, self.live)),
            Condition::Nested(filter) => self.filter(filter),
            _ => {
                let answer = self.index.answer(condition, self.live)?;
                if let Some(unknown) = answer.unknown {
                    let mut doubtful = unknown & self.live;
                    doubtful -= answer.matched.as_ref();
                    if !doubtful.is_empty() {
                        return None;
                    }
                }
                Some(match answer.matched {
                    Cow::Borrowed(matched) => matched & self.live,
                    Cow::Owned(mut matched) => {
                        matched &= self.live;
                        matched
                    }
                })
            }
        }
    }
}

/// The largest `ef` [`choose`] raises the base `ef` to (a caller's base above it is kept).
pub const MAX_EF: usize = 4096;

/// How to run a filtered search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Score every matching point exactly (perfect recall).
    Exact,
    /// Walk the HNSW graph with the filter applied inside the walk.
    Graph {
        /// The size of the dynamic candidate list for this search.
        ef: usize,
    },
}

/// The cost of one graph-walk distance against one scan distance. Both read
/// vectors from memory more than from cache (a 384-d vector is 1.5 KB), the
/// walk in random order and with heaps to keep; measured on 100,000 384-d
/// vectors, the crossover sits between 12 % and 19 % selectivity.
pub const WALK_COST: usize = 2;

/// A filter check's cost, in scan distances, for float vectors: a bitmap
/// lookup and a visited mark against reading a 1.5 KB vector. On 100,000
/// 384-d vectors (ef 64, M 16) the walk inside the filter overtakes the scan
/// between 6.4 % and 12.5 % selectivity; 0.25 puts the crossover at ~9 %.
pub const CHECK_COST: f64 = 0.25;

/// What a graph walk's work costs against one scan distance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkCost {
    /// One distance computed by the walk ([`WALK_COST`] for float vectors).
    pub distance: usize,
    /// One filter check ([`CHECK_COST`] for float vectors).
    pub check: f64,
    /// Whether the walk moves only through matching points (float vectors);
    /// otherwise it walks through rejected nodes, scoring them, and costs
    /// `distance · ef₀ · m / s`.
    pub within: bool,
}

/// The walk's costs on float vectors.
pub const FLOAT_WALK: WalkCost = WalkCost {
    distance: WALK_COST,
    check: CHECK_COST,
    within: true,
};

/// Below this share of matching points, a walk inside the filter widens its
/// beam: [`within_ef`].
pub const WITHIN_EF_SHARE: f64 = 0.25;

/// The beam of a walk inside a filter matching a share `s` of the points:
/// `ef₀ · √(max(1, 0.25 / s))`. Its two-hop bridges over rejected nodes see
/// less of the neighbourhood as `s` falls; measured on 100,000 vectors at
/// ef₀ 64, recall@10 is 0.958 at 48 %, 0.952 at 19 % and 0.929 at 12.5 %
/// (0.964 at ef 128) without the widening.
pub fn within_ef(ef0: usize, s: f64) -> usize {
    let widen = (WITHIN_EF_SHARE / s.max(1e-9)).max(1.0).sqrt();
    ((ef0 as f64 * widen).ceil() as usize).min(MAX_EF.max(ef0))
}

/// Picks the search strategy for a filter matching `estimation` of `total`
/// live points, for the `k` nearest neighbours, on a graph with `m` links per
/// node.
///
/// - [`Strategy::Exact`] when `estimation.max ≤ exact_threshold`, or when there
///   are no points.
/// - When the matching set is known exactly (`min = max`, as
///   [`CardinalityEstimation::exact`] of a [`resolve`]d set), by cost counted in
///   scan distances: a scan costs one per match. The walk moves only through
///   matching nodes (bridging two hops over rejected ones), so with a beam
///   `ef = `[`within_ef`]`(ef₀, s)` (`ef₀ = max(base_ef, k)`) it computes
///   about `ef · m` distances whatever the share `s` of matching points, each
///   `walk_cost.distance` times a scan's ([`WALK_COST`] for float vectors; more for
///   compact codes, which scan faster), plus about `ef · m / s` filter
///   checks at `walk_cost.check` each ([`CHECK_COST`] for floats). The scan wins
///   when the matches cost less than that (below ~9 % of 100,000 points at the
///   defaults, ~1 % of a million).
/// - Otherwise (an estimate only) [`Strategy::Graph`] with
///   `ef = min(ef₀ · N / max(exp, 1), max(MAX_EF, ef₀))`: the walk's reach
///   grows as `1 / s` until [`MAX_EF`], hedging against the estimate.
pub fn choose(
    estimation: &CardinalityEstimation,
    total: usize,
    k: usize,
    base_ef: usize,
    exact_threshold: usize,
    m: usize,
    walk_cost: WalkCost,
) -> Strategy {
    if total == 0 || estimation.max <= exact_threshold {
        return Strategy::Exact;
    }
    let ef0 = base_ef.max(k);
    let exp = estimation.exp.clamp(1, total);
    if estimation.min == estimation.max {
        let selectivity = exp as f64 / total as f64;
        let (ef, walk) = if walk_cost.within {
            let ef = within_ef(ef0, selectivity);
            let per_link = walk_cost.distance as f64 + walk_cost.check / selectivity;
            (ef, (ef * m.max(1)) as f64 * per_link)
        } else {
            let through = (walk_cost.distance * ef0 * m.max(1)) as f64 / selectivity;
            (ef0, through)
        };
        return if (exp as f64) <= walk {
            Strategy::Exact
        } else {
            Strategy::Graph { ef }
        };
    }
    let scaled = ef0.saturating_mul(total) / exp;
    Strategy::Graph {
        ef: scaled.min(MAX_EF.max(ef0)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::collection::vec;
    use proptest::prelude::{ProptestConfig, prop, prop_assert, prop_assert_eq, proptest};
    use proptest::strategy::{Strategy as _, ValueTree};
    use proptest::test_runner::TestRunner;
    use serde_json::{Value, json};

    use super::*;
    use crate::filter::{MatchValue, Range, testgen};
    use crate::{Payload, PayloadType};

    struct Fixture {
        payloads: Vec<Payload>,
        index: PayloadIndex,
        live: RoaringBitmap,
    }

    impl Fixture {
        fn new(
            schema: &BTreeMap<String, PayloadType>,
            payloads: Vec<Payload>,
            dead: &[u32],
        ) -> Self {
            let mut index = PayloadIndex::new(schema);
            for (offset, p) in (0..).zip(&payloads) {
                index.insert(offset, p);
            }
            let mut live: RoaringBitmap = (0..).zip(&payloads).map(|(o, _)| o).collect();
            for offset in dead {
                live.remove(*offset);
            }
            Self {
                payloads,
                index,
                live,
            }
        }

        /// Point `n` lives at offset `n`.
        fn ids(&self) -> impl Fn(&PointId) -> Option<Offset> + '_ {
            |id| match id {
                PointId::Num(n) => u32::try_from(*n)
                    .ok()
                    .filter(|&o| (o as usize) < self.payloads.len()),
                PointId::Uuid(_) | PointId::Str(_) => None,
            }
        }

        fn truth(&self, filter: &Filter) -> RoaringBitmap {
            self.live
                .iter()
                .filter(|&o| {
                    filter.matches(
                        &PointId::Num(u64::from(o)),
                        Some(&self.payloads[o as usize]),
                    )
                })
                .collect()
        }

        fn resolve(&self, filter: &Filter) -> Option<RoaringBitmap> {
            resolve(filter, &self.index, &self.ids(), &self.live)
        }

        fn estimate(&self, filter: &Filter) -> CardinalityEstimation {
            estimate(filter, &self.index, &self.ids(), &self.live)
        }
    }

    fn words() -> Fixture {
        let schema = [("pos", PayloadType::Keyword), ("len", PayloadType::Integer)]
            .into_iter()
            .map(|(k, t)| (k.to_owned(), t))
            .collect();
        let payloads = (0..20_u32)
            .map(|i| {
                let pos = ["noun", "verb", "adj", "adv"][i as usize % 4];
                let p = json!({"pos": pos, "len": i, "free": i % 3, "lang": if i % 5 == 0 { Value::Null } else { json!("en") }});
                p.as_object().expect("object").clone()
            })
            .collect();
        Fixture::new(&schema, payloads, &[1, 2])
    }

    fn pos(value: &str) -> Condition {
        Condition::Match {
            key: "pos".into(),
            value: MatchValue::Keyword(value.into()),
        }
    }

    fn len(range: Range) -> Condition {
        Condition::Range {
            key: "len".into(),
            range,
        }
    }

    fn set(offsets: &[u32]) -> RoaringBitmap {
        offsets.iter().copied().collect()
    }

    #[test]
    fn resolves_indexed_filters_within_live() {
        let fx = words();
        let filter = Filter {
            must: vec![
                Condition::MatchAny {
                    key: "pos".into(),
                    any: vec![
                        MatchValue::Keyword("verb".into()),
                        MatchValue::Keyword("adj".into()),
                    ],
                },
                len(Range {
                    gte: Some(1.0),
                    lt: Some(15.0),
                    ..Range::default()
                }),
            ],
            should: vec![],
            must_not: vec![pos("adj")],
        };
        let resolved = fx.resolve(&filter).expect("indexed");
        assert_eq!(resolved, set(&[5, 9, 13]));
        assert_eq!(resolved, fx.truth(&filter));
        let filter = Filter {
            should: vec![
                Condition::HasId(vec![PointId::Num(2), PointId::Num(3), PointId::Num(99)]),
                pos("noun"),
            ],
            ..Filter::default()
        };
        assert_eq!(fx.resolve(&filter), Some(set(&[0, 3, 4, 8, 12, 16])));
        assert_eq!(fx.resolve(&Filter::default()), Some(fx.live.clone()));
    }

    #[test]
    fn unindexed_conditions_are_not_resolved_unless_the_result_is_empty() {
        let fx = words();
        let free = Condition::Match {
            key: "free".into(),
            value: MatchValue::Integer(1),
        };
        let lang = Condition::Exists {
            key: "lang".into(),
            exists: true,
        };
        for filter in [
            Filter {
                must: vec![pos("verb"), free.clone()],
                ..Filter::default()
            },
            Filter {
                should: vec![pos("verb"), lang.clone()],
                ..Filter::default()
            },
            Filter {
                must_not: vec![lang.clone()],
                ..Filter::default()
            },
            Filter {
                must: vec![Condition::Nested(Filter {
                    must: vec![free.clone()],
                    ..Filter::default()
                })],
                ..Filter::default()
            },
        ] {
            assert_eq!(fx.resolve(&filter), None, "{filter:?}");
        }
        let empty = Filter {
            must: vec![free.clone(), pos("none")],
            ..Filter::default()
        };
        assert_eq!(fx.resolve(&empty), Some(RoaringBitmap::new()));
        let empty = Filter {
            must: vec![pos("verb")],
            should: vec![free],
            must_not: vec![len(Range {
                gte: Some(0.0),
                ..Range::default()
            })],
        };
        assert_eq!(fx.resolve(&empty), Some(RoaringBitmap::new()));
    }

    #[test]
    fn values_the_index_cannot_type_block_only_the_conditions_they_could_satisfy() {
        let mut fx = words();
        let odd = json!({"pos": 3, "len": 2.5});
        // Offset 10 (len 10) also holds 2.5, which the integer index cannot hold.
        fx.index.insert(10, odd.as_object().expect("object"));
        fx.payloads[10].extend(odd.as_object().expect("object").clone());
        let range = Filter {
            must: vec![len(Range {
                lt: Some(4.0),
                ..Range::default()
            })],
            ..Filter::default()
        };
        assert_eq!(fx.resolve(&range), None);
        let exact = Filter {
            must: vec![
                pos("noun"),
                Condition::Match {
                    key: "len".into(),
                    value: MatchValue::Integer(2),
                },
            ],
            ..Filter::default()
        };
        assert_eq!(fx.resolve(&exact), Some(fx.truth(&exact)));
        // Once offset 10 is deleted the range is answerable again.
        fx.live.remove(10);
        assert_eq!(fx.resolve(&range), Some(set(&[0, 3])));
    }

    #[test]
    fn choose_scans_small_sets_and_weighs_scan_against_walk() {
        let est = |min, exp, max| CardinalityEstimation { min, exp, max };
        let n = 1_000_000;
        assert_eq!(
            choose(
                &CardinalityEstimation::exact(500),
                n,
                10,
                64,
                1_000,
                16,
                FLOAT_WALK
            ),
            Strategy::Exact
        );
        assert_eq!(
            choose(&est(0, 0, 0), 0, 10, 64, 0, 16, FLOAT_WALK),
            Strategy::Exact
        );
        assert_eq!(
            choose(
                &CardinalityEstimation::exact(n),
                n,
                10,
                64,
                1_000,
                16,
                FLOAT_WALK
            ),
            Strategy::Graph { ef: 64 }
        );
        // Known sets: the scan up to ~3 % of a million (see `choose`).
        assert_eq!(
            choose(
                &CardinalityEstimation::exact(25_000),
                n,
                10,
                64,
                1_000,
                16,
                FLOAT_WALK
            ),
            Strategy::Exact
        );
        assert_eq!(
            choose(
                &CardinalityEstimation::exact(40_000),
                n,
                10,
                64,
                1_000,
                16,
                FLOAT_WALK
            ),
            Strategy::Graph {
                ef: within_ef(64, 0.04)
            }
        );
        // A walk through rejected nodes: the scan up to s = sqrt(8 * 64 * 16 / 1e6) = 9 %.
        let through = WalkCost {
            distance: 8,
            check: 0.0,
            within: false,
        };
        let known = |count| {
            choose(
                &CardinalityEstimation::exact(count),
                n,
                10,
                64,
                1_000,
                16,
                through,
            )
        };
        assert_eq!(known(89_000), Strategy::Exact);
        assert_eq!(known(92_000), Strategy::Graph { ef: 64 });
        assert_eq!(within_ef(64, 0.04), 160);
        assert_eq!(within_ef(64, 0.5), 64);
        assert_eq!(within_ef(64, 1e-12), MAX_EF);
        assert_eq!(
            choose(
                &CardinalityEstimation::exact(250_000),
                n,
                100,
                64,
                1_000,
                16,
                FLOAT_WALK
            ),
            Strategy::Graph { ef: 100 }
        );
        // Estimates only: ef grows as the expected share falls.
        assert_eq!(
            choose(&est(0, 250_000, n), n, 10, 64, 1_000, 16, FLOAT_WALK),
            Strategy::Graph { ef: 256 }
        );
        assert_eq!(
            choose(&est(0, 250_000, n), n, 100, 64, 1_000, 16, FLOAT_WALK),
            Strategy::Graph { ef: 400 }
        );
        assert_eq!(
            choose(&est(0, 10, n), n, 10, 64, 1_000, 16, FLOAT_WALK),
            Strategy::Graph { ef: MAX_EF }
        );
        assert_eq!(
            choose(&est(0, 0, n), n, 10, 8_000, 1_000, 16, FLOAT_WALK),
            Strategy::Graph { ef: 8_000 }
        );
    }

    fn with_live(payloads: Vec<Payload>, dead: Vec<bool>) -> Fixture {
        let dead: Vec<u32> = (0..)
            .zip(dead)
            .filter(|(_, d)| *d)
            .map(|(o, _)| o)
            .collect();
        Fixture::new(&testgen::schema(), payloads, &dead)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn resolve_agrees_with_the_evaluator_and_estimates_bound_the_truth(
            payloads in vec(testgen::payload(), 0..testgen::MAX_ID as usize),
            dead in vec(prop::bool::weighted(0.15), testgen::MAX_ID as usize),
            filters in vec(testgen::filter(), 1..6),
        ) {
            let fx = with_live(payloads, dead);
            for filter in &filters {
                let truth = fx.truth(filter);
                if let Some(resolved) = fx.resolve(filter) {
                    prop_assert_eq!(&resolved, &truth, "{:?}", filter);
                }
                let est = fx.estimate(filter);
                let count = truth.len() as usize;
                prop_assert!(est.min <= count && count <= est.max, "{:?} for {} of {:?}", est, count, filter);
                prop_assert!(est.min <= est.exp && est.exp <= est.max, "{:?}", est);
                for leaf in &filter.must {
                    let alone = Filter { must: vec![leaf.clone()], ..Filter::default() };
                    if leaf.key().is_some() && fx.resolve(&alone).is_some() {
                        prop_assert_eq!(fx.estimate(&alone), CardinalityEstimation::exact(fx.truth(&alone).len() as usize));
                    }
                }
            }
        }
    }

    /// Guards the property above against passing vacuously.
    #[test]
    fn generated_filters_are_often_resolved() {
        let mut runner = TestRunner::deterministic();
        let strategy = (vec(testgen::payload(), 40), vec(testgen::filter(), 50));
        let (mut some, mut all) = (0, 0);
        for _ in 0..10 {
            let (payloads, filters) = strategy.new_tree(&mut runner).expect("generated").current();
            let fx = with_live(payloads, vec![false; 40]);
            some += filters.iter().filter(|f| fx.resolve(f).is_some()).count();
            all += filters.len();
        }
        assert!(some * 3 >= all, "{some} of {all} resolved");
    }
}
