//! Calibration at a time t: within groups of patients, the mean predicted survival S(t | x) next to
//! the Kaplan-Meier survival observed in the group, with its confidence interval.

use serde::Serialize;

use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::kaplan_meier::KaplanMeier;

/// One group of the calibration plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationGroup {
    /// Group label (0 = lowest predicted risk for quantile groups).
    pub group: i64,
    /// Patients in the group.
    pub n: usize,
    /// Mean predicted S(t).
    pub predicted: f64,
    /// Kaplan-Meier S(t) of the group.
    pub observed: f64,
    /// Lower 95% bound of the observed value.
    pub observed_lower: f64,
    /// Upper 95% bound.
    pub observed_upper: f64,
}

/// Calibration at `t` within the given groups; `predicted[i]` is patient i's predicted S(t).
pub fn calibration_by_group(data: &SurvivalData, predicted: &[f64], groups: &[i64], t: f64) -> Result<Vec<CalibrationGroup>> {
    data.check_per_subject("predicted survival", predicted)?;
    crate::data::check_time_point("calibration time", t)?;
    if groups.len() != data.len() {
        return Err(SurvivalError::LengthMismatch { what: "groups", expected: data.len(), got: groups.len() });
    }
    let mut labels = groups.to_vec();
    labels.sort_unstable();
    labels.dedup();
    labels
        .into_iter()
        .map(|g| {
            let idx: Vec<usize> = (0..data.len()).filter(|&i| groups[i] == g).collect();
            let km = KaplanMeier::fit(&data.select(&idx));
            let (observed, observed_lower, observed_upper) = km.survival_with_ci_at(t);
            Ok(CalibrationGroup {
                group: g,
                n: idx.len(),
                predicted: idx.iter().map(|&i| predicted[i]).sum::<f64>() / idx.len() as f64,
                observed,
                observed_lower,
                observed_upper,
            })
        })
        .collect()
}

/// Calibration at `t` in `n_groups` groups of (nearly) equal size by predicted survival, numbered
/// by increasing risk: group 0 has the highest predicted survival.
pub fn calibration_by_quantile(data: &SurvivalData, predicted: &[f64], n_groups: usize, t: f64) -> Result<Vec<CalibrationGroup>> {
    data.check_per_subject("predicted survival", predicted)?;
    crate::data::check_time_point("calibration time", t)?;
    if n_groups == 0 || n_groups > data.len() {
        return Err(SurvivalError::InvalidArgument(format!("{n_groups} calibration groups for {} patients", data.len())));
    }
    let mut order: Vec<usize> = (0..data.len()).collect();
    // decreasing predicted survival = increasing risk
    order.sort_by(|&a, &b| predicted[b].total_cmp(&predicted[a]));
    let mut groups = vec![0i64; data.len()];
    for (rank, &i) in order.iter().enumerate() {
        groups[i] = (rank * n_groups / data.len()) as i64;
    }
    calibration_by_group(data, predicted, &groups, t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_that_predicts_the_group_curves_is_calibrated() {
        // two groups with known survival at t=5: group 0 none die by 5, group 1 all die by 5
        let t = vec![10.0, 11.0, 12.0, 13.0, 1.0, 2.0, 3.0, 4.0];
        let e = vec![true; 8];
        let d = SurvivalData::new(t, e).unwrap();
        let predicted = vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
        let cal = calibration_by_quantile(&d, &predicted, 2, 5.0).unwrap();
        assert_eq!(cal.len(), 2);
        assert_eq!((cal[0].predicted, cal[0].observed), (1.0, 1.0));
        assert_eq!((cal[1].predicted, cal[1].observed), (0.0, 0.0));
        assert_eq!(cal[0].n + cal[1].n, 8);
    }
}
