//! One ONNX Runtime session: a batch of texts in, pooled vectors (and token vectors) out.
//!
//! A batch is laid out as a `[rows, width]` tensor. Graphs that read segment
//! numbers from `attention_mask` ([`ModelSpec::segment_mask`]) get several
//! texts per row, packed by [`pack_rows`]: a batch of mixed lengths then costs
//! about its real tokens instead of `texts × longest`. Other graphs get one
//! text per row, padded to the longest.

use std::path::Path;

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;

use crate::error::{EncodeError, Result};
use crate::spec::{ModelSpec, Pooling, Precision};
use crate::tokenize::Tokens;

/// Scales a vector to unit L2 norm (a zero vector stays zero): the same
/// function that renormalises Matryoshka prefixes.
pub use trawl_codes::normalize;

/// What one forward pass yields for one text.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The pooled vector, L2-normalised when the model says so.
    pub pooled: Vec<f32>,
    /// One L2-normalised vector per token (`[CLS]` and `[SEP]` included), when asked for.
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
    segment_mask: bool,
    max_tokens: usize,
}

/// Where the texts of a batch go: `rows[r]` lists the texts (indices into
/// the batch) that share row `r`, in order; every row is `width` tokens wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Tokens per row.
    pub width: usize,
    /// Text indices per row.
    pub rows: Vec<Vec<usize>>,
}

impl Layout {
    /// One text per row, padded to the longest.
    pub fn padded(lengths: &[usize]) -> Self {
        Self {
            width: lengths.iter().copied().max().unwrap_or(0),
            rows: (0..lengths.len()).map(|i| vec![i]).collect(),
        }
    }

    /// Tokens the model computes: `rows × width`.
    pub fn padded_tokens(&self) -> usize {
        self.rows.len() * self.width
    }
}

/// How many tokens of row width cost as much as one more token of work for
/// every token of the row: attention computes `width` scores per token and
/// layer (`2 × hidden × width` multiply-adds and a softmax) beside the
/// `4·hidden² + 2·hidden·ffn` of the dense layers, about `width / 2000` more
/// for a BERT of hidden size 384.
const ATTENTION_WIDTH_TOKENS: f64 = 2_000.0;

/// Packs texts of the given lengths into rows of one width (first fit, longest
/// first), choosing the width between the longest text and `max_width` that
/// minimises the estimated cost `rows × width × (1 + width / 2000)`: wider
/// rows waste less at their ends but make every token's attention dearer.
pub fn pack_rows(lengths: &[usize], max_width: usize) -> Layout {
    let longest = lengths.iter().copied().max().unwrap_or(0);
    if lengths.len() <= 1 || longest == 0 {
        return Layout::padded(lengths);
    }
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(lengths[i]), i));
    let total: usize = lengths.iter().sum();
    let cost = |layout: &Layout| {
        let width = layout.width as f64;
        layout.rows.len() as f64 * width * (1.0 + width / ATTENTION_WIDTH_TOKENS)
    };
    let widest = max_width.max(longest).min(total);
    // Candidate widths: the longest text, then steps of 8 tokens.
    let mut best = first_fit(lengths, &order, longest);
    let mut best_cost = cost(&best);
    let mut width = longest;
    while width < widest {
        width = (width + 8).min(widest);
        let layout = first_fit(lengths, &order, width);
        let c = cost(&layout);
        if c < best_cost {
            (best, best_cost) = (layout, c);
        }
    }
    best
}

/// First fit of `order` into rows of `width`; the layout's width is then cut to its fullest row.
fn first_fit(lengths: &[usize], order: &[usize], width: usize) -> Layout {
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used: Vec<usize> = Vec::new();
    for &i in order {
        let len = lengths[i];
        match used.iter().position(|&u| u + len <= width) {
            Some(r) => {
                rows[r].push(i);
                used[r] += len;
            }
            None => {
                rows.push(vec![i]);
                used.push(len);
            }
        }
    }
    Layout {
        width: used.iter().copied().max().unwrap_or(0),
        rows,
    }
}

