//! scanpy's `score_genes` (1.11; Satija et al. 2015's module score): a cell's score is the mean
//! expression of the set's genes minus the mean of control genes drawn from the same expression
//! bins.
//!
//! - every gene's mean over all cells (NaN left out) is ranked (`min` ranks, 1 = lowest) and cut
//!   into bins of `round(genes / (n_bins - 1))` ranks (bin = rank // that, numpy's round: half to
//!   even);
//! - from each bin that holds a gene of the set, `ctrl_size` genes are drawn (all of them when the
//!   bin has no more; the set's own genes may be drawn and are then dropped), the union being the
//!   control set;
//! - the score is the per-cell mean over the set's genes minus the mean over the control genes, in
//!   f64, NaN values left out.
//!
//! The draw is ChaCha8 from `seed` (scanpy draws with pandas and numpy's generator, which is not
//! reproduced): with a `ctrl_size` above every bin's size there is no draw and the scores are
//! scanpy's exactly. Two passes over the cells, chunk by chunk: gene means, then scores; several
//! sets of one matrix ([`score_gene_sets`]) share both passes, with the scores each would have alone.

use std::collections::{BTreeSet, HashMap};

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::OmicsError;
use crate::cells::{CellSource, CsrChunk};

/// Settings of `score_genes` (scanpy's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreGenesOptions {
    /// Control genes drawn per bin.
    pub ctrl_size: usize,
    /// Expression bins.
    pub n_bins: usize,
    /// Seed of the draw.
    pub seed: u64,
    /// Cells per chunk read.
    pub chunk_cells: usize,
}

impl Default for ScoreGenesOptions {
    fn default() -> Self {
        Self { ctrl_size: 50, n_bins: 25, seed: 0, chunk_cells: 10_000 }
    }
}

/// Scores of every cell, in file order, with the genes behind them.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneScores {
    /// One score per cell.
    pub scores: Vec<f64>,
    /// The set's genes found in the data.
    pub used: Vec<String>,
    /// The set's genes absent from the data.
    pub absent: Vec<String>,
    /// The control genes, in the data's order.
    pub control: Vec<String>,
}

/// numpy's `round` (half to even) of a non-negative value.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc() - 0.5).abs() < f64::EPSILON && r % 2.0 != 0.0 { r - 1.0 } else { r }
}

/// Scores the cells of `source` for `genes`.
pub fn score_genes(source: &dyn CellSource, genes: &[String], options: &ScoreGenesOptions) -> Result<GeneScores, OmicsError> {
    score_gene_sets(source, &[genes], options)?.pop().expect("one set in, one result out")
}

/// Scores the cells of `source` for each of `sets` (two passes over the cells for all of them):
/// the result of each set as [`score_genes`] gives it alone. A set that cannot be scored (no gene
/// in the data ...) is an error in its place; an error reading the cells is the whole call's.
pub fn score_gene_sets(
    source: &dyn CellSource,
    sets: &[&[String]],
    options: &ScoreGenesOptions,
) -> Result<Vec<Result<GeneScores, OmicsError>>, OmicsError> {
    let means = GeneMeans::of(source, options.chunk_cells)?;
    let plans = sets.iter().map(|genes| ScorePlan::with_means(source, &means, genes, options)).collect();
    score_each(source, plans, options.chunk_cells, |plan, chunk, scores| plan.score_chunk_cpu(chunk, scores), |plan| plan)
}

/// Pass 2 for several plans in one read of `source` (`chunk_cells` cells at a time): each plan that
/// could be made scores every chunk with `score`; the others stay errors in their place.
pub(crate) fn score_each<P>(
    source: &dyn CellSource,
    plans: Vec<Result<P, OmicsError>>,
    chunk_cells: usize,
    mut score: impl FnMut(&P, &CsrChunk, &mut [f64]) -> Result<(), OmicsError>,
    into_plan: impl Fn(P) -> ScorePlan,
) -> Result<Vec<Result<GeneScores, OmicsError>>, OmicsError> {
    let mut scores: Vec<Vec<f64>> = plans.iter().map(|p| if p.is_ok() { vec![0.0; source.n_cells()] } else { Vec::new() }).collect();
    source.for_each_chunk(chunk_cells, &mut |chunk| {
        for (plan, scores) in plans.iter().zip(scores.iter_mut()) {
            if let Ok(plan) = plan {
                score(plan, chunk, scores)?;
            }
        }
        Ok(())
    })?;
    Ok(plans.into_iter().zip(scores).map(|(plan, scores)| plan.map(|p| into_plan(p).into_scores(scores))).collect())
}

/// Pass 1: every gene's mean over the cells (NaN values left out; `None` where the mean is not
/// finite: no value, or an infinite one).
#[derive(Debug, Clone)]
pub struct GeneMeans(Vec<Option<f64>>);

