//! Kaplan-Meier estimator with Greenwood variance, log(-log) confidence bands, median survival with
//! its confidence interval, survival at chosen times and numbers at risk.
//!
//! Agrees with lifelines' `KaplanMeierFitter` (timeline starting at 0, every distinct observed time,
//! "exponential Greenwood" bands): see `tests/survival/agreement.rs`.

use serde::Serialize;

use crate::data::{SurvivalData, life_table};
use crate::error::{Result, SurvivalError};
use crate::special::normal_quantile;

/// A fitted Kaplan-Meier curve: one row per distinct time, starting at time 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KaplanMeier {
    /// Distinct times (0 first).
    pub time: Vec<f64>,
    /// Subjects at risk just before each time.
    pub at_risk: Vec<f64>,
    /// Events at each time.
    pub events: Vec<f64>,
    /// Censorings at each time.
    pub censored: Vec<f64>,
    /// S(t) just after each time.
    pub survival: Vec<f64>,
    /// Greenwood's sum Σ d / (n (n - d)) up to each time (variance of log S is this sum).
    pub greenwood: Vec<f64>,
    /// Lower confidence bound (log(-log) transform).
    pub ci_lower: Vec<f64>,
    /// Upper confidence bound.
    pub ci_upper: Vec<f64>,
    /// Confidence level of the bands, e.g. 0.95.
    pub level: f64,
}

/// Median survival time with its confidence interval; `None` where the curve (or band) never
/// reaches 0.5.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MedianSurvival {
    /// First time at which S(t) <= 0.5.
    pub median: Option<f64>,
    /// Lower limit: first time at which the lower band <= 0.5 (the band below S reaches 0.5 first).
    pub lower: Option<f64>,
    /// Upper limit: first time at which the upper band <= 0.5.
    pub upper: Option<f64>,
}

impl KaplanMeier {
    /// Fits the curve with 95% bands.
    pub fn fit(data: &SurvivalData) -> Self {
        Self::fit_with_level(data, 0.95).expect("0.95 is a valid level")
    }

    /// Fits the curve with bands at the given confidence level (0 < level < 1).
    pub fn fit_with_level(data: &SurvivalData, level: f64) -> Result<Self> {
        Self::fit_weighted(data, None, level)
    }

    /// Fits a curve with a weight per subject (the plain curve when `weights` is `None`).
    pub fn fit_weighted(data: &SurvivalData, weights: Option<&[f64]>, level: f64) -> Result<Self> {
        if !(level > 0.0 && level < 1.0) {
            return Err(SurvivalError::InvalidArgument(format!("confidence level {level} not in (0, 1)")));
        }
        if let Some(w) = weights {
            data.check_per_subject("weight", w)?;
            if let Some(index) = w.iter().position(|&v| v < 0.0) {
                return Err(SurvivalError::InvalidArgument(format!("subject {index}: weight {} is negative", w[index])));
            }
        }
        let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
        let mut table = life_table(data, weights);
        if table.first().is_none_or(|row| row.time > 0.0) {
            let n = table.first().map_or(0.0, |row| row.at_risk);
            table.insert(0, crate::data::TimeCounts { time: 0.0, at_risk: n, events: 0.0, censored: 0.0 });
        }
        let mut km = Self {
            time: Vec::with_capacity(table.len()),
            at_risk: Vec::with_capacity(table.len()),
            events: Vec::with_capacity(table.len()),
            censored: Vec::with_capacity(table.len()),
            survival: Vec::with_capacity(table.len()),
            greenwood: Vec::with_capacity(table.len()),
            ci_lower: Vec::with_capacity(table.len()),
            ci_upper: Vec::with_capacity(table.len()),
            level,
        };
        let (mut s, mut g) = (1.0_f64, 0.0_f64);
        for row in &table {
            if row.events > 0.0 {
                s *= 1.0 - row.events / row.at_risk;
                g += if row.at_risk > row.events { row.events / (row.at_risk * (row.at_risk - row.events)) } else { f64::INFINITY };
            }
            let (lo, hi) = log_log_band(s, g, z);
            km.time.push(row.time);
            km.at_risk.push(row.at_risk);
            km.events.push(row.events);
            km.censored.push(row.censored);
            km.survival.push(s);
            km.greenwood.push(g);
            km.ci_lower.push(lo);
            km.ci_upper.push(hi);
        }
        Ok(km)
    }

