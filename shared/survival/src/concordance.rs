//! Concordance of a risk score with survival: Harrell's C in O(n log n) with its pair counts, and
//! Uno's C (inverse-probability-of-censoring weighted, truncated at tau).
//!
//! Higher risk means shorter survival. Pairs follow scikit-survival's `concordance_index_censored`:
//! a subject with an event at t is comparable with every subject whose time is > t, and with
//! subjects censored at exactly t (those pairs are also counted as `tied_time`); risks within
//! 1e-8 of each other are tied and count one half.

use serde::Serialize;

use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::ipcw::CensoringDistribution;

/// Absolute difference under which two risk scores are tied (scikit-survival's `tied_tol`).
pub const RISK_TIE_TOLERANCE: f64 = 1e-8;

/// Harrell's concordance index and the counts behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Concordance {
    /// (concordant + tied_risk / 2) / (concordant + discordant + tied_risk), weighted for Uno's C.
    pub c_index: f64,
    /// Comparable pairs ordered as the risk says.
    pub concordant: u64,
    /// Comparable pairs ordered against the risk.
    pub discordant: u64,
    /// Comparable pairs with tied risk.
    pub tied_risk: u64,
    /// Event-censored pairs at the same time (comparable, and included above).
    pub tied_time: u64,
}

/// Fenwick tree of counts over the distinct risk values.
struct Fenwick {
    tree: Vec<f64>,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self { tree: vec![0.0; n + 1] }
    }
    fn add(&mut self, pos: usize, v: f64) {
        let mut i = pos + 1;
        while i < self.tree.len() {
            self.tree[i] += v;
            i += i & i.wrapping_neg();
        }
    }
    /// Sum over positions < `end`.
    fn prefix(&self, end: usize) -> f64 {
        let mut i = end;
        let mut s = 0.0;
        while i > 0 {
            s += self.tree[i];
            i &= i - 1;
        }
        s
    }
}

/// Harrell's C of `risk` against the outcomes.
pub fn harrell_c(data: &SurvivalData, risk: &[f64]) -> Result<Concordance> {
    data.check_per_subject("risk", risk)?;
    weighted_concordance(data, risk, None)
}

/// Uno's C: each comparable pair whose earlier subject had its event at T_i < tau is weighted by
/// 1 / G(T_i)², with G the censoring distribution estimated on `train` (scikit-survival's
/// `concordance_index_ipcw`). Counts in the result are unweighted.
pub fn uno_c(train: &SurvivalData, test: &SurvivalData, risk: &[f64], tau: Option<f64>) -> Result<Concordance> {
    test.check_per_subject("risk", risk)?;
    if let Some(t) = tau.filter(|t| t.is_nan() || *t <= 0.0) {
        return Err(SurvivalError::InvalidArgument(format!("tau {t} is not a positive time")));
    }
    let g = CensoringDistribution::fit(train);
    let tau = tau.unwrap_or(f64::INFINITY);
    let mut w = vec![0.0; test.len()];
    for i in 0..test.len() {
        if test.event()[i] && test.time()[i] < tau {
            let gi = g.survival_at(test.time()[i]);
            if gi <= 0.0 {
                return Err(SurvivalError::CensoringSurvivalZero { time: test.time()[i] });
            }
            w[i] = 1.0 / (gi * gi);
        }
    }
    weighted_concordance(test, risk, Some(&w))
}

