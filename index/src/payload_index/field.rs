//! One indexed payload field: its typed value structure plus the bitmaps that
//! let the planner know what the structure does not hold.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::mem::size_of;
use std::ops::Bound;

use roaring::{MultiOps, RoaringBitmap};
use serde_json::Value;

use crate::filter::{Condition, IntInterval, MatchValue, Range, exact_f64, visit_values};
use crate::{Offset, Payload, PayloadType};

/// A non-NaN `f64` with `-0.0` folded into `0.0`, totally ordered, so that the
/// key order is IEEE's order and equal numbers share one key.
#[derive(Debug, Clone, Copy)]
pub(super) struct FloatKey(f64);

impl FloatKey {
    /// `None` for NaN.
    pub(super) fn new(f: f64) -> Option<Self> {
        // Adding +0.0 turns -0.0 into +0.0 and leaves every other value alone.
        (!f.is_nan()).then_some(Self(f + 0.0))
    }
}

impl PartialEq for FloatKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FloatKey {}

impl PartialOrd for FloatKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FloatKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The typed structure of one field.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Keyword(HashMap<String, RoaringBitmap>),
    Integer(BTreeMap<i64, RoaringBitmap>),
    Float(BTreeMap<FloatKey, RoaringBitmap>),
    Bool {
        yes: RoaringBitmap,
        no: RoaringBitmap,
    },
    /// Words of the points' texts (as `match: {text}` splits them). A point
    /// with several strings at the key is left to its payload (`unindexed`):
    /// the words of a match must all be in one of them.
    Text(HashMap<String, RoaringBitmap>),
}

/// How one leaf value relates to a field's typed structure.
enum Leaf<'a> {
    Null,
    Keyword(&'a str),
    Integer(i64),
    Float(FloatKey),
    Bool(bool),
    /// A number the structure cannot hold (a fraction in an integer field, an
    /// integer beyond 2^53 that no `f64` equals in a float field, ...).
    ForeignNumber,
    /// Any other value the structure cannot hold.
    Foreign,
}

/// Which of a field's values outside its typed structure might satisfy a
/// condition; ordered from "none" to "all".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unknown {
    None,
    Numbers,
    All,
}

/// What a field's index says about one condition.
#[derive(Debug)]
pub(crate) struct Answer<'a> {
    /// Offsets whose indexed values satisfy the condition.
    pub(crate) matched: Cow<'a, RoaringBitmap>,
    /// Offsets holding values the index does not hold and that might also
    /// satisfy it; `None` when no such value can. Every other offset does not
    /// satisfy the condition.
    pub(crate) unknown: Option<&'a RoaringBitmap>,
}

/// The index of one payload field.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FieldIndex {
    values: Values,
    /// Offsets with at least one non-null value at the key, of any type.
    present: RoaringBitmap,
    /// Offsets with a non-null value the typed structure does not hold.
    unindexed: RoaringBitmap,
    /// Offsets with a number the typed structure does not hold (a subset of `unindexed`).
    unindexed_numbers: RoaringBitmap,
}

/// Approximate heap bytes of one roaring container's header.
const CONTAINER_BYTES: usize = 32;
/// Heap bytes of a roaring bitset container (2^16 bits).
const BITSET_BYTES: usize = 8192;

/// Approximate heap bytes held by a bitmap: 2 bytes per value in array
/// containers, 8 KiB per bitset container, a header per container.
pub(super) fn bitmap_bytes(bitmap: &RoaringBitmap) -> usize {
    let stats = bitmap.statistics();
    stats.n_values_array_containers as usize * 2
        + stats.n_bitset_containers as usize * BITSET_BYTES
        + stats.n_containers as usize * CONTAINER_BYTES
}

impl FieldIndex {
    /// Every value of the field's type with the offsets holding it, for
    /// keyword, integer and bool fields (`None` for float fields, whose
    /// values are ranges' business, not counts').
    pub(super) fn values(&self) -> Option<Vec<(Value, &RoaringBitmap)>> {
        match &self.values {
            Values::Keyword(map) => Some(
                map.iter()
                    .map(|(k, b)| (Value::String(k.clone()), b))
                    .collect(),
            ),
            Values::Integer(map) => Some(map.iter().map(|(&i, b)| (Value::from(i), b)).collect()),
            Values::Bool { yes, no } => {
                Some(vec![(Value::Bool(true), yes), (Value::Bool(false), no)])
            }
            Values::Float(_) | Values::Text(_) => None,
        }
    }

