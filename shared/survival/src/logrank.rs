//! Log-rank tests: k groups, stratified, and the trend test for ordered groups.
//!
//! The statistic is (O - E)ᵀ V⁻¹ (O - E) over k - 1 groups with the hypergeometric variance, as
//! lifelines' `logrank_test` / `multivariate_logrank_test` and R's `survdiff` compute it.

use serde::Serialize;

use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::linalg::{Cholesky, SquareMatrix};
use crate::special::chi2_sf;

/// Result of a log-rank test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogRankTest {
    /// Group labels in sorted order.
    pub groups: Vec<i64>,
    /// Observed events per group.
    pub observed: Vec<f64>,
    /// Expected events per group under the null.
    pub expected: Vec<f64>,
    /// Chi-square statistic.
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail p-value.
    pub p: f64,
}

/// O - E and the variance matrix summed over strata.
struct Accumulated {
    groups: Vec<i64>,
    observed: Vec<f64>,
    expected: Vec<f64>,
    variance: SquareMatrix,
}

fn group_codes(labels: &[i64]) -> (Vec<i64>, Vec<usize>) {
    let mut groups = labels.to_vec();
    groups.sort_unstable();
    groups.dedup();
    let codes = labels.iter().map(|l| groups.binary_search(l).expect("label is present")).collect();
    (groups, codes)
}

fn accumulate(data: &SurvivalData, labels: &[i64], strata: Option<&[i64]>) -> Result<Accumulated> {
    let n = data.len();
    if labels.len() != n {
        return Err(SurvivalError::LengthMismatch { what: "group", expected: n, got: labels.len() });
    }
    if let Some(s) = strata
        && s.len() != n
    {
        return Err(SurvivalError::LengthMismatch { what: "strata", expected: n, got: s.len() });
    }
    let (groups, codes) = group_codes(labels);
    let k = groups.len();
    if k < 2 {
        return Err(SurvivalError::InvalidArgument(format!("log-rank needs at least two groups, got {k}")));
    }
    if data.n_events() == 0 {
        return Err(SurvivalError::NoEvents { n });
    }
    let stratum_of = |i: usize| strata.map_or(0, |s| s[i]);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| stratum_of(a).cmp(&stratum_of(b)).then(data.time()[a].total_cmp(&data.time()[b])));

    let mut observed = vec![0.0; k];
    let mut expected = vec![0.0; k];
    let mut variance = SquareMatrix::zeros(k);
    let mut start = 0;
    while start < n {
        let stratum = stratum_of(order[start]);
        let mut end = start;
        let mut at_risk = vec![0.0; k];
        while end < n && stratum_of(order[end]) == stratum {
            at_risk[codes[order[end]]] += 1.0;
            end += 1;
        }
        let mut total: f64 = at_risk.iter().sum();
        let mut i = start;
        let mut deaths = vec![0.0; k];
        let mut leaving = vec![0.0; k];
        while i < end {
            let t = data.time()[order[i]];
            deaths.iter_mut().for_each(|d| *d = 0.0);
            leaving.iter_mut().for_each(|d| *d = 0.0);
            while i < end && data.time()[order[i]] == t {
                let j = order[i];
                leaving[codes[j]] += 1.0;
                if data.event()[j] {
                    deaths[codes[j]] += 1.0;
                }
                i += 1;
            }
            let d: f64 = deaths.iter().sum();
            if d > 0.0 {
                for g in 0..k {
                    observed[g] += deaths[g];
                    expected[g] += d * at_risk[g] / total;
                }
                if total > 1.0 {
                    let f = d * (total - d) / (total - 1.0) / total;
                    for g in 0..k {
                        for h in g..k {
                            let delta = if g == h { 1.0 } else { 0.0 };
                            variance.add(g, h, f * at_risk[g] * (delta - at_risk[h] / total));
                        }
                    }
                }
            }
            for g in 0..k {
                at_risk[g] -= leaving[g];
            }
            total -= leaving.iter().sum::<f64>();
        }
        start = end;
    }
    variance.symmetrize_from_upper();
    Ok(Accumulated { groups, observed, expected, variance })
}

/// The statistic over the groups that had someone at risk at an event time (expected > 0; the
/// others carry no information, as in R's `survdiff`), with its degrees of freedom.
fn quadratic_statistic(acc: &Accumulated) -> Result<(f64, usize)> {
    let informative: Vec<usize> = (0..acc.groups.len()).filter(|&g| acc.expected[g] > 0.0).collect();
    if informative.len() < 2 {
        return Err(SurvivalError::InvalidArgument("log-rank needs two groups with subjects at risk at an event time".into()));
    }
    let kept = &informative[..informative.len() - 1];
    let mut v = SquareMatrix::zeros(kept.len());
    for (a, &g) in kept.iter().enumerate() {
        for (b, &h) in kept.iter().enumerate() {
            v.set(a, b, acc.variance.get(g, h));
        }
    }
    let u: Vec<f64> = kept.iter().map(|&g| acc.observed[g] - acc.expected[g]).collect();
    let chol = Cholesky::new(&v, 1e-12)
        .map_err(|e| SurvivalError::InvalidArgument(format!("log-rank variance is singular at group {}", acc.groups[kept[e.column]])))?;
    let x = chol.solve(&u);
    Ok((u.iter().zip(&x).map(|(a, b)| a * b).sum(), kept.len()))
}

