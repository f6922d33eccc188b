//! Cut-points of a continuous risk score: the maximally selected log-rank statistic (survminer's
//! `surv_cutpoint`, i.e. maxstat's `smethod = "LogRank"`), two cut-points for three groups, and
//! tertiles.
//!
//! The statistic of a split is the standardised linear rank statistic of the log-rank scores
//! a_i = δ_i - Λ̂(T_i) (Λ̂ the Nelson-Aalen estimate): T = (S - E S) / sd(S) with S the sum of the
//! scores of the low group and its permutation moments. The k-group version used for two
//! cut-points is (n - 1) Σ_g (S_g - m_g ā)² / m_g / Σ (a - ā)², which is T² for two groups.

use serde::Serialize;

use crate::data::{SurvivalData, life_table};
use crate::error::{Result, SurvivalError};

/// A single cut-point: low group = score <= cutpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cutpoint {
    /// The selected value.
    pub cutpoint: f64,
    /// Its standardised log-rank statistic |T| (maximal over the candidates).
    pub statistic: f64,
    /// Subjects at or below the cut-point.
    pub n_low: usize,
    /// Subjects above.
    pub n_high: usize,
    /// Every candidate with its |T|, in increasing order of the value.
    pub candidates: Vec<(f64, f64)>,
}

/// Two cut-points: low <= first < intermediate <= second < high.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwoCutpoints {
    /// Upper bound of the low group.
    pub first: f64,
    /// Upper bound of the intermediate group.
    pub second: f64,
    /// Three-group log-rank score statistic (chi-square, 2 df) at the selected pair.
    pub statistic: f64,
    /// Group sizes low / intermediate / high.
    pub sizes: [usize; 3],
}

/// Log-rank (Savage) scores δ_i - Λ̂(T_i).
pub fn logrank_scores(data: &SurvivalData) -> Vec<f64> {
    let table = life_table(data, None);
    let mut cumulative = Vec::with_capacity(table.len());
    let mut h = 0.0;
    for row in &table {
        h += row.events / row.at_risk;
        cumulative.push(h);
    }
    data.time()
        .iter()
        .zip(data.event())
        .map(|(&t, &e)| {
            let k = table.partition_point(|r| r.time < t);
            (e as u8 as f64) - cumulative[k]
        })
        .collect()
}

/// Scores and marker sorted by the marker, with the distinct marker values and for each the number
/// of subjects at or below it.
struct Sorted {
    a: Vec<f64>,
    mean: f64,
    ss: f64,
    /// (value, subjects <= value, prefix sum of scores up to it)
    levels: Vec<(f64, usize, f64)>,
}

fn sort_by_marker(data: &SurvivalData, marker: &[f64], minprop: f64) -> Result<Sorted> {
    data.check_per_subject("marker", marker)?;
    if !(0.0..0.5).contains(&minprop) {
        return Err(SurvivalError::InvalidArgument(format!("minprop {minprop} not in [0, 0.5)")));
    }
    if data.n_events() == 0 {
        return Err(SurvivalError::NoEvents { n: data.len() });
    }
    let scores = logrank_scores(data);
    let mut order: Vec<usize> = (0..data.len()).collect();
    order.sort_by(|&i, &j| marker[i].total_cmp(&marker[j]));
    let a: Vec<f64> = order.iter().map(|&i| scores[i]).collect();
    let n = a.len() as f64;
    let mean = a.iter().sum::<f64>() / n;
    let ss = a.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    let mut levels = Vec::new();
    let mut prefix = 0.0;
    for (k, &i) in order.iter().enumerate() {
        prefix += a[k];
        if k + 1 == order.len() || marker[order[k + 1]] != marker[i] {
            levels.push((marker[i], k + 1, prefix));
        }
    }
    Ok(Sorted { a, mean, ss, levels })
}

/// The cut-point maximising |T| among the distinct values leaving at least `minprop` of the
/// subjects on each side (survminer's default minprop is 0.1).
pub fn maxstat_cutpoint(data: &SurvivalData, marker: &[f64], minprop: f64) -> Result<Cutpoint> {
    let s = sort_by_marker(data, marker, minprop)?;
    let n = s.a.len() as f64;
    let mut candidates = Vec::new();
    for &(value, m, sum) in &s.levels {
        let m = m as f64;
        if m < minprop * n || m > (1.0 - minprop) * n || m >= n {
            continue;
        }
        let var = m * (n - m) / (n * (n - 1.0)) * s.ss;
        if var > 0.0 {
            candidates.push((value, ((sum - m * s.mean) / var.sqrt()).abs()));
        }
    }
    let &(cutpoint, statistic) = candidates
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .ok_or_else(|| SurvivalError::InvalidArgument("no candidate cut-point leaves minprop on both sides".into()))?;
    let n_low = marker.iter().filter(|&&v| v <= cutpoint).count();
    Ok(Cutpoint { cutpoint, statistic, n_low, n_high: marker.len() - n_low, candidates })
}

