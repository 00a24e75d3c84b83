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
const LIMITS: FilterLimits = FilterLimits {
    max_depth: 2,
    max_conditions: 14,
};

const CLAUSES: [&str; 3] = ["must", "should", "must_not"];
const BOUNDS: [&str; 4] = ["gt", "gte", "lt", "lte"];

/// The indexed fields: `match` and `range` must fit their types.
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

const UUIDS: [&str; 3] = [
    "5f0c2f3e-1111-4222-8333-444455556666",
    "00000000-0000-4000-8000-000000000001",
    "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
];

// ---------------------------------------------------------------------------
// The path under test.

/// Request bytes to a validated domain filter, the way a search request's
/// filter goes.
fn parse(bytes: &[u8]) -> Result<Filter, String> {
    let wire: api::Filter = serde_json::from_slice(bytes).map_err(|e| format!("json: {e}"))?;
    let filter = to_domain(&wire)?;
    filter
        .validate(&schema(), &LIMITS)
        .map_err(|e| e.to_string())?;
    Ok(filter)
}

/// The wire filter to the domain filter: the server's own conversion.
fn to_domain(f: &api::Filter) -> Result<Filter, String> {
    trawl_server::convert::filter(f).map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------
// The naive model, over `serde_json::Value`.

/// `trawl-proto` derives `Deserialize` for `Filter` and `Range`, and serde
/// lets a derived struct be written as an array of its fields in order: `[]`
/// parses as the empty filter (which matches every point), `[[c]]` as
/// `{"must": [c]}`, and `{"range": [1, null, 5]}` as `gt 1, lt 5`. `DESIGN.md`
/// allows only the object forms. The model follows the parser as it is; when
/// the parser refuses the array forms, set this to `false`.
const STRUCTS_FROM_ARRAYS: bool = false;

/// The filter with the array forms the parser accepts (see
/// [`STRUCTS_FROM_ARRAYS`]) rewritten as objects: the top-level filter, and
/// every `range`.
fn canonical(f: &Value) -> Value {
    if !STRUCTS_FROM_ARRAYS {
        return f.clone();
    }
    object_ranges(positional(f, &CLAUSES))
}

/// An array of at most `fields.len()` values as the object of those fields.
fn positional(v: &Value, fields: &[&str]) -> Value {
    match v {
        Value::Array(items) if items.len() <= fields.len() => Value::Object(
            fields
                .iter()
                .zip(items)
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn object_ranges(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if k == "range" {
                        positional(&v, &BOUNDS)
                    } else {
                        object_ranges(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(object_ranges).collect()),
        other => other,
    }
}

/// Whether the API must accept the filter `f` (in [`canonical`] form).
fn accepted(f: &Value) -> bool {
    let mut count = 0;
    filter_accepted(f, 0, &mut count) && count <= LIMITS.max_conditions
}

/// A filter object at nesting `depth`; `count` accumulates its conditions.
fn filter_accepted(f: &Value, depth: usize, count: &mut usize) -> bool {
    let Value::Object(map) = f else {
        return false;
    };
    map.iter().all(|(clause, list)| {
        CLAUSES.contains(&clause.as_str())
            && list.as_array().is_some_and(|conditions| {
                conditions.iter().all(|c| {
                    *count += 1;
                    condition_accepted(c, depth, count)
                })
            })
    })
}

/// Whether the condition object `c` is a nested filter: it has a clause, or
/// nothing at all (`{}`, the empty filter, which holds for every point).
fn is_nested(c: &Value) -> bool {
    c.as_object()
        .is_some_and(|map| map.is_empty() || CLAUSES.iter().any(|clause| map.contains_key(*clause)))
}

fn condition_accepted(c: &Value, depth: usize, count: &mut usize) -> bool {
    let Value::Object(map) = c else {
        return false;
    };
    if let Some(ids) = map.get("has_id") {
        return map.len() == 1
            && ids
                .as_array()
                .is_some_and(|ids| !ids.is_empty() && ids.iter().all(id_accepted));
    }
    if is_nested(c) {
        return depth < LIMITS.max_depth && filter_accepted(c, depth + 1, count);
    }
    let (Some(Value::String(key)), 2) = (map.get("key"), map.len()) else {
        return false;
    };
    if key.split('.').any(str::is_empty) {
        return false;
    }
    let indexed = schema().get(key).copied();
    let Some((op, arg)) = map.iter().find(|(k, _)| k.as_str() != "key") else {
        return false;
    };
    match (op.as_str(), arg) {
        ("match", Value::Object(m)) => {
            let only_known = m.keys().all(|k| k == "value" || k == "any");
            match (m.get("value"), m.get("any")) {
                (Some(v), None) => only_known && match_value_accepted(v, indexed),
                (None, Some(Value::Array(values))) => {
                    only_known
                        && !values.is_empty()
                        && values.iter().all(|v| match_value_accepted(v, indexed))
                }
                _ => false,
            }
        }
        ("range", Value::Object(r)) => {
            !matches!(indexed, Some(PayloadType::Keyword | PayloadType::Bool))
                && r.iter()
                    .all(|(k, b)| BOUNDS.contains(&k.as_str()) && (b.is_number() || b.is_null()))
                && r.values().any(Value::is_number)
        }
        ("exists", v) => v.is_boolean(),
        _ => false,
    }
}

/// A match value: a string, an integer that fits `i64` or a boolean, of the
/// indexed type if the key is indexed (integers are accepted on float fields).
fn match_value_accepted(v: &Value, indexed: Option<PayloadType>) -> bool {
    let kind = match v {
        Value::String(_) => PayloadType::Keyword,
        Value::Number(n) if n.is_i64() => PayloadType::Integer,
        Value::Bool(_) => PayloadType::Bool,
        _ => return false,
    };
    indexed.is_none_or(|t| t == kind || (t == PayloadType::Float && kind == PayloadType::Integer))
}

fn id_accepted(id: &Value) -> bool {
    match id {
        Value::Number(n) => n.is_u64(),
        Value::String(s) => uuid::Uuid::parse_str(s).is_ok(),
        _ => false,
    }
}

/// A point as the naive evaluator sees it.
#[derive(Debug, Clone)]
struct Point {
    id: PointId,
    /// The payload object, if the point has one.
    payload: Option<Value>,
}

impl Point {
    fn payload(&self) -> Option<&Payload> {
        self.payload.as_ref().and_then(Value::as_object)
    }
}

/// Whether the accepted filter `f` (in [`canonical`] form) matches `point`.
fn naive_matches(f: &Value, point: &Point) -> bool {
    let clause = |name: &str| {
        f.get(name)
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
    };
    let should = clause("should");
    clause("must").iter().all(|c| holds(c, point))
        && (should.is_empty() || should.iter().any(|c| holds(c, point)))
        && !clause("must_not").iter().any(|c| holds(c, point))
}

fn holds(c: &Value, point: &Point) -> bool {
    if let Some(ids) = c.get("has_id").and_then(Value::as_array) {
        return ids.iter().any(|i| same_id(i, &point.id));
    }
    if is_nested(c) {
        return naive_matches(c, point);
    }
    let key = c["key"].as_str().unwrap_or_default();
    let empty = Value::Object(Map::new());
    let segments: Vec<&str> = key.split('.').collect();
    let mut found = Vec::new();
    leaves(
        point.payload.as_ref().unwrap_or(&empty),
        &segments,
        &mut found,
    );
    if let Some(m) = c.get("match") {
        let targets: Vec<&Value> = match (m.get("value"), m.get("any")) {
            (Some(v), _) => vec![v],
            (_, Some(Value::Array(any))) => any.iter().collect(),
            _ => Vec::new(),
        };
        found.iter().any(|v| targets.iter().any(|t| equal(v, t)))
    } else if let Some(r) = c.get("range") {
        found.iter().any(|v| in_range(v, r))
    } else {
        let exists = found.iter().any(|v| !v.is_null());
        Some(exists) == c.get("exists").and_then(Value::as_bool)
    }
}

/// Every value at the dotted `path` below `value`; arrays are looked into at
/// every step, so no array is ever returned.
fn leaves<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (value, path) {
        (Value::Array(items), _) => items.iter().for_each(|v| leaves(v, path, out)),
        (v, []) => out.push(v),
        (Value::Object(map), [head, rest @ ..]) => {
            if let Some(v) = map.get(*head) {
                leaves(v, rest, out);
            }
        }
        _ => {}
    }
}

fn same_id(listed: &Value, id: &PointId) -> bool {
    match (listed, id) {
        (Value::Number(n), PointId::Num(id)) => n.as_u64() == Some(*id),
        (Value::String(s), PointId::Uuid(id)) => uuid::Uuid::parse_str(s).ok() == Some(*id),
        _ => false,
    }
}

/// The integer value of a JSON number, when it is written as an integer.
fn integer(n: &serde_json::Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// `v` compared with the finite float `b`, exactly.
fn cmp_int_float(v: i128, b: f64) -> Ordering {
    const FAR: f64 = 1e30; // beyond every i128 a payload holds
    if b >= FAR {
        return Ordering::Less;
    }
    if b <= -FAR {
        return Ordering::Greater;
    }
    let t = b.trunc();
    // `t` is integral and well inside `i128`: the cast is exact.
    match v.cmp(&(t as i128)) {
        Ordering::Equal => {
            // `v == trunc(b)`: the fraction decides.
            if b > t {
                Ordering::Less
            } else if b < t {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    }
}

/// A payload value equals a match value (which is a string, an `i64` or a bool).
fn equal(v: &Value, target: &Value) -> bool {
    match (v, target) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(n), Value::Number(t)) => {
            let t = integer(t).expect("accepted match values are integers");
            match integer(n) {
                Some(i) => i == t,
                None => n
                    .as_f64()
                    .is_some_and(|f| cmp_int_float(t, f) == Ordering::Equal),
            }
        }
        _ => false,
    }
}

fn in_range(v: &Value, range: &Value) -> bool {
    let Value::Number(n) = v else {
        return false;
    };
    BOUNDS.iter().all(|name| {
        let Some(b) = range.get(name).and_then(Value::as_f64) else {
            return true; // absent or null
        };
        // The order of the value relative to the bound.
        let ord = match integer(n) {
            Some(i) => cmp_int_float(i, b),
            None => {
                let f = n.as_f64().expect("a JSON number");
                f.partial_cmp(&b).expect("no NaN in JSON")
            }
        };
        match *name {
            "gt" => ord == Ordering::Greater,
            "gte" => ord != Ordering::Less,
            "lt" => ord == Ordering::Less,
            _ => ord != Ordering::Greater,
        }
    })
}

// ---------------------------------------------------------------------------
// Generators.

/// Numbers that put exactness to the test: integral floats, `-0.0`, values
/// past 2^53 and past `i64`.
fn tricky_numbers() -> Vec<Value> {
    vec![
        json!(-0.0),
        json!(0.5),
        json!(1.5),
        json!(-2.5),
        json!(2.0),
        json!(3.0),
        json!(9_007_199_254_740_992.0_f64),
        json!(9_007_199_254_740_993_i64),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(u64::MAX),
        json!(1e19),
    ]
}

/// A scalar payload value, mostly of the field's own type `own`.
fn scalar(own: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let foreign = select(vec![
        json!("a"),
        json!("3"),
        json!(3),
        json!(true),
        Value::Null,
        json!({"x": 1}),
        json!([]),
    ]);
    prop_oneof![
        12 => own,
        2 => select(tricky_numbers()),
        1 => select(edge_numbers()),
        2 => foreign,
    ]
    .boxed()
}

fn keyword() -> BoxedStrategy<Value> {
    select(vec!["a", "b", "c"]).prop_map(Value::from).boxed()
}

fn small_int() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (-3_i64..4).prop_map(Value::from),
        1 => (-3_i64..4).prop_map(|i| Value::from(i as f64)),
    ]
    .boxed()
}

fn float() -> BoxedStrategy<Value> {
    select(vec![-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5])
        .prop_map(Value::from)
        .boxed()
}

fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

/// A field's value: a scalar, an array of them (sometimes nested), `null`.
fn field(own: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    let s = scalar(own);
    prop_oneof![
        4 => Just(None),
        8 => s.clone().prop_map(Some),
        4 => vec(s.clone(), 0..4).prop_map(|v| Some(Value::Array(v))),
        1 => vec(vec(s, 0..3).prop_map(Value::Array), 0..3).prop_map(|v| Some(Value::Array(v))),
        1 => Just(Some(Value::Null)),
    ]
    .boxed()
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
    )
}

fn meta() -> BoxedStrategy<Value> {
    (field(keyword()), field(small_int()))
        .prop_map(|(tag, n)| object(vec![("tag", tag), ("n", n)]))
        .boxed()
}

fn payload() -> impl Strategy<Value = Value> {
    let meta = prop_oneof![
        2 => Just(None),
        3 => meta().prop_map(Some),
        2 => vec(meta(), 0..3).prop_map(|v| Some(Value::Array(v))),
        1 => keyword().prop_map(Some),
    ];
    let arr = prop::option::of(vec(
        field(small_int()).prop_map(|x| object(vec![("x", x)])),
        0..3,
    ))
    .prop_map(|v| v.map(Value::Array));
    (
        (
            field(keyword()),
            field(small_int()),
            field(float()),
            field(boolean()),
        ),
        (field(small_int()), meta, arr, field(keyword())),
    )
        .prop_map(|((kw, int, flt, flag), (free, meta, arr, dotted))| {
            object(vec![
                ("kw", kw),
                ("int", int),
                ("flt", flt),
                ("flag", flag),
                ("free", free),
                ("meta", meta),
                ("arr", arr),
                // A key holding a literal dot: unreachable by the path `dot.ted`.
                ("dot.ted", dotted),
            ])
        })
}

fn point_id() -> impl Strategy<Value = PointId> {
    prop_oneof![
        3 => (0_u64..6).prop_map(PointId::Num),
        1 => select(UUIDS.to_vec()).prop_map(|u| PointId::Uuid(u.parse().expect("a UUID"))),
    ]
}

fn point() -> impl Strategy<Value = Point> {
    (point_id(), prop::option::weighted(0.9, payload())).prop_map(|(id, payload)| {
        // Payloads arrive as JSON text too.
        let payload = payload.map(|p| serde_json::from_str(&p.to_string()).expect("JSON"));
        Point { id, payload }
    })
}

/// The type of value a condition is about.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Keyword,
    Number,
    Bool,
}

