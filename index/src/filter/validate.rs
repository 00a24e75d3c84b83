//! Checking a filter against the collection's payload schema and size limits
//! before it is planned.

use std::collections::BTreeMap;

use super::{Condition, Filter, MatchValue, Range};
use crate::PayloadType;

/// Size limits on a filter, so that one request cannot make planning expensive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Deepest allowed nesting: the top-level filter is at depth 0 and every
    /// [`Condition::Nested`] adds one, so `0` forbids nested filters.
    pub max_depth: usize,
    /// Most conditions allowed in total, counting nested ones and each
    /// [`Condition::Nested`] itself.
    pub max_conditions: usize,
}

impl Default for FilterLimits {
    /// Depth 8, 256 conditions.
    fn default() -> Self {
        Self {
            max_depth: 8,
            max_conditions: 256,
        }
    }
}

/// Why a filter was rejected, and where: `path` names the offending condition
/// as the user wrote it, e.g. `must[1].range` or `should[0].must[2].match.any`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter.{path}: {reason}")]
pub struct FilterError {
    /// Location of the offending part, relative to the filter.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Filter {
    /// Checks the filter against the payload `schema` (indexed fields and their
    /// types) and the size `limits`.
    ///
    /// Rejected: an empty key or one with an empty path segment; `match` with a
    /// value whose type differs from the field's indexed type (an integer value on
    /// a float field is accepted); `range` on a keyword or bool field, without any
    /// bound, or with a NaN bound; an empty `match.any` or `has_id` list; nesting
    /// deeper than `limits.max_depth`; more than `limits.max_conditions`
    /// conditions. Fields absent from the schema are accepted: they are evaluated
    /// by reading payloads.
    pub fn validate(
        &self,
        schema: &BTreeMap<String, PayloadType>,
        limits: &FilterLimits,
    ) -> Result<(), FilterError> {
        let mut checker = Checker {
            schema,
            limits,
            seen: 0,
        };
        checker.filter(self, "", 0)
    }
}

struct Checker<'a> {
    schema: &'a BTreeMap<String, PayloadType>,
    limits: &'a FilterLimits,
    seen: usize,
}

fn error(path: impl Into<String>, reason: impl Into<String>) -> FilterError {
    FilterError {
        path: path.into(),
        reason: reason.into(),
    }
}

