//! The naive model of filters, written over `serde_json::Value`.

use super::*;

/// Whether the API must accept the filter `f`: only object forms, within [`LIMITS`].
pub(crate) fn accepted(f: &Value) -> bool {
    let mut count = 0;
    filter_accepted(f, 0, &mut count) && count <= LIMITS.max_conditions
}

/// A filter object at nesting `depth`; `count` accumulates its conditions.
pub(crate) fn filter_accepted(f: &Value, depth: usize, count: &mut usize) -> bool {
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
pub(crate) fn is_nested(c: &Value) -> bool {
    c.as_object()
        .is_some_and(|map| map.is_empty() || CLAUSES.iter().any(|clause| map.contains_key(*clause)))
}

pub(crate) fn condition_accepted(c: &Value, depth: usize, count: &mut usize) -> bool {
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
pub(crate) fn match_value_accepted(v: &Value, indexed: Option<PayloadType>) -> bool {
    let kind = match v {
        Value::String(_) => PayloadType::Keyword,
        Value::Number(n) if n.is_i64() => PayloadType::Integer,
        Value::Bool(_) => PayloadType::Bool,
        _ => return false,
    };
    indexed.is_none_or(|t| t == kind || (t == PayloadType::Float && kind == PayloadType::Integer))
}

pub(crate) fn id_accepted(id: &Value) -> bool {
    match id {
        Value::Number(n) => n.is_u64(),
        // A UUID in any form, or any other string of 1 to 256 bytes.
        Value::String(s) => uuid::Uuid::parse_str(s).is_ok() || (1..=256).contains(&s.len()),
        _ => false,
    }
}

/// A point as the naive evaluator sees it.
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) id: PointId,
    /// The payload object, if the point has one.
    pub(crate) payload: Option<Value>,
}

impl Point {
    pub(crate) fn payload(&self) -> Option<&Payload> {
        self.payload.as_ref().and_then(Value::as_object)
    }
}

/// Whether the accepted filter `f` matches `point`.
pub(crate) fn naive_matches(f: &Value, point: &Point) -> bool {
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

pub(crate) fn holds(c: &Value, point: &Point) -> bool {
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
pub(crate) fn leaves<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
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

pub(crate) fn same_id(listed: &Value, id: &PointId) -> bool {
    match (listed, id) {
        (Value::Number(n), PointId::Num(id)) => n.as_u64() == Some(*id),
        (Value::String(s), PointId::Uuid(id)) => uuid::Uuid::parse_str(s).ok() == Some(*id),
        (Value::String(s), PointId::Str(id)) => {
            uuid::Uuid::parse_str(s).is_err() && s.as_str() == &**id
        }
        _ => false,
    }
}

/// The integer value of a JSON number, when it is written as an integer.
pub(crate) fn integer(n: &serde_json::Number) -> Option<i128> {
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

/// `v` compared with the finite float `b`, exactly.
pub(crate) fn cmp_int_float(v: i128, b: f64) -> Ordering {
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
pub(crate) fn equal(v: &Value, target: &Value) -> bool {
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

pub(crate) fn in_range(v: &Value, range: &Value) -> bool {
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
