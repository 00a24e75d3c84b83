//! Random payloads and filters for property tests of the filter, the payload
//! index and the planner.
//!
//! Payloads carry a few typed fields (some missing, some arrays, some `null`,
//! rarely a value of the wrong type), a nested `meta` object (sometimes an array
//! of objects) and one unindexed field. Filters use every condition kind, on
//! indexed, unindexed and missing keys, nested up to three levels in all.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value, json};

use super::{Condition, Filter, MatchValue, Range};
use crate::{Payload, PayloadType, PointId};

/// Ids used by [`filter`]'s `has_id` conditions are drawn from `0..MAX_ID`.
pub(crate) const MAX_ID: u64 = 48;

/// The payload schema the generated payloads are meant for.
pub(crate) fn schema() -> BTreeMap<String, PayloadType> {
    [
        ("kw", PayloadType::Keyword),
        ("int", PayloadType::Integer),
        ("flt", PayloadType::Float),
        ("flag", PayloadType::Bool),
        ("meta.tag", PayloadType::Keyword),
        ("title", PayloadType::Text),
    ]
    .into_iter()
    .map(|(k, t)| (k.to_owned(), t))
    .collect()
}

const KEYS: [&str; 9] = [
    "kw", "int", "flt", "flag", "meta.tag", "meta.n", "free", "missing", "title",
];

fn keyword() -> BoxedStrategy<Value> {
    select(vec!["a", "b", "c"]).prop_map(Value::from).boxed()
}

/// A short text of a few words (some shared, in either case).
fn text() -> BoxedStrategy<Value> {
    select(vec!["a b", "The A", "b, c d", "x", "c", "A b c"])
        .prop_map(Value::from)
        .boxed()
}

/// A text field: rarely several strings (which the text index leaves to
/// the payload, so that filters on it resolve often enough to be tested).
fn text_field() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        20 => Just(None),
        70 => text().prop_map(Some),
        2 => vec(text(), 0..3).prop_map(|v| Some(Value::Array(v))),
        4 => Just(Some(Value::Null)),
        4 => foreign().prop_map(Some),
    ]
    .boxed()
}

fn integer() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (-3_i64..4).prop_map(Value::from),
        1 => (-3_i64..4).prop_map(|i| Value::from(i as f64)),
    ]
    .boxed()
}

fn float() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => select(vec![-1.5, -0.0, 0.0, 0.5, 2.0, 3.0]).prop_map(Value::from),
        1 => (-2_i64..3).prop_map(Value::from),
    ]
    .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

/// A value of the wrong type for most fields.
fn foreign() -> BoxedStrategy<Value> {
    select(vec![
        json!("x"),
        json!(2.5),
        json!(true),
        json!({"k": 1}),
        json!(u64::MAX),
        json!(9_007_199_254_740_993_i64),
    ])
    .boxed()
}

/// A field: missing, a scalar, an array of scalars, `null`, or rarely a foreign value.
fn field(scalar: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        20 => Just(None),
        45 => scalar.clone().prop_map(Some),
        25 => vec(scalar, 0..3).prop_map(|v| Some(Value::Array(v))),
        8 => Just(Some(Value::Null)),
        2 => foreign().prop_map(Some),
    ]
    .boxed()
}

fn meta_object() -> BoxedStrategy<Value> {
    (field(keyword()), field(integer()))
        .prop_map(|(tag, n)| {
            let mut map = Payload::new();
            tag.map(|v| map.insert("tag".into(), v));
            n.map(|v| map.insert("n".into(), v));
            Value::Object(map)
        })
        .boxed()
}

/// A random payload.
pub(crate) fn payload() -> impl Strategy<Value = Payload> {
    let meta = prop_oneof![
        2 => Just(None),
        3 => meta_object().prop_map(Some),
        1 => vec(meta_object(), 0..3).prop_map(|v| Some(Value::Array(v))),
    ];
    (
        field(keyword()),
        field(integer()),
        field(float()),
        field(boolean()),
        field(integer()),
        meta,
        text_field(),
    )
        .prop_map(|(kw, int, flt, flag, free, meta, title)| {
            let fields = [
                ("title", title),
                ("kw", kw),
                ("int", int),
                ("flt", flt),
                ("flag", flag),
                ("free", free),
                ("meta", meta),
            ];
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect()
        })
}

fn key() -> BoxedStrategy<String> {
    select(KEYS.to_vec()).prop_map(str::to_owned).boxed()
}

fn match_value() -> BoxedStrategy<MatchValue> {
    prop_oneof![
        select(vec!["a", "b", "c", "x"]).prop_map(|s| MatchValue::Keyword(s.to_owned())),
        (-3_i64..4).prop_map(MatchValue::Integer),
        any::<bool>().prop_map(MatchValue::Bool),
    ]
    .boxed()
}

fn bound() -> BoxedStrategy<Option<f64>> {
    prop::option::of(select(vec![-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 3.0])).boxed()
}

fn leaf() -> BoxedStrategy<Condition> {
    prop_oneof![
        3 => (key(), match_value()).prop_map(|(key, value)| Condition::Match { key, value }),
        2 => (key(), vec(match_value(), 1..4)).prop_map(|(key, any)| Condition::MatchAny { key, any }),
        3 => (key(), bound(), bound(), bound(), bound()).prop_map(|(key, gt, gte, lt, lte)| {
            Condition::Range { key, range: Range { gt, gte, lt, lte } }
        }),
        2 => (key(), any::<bool>()).prop_map(|(key, exists)| Condition::Exists { key, exists }),
        2 => (key(), select(vec!["a", "A b", "x", "b, c", "the c", "d"]))
            .prop_map(|(key, text)| Condition::match_text(key, text)),
        1 => vec(0..MAX_ID, 1..6)
            .prop_map(|ids| Condition::HasId(ids.into_iter().map(PointId::Num).collect())),
    ]
    .boxed()
}

fn filter_of(condition: BoxedStrategy<Condition>) -> BoxedStrategy<Filter> {
    (
        vec(condition.clone(), 0..3),
        vec(condition.clone(), 0..3),
        vec(condition, 0..3),
    )
        .prop_map(|(must, should, must_not)| Filter {
            must,
            should,
            must_not,
        })
        .boxed()
}

/// A random filter, nested at most three levels deep (the top level included).
pub(crate) fn filter() -> impl Strategy<Value = Filter> {
    let condition = leaf().prop_recursive(2, 24, 3, |inner| {
        filter_of(inner).prop_map(Condition::Nested)
    });
    filter_of(condition.boxed())
}
