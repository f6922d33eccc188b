//! GSVA (Hänzelmann et al., BMC Bioinformatics 2013) with the Gaussian kernel, as gseapy 1.3
//! computes it (`gsva` defaults: `kcdf = "Gaussian"`, tau 1, `mx_diff = True`):
//!
//! - each gene's values across the samples are smoothed into a kernel CDF: for sample j,
//!   F_j = mean over samples k of Phi((x_j - x_k) / h), h = the gene's standard deviation (n - 1)
//!   / 4, where Phi is read from a table of the standard normal CDF at steps of 0.001 up to 10
//!   (the value at the step below |z|; 0 or 1 beyond +-10), as GSVA's C code and gseapy do;
//! - in each sample the genes are ordered by F, highest first (ties: the later gene first), and the
//!   gene at 0-based position i gets the rank score |(N - i) - N / 2|;
//! - the walk over that order adds score^tau / sum_S score^tau at the set's genes and subtracts
//!   1 / (N - H) elsewhere; the score is its largest positive plus its largest negative excursion.

use rayon::prelude::*;
use tacefusion_survival::special::normal_cdf;

use crate::OmicsError;
use crate::expression::Expression;
use crate::gmt::MatchedSet;
use crate::ssgsea::SetScores;

/// Steps of the tabulated normal CDF per unit.
const STEPS_PER_UNIT: f64 = 1000.0;
/// Beyond this |z| the CDF is 0 or 1.
const TABLE_END: f64 = 10.0;

/// The tabulated standard normal CDF.
struct NormalTable(Vec<f64>);

impl NormalTable {
    fn new() -> Self {
        let n = (TABLE_END * STEPS_PER_UNIT) as usize;
        NormalTable((0..=n).map(|i| normal_cdf(i as f64 / STEPS_PER_UNIT)).collect())
    }

    /// Phi(|z|) as the table reads it, for z >= 0 or NaN (from 0 / 0, read as 0.5); the index is
    /// computed as GSVA and gseapy compute it (|z| / 10 * 10,000).
    fn upper(&self, z: f64) -> f64 {
        if z > TABLE_END {
            1.0
        } else if z.is_nan() {
            self.0[0]
        } else {
            self.0[((z / TABLE_END * (TABLE_END * STEPS_PER_UNIT)) as usize).min(self.0.len() - 1)]
        }
    }

    /// Phi(d / h) as the table reads it (NaN, from 0 / 0, reads as 0.5).
    fn cdf(&self, d: f64, h: f64) -> f64 {
        let z = d / h;
        if z < 0.0 { 1.0 - self.upper(-z) } else { self.upper(z) }
    }
}

/// The kernel CDF of one gene's values in every sample. The values are sorted so that each pair
/// is looked up once (Phi(-z) is 1 - Phi(z) in the table too) and, once a pair is beyond the
/// table's end, every larger value saturates as well: those add 1 through a running count.
fn gene_cdf(x: &[f64], table: &NormalTable) -> Vec<f64> {
    let m = x.len();
    let mean = x.iter().sum::<f64>() / m as f64;
    let h = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m as f64 - 1.0)).sqrt() / 4.0;
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let xs: Vec<f64> = order.iter().map(|&i| x[i]).collect();
    let mut fs = vec![table.cdf(0.0, h); m];
    // saturated[k]: how many smaller values stopped being looked up before position k
    let mut saturated = vec![0.0f64; m + 1];
    // The table index is 1000 z, which a multiplication gives up to ~1e-12; only where that lands
    // within 1e-9 of a step (or of the table's end) is z computed as GSVA does, d / h / 10 * 10,000.
    let scale = STEPS_PER_UNIT / h;
    let end = TABLE_END * STEPS_PER_UNIT;
    for j in 0..m {
        // fs[j]'s own sum stays in a register: the loop writes only other positions
        let mut own = 0.0;
        let mut k = j + 1;
        while k < m {
            let d = xs[k] - xs[j];
            let y = d * scale;
            let step = y as usize;
            let c = if y - step as f64 > 1e-9 && (step as f64 + 1.0) - y > 1e-9 && y < end - 1e-9 {
                table.0[step]
            } else {
                // z >= 0, or NaN for a constant gene (0 / 0)
                let z = d / h;
                if z > TABLE_END {
                    break;
                }
                table.upper(z)
            };
            fs[k] += c;
            own += 1.0 - c;
            k += 1;
        }
        fs[j] += own;
        saturated[k] += 1.0;
    }
    let mut running = 0.0;
    let mut f = vec![0.0; m];
    for k in 0..m {
        running += saturated[k];
        f[order[k]] = (fs[k] + running) / m as f64;
    }
    f
}

/// The kernel CDF of every gene in every sample, gene-major like `expr.values`.
fn kernel_cdf(expr: &Expression) -> Vec<f64> {
    let table = NormalTable::new();
    expr.values.par_chunks(expr.samples.len()).flat_map_iter(|x| gene_cdf(x, &table)).collect()
}

