//! Breslow's estimate of the baseline cumulative hazard of a fitted Cox model, per stratum, and the
//! predicted survival S(t | x) = exp(-H0(t) exp((x - x̄)·β)).
//!
//! H0 is held at the covariate means, as lifelines reports it (R's `survival` does too for Breslow
//! ties; with Efron ties R adjusts the increments at tied times, which this estimator does not). Between observed
//! times it is a step function; `Interpolation::Linear` reproduces lifelines, which interpolates
//! linearly between the distinct observed times (`np.interp`).

use serde::Serialize;

use super::likelihood::SortedDesign;

/// How H0 is read between observed times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Interpolation {
    /// Right-continuous step function (the estimator itself).
    #[default]
    Step,
    /// Linear between distinct observed times, constant outside them (lifelines' predictions).
    Linear,
}

/// Baseline cumulative hazard of one stratum at every distinct observed time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StratumBaseline {
    /// Stratum label (0 without strata).
    pub stratum: i64,
    /// Distinct observed times, increasing.
    pub time: Vec<f64>,
    /// H0 at the covariate means, just after each time.
    pub cumulative_hazard: Vec<f64>,
}

impl StratumBaseline {
    /// H0(t).
    pub fn at(&self, t: f64, interpolation: Interpolation) -> f64 {
        let k = self.time.partition_point(|&x| x <= t);
        match interpolation {
            Interpolation::Step => {
                if k == 0 {
                    0.0
                } else {
                    self.cumulative_hazard[k - 1]
                }
            }
            Interpolation::Linear => {
                if k == 0 {
                    self.cumulative_hazard[0]
                } else if k == self.time.len() {
                    self.cumulative_hazard[k - 1]
                } else {
                    let (t0, t1) = (self.time[k - 1], self.time[k]);
                    let (h0, h1) = (self.cumulative_hazard[k - 1], self.cumulative_hazard[k]);
                    h0 + (h1 - h0) * (t - t0) / (t1 - t0)
                }
            }
        }
    }
}

/// Breslow estimate in every stratum: ΔH0(t) = d(t) / Σ_{T_j >= t} exp((x_j - x̄)·β).
pub(crate) fn breslow(design: &SortedDesign, groups: &[(usize, usize)], beta: &[f64]) -> Vec<StratumBaseline> {
    let eta = design.linear_predictors(beta);
    let mut out: Vec<StratumBaseline> = Vec::new();
    let mut risk_sum = 0.0;
    let mut current: Option<i64> = None;
    let mut rev: Vec<(f64, f64)> = Vec::new();
    let flush = |stratum: i64, rev: &mut Vec<(f64, f64)>, out: &mut Vec<StratumBaseline>| {
        rev.reverse();
        let mut h = 0.0;
        let mut time = Vec::with_capacity(rev.len());
        let mut cumulative_hazard = Vec::with_capacity(rev.len());
        for &(t, dh) in rev.iter() {
            h += dh;
            time.push(t);
            cumulative_hazard.push(h);
        }
        out.push(StratumBaseline { stratum, time, cumulative_hazard });
        rev.clear();
    };
    for &(start, end) in groups.iter().rev() {
        let s = design.stratum[start];
        if current != Some(s) {
            if let Some(prev) = current {
                flush(prev, &mut rev, &mut out);
            }
            current = Some(s);
            risk_sum = 0.0;
        }
        let mut deaths = 0.0;
        for i in start..end {
            risk_sum += eta[i].exp();
            if design.event[i] {
                deaths += 1.0;
            }
        }
        rev.push((design.time[start], deaths / risk_sum));
    }
    if let Some(prev) = current {
        flush(prev, &mut rev, &mut out);
    }
    out.reverse();
    out
}
