//! The filter language of search and delete requests.
//!
//! ```json
//! {"must": [{"key": "pos", "match": {"any": ["verb", "adj"]}},
//!           {"key": "len_words", "range": {"gte": 5, "lt": 40}}],
//!  "must_not": [{"key": "source", "match": {"value": "gcide"}}],
//!  "should": [{"has_id": [1, 2, 3]}, {"key": "lang", "exists": true}]}
//! ```
//!
//! Conditions are parsed by hand so that an error names the condition and the
//! operator that is wrong, rather than "did not match any variant".

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::ids::PointId;

/// A boolean combination of conditions. Every list may be empty or absent.
///
/// Only the object form parses: serde's derive would also take an array of
/// the fields in order, and `[]` (the empty filter) would then match, and
/// delete, every point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// All must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must: Vec<Condition>,
    /// At least one must hold (when non-empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub should: Vec<Condition>,
    /// None may hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub must_not: Vec<Condition>,
}

/// A value to match: a keyword, an integer or a boolean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum MatchValue {
    /// A keyword.
    Keyword(String),
    /// An integer.
    Integer(i64),
    /// A boolean.
    Bool(bool),
}

/// `{"value": v}`, `{"any": [v, ...]}` or `{"text": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Match {
    /// Equality.
    Value {
        /// The value.
        value: MatchValue,
    },
    /// Membership.
    Any {
        /// The accepted values.
        any: Vec<MatchValue>,
    },
    /// Words: the text at `key` (a string, or one string of a list) holds
    /// every word of this one (split on non-alphanumerics, case ignored,
    /// no stemming).
    Text {
        /// The words to find.
        text: String,
    },
}

/// Numeric bounds; at least one must be given. Only the object form parses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Greater than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gt: Option<f64>,
    /// Greater than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gte: Option<f64>,
    /// Less than.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lt: Option<f64>,
    /// Less than or equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lte: Option<f64>,
}

/// One condition of a filter.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Condition {
    /// `{"key": k, "match": {...}}`.
    Match {
        /// Payload field (dotted path).
        key: String,
        /// What to match.
        #[serde(rename = "match")]
        matches: Match,
    },
    /// `{"key": k, "range": {...}}`.
    Range {
        /// Payload field (dotted path).
        key: String,
        /// The bounds.
        range: Range,
    },
    /// `{"key": k, "exists": bool}`.
    Exists {
        /// Payload field (dotted path).
        key: String,
        /// Whether the field must be present (non-null).
        exists: bool,
    },
    /// `{"has_id": [...]}`.
    HasId {
        /// The accepted ids.
        has_id: Vec<PointId>,
    },
    /// A nested filter.
    #[schema(no_recursion)]
    Nested(Filter),
}

/// Field-by-field mirrors of [`Filter`] and [`Range`], read only from a JSON object.
mod object_form {
    use serde::Deserialize;

    use super::Condition;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Filter {
        #[serde(default)]
        pub must: Vec<Condition>,
        #[serde(default)]
        pub should: Vec<Condition>,
        #[serde(default)]
        pub must_not: Vec<Condition>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub(super) struct Range {
        #[serde(default)]
        pub gt: Option<f64>,
        #[serde(default)]
        pub gte: Option<f64>,
        #[serde(default)]
        pub lt: Option<f64>,
        #[serde(default)]
        pub lte: Option<f64>,
    }
}

/// Reads `T` from a JSON object only; anything else is an error naming `what`.
fn from_object<'de, D, T>(deserializer: D, what: &str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        object @ Value::Object(_) => serde_json::from_value(object).map_err(D::Error::custom),
        other => Err(D::Error::custom(format!(
            "{what} must be a JSON object, got {}",
            kind(&other)
        ))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object_form::Filter {
            must,
            should,
            must_not,
        } = from_object(deserializer, "a filter")?;
        Ok(Self {
            must,
            should,
            must_not,
        })
    }
}

impl<'de> Deserialize<'de> for Range {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object_form::Range { gt, gte, lt, lte } = from_object(deserializer, "range")?;
        Ok(Self { gt, gte, lt, lte })
    }
}

