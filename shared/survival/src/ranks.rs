//! Average ranks: 1 for the smallest value, ties sharing the mean of the ranks they span (what
//! `scipy.stats.rankdata` and pandas' `rank(method="average")` give); the base of Spearman's
//! correlation, the Mann-Whitney test and ssGSEA's sample normalisation.

/// Average ranks of `values` (1-based, ties averaged).
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        order[i..=j].iter().for_each(|&g| ranks[g] = r);
        i = j + 1;
    }
    ranks
}

#[cfg(test)]
mod tests {
    #[test]
    fn ties_share_their_mean_rank() {
        assert_eq!(super::average_ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
    }
}
