//! Properties of filters as they arrive over the API: JSON text.
//!
//! A filter's text goes the server's way: `trawl-proto`'s wire types parse it
//! (`serde_json::from_slice`, as axum's `Json` does), the server's
//! `convert::filter` converts it, [`Filter::validate`] checks it against a
//! schema and limits, and [`Filter::matches`] evaluates it. A naive evaluator
//! written here over `serde_json::Value`, from the semantics in `DESIGN.md` and
//! `trawl_index::filter`, must agree on every accept/reject decision and on
//! every verdict:
//!
//! - a point matches when all `must`, at least one `should` (if any) and no
//!   `must_not` condition hold;
//! - a key is a dotted path; arrays met on the way or at the end are looked
//!   into element by element, and a condition holds when any value found
//!   satisfies it; a missing payload is an empty object;
//! - a value of another type never matches (`"3"` is not `3`, `true` is not
//!   `1`), while `3.0` matches the integer `3`;
//! - an integer is compared with a float bound exactly, not through `f64`;
//! - `exists` is true when a non-null value is found (`null` and `[]` are absent).
//!
//! Mangled and garbage JSON gives an error, never a panic.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use serde_json::{Map, Value, json};
use trawl_index::filter::{Filter, FilterLimits};
use trawl_index::{Payload, PayloadType, PointId};
use trawl_proto as api;

/// Small limits, so that generated filters pass and exceed both.
mod generate;
mod model;

use generate::*;
use model::*;
pub(crate) const LIMITS: FilterLimits = FilterLimits {
    max_depth: 2,
    max_conditions: 14,
};

pub(crate) const CLAUSES: [&str; 3] = ["must", "should", "must_not"];
pub(crate) const BOUNDS: [&str; 4] = ["gt", "gte", "lt", "lte"];

