//! `POST /embed`: text to float, Matryoshka, binary or multi-vector embeddings.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    AnyOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type,
};
use utoipa::openapi::{RefOr, Schema};

/// Which representation `/embed` returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EmbedKind {
    /// The pooled, L2-normalised vector.
    #[default]
    Float,
    /// The first `dims` dimensions of the float vector, renormalised.
    Matryoshka,
    /// Sign bits (and, with `bits` > 1, residual bit planes), packed.
    Binary,
    /// One L2-normalised vector per token (late interaction / ColBERT style).
    Multivector,
}

impl EmbedKind {
    /// The wire name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Float => "float",
            Self::Matryoshka => "matryoshka",
            Self::Binary => "binary",
            Self::Multivector => "multivector",
        }
    }
}

/// How binary codes are written in the answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BinaryEncoding {
    /// Standard base64 of the packed bytes.
    #[default]
    Base64,
    /// The packed bits as little-endian `u64` words (dimension `j` is bit `j % 64` of word `j / 64`).
    U64,
}

/// Body of `POST /embed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequest {
    /// The texts to embed. An empty string is embedded as sentence-transformers does.
    pub inputs: Vec<String>,
    /// The representation to return (default `float`).
    #[serde(default)]
    pub kind: EmbedKind,
    /// For `matryoshka`: the prefix length `k` (1 ..= the model's dimension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dims: Option<usize>,
    /// For `binary`: bits per dimension, 1, 2 or 4 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits: Option<u8>,
    /// For `binary`: `base64` (default) or `u64` words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_encoding: Option<BinaryEncoding>,
}

/// One embedding in an `/embed` answer; its form depends on the requested kind.
///
/// Its schema is written by hand: the derived one is a `oneOf`, which an
/// array of `u64` words breaks (it is also an array of numbers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Embedding {
    /// `float` and `matryoshka`: an array of numbers.
    Dense(Vec<f32>),
    /// `binary` with `base64` encoding: the packed bit planes.
    Packed(String),
    /// `binary` with `u64` encoding: the packed bit planes as words.
    Words(Vec<u64>),
    /// `multivector`: one vector per token.
    Multi(Vec<Vec<f32>>),
}

impl utoipa::PartialSchema for Embedding {
    /// `anyOf` the four forms: the answer's `kind` says which one it is.
    fn schema() -> RefOr<Schema> {
        let floats = || {
            ObjectBuilder::new()
                .schema_type(Type::Number)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Float)))
        };
        let words = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(0));
        AnyOfBuilder::new()
            .description(Some(
                "One embedding; its form depends on the requested kind (see `kind`).",
            ))
            .item(
                ArrayBuilder::new()
                    .items(floats())
                    .description(Some("`float` and `matryoshka`: an array of numbers.")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "`binary` with `base64` encoding: the packed bit planes.",
                    )),
            )
            .item(ArrayBuilder::new().items(words).description(Some(
                "`binary` with `u64` encoding: the packed bit planes as words.",
            )))
            .item(
                ArrayBuilder::new()
                    .items(ArrayBuilder::new().items(floats()))
                    .description(Some("`multivector`: one vector per token.")),
            )
            .into()
    }
}

impl ToSchema for Embedding {}

/// Token accounting of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    /// Tokens fed to the model, special tokens included, after truncation.
    pub tokens: u64,
}

/// Answer of `POST /embed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EmbedResponse {
    /// The model that produced the embeddings.
    pub model: String,
    /// The representation returned.
    pub kind: EmbedKind,
    /// One embedding per input, in input order.
    pub embeddings: Vec<Embedding>,
    /// Per input: whether it was cut at the model's maximum token count.
    pub truncated: Vec<bool>,
    /// For `binary`: per input, the scale of each bit plane (plane 0 first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scales: Option<Vec<Vec<f32>>>,
    /// Token accounting.
    pub usage: Usage,
}
