//! How records become points: which columns are the id, the text, the
//! vector and the payload.

use anyhow::{Result, ensure};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ImportArgs;
use super::read::{self, Record};

/// How records become points, settled from the arguments and the first record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Mapping {
    pub(super) id: Option<String>,
    pub(super) text: Vec<String>,
    pub(super) vector: Option<String>,
    pub(super) payload: Option<Vec<String>>,
    /// The collection's full-text field, which holds the joined text: a
    /// column of that name is left out of the default payload.
    pub(super) text_field: Option<String>,
}

impl Mapping {
    pub(super) fn settle(
        args: &ImportArgs,
        first: Option<&Record>,
        text_field: Option<String>,
    ) -> Result<Self> {
        let has = |column: &str| first.is_some_and(|r| r.fields.contains_key(column));
        let id = match &args.id {
            Some(column) => Some(column.clone()),
            None => ["id", "_id"]
                .into_iter()
                .find(|c| has(c))
                .map(str::to_string),
        };
        let text = if !args.text.is_empty() {
            args.text.clone()
        } else if args.vector.is_none() && has("text") {
            ["title", "text"]
                .into_iter()
                .filter(|c| has(c) || *c == "text")
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        ensure!(
            args.text.is_empty() || args.vector.is_none(),
            "give --text or --vector, not both: a point is embedded from its text by the server \
             or carries its vector (name a text column in --payload to keep it, and to index it \
             for lexical queries in a collection with a full-text index)"
        );
        ensure!(
            !text.is_empty() || args.vector.is_some(),
            "say which column(s) hold the text (--text) or the vector (--vector): the first record has no `text` column"
        );
        Ok(Self {
            id,
            text_field: text_field.filter(|_| !text.is_empty()),
            text,
            vector: args.vector.clone(),
            payload: args.payload.clone(),
        })
    }

    /// The point for `record`, or why it has none.
    pub(super) fn point(&self, record: &Record) -> Result<Option<Value>, String> {
        let fields = &record.fields;
        let id = match &self.id {
            Some(column) => match fields.get(column) {
                Some(Value::Number(n)) if n.is_u64() => Value::Number(n.clone()),
                Some(Value::String(s)) if !s.is_empty() => Value::String(s.clone()),
                Some(other) => {
                    return Err(format!(
                        "the id column {column:?} holds {}, not an unsigned integer or a string",
                        read::kind(other)
                    ));
                }
                None => return Err(format!("no id column {column:?}")),
            },
            None => Value::from(record.number),
        };
        let mut point = Map::new();
        point.insert("id".into(), id);
        if !self.text.is_empty() {
            let text = self
                .text
                .iter()
                .filter_map(|c| match fields.get(c) {
                    Some(Value::String(s)) => Some(s.clone()),
                    // A CSV cell such as `true` or `12` was typed on reading.
                    Some(value @ (Value::Number(_) | Value::Bool(_))) => Some(value.to_string()),
                    // Paragraphs as a list of strings.
                    Some(Value::Array(parts)) => Some(
                        parts
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(" ");
            let text = text.trim();
            if text.is_empty() && self.vector.is_none() {
                return Ok(None);
            }
            if !text.is_empty() {
                point.insert("text".into(), Value::from(text));
            }
        }
        if let Some(column) = &self.vector {
            match fields.get(column) {
                Some(Value::Array(v)) if v.iter().all(Value::is_number) && !v.is_empty() => {
                    point.insert("vector".into(), Value::Array(v.clone()));
                }
                Some(other) => {
                    return Err(format!(
                        "the vector column {column:?} holds {}, not an array of numbers",
                        read::kind(other)
                    ));
                }
                None => return Ok(None),
            }
        }
        let payload: Map<String, Value> = match &self.payload {
            Some(columns) => columns
                .iter()
                .filter_map(|c| fields.get(c).map(|v| (c.clone(), v.clone())))
                .collect(),
            None => fields
                .iter()
                .filter(|(k, _)| {
                    Some(*k) != self.id.as_ref()
                        && !self.text.contains(k)
                        && Some(*k) != self.vector.as_ref()
                        && Some(*k) != self.text_field.as_ref()
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        if !payload.is_empty() {
            point.insert("payload".into(), Value::Object(payload));
        }
        Ok(Some(Value::Object(point)))
    }
}
