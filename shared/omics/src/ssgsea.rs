//! Single-sample GSEA (Barbie et al., Nature 2009) as gseapy 1.3 computes it (`ssgsea` with its
//! defaults: sample normalisation `rank`, weight 0.25):
//!
//! - in each sample the genes' values become their average ranks (1 = lowest) times 10,000 / N;
//! - genes are ordered by that value, highest first (ties: the later gene of the data first, as
//!   gseapy orders them);
//! - the enrichment score of a set S with H of the N genes is the sum over every position k of the
//!   running difference P_hit(k) - P_miss(k), where P_hit(k) is the share of the weight
//!   sum_{g in S} v_g^0.25 among the set's genes at positions <= k and P_miss(k) the share of the
//!   N - H other genes at positions <= k;
//! - the normalised score (gseapy's NES) divides every ES by the range (max - min) of all the ES of
//!   the result.
//!
//! The sum is taken in closed form: a gene at position p is counted in N - p + 1 running sums, so
//! ES = sum_S w_g (N - p_g + 1) / sum_S w_g - sum_{not S} (N - p_g + 1) / (N - H), O(H) per set
//! once a sample is ranked.

use rayon::prelude::*;
use tacefusion_survival::ranks::average_ranks;

use crate::OmicsError;
use crate::expression::Expression;
use crate::gmt::MatchedSet;

/// Set scores: one per set x sample.
#[derive(Debug, Clone, PartialEq)]
pub struct SetScores {
    /// The sets scored, in order.
    pub sets: Vec<String>,
    /// The samples (or cells), in order.
    pub samples: Vec<String>,
    /// Scores, set-major: `scores[set * samples + sample]`.
    pub scores: Vec<f64>,
}

impl SetScores {
    /// Score of set `k` in sample `s`.
    pub fn get(&self, k: usize, s: usize) -> f64 {
        self.scores[k * self.samples.len() + s]
    }

    /// gseapy's normalisation: every score divided by the range of all scores.
    pub fn normalized_by_range(&self) -> SetScores {
        let (lo, hi) = self.scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let range = hi - lo;
        SetScores { scores: self.scores.iter().map(|v| if range > 0.0 { v / range } else { 0.0 }).collect(), ..self.clone() }
    }
}

/// The enrichment scores of `sets` in every sample of `expr` (`weight` 0.25 for gseapy's
/// default). Sets must have at least one gene in the data and not all of them.
pub fn ssgsea(expr: &Expression, sets: &[MatchedSet], weight: f64) -> Result<SetScores, OmicsError> {
    let n = expr.genes.len();
    for s in sets {
        if s.indices.is_empty() || s.indices.len() >= n {
            return Err(OmicsError::EmptySet {
                set: s.name.clone(),
                detail: format!("{} of its genes in the data of {n}", s.indices.len()),
            });
        }
    }
    let per_sample: Vec<Vec<f64>> = (0..expr.samples.len())
        .into_par_iter()
        .map(|s| {
            let v: Vec<f64> = average_ranks(&expr.sample(s)).iter().map(|r| 10_000.0 * r / n as f64).collect();
            // positions, highest value first; ties: the later gene first (a stable ascending sort,
            // reversed)
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
            order.reverse();
            let mut position = vec![0usize; n];
            order.iter().enumerate().for_each(|(p, &g)| position[g] = p + 1);
            let all = (n * (n + 1)) as f64 / 2.0;
            sets.iter()
                .map(|set| {
                    let (mut w_sum, mut w_tail, mut tail) = (0.0, 0.0, 0.0);
                    for &g in &set.indices {
                        let w = v[g].abs().powf(weight);
                        let count = (n - position[g] + 1) as f64;
                        w_sum += w;
                        w_tail += w * count;
                        tail += count;
                    }
                    w_tail / w_sum - (all - tail) / (n - set.indices.len()) as f64
                })
                .collect()
        })
        .collect();
    let mut scores = vec![0.0; sets.len() * expr.samples.len()];
    for (s, column) in per_sample.iter().enumerate() {
        for (k, v) in column.iter().enumerate() {
            scores[k * expr.samples.len() + s] = *v;
        }
    }
    Ok(SetScores { sets: sets.iter().map(|s| s.name.clone()).collect(), samples: expr.samples.clone(), scores })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expression::Scale;

    /// The running sum written out, position by position.
    fn by_walk(values: &[f64], members: &[usize], weight: f64) -> f64 {
        let n = values.len();
        let v: Vec<f64> = average_ranks(values).iter().map(|r| 10_000.0 * r / n as f64).collect();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)));
        order.reverse();
        let w_sum: f64 = members.iter().map(|&g| v[g].powf(weight)).sum();
        let (mut hit, mut miss, mut es) = (0.0, 0.0, 0.0);
        for &g in &order {
            if members.contains(&g) {
                hit += v[g].powf(weight) / w_sum;
            } else {
                miss += 1.0 / (n - members.len()) as f64;
            }
            es += hit - miss;
        }
        es
    }

    #[test]
    fn the_closed_form_is_the_running_sum() {
        let values: Vec<f64> = (0..40).map(|i| ((i * 17) % 23) as f64 * 0.5).collect(); // with ties
        let expr = Expression {
            genes: (0..40).map(|i| format!("G{i}")).collect(),
            samples: vec!["S".into()],
            values: values.clone(),
            scale: Scale::Log2,
        };
        let members = vec![3, 7, 11, 30, 31];
        let set = MatchedSet { name: "A".into(), indices: members.clone(), unmatched: vec![] };
        let got = ssgsea(&expr, &[set], 0.25).unwrap().get(0, 0);
        let want = by_walk(&values, &members, 0.25);
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
}
