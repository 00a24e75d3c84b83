//! The naive evaluator: a filter checked against one point's id and payload.
//!
//! Numbers are compared exactly: an integer payload value is compared with a
//! float bound mathematically (no rounding through `f64`), so `2^53 + 1` is
//! greater than the bound `2^53`. The payload index uses the same helpers, which
//! is what lets the planner's exact answers agree with this evaluator.

use serde_json::{Number, Value};

use super::{Condition, Filter, MatchValue, Range, visit_values};
use crate::{Payload, PointId};

impl Filter {
    /// Whether the point with this id and payload matches the filter, reading the
    /// payload directly (a missing payload is treated as an empty object).
    pub fn matches(&self, id: &PointId, payload: Option<&Payload>) -> bool {
        self.must.iter().all(|c| c.matches(id, payload))
            && (self.should.is_empty() || self.should.iter().any(|c| c.matches(id, payload)))
            && !self.must_not.iter().any(|c| c.matches(id, payload))
    }
}

impl Condition {
    /// Whether the condition holds for the point with this id and payload.
    pub fn matches(&self, id: &PointId, payload: Option<&Payload>) -> bool {
        let any = |key: &str, pred: &mut dyn FnMut(&Value) -> bool| {
            payload.is_some_and(|p| visit_values(p, key, pred))
        };
        match self {
            Self::Match { key, value } => any(key, &mut |v| value.matches_value(v)),
            Self::MatchText { key, words } => any(key, &mut |v| match v {
                Value::String(text) => {
                    let have = super::words(text);
                    words.iter().all(|w| have.contains(w))
                }
                _ => false,
            }),
            Self::MatchAny { key, any: values } => {
                any(key, &mut |v| values.iter().any(|m| m.matches_value(v)))
            }
            Self::Range { key, range } => {
                let ints = IntInterval::of(range);
                any(key, &mut |v| match v {
                    Value::Number(n) => number_in_range(n, range, ints),
                    _ => false,
                })
            }
            Self::Exists { key, exists } => any(key, &mut |v| !v.is_null()) == *exists,
            Self::HasId(ids) => ids.contains(id),
            Self::Nested(filter) => filter.matches(id, payload),
        }
    }
}

impl MatchValue {
    /// Whether a single (non-array) JSON value equals this one.
    pub(crate) fn matches_value(&self, value: &Value) -> bool {
        match (self, value) {
            (Self::Keyword(s), Value::String(v)) => s == v,
            (Self::Integer(i), Value::Number(n)) => number_equals(n, *i),
            (Self::Bool(b), Value::Bool(v)) => b == v,
            _ => false,
        }
    }
}

/// Whether the JSON number `n` has exactly the integral value `i`.
pub(crate) fn number_equals(n: &Number, i: i64) -> bool {
    if let Some(v) = n.as_i64() {
        v == i
    } else if n.is_u64() {
        // Only u64 values above i64::MAX land here.
        false
    } else {
        n.as_f64()
            .is_some_and(|f| f.fract() == 0.0 && f as i128 == i128::from(i))
    }
}

/// The `f64` equal to `n`, when `n` is exactly representable as one (every JSON
/// float is; integers beyond 2^53 may not be).
pub(crate) fn exact_f64(n: &Number) -> Option<f64> {
    if let Some(v) = n.as_i64() {
        let f = v as f64;
        (f as i128 == i128::from(v)).then_some(f)
    } else if let Some(v) = n.as_u64() {
        let f = v as f64;
        (f as i128 == i128::from(v)).then_some(f)
    } else {
        n.as_f64()
    }
}

fn number_in_range(n: &Number, range: &Range, ints: Option<IntInterval>) -> bool {
    if let Some(v) = n.as_i64() {
        ints.is_some_and(|iv| iv.contains(i128::from(v)))
    } else if let Some(v) = n.as_u64() {
        ints.is_some_and(|iv| iv.contains(i128::from(v)))
    } else {
        n.as_f64().is_some_and(|f| range.contains_f64(f))
    }
}