impl GeneMeans {
    /// Reads `source` once, `chunk_cells` cells at a time.
    pub fn of(source: &dyn CellSource, chunk_cells: usize) -> Result<GeneMeans, OmicsError> {
        let (n_genes, n_cells) = (source.genes().len(), source.n_cells());
        let (mut sum, mut nan) = (vec![0.0f64; n_genes], vec![0usize; n_genes]);
        source.for_each_chunk(chunk_cells, &mut |chunk| {
            for (&g, &v) in chunk.indices.iter().zip(&chunk.data) {
                if v.is_nan() {
                    nan[g as usize] += 1;
                } else {
                    sum[g as usize] += v as f64;
                }
            }
            Ok(())
        })?;
        Ok(GeneMeans((0..n_genes).map(|g| Some(sum[g] / (n_cells - nan[g]) as f64).filter(|m| m.is_finite())).collect()))
    }
}

/// What the first pass decides: the set's genes found in the data and the control genes drawn from
/// their expression bins (column indices), with the names reported.
#[derive(Debug, Clone)]
pub struct ScorePlan {
    /// Columns of the set's genes.
    pub set: Vec<usize>,
    /// Columns of the control genes, ascending.
    pub control: Vec<usize>,
    /// Role of every column: 0 neither, 1 in the set, 2 a control.
    role: Vec<usize>,
    used: Vec<String>,
    absent: Vec<String>,
    control_names: Vec<String>,
}

impl ScorePlan {
    /// Pass 1 over `source`: the genes' means, their bins and the control draw.
    pub fn new(source: &dyn CellSource, genes: &[String], options: &ScoreGenesOptions) -> Result<ScorePlan, OmicsError> {
        Self::with_means(source, &GeneMeans::of(source, options.chunk_cells)?, genes, options)
    }

    /// The bins and the control draw from means already taken over `source`.
    pub fn with_means(
        source: &dyn CellSource,
        means: &GeneMeans,
        genes: &[String],
        options: &ScoreGenesOptions,
    ) -> Result<ScorePlan, OmicsError> {
        plan(source.genes(), &means.0, genes, options)
    }

    /// Pass 2 on one chunk, in f64: per cell, the mean over the set minus the mean over the controls
    /// (NaN values left out, as scanpy's nanmean).
    pub fn score_chunk_cpu(&self, chunk: &CsrChunk, scores: &mut [f64]) -> Result<(), OmicsError> {
        for r in 0..chunk.cells() {
            // sums and NaN counts of [neither, set, control]
            let (mut sum, mut nan) = ([0.0f64; 3], [0usize; 3]);
            for k in chunk.indptr[r]..chunk.indptr[r + 1] {
                let (at, v) = (self.role[chunk.indices[k] as usize], chunk.data[k]);
                if v.is_nan() {
                    nan[at] += 1;
                } else {
                    sum[at] += v as f64;
                }
            }
            scores[chunk.first_cell + r] = sum[1] / (self.set.len() - nan[1]) as f64 - sum[2] / (self.control.len() - nan[2]) as f64;
        }
        Ok(())
    }

    /// The result, with the scores of every cell.
    pub fn into_scores(self, scores: Vec<f64>) -> GeneScores {
        GeneScores { scores, used: self.used, absent: self.absent, control: self.control_names }
    }
}