impl<'de> Deserialize<'de> for Match {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Value::Object(mut map) = value else {
            return Err(D::Error::custom(
                "match must be an object: {\"value\": v}, {\"any\": [v, ...]} or {\"text\": \"...\"}",
            ));
        };
        let parse = |v: Value| {
            serde_json::from_value::<MatchValue>(v.clone()).map_err(|_| {
                D::Error::custom(format!(
                    "match value {v} must be a string, an integer or a boolean"
                ))
            })
        };
        if let Some(text) = map.remove("text") {
            return match (text, map.keys().next()) {
                (_, Some(other)) => Err(D::Error::custom(format!(
                    "match.text stands alone: unexpected field `{other}`"
                ))),
                (Value::String(text), None) => Ok(Self::Text { text }),
                (_, None) => Err(D::Error::custom("match.text must be a string")),
            };
        }
        match (map.remove("value"), map.remove("any"), map.keys().next()) {
            (_, _, Some(other)) => Err(D::Error::custom(format!(
                "unknown field `{other}` in match: expected `value`, `any` or `text`"
            ))),
            (Some(v), None, None) => Ok(Self::Value { value: parse(v)? }),
            (None, Some(Value::Array(items)), None) => Ok(Self::Any {
                any: items.into_iter().map(parse).collect::<Result<_, _>>()?,
            }),
            (None, Some(_), None) => Err(D::Error::custom("match.any must be an array")),
            _ => Err(D::Error::custom(
                "match needs exactly one of `value`, `any` or `text`",
            )),
        }
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let Value::Object(mut map) = value else {
            return Err(D::Error::custom("a condition must be an object"));
        };
        if map.is_empty() {
            // An empty nested filter serialises to `{}`; like an empty
            // top-level filter, it holds for every point.
            return Ok(Self::Nested(Filter::default()));
        }
        let nested_keys = ["must", "should", "must_not"];
        if map.contains_key("has_id") {
            if map.len() > 1 {
                return Err(D::Error::custom("has_id must stand alone in its condition"));
            }
            let ids = map.remove("has_id").unwrap_or_default();
            let has_id = serde_json::from_value(ids)
                .map_err(|e| D::Error::custom(format!("has_id: {e}")))?;
            return Ok(Self::HasId { has_id });
        }
        if map.keys().any(|k| nested_keys.contains(&k.as_str())) {
            let filter = serde_json::from_value(Value::Object(map))
                .map_err(|e| D::Error::custom(format!("nested filter: {e}")))?;
            return Ok(Self::Nested(filter));
        }
        let key = match map.remove("key") {
            Some(Value::String(key)) => key,
            Some(_) => return Err(D::Error::custom("key must be a string")),
            None => {
                return Err(D::Error::custom(
                    "a condition needs `key` with one of `match`, `range`, `exists`; or `has_id`; or a nested must/should/must_not",
                ));
            }
        };
        let operator = map.keys().next().cloned();
        if map.len() != 1 {
            return Err(D::Error::custom(format!(
                "condition on `{key}` needs exactly one operator (`match`, `range` or `exists`)"
            )));
        }
        let (op, arg) = map.into_iter().next().unwrap_or_default();
        let wrap =
            |e: serde_json::Error| D::Error::custom(format!("condition on `{key}`: {op}: {e}"));
        match operator.as_deref() {
            Some("match") => Ok(Self::Match {
                matches: serde_json::from_value(arg).map_err(wrap)?,
                key,
            }),
            Some("range") => Ok(Self::Range {
                range: serde_json::from_value(arg).map_err(wrap)?,
                key,
            }),
            Some("exists") => match arg {
                Value::Bool(exists) => Ok(Self::Exists { key, exists }),
                _ => Err(D::Error::custom(format!(
                    "condition on `{key}`: exists must be true or false"
                ))),
            },
            _ => Err(D::Error::custom(format!(
                "unknown operator `{op}` in condition on `{key}`: expected `match`, `range` or `exists`"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_example() {
        let f: Filter = serde_json::from_str(
            r#"{"must": [{"key": "pos", "match": {"any": ["verb", "adj"]}},
                         {"key": "len_words", "range": {"gte": 5, "lt": 40}}],
                "must_not": [{"key": "source", "match": {"value": "gcide"}}],
                "should": [{"has_id": [1, "5f0c2f3e-1111-4222-8333-444455556666"]}, {"key": "lang", "exists": true},
                           {"must": [{"key": "n", "match": {"value": 3}}]}]}"#,
        )
        .unwrap();
        assert_eq!(f.must.len(), 2);
        assert!(matches!(&f.should[2], Condition::Nested(n) if n.must.len() == 1));
        assert!(
            matches!(&f.must_not[0], Condition::Match { matches: Match::Value { value: MatchValue::Keyword(v) }, .. } if v == "gcide")
        );
    }

    #[test]
    fn only_the_object_forms_parse() {
        for text in [
            "[]",
            "[[]]",
            r#"{"must": [[]]}"#,
            r#"{"must": [{"key": "k", "range": [1, null, 5, null]}]}"#,
            "null",
        ] {
            let error = serde_json::from_str::<Filter>(text)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("must be") && error.contains("object"),
                "{text}: {error}"
            );
        }
        let f: Filter =
            serde_json::from_str(r#"{"must": [{"key": "k", "range": {"gt": 1}}]}"#).unwrap();
        assert_eq!(f.must.len(), 1);
    }

    #[test]
    fn empty_nested_filter_round_trips() {
        let f = Filter {
            must: vec![Condition::Nested(Filter::default())],
            ..Filter::default()
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"must":[{}]}"#);
        assert_eq!(serde_json::from_str::<Filter>(&json).unwrap(), f);
    }

    #[test]
    fn errors_name_the_problem() {
        let err = |s: &str| serde_json::from_str::<Filter>(s).unwrap_err().to_string();
        assert!(
            err(r#"{"must": [{"key": "pos", "regex": "v.*"}]}"#)
                .contains("unknown operator `regex`")
        );
        assert!(err(r#"{"must": [{"key": "pos", "match": {"valu": 1}}]}"#).contains("valu"));
        assert!(err(r#"{"must": [{"key": "n", "range": {"gte": "a"}}]}"#).contains("range"));
        assert!(err(r#"{"must": [{"has_id": [-1]}]}"#).contains("negative"));
        assert!(err(r#"{"mustnt": []}"#).contains("mustnt"));
    }
}
