//! Filter cardinality estimation from the payload index alone.
//!
//! Every condition gets a [`CardinalityEstimation`] `{min, exp, max}` over the
//! `N` live points, and the estimates are combined up the filter tree with the
//! rules of Qdrant's query estimator. `min` and `max` are true bounds whenever
//! the leaves' are, so the planner may rely on them; `exp` is a guess that
//! assumes conditions are independent.

use roaring::RoaringBitmap;

use super::ids_bitmap;
use crate::filter::{Condition, Filter};
use crate::payload_index::PayloadIndex;
use crate::{Offset, PointId};

/// How many live points a filter matches: `min ≤ true count ≤ max`, and `exp`
/// the expected count (`min ≤ exp ≤ max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardinalityEstimation {
    /// A lower bound on the number of matching points.
    pub min: usize,
    /// The expected number of matching points.
    pub exp: usize,
    /// An upper bound on the number of matching points.
    pub max: usize,
}

impl CardinalityEstimation {
    /// Exactly `count` points.
    pub fn exact(count: usize) -> Self {
        Self {
            min: count,
            exp: count,
            max: count,
        }
    }

    /// Nothing known about a condition over `total` points: `{0, total / 2, total}`.
    pub fn unknown(total: usize) -> Self {
        Self {
            min: 0,
            exp: total / 2,
            max: total,
        }
    }

    /// Whether the count is known exactly (`min == max`).
    pub fn is_exact(&self) -> bool {
        self.min == self.max
    }

    /// The estimate for "all of `parts`" over `N = total` points, with `n` parts:
    ///
    /// - `min = max(0, Σ minᵢ − (n − 1)·N)` (each part misses at most `N − minᵢ` points),
    /// - `exp = N · Π (expᵢ / N)` (independent conditions),
    /// - `max = minᵢ maxᵢ`.
    ///
    /// No parts means every point: `{N, N, N}`.
    pub fn and(parts: impl IntoIterator<Item = Self>, total: usize) -> Self {
        let mut n = 0_usize;
        let mut sum_min = 0_usize;
        let mut fraction = 1.0_f64;
        let mut max = total;
        for part in parts {
            n += 1;
            sum_min = sum_min.saturating_add(part.min);
            fraction *= ratio(part.exp, total);
            max = max.min(part.max);
        }
        if n == 0 {
            return Self::exact(total);
        }
        let min = sum_min.saturating_sub((n - 1).saturating_mul(total));
        Self::bounded(min, scale(fraction, total), max)
    }

    /// The estimate for "at least one of `parts`" over `N = total` points:
    ///
    /// - `min = maxᵢ minᵢ`,
    /// - `exp = N · (1 − Π (1 − expᵢ / N))` (independent conditions),
    /// - `max = min(N, Σ maxᵢ)`.
    ///
    /// No parts means no point: `{0, 0, 0}`.
    pub fn or(parts: impl IntoIterator<Item = Self>, total: usize) -> Self {
        let mut min = 0_usize;
        let mut missed = 1.0_f64;
        let mut sum_max = 0_usize;
        for part in parts {
            min = min.max(part.min);
            missed *= 1.0 - ratio(part.exp, total);
            sum_max = sum_max.saturating_add(part.max);
        }
        Self::bounded(min, scale(1.0 - missed, total), sum_max.min(total))
    }

    /// The estimate for "not this" over `N = total` points:
    /// `{N − max, N − exp, N − min}`.
    pub fn not(self, total: usize) -> Self {
        Self {
            min: total.saturating_sub(self.max),
            exp: total.saturating_sub(self.exp),
            max: total.saturating_sub(self.min),
        }
    }

    /// `{min, exp, max}` with `exp` clamped into `[min, max]` (rounding can push
    /// it out) and `min` kept at most `max` (parts larger than the total can).
    fn bounded(min: usize, exp: usize, max: usize) -> Self {
        let min = min.min(max);
        Self {
            min,
            exp: exp.clamp(min, max),
            max,
        }
    }
}