impl Checker<'_> {
    fn filter(&mut self, filter: &Filter, prefix: &str, depth: usize) -> Result<(), FilterError> {
        let clauses = [
            ("must", &filter.must),
            ("should", &filter.should),
            ("must_not", &filter.must_not),
        ];
        for (clause, conditions) in clauses {
            for (i, condition) in conditions.iter().enumerate() {
                let path = format!("{prefix}{clause}[{i}]");
                self.seen += 1;
                if self.seen > self.limits.max_conditions {
                    let max = self.limits.max_conditions;
                    return Err(error(
                        path,
                        format!("more than {max} conditions in the filter"),
                    ));
                }
                self.condition(condition, &path, depth)?;
            }
        }
        Ok(())
    }

    fn condition(
        &mut self,
        condition: &Condition,
        path: &str,
        depth: usize,
    ) -> Result<(), FilterError> {
        if let Some(key) = condition.key() {
            check_key(key, path)?;
        }
        match condition {
            Condition::Match { key, value } => {
                self.match_value(key, value, &format!("{path}.match"))
            }
            Condition::MatchText { words, .. } if words.is_empty() => Err(error(
                format!("{path}.match.text"),
                "the text holds no word to match",
            )),
            Condition::MatchText { .. } => Ok(()),
            Condition::MatchAny { key, any } => {
                if any.is_empty() {
                    return Err(error(
                        format!("{path}.match.any"),
                        "the list of values is empty",
                    ));
                }
                any.iter().enumerate().try_for_each(|(i, value)| {
                    self.match_value(key, value, &format!("{path}.match.any[{i}]"))
                })
            }
            Condition::Range { key, range } => self.range(key, range, &format!("{path}.range")),
            Condition::Exists { .. } => Ok(()),
            Condition::HasId(ids) if ids.is_empty() => {
                Err(error(format!("{path}.has_id"), "the list of ids is empty"))
            }
            Condition::HasId(_) => Ok(()),
            Condition::Nested(inner) => {
                if depth + 1 > self.limits.max_depth {
                    let max = self.limits.max_depth;
                    return Err(error(
                        path,
                        format!("filters nested deeper than {max} levels"),
                    ));
                }
                self.filter(inner, &format!("{path}."), depth + 1)
            }
        }
    }

    fn match_value(&self, key: &str, value: &MatchValue, path: &str) -> Result<(), FilterError> {
        let Some(&field) = self.schema.get(key) else {
            return Ok(());
        };
        let (accepted, given) = match value {
            MatchValue::Keyword(_) if field == PayloadType::Text => {
                return Err(error(
                    path,
                    format!(
                        "field `{key}` is indexed as text: match its words with `match: {{\"text\": ...}}`"
                    ),
                ));
            }
            MatchValue::Keyword(_) => (field == PayloadType::Keyword, "a keyword"),
            MatchValue::Integer(_) => (
                matches!(field, PayloadType::Integer | PayloadType::Float),
                "an integer",
            ),
            MatchValue::Bool(_) => (field == PayloadType::Bool, "a bool"),
        };
        if accepted {
            Ok(())
        } else {
            let ty = field.as_str();
            Err(error(
                path,
                format!("field `{key}` is indexed as {ty}, but the value is {given}"),
            ))
        }
    }

    fn range(&self, key: &str, range: &Range, path: &str) -> Result<(), FilterError> {
        if let Some(&field @ (PayloadType::Keyword | PayloadType::Bool | PayloadType::Text)) =
            self.schema.get(key)
        {
            let ty = field.as_str();
            return Err(error(
                path,
                format!(
                    "field `{key}` is indexed as {ty}; a range needs an integer or float field"
                ),
            ));
        }
        if range.is_unbounded() {
            return Err(error(
                path,
                "a range needs at least one of gt, gte, lt, lte",
            ));
        }
        let bounds = [
            ("gt", range.gt),
            ("gte", range.gte),
            ("lt", range.lt),
            ("lte", range.lte),
        ];
        for (name, bound) in bounds {
            if bound.is_some_and(f64::is_nan) {
                return Err(error(format!("{path}.{name}"), "the bound is not a number"));
            }
        }
        Ok(())
    }
}