/// Keys that hold values of `kind`, among others; unindexed and missing keys,
/// a path through a scalar (`kw.sub`) and one to a literal dotted key
/// (`dot.ted`) included.
fn keys(kind: Kind) -> Vec<&'static str> {
    match kind {
        Kind::Keyword => vec![
            "kw", "kw", "kw", "meta.tag", "meta.tag", "free", "missing", "dot.ted",
        ],
        Kind::Number => vec![
            "int", "int", "int", "flt", "flt", "flt", "meta.n", "meta.n", "arr.x", "arr.x", "free",
            "free", "missing", "kw.sub",
        ],
        Kind::Bool => vec!["flag", "flag", "flag", "flag", "free", "missing"],
    }
}

const ALL_KEYS: [&str; 12] = [
    "kw", "int", "flt", "flag", "meta.tag", "meta.n", "arr.x", "free", "missing", "kw.sub",
    "dot.ted", "meta",
];

/// A key for values of `kind`; rarely (more often as `odd` grows) any key, so
/// possibly one indexed with another type, or a malformed one.
fn key(kind: Kind, odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        200 => select(keys(kind)).prop_map(Value::from),
        4 * odd => select(ALL_KEYS.to_vec()).prop_map(Value::from),
        odd => select(vec!["", "a..b", "meta.", ".kw"]).prop_map(Value::from),
        odd => Just(json!(1)),
    ]
    .boxed()
}

