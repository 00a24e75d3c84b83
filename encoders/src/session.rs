//! One ONNX Runtime session: padded batch in, pooled vectors (and token vectors) out.

use std::path::Path;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use crate::error::{EncodeError, Result};
use crate::spec::{ModelSpec, Pooling, Precision};
use crate::tokenize::Tokens;

/// What one forward pass yields for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The pooled vector, L2-normalised when the model says so.
    pub pooled: Vec<f32>,
    /// One L2-normalised vector per token ([CLS] and [SEP] included), when asked for.
    pub tokens: Option<Vec<Vec<f32>>>,
    /// Tokens fed to the model, special tokens included.
    pub n_tokens: usize,
    /// Whether the text was cut at the model's maximum.
    pub truncated: bool,
}

/// Knobs of one session.
#[derive(Debug, Clone, Copy)]
pub struct SessionOptions {
    /// Which graph to run.
    pub precision: Precision,
    /// ONNX Runtime intra-op threads for this session.
    pub intra_threads: usize,
    /// Let idle intra-op threads spin before sleeping: lower latency when the
    /// encoder has the machine to itself, but stolen cycles when it shares
    /// the cores with a server's other work.
    pub spin: bool,
}

/// A loaded graph, owned by one worker thread (running it needs `&mut`).
pub struct OnnxEncoder {
    session: Session,
    dims: usize,
    pooling: Pooling,
    normalize: bool,
    feeds_token_types: bool,
    output_index: usize,
}

impl OnnxEncoder {
    /// Creates a session for `spec`'s graph of the given precision.
    ///
    /// The runtime must have been initialised with [`crate::init_runtime`].
    pub fn new(spec: &ModelSpec, options: SessionOptions) -> Result<Self> {
        let file = spec.onnx_file(options.precision)?;
        let session = build_session(file, options.intra_threads, options.spin)?;
        let input_names: Vec<&str> = session.inputs().iter().map(|i| i.name()).collect();
        for required in ["input_ids", "attention_mask"] {
            if !input_names.contains(&required) {
                return Err(EncodeError::InvalidModel {
                    path: file.to_path_buf(),
                    reason: format!(
                        "the graph has no input {required:?} (inputs: {input_names:?})"
                    ),
                });
            }
        }
        let feeds_token_types = input_names.contains(&"token_type_ids");
        let output_index = session
            .outputs()
            .iter()
            .position(|o| o.name() == "last_hidden_state")
            .unwrap_or(0);
        Ok(Self {
            session,
            dims: spec.dims,
            pooling: spec.pooling,
            normalize: spec.normalize,
            feeds_token_types,
            output_index,
        })
    }

    /// Runs one batch, padded to its longest text, and pools each text.
    ///
    /// `want_tokens[i]` asks for text `i`'s per-token vectors as well.
    pub fn run(&mut self, batch: &[&Tokens], want_tokens: &[bool]) -> Result<Vec<Encoded>> {
        let rows = batch.len();
        let width = batch.iter().map(|t| t.len()).max().unwrap_or(0);
        if rows == 0 || width == 0 {
            return Ok(Vec::new());
        }
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        let mut types = vec![0i64; rows * width];
        for (row, tokens) in batch.iter().enumerate() {
            let start = row * width;
            ids[start..start + tokens.len()].copy_from_slice(&tokens.ids);
            types[start..start + tokens.len()].copy_from_slice(&tokens.type_ids);
            mask[start..start + tokens.len()].fill(1);
        }
        let shape = [rows, width];
        let ids = TensorRef::from_array_view((shape, ids.as_slice()))?;
        let mask = TensorRef::from_array_view((shape, mask.as_slice()))?;
        let outputs = if self.feeds_token_types {
            let types = TensorRef::from_array_view((shape, types.as_slice()))?;
            self.session.run(ort::inputs![
                "input_ids" => ids,
                "attention_mask" => mask,
                "token_type_ids" => types,
            ])?
        } else {
            self.session
                .run(ort::inputs!["input_ids" => ids, "attention_mask" => mask])?
        };
        let (out_shape, states) = outputs[self.output_index].try_extract_tensor::<f32>()?;
        let expected = [rows as i64, width as i64, self.dims as i64];
        if out_shape.as_ref() != expected {
            return Err(EncodeError::Onnx(format!(
                "the graph answered shape {:?}, expected {expected:?}",
                out_shape.as_ref()
            )));
        }
        let (dims, pooling, normalize_pooled) = (self.dims, self.pooling, self.normalize);
        let row_len = width * dims;
        Ok(batch
            .iter()
            .zip(want_tokens)
            .enumerate()
            .map(|(row, (tokens, &want))| {
                let block = &states[row * row_len..row * row_len + tokens.len() * dims];
                encode_row(block, dims, pooling, normalize_pooled, tokens, want)
            })
            .collect())
    }
}

fn encode_row(
    block: &[f32],
    dims: usize,
    pooling: Pooling,
    normalize_pooled: bool,
    tokens: &Tokens,
    want_tokens: bool,
) -> Encoded {
    let mut pooled = pool(block, dims, pooling);
    if normalize_pooled {
        normalize(&mut pooled);
    }
    let tokens_out = want_tokens.then(|| {
        block
            .chunks_exact(dims)
            .map(|row| {
                let mut v = row.to_vec();
                normalize(&mut v);
                v
            })
            .collect()
    });
    Encoded {
        pooled,
        tokens: tokens_out,
        n_tokens: tokens.len(),
        truncated: tokens.truncated,
    }
}

fn build_session(file: &Path, intra_threads: usize, spin: bool) -> Result<Session> {
    let onnx =
        |e: ort::Error<ort::session::builder::SessionBuilder>| EncodeError::Onnx(e.to_string());
    let session = Session::builder(crate::runtime::environment()?)?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(onnx)?
        .with_intra_threads(intra_threads.max(1))
        .map_err(onnx)?
        .with_inter_threads(1)
        .map_err(onnx)?
        .with_intra_op_spinning(spin)
        .map_err(onnx)?
        .commit_from_file(file)
        .map_err(|e| EncodeError::Onnx(format!("{}: {e}", file.display())))?;
    Ok(session)
}

/// Pools the token states of one text (`block` is `[tokens, dims]`, no padding rows).
pub fn pool(block: &[f32], dims: usize, pooling: Pooling) -> Vec<f32> {
    match pooling {
        Pooling::Cls => block[..dims].to_vec(),
        Pooling::Mean => {
            let mut sum = vec![0f64; dims];
            let mut n = 0usize;
            for row in block.chunks_exact(dims) {
                for (s, &x) in sum.iter_mut().zip(row) {
                    *s += f64::from(x);
                }
                n += 1;
            }
            let n = n.max(1) as f64;
            sum.into_iter().map(|s| (s / n) as f32).collect()
        }
    }
}

/// Scales `v` to unit L2 norm (a zero vector stays zero).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_averages_rows() {
        let block = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(pool(&block, 2, Pooling::Mean), vec![3.0, 4.0]);
        assert_eq!(pool(&block, 2, Pooling::Cls), vec![1.0, 2.0]);
    }

    #[test]
    fn normalize_gives_unit_norm_and_keeps_zero() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut zero = vec![0.0, 0.0];
        normalize(&mut zero);
        assert_eq!(zero, vec![0.0, 0.0]);
    }
}
