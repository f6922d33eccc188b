//! Calibration at the study's time (`calibration_months`) and decision curves. A model's predicted
//! survival S(t | patient) is the model's own for the CRM (its Breslow baseline from training, in
//! `models.json`), and for every other score that of a Cox model of the score fitted on the
//! training cohort (the usual way to put a points score or a deep-learning output on the
//! probability scale; for the CRM, whose linear predictor is itself a Cox fit on training, both
//! agree). Without the training cohort's scores (a validation job) only the CRM is calibrated.
//!
//! Tables: `calibration` (`cohort, model, grouping, group, months, n, predicted, observed,
//! observed_lower, observed_upper`: mean predicted against Kaplan-Meier observed survival, in
//! quintiles of predicted risk (`quantile`; fewer groups below 25 patients) and, for grouped
//! models, in the model's risk groups) and
//! `decision_curves` (`cohort, model, months, threshold, net_benefit, treat_all`, thresholds 0.01 to
//! 0.99); the metric `brier_<t>` (IPCW Brier score at t, censoring from training).

use tacefusion_models::crm::Crm;
use tacefusion_survival::calibration::{CalibrationGroup, calibration_by_group, calibration_by_quantile};
use tacefusion_survival::decision_curve::net_benefit;
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, Interpolation, SurvivalData, brier_scores};

use super::Rows;
use super::models::Scored;

/// Quantile groups of the calibration table (fewer when a cohort has fewer than 5 patients per
/// group).
const QUANTILE_GROUPS: usize = 5;

/// Predicted S(t) of every patient of the cohort the model scored (None elsewhere), or None when
/// the model cannot be put on the probability scale.
pub(super) fn predicted(
    model: &Scored,
    training: Option<(&[Scored], &SurvivalData)>,
    crm: Option<&Crm>,
    t: f64,
) -> Option<Vec<Option<f64>>> {
    // the CRM's own baseline when it keeps the time (its nomogram times), else the refit below
    if let Some((crm, k)) =
        crm.filter(|_| model.name == "crm").and_then(|c| c.baseline.iter().position(|b| (b.0 - t).abs() < 1e-9).map(|k| (c, k)))
    {
        return Some(model.per.iter().map(|p| p.as_ref().map(|(lp, _, _)| crm.survival(*lp)[k])).collect());
    }
    let (models, data) = training?;
    let trained = models.iter().find(|m| m.name == model.name)?;
    let idx = trained.scored();
    let x = Covariates::from_columns(vec![model.name.clone()], &[idx.iter().map(|&i| trained.risk(i)).collect()]).ok()?;
    let fit = CoxModel::fit(&x, &data.select(&idx), &CoxOptions::default()).ok()?;
    Some(model.per.iter().map(|p| p.as_ref().and_then(|(r, _, _)| fit.survival_at(&[*r], 0, t, Interpolation::Step).ok())).collect())
}