fn value_of(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Keyword => select(vec!["a", "b", "c", "x", "3"])
            .prop_map(Value::from)
            .boxed(),
        Kind::Number => prop_oneof![
            8 => (-3_i64..4).prop_map(Value::from),
            1 => select(vec![
                json!(9_007_199_254_740_993_i64),
                json!(9_007_199_254_740_992_i64),
                json!(i64::MAX),
                json!(i64::MIN),
            ]),
        ]
        .boxed(),
        Kind::Bool => boolean(),
    }
}

/// A match value for `kind`; rarely one of another type, or none at all (a
/// float, `null`, an array, an integer past `i64`).
fn match_target(kind: Kind, odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        200 => value_of(kind),
        3 * odd => prop_oneof![
            value_of(Kind::Keyword),
            value_of(Kind::Number),
            value_of(Kind::Bool),
        ],
        odd => select(vec![json!(2.0), json!(2.5), Value::Null, json!([1]), json!(u64::MAX)]),
    ]
    .boxed()
}

fn kind() -> impl Strategy<Value = Kind> {
    select(vec![Kind::Keyword, Kind::Number, Kind::Number, Kind::Bool])
}

/// Numbers past 2^53, at 2^63 and at 2^64, where comparing through `f64`
/// goes wrong; as payload values and as bounds.
fn edge_numbers() -> Vec<Value> {
    vec![
        json!(9_007_199_254_740_992.0_f64),
        json!(9_007_199_254_740_992_i64),
        json!(9_007_199_254_740_993_i64),
        json!(-9_007_199_254_740_993_i64),
        json!(9.223_372_036_854_776e18),
        json!(i64::MAX),
        json!(i64::MIN),
        json!(-9.223_372_036_854_776e18),
        json!(1.844_674_407_370_955_2e19),
        json!(u64::MAX),
        json!(1e19),
        json!(-1e19),
    ]
}