/// GSVA scores of `sets` in every sample (at least 2 samples).
pub fn gsva(expr: &Expression, sets: &[MatchedSet]) -> Result<SetScores, OmicsError> {
    let (n, m) = (expr.genes.len(), expr.samples.len());
    if m < 2 {
        return Err(OmicsError::Invalid(format!("GSVA needs at least 2 samples, the data has {m}")));
    }
    for s in sets {
        if s.indices.is_empty() || s.indices.len() >= n {
            return Err(OmicsError::EmptySet {
                set: s.name.clone(),
                detail: format!("{} of its genes in the data of {n}", s.indices.len()),
            });
        }
    }
    let f = kernel_cdf(expr);
    let per_sample: Vec<Vec<f64>> = (0..m)
        .into_par_iter()
        .map(|j| {
            let column: Vec<f64> = (0..n).map(|g| f[g * m + j]).collect();
            // highest first; ties: the later gene first (a stable ascending sort, reversed)
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| column[a].total_cmp(&column[b]).then(a.cmp(&b)));
            order.reverse();
            let mut score = vec![0.0; n];
            order.iter().enumerate().for_each(|(i, &g)| score[g] = ((n - i) as f64 - n as f64 / 2.0).abs());
            let mut member = vec![false; n];
            sets.iter()
                .map(|set| {
                    set.indices.iter().for_each(|&g| member[g] = true);
                    let total: f64 = set.indices.iter().map(|&g| score[g]).sum();
                    let step = 1.0 / (n - set.indices.len()) as f64;
                    let (mut walk, mut top, mut bottom) = (0.0f64, 0.0f64, 0.0f64);
                    for &g in &order {
                        if member[g] {
                            walk += score[g] / total;
                        } else {
                            walk -= step;
                        }
                        top = top.max(walk);
                        bottom = bottom.min(walk);
                    }
                    set.indices.iter().for_each(|&g| member[g] = false);
                    top + bottom
                })
                .collect()
        })
        .collect();
    let mut scores = vec![0.0; sets.len() * m];
    for (j, column) in per_sample.iter().enumerate() {
        for (k, v) in column.iter().enumerate() {
            scores[k * m + j] = *v;
        }
    }
    Ok(SetScores { sets: sets.iter().map(|s| s.name.clone()).collect(), samples: expr.samples.clone(), scores })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::Scale;

    #[test]
    fn the_table_reads_the_step_below() {
        let t = NormalTable::new();
        assert_eq!(t.cdf(0.0, 1.0), 0.5);
        assert_eq!(t.cdf(1.0009, 1.0), normal_cdf(1.0));
        assert_eq!(t.cdf(-1.0009, 1.0), 1.0 - normal_cdf(1.0));
        assert_eq!((t.cdf(11.0, 1.0), t.cdf(-11.0, 1.0), t.cdf(0.0, 0.0)), (1.0, 0.0, 0.5));
    }

    #[test]
    fn pairs_looked_up_once_give_the_sum_over_every_sample() {
        let t = NormalTable::new();
        let x = [3.0, 1.5, 1.5, 7.25, -2.0, 3.0, 0.1];
        let m = x.len() as f64;
        let mean = x.iter().sum::<f64>() / m;
        let h = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt() / 4.0;
        let got = gene_cdf(&x, &t);
        for j in 0..x.len() {
            let want = x.iter().map(|&xk| t.cdf(x[j] - xk, h)).sum::<f64>() / m;
            assert!((got[j] - want).abs() < 1e-12, "{j}: {} vs {want}", got[j]);
        }
        // a constant gene: every pair is 0 / 0
        assert_eq!(gene_cdf(&[2.0, 2.0, 2.0], &t), [0.5, 0.5, 0.5]);
    }

    #[test]
    fn a_set_of_the_top_genes_scores_high_and_of_the_bottom_low() {
        // 30 genes x 6 samples; genes 0-4 high in samples 0-2, low in 3-5
        let (n, m) = (30, 6);
        let values: Vec<f64> = (0..n * m)
            .map(|k| (k / m, k % m))
            .map(|(g, s)| {
                if g < 5 { if s < 3 { 9.0 + s as f64 } else { 1.0 - s as f64 * 0.1 } } else { (g * 7 % 11) as f64 * 0.3 + s as f64 * 0.01 }
            })
            .collect();
        let expr = Expression {
            genes: (0..n).map(|g| format!("G{g}")).collect(),
            samples: (0..m).map(|s| format!("S{s}")).collect(),
            values,
            scale: Scale::Log2,
        };
        let set = MatchedSet { name: "UP".into(), indices: (0..5).collect(), unmatched: vec![] };
        let s = gsva(&expr, &[set]).unwrap();
        assert!((0..3).all(|j| s.get(0, j) > 0.5), "{:?}", s.scores);
        assert!((3..6).all(|j| s.get(0, j) < -0.5), "{:?}", s.scores);
    }
}