fn weighted_concordance(data: &SurvivalData, risk: &[f64], weights: Option<&[f64]>) -> Result<Concordance> {
    let n = data.len();
    let mut distinct = risk.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let rank = |v: f64| distinct.partition_point(|&x| x < v);
    let below = |v: f64| distinct.partition_point(|&x| x < v - RISK_TIE_TOLERANCE);
    let up_to = |v: f64| distinct.partition_point(|&x| x <= v + RISK_TIE_TOLERANCE);

    // Walk the times from the last one down. The tree holds every subject whose time is later than
    // the current one; the censorings at the current time join it before its events are compared,
    // the events after.
    let mut order = data.order_by_time();
    order.reverse();
    let mut tree = Fenwick::new(distinct.len());
    let mut in_tree = 0u64;
    let (mut concordant, mut discordant, mut tied_risk, mut tied_time) = (0u64, 0u64, 0u64, 0u64);
    let (mut numerator, mut denominator) = (0.0, 0.0);
    let mut k = 0;
    while k < n {
        let t = data.time()[order[k]];
        let mut end = k;
        while end < n && data.time()[order[end]] == t {
            end += 1;
        }
        let group = &order[k..end];
        let censored_here = group.iter().filter(|&&i| !data.event()[i]).count() as u64;
        for &i in group.iter().filter(|&&i| !data.event()[i]) {
            tree.add(rank(risk[i]), 1.0);
        }
        in_tree += censored_here;
        for &i in group.iter().filter(|&&i| data.event()[i]) {
            let r = risk[i];
            let con = tree.prefix(below(r)) as u64;
            let le = tree.prefix(up_to(r)) as u64;
            concordant += con;
            tied_risk += le - con;
            discordant += in_tree - le;
            tied_time += censored_here;
            let w = weights.map_or(1.0, |w| w[i]);
            numerator += w * (con as f64 + 0.5 * (le - con) as f64);
            denominator += w * in_tree as f64;
        }
        for &i in group.iter().filter(|&&i| data.event()[i]) {
            tree.add(rank(risk[i]), 1.0);
        }
        in_tree += (end - k) as u64 - censored_here;
        k = end;
    }
    if denominator <= 0.0 {
        return Err(SurvivalError::NoComparablePairs { n });
    }
    Ok(Concordance { c_index: numerator / denominator, concordant, discordant, tied_risk, tied_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair checked one by one, as the definition reads.
    fn brute_force(data: &SurvivalData, risk: &[f64]) -> (u64, u64, u64, u64) {
        let (mut c, mut d, mut tr, mut tt) = (0, 0, 0, 0);
        for i in 0..data.len() {
            if !data.event()[i] {
                continue;
            }
            for j in 0..data.len() {
                let (ti, tj) = (data.time()[i], data.time()[j]);
                let comparable = tj > ti || (tj == ti && !data.event()[j]);
                if !comparable || i == j {
                    continue;
                }
                if tj == ti {
                    tt += 1;
                }
                if (risk[i] - risk[j]).abs() <= RISK_TIE_TOLERANCE {
                    tr += 1;
                } else if risk[i] > risk[j] {
                    c += 1;
                } else {
                    d += 1;
                }
            }
        }
        (c, d, tr, tt)
    }

    #[test]
    fn matches_the_pairwise_definition() {
        let cases: &[(&[f64], &[bool], &[f64])] = &[
            (&[1.0, 2.0, 3.0, 4.0], &[true, true, true, true], &[4.0, 3.0, 2.0, 1.0]),
            (&[1.0, 1.0, 2.0, 2.0, 3.0], &[true, false, true, true, false], &[1.0, 1.0, 2.0, 0.5, 0.5]),
            (&[5.0, 3.0, 3.0, 3.0, 1.0, 8.0], &[false, true, false, true, true, true], &[0.1, 0.7, 0.7, 0.2, 0.9, 0.1]),
        ];
        for (t, e, r) in cases {
            let d = SurvivalData::new(t.to_vec(), e.to_vec()).unwrap();
            let got = harrell_c(&d, r).unwrap();
            let want = brute_force(&d, r);
            assert_eq!((got.concordant, got.discordant, got.tied_risk, got.tied_time), want, "{t:?} {e:?} {r:?}");
        }
        let d = SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0], vec![true; 4]).unwrap();
        assert_eq!(harrell_c(&d, &[4.0, 3.0, 2.0, 1.0]).unwrap().c_index, 1.0);
        assert_eq!(harrell_c(&d, &[1.0, 2.0, 3.0, 4.0]).unwrap().c_index, 0.0);
    }

    #[test]
    fn no_comparable_pair_is_an_error_not_nan() {
        let cases: &[(&[f64], &[bool])] = &[(&[1.0, 2.0], &[false, false]), (&[1.0], &[true]), (&[1.0, 5.0], &[false, true])];
        for (t, e) in cases {
            let d = SurvivalData::new(t.to_vec(), e.to_vec()).unwrap();
            let r = vec![1.0; t.len()];
            assert!(matches!(harrell_c(&d, &r), Err(SurvivalError::NoComparablePairs { .. })), "{t:?} {e:?}");
        }
        // tau before the first event leaves every Uno weight at zero
        let d = SurvivalData::new(vec![2.0, 3.0, 4.0], vec![true, true, false]).unwrap();
        assert!(uno_c(&d, &d, &[3.0, 2.0, 1.0], Some(1.0)).is_err());
    }
}