impl LogRankTest {
    /// The k-group log-rank test (k >= 2), df = k - 1 (groups with nobody at risk at any event
    /// time are left out of the statistic and of df).
    pub fn new(data: &SurvivalData, groups: &[i64]) -> Result<Self> {
        Self::stratified(data, groups, None)
    }

    /// The stratified log-rank test: O - E and variances summed over strata.
    pub fn stratified(data: &SurvivalData, groups: &[i64], strata: Option<&[i64]>) -> Result<Self> {
        let acc = accumulate(data, groups, strata)?;
        let (chi2, df) = quadratic_statistic(&acc)?;
        Ok(Self { groups: acc.groups, observed: acc.observed, expected: acc.expected, chi2, df, p: chi2_sf(chi2, df as f64) })
    }

    /// Test for trend across ordered groups with the given scores per sorted group (1, 2, ..., k
    /// when `None`), df = 1: (Σ w (O - E))² / wᵀ V w.
    pub fn trend(data: &SurvivalData, groups: &[i64], scores: Option<&[f64]>, strata: Option<&[i64]>) -> Result<Self> {
        let acc = accumulate(data, groups, strata)?;
        let k = acc.groups.len();
        let w: Vec<f64> = match scores {
            Some(s) if s.len() == k => s.to_vec(),
            Some(s) => return Err(SurvivalError::LengthMismatch { what: "trend scores", expected: k, got: s.len() }),
            None => (1..=k).map(|g| g as f64).collect(),
        };
        let u: f64 = (0..k).map(|g| w[g] * (acc.observed[g] - acc.expected[g])).sum();
        let var = acc.variance.quadratic_form(&w);
        if var <= 0.0 {
            return Err(SurvivalError::InvalidArgument("trend variance is zero".into()));
        }
        let chi2 = u * u / var;
        Ok(Self { groups: acc.groups, observed: acc.observed, expected: acc.expected, chi2, df: 1, p: chi2_sf(chi2, 1.0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (SurvivalData, Vec<i64>) {
        let t = vec![1.0, 2.0, 3.0, 4.0, 5.0, 1.5, 2.5, 6.0, 7.0, 8.0];
        let e = vec![true, true, false, true, true, true, false, true, true, false];
        let g = vec![0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        (SurvivalData::new(t, e).unwrap(), g)
    }

    #[test]
    fn observed_and_expected_add_up() {
        let (d, g) = data();
        let t = LogRankTest::new(&d, &g).unwrap();
        let o: f64 = t.observed.iter().sum();
        let e: f64 = t.expected.iter().sum();
        assert!((o - e).abs() < 1e-12 && o == 7.0);
        // trend with two groups is the two-group test
        let tr = LogRankTest::trend(&d, &g, None, None).unwrap();
        assert!((tr.chi2 - t.chi2).abs() < 1e-12);
        // one stratum for everybody equals no strata
        let one = vec![7; 10];
        let s = LogRankTest::stratified(&d, &g, Some(&one)).unwrap();
        assert!((s.chi2 - t.chi2).abs() < 1e-12);
    }

    #[test]
    fn a_group_censored_before_every_event_is_left_out() {
        let (d, g) = data();
        // group 9: two subjects censored at 0.5, before the first event
        let mut t = d.time().to_vec();
        let mut e = d.event().to_vec();
        let mut groups = g.clone();
        for label in [9, 9] {
            t.push(0.5);
            e.push(false);
            groups.push(label);
        }
        let with = LogRankTest::new(&SurvivalData::new(t, e).unwrap(), &groups).unwrap();
        let without = LogRankTest::new(&d, &g).unwrap();
        assert_eq!(with.df, 1);
        assert!((with.chi2 - without.chi2).abs() < 1e-12);
    }

    #[test]
    fn relabelling_groups_changes_nothing() {
        let (d, g) = data();
        let relabelled: Vec<i64> = g.iter().map(|&x| 10 - 3 * x).collect();
        let a = LogRankTest::new(&d, &g).unwrap();
        let b = LogRankTest::new(&d, &relabelled).unwrap();
        assert!((a.chi2 - b.chi2).abs() < 1e-12);
        assert!(LogRankTest::new(&d, &[1; 10]).is_err());
    }
}