fn plan(names: &[String], mean: &[Option<f64>], genes: &[String], options: &ScoreGenesOptions) -> Result<ScorePlan, OmicsError> {
    // a name repeated in the data: its first column, as anndata keeps the plain name for the first
    let mut index: HashMap<&str, usize> = HashMap::new();
    names.iter().enumerate().for_each(|(i, g)| {
        index.entry(g.as_str()).or_insert(i);
    });
    let (mut set, mut used, mut absent) = (Vec::new(), Vec::new(), Vec::new());
    for g in genes {
        match index.get(g.as_str()) {
            Some(&i) if !set.contains(&i) => {
                set.push(i);
                used.push(g.clone());
            }
            Some(_) => {}
            None => absent.push(g.clone()),
        }
    }
    if set.is_empty() {
        return Err(OmicsError::NoGenes { genes: genes.to_vec() });
    }
    if options.n_bins < 2 {
        return Err(OmicsError::Invalid(format!("n_bins {}: at least 2", options.n_bins)));
    }
    let n_genes = names.len();
    let pool: Vec<usize> = (0..n_genes).filter(|&g| mean[g].is_some()).collect();
    let n_items = round_half_even(pool.len() as f64 / (options.n_bins - 1) as f64) as usize;
    if n_items == 0 {
        return Err(OmicsError::Invalid(format!("{} genes with a mean are too few for {} bins", pool.len(), options.n_bins)));
    }
    // min ranks of the means, then bins
    let mut order = pool.clone();
    order.sort_by(|&a, &b| mean[a].unwrap().total_cmp(&mean[b].unwrap()));
    let mut bin = vec![usize::MAX; n_genes];
    let mut k = 0;
    while k < order.len() {
        let mut j = k;
        while j + 1 < order.len() && mean[order[j + 1]] == mean[order[k]] {
            j += 1;
        }
        order[k..=j].iter().for_each(|&g| bin[g] = (k + 1) / n_items);
        k = j + 1;
    }
    if let Some(&g) = set.iter().find(|&&g| bin[g] == usize::MAX) {
        return Err(OmicsError::Invalid(format!("gene {} has no finite mean over the cells", names[g])));
    }
    let bins: BTreeSet<usize> = set.iter().map(|&g| bin[g]).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut is_control = vec![false; n_genes];
    for b in bins {
        let mut members: Vec<usize> = pool.iter().copied().filter(|&g| bin[g] == b).collect();
        if options.ctrl_size < members.len() {
            let (drawn, _) = members.partial_shuffle(&mut rng, options.ctrl_size);
            members = drawn.to_vec();
        }
        members.into_iter().filter(|g| !set.contains(g)).for_each(|g| is_control[g] = true);
    }
    let control: Vec<usize> = (0..n_genes).filter(|&g| is_control[g]).collect();
    if control.is_empty() {
        return Err(OmicsError::Invalid("no control gene: every gene of the bins is in the set".into()));
    }

    let mut role = vec![0usize; n_genes];
    set.iter().for_each(|&g| role[g] = 1);
    control.iter().for_each(|&g| role[g] = 2);
    let control_names = control.iter().map(|&g| names[g].clone()).collect();
    Ok(ScorePlan { set, control, role, used, absent, control_names })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cells::{CellMatrix, CsrChunk};

    #[test]
    fn numpy_rounds_half_to_even() {
        assert_eq!([0.5, 1.5, 2.5, 2.4, 2.6].map(round_half_even), [0.0, 2.0, 2.0, 2.0, 3.0]);
    }

    #[test]
    fn a_cell_expressing_the_set_scores_above_one_that_does_not() {
        // 40 genes x 3 cells; genes 0-3 are the set, expressed in cell 0 only
        let genes: Vec<String> = (0..40).map(|g| format!("G{g}")).collect();
        let dense: Vec<f32> = (0..3 * 40)
            .map(|k| (k / 40, k % 40))
            .map(|(c, g)| if g < 4 { if c == 0 { 5.0 } else { 0.0 } } else { (g % 7) as f32 })
            .collect();
        let m = CellMatrix { genes: genes.clone(), csr: CsrChunk::from_dense(0, 40, &dense) };
        let set: Vec<String> = ["G0", "G1", "G2", "G3", "NOPE"].iter().map(|s| s.to_string()).collect();
        // 3 bins of 20 ranks: the set's genes share theirs with other genes
        let s = score_genes(&m, &set, &ScoreGenesOptions { ctrl_size: 1000, n_bins: 3, chunk_cells: 2, ..Default::default() }).unwrap();
        assert_eq!(s.absent, ["NOPE"]);
        assert!(s.scores[0] > s.scores[1] && s.scores[1] == s.scores[2], "{:?}", s.scores);
        assert!(s.control.iter().all(|g| !set.contains(g)));
        let none = score_genes(&m, &["X".to_string()], &ScoreGenesOptions::default()).unwrap_err();
        assert!(none.to_string().contains("X"), "{none}");
    }

    #[test]
    fn sets_scored_together_score_as_each_alone() {
        // 60 genes x 50 cells of varied values; three sets, the middle one absent from the data
        let genes: Vec<String> = (0..60).map(|g| format!("G{g}")).collect();
        let dense: Vec<f32> = (0..50 * 60).map(|k| ((k * 7919) % 13) as f32 * if k % 3 == 0 { 0.0 } else { 0.5 }).collect();
        let m = CellMatrix { genes, csr: CsrChunk::from_dense(0, 60, &dense) };
        let names = |r: std::ops::Range<usize>| r.map(|g| format!("G{g}")).collect::<Vec<_>>();
        let (a, b, c) = (names(0..8), vec!["ABSENT".to_string()], names(30..34));
        let options = ScoreGenesOptions { ctrl_size: 5, n_bins: 5, seed: 4, chunk_cells: 7 };
        let together = score_gene_sets(&m, &[&a, &b, &c], &options).unwrap();
        assert_eq!(together[0].as_ref().unwrap(), &score_genes(&m, &a, &options).unwrap());
        assert!(together[1].as_ref().unwrap_err().to_string().contains("ABSENT"));
        assert_eq!(together[2].as_ref().unwrap(), &score_genes(&m, &c, &options).unwrap());
        assert_ne!(together[0].as_ref().unwrap().scores, together[2].as_ref().unwrap().scores);
    }
}