    pub(super) fn new(ty: PayloadType) -> Self {
        let values = match ty {
            PayloadType::Keyword => Values::Keyword(HashMap::new()),
            PayloadType::Integer => Values::Integer(BTreeMap::new()),
            PayloadType::Float => Values::Float(BTreeMap::new()),
            PayloadType::Bool => Values::Bool {
                yes: RoaringBitmap::new(),
                no: RoaringBitmap::new(),
            },
            PayloadType::Text => Values::Text(HashMap::new()),
        };
        Self {
            values,
            present: RoaringBitmap::new(),
            unindexed: RoaringBitmap::new(),
            unindexed_numbers: RoaringBitmap::new(),
        }
    }

    fn classify<'v>(&self, value: &'v Value) -> Leaf<'v> {
        match (&self.values, value) {
            (_, Value::Null) => Leaf::Null,
            (Values::Keyword(_), Value::String(s)) => Leaf::Keyword(s),
            (Values::Integer(_), Value::Number(n)) => {
                let int = n.as_i64().or_else(|| {
                    let f = n.as_f64()?;
                    // i64::MIN is -2^63, exactly representable; i64 holds [-2^63, 2^63).
                    let min = i64::MIN as f64;
                    let in_range = (min..-min).contains(&f);
                    (f.fract() == 0.0 && in_range).then_some(f as i64)
                });
                int.map_or(Leaf::ForeignNumber, Leaf::Integer)
            }
            (Values::Float(_), Value::Number(n)) => exact_f64(n)
                .and_then(FloatKey::new)
                .map_or(Leaf::ForeignNumber, Leaf::Float),
            (Values::Bool { .. }, Value::Bool(b)) => Leaf::Bool(*b),
            (_, Value::Number(_)) => Leaf::ForeignNumber,
            _ => Leaf::Foreign,
        }
    }

    /// For a text field, the one string at `key` of `payload` (`None`
    /// inside when there is none, or several); `None` for other fields.
    fn single_text(&self, key: &str, payload: &Payload) -> Option<Option<String>> {
        if !matches!(self.values, Values::Text(_)) {
            return None;
        }
        let mut strings = Vec::new();
        visit_values(payload, key, &mut |value| {
            if let Value::String(s) = value {
                strings.push(s.clone());
            }
            strings.len() > 1
        });
        Some(if strings.len() == 1 {
            strings.pop()
        } else {
            None
        })
    }

    /// Adds every value of `payload` at `key` under `offset`.
    pub(super) fn insert(&mut self, key: &str, offset: Offset, payload: &Payload) {
        if let Some(single) = self.single_text(key, payload) {
            let (mut present, mut strings) = (false, 0);
            visit_values(payload, key, &mut |value| {
                present |= !value.is_null();
                strings += usize::from(value.is_string());
                false
            });
            if present {
                self.present.insert(offset);
            }
            // Other values never match a text; several strings are read
            // from the payload (a match needs its words in one of them).
            match (single, &mut self.values) {
                (Some(text), Values::Text(map)) => {
                    for word in crate::filter::words(&text) {
                        map.entry(word).or_default().insert(offset);
                    }
                }
                _ if strings > 1 => {
                    self.unindexed.insert(offset);
                }
                _ => {}
            }
            return;
        }
        visit_values(payload, key, &mut |value| {
            let leaf = self.classify(value);
            if !matches!(leaf, Leaf::Null) {
                self.present.insert(offset);
            }
            match (&mut self.values, leaf) {
                (_, Leaf::Null) => {}
                (Values::Keyword(map), Leaf::Keyword(s)) => match map.get_mut(s) {
                    Some(bitmap) => {
                        bitmap.insert(offset);
                    }
                    None => {
                        map.insert(s.to_owned(), RoaringBitmap::from([offset]));
                    }
                },
                (Values::Integer(map), Leaf::Integer(i)) => {
                    map.entry(i).or_default().insert(offset);
                }
                (Values::Float(map), Leaf::Float(f)) => {
                    map.entry(f).or_default().insert(offset);
                }
                (Values::Bool { yes, no }, Leaf::Bool(b)) => {
                    if b { yes } else { no }.insert(offset);
                }
                (_, Leaf::ForeignNumber) => {
                    self.unindexed.insert(offset);
                    self.unindexed_numbers.insert(offset);
                }
                _ => {
                    self.unindexed.insert(offset);
                }
            }
            false
        });
    }

    /// Removes what [`Self::insert`] added for the same `payload`.
    pub(super) fn remove(&mut self, key: &str, offset: Offset, payload: &Payload) {
        if let (Some(Some(text)), Values::Text(map)) =
            (self.single_text(key, payload), &mut self.values)
        {
            for word in crate::filter::words(&text) {
                if let Some(bitmap) = map.get_mut(&word) {
                    bitmap.remove(offset);
                    if bitmap.is_empty() {
                        map.remove(&word);
                    }
                }
            }
        }
        visit_values(payload, key, &mut |value| {
            let leaf = self.classify(value);
            match (&mut self.values, leaf) {
                (Values::Keyword(map), Leaf::Keyword(s)) => {
                    if let Some(bitmap) = map.get_mut(s) {
                        bitmap.remove(offset);
                        if bitmap.is_empty() {
                            map.remove(s);
                        }
                    }
                }
                (Values::Integer(map), Leaf::Integer(i)) => unlist(map, &i, offset),
                (Values::Float(map), Leaf::Float(f)) => unlist(map, &f, offset),
                (Values::Bool { yes, no }, Leaf::Bool(b)) => {
                    if b { yes } else { no }.remove(offset);
                }
                _ => {}
            }
            false
        });
        self.present.remove(offset);
        self.unindexed.remove(offset);
        self.unindexed_numbers.remove(offset);
    }

    /// Removes `offset` everywhere, without its payload (visits every bitmap).
    pub(super) fn remove_offset(&mut self, offset: Offset) {
        match &mut self.values {
            Values::Keyword(map) | Values::Text(map) => {
                map.retain(|_, b| !(b.remove(offset) && b.is_empty()))
            }
            Values::Integer(map) => map.retain(|_, b| !(b.remove(offset) && b.is_empty())),
            Values::Float(map) => map.retain(|_, b| !(b.remove(offset) && b.is_empty())),
            Values::Bool { yes, no } => {
                yes.remove(offset);
                no.remove(offset);
            }
        }
        self.present.remove(offset);
        self.unindexed.remove(offset);
        self.unindexed_numbers.remove(offset);
    }

    fn unknown(&self, unknown: Unknown) -> Option<&RoaringBitmap> {
        match unknown {
            Unknown::None => None,
            Unknown::Numbers => Some(&self.unindexed_numbers),
            Unknown::All => Some(&self.unindexed),
        }
    }

    /// The offsets holding `value`, and which unheld values might also equal it.
    fn lookup(&self, value: &MatchValue) -> (Option<&RoaringBitmap>, Unknown) {
        match (&self.values, value) {
            (Values::Keyword(map), MatchValue::Keyword(s)) => (map.get(s), Unknown::None),
            (Values::Integer(map), MatchValue::Integer(i)) => (map.get(i), Unknown::None),
            (Values::Float(map), MatchValue::Integer(i)) => {
                match exact_f64(&(*i).into()).and_then(FloatKey::new) {
                    Some(key) => (map.get(&key), Unknown::None),
                    // No f64 equals `i`, so only an unheld integer can.
                    None => (None, Unknown::Numbers),
                }
            }
            (Values::Bool { yes, no }, MatchValue::Bool(b)) => {
                (Some(if *b { yes } else { no }), Unknown::None)
            }
            (_, MatchValue::Integer(_)) => (None, Unknown::Numbers),
            _ => (None, Unknown::All),
        }
    }

    /// What the index says about a payload condition on this field; `live` is
    /// only read to complement `exists: false`.
    pub(super) fn answer(&self, condition: &Condition, live: &RoaringBitmap) -> Option<Answer<'_>> {
        if let Values::Text(map) = &self.values {
            let matched = match condition {
                Condition::MatchText { words, .. } => {
                    let lists: Option<Vec<&RoaringBitmap>> =
                        words.iter().map(|w| map.get(w)).collect();
                    // A word no indexed text holds: none of them matches.
                    Cow::Owned(
                        lists.map_or_else(RoaringBitmap::new, |l| l.into_iter().intersection()),
                    )
                }
                Condition::Exists { exists: true, .. } => Cow::Borrowed(&self.present),
                Condition::Exists { exists: false, .. } => Cow::Owned(live - &self.present),
                // Values are answered from the payloads.
                _ => return None,
            };
            let unknown =
                matches!(condition, Condition::MatchText { .. }).then_some(&self.unindexed);
            return Some(Answer { matched, unknown });
        }
        let (matched, unknown) = match condition {
            Condition::Match { value, .. } => match self.lookup(value) {
                (Some(bitmap), unknown) => (Cow::Borrowed(bitmap), unknown),
                (None, unknown) => (Cow::Owned(RoaringBitmap::new()), unknown),
            },
            Condition::MatchAny { any, .. } => {
                let mut worst = Unknown::None;
                let found: Vec<&RoaringBitmap> = any
                    .iter()
                    .filter_map(|value| {
                        let (bitmap, unknown) = self.lookup(value);
                        worst = worst.max(unknown);
                        bitmap
                    })
                    .collect();
                (Cow::Owned(found.union()), worst)
            }
            Condition::Range { range, .. } => self.range(range),
            Condition::Exists { exists: true, .. } => (Cow::Borrowed(&self.present), Unknown::None),
            Condition::Exists { exists: false, .. } => {
                (Cow::Owned(live - &self.present), Unknown::None)
            }
            // Words of a text: no index answers them; each point is read.
            Condition::MatchText { .. } | Condition::HasId(_) | Condition::Nested(_) => {
                return None;
            }
        };
        Some(Answer {
            matched,
            unknown: self.unknown(unknown),
        })
    }

    fn range(&self, range: &Range) -> (Cow<'_, RoaringBitmap>, Unknown) {
        if range.has_nan() {
            // Nothing compares true with NaN.
            return (Cow::Owned(RoaringBitmap::new()), Unknown::None);
        }
        let matched = match &self.values {
            Values::Integer(map) => match IntInterval::of(range).and_then(IntInterval::to_i64) {
                Some((lo, hi)) => map.range(lo..=hi).map(|(_, b)| b).union(),
                None => RoaringBitmap::new(),
            },
            Values::Float(map) => match float_bounds(range) {
                Some(bounds) => map.range(bounds).map(|(_, b)| b).union(),
                None => RoaringBitmap::new(),
            },
            Values::Keyword(_) | Values::Bool { .. } | Values::Text(_) => RoaringBitmap::new(),
        };
        (Cow::Owned(matched), Unknown::Numbers)
    }

    /// Approximate heap bytes held (see [`bitmap_bytes`]; hash and B-tree maps
    /// are counted per slot with their per-entry overhead).
    pub(super) fn ram_bytes(&self) -> usize {
        let entry = |key: usize| key + size_of::<RoaringBitmap>();
        let values = match &self.values {
            Values::Keyword(map) | Values::Text(map) => {
                // One control byte per hash slot.
                map.capacity() * (entry(size_of::<String>()) + 1)
                    + map
                        .iter()
                        .map(|(k, b)| k.capacity() + bitmap_bytes(b))
                        .sum::<usize>()
            }
            // B-tree nodes are on average about two-thirds full.
            Values::Integer(map) => {
                map.len() * entry(size_of::<i64>()) * 3 / 2
                    + map.values().map(bitmap_bytes).sum::<usize>()
            }
            Values::Float(map) => {
                map.len() * entry(size_of::<FloatKey>()) * 3 / 2
                    + map.values().map(bitmap_bytes).sum::<usize>()
            }
            Values::Bool { yes, no } => bitmap_bytes(yes) + bitmap_bytes(no),
        };
        values
            + bitmap_bytes(&self.present)
            + bitmap_bytes(&self.unindexed)
            + bitmap_bytes(&self.unindexed_numbers)
    }
}

