//! Per-field payload indexes over internal offsets.
//!
//! Each indexed field keeps a typed structure of value → roaring bitmap of
//! offsets:
//!
//! | type | structure |
//! |---|---|
//! | keyword | `HashMap<String, RoaringBitmap>` |
//! | integer | `BTreeMap<i64, RoaringBitmap>` (ranges walk the keys in order) |
//! | float | `BTreeMap` over a totally ordered non-NaN `f64` |
//! | bool | two bitmaps |
//!
//! plus three bitmaps: offsets having any non-null value at the key (for
//! `exists`), and offsets having values the structure does not hold (a string in
//! an integer field, `2.5` in an integer field, an integer above 2^53 that no
//! `f64` equals in a float field, ...), all of them and the numeric ones apart.
//! Such values are not indexed, but the planner knows which offsets hold them, so
//! an answer from the index is exact or declared unknown, never silently wrong.
//!
//! Arrays index each element; dotted keys look into nested objects, exactly as
//! [`crate::filter`] evaluates them. Integral floats (`3.0`) are indexed as
//! integers in integer fields, and integers as floats in float fields when an
//! `f64` equals them.
//!
//! The index is keyed by offset and does not know which offsets are live: the
//! owner removes a point's payload before inserting a new one at the same offset,
//! and the planner intersects every answer with the live set.

mod field;

use std::collections::BTreeMap;

use roaring::RoaringBitmap;

use crate::filter::Condition;
use crate::{Offset, Payload, PayloadType};
pub(crate) use field::Answer;
use field::FieldIndex;

/// Why a payload index could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadIndexError {
    /// The field is already indexed with another type.
    #[error("payload field `{key}` is already indexed as {}, not {}", .existing.as_str(), .requested.as_str())]
    TypeConflict {
        /// The field's key.
        key: String,
        /// The type it is indexed with.
        existing: PayloadType,
        /// The type asked for.
        requested: PayloadType,
    },
    /// The key is empty or has an empty path segment (`a..b`).
    #[error("payload index key `{key}` is empty or has an empty path segment")]
    InvalidKey {
        /// The rejected key.
        key: String,
    },
}

/// The payload indexes of one collection (or segment): one per indexed field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PayloadIndex {
    schema: BTreeMap<String, PayloadType>,
    fields: BTreeMap<String, FieldIndex>,
}

impl PayloadIndex {
    /// An empty index for the fields of `schema` (key → type).
    pub fn new(schema: &BTreeMap<String, PayloadType>) -> Self {
        let fields = schema
            .iter()
            .map(|(key, &ty)| (key.clone(), FieldIndex::new(ty)))
            .collect();
        Self {
            schema: schema.clone(),
            fields,
        }
    }

    /// The indexed fields and their types.
    pub fn schema(&self) -> &BTreeMap<String, PayloadType> {
        &self.schema
    }

    /// Starts indexing `key` as `ty`, over the `existing` points (offset and
    /// payload). Adding a field already indexed with the same type does nothing
    /// (and ignores `existing`); with another type it is an error.
    pub fn add_field<P: std::borrow::Borrow<Payload>>(
        &mut self,
        key: &str,
        ty: PayloadType,
        existing: impl Iterator<Item = (Offset, P)>,
    ) -> Result<(), PayloadIndexError> {
        if key.split('.').any(str::is_empty) {
            return Err(PayloadIndexError::InvalidKey {
                key: key.to_owned(),
            });
        }
        match self.schema.get(key) {
            Some(&existing) if existing == ty => return Ok(()),
            Some(&existing) => {
                return Err(PayloadIndexError::TypeConflict {
                    key: key.to_owned(),
                    existing,
                    requested: ty,
                });
            }
            None => {}
        }
        let mut field = FieldIndex::new(ty);
        for (offset, payload) in existing {
            field.insert(key, offset, payload.borrow());
        }
        self.schema.insert(key.to_owned(), ty);
        self.fields.insert(key.to_owned(), field);
        Ok(())
    }

