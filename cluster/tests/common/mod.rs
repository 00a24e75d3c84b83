//! What the cluster tests (and the replication example) share: a
//! collection's configuration and deterministic vectors.

use std::collections::BTreeMap;

use trawl_index::{CollectionConfig, HnswParams, Layout, Metric, VectorConfig};

/// The test vectors' dimension.
pub const DIMS: usize = 16;

/// One unnamed float vector of [`DIMS`] dimensions, cosine.
#[allow(dead_code)]
pub fn config() -> CollectionConfig {
    config_of(DIMS)
}

/// One unnamed float vector of `dims` dimensions, cosine.
pub fn config_of(dims: usize) -> CollectionConfig {
    CollectionConfig {
        text: None,
        sparse: Default::default(),
        vectors: BTreeMap::from([(
            String::new(),
            VectorConfig {
                dims,
                metric: Metric::Cosine,
                layout: Layout::Float,
                hnsw: HnswParams::default(),
                muvera: None,
                encoder: None,
            },
        )]),
        payload_schema: Default::default(),
    }
}

/// Point `i`'s vector of `dims` components (xorshift from the id: the same
/// in every process).
#[allow(dead_code)]
pub fn vector(i: u64, dims: usize) -> Vec<f32> {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..dims)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}