    /// Index of the last row at or before `t`, if any.
    fn row_at(&self, t: f64) -> Option<usize> {
        let k = self.time.partition_point(|&x| x <= t);
        k.checked_sub(1)
    }

    /// S(t) (right-continuous step function; 1 before the first time).
    pub fn survival_at(&self, t: f64) -> f64 {
        if t.is_nan() {
            return f64::NAN;
        }
        self.row_at(t).map_or(1.0, |k| self.survival[k])
    }

    /// (S(t), lower, upper) at `t`.
    pub fn survival_with_ci_at(&self, t: f64) -> (f64, f64, f64) {
        if t.is_nan() {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        self.row_at(t).map_or((1.0, 1.0, 1.0), |k| (self.survival[k], self.ci_lower[k], self.ci_upper[k]))
    }

    /// Number at risk at `t`: subjects whose observed time is >= t.
    pub fn at_risk_at(&self, t: f64) -> f64 {
        let k = self.time.partition_point(|&x| x < t);
        if k < self.time.len() {
            self.at_risk[k]
        } else {
            let last = self.time.len() - 1;
            self.at_risk[last] - self.events[last] - self.censored[last]
        }
    }

    /// Median survival with the confidence interval read off the bands (as lifelines and R's
    /// `survfit` do).
    pub fn median(&self) -> MedianSurvival {
        let first_below = |v: &[f64]| v.iter().position(|&s| s <= 0.5).map(|k| self.time[k]);
        MedianSurvival { median: first_below(&self.survival), lower: first_below(&self.ci_lower), upper: first_below(&self.ci_upper) }
    }
}

/// Log(-log) ("exponential Greenwood") band of S with Greenwood sum g at normal quantile z.
fn log_log_band(s: f64, g: f64, z: f64) -> (f64, f64) {
    if s >= 1.0 {
        return (1.0, 1.0);
    }
    if s <= 0.0 || !g.is_finite() {
        return (0.0, 0.0);
    }
    let v = s.ln();
    let half = z * g.sqrt() / v;
    let lo = (-((-v).ln() - half).exp()).exp();
    let hi = (-((-v).ln() + half).exp()).exp();
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_curve() {
        // times 1,2,2,3+,4 ; S: 1 -> 4/5 at 1 -> 4/5*2/4 at 2 -> at 4: *0 = 0
        let d = SurvivalData::new(vec![1.0, 2.0, 2.0, 3.0, 4.0], vec![true, true, true, false, true]).unwrap();
        let km = KaplanMeier::fit(&d);
        assert_eq!(km.time, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let want = [1.0, 0.8, 0.4, 0.4, 0.0];
        for (g, w) in km.survival.iter().zip(want) {
            assert!((g - w).abs() < 1e-15);
        }
        assert_eq!(km.at_risk, vec![5.0, 5.0, 4.0, 2.0, 1.0]);
        assert!((km.greenwood[2] - (1.0 / 20.0 + 2.0 / 8.0)).abs() < 1e-15);
        // lifelines 0.30.3, median_survival_times(kmf.confidence_interval_): 1 and 4 (this limit
        // and the upper one were swapped before)
        let median = km.median();
        assert_eq!((median.lower, median.median, median.upper), (Some(1.0), Some(2.0), Some(4.0)));
        assert_eq!(km.survival_at(2.5), 0.4);
        assert_eq!(km.survival_at(-1.0), 1.0);
        assert_eq!(km.at_risk_at(2.5), 2.0);
        assert_eq!(km.at_risk_at(10.0), 0.0);
        for k in 0..km.time.len() {
            assert!(km.ci_lower[k] <= km.survival[k] && km.survival[k] <= km.ci_upper[k]);
        }
    }
}
