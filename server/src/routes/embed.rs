//! `POST /embed`: every representation the encoder produces.

use axum::Json;
use axum::extract::State;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use trawl_encoders::{Encoded, codes};
use trawl_proto::{
    BinaryEncoding, EmbedKind, EmbedRequest, EmbedResponse, Embedding, ErrorBody, Usage,
};

use crate::error::{ApiError, ApiJson};
use crate::routes::{BodyRejections, KeyRequired, Unavailable};
use crate::state::AppState;

/// Embed texts as float, Matryoshka, binary or multi-vector embeddings.
#[utoipa::path(post, path = "/embed", tag = "embed", request_body = EmbedRequest,
    responses(
        (status = 200, description = "One embedding per input", body = EmbedResponse),
        (status = 413, description = "Too many inputs or too large a body", body = ErrorBody),
        (status = 422, description = "Invalid field value", body = ErrorBody),
        (status = 429, description = "The embedding queue is full", body = ErrorBody),
        BodyRejections, Unavailable, KeyRequired,
    ))]
pub async fn embed(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EmbedRequest>,
) -> Result<Json<EmbedResponse>, ApiError> {
    let dims = state.embedder()?.spec().dims;
    let output = Output::from_request(&request, dims)?;
    let encoded = run_encoder(&state, request.inputs, output.wants_tokens()).await?;
    let model = state.embedder()?.spec().name.clone();
    Ok(Json(output.respond(model, encoded)?))
}

/// Requests with at most this many bytes of text are tokenised on the async worker.
const INLINE_TOKENIZE_BYTES: usize = 2_048;

/// Checks the input count against `--max-inputs`, tokenises, and embeds
/// through the queue.
pub async fn run_encoder(
    state: &AppState,
    inputs: Vec<String>,
    want_tokens: bool,
) -> Result<Vec<Encoded>, ApiError> {
    let limit = state.config().limits.max_inputs;
    check_count("inputs", inputs.len(), limit)?;
    let embedder = state.embedder()?.clone();
    // A short request tokenises in microseconds: inline, without a hop to the
    // blocking pool; longer ones go there so they never stall the async workers.
    let bytes: usize = inputs.iter().map(String::len).sum();
    let tokens = if bytes <= INLINE_TOKENIZE_BYTES {
        embedder.tokenize(&inputs)?
    } else {
        let tokenizer = embedder.clone();
        tokio::task::spawn_blocking(move || tokenizer.tokenize(&inputs))
            .await
            .map_err(|e| ApiError::Internal(format!("tokenizer task: {e}")))??
    };
    Ok(embedder.embed_tokens(tokens, want_tokens).await?)
}

/// At least one input and at most `limit`, else an error naming `field`.
pub fn check_count(field: &str, count: usize, limit: usize) -> Result<(), ApiError> {
    if count == 0 {
        return Err(ApiError::invalid(field, "must hold at least one input"));
    }
    ApiError::check_limit(field, count, limit)
}

/// A validated output request: which representation, with which parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Pooled vector.
    Float,
    /// First `k` dims, renormalised.
    Matryoshka(usize),
    /// `bits` residual planes.
    Binary(u8, BinaryEncoding),
    /// Per-token vectors.
    Multivector,
}

impl Output {
    fn from_request(request: &EmbedRequest, model_dims: usize) -> Result<Self, ApiError> {
        let only_for = |field: &str, kind: &str| {
            ApiError::invalid(field, format!("only applies to kind \"{kind}\""))
        };
        if request.dims.is_some() && request.kind != EmbedKind::Matryoshka {
            return Err(only_for("dims", "matryoshka"));
        }
        if (request.bits.is_some() || request.binary_encoding.is_some())
            && request.kind != EmbedKind::Binary
        {
            let field = if request.bits.is_some() {
                "bits"
            } else {
                "binary_encoding"
            };
            return Err(only_for(field, "binary"));
        }
        Ok(match request.kind {
            EmbedKind::Float => Self::Float,
            EmbedKind::Multivector => Self::Multivector,
            EmbedKind::Matryoshka => {
                let k = request
                    .dims
                    .ok_or_else(|| ApiError::invalid("dims", "required for kind \"matryoshka\""))?;
                Self::matryoshka(k, model_dims)?
            }
            EmbedKind::Binary => {
                let bits = request.bits.unwrap_or(1);
                if !codes::ALLOWED_BITS.contains(&bits) {
                    return Err(ApiError::invalid(
                        "bits",
                        format!("must be 1, 2 or 4, got {bits}"),
                    ));
                }
                Self::Binary(bits, request.binary_encoding.unwrap_or_default())
            }
        })
    }

    /// A Matryoshka output, or the full vector when `k` is the model's dimension.
    pub fn matryoshka(k: usize, model_dims: usize) -> Result<Self, ApiError> {
        if k == 0 || k > model_dims {
            return Err(ApiError::invalid(
                "dims",
                format!("must be between 1 and {model_dims} (the model's dimension), got {k}"),
            ));
        }
        Ok(Self::Matryoshka(k))
    }

    fn wants_tokens(self) -> bool {
        self == Self::Multivector
    }

    fn kind(self) -> EmbedKind {
        match self {
            Self::Float => EmbedKind::Float,
            Self::Matryoshka(_) => EmbedKind::Matryoshka,
            Self::Binary(..) => EmbedKind::Binary,
            Self::Multivector => EmbedKind::Multivector,
        }
    }