fn check_key(key: &str, path: &str) -> Result<(), FilterError> {
    if key.is_empty() {
        Err(error(format!("{path}.key"), "the key is empty"))
    } else if key.split('.').any(str::is_empty) {
        Err(error(
            format!("{path}.key"),
            format!("the key `{key}` has an empty path segment"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PointId;

    fn schema() -> BTreeMap<String, PayloadType> {
        [
            ("pos", PayloadType::Keyword),
            ("len", PayloadType::Integer),
            ("score", PayloadType::Float),
            ("ok", PayloadType::Bool),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_owned(), t))
        .collect()
    }

    fn must(conditions: Vec<Condition>) -> Filter {
        Filter {
            must: conditions,
            ..Filter::default()
        }
    }

    fn check(filter: &Filter) -> Result<(), FilterError> {
        filter.validate(&schema(), &FilterLimits::default())
    }

    fn fails_at(filter: Filter, path: &str) -> FilterError {
        let err = check(&filter).expect_err("filter should be rejected");
        assert_eq!(err.path, path, "{err}");
        err
    }

    fn matching(key: &str, value: MatchValue) -> Condition {
        Condition::Match {
            key: key.into(),
            value,
        }
    }

    fn gte(key: &str, b: f64) -> Condition {
        Condition::Range {
            key: key.into(),
            range: Range {
                gte: Some(b),
                ..Range::default()
            },
        }
    }

    #[test]
    fn accepts_well_typed_and_unindexed_conditions() {
        let filter = Filter {
            must: vec![
                matching("pos", MatchValue::Keyword("verb".into())),
                matching("len", MatchValue::Integer(3)),
                matching("score", MatchValue::Integer(3)),
                matching("ok", MatchValue::Bool(true)),
                gte("len", 1.0),
                gte("score", 0.5),
                matching("free", MatchValue::Bool(true)),
                gte("free", 1.0),
            ],
            should: vec![Condition::HasId(vec![PointId::Num(1)])],
            must_not: vec![Condition::Exists {
                key: "a.b".into(),
                exists: true,
            }],
        };
        assert_eq!(check(&filter), Ok(()));
        assert_eq!(check(&Filter::default()), Ok(()));
    }

    #[test]
    fn rejects_mistyped_match_with_its_path() {
        let filter = must(vec![
            matching("pos", MatchValue::Keyword("verb".into())),
            matching("len", MatchValue::Keyword("3".into())),
        ]);
        let err = fails_at(filter, "must[1].match");
        assert!(err.reason.contains("integer"), "{err}");
        assert!(
            err.to_string().starts_with("filter.must[1].match: "),
            "{err}"
        );
        fails_at(
            must(vec![matching("score", MatchValue::Bool(true))]),
            "must[0].match",
        );
        fails_at(
            must(vec![matching("ok", MatchValue::Integer(1))]),
            "must[0].match",
        );
        fails_at(
            must(vec![matching("pos", MatchValue::Integer(1))]),
            "must[0].match",
        );
        let any = Condition::MatchAny {
            key: "pos".into(),
            any: vec![MatchValue::Keyword("a".into()), MatchValue::Integer(1)],
        };
        fails_at(
            Filter {
                should: vec![any],
                ..Filter::default()
            },
            "should[0].match.any[1]",
        );
    }

    #[test]
    fn rejects_bad_ranges() {
        let err = fails_at(
            must(vec![gte("len", 1.0), gte("pos", 1.0)]),
            "must[1].range",
        );
        assert!(err.reason.contains("keyword"), "{err}");
        fails_at(must(vec![gte("ok", 1.0)]), "must[0].range");
        let open = Condition::Range {
            key: "len".into(),
            range: Range::default(),
        };
        fails_at(must(vec![open]), "must[0].range");
        let nan = Condition::Range {
            key: "free".into(),
            range: Range {
                gte: Some(0.0),
                lt: Some(f64::NAN),
                ..Range::default()
            },
        };
        fails_at(
            Filter {
                must_not: vec![nan],
                ..Filter::default()
            },
            "must_not[0].range.lt",
        );
    }

    #[test]
    fn rejects_empty_keys_and_lists() {
        fails_at(
            must(vec![Condition::Exists {
                key: String::new(),
                exists: true,
            }]),
            "must[0].key",
        );
        fails_at(
            must(vec![Condition::Exists {
                key: "a..b".into(),
                exists: true,
            }]),
            "must[0].key",
        );
        fails_at(
            must(vec![Condition::Exists {
                key: "a.".into(),
                exists: true,
            }]),
            "must[0].key",
        );
        let any = Condition::MatchAny {
            key: "pos".into(),
            any: vec![],
        };
        fails_at(must(vec![any]), "must[0].match.any");
        fails_at(must(vec![Condition::HasId(vec![])]), "must[0].has_id");
    }

    #[test]
    fn nested_paths_and_depth() {
        let inner = must(vec![gte("pos", 1.0)]);
        let filter = Filter {
            should: vec![
                Condition::HasId(vec![PointId::Num(1)]),
                Condition::Nested(inner),
            ],
            ..Filter::default()
        };
        fails_at(filter, "should[1].must[0].range");

        let mut deep = must(vec![Condition::Exists {
            key: "a".into(),
            exists: true,
        }]);
        for _ in 0..3 {
            deep = must(vec![Condition::Nested(deep)]);
        }
        let limits = |max_depth| FilterLimits {
            max_depth,
            max_conditions: 256,
        };
        assert_eq!(deep.validate(&schema(), &limits(3)), Ok(()));
        let err = deep.validate(&schema(), &limits(2)).expect_err("too deep");
        assert_eq!(err.path, "must[0].must[0].must[0]");
        assert!(err.reason.contains("deeper than 2"), "{err}");
    }

    #[test]
    fn counts_conditions_across_nesting() {
        let leaf = || Condition::Exists {
            key: "a".into(),
            exists: true,
        };
        let filter = Filter {
            must: vec![leaf(), Condition::Nested(must(vec![leaf(), leaf()]))],
            must_not: vec![leaf()],
            ..Filter::default()
        };
        let limits = |max_conditions| FilterLimits {
            max_depth: 8,
            max_conditions,
        };
        assert_eq!(filter.validate(&schema(), &limits(5)), Ok(()));
        let err = filter
            .validate(&schema(), &limits(4))
            .expect_err("too many");
        assert_eq!(err.path, "must_not[0]");
        let err = filter
            .validate(&schema(), &limits(2))
            .expect_err("too many");
        assert_eq!(err.path, "must[1].must[0]");
    }
}