    /// Indexes the payload of the point at `offset`. If the offset already has a
    /// payload indexed, [`Self::remove`] it first: values are added, not replaced.
    pub fn insert(&mut self, offset: Offset, payload: &Payload) {
        for (key, field) in &mut self.fields {
            field.insert(key, offset, payload);
        }
    }

    /// Removes the point at `offset`, whose indexed payload was `payload`: the
    /// exact inverse of [`Self::insert`] with the same payload.
    pub fn remove(&mut self, offset: Offset, payload: &Payload) {
        for (key, field) in &mut self.fields {
            field.remove(key, offset, payload);
        }
    }

    /// Removes the point at `offset` when its payload is no longer at hand.
    /// Slower than [`Self::remove`]: it visits every bitmap of every field.
    pub fn remove_offset(&mut self, offset: Offset) {
        for field in self.fields.values_mut() {
            field.remove_offset(offset);
        }
    }

    /// An estimate of the heap bytes held: map slots and keys, and roaring
    /// containers (2 bytes per value in array containers, 8 KiB per bitset
    /// container, a small header each). Spare capacity inside roaring's own
    /// vectors is not visible and not counted.
    pub fn ram_bytes(&self) -> usize {
        self.fields
            .iter()
            .map(|(key, field)| key.capacity() + field.ram_bytes())
            .sum::<usize>()
            + self.schema.keys().map(String::capacity).sum::<usize>()
    }

    /// The values of the indexed field `key` with the offsets holding each
    /// (see [`FieldIndex::values`]); `None` when `key` is not indexed or is a
    /// float field.
    pub(crate) fn values(&self, key: &str) -> Option<Vec<(serde_json::Value, &RoaringBitmap)>> {
        self.fields.get(key)?.values()
    }

    /// What the index knows about a payload condition on an indexed field;
    /// `None` when the condition reads no payload (`has_id`, nested) or its key
    /// is not indexed.
    pub(crate) fn answer(&self, condition: &Condition, live: &RoaringBitmap) -> Option<Answer<'_>> {
        let field = self.fields.get(condition.key()?)?;
        field.answer(condition, live)
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::PointId;
    use crate::filter::{Filter, MatchValue, Range, testgen};

    fn payload(v: Value) -> Payload {
        v.as_object().expect("object").clone()
    }