fn ratio(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        (count as f64 / total as f64).clamp(0.0, 1.0)
    }
}

fn scale(fraction: f64, total: usize) -> usize {
    (fraction * total as f64).round() as usize
}

/// Estimates how many points of `live` match `filter`, from the payload index
/// and `ids` alone (payloads are never read).
///
/// Leaves: a condition on an indexed field is exact (`min = exp = max =` the
/// number of live offsets the index lists) unless some live points hold values
/// the index could not type, which widen `max` by their number and `exp` by
/// half of it; `has_id` is exact; a condition on an unindexed field is
/// [`CardinalityEstimation::unknown`]. A filter is the conjunction
/// ([`CardinalityEstimation::and`]) of its `must` conditions, the disjunction
/// ([`CardinalityEstimation::or`]) of its `should` conditions (when there are
/// any) and the complement ([`CardinalityEstimation::not`]) of each `must_not`
/// condition.
pub fn estimate(
    filter: &Filter,
    index: &PayloadIndex,
    ids: &dyn Fn(&PointId) -> Option<Offset>,
    live: &RoaringBitmap,
) -> CardinalityEstimation {
    let estimator = Estimator {
        index,
        ids,
        live,
        total: live.len() as usize,
    };
    estimator.filter(filter)
}

struct Estimator<'a> {
    index: &'a PayloadIndex,
    ids: &'a dyn Fn(&PointId) -> Option<Offset>,
    live: &'a RoaringBitmap,
    total: usize,
}

