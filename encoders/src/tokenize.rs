//! Tokenisation with the model's `tokenizer.json`, truncated at the model's limit.

use std::path::Path;

use tokenizers::{PaddingParams, TruncationParams, TruncationStrategy};

use crate::error::{EncodeError, Result};

/// One text's tokens, ready for the model (no padding: batches pad themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// Token ids, special tokens included.
    pub ids: Vec<i64>,
    /// Segment ids (all 0 for a single text).
    pub type_ids: Vec<i64>,
    /// Whether the text was cut at the model's maximum.
    pub truncated: bool,
}

impl Tokens {
    /// Number of tokens, special tokens included.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no tokens at all (never the case with special tokens).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The model's tokenizer, with truncation set to the model's `max_tokens`.
///
/// The `tokenizer.json` shipped with a checkpoint may carry a different limit
/// (all-MiniLM-L6-v2's says 128, while sentence-transformers truncates at 256);
/// the model directory's `max_tokens` wins. Padding is switched off.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
}

impl Tokenizer {
    /// Loads `path` and truncates at `max_tokens`.
    pub fn load(path: &Path, max_tokens: usize) -> Result<Self> {
        let mut inner = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| EncodeError::Tokenizer(format!("{}: {e}", path.display())))?;
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                ..TruncationParams::default()
            }))
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        inner.with_padding(None::<PaddingParams>);
        Ok(Self { inner })
    }

    /// The vocabulary's size, added tokens included: token ids run from 0 to
    /// one less than this.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    /// Tokenises one text.
    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let encoding = self
            .inner
            .encode(text, true)
            .map_err(|e| EncodeError::Tokenizer(e.to_string()))?;
        Ok(Tokens {
            ids: encoding.get_ids().iter().map(|&id| i64::from(id)).collect(),
            type_ids: encoding
                .get_type_ids()
                .iter()
                .map(|&id| i64::from(id))
                .collect(),
            truncated: !encoding.get_overflowing().is_empty(),
        })
    }
}
