//! `POST /v1/embeddings`: the OpenAI-compatible embeddings endpoint.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `input`: one text, several texts, or the same as token ids of the served
/// model's own tokenizer (one list of ids, or a list of such lists).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiInput {
    /// A single text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
    /// One input as token ids (special tokens included, as the tokenizer's
    /// `encode` gives them); fed to the model as given.
    Tokens(Vec<u32>),
    /// Several inputs as token ids.
    ManyTokens(Vec<Vec<u32>>),
}

impl OpenAiInput {
    /// How many inputs there are.
    pub fn len(&self) -> usize {
        match self {
            Self::One(_) | Self::Tokens(_) => 1,
            Self::Many(texts) => texts.len(),
            Self::ManyTokens(ids) => ids.len(),
        }
    }

    /// True when there is no input at all (`[]`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

const INPUT_SHAPES: &str = "a string, an array of strings, an array of token ids \
    (non-negative integers) or an array of arrays of token ids";

impl<'de> Deserialize<'de> for OpenAiInput {
    /// One pass over the JSON value, so that a wrong shape gets one message
    /// naming the accepted ones (an untagged enum says only "did not match").
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        use serde_json::Value;
        let id = |value: &Value, at: String| {
            value
                .as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| {
                    D::Error::custom(format!(
                        "{at}: token ids are integers from 0 to 4294967295, got {value}"
                    ))
                })
        };
        let items = match Value::deserialize(deserializer)? {
            Value::String(text) => return Ok(Self::One(text)),
            Value::Array(items) => items,
            other => {
                return Err(D::Error::custom(format!(
                    "must be {INPUT_SHAPES}, got {}",
                    kind(&other)
                )));
            }
        };
        match items.first() {
            None => Ok(Self::Many(Vec::new())),
            Some(Value::String(_)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) => Ok(text),
                    other => Err(D::Error::custom(format!(
                        "input[{i}]: an array of texts holds only strings, got {}",
                        kind(&other)
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(Self::Many),
            Some(Value::Number(_)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| id(item, format!("input[{i}]")))
                .collect::<Result<_, _>>()
                .map(Self::Tokens),
            Some(Value::Array(_)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::Array(ids) => ids
                        .iter()
                        .enumerate()
                        .map(|(j, value)| id(value, format!("input[{i}][{j}]")))
                        .collect::<Result<Vec<u32>, _>>(),
                    other => Err(D::Error::custom(format!(
                        "input[{i}]: an array of token-id arrays holds only arrays, got {}",
                        kind(other)
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(Self::ManyTokens),
            Some(other) => Err(D::Error::custom(format!(
                "must be {INPUT_SHAPES}; input[0] is {}",
                kind(other)
            ))),
        }
    }
}

/// A JSON value's kind, for messages.
fn kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `encoding_format`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// An array of numbers.
    #[default]
    Float,
    /// Base64 of the little-endian `f32` bytes.
    Base64,
}

/// Body of `POST /v1/embeddings`. Unknown fields (such as `user`) are accepted and ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingsRequest {
    /// The text or texts to embed.
    pub input: OpenAiInput,
    /// The model: the served model's id as `GET /v1/models` lists it (the part
    /// after a `/` and case are ignored, so `sentence-transformers/all-MiniLM-L6-v2`
    /// names `all-minilm-l6-v2`); another model gets 404 `model_not_found`.
    /// Optional: absent means the served model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Matryoshka prefix length; the full dimension when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<usize>,
    /// `float` (default) or `base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_format: Option<EncodingFormat>,
}

/// An embedding as numbers or as base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OpenAiEmbedding {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`.
    Base64(String),
}

/// One entry of `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingData {
    /// Always `"embedding"`.
    pub object: String,
    /// Position of the input.
    pub index: usize,
    /// The embedding.
    pub embedding: OpenAiEmbedding,
    /// Whether the input was cut at the model's maximum token count (a Trawl extension).
    pub truncated: bool,
}

/// Token accounting in OpenAI's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiUsage {
    /// Tokens fed to the model.
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens` for embeddings.
    pub total_tokens: u64,
}

/// Answer of `POST /v1/embeddings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiEmbeddingsResponse {
    /// Always `"list"`.
    pub object: String,
    /// One entry per input, in input order.
    pub data: Vec<OpenAiEmbeddingData>,
    /// The model that produced the embeddings.
    pub model: String,
    /// Token accounting.
    pub usage: OpenAiUsage,
}

/// One model in OpenAI's shape (`GET /v1/models`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiModel {
    /// The model's id, as `/v1/embeddings` answers it in `model`.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// When the model's files were written (Unix seconds).
    pub created: u64,
    /// Always `"trawl"`.
    pub owned_by: String,
    /// The embedding's dimension (a Trawl extension).
    pub dimensions: usize,
    /// Inputs are cut at this many tokens, special tokens included (a Trawl extension).
    pub max_tokens: usize,
}

/// Answer of `GET /v1/models`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenAiModelList {
    /// Always `"list"`.
    pub object: String,
    /// The served models (one: the server's model).
    pub data: Vec<OpenAiModel>,
}