/// The integers satisfying a [`Range`]: the inclusive interval `lo..=hi`, in
/// `i128` so that every `i64` and `u64` payload value compares exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntInterval {
    /// Smallest integer in the range.
    pub(crate) lo: i128,
    /// Largest integer in the range.
    pub(crate) hi: i128,
}

impl IntInterval {
    /// The interval of integers `v` satisfying every bound of `range`, or `None`
    /// when there is none (including when a bound is NaN).
    ///
    /// `v > b ⇔ v ≥ ⌊b⌋ + 1`, `v ≥ b ⇔ v ≥ ⌈b⌉`, `v < b ⇔ v ≤ ⌈b⌉ − 1`,
    /// `v ≤ b ⇔ v ≤ ⌊b⌋`; the float-to-`i128` casts saturate, which is harmless
    /// since payload integers are far from `i128`'s limits.
    pub(crate) fn of(range: &Range) -> Option<Self> {
        if range.has_nan() {
            return None;
        }
        let mut lo = i128::MIN;
        let mut hi = i128::MAX;
        if let Some(b) = range.gt {
            lo = lo.max((b.floor() as i128).saturating_add(1));
        }
        if let Some(b) = range.gte {
            lo = lo.max(b.ceil() as i128);
        }
        if let Some(b) = range.lt {
            hi = hi.min((b.ceil() as i128).saturating_sub(1));
        }
        if let Some(b) = range.lte {
            hi = hi.min(b.floor() as i128);
        }
        (lo <= hi).then_some(Self { lo, hi })
    }

