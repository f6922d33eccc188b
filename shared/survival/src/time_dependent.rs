//! Time-dependent accuracy of a prognostic model: cumulative/dynamic AUC at chosen times with its
//! integrated mean, and the Brier score with its integral (IBS).
//!
//! Both use inverse probability of censoring weights from a censoring distribution fitted on the
//! training outcomes, as scikit-survival's `cumulative_dynamic_auc`, `brier_score` and
//! `integrated_brier_score` do; `tests/survival/agreement.rs` checks them on GBSG2.

use serde::Serialize;

use crate::concordance::RISK_TIE_TOLERANCE;
use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::ipcw::CensoringDistribution;
use crate::kaplan_meier::KaplanMeier;

/// Cumulative/dynamic AUC at each time and their mean weighted by the drop of the Kaplan-Meier curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeDependentAuc {
    /// Evaluation times.
    pub times: Vec<f64>,
    /// AUC(t): cases have their event by t, controls are still event-free after t.
    pub auc: Vec<f64>,
    /// ∫ AUC(t) dS(t) / (1 - S(t_last)).
    pub mean_auc: f64,
}

fn check_times(times: &[f64]) -> Result<()> {
    if times.is_empty() {
        return Err(SurvivalError::InvalidArgument("no evaluation time".into()));
    }
    if times.windows(2).any(|w| w[0] >= w[1]) || times.iter().any(|t| !t.is_finite()) {
        return Err(SurvivalError::InvalidArgument("evaluation times must be finite and increasing".into()));
    }
    Ok(())
}

/// Cumulative/dynamic AUC of `risk` (higher = earlier event) on `test` at `times`, with censoring
/// weights estimated on `train`.
pub fn cumulative_dynamic_auc(train: &SurvivalData, test: &SurvivalData, risk: &[f64], times: &[f64]) -> Result<TimeDependentAuc> {
    test.check_per_subject("risk", risk)?;
    check_times(times)?;
    let weights = CensoringDistribution::fit(train).event_weights(test, times[times.len() - 1])?;
    let mut auc = Vec::with_capacity(times.len());
    let mut controls: Vec<f64> = Vec::with_capacity(test.len());
    for &t in times {
        controls.clear();
        controls.extend((0..test.len()).filter(|&j| test.time()[j] > t).map(|j| risk[j]));
        controls.sort_by(f64::total_cmp);
        let (mut num, mut den) = (0.0, 0.0);
        for i in 0..test.len() {
            if test.event()[i] && test.time()[i] <= t {
                let below = controls.partition_point(|&x| x < risk[i] - RISK_TIE_TOLERANCE) as f64;
                let up_to = controls.partition_point(|&x| x <= risk[i] + RISK_TIE_TOLERANCE) as f64;
                num += weights[i] * (below + 0.5 * (up_to - below));
                den += weights[i] * controls.len() as f64;
            }
        }
        if den == 0.0 {
            return Err(SurvivalError::InvalidArgument(format!("no case or no control at time {t}")));
        }
        auc.push(num / den);
    }
    let km = KaplanMeier::fit(test);
    let s: Vec<f64> = times.iter().map(|&t| km.survival_at(t)).collect();
    let mean_auc = if times.len() == 1 {
        auc[0]
    } else {
        let mut prev = 1.0;
        let mut integral = 0.0;
        for (a, &sk) in auc.iter().zip(&s) {
            integral += a * (prev - sk);
            prev = sk;
        }
        integral / (1.0 - s[s.len() - 1])
    };
    Ok(TimeDependentAuc { times: times.to_vec(), auc, mean_auc })
}

/// The cumulative/dynamic ROC curve at one time: at each threshold c (the distinct risks, highest
/// first) the IPCW-weighted share of cases with risk >= c (TPR) and the share of controls with risk
/// >= c (FPR), from (0, 0) to (1, 1). Its trapezoid area is `cumulative_dynamic_auc` at that time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RocCurve {
    /// The time.
    pub time: f64,
    /// Thresholds, decreasing (+inf first: nobody is called positive).
    pub thresholds: Vec<f64>,
    /// False positive rate at each threshold.
    pub fpr: Vec<f64>,
    /// True positive rate at each threshold.
    pub tpr: Vec<f64>,
}

impl RocCurve {
    /// Area under the curve (trapezoids).
    pub fn area(&self) -> f64 {
        self.fpr.windows(2).zip(self.tpr.windows(2)).map(|(f, t)| (f[1] - f[0]) * (t[0] + t[1]) / 2.0).sum()
    }
}

/// The cumulative/dynamic ROC curve of `risk` on `test` at time `t`, censoring weights from `train`.
pub fn cumulative_dynamic_roc(train: &SurvivalData, test: &SurvivalData, risk: &[f64], t: f64) -> Result<RocCurve> {
    test.check_per_subject("risk", risk)?;
    check_times(&[t])?;
    let weights = CensoringDistribution::fit(train).event_weights(test, t)?;
    // (risk, case weight, control count) per subject that is a case or a control at t
    let mut points: Vec<(f64, f64, f64)> = (0..test.len())
        .filter_map(|i| {
            if test.event()[i] && test.time()[i] <= t {
                Some((risk[i], weights[i], 0.0))
            } else if test.time()[i] > t {
                Some((risk[i], 0.0, 1.0))
            } else {
                None
            }
        })
        .collect();
    let (cases, controls): (f64, f64) = points.iter().fold((0.0, 0.0), |a, p| (a.0 + p.1, a.1 + p.2));
    if cases == 0.0 || controls == 0.0 {
        return Err(SurvivalError::InvalidArgument(format!("no case or no control at time {t}")));
    }
    points.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut curve = RocCurve { time: t, thresholds: vec![f64::INFINITY], fpr: vec![0.0], tpr: vec![0.0] };
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut k = 0;
    while k < points.len() {
        // risks within the tie tolerance form one threshold
        let c = points[k].0;
        while k < points.len() && points[k].0 >= c - RISK_TIE_TOLERANCE {
            tp += points[k].1;
            fp += points[k].2;
            k += 1;
        }
        curve.thresholds.push(c);
        curve.tpr.push((tp / cases).min(1.0));
        curve.fpr.push(fp / controls);
    }
    // every case and control counted: (1, 1), whatever the order of the sums' rounding
    *curve.tpr.last_mut().expect("one threshold at least") = 1.0;
    Ok(curve)
}

