//! Filters over payloads and ids: the domain filter language.
//!
//! A [`Filter`] is three lists of [`Condition`]s with Qdrant's semantics: a point
//! matches when **all** `must` conditions hold, **at least one** `should`
//! condition holds (when `should` is not empty) and **no** `must_not` condition
//! holds. The empty filter matches every point.
//!
//! A condition's `key` is a dotted path into the payload object: `"a.b"` reads
//! field `b` of the object stored under `a`. Arrays met on the way are looked
//! into element by element, and when the value found is an array the condition
//! holds if **any** element satisfies it. Keys containing a literal `.` cannot be
//! addressed.
//!
//! The HTTP layer converts its wire types into these; [`Filter::validate`] checks
//! a filter against the collection's payload schema before it is planned, and
//! [`Filter::matches`] evaluates it on one point by reading its payload (the
//! planner in [`crate::planner`] answers the same question from the payload index).
//!
//! ```
//! use std::collections::BTreeMap;
//! use trawl_index::PointId;
//! use trawl_index::filter::{Condition, Filter, MatchValue, Range};
//!
//! let filter = Filter {
//!     must: vec![
//!         Condition::Match { key: "pos".into(), value: MatchValue::Keyword("verb".into()) },
//!         Condition::Range { key: "len".into(), range: Range { gte: Some(2.0), ..Range::default() } },
//!     ],
//!     ..Filter::default()
//! };
//! let payload = serde_json::json!({"pos": ["noun", "verb"], "len": 3});
//! let payload = payload.as_object().expect("an object");
//! assert!(filter.matches(&PointId::Num(1), Some(payload)));
//! assert!(filter.validate(&BTreeMap::new(), &Default::default()).is_ok());
//! ```

mod eval;
mod path;
#[cfg(test)]
pub(crate) mod testgen;
mod validate;

pub(crate) use eval::{IntInterval, exact_f64};
pub(crate) use path::visit_values;
pub use validate::{FilterError, FilterLimits};

use crate::PointId;

/// A boolean combination of [`Condition`]s (Qdrant's `must` / `should` / `must_not`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    /// Every condition must hold.
    pub must: Vec<Condition>,
    /// At least one condition must hold, unless the list is empty.
    pub should: Vec<Condition>,
    /// No condition may hold.
    pub must_not: Vec<Condition>,
}

impl Filter {
    /// Whether the filter has no condition at all (and so matches every point).
    pub fn is_empty(&self) -> bool {
        self.must.is_empty() && self.should.is_empty() && self.must_not.is_empty()
    }
}

/// One condition on a point's payload or id.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The value at `key` equals `value` (for an array: one element does).
    Match {
        /// Dotted path into the payload.
        key: String,
        /// The value to compare with.
        value: MatchValue,
    },
    /// The text at `key` (a string, or one string of a list) holds every
    /// word of a text: split on non-alphanumerics and lowercased, no
    /// stemming (make it with [`Condition::match_text`]).
    MatchText {
        /// Dotted path into the payload.
        key: String,
        /// The words, lowercased.
        words: Vec<String>,
    },
    /// The value at `key` equals one of `any`.
    MatchAny {
        /// Dotted path into the payload.
        key: String,
        /// The accepted values; must not be empty.
        any: Vec<MatchValue>,
    },
    /// The number at `key` lies within `range` (integers and floats alike).
    Range {
        /// Dotted path into the payload.
        key: String,
        /// The bounds; at least one must be set.
        range: Range,
    },
    /// `key` holds a non-null value (an empty array or `null` counts as absent)
    /// when `exists` is true; the negation when it is false.
    Exists {
        /// Dotted path into the payload.
        key: String,
        /// Whether the field must be present (`true`) or absent (`false`).
        exists: bool,
    },
    /// The point's id is one of these; the list must not be empty.
    HasId(Vec<PointId>),
    /// A nested filter, which holds when the point matches it.
    Nested(Filter),
}

impl Condition {
    /// `match: {text}` on `key`: every word of `text` must appear there.
    pub fn match_text(key: impl Into<String>, text: &str) -> Self {
        Self::MatchText {
            key: key.into(),
            words: words(text),
        }
    }

    /// The payload key the condition reads, if it reads one.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Match { key, .. }
            | Self::MatchText { key, .. }
            | Self::MatchAny { key, .. }
            | Self::Range { key, .. }
            | Self::Exists { key, .. } => Some(key),
            Self::HasId(_) | Self::Nested(_) => None,
        }
    }
}

/// A value a [`Condition::Match`] compares payload values with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MatchValue {
    /// Equal to a JSON string.
    Keyword(String),
    /// Equal to a JSON number of that integral value (`3` and `3.0` both match `Integer(3)`).
    Integer(i64),
    /// Equal to a JSON boolean.
    Bool(bool),
}

/// Bounds on a number; every bound that is set must hold.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    /// Strictly greater than.
    pub gt: Option<f64>,
    /// Greater than or equal to.
    pub gte: Option<f64>,
    /// Strictly less than.
    pub lt: Option<f64>,
    /// Less than or equal to.
    pub lte: Option<f64>,
}

impl Range {
    /// Whether no bound is set.
    pub fn is_unbounded(&self) -> bool {
        self.gt.is_none() && self.gte.is_none() && self.lt.is_none() && self.lte.is_none()
    }

    /// Whether any bound is NaN (such a range matches nothing).
    pub fn has_nan(&self) -> bool {
        [self.gt, self.gte, self.lt, self.lte]
            .into_iter()
            .flatten()
            .any(f64::is_nan)
    }

    /// Whether the float `x` satisfies every bound (exact IEEE comparisons).
    pub fn contains_f64(&self, x: f64) -> bool {
        self.gt.is_none_or(|b| x > b)
            && self.gte.is_none_or(|b| x >= b)
            && self.lt.is_none_or(|b| x < b)
            && self.lte.is_none_or(|b| x <= b)
    }
}

/// The words of `text` as `match: {text}` compares them: split on
/// non-alphanumerics (tantivy's simple tokenizer), lowercased.
pub(crate) fn words(text: &str) -> Vec<String> {
    use std::cell::RefCell;
    use tantivy::tokenizer::{LowerCaser, SimpleTokenizer, TextAnalyzer};
    thread_local! {
        // Built once per thread: a filter reads every candidate's text.
        static ANALYSER: RefCell<TextAnalyzer> = RefCell::new(
            TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).build(),
        );
    }
    ANALYSER.with_borrow_mut(|analyser| {
        let mut stream = analyser.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            words.push(stream.token().text.clone());
        }
        words
    })
}