    /// Whether `v` lies in the interval.
    pub(crate) fn contains(&self, v: i128) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// The interval clamped to `i64`, or `None` when it holds no `i64`.
    pub(crate) fn to_i64(self) -> Option<(i64, i64)> {
        let lo = i64::try_from(self.lo.max(i128::from(i64::MIN))).ok()?;
        let hi = i64::try_from(self.hi.min(i128::from(i64::MAX))).ok()?;
        (lo <= hi).then_some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn payload(v: Value) -> Payload {
        v.as_object().expect("object").clone()
    }

    fn check(cond: Condition, p: &Value) -> bool {
        cond.matches(&PointId::Num(1), Some(&payload(p.clone())))
    }

    fn kw(key: &str, v: &str) -> Condition {
        Condition::Match {
            key: key.into(),
            value: MatchValue::Keyword(v.into()),
        }
    }

    fn int(key: &str, v: i64) -> Condition {
        Condition::Match {
            key: key.into(),
            value: MatchValue::Integer(v),
        }
    }

    fn range(
        key: &str,
        gt: Option<f64>,
        gte: Option<f64>,
        lt: Option<f64>,
        lte: Option<f64>,
    ) -> Condition {
        Condition::Range {
            key: key.into(),
            range: Range { gt, gte, lt, lte },
        }
    }

    fn exists(key: &str, exists: bool) -> Condition {
        Condition::Exists {
            key: key.into(),
            exists,
        }
    }

    #[test]
    fn match_keyword_integer_bool() {
        let p = json!({"s": "a", "i": 3, "f": 3.0, "g": 3.5, "b": true, "n": "3"});
        assert!(check(kw("s", "a"), &p));
        assert!(!check(kw("s", "b"), &p));
        assert!(!check(kw("n", "x"), &p));
        assert!(!check(kw("i", "3"), &p), "numbers are not keywords");
        assert!(check(int("i", 3), &p));
        assert!(check(int("f", 3), &p), "3.0 matches Integer(3)");
        assert!(!check(int("g", 3), &p));
        assert!(!check(int("n", 3), &p), "strings are not integers");
        let b = |v| Condition::Match {
            key: "b".into(),
            value: MatchValue::Bool(v),
        };
        assert!(check(b(true), &p));
        assert!(!check(b(false), &p));
        assert!(!check(int("missing", 3), &p));
    }

    #[test]
    fn match_large_integers_exactly() {
        let p = json!({"u": u64::MAX, "i": i64::MAX, "f": 9_007_199_254_740_992.0_f64});
        assert!(!check(int("u", -1), &p));
        assert!(check(int("i", i64::MAX), &p));
        assert!(!check(int("i", i64::MAX - 1), &p));
        assert!(check(int("f", 9_007_199_254_740_992), &p));
        assert!(!check(int("f", 9_007_199_254_740_993), &p));
    }

    #[test]
    fn match_any() {
        let p = json!({"s": ["x", "y"], "i": 2});
        let any = |key: &str, any: Vec<MatchValue>| Condition::MatchAny {
            key: key.into(),
            any,
        };
        assert!(check(
            any(
                "s",
                vec![MatchValue::Keyword("y".into()), MatchValue::Integer(1)]
            ),
            &p
        ));
        assert!(!check(any("s", vec![MatchValue::Keyword("z".into())]), &p));
        assert!(check(
            any("i", vec![MatchValue::Integer(1), MatchValue::Integer(2)]),
            &p
        ));
        assert!(!check(any("i", vec![]), &p));
    }

    #[test]
    fn range_on_ints_and_floats() {
        let p = json!({"i": 5, "f": 2.5, "s": "7", "a": [1, 10]});
        assert!(check(range("i", None, Some(5.0), None, None), &p));
        assert!(!check(range("i", Some(5.0), None, None, None), &p));
        assert!(check(range("i", Some(4.5), None, Some(5.5), None), &p));
        assert!(!check(range("i", None, None, Some(5.0), None), &p));
        assert!(check(range("i", None, None, None, Some(5.0)), &p));
        assert!(check(range("f", Some(2.0), None, Some(3.0), None), &p));
        assert!(!check(range("f", None, Some(2.6), None, None), &p));
        assert!(
            !check(range("s", None, Some(0.0), None, None), &p),
            "strings are not numbers"
        );
        assert!(
            check(range("a", Some(5.0), None, None, None), &p),
            "any element"
        );
        assert!(!check(range("a", Some(1.0), None, Some(10.0), None), &p));
        assert!(!check(range("i", None, Some(f64::NAN), None, None), &p));
        assert!(
            check(range("i", None, None, None, None), &p),
            "unbounded holds for numbers"
        );
    }

    #[test]
    fn range_compares_big_integers_exactly() {
        let big = 9_007_199_254_740_993_i64; // 2^53 + 1, not representable as f64
        let p = json!({"i": big, "u": u64::MAX});
        assert!(check(
            range("i", Some(9_007_199_254_740_992.0), None, None, None),
            &p
        ));
        assert!(!check(
            range("i", None, None, None, Some(9_007_199_254_740_992.0)),
            &p
        ));
        assert!(check(range("u", None, Some(1e19), None, None), &p));
        assert!(!check(
            range("u", None, Some(f64::INFINITY), None, None),
            &p
        ));
        assert!(check(
            range("u", None, Some(f64::NEG_INFINITY), None, None),
            &p
        ));
    }

    #[test]
    fn int_interval_bounds() {
        let iv = |gt, gte, lt, lte| IntInterval::of(&Range { gt, gte, lt, lte });
        assert_eq!(
            iv(Some(1.5), None, Some(4.0), None),
            Some(IntInterval { lo: 2, hi: 3 })
        );
        assert_eq!(
            iv(Some(1.0), None, None, Some(3.9)),
            Some(IntInterval { lo: 2, hi: 3 })
        );
        assert_eq!(iv(None, Some(-1.5), None, Some(-1.2)), None);
        assert_eq!(iv(None, Some(2.0), Some(2.0), None), None);
        assert_eq!(iv(None, Some(f64::NAN), None, None), None);
        let all = iv(None, None, None, None).expect("unbounded");
        assert_eq!(all.to_i64(), Some((i64::MIN, i64::MAX)));
        assert_eq!(
            iv(None, Some(1e19), None, None).and_then(IntInterval::to_i64),
            None
        );
        assert_eq!(
            iv(None, None, Some(-1e19), None).and_then(IntInterval::to_i64),
            None
        );
    }

    #[test]
    fn exists_semantics() {
        let p = json!({"a": 1, "n": null, "e": [], "z": [null], "o": {}, "s": "", "d": {"x": 0}});
        for key in ["a", "o", "s", "d.x"] {
            assert!(check(exists(key, true), &p), "{key}");
            assert!(!check(exists(key, false), &p), "{key}");
        }
        for key in ["n", "e", "z", "missing", "d.y", "a.b"] {
            assert!(!check(exists(key, true), &p), "{key}");
            assert!(check(exists(key, false), &p), "{key}");
        }
    }

    #[test]
    fn dotted_paths_and_arrays_of_objects() {
        let p = json!({"meta": [{"tag": "a", "n": 1}, {"tag": ["b", "c"]}], "x": {"y": {"z": 2}}});
        assert!(check(kw("meta.tag", "a"), &p));
        assert!(check(kw("meta.tag", "c"), &p));
        assert!(!check(kw("meta.tag", "d"), &p));
        assert!(check(int("x.y.z", 2), &p));
        assert!(check(range("meta.n", None, Some(1.0), None, None), &p));
    }

    #[test]
    fn has_id_and_missing_payload() {
        let ids = Condition::HasId(vec![PointId::Num(1), PointId::Num(4)]);
        assert!(ids.matches(&PointId::Num(4), None));
        assert!(!ids.matches(&PointId::Num(2), None));
        assert!(!kw("a", "x").matches(&PointId::Num(1), None));
        assert!(exists("a", false).matches(&PointId::Num(1), None));
    }

    #[test]
    fn filter_combinators() {
        let p = payload(json!({"a": "x", "n": 3}));
        let id = PointId::Num(1);
        assert!(Filter::default().matches(&id, Some(&p)));
        assert!(Filter::default().matches(&id, None));
        let f = |must, should, must_not| Filter {
            must,
            should,
            must_not,
        };
        assert!(f(vec![kw("a", "x"), int("n", 3)], vec![], vec![]).matches(&id, Some(&p)));
        assert!(!f(vec![kw("a", "x"), int("n", 4)], vec![], vec![]).matches(&id, Some(&p)));
        assert!(f(vec![], vec![kw("a", "y"), int("n", 3)], vec![]).matches(&id, Some(&p)));
        assert!(!f(vec![], vec![kw("a", "y"), int("n", 4)], vec![]).matches(&id, Some(&p)));
        assert!(!f(vec![], vec![], vec![kw("a", "y"), int("n", 3)]).matches(&id, Some(&p)));
        assert!(f(vec![], vec![], vec![kw("a", "y")]).matches(&id, Some(&p)));
        let nested = Condition::Nested(f(vec![], vec![], vec![kw("a", "x")]));
        assert!(!f(vec![nested.clone()], vec![], vec![]).matches(&id, Some(&p)));
        assert!(f(vec![], vec![], vec![nested]).matches(&id, Some(&p)));
    }
}

#[cfg(test)]
mod text_tests {
    use serde_json::json;

    use crate::filter::{Condition, Filter, words};
    use crate::{Payload, PointId};

    fn payload(v: serde_json::Value) -> Payload {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn match_text_wants_every_word_in_one_string_case_and_punctuation_aside() {
        assert_eq!(words("Cheap, GOOD-food!"), vec!["cheap", "good", "food"]);
        let filter = Filter {
            must: vec![Condition::match_text("text", "good cheap")],
            ..Filter::default()
        };
        let id = PointId::Num(1);
        for (text, want) in [
            (json!("Cheap and good."), true),
            (json!("good, cheaper"), false),
            (json!(["good", "cheap"]), false),
            (json!(["nothing", "GOOD cheap food"]), true),
            (json!(3), false),
        ] {
            let p = payload(json!({ "text": text }));
            assert_eq!(filter.matches(&id, Some(&p)), want, "{text}");
        }
        assert!(!filter.matches(&id, None));
    }
}
