//! Dotted-path lookup into JSON payloads, shared by the evaluator and the payload
//! index so that both see exactly the same values.

use serde_json::Value;

use crate::Payload;

/// Calls `visit` on every leaf value found at the dotted `path` of `payload`,
/// stopping early (and returning true) as soon as `visit` returns true.
///
/// Arrays are transparent: an array met in the middle of the path is looked into
/// element by element, and an array found at the end is flattened (recursively),
/// so `visit` never sees an array. It may see `null`, objects and scalars. An
/// empty array yields nothing.
pub(crate) fn visit_values<'a>(
    payload: &'a Payload,
    path: &str,
    visit: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    let (head, tail) = split(path);
    payload
        .get(head)
        .is_some_and(|value| walk(value, tail, visit))
}

fn split(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((head, tail)) => (head, Some(tail)),
        None => (path, None),
    }
}

fn walk<'a>(
    value: &'a Value,
    rest: Option<&str>,
    visit: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    match (value, rest) {
        (Value::Array(items), _) => items.iter().any(|item| walk(item, rest, visit)),
        (_, None) => visit(value),
        (Value::Object(map), Some(path)) => {
            let (head, tail) = split(path);
            map.get(head).is_some_and(|inner| walk(inner, tail, visit))
        }
        (_, Some(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn values(payload: Value, path: &str) -> Vec<Value> {
        let payload = payload.as_object().expect("object").clone();
        let mut out = Vec::new();
        visit_values(&payload, path, &mut |v| {
            out.push(v.clone());
            false
        });
        out
    }

    #[test]
    fn top_level_scalar() {
        assert_eq!(values(json!({"a": 1, "b": 2}), "a"), vec![json!(1)]);
        assert!(values(json!({"a": 1}), "z").is_empty());
    }

    #[test]
    fn dotted_path_into_objects() {
        let p = json!({"a": {"b": {"c": "x"}}, "a.b": 5});
        assert_eq!(values(p.clone(), "a.b.c"), vec![json!("x")]);
        assert_eq!(values(p.clone(), "a.b"), vec![json!({"c": "x"})]);
        assert!(values(p, "a.z").is_empty());
    }

    #[test]
    fn arrays_are_flattened_at_the_end_and_traversed_in_the_middle() {
        let p = json!({"a": [1, [2, 3], null], "o": [{"k": 1}, {"k": [2]}, {"j": 3}, 7]});
        assert_eq!(
            values(p.clone(), "a"),
            vec![json!(1), json!(2), json!(3), Value::Null]
        );
        assert_eq!(values(p.clone(), "o.k"), vec![json!(1), json!(2)]);
        assert!(values(json!({"a": []}), "a").is_empty());
    }

    #[test]
    fn scalars_have_no_children_and_visit_stops_early() {
        assert!(values(json!({"a": 1}), "a.b").is_empty());
        let p = json!({"a": [1, 2, 3]});
        let p = p.as_object().expect("object");
        let mut seen = 0;
        assert!(visit_values(p, "a", &mut |v| {
            seen += 1;
            v == &json!(2)
        }));
        assert_eq!(seen, 2);
    }
}
