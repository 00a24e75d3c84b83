//! Fusion: several retrievers' ranked lists of points into one ranking.
//!
//! - **RRF** (reciprocal rank fusion, Cormack et al., 2009): a point scores
//!   `Σ 1 / (k + rank)` over the lists that hold it (rank 1 first).
//! - **DBSF** (distribution-based score fusion): each list's scores are
//!   mapped to `(s − (μ − 3σ)) / 6σ` with its own mean μ and standard
//!   deviation σ, then summed; scores of different scales (BM25, cosine)
//!   become comparable without trusting either list's extremes.
//! - **Weighted**: each list's scores are min-max normalised to `[0, 1]`,
//!   then summed with one weight per list.
//!
//! A point missing from a list adds nothing for it.

use std::collections::HashMap;

use crate::types::PointId;

/// How lists are fused.
#[derive(Debug, Clone, PartialEq)]
pub enum Fusion {
    /// Reciprocal rank fusion with this `k`.
    Rrf {
        /// Added to every rank.
        k: f32,
    },
    /// Distribution-based score fusion.
    Dbsf,
    /// Min-max normalised scores, weighted per list.
    Weighted(Vec<f32>),
}

/// A fused point: its fused score and, per list, its 1-based rank and score
/// there (if the list holds it).
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    /// The point.
    pub id: PointId,
    /// The fused score, higher is better.
    pub score: f32,
    /// Per list, in the lists' order: (rank, score) where the list holds it.
    pub places: Vec<Option<(usize, f32)>>,
}

/// Fuses `lists` (each best first) into the `limit` best, best first (ties
/// by id). A point listed twice in one list counts at its first place.
pub fn fuse(lists: &[Vec<(PointId, f32)>], fusion: &Fusion, limit: usize) -> Vec<Fused> {
    let mut by_id: HashMap<&PointId, Fused> = HashMap::new();
    for (l, list) in lists.iter().enumerate() {
        let normalise = normaliser(list, fusion);
        let weight = match fusion {
            Fusion::Weighted(weights) => weights.get(l).copied().unwrap_or(0.0),
            _ => 1.0,
        };
        for (i, (id, score)) in list.iter().enumerate() {
            let fused = by_id.entry(id).or_insert_with(|| Fused {
                id: id.clone(),
                score: 0.0,
                places: vec![None; lists.len()],
            });
            if fused.places[l].is_some() {
                continue;
            }
            fused.places[l] = Some((i + 1, *score));
            fused.score += match fusion {
                Fusion::Rrf { k } => 1.0 / (k + (i + 1) as f32),
                _ => weight * normalise(*score),
            };
        }
    }
    let mut fused: Vec<Fused> = by_id.into_values().collect();
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    fused.truncate(limit);
    fused
}

/// The map of one list's scores onto a common scale.
fn normaliser(list: &[(PointId, f32)], fusion: &Fusion) -> Box<dyn Fn(f32) -> f32> {
    let scores = || list.iter().map(|(_, s)| f64::from(*s));
    match fusion {
        Fusion::Rrf { .. } => Box::new(|_| 0.0),
        Fusion::Dbsf => {
            let n = list.len().max(1) as f64;
            let mean = scores().sum::<f64>() / n;
            let sd = (scores().map(|s| (s - mean).powi(2)).sum::<f64>() / n).sqrt();
            if sd == 0.0 {
                // One score (or all equal): each sits at the middle.
                return Box::new(|_| 0.5);
            }
            let low = mean - 3.0 * sd;
            Box::new(move |s| ((f64::from(s) - low) / (6.0 * sd)) as f32)
        }
        Fusion::Weighted(_) => {
            let min = scores().fold(f64::INFINITY, f64::min);
            let max = scores().fold(f64::NEG_INFINITY, f64::max);
            if max <= min {
                return Box::new(|_| 1.0);
            }
            Box::new(move |s| ((f64::from(s) - min) / (max - min)) as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[(u64, f32)]) -> Vec<(PointId, f32)> {
        items.iter().map(|&(i, s)| (PointId::Num(i), s)).collect()
    }

    fn ids(fused: &[Fused]) -> Vec<u64> {
        fused
            .iter()
            .map(|f| match f.id {
                PointId::Num(i) => i,
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn rrf_sums_reciprocal_ranks_and_records_each_place() {
        let a = list(&[(1, 9.0), (2, 8.0), (3, 7.0)]);
        let b = list(&[(3, 0.9), (1, 0.8), (4, 0.7)]);
        let fused = fuse(&[a, b], &Fusion::Rrf { k: 60.0 }, 10);
        // 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62; 4: 1/63.
        assert_eq!(ids(&fused), vec![1, 3, 2, 4]);
        let one = &fused[0];
        assert!((one.score - (1.0 / 61.0 + 1.0 / 62.0)).abs() < 1e-7);
        assert_eq!(one.places, vec![Some((1, 9.0)), Some((2, 0.8))]);
        assert_eq!(fused[2].places, vec![Some((2, 8.0)), None]);
        assert_eq!(
            ids(&fuse(&[list(&[(5, 1.0)])], &Fusion::Rrf { k: 60.0 }, 0)),
            Vec::<u64>::new()
        );
    }

    #[test]
    fn scores_of_different_scales_are_normalised_before_they_are_summed() {
        // BM25-like scores in the tens against cosines near 1.
        let lexical = list(&[(1, 30.0), (2, 10.0), (3, 9.0)]);
        let dense = list(&[(3, 0.90), (2, 0.89), (1, 0.10)]);
        let weighted = fuse(
            &[lexical.clone(), dense.clone()],
            &Fusion::Weighted(vec![0.5, 0.5]),
            10,
        );
        // 1: 0.5·1 + 0.5·0; 2: 0.5·(1/21) + 0.5·(0.79/0.8); 3: 0 + 0.5·1.
        assert_eq!(ids(&weighted), vec![2, 1, 3]);
        assert!((weighted[1].score - 0.5).abs() < 1e-6);
        let only_dense = fuse(
            &[lexical.clone(), dense.clone()],
            &Fusion::Weighted(vec![0.0, 1.0]),
            10,
        );
        assert_eq!(ids(&only_dense), vec![3, 2, 1]);
        let dbsf = fuse(&[lexical, dense], &Fusion::Dbsf, 10);
        assert_eq!(dbsf.len(), 3);
        // Every normalised score lies in [0, 1] for a list within 3σ of its mean.
        for f in &dbsf {
            assert!((0.0..=2.0).contains(&f.score), "{f:?}");
        }
        // A list of one score puts it at the middle.
        let single = fuse(&[list(&[(7, 3.0)])], &Fusion::Dbsf, 10);
        assert_eq!(single[0].score, 0.5);
    }

    #[test]
    fn a_point_listed_twice_counts_once_at_its_first_place() {
        let a = list(&[(1, 2.0), (1, 1.0)]);
        let fused = fuse(&[a], &Fusion::Rrf { k: 1.0 }, 10);
        assert_eq!(fused.len(), 1);
        assert_eq!(fused[0].places, vec![Some((1, 2.0))]);
        assert!((fused[0].score - 0.5).abs() < 1e-7);
    }
}