/// Two cut-points maximising the three-group log-rank score statistic, every group holding at
/// least `minprop` of the subjects. Candidates are the distinct values, thinned to at most
/// `max_candidates` evenly spaced in rank when there are more.
pub fn two_cutpoints(data: &SurvivalData, marker: &[f64], minprop: f64, max_candidates: usize) -> Result<TwoCutpoints> {
    let s = sort_by_marker(data, marker, minprop)?;
    let n = s.a.len() as f64;
    let total: f64 = s.a.iter().sum();
    let mut levels: Vec<(f64, usize, f64)> =
        s.levels.iter().copied().filter(|&(_, m, _)| (m as f64) >= minprop * n && (m as f64) <= (1.0 - minprop) * n).collect();
    let max_candidates = max_candidates.max(2);
    if levels.len() > max_candidates {
        let k = levels.len();
        levels = (0..max_candidates).map(|i| levels[i * (k - 1) / (max_candidates - 1)]).collect();
        levels.dedup_by(|a, b| a.0 == b.0);
    }
    let term = |sum: f64, m: f64| (sum - m * s.mean).powi(2) / m;
    let mut best: Option<TwoCutpoints> = None;
    for (i, &(c1, m1, s1)) in levels.iter().enumerate() {
        for &(c2, m2, s2) in &levels[i + 1..] {
            let (g1, g2, g3) = (m1 as f64, (m2 - m1) as f64, n - m2 as f64);
            if g2 < minprop * n || g3 < minprop * n || g2 == 0.0 || g3 == 0.0 {
                continue;
            }
            let stat = (n - 1.0) / s.ss * (term(s1, g1) + term(s2 - s1, g2) + term(total - s2, g3));
            if best.as_ref().is_none_or(|b| stat > b.statistic) {
                best = Some(TwoCutpoints { first: c1, second: c2, statistic: stat, sizes: [m1, m2 - m1, s.a.len() - m2] });
            }
        }
    }
    best.ok_or_else(|| SurvivalError::InvalidArgument("no pair of cut-points leaves minprop in every group".into()))
}

/// Sample quantile, R's type 7 (linear between order statistics); NaN for no values or a `prob`
/// outside [0, 1].
pub fn quantile(values: &[f64], prob: f64) -> f64 {
    if values.is_empty() || !(0.0..=1.0).contains(&prob) {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * prob;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// The 1/3 and 2/3 quantiles (type 7).
pub fn tertiles(values: &[f64]) -> (f64, f64) {
    (quantile(values, 1.0 / 3.0), quantile(values, 2.0 / 3.0))
}

/// Group of each value under ordered cut-points: 0 for <= first, 1 for <= second, ...
pub fn assign_groups(values: &[f64], cuts: &[f64]) -> Vec<i64> {
    values.iter().map(|&v| cuts.iter().filter(|&&c| v > c).count() as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Hazard steps up by e^1.5 above the planted cut-point(s).
    fn planted(cuts: &[f64], seed: u64) -> (SurvivalData, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mut t, mut e, mut x) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..600 {
            let v: f64 = rng.random::<f64>() * 10.0;
            let level = cuts.iter().filter(|&&c| v > c).count() as f64;
            let u: f64 = rng.random::<f64>().max(1e-12);
            let time = -u.ln() / (1.5 * level).exp();
            let censor = rng.random::<f64>() * 3.0;
            x.push(v);
            t.push(time.min(censor));
            e.push(time <= censor);
        }
        (SurvivalData::new(t, e).unwrap(), x)
    }

    #[test]
    fn finds_planted_cutpoints() {
        let (d, x) = planted(&[6.0], 1);
        let c = maxstat_cutpoint(&d, &x, 0.1).unwrap();
        assert!((c.cutpoint - 6.0).abs() < 0.3, "{}", c.cutpoint);
        assert_eq!(c.n_low + c.n_high, 600);
        let (d, x) = planted(&[3.0, 7.0], 2);
        let two = two_cutpoints(&d, &x, 0.1, 200).unwrap();
        assert!((two.first - 3.0).abs() < 0.4 && (two.second - 7.0).abs() < 0.4, "{two:?}");
    }

    #[test]
    fn logrank_scores_sum_to_zero_and_tertiles_split_evenly() {
        let (d, x) = planted(&[5.0], 3);
        assert!(logrank_scores(&d).iter().sum::<f64>().abs() < 1e-9);
        let (a, b) = tertiles(&x);
        let g = assign_groups(&x, &[a, b]);
        for k in 0..3 {
            assert_eq!(g.iter().filter(|&&v| v == k).count(), 200);
        }
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
    }

    #[test]
    fn two_group_statistic_is_the_square_of_the_single_cut_one() {
        // a two-group split at c: the k-group formula on (low, high) equals T²
        let (d, x) = planted(&[5.0], 4);
        let single = maxstat_cutpoint(&d, &x, 0.1).unwrap();
        let s = sort_by_marker(&d, &x, 0.1).unwrap();
        let &(_, m, sum) = s.levels.iter().find(|l| l.0 == single.cutpoint).unwrap();
        let n = s.a.len() as f64;
        let (m, total) = (m as f64, s.a.iter().sum::<f64>());
        let k_group = (n - 1.0) / s.ss * ((sum - m * s.mean).powi(2) / m + (total - sum - (n - m) * s.mean).powi(2) / (n - m));
        assert!((k_group - single.statistic.powi(2)).abs() < 1e-9 * k_group);
    }
}