    /// The dense vector for float and Matryoshka outputs.
    pub fn dense(self, encoded: &Encoded) -> Result<Vec<f32>, ApiError> {
        match self {
            Self::Matryoshka(k) if k < encoded.pooled.len() => {
                Ok(codes::matryoshka(&encoded.pooled, k)?)
            }
            _ => Ok(encoded.pooled.clone()),
        }
    }

    fn respond(self, model: String, encoded: Vec<Encoded>) -> Result<EmbedResponse, ApiError> {
        let truncated = encoded.iter().map(|e| e.truncated).collect();
        let tokens = encoded.iter().map(|e| e.n_tokens as u64).sum();
        let mut scales = Vec::new();
        let embeddings = encoded
            .into_iter()
            .map(|e| {
                Ok(match self {
                    Self::Float | Self::Matryoshka(_) => Embedding::Dense(self.dense(&e)?),
                    Self::Multivector => Embedding::Multi(e.tokens.unwrap_or_default()),
                    Self::Binary(bits, encoding) => {
                        let code = codes::binarize(&e.pooled, bits)?;
                        scales.push(code.scales().to_vec());
                        match encoding {
                            BinaryEncoding::Base64 => {
                                Embedding::Packed(BASE64.encode(code.to_bytes()))
                            }
                            BinaryEncoding::U64 => Embedding::Words(code.to_words()),
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        Ok(EmbedResponse {
            model,
            kind: self.kind(),
            embeddings,
            truncated,
            scales: matches!(self, Self::Binary(..)).then_some(scales),
            usage: Usage { tokens },
        })
    }
}

#[cfg(test)]
mod tests {
    //! `/embed`'s codes against the index's: for the same vector, the bytes
    //! and words `/embed` answers with are the planes a collection of the
    //! same layout stores, and its scales are the row's.

    use base64::Engine;
    use proptest::prelude::*;
    use trawl_codes::{reference, testgen};
    use trawl_index::Metric;
    use trawl_index::codes::{CodeKind, CodeSpec, Codes};

    use super::*;

    /// A pooled vector as the encoder hands it over: unit length.
    fn pooled() -> impl Strategy<Value = Vec<f32>> {
        testgen::vector().prop_map(|mut v| {
            trawl_codes::normalize(&mut v);
            v
        })
    }

    fn encoded(pooled: &[f32]) -> Vec<Encoded> {
        vec![Encoded {
            pooled: pooled.to_vec(),
            tokens: None,
            n_tokens: 1,
            truncated: false,
        }]
    }

    fn stored(kind: CodeKind, v: &[f32]) -> Codes {
        let mut codes = Codes::new(CodeSpec {
            kind,
            dims: v.len(),
            metric: Metric::Cosine,
        });
        codes.push(v);
        codes
    }

    fn bits_of(xs: &[f32]) -> Vec<u32> {
        xs.iter().map(|x| x.to_bits()).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// `u64` words: the row's planes; `base64` bytes: each plane's first
        /// `⌈d/8⌉` little-endian bytes; scales: the row's (a 1-bit row keeps
        /// none).
        #[test]
        fn embed_binary_codes_are_the_index_rows(bits in testgen::bits(), v in pooled()) {
            let (d, b) = (v.len(), usize::from(bits));
            let (wpp, bpp) = (d.div_ceil(64), d.div_ceil(8));
            let codes = stored(CodeKind::Binary { bits }, &v);
            let row = codes.words(0);

            let answer = |encoding| Output::Binary(bits, encoding).respond("m".into(), encoded(&v));
            let words = answer(BinaryEncoding::U64).expect("a valid request");
            let packed = answer(BinaryEncoding::Base64).expect("a valid request");
            let Embedding::Words(words_out) = &words.embeddings[0] else {
                panic!("u64 encoding answers with words");
            };
            prop_assert_eq!(&words_out[..], &row[..b * wpp]);
            let Embedding::Packed(text) = &packed.embeddings[0] else {
                panic!("base64 encoding answers with a string");
            };
            let bytes = BASE64.decode(text).expect("base64");
            prop_assert_eq!(bytes.len(), b * bpp);
            for p in 0..b {
                let plane: Vec<u8> = row[p * wpp..(p + 1) * wpp]
                    .iter()
                    .flat_map(|w| w.to_le_bytes())
                    .take(bpp)
                    .collect();
                prop_assert_eq!(&bytes[p * bpp..(p + 1) * bpp], &plane[..], "plane {}", p);
            }

            let scales = &words.scales.as_ref().expect("binary answers carry scales")[0];
            prop_assert_eq!(scales, &packed.scales.as_ref().expect("scales")[0]);
            prop_assert_eq!(scales.len(), b);
            if bits == 1 {
                prop_assert_eq!(row.len(), wpp);
            } else {
                let (_, row_scales) = reference::unpack_row(row, bits, d);
                prop_assert_eq!(bits_of(scales), bits_of(&row_scales));
            }
        }

        /// A Matryoshka answer is the prefix a cosine collection keeps.
        #[test]
        fn embed_prefixes_are_the_index_prefixes(
            (v, k) in pooled().prop_filter("a prefix needs 2 dimensions", |v| v.len() > 1)
                .prop_flat_map(|v| {
                    let d = v.len();
                    (Just(v), 1..d)
                }),
        ) {
            let codes = stored(CodeKind::Prefix { k }, &v);
            let answer = Output::Matryoshka(k).dense(&encoded(&v)[0]).expect("k < d");
            prop_assert_eq!(bits_of(&answer), bits_of(codes.prefix(0)));
        }
    }
}