fn bound(odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        120 => select(vec![-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0]).prop_map(Value::from),
        60 => (-3_i64..4).prop_map(Value::from),
        30 => select(edge_numbers()),
        odd => select(vec![Value::Null, json!("1")]),
    ]
    .boxed()
}

/// Range bounds: one to four, rarely none or an unknown one.
fn range(odd: u32) -> BoxedStrategy<Value> {
    (
        prop_oneof![
            100 => vec((select(BOUNDS.to_vec()), bound(odd)), 1..4),
            odd => Just(Vec::new()),
        ],
        prop::option::weighted(0.01 * f64::from(odd).min(50.0), Just(("eq", json!(1)))),
    )
        .prop_map(|(bounds, extra)| {
            let mut map: Map<String, Value> =
                bounds.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if let Some((k, v)) = extra {
                map.insert(k.to_owned(), v);
            }
            Value::Object(map)
        })
        .boxed()
}

fn id_value(odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        60 => (0_u64..6).prop_map(Value::from),
        20 => select(UUIDS.to_vec()).prop_map(Value::from),
        10 => select(UUIDS.to_vec()).prop_map(|u| Value::from(u.to_uppercase())),
        10 => select(UUIDS.to_vec()).prop_map(|u| Value::from(u.replace('-', ""))),
        odd => select(vec![json!(-1), json!(1.0), json!("12"), json!("not-a-uuid"), Value::Null]),
    ]
    .boxed()
}

