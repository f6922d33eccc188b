//! `score_genes`' second pass on a burn backend (a CUDA device on a GPU worker): each chunk of cells
//! is made dense over the set's and the control genes only, and the score of a cell is the sum of
//! its values times the genes' weights (1/|set| for the set, -1/|control| for the controls), an
//! element-wise product and a row sum in f32 (no matrix unit, whose reduced precision would miss the
//! 1e-5 agreement). The controls are drawn on the CPU exactly as [`score_genes`] draws them, so both
//! give the same scores to f32 rounding. A chunk with a NaN is scored on the CPU (scanpy skips NaN
//! values, which a dense product cannot).

use std::collections::HashMap;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::OmicsError;
use crate::cells::{CellSource, CsrChunk};
use crate::score_genes::{GeneMeans, GeneScores, ScoreGenesOptions, ScorePlan, score_each};

/// Cells per dense chunk on the device.
const DEVICE_CHUNK: usize = 4096;

/// Scores the cells of `source` for `genes` on `device`.
pub fn score_genes_on<B: Backend>(
    source: &dyn CellSource,
    genes: &[String],
    options: &ScoreGenesOptions,
    device: &B::Device,
) -> Result<GeneScores, OmicsError> {
    score_gene_sets_on::<B>(source, &[genes], options, device)?.pop().expect("one set in, one result out")
}

/// Scores the cells of `source` for each of `sets` on `device`, with one pass for the means and
/// one for the scores of every set ([`crate::score_genes::score_gene_sets`] on the CPU).
pub fn score_gene_sets_on<B: Backend>(
    source: &dyn CellSource,
    sets: &[&[String]],
    options: &ScoreGenesOptions,
    device: &B::Device,
) -> Result<Vec<Result<GeneScores, OmicsError>>, OmicsError> {
    let means = GeneMeans::of(source, options.chunk_cells)?;
    let plans = sets
        .iter()
        .map(|genes| ScorePlan::with_means(source, &means, genes, options).map(|plan| DevicePlan::<B>::new(plan, device)))
        .collect();
    score_each(source, plans, DEVICE_CHUNK, |plan, chunk, scores| plan.score_chunk(chunk, scores, device), |plan| plan.plan)
}

/// A plan with its dense columns and their weights on the device.
struct DevicePlan<B: Backend> {
    plan: ScorePlan,
    column: HashMap<usize, usize>,
    weights: Tensor<B, 2>,
}

impl<B: Backend> DevicePlan<B> {
    fn new(plan: ScorePlan, device: &B::Device) -> Self {
        let columns: Vec<usize> = plan.set.iter().chain(&plan.control).copied().collect();
        let column = columns.iter().enumerate().map(|(j, &g)| (g, j)).collect();
        let k = columns.len();
        let weights: Vec<f32> =
            (0..k).map(|j| if j < plan.set.len() { 1.0 / plan.set.len() as f32 } else { -1.0 / plan.control.len() as f32 }).collect();
        let weights = Tensor::<B, 2>::from_data(TensorData::new(weights, [1, k]), device);
        DevicePlan { plan, column, weights }
    }

    fn score_chunk(&self, chunk: &CsrChunk, scores: &mut [f64], device: &B::Device) -> Result<(), OmicsError> {
        if chunk.data.iter().any(|v| v.is_nan()) {
            return self.plan.score_chunk_cpu(chunk, scores);
        }
        let (cells, k) = (chunk.cells(), self.column.len());
        let mut dense = vec![0.0f32; cells * k];
        for r in 0..cells {
            for at in chunk.indptr[r]..chunk.indptr[r + 1] {
                if let Some(&j) = self.column.get(&(chunk.indices[at] as usize)) {
                    // a gene stored twice for a cell counts twice, as on the CPU
                    dense[r * k + j] += chunk.data[at];
                }
            }
        }
        let x = Tensor::<B, 2>::from_data(TensorData::new(dense, [cells, k]), device);
        let s = x.mul(self.weights.clone()).sum_dim(1);
        let values: Vec<f32> = s.into_data().to_vec().map_err(|e| OmicsError::Invalid(format!("reading scores from the device: {e:?}")))?;
        for (r, v) in values.into_iter().enumerate() {
            scores[chunk.first_cell + r] = v as f64;
        }
        Ok(())
    }
}