/// Brier scores at each time and, over the same times, the integrated Brier score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrierScores {
    /// Evaluation times.
    pub times: Vec<f64>,
    /// Brier score at each time.
    pub brier: Vec<f64>,
    /// Trapezoidal integral of the Brier score over the times divided by their span (NaN for one time).
    pub integrated: f64,
}

/// IPCW Brier score of predicted survival probabilities. `survival[k][i]` is the predicted S(t_k)
/// of test subject i; censoring weights come from `train`.
pub fn brier_scores(train: &SurvivalData, test: &SurvivalData, survival: &[Vec<f64>], times: &[f64]) -> Result<BrierScores> {
    check_times(times)?;
    if survival.len() != times.len() {
        return Err(SurvivalError::LengthMismatch { what: "predictions per time", expected: times.len(), got: survival.len() });
    }
    for s in survival {
        test.check_per_subject("predicted survival", s)?;
    }
    let g = CensoringDistribution::fit(train);
    let inv = |v: f64| if v > 0.0 { 1.0 / v } else { 0.0 };
    let g_at_own_time: Vec<f64> = test.time().iter().map(|&t| inv(g.survival_at(t))).collect();
    let n = test.len() as f64;
    let brier: Vec<f64> = times
        .iter()
        .zip(survival)
        .map(|(&t, s)| {
            let g_t = inv(g.survival_at(t));
            let mut sum = 0.0;
            for i in 0..test.len() {
                let ti = test.time()[i];
                if ti <= t && test.event()[i] {
                    sum += s[i] * s[i] * g_at_own_time[i];
                } else if ti > t {
                    sum += (1.0 - s[i]) * (1.0 - s[i]) * g_t;
                }
            }
            sum / n
        })
        .collect();
    let integrated = if times.len() < 2 {
        f64::NAN
    } else {
        let area: f64 = times.windows(2).zip(brier.windows(2)).map(|(t, b)| 0.5 * (b[0] + b[1]) * (t[1] - t[0])).sum();
        area / (times[times.len() - 1] - times[0])
    };
    Ok(BrierScores { times: times.to_vec(), brier, integrated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_useless_predictions() {
        let d = SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![true; 6]).unwrap();
        // risk ordered exactly against time: every case outranks every control
        let risk = [6.0, 5.0, 4.0, 3.0, 2.0, 1.0];
        let auc = cumulative_dynamic_auc(&d, &d, &risk, &[2.5, 4.5]).unwrap();
        assert_eq!(auc.auc, vec![1.0, 1.0]);
        let flat = cumulative_dynamic_auc(&d, &d, &[1.0; 6], &[2.5]).unwrap();
        assert_eq!(flat.auc, vec![0.5]);
        // survival predicted as the truth (0 after the event, 1 before) has Brier score 0
        let times = [2.5, 4.5];
        let s: Vec<Vec<f64>> = times.iter().map(|&t| d.time().iter().map(|&ti| if ti <= t { 0.0 } else { 1.0 }).collect()).collect();
        let b = brier_scores(&d, &d, &s, &times).unwrap();
        assert_eq!(b.brier, vec![0.0, 0.0]);
        assert_eq!(b.integrated, 0.0);
    }

    #[test]
    fn an_event_beyond_the_training_follow_up_does_not_void_earlier_times() {
        // the training cohort ends on censorings (G = 0 from t = 10); the test cohort has an event at
        // 12, a control at t = 5 whose own weight is never used. scikit-survival refuses the whole
        // call; its AUC(5) with that event moved to 9.5 (still a control, G > 0) is 0.8333..., and
        // its Uno's C with tau = 10 on the cohort as it is: 0.92035...
        let train = SurvivalData::new(vec![2.0, 4.0, 5.0, 7.0, 9.0, 10.0], vec![true, true, false, true, false, false]).unwrap();
        let test = SurvivalData::new(vec![1.0, 3.0, 4.0, 6.0, 8.0, 12.0], vec![true, true, false, true, false, true]).unwrap();
        let risk = [0.9, 0.5, 0.3, 0.7, 0.1, 0.4];
        let auc = cumulative_dynamic_auc(&train, &test, &risk, &[5.0]).unwrap();
        assert!((auc.auc[0] - 0.8333333333333334).abs() < 1e-12, "{auc:?}");
        assert!((cumulative_dynamic_roc(&train, &test, &risk, 5.0).unwrap().area() - 0.8333333333333334).abs() < 1e-12);
        let c = crate::concordance::uno_c(&train, &test, &risk, Some(10.0)).unwrap();
        assert!((c.c_index - 0.9203539823008849).abs() < 1e-12, "{c:?}");
    }
}