/// A list of one to three, rarely none.
fn non_empty<T: std::fmt::Debug + Clone + 'static>(
    item: BoxedStrategy<T>,
    odd: u32,
) -> BoxedStrategy<Vec<T>> {
    prop_oneof![100 => vec(item, 1..4), odd => Just(Vec::new())].boxed()
}

/// A leaf condition: well-formed most of the time, and malformed in some way
/// more often as `odd` grows (1: about one leaf in fifty).
fn leaf(odd: u32) -> BoxedStrategy<Value> {
    let exists = prop_oneof![100 => boolean(), odd => Just(json!("yes"))];
    let junk = select(vec![
        json!({"key": "kw", "regex": "a.*"}),
        json!({"key": "kw"}),
        json!({"match": {"value": "a"}}),
        json!({"key": "kw", "match": {"value": "a"}, "exists": true}),
        json!({"key": "kw", "match": {"value": "a", "any": ["a"]}}),
        json!({"key": "kw", "match": {"valu": "a"}}),
        json!({"key": "kw", "match": {"any": "a"}}),
        json!({"key": "kw", "match": "a"}),
        json!({"key": "kw", "match": {"value": "a"}, "extra": 1}),
        json!({"has_id": [1], "key": "kw"}),
        json!({"has_id": 1}),
        json!("kw"),
        json!([]),
        json!(null),
    ]);
    prop_oneof![
        50 => kind().prop_flat_map(move |k| (key(k, odd), match_target(k, odd)))
            .prop_map(|(key, v)| json!({"key": key, "match": {"value": v}})),
        30 => kind().prop_flat_map(move |k| (key(k, odd), non_empty(match_target(k, odd), odd)))
            .prop_map(|(key, any)| json!({"key": key, "match": {"any": any}})),
        50 => (key(Kind::Number, odd), range(odd)).prop_map(|(key, r)| json!({"key": key, "range": r})),
        30 => (select(ALL_KEYS.to_vec()), exists).prop_map(|(key, e)| json!({"key": key, "exists": e})),
        20 => non_empty(id_value(odd), odd).prop_map(|ids| json!({"has_id": ids})),
        odd => junk,
    ]
    .boxed()
}