/// The indexed fields: `match` and `range` must fit their types.
pub(crate) fn schema() -> BTreeMap<String, PayloadType> {
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

/// String ids (not UUIDs), including one made of digits, which is not the
/// integer id it spells.
pub(crate) const STRING_IDS: [&str; 3] = ["doc-1#chunk-2", "3", "ünïcode"];

pub(crate) const UUIDS: [&str; 3] = [
    "5f0c2f3e-1111-4222-8333-444455556666",
    "00000000-0000-4000-8000-000000000001",
    "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
];

// ---------------------------------------------------------------------------
// The path under test.

/// Request bytes to a validated domain filter, the way a search request's
/// filter goes.
pub(crate) fn parse(bytes: &[u8]) -> Result<Filter, String> {
    let wire: api::Filter = serde_json::from_slice(bytes).map_err(|e| format!("json: {e}"))?;
    let filter = to_domain(&wire)?;
    filter
        .validate(&schema(), &LIMITS)
        .map_err(|e| e.to_string())?;
    Ok(filter)
}

/// The wire filter to the domain filter: the server's own conversion.
pub(crate) fn to_domain(f: &api::Filter) -> Result<Filter, String> {
    trawl_server::convert::filter(f).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// Properties.

/// Parses `bytes` the server's way and checks the outcome against the model:
/// accepted exactly when the model accepts the JSON, and then the same verdict
/// on every point. With `strict` false, a rejection the model did not expect is
/// allowed (the text may repeat a key, which `serde_json::Value` forgives).
fn check(bytes: &[u8], points: &[Point], strict: bool) -> Result<(), TestCaseError> {
    let parsed = parse(bytes);
    let Ok(json) = serde_json::from_slice::<Value>(bytes) else {
        prop_assert!(parsed.is_err(), "invalid JSON was accepted: {parsed:?}");
        return Ok(());
    };
    let expected = accepted(&json);
    let filter = match parsed {
        Ok(filter) => filter,
        Err(e) => {
            prop_assert!(
                !(strict && expected),
                "rejected a filter the model accepts: {e}\n{json}"
            );
            return Ok(());
        }
    };
    prop_assert!(expected, "accepted a filter the model rejects:\n{json}");
    for point in points {
        let got = filter.matches(&point.id, point.payload());
        let want = naive_matches(&json, point);
        prop_assert_eq!(
            got,
            want,
            "filter {}\nid {:?}\npayload {:?}",
            json,
            point.id,
            point.payload.as_ref().map(ToString::to_string)
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// JSON text in, verdicts out: the crate agrees with the naive model.
    #[test]
    fn json_filters_agree_with_a_naive_evaluator(
        filter in filter(),
        points in vec(point(), 16),
    ) {
        check(filter.to_string().as_bytes(), &points, true)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary JSON built from the language's words: accepted exactly when
    /// the model accepts it (no scalar or array ever is), never a
    /// panic.
    #[test]
    fn arbitrary_json_is_accepted_only_when_well_formed(
        json in any_json(),
        points in vec(point(), 4),
    ) {
        check(json.to_string().as_bytes(), &points, true)?;
    }

    /// Edited filter text: an error or a filter the model accepts and agrees
    /// with, never a panic; a strict prefix of a filter is always an error.
    #[test]
    fn mangled_filter_text_is_an_error_never_a_panic(
        filter in filter(),
        edits in vec(edit(), 1..4),
        cut in any::<Index>(),
        points in vec(point(), 4),
    ) {
        let text = filter.to_string().into_bytes();
        prop_assert!(parse(&text[..cut.index(text.len())]).is_err());
        let mut bytes = text;
        for e in &edits {
            apply(&mut bytes, e);
        }
        check(&bytes, &points, false)?;
    }

    /// One condition at a time, malformed in some way about half the time:
    /// every rule of the parser and the validator, one by one.
    #[test]
    fn single_conditions_are_judged_like_the_model(
        condition in leaf(40),
        clause in select(CLAUSES.to_vec()),
        points in vec(point(), 8),
    ) {
        check(json!({clause: [condition]}).to_string().as_bytes(), &points, true)?;
    }

    /// Numbers where `f64` loses precision (past 2^53, at 2^63 and 2^64)
    /// against ranges and integer matches near them: compared exactly.
    #[test]
    fn numbers_at_the_edges_of_f64_compare_exactly(
        value in select(edge_numbers()),
        bounds in vec((select(BOUNDS.to_vec()), select(edge_numbers())), 1..3),
        target in select(vec![
            9_007_199_254_740_992_i64,
            9_007_199_254_740_993,
            -9_007_199_254_740_993,
            i64::MAX - 1,
            i64::MAX,
            i64::MIN,
        ]),
    ) {
        let point = [Point {
            id: PointId::Num(0),
            payload: Some(json!({"n": [value]})),
        }];
        let range: Map<String, Value> =
            bounds.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let by_range = json!({"must": [{"key": "n", "range": range}]});
        check(by_range.to_string().as_bytes(), &point, true)?;
        let by_value = json!({"must": [{"key": "n", "match": {"value": target}}]});
        check(by_value.to_string().as_bytes(), &point, true)?;
    }

    /// Random bytes: never a panic, and accepted only as a filter the model accepts.
    #[test]
    fn garbage_bytes_are_an_error_never_a_panic(bytes in vec(any::<u8>(), 0..64)) {
        check(&bytes, &[], false)?;
    }

    /// Nesting of any depth, up to and past `serde_json`'s recursion limit:
    /// accepted exactly up to `max_depth`, never a stack overflow.
    #[test]
    fn deep_nesting_is_refused_not_a_crash(
        depth in 0_usize..200,
        clause in select(CLAUSES.to_vec()),
    ) {
        let mut text = String::from(r#"{"key": "kw", "exists": true}"#);
        for _ in 0..depth {
            text = format!(r#"{{"{clause}": [{text}]}}"#);
        }
        let text = format!(r#"{{"must": [{text}]}}"#);
        let accepted = parse(text.as_bytes()).is_ok();
        prop_assert_eq!(accepted, depth <= LIMITS.max_depth, "depth {}", depth);
    }
}
