//! The censoring distribution G(t) = P(C > t), estimated by the reverse Kaplan-Meier, and the
//! inverse-probability-of-censoring weights built from it.
//!
//! Ties follow scikit-survival's `CensoringDistributionEstimator`: at a time with both events and
//! censorings the events leave the risk set first, and G is right-continuous (the drop at t counts
//! at t).

use crate::data::{SurvivalData, life_table};
use crate::error::{Result, SurvivalError};

/// Reverse Kaplan-Meier estimate of the censoring survival function.
#[derive(Debug, Clone, PartialEq)]
pub struct CensoringDistribution {
    time: Vec<f64>,
    survival: Vec<f64>,
}

impl CensoringDistribution {
    /// Estimates G from the training outcomes.
    pub fn fit(data: &SurvivalData) -> Self {
        let mut g = 1.0;
        let mut time = Vec::new();
        let mut survival = Vec::new();
        for row in life_table(data, None) {
            let at_risk = row.at_risk - row.events;
            if at_risk > 0.0 {
                g *= 1.0 - row.censored / at_risk;
            }
            time.push(row.time);
            survival.push(g);
        }
        Self { time, survival }
    }

    /// G(t): 1 before the first time, the value at the last time beyond it.
    pub fn survival_at(&self, t: f64) -> f64 {
        let k = self.time.partition_point(|&x| x <= t);
        if k == 0 { 1.0 } else { self.survival[k - 1] }
    }

    /// 1 / G(T_i) for subjects with an event at T_i <= `up_to` (0 for censored subjects and for
    /// later events, which the caller does not weigh), as Uno's C and the cumulative/dynamic AUC
    /// use; an error where G(T_i) = 0. An external cohort followed longer than the training cohort
    /// has events where G is 0: bounding the weights by the last time asked keeps them out.
    pub fn event_weights(&self, data: &SurvivalData, up_to: f64) -> Result<Vec<f64>> {
        data.time()
            .iter()
            .zip(data.event())
            .map(|(&t, &e)| {
                if !e || t > up_to {
                    return Ok(0.0);
                }
                let g = self.survival_at(t);
                if g > 0.0 { Ok(1.0 / g) } else { Err(SurvivalError::CensoringSurvivalZero { time: t }) }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_km_removes_events_first() {
        // at t=2 one event and one censoring among 4 at risk: the event leaves first, G drops by 1/3
        let d = SurvivalData::new(vec![1.0, 2.0, 2.0, 3.0, 4.0], vec![true, true, false, false, true]).unwrap();
        let g = CensoringDistribution::fit(&d);
        assert_eq!(g.survival_at(1.5), 1.0);
        assert!((g.survival_at(2.0) - 2.0 / 3.0).abs() < 1e-15);
        assert!((g.survival_at(3.0) - 2.0 / 3.0 * 0.5).abs() < 1e-15);
        let w = g.event_weights(&d, f64::INFINITY).unwrap();
        assert_eq!(w[2], 0.0);
        assert!((w[1] - 1.5).abs() < 1e-15);
    }
}