/// A filter object over `condition`s: each clause absent, empty or filled, and
/// rarely an unknown clause or a clause that is not a list.
fn filter_object(condition: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    let list = prop::option::weighted(0.6, vec(condition, 0..3));
    let junk = prop::option::weighted(
        0.01,
        select(vec![
            ("mustnt", json!([])),
            ("must", Value::Null),
            ("should", json!({})),
        ]),
    );
    (list.clone(), list.clone(), list, junk)
        .prop_map(|(must, should, must_not, junk)| {
            let mut map = Map::new();
            for (name, list) in CLAUSES.into_iter().zip([must, should, must_not]) {
                if let Some(list) = list {
                    map.insert(name.to_owned(), Value::Array(list));
                }
            }
            if let Some((k, v)) = junk {
                map.insert(k.to_owned(), v);
            }
            Value::Object(map)
        })
        .boxed()
}

/// A filter as JSON, nested up to four levels (two more than [`LIMITS`] allow).
fn filter() -> impl Strategy<Value = Value> {
    let condition = leaf(1).prop_recursive(3, 12, 3, filter_object);
    filter_object(condition.boxed())
}

/// Any JSON value, with keys drawn from the filter language's words.
fn any_json() -> impl Strategy<Value = Value> {
    let word = select(vec![
        "must", "should", "must_not", "key", "match", "value", "any", "range", "gt", "lte",
        "exists", "has_id", "kw", "int",
    ]);
    let scalar = prop_oneof![
        Just(Value::Null),
        boolean(),
        (-3_i64..6).prop_map(Value::from),
        select(tricky_numbers()),
        select(vec!["kw", "a", "int", UUIDS[0]]).prop_map(Value::from),
    ];
    scalar.prop_recursive(4, 32, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((word.clone(), inner), 0..4).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// One edit of a byte string.
#[derive(Debug, Clone)]
enum Edit {
    Delete(Index),
    Insert(Index, u8),
    Replace(Index, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Mostly bytes that mean something in JSON, sometimes any byte.
    let byte = prop_oneof![
        4 => select(b"{}[]\",:-.0123456789aekntu \\".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<Index>()).prop_map(Edit::Delete),
        (any::<Index>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    match *edit {
        Edit::Delete(i) if !bytes.is_empty() => {
            bytes.remove(i.index(bytes.len()));
        }
        Edit::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), b),
        Edit::Replace(i, b) if !bytes.is_empty() => {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        _ => {}
    }
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
    let json = canonical(&json);
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
    /// the model accepts it (no scalar ever is; arrays only in the forms of
    /// [`STRUCTS_FROM_ARRAYS`]), never a panic.
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
