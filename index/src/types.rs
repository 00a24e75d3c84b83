//! Plain domain types shared by the index's modules.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point's external id: an unsigned integer, a UUID, or any other string
/// of 1 to [`MAX_STRING_ID_BYTES`] bytes, kept exactly as given. Ids of
/// different kinds never equal each other, and sort numbers first, then
/// UUIDs, then strings (by their bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "WireId", try_from = "WireId")]
pub enum PointId {
    /// An unsigned integer id.
    Num(u64),
    /// A UUID id.
    Uuid(uuid::Uuid),
    /// A string id (cheap to clone).
    Str(std::sync::Arc<str>),
}

/// A point id between processes (a cluster node forwards points): the kind
/// is kept, so a string that looks like a number stays a string.
#[derive(Serialize, Deserialize)]
enum WireId {
    Num(u64),
    Uuid(uuid::Uuid),
    Str(String),
}

impl From<PointId> for WireId {
    fn from(id: PointId) -> Self {
        match id {
            PointId::Num(n) => Self::Num(n),
            PointId::Uuid(u) => Self::Uuid(u),
            PointId::Str(s) => Self::Str(s.to_string()),
        }
    }
}

impl TryFrom<WireId> for PointId {
    type Error = String;

    fn try_from(id: WireId) -> Result<Self, String> {
        match id {
            WireId::Num(n) => Ok(Self::Num(n)),
            WireId::Uuid(u) => Ok(Self::Uuid(u)),
            WireId::Str(s) => {
                Self::string(&s).ok_or_else(|| format!("a string id of {} bytes", s.len()))
            }
        }
    }
}

/// Longest string id, in bytes of UTF-8.
pub const MAX_STRING_ID_BYTES: usize = 256;

impl PointId {
    /// A string id; `None` when it is empty or longer than
    /// [`MAX_STRING_ID_BYTES`].
    pub fn string(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= MAX_STRING_ID_BYTES).then(|| Self::Str(s.into()))
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Uuid(u) => write!(f, "{u}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// A point's payload: a JSON object.
pub type Payload = serde_json::Map<String, serde_json::Value>;

/// Internal, dense position of a point inside a collection (index into its arrays
/// and id in its bitmaps). Never exposed outside the crate's API.
pub type Offset = u32;

/// How a payload field is indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PayloadType {
    /// Exact string values; `match` by value or any-of.
    Keyword,
    /// Signed 64-bit integers; `match` and `range`.
    Integer,
    /// 64-bit floats; `range`.
    Float,
    /// Booleans; `match`.
    Bool,
    /// Texts, by word: `match: {text}` (every word of the query in one of
    /// the field's strings).
    Text,
}

impl PayloadType {
    /// The name used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Integer => "integer",
            Self::Float => "float",
            Self::Bool => "bool",
            Self::Text => "text",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_kind_between_processes() {
        let ids = [
            PointId::Num(7),
            PointId::Uuid(uuid::Uuid::from_u128(7)),
            PointId::string("7").unwrap(),
        ];
        for id in ids {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(
                serde_json::from_str::<PointId>(&json).unwrap(),
                id,
                "{json}"
            );
        }
        let long = format!("{{\"Str\":\"{}\"}}", "x".repeat(MAX_STRING_ID_BYTES + 1));
        assert!(serde_json::from_str::<PointId>(&long).is_err());
        assert!(serde_json::from_str::<PointId>(r#"{"Str":""}"#).is_err());
    }
}