impl Estimator<'_> {
    fn filter(&self, filter: &Filter) -> CardinalityEstimation {
        let total = self.total;
        let must = filter.must.iter().map(|c| self.condition(c));
        let should = (!filter.should.is_empty()).then(|| {
            CardinalityEstimation::or(filter.should.iter().map(|c| self.condition(c)), total)
        });
        let must_not = filter.must_not.iter().map(|c| self.condition(c).not(total));
        CardinalityEstimation::and(must.chain(should).chain(must_not), total)
    }

    fn condition(&self, condition: &Condition) -> CardinalityEstimation {
        match condition {
            Condition::HasId(list) => {
                CardinalityEstimation::exact(ids_bitmap(list, self.ids, self.live).len() as usize)
            }
            Condition::Nested(filter) => self.filter(filter),
            _ => match self.index.answer(condition, self.live) {
                Some(answer) => {
                    let matched = answer.matched.intersection_len(self.live) as usize;
                    let unknown = answer.unknown.map_or(0, |unknown| {
                        (unknown & self.live).difference_len(&answer.matched) as usize
                    });
                    CardinalityEstimation {
                        min: matched,
                        exp: matched + unknown / 2,
                        max: matched + unknown,
                    }
                }
                None => CardinalityEstimation::unknown(self.total),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::filter::{MatchValue, Range};
    use crate::{Payload, PayloadType};

    type Est = CardinalityEstimation;

    fn est(min: usize, exp: usize, max: usize) -> Est {
        Est { min, exp, max }
    }

    #[test]
    fn conjunction_formulas() {
        assert_eq!(Est::and([], 100), est(100, 100, 100));
        assert_eq!(
            Est::and([Est::exact(60), Est::exact(70)], 100),
            est(30, 42, 60)
        );
        assert_eq!(
            Est::and([Est::exact(10), Est::unknown(100)], 100),
            est(0, 5, 10)
        );
        assert_eq!(
            Est::and([Est::exact(0), Est::exact(100)], 100),
            est(0, 0, 0)
        );
        assert_eq!(Est::and([Est::exact(5)], 0), est(0, 0, 0));
    }

    #[test]
    fn disjunction_formulas() {
        assert_eq!(Est::or([], 100), est(0, 0, 0));
        assert_eq!(
            Est::or([Est::exact(60), Est::exact(70)], 100),
            est(70, 88, 100)
        );
        assert_eq!(
            Est::or([Est::exact(10), Est::exact(20)], 100),
            est(20, 28, 30)
        );
        assert_eq!(
            Est::or([Est::exact(10), Est::unknown(100)], 100),
            est(10, 55, 100)
        );
    }

    #[test]
    fn complement_formula() {
        assert_eq!(est(10, 20, 30).not(100), est(70, 80, 90));
        assert_eq!(Est::unknown(100).not(100), est(0, 50, 100));
        assert!(Est::exact(3).is_exact());
        assert!(!Est::unknown(3).is_exact());
    }

    #[test]
    fn combined_estimates_keep_exp_within_bounds() {
        let parts = [est(0, 1, 3), est(2, 3, 3), est(1, 2, 2)];
        for total in [0, 1, 3, 10] {
            for e in [Est::and(parts, total), Est::or(parts, total)] {
                assert!(e.min <= e.exp && e.exp <= e.max, "{e:?} over {total}");
            }
        }
    }

    fn payloads() -> Vec<Payload> {
        (0..10)
            .map(|i| {
                let p = json!({"k": if i % 2 == 0 { "even" } else { "odd" }, "n": i, "free": i});
                p.as_object().expect("object").clone()
            })
            .collect()
    }

    fn setup(schema: &[(&str, PayloadType)]) -> (PayloadIndex, RoaringBitmap) {
        let schema: BTreeMap<String, PayloadType> =
            schema.iter().map(|(k, t)| ((*k).to_owned(), *t)).collect();
        let mut index = PayloadIndex::new(&schema);
        for (offset, payload) in (0..).zip(&payloads()) {
            index.insert(offset, payload);
        }
        // Offsets 8 and 9 are deleted.
        (index, (0..8).collect())
    }

    fn ids(id: &PointId) -> Option<Offset> {
        match id {
            PointId::Num(n) if *n < 10 => Some(*n as Offset),
            _ => None,
        }
    }

    #[test]
    fn indexed_conditions_are_exact_and_unindexed_unknown() {
        let (index, live) = setup(&[("k", PayloadType::Keyword), ("n", PayloadType::Integer)]);
        let even = Condition::Match {
            key: "k".into(),
            value: MatchValue::Keyword("even".into()),
        };
        let range = |key: &str| Condition::Range {
            key: key.into(),
            range: Range {
                gte: Some(2.0),
                lt: Some(9.0),
                ..Range::default()
            },
        };
        let one = |c: Condition| Filter {
            must: vec![c],
            ..Filter::default()
        };
        assert_eq!(
            estimate(&one(even.clone()), &index, &ids, &live),
            Est::exact(4)
        );
        assert_eq!(
            estimate(&one(range("n")), &index, &ids, &live),
            Est::exact(6)
        );
        assert_eq!(
            estimate(&one(range("free")), &index, &ids, &live),
            Est::unknown(8)
        );
        let has_id = Condition::HasId(vec![PointId::Num(1), PointId::Num(9), PointId::Num(77)]);
        assert_eq!(estimate(&one(has_id), &index, &ids, &live), Est::exact(1));
        assert_eq!(
            estimate(&Filter::default(), &index, &ids, &live),
            Est::exact(8)
        );
        let not_even = Filter {
            must_not: vec![even],
            ..Filter::default()
        };
        assert_eq!(estimate(&not_even, &index, &ids, &live), Est::exact(4));
    }

    #[test]
    fn values_the_index_cannot_type_widen_the_bounds() {
        let (mut index, live) = setup(&[("n", PayloadType::Integer)]);
        let odd = json!({"n": 2.5});
        index.insert(3, odd.as_object().expect("object"));
        let range = Condition::Range {
            key: "n".into(),
            range: Range {
                lt: Some(3.0),
                ..Range::default()
            },
        };
        let filter = Filter {
            must: vec![range],
            ..Filter::default()
        };
        // 0, 1, 2 and offset 3's 2.5 match, but the index cannot tell for 2.5.
        assert_eq!(estimate(&filter, &index, &ids, &live), est(3, 3, 4));
    }
}