/// The calibration rows, decision curve and Brier score of one model on the cohort (`data`: the
/// cohort's survival; `survival`: from [`predicted`]; `train`: the training cohort's survival).
#[allow(clippy::too_many_arguments)]
pub(super) fn judge(
    cohort: &str,
    model: &Scored,
    survival: &[Option<f64>],
    data: &SurvivalData,
    train: Option<&SurvivalData>,
    t: f64,
    tables: (&mut Rows, &mut Rows),
    metric: &mut dyn FnMut(&str, f64, f64, f64),
) {
    let (calibration, curves) = tables;
    let idx: Vec<usize> = (0..survival.len()).filter(|&i| survival[i].is_some_and(f64::is_finite)).collect();
    if idx.len() < 2 {
        return;
    }
    let s: Vec<f64> = idx.iter().map(|&i| survival[i].unwrap()).collect();
    let d = data.select(&idx);
    let mut put = |grouping: &str, groups: Vec<CalibrationGroup>, label: &dyn Fn(i64) -> String| {
        for g in groups {
            calibration.text(&[cohort, &model.name, grouping, &label(g.group)]);
            calibration.num(&[t, g.n as f64, g.predicted, g.observed, g.observed_lower, g.observed_upper]);
        }
    };
    let n_groups = QUANTILE_GROUPS.min(idx.len() / 5).max(1);
    if let Ok(groups) = calibration_by_quantile(&d, &s, n_groups, t) {
        put("quantile", groups, &|g| format!("Q{}", g + 1));
    }
    if model.grouped {
        let groups: Vec<i64> = idx.iter().map(|&i| model.per[i].as_ref().unwrap().1).collect();
        let names: Vec<(i64, String)> = idx.iter().map(|&i| model.per[i].as_ref().map(|p| (p.1, p.2.clone())).unwrap()).collect();
        let label = |g: i64| names.iter().find(|n| n.0 == g).map(|n| n.1.clone()).unwrap_or_default();
        if let Ok(rows) = calibration_by_group(&d, &s, &groups, t) {
            put("risk_group", rows, &label);
        }
    }
    if let Some(b) = train.and_then(|train| brier_scores(train, &d, std::slice::from_ref(&s), &[t]).ok()) {
        metric(&format!("brier_{t:.0}"), b.brier[0], f64::NAN, f64::NAN);
    }
    let thresholds: Vec<f64> = (1..100).map(|k| k as f64 / 100.0).collect();
    let risk: Vec<f64> = s.iter().map(|v| 1.0 - v).collect();
    if let Ok(nb) = net_benefit(&d, &risk, t, &thresholds) {
        for b in nb {
            curves.text(&[cohort, &model.name]);
            curves.num(&[t, b.threshold, b.model, b.treat_all]);
        }
    }
}

#[cfg(test)]
mod tests {
    use tacefusion_models::crm::CrmSettings;

    use super::*;

    fn lp_model(crm: &Crm, fusion: &[f64], age: &[f64]) -> Scored {
        let per = (0..fusion.len())
            .map(|i| {
                let lp = crm.linear_predictor(|n| if n == "age" { Some(age[i]) } else { Some(fusion[i]) }).unwrap();
                Some((lp, crm.group(lp), String::new()))
            })
            .collect();
        Scored { name: "crm".into(), per, grouped: true }
    }

    #[test]
    fn the_crm_on_its_own_baseline_and_refitted_on_training_predict_the_same_survival() {
        // 150 training patients: hazard rises with the fusion score and with age
        let n = 150;
        let fusion: Vec<f64> = (0..n).map(|i| ((i * 37) % 100) as f64 / 25.0 - 2.0).collect();
        let age: Vec<f64> = (0..n).map(|i| 50.0 + ((i * 11) % 30) as f64).collect();
        let time: Vec<f64> =
            (0..n).map(|i| 30.0 * (-0.8 * fusion[i] - 0.02 * (age[i] - 65.0)).exp() * (0.3 + ((i * 13) % 17) as f64 / 10.0)).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
        let data = SurvivalData::new(time, event).unwrap();
        let crm =
            Crm::fit(&fusion, &[("age".into(), age.clone())], &data, &CrmSettings { screening_p: 0.5, keep_p: 0.5, ..Default::default() })
                .unwrap();
        assert_eq!(crm.terms.len(), 2, "{:?}", crm.terms);
        let train = lp_model(&crm, &fusion, &age);
        // new patients
        let (f2, a2): (Vec<f64>, Vec<f64>) = (0..20).map(|i| (i as f64 / 5.0 - 2.0, 55.0 + i as f64)).unzip();
        let cohort = lp_model(&crm, &f2, &a2);
        let own = predicted(&cohort, None, Some(&crm), 24.0).unwrap();
        let refit = predicted(&cohort, Some((std::slice::from_ref(&train), &data)), None, 24.0).unwrap();
        for (a, b) in own.iter().zip(&refit) {
            let (a, b) = (a.unwrap(), b.unwrap());
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            assert!(a > 0.0 && a < 1.0);
        }
        // higher risk, lower survival
        assert!(own.first().unwrap().unwrap() > own.last().unwrap().unwrap());
        // a time the CRM's baseline does not keep: the refit on training, or nothing without it
        assert!(predicted(&cohort, None, Some(&crm), 18.0).is_none());
        assert!(predicted(&cohort, Some((std::slice::from_ref(&train), &data)), Some(&crm), 18.0).is_some());
    }
}