/// Removes `offset` from the bitmap of `key`, and the key once its bitmap is empty.
fn unlist<K: Ord>(map: &mut BTreeMap<K, RoaringBitmap>, key: &K, offset: Offset) {
    if let Some(bitmap) = map.get_mut(key) {
        bitmap.remove(offset);
        if bitmap.is_empty() {
            map.remove(key);
        }
    }
}

/// The key bounds equivalent to `range` on non-NaN floats, or `None` when no
/// float satisfies it (so `BTreeMap::range` is never given crossed bounds).
fn float_bounds(range: &Range) -> Option<(Bound<FloatKey>, Bound<FloatKey>)> {
    let mut lo = Bound::Unbounded;
    if let Some(b) = range.gte {
        lo = Bound::Included(FloatKey::new(b)?);
    }
    if let Some(b) = range.gt {
        let b = FloatKey::new(b)?;
        lo = match lo {
            Bound::Included(x) if x > b => Bound::Included(x),
            _ => Bound::Excluded(b),
        };
    }
    let mut hi = Bound::Unbounded;
    if let Some(b) = range.lte {
        hi = Bound::Included(FloatKey::new(b)?);
    }
    if let Some(b) = range.lt {
        let b = FloatKey::new(b)?;
        hi = match hi {
            Bound::Included(x) if x < b => Bound::Included(x),
            _ => Bound::Excluded(b),
        };
    }
    let ends = |bound: &Bound<FloatKey>| match bound {
        Bound::Included(x) => Some((*x, true)),
        Bound::Excluded(x) => Some((*x, false)),
        Bound::Unbounded => None,
    };
    if let (Some((a, a_in)), Some((b, b_in))) = (ends(&lo), ends(&hi))
        && (a > b || (a == b && !(a_in && b_in)))
    {
        return None;
    }
    Some((lo, hi))
}