    fn schema() -> BTreeMap<String, PayloadType> {
        [
            ("kw", PayloadType::Keyword),
            ("int", PayloadType::Integer),
            ("flt", PayloadType::Float),
            ("flag", PayloadType::Bool),
            ("meta.tag", PayloadType::Keyword),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_owned(), t))
        .collect()
    }

    fn sample() -> Vec<Payload> {
        vec![
            payload(json!({"kw": "a", "int": 1, "flt": 0.5, "flag": true, "meta": {"tag": "x"}})),
            payload(
                json!({"kw": ["a", "b"], "int": [2, 3.0], "flt": [-0.0, 2], "flag": [true, false]}),
            ),
            payload(
                json!({"kw": 7, "int": "seven", "flt": "x", "flag": null, "meta": [{"tag": "y"}, {"tag": 1}]}),
            ),
            payload(json!({"int": 2.5, "flt": 9_007_199_254_740_993_i64, "other": 1})),
            payload(json!({})),
        ]
    }

    fn build(payloads: &[Payload]) -> PayloadIndex {
        let mut index = PayloadIndex::new(&schema());
        for (offset, p) in (0..).zip(payloads) {
            index.insert(offset, p);
        }
        index
    }

    fn matched(index: &PayloadIndex, condition: &Condition) -> (Vec<u32>, Option<Vec<u32>>) {
        let live: RoaringBitmap = (0..5).collect();
        let answer = index.answer(condition, &live).expect("indexed field");
        (
            answer.matched.iter().collect(),
            answer.unknown.map(|u| u.iter().collect()),
        )
    }

    fn is(key: &str, value: MatchValue) -> Condition {
        Condition::Match {
            key: key.into(),
            value,
        }
    }

    fn range(key: &str, range: Range) -> Condition {
        Condition::Range {
            key: key.into(),
            range,
        }
    }

    #[test]
    fn keyword_bool_and_exists() {
        let index = build(&sample());
        assert_eq!(
            matched(&index, &is("kw", MatchValue::Keyword("a".into()))),
            (vec![0, 1], None)
        );
        assert_eq!(
            matched(&index, &is("kw", MatchValue::Keyword("b".into()))),
            (vec![1], None)
        );
        assert_eq!(
            matched(&index, &is("meta.tag", MatchValue::Keyword("y".into()))),
            (vec![2], None)
        );
        assert_eq!(
            matched(&index, &is("flag", MatchValue::Bool(false))),
            (vec![1], None)
        );
        // A mistyped match can only be satisfied by values the index does not hold.
        assert_eq!(
            matched(&index, &is("kw", MatchValue::Integer(7))),
            (vec![], Some(vec![2]))
        );
        let exists = |exists| Condition::Exists {
            key: "flag".into(),
            exists,
        };
        assert_eq!(matched(&index, &exists(true)), (vec![0, 1], None));
        assert_eq!(matched(&index, &exists(false)), (vec![2, 3, 4], None));
        let exists = Condition::Exists {
            key: "meta.tag".into(),
            exists: true,
        };
        assert_eq!(matched(&index, &exists), (vec![0, 2], None));
        let any = Condition::MatchAny {
            key: "kw".into(),
            any: vec![
                MatchValue::Keyword("b".into()),
                MatchValue::Keyword("z".into()),
            ],
        };
        assert_eq!(matched(&index, &any), (vec![1], None));
    }

    #[test]
    fn integer_field() {
        let index = build(&sample());
        assert_eq!(
            matched(&index, &is("int", MatchValue::Integer(3))),
            (vec![1], None),
            "3.0 is 3"
        );
        let r = range(
            "int",
            Range {
                gt: Some(1.0),
                lte: Some(2.0),
                ..Range::default()
            },
        );
        // 2.5 (offset 3) is a number the integer index does not hold.
        assert_eq!(matched(&index, &r), (vec![1], Some(vec![3])));
        let nan = range(
            "int",
            Range {
                gt: Some(f64::NAN),
                ..Range::default()
            },
        );
        assert_eq!(matched(&index, &nan), (vec![], None));
    }

    #[test]
    fn float_field() {
        let index = build(&sample());
        assert_eq!(
            matched(&index, &is("flt", MatchValue::Integer(0))),
            (vec![1], None),
            "-0.0 is 0"
        );
        assert_eq!(
            matched(&index, &is("flt", MatchValue::Integer(2))),
            (vec![1], None)
        );
        let r = |range| {
            matched(
                &index,
                &Condition::Range {
                    key: "flt".into(),
                    range,
                },
            )
        };
        assert_eq!(
            r(Range {
                gte: Some(0.0),
                ..Range::default()
            }),
            (vec![0, 1], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gt: Some(-0.0),
                ..Range::default()
            }),
            (vec![0, 1], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gt: Some(0.0),
                lt: Some(2.0),
                ..Range::default()
            }),
            (vec![0], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gte: Some(0.5),
                lte: Some(0.5),
                ..Range::default()
            }),
            (vec![0], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gt: Some(0.5),
                lte: Some(0.5),
                ..Range::default()
            }),
            (vec![], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gt: Some(3.0),
                lt: Some(1.0),
                ..Range::default()
            }),
            (vec![], Some(vec![3]))
        );
        assert_eq!(
            r(Range {
                gte: Some(1.0),
                gt: Some(1.0),
                ..Range::default()
            }),
            (vec![1], Some(vec![3]))
        );
    }

    #[test]
    fn unindexed_keys_and_non_payload_conditions_have_no_answer() {
        let index = build(&sample());
        let live = RoaringBitmap::new();
        assert!(
            index
                .answer(&is("other", MatchValue::Integer(1)), &live)
                .is_none()
        );
        assert!(
            index
                .answer(&Condition::HasId(vec![PointId::Num(1)]), &live)
                .is_none()
        );
        assert!(
            index
                .answer(&Condition::Nested(Filter::default()), &live)
                .is_none()
        );
    }

    #[test]
    fn remove_after_insert_leaves_an_empty_index() {
        let empty = PayloadIndex::new(&schema());
        let mut index = build(&sample());
        assert_ne!(index, empty);
        assert!(index.ram_bytes() > empty.ram_bytes());
        for (offset, p) in (0..).zip(&sample()) {
            index.remove(offset, p);
        }
        assert_eq!(index, empty);

        let mut index = build(&sample());
        for offset in 0..5 {
            index.remove_offset(offset);
        }
        assert_eq!(index, empty);
    }

    #[test]
    fn add_field_indexes_existing_points() {
        let payloads = sample();
        let mut index = PayloadIndex::new(&BTreeMap::new());
        for (offset, p) in (0..).zip(&payloads) {
            index.insert(offset, p);
        }
        for (key, ty) in schema() {
            index
                .add_field(&key, ty, (0..).zip(&payloads))
                .expect("new field");
        }
        assert_eq!(index, build(&payloads));
        assert_eq!(index.schema(), &schema());
        assert_eq!(
            index.add_field(
                "kw",
                PayloadType::Keyword,
                std::iter::empty::<(Offset, &Payload)>()
            ),
            Ok(())
        );
        let err = index
            .add_field(
                "kw",
                PayloadType::Integer,
                std::iter::empty::<(Offset, &Payload)>(),
            )
            .expect_err("type conflict");
        assert_eq!(
            err,
            PayloadIndexError::TypeConflict {
                key: "kw".into(),
                existing: PayloadType::Keyword,
                requested: PayloadType::Integer
            }
        );
        assert_eq!(
            err.to_string(),
            "payload field `kw` is already indexed as keyword, not integer"
        );
        let err = index.add_field(
            "a..b",
            PayloadType::Bool,
            std::iter::empty::<(Offset, &Payload)>(),
        );
        assert!(matches!(err, Err(PayloadIndexError::InvalidKey { .. })));
    }

    #[test]
    fn ram_bytes_grows_with_content() {
        let mut index = PayloadIndex::new(&schema());
        let before = index.ram_bytes();
        for offset in 0..10_000 {
            index.insert(
                offset,
                &payload(json!({"kw": format!("k{offset}"), "int": offset})),
            );
        }
        // At least a key string and a bitmap per distinct value.
        assert!(
            index.ram_bytes() > before + 10_000 * 24,
            "{}",
            index.ram_bytes()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn insert_then_remove_round_trips(payloads in vec(testgen::payload(), 0..24)) {
            let mut index = build(&payloads);
            for (offset, p) in (0..).zip(&payloads).collect::<Vec<_>>().into_iter().rev() {
                index.remove(offset, p);
            }
            prop_assert_eq!(index, PayloadIndex::new(&schema()));
        }

        #[test]
        fn answers_bracket_the_evaluator(
            payloads in vec(testgen::payload(), 1..24),
            filter in testgen::filter(),
        ) {
            let index = build(&payloads);
            let live: RoaringBitmap = (0..).zip(&payloads).map(|(o, _)| o).collect();
            let conditions = filter.must.iter().chain(&filter.should).chain(&filter.must_not);
            for condition in conditions {
                let Some(answer) = index.answer(condition, &live) else { continue };
                let truth: RoaringBitmap = (0..)
                    .zip(&payloads)
                    .filter(|(o, p)| condition.matches(&PointId::Num(u64::from(*o)), Some(p)))
                    .map(|(o, _)| o)
                    .collect();
                let matched = answer.matched.as_ref() & &live;
                prop_assert!(matched.is_subset(&truth), "{condition:?}");
                let upper = match answer.unknown {
                    Some(unknown) => &matched | unknown,
                    None => matched.clone(),
                };
                prop_assert!(truth.is_subset(&upper), "{condition:?}");
            }
        }
    }
}
