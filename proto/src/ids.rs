//! Point ids: unsigned integers, UUIDs, or other strings.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A point id: an unsigned integer, or a string: a UUID (any of its forms
/// names the same point, returned hyphenated and lowercase) or any other
/// string of 1 to 256 bytes, kept and returned exactly as given. The
/// integer `17` and the string `"17"` are different ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PointId {
    /// An unsigned integer.
    Num(u64),
    /// A UUID, or any other string.
    Str(String),
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Str(s) => f.write_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for PointId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = PointId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an unsigned integer or a string (a UUID or any other string of 1 to 256 bytes)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PointId, E> {
                Ok(PointId::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PointId, E> {
                u64::try_from(v).map(PointId::Num).map_err(|_| {
                    E::custom(format!(
                        "id {v} is negative: ids are unsigned integers or strings"
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PointId, E> {
                Err(E::custom(format!(
                    "id {v} is not an integer: ids are unsigned integers or strings"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PointId, E> {
                Ok(PointId::Str(v.to_string()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}
