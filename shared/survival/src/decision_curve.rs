//! Decision curves for a survival endpoint at time t (Vickers et al., Med Decis Making 2008): the
//! net benefit of treating patients whose predicted risk of an event by t reaches a threshold,
//! next to treating everyone.
//!
//! Net benefit = TP/n - FP/n · p_t / (1 - p_t), with the event proportion among the treated taken
//! from their Kaplan-Meier curve so that censored patients are handled:
//! TP/n = (1 - S_treated(t)) · n_treated / n and FP/n = S_treated(t) · n_treated / n.

use serde::Serialize;

use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::kaplan_meier::KaplanMeier;

/// Net benefit at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NetBenefit {
    /// Threshold probability p_t.
    pub threshold: f64,
    /// Net benefit of treating patients with predicted risk >= p_t.
    pub model: f64,
    /// Net benefit of treating everyone.
    pub treat_all: f64,
}

/// Net benefit at `t` for each threshold in (0, 1); `risk[i]` is patient i's predicted probability
/// of an event by t (1 - S(t | x)). Treating nobody has net benefit 0.
pub fn net_benefit(data: &SurvivalData, risk: &[f64], t: f64, thresholds: &[f64]) -> Result<Vec<NetBenefit>> {
    data.check_per_subject("predicted risk", risk)?;
    crate::data::check_time_point("decision-curve time", t)?;
    let n = data.len() as f64;
    let all = KaplanMeier::fit(data).survival_at(t);
    thresholds
        .iter()
        .map(|&p| {
            if !(p > 0.0 && p < 1.0) {
                return Err(SurvivalError::InvalidArgument(format!("threshold {p} not in (0, 1)")));
            }
            let odds = p / (1.0 - p);
            let treated: Vec<usize> = (0..data.len()).filter(|&i| risk[i] >= p).collect();
            let model = if treated.is_empty() {
                0.0
            } else {
                let s = KaplanMeier::fit(&data.select(&treated)).survival_at(t);
                let share = treated.len() as f64 / n;
                (1.0 - s) * share - s * share * odds
            };
            Ok(NetBenefit { threshold: p, model, treat_all: (1.0 - all) - all * odds })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_perfect_model_earns_the_event_rate() {
        // 4 of 10 die before t = 5; a model that gives them risk 1 and the rest 0
        let t: Vec<f64> = (1..=10).map(|i| i as f64).collect();
        let d = SurvivalData::new(t, vec![true; 10]).unwrap();
        let risk: Vec<f64> = (1..=10).map(|i| if i <= 4 { 1.0 } else { 0.0 }).collect();
        let nb = net_benefit(&d, &risk, 4.5, &[0.2, 0.5]).unwrap();
        for point in &nb {
            assert!((point.model - 0.4).abs() < 1e-12);
            let odds = point.threshold / (1.0 - point.threshold);
            assert!((point.treat_all - (0.4 - 0.6 * odds)).abs() < 1e-12);
        }
    }
}
