//! Point ids: unsigned integers or UUID strings.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A point id: an unsigned integer or a UUID string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PointId {
    /// An unsigned integer.
    Num(u64),
    /// A UUID in its canonical string form.
    Uuid(String),
}

impl std::fmt::Display for PointId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Num(n) => write!(f, "{n}"),
            Self::Uuid(u) => f.write_str(u),
        }
    }
}

impl<'de> Deserialize<'de> for PointId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl Visitor<'_> for IdVisitor {
            type Value = PointId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an unsigned integer or a UUID string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PointId, E> {
                Ok(PointId::Num(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PointId, E> {
                u64::try_from(v).map(PointId::Num).map_err(|_| {
                    E::custom(format!(
                        "id {v} is negative: ids are unsigned integers or UUID strings"
                    ))
                })
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PointId, E> {
                Err(E::custom(format!(
                    "id {v} is not an integer: ids are unsigned integers or UUID strings"
                )))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PointId, E> {
                Ok(PointId::Uuid(v.to_string()))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}