/// What one call of [`OnnxEncoder::run`] produced.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutput {
    /// One result per text, in batch order.
    pub encoded: Vec<Encoded>,
    /// Tokens the model computed, padding included.
    pub padded_tokens: usize,
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
            segment_mask: spec.segment_mask,
            max_tokens: spec.max_tokens,
        })
    }

    /// Whether several texts share a row (the graph reads segment numbers).
    pub fn packs_rows(&self) -> bool {
        self.segment_mask
    }

    /// How a batch of texts with these lengths is laid out.
    pub fn layout(&self, lengths: &[usize]) -> Layout {
        if self.segment_mask {
            pack_rows(lengths, self.max_tokens)
        } else {
            Layout::padded(lengths)
        }
    }

    /// Runs one batch (laid out by [`Self::layout`]) and pools each text.
    ///
    /// `want_tokens[i]` asks for text `i`'s per-token vectors as well.
    pub fn run(&mut self, batch: &[&Tokens], want_tokens: &[bool]) -> Result<BatchOutput> {
        let lengths: Vec<usize> = batch.iter().map(|t| t.len()).collect();
        let layout = self.layout(&lengths);
        let (rows, width) = (layout.rows.len(), layout.width);
        if rows == 0 || width == 0 {
            return Ok(BatchOutput {
                encoded: Vec::new(),
                padded_tokens: 0,
            });
        }
        let mut ids = vec![0i64; rows * width];
        let mut mask = vec![0i64; rows * width];
        let mut types = vec![0i64; rows * width];
        // Where each text starts in the flattened [rows, width] tensor.
        let mut starts = vec![0usize; batch.len()];
        for (row, members) in layout.rows.iter().enumerate() {
            let mut start = row * width;
            for (segment, &i) in (1i64..).zip(members) {
                let tokens = batch[i];
                let span = start..start + tokens.len();
                ids[span.clone()].copy_from_slice(&tokens.ids);
                types[span.clone()].copy_from_slice(&tokens.type_ids);
                mask[span].fill(segment);
                starts[i] = start;
                start += tokens.len();
            }
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
        let encoded = batch
            .iter()
            .zip(want_tokens)
            .zip(&starts)
            .map(|((tokens, &want), &start)| {
                let block = &states[start * dims..(start + tokens.len()) * dims];
                encode_row(block, dims, pooling, normalize_pooled, tokens, want)
            })
            .collect();
        Ok(BatchOutput {
            encoded,
            padded_tokens: layout.padded_tokens(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_pooling_averages_rows() {
        let block = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(pool(&block, 2, Pooling::Mean), vec![3.0, 4.0]);
        assert_eq!(pool(&block, 2, Pooling::Cls), vec![1.0, 2.0]);
    }

    fn assert_valid(layout: &Layout, lengths: &[usize]) {
        let mut seen: Vec<usize> = layout.rows.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..lengths.len()).collect::<Vec<_>>(),
            "every text exactly once"
        );
        for row in &layout.rows {
            assert!(row.iter().map(|&i| lengths[i]).sum::<usize>() <= layout.width);
        }
    }

    #[test]
    fn packing_puts_short_texts_together_and_every_text_once() {
        let lengths = [20, 5, 21, 90, 19, 6, 22, 40, 17];
        let layout = pack_rows(&lengths, 256);
        assert_valid(&layout, &lengths);
        let real: usize = lengths.iter().sum();
        assert!(layout.padded_tokens() < Layout::padded(&lengths).padded_tokens());
        assert!(layout.padded_tokens() >= real);
        // No row wider than the model's limit, unless one text alone is.
        assert!(layout.width <= 256);
    }

    #[test]
    fn packing_never_cuts_a_text_and_keeps_lone_texts_alone() {
        assert_eq!(pack_rows(&[7], 256), Layout::padded(&[7]));
        let layout = pack_rows(&[256, 256, 3], 256);
        assert_valid(&layout, &[256, 256, 3]);
        assert_eq!(layout.width, 256);
        assert_eq!(layout.rows.len(), 3);
        // Equal lengths need no packing: one per row, no waste.
        let layout = pack_rows(&[30; 8], 256);
        assert_valid(&layout, &[30; 8]);
        assert_eq!(layout.padded_tokens(), 240);
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
