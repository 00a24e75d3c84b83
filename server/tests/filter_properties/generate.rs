//! Generators: payloads, points, filters (valid and not), edits.

use super::*;

/// Numbers that put exactness to the test: integral floats, `-0.0`, values
/// past 2^53 and past `i64`.
pub(crate) fn tricky_numbers() -> Vec<Value> {
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
pub(crate) fn scalar(own: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
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

pub(crate) fn keyword() -> BoxedStrategy<Value> {
    select(vec!["a", "b", "c"]).prop_map(Value::from).boxed()
}

pub(crate) fn small_int() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (-3_i64..4).prop_map(Value::from),
        1 => (-3_i64..4).prop_map(|i| Value::from(i as f64)),
    ]
    .boxed()
}

pub(crate) fn float() -> BoxedStrategy<Value> {
    select(vec![-1.5, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5])
        .prop_map(Value::from)
        .boxed()
}

pub(crate) fn boolean() -> BoxedStrategy<Value> {
    any::<bool>().prop_map(Value::from).boxed()
}

/// A field's value: a scalar, an array of them (sometimes nested), `null`.
pub(crate) fn field(own: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
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

pub(crate) fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
    )
}

pub(crate) fn meta() -> BoxedStrategy<Value> {
    (field(keyword()), field(small_int()))
        .prop_map(|(tag, n)| object(vec![("tag", tag), ("n", n)]))
        .boxed()
}

pub(crate) fn payload() -> impl Strategy<Value = Value> {
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

pub(crate) fn point_id() -> impl Strategy<Value = PointId> {
    prop_oneof![
        3 => (0_u64..6).prop_map(PointId::Num),
        1 => select(UUIDS.to_vec()).prop_map(|u| PointId::Uuid(u.parse().expect("a UUID"))),
        1 => select(STRING_IDS.to_vec()).prop_map(|s| PointId::string(s).expect("a string id")),
    ]
}

pub(crate) fn point() -> impl Strategy<Value = Point> {
    (point_id(), prop::option::weighted(0.9, payload())).prop_map(|(id, payload)| {
        // Payloads arrive as JSON text too.
        let payload = payload.map(|p| serde_json::from_str(&p.to_string()).expect("JSON"));
        Point { id, payload }
    })
}

/// The type of value a condition is about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Keyword,
    Number,
    Bool,
}

/// Keys that hold values of `kind`, among others; unindexed and missing keys,
/// a path through a scalar (`kw.sub`) and one to a literal dotted key
/// (`dot.ted`) included.
pub(crate) fn keys(kind: Kind) -> Vec<&'static str> {
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

pub(crate) const ALL_KEYS: [&str; 12] = [
    "kw", "int", "flt", "flag", "meta.tag", "meta.n", "arr.x", "free", "missing", "kw.sub",
    "dot.ted", "meta",
];

/// A key for values of `kind`; rarely (more often as `odd` grows) any key, so
/// possibly one indexed with another type, or a malformed one.
pub(crate) fn key(kind: Kind, odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        200 => select(keys(kind)).prop_map(Value::from),
        4 * odd => select(ALL_KEYS.to_vec()).prop_map(Value::from),
        odd => select(vec!["", "a..b", "meta.", ".kw"]).prop_map(Value::from),
        odd => Just(json!(1)),
    ]
    .boxed()
}

pub(crate) fn value_of(kind: Kind) -> BoxedStrategy<Value> {
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
pub(crate) fn match_target(kind: Kind, odd: u32) -> BoxedStrategy<Value> {
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

pub(crate) fn kind() -> impl Strategy<Value = Kind> {
    select(vec![Kind::Keyword, Kind::Number, Kind::Number, Kind::Bool])
}

/// Numbers past 2^53, at 2^63 and at 2^64, where comparing through `f64`
/// goes wrong; as payload values and as bounds.
pub(crate) fn edge_numbers() -> Vec<Value> {
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

pub(crate) fn bound(odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        120 => select(vec![-2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0]).prop_map(Value::from),
        60 => (-3_i64..4).prop_map(Value::from),
        30 => select(edge_numbers()),
        odd => select(vec![Value::Null, json!("1")]),
    ]
    .boxed()
}

/// Range bounds: one to four, rarely none or an unknown one.
pub(crate) fn range(odd: u32) -> BoxedStrategy<Value> {
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

pub(crate) fn id_value(odd: u32) -> BoxedStrategy<Value> {
    prop_oneof![
        60 => (0_u64..6).prop_map(Value::from),
        20 => select(UUIDS.to_vec()).prop_map(Value::from),
        10 => select(UUIDS.to_vec()).prop_map(|u| Value::from(u.to_uppercase())),
        10 => select(UUIDS.to_vec()).prop_map(|u| Value::from(u.replace('-', ""))),
        10 => select(STRING_IDS.to_vec()).prop_map(Value::from),
        odd => select(vec![json!(-1), json!(1.0), json!(""), json!("x".repeat(257)), Value::Null]),
    ]
    .boxed()
}

/// A list of one to three, rarely none.
pub(crate) fn non_empty<T: std::fmt::Debug + Clone + 'static>(
    item: BoxedStrategy<T>,
    odd: u32,
) -> BoxedStrategy<Vec<T>> {
    prop_oneof![100 => vec(item, 1..4), odd => Just(Vec::new())].boxed()
}

/// A leaf condition: well-formed most of the time, and malformed in some way
/// more often as `odd` grows (1: about one leaf in fifty).
pub(crate) fn leaf(odd: u32) -> BoxedStrategy<Value> {
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
pub(crate) fn filter_object(condition: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
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
pub(crate) fn filter() -> impl Strategy<Value = Value> {
    let condition = leaf(1).prop_recursive(3, 12, 3, filter_object);
    filter_object(condition.boxed())
}

/// Any JSON value, with keys drawn from the filter language's words.
pub(crate) fn any_json() -> impl Strategy<Value = Value> {
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
pub(crate) enum Edit {
    Delete(Index),
    Insert(Index, u8),
    Replace(Index, u8),
}

pub(crate) fn edit() -> impl Strategy<Value = Edit> {
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

pub(crate) fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
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
