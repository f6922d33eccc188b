//! `evaluate` [one cohort]: every model the cohort has, judged the same way. The clinical scores
//! (`hap`, `mhap2`, `six_twelve`, `up_to_seven`, `albi`, `child_pugh`, `bclc`) are computed here from
//! ingest's findings (rows in `predictions`); the study's models (`deep` from `score`, `radiomic`,
//! `efm`, `lfm`, `crm` from `fusion`) are read from their tasks' `predictions`; a synthetic study's
//! planted log hazard is the `oracle` (`models.rs`). Bootstrap intervals and paired tests summarise
//! the cohort's `bootstrap` tasks (`bootstrap.rs`); calibration, decision curves and the Brier score
//! are in `calibration.rs`.
//!
//! `metrics` (one row per cohort x model x metric: `cohort, role, model, metric, value, ci_lower,
//! ci_upper`): `n`, `events`, `harrell_c` with its bootstrap percentile interval, `uno_c` and
//! `auc_<t>` at the study's months (censoring from the training cohort), for grouped models
//! `logrank_chi2` and `logrank_p` across the groups, for the CRM the hazard ratio of each group
//! against low risk (`hr_<group>_vs_low`, Wald interval), and for every other model `p_vs_crm`, the
//! paired bootstrap test of C(CRM) - C(model) on the patients both scored (the interval is that of the
//! difference), `brier_<t>`. `km_curves`: Kaplan-Meier of each group with numbers at risk.
//! `roc_curves`: the cumulative/dynamic ROC curve of every model at each AUC month (at most about
//! 200 points a curve).

mod bootstrap;
mod calibration;
mod models;

pub use bootstrap::run as run_bootstrap;
use bootstrap::{CRM_MINUS_MODEL, HARRELL_C, Replicates, Subjects};
use models::{cohort_models, read_truth};
use tacefusion_survival::bootstrap::{BootstrapInterval, PairedConcordance, interval_from_replicates};
use tacefusion_survival::{
    Covariates, CoxModel, CoxOptions, KaplanMeier, LogRankTest, SurvivalData, cumulative_dynamic_auc, cumulative_dynamic_roc, uno_c,
};

use crate::executor::{ExecError, InputFile, OutputFile, number, text};
use crate::stages::fusion::{FittedModels, GROUPS};
use crate::stages::patients::Patients;
use crate::tables::{Column, ReadTable, Table};

/// The interval of a statistic from its replicates; the estimate alone (NaN bounds) when no
/// replicate gave a value (every bootstrap task of the cohort failed).
fn interval(estimate: f64, values: &[Option<f64>]) -> BootstrapInterval {
    interval_from_replicates(estimate, values, 0.95).unwrap_or(BootstrapInterval {
        estimate,
        lower: f64::NAN,
        upper: f64::NAN,
        se: f64::NAN,
        level: 0.95,
        replicates: 0,
        skipped: values.len(),
    })
}

/// Runs the task.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let role = spec.get("role").and_then(|v| v.as_str()).unwrap_or("");
    let months: Vec<f64> =
        spec.get("auc_months").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default();
    let horizon = number(spec, "calibration_months").unwrap_or(24.0);
    let scores: Vec<String> = serde_json::from_value(spec.get("scores").cloned().unwrap_or_default())
        .map_err(|e| ExecError::BadInput(format!("task spec scores: {e}")))?;
    let truth = spec.get("truth").and_then(|v| v.as_str()).map(read_truth).transpose()?;
    let p = Patients::read(inputs, cohort)?;
    let models = cohort_models(inputs, cohort, &p, &scores, truth.as_ref())?;
    // the training cohort: its survival (the censoring distribution of Uno's C, the AUC and the
    // Brier score) and its scores (each model's scale of predicted survival)
    let training_patients = spec.get("training").and_then(|v| v.as_str()).and_then(|t| Patients::read(inputs, t).ok().map(|p| (t, p)));
    let training_models = match &training_patients {
        Some((t, tp)) => Some(cohort_models(inputs, t, tp, &scores, truth.as_ref())?),
        None => None,
    };
    let training = match inputs.iter().find(|f| f.path.ends_with("/training_survival.parquet")) {
        // a validation job: the bundle carries the training cohort's survival
        Some(f) => {
            let t = ReadTable::read(&f.path, f.bytes.clone())?;
            Some(
                SurvivalData::new(t.floats("os_months")?.to_vec(), t.bools("death")?.to_vec())
                    .map_err(|e| ExecError::BadInput(format!("{}: {e}", f.path)))?,
            )
        }
        None => training_patients.as_ref().map(|(_, tp)| tp.data.clone()),
    };
    let crm_model = match inputs.iter().find(|f| f.path.ends_with("/models.json")) {
        Some(f) => Some(serde_json::from_slice::<FittedModels>(&f.bytes).map_err(|e| ExecError::BadInput(format!("{}: {e}", f.path)))?.crm),
        None => None,
    };
    let replicates = Replicates::read(inputs, cohort)?;
    let subjects = Subjects::of_models(&models, &p.data);
    let summary = |model: &str, statistic: &str| {
        let (_, s) = subjects.iter().find(|(m, s)| m == model && s.statistic == statistic)?;
        let estimate = s.on(&(0..s.data.len()).collect::<Vec<_>>())?;
        Some(interval(estimate, &replicates.of(model, statistic)))
    };

    let (mut pred, mut met, mut km, mut cal, mut dca, mut roc) =
        (Rows::default(), Rows::default(), Rows::default(), Rows::default(), Rows::default(), Rows::default());
    for m in &models {
        let idx = m.scored();
        let risk: Vec<f64> = idx.iter().map(|&i| m.risk(i)).collect();
        let groups: Vec<i64> = idx.iter().map(|&i| m.per[i].as_ref().unwrap().1).collect();
        let data = p.data.select(&idx);
        if scores.contains(&m.name) {
            for (k, &i) in idx.iter().enumerate() {
                pred.text(&[cohort, &p.ids[i], &m.name, &m.per[i].as_ref().unwrap().2]);
                pred.num(&[risk[k]]);
            }
        }
        let mut metric = |name: &str, v: f64, lo: f64, hi: f64| {
            met.text(&[cohort, role, &m.name, name]);
            met.num(&[v, lo, hi]);
        };
        metric("n", idx.len() as f64, f64::NAN, f64::NAN);
        metric("events", data.n_events() as f64, f64::NAN, f64::NAN);
        if idx.len() < 2 || data.n_events() == 0 {
            continue;
        }
        match summary(&m.name, HARRELL_C) {
            Some(ci) => metric("harrell_c", ci.estimate, ci.lower, ci.upper),
            None => metric("harrell_c", f64::NAN, f64::NAN, f64::NAN),
        }
        // the replicates behind the interval: fewer than asked when a bootstrap task failed or a
        // resample had no comparable pair (its C is NaN, outside the interval)
        let behind = replicates.of(&m.name, HARRELL_C).iter().flatten().count();
        metric("bootstrap_replicates", behind as f64, f64::NAN, f64::NAN);
        if let Some(train) = &training {
            // truncated at the training cohort's last follow-up, beyond which the censoring
            // distribution is unknown (an external cohort followed longer has events there)
            let tau = train.time().iter().copied().fold(f64::NEG_INFINITY, f64::max);
            metric("uno_c", uno_c(train, &data, &risk, Some(tau)).map_or(f64::NAN, |c| c.c_index), f64::NAN, f64::NAN);
            for &t in &months {
                let auc = cumulative_dynamic_auc(train, &data, &risk, &[t]).map_or(f64::NAN, |a| a.auc[0]);
                metric(&format!("auc_{t:.0}"), auc, f64::NAN, f64::NAN);
                if let Ok(curve) = cumulative_dynamic_roc(train, &data, &risk, t) {
                    for k in roc_points(curve.fpr.len()) {
                        roc.text(&[cohort, &m.name]);
                        roc.num(&[t, curve.thresholds[k], curve.fpr[k], curve.tpr[k]]);
                    }
                }
            }
        }
        if m.grouped {
            if let Ok(lr) = LogRankTest::new(&data, &groups) {
                metric("logrank_chi2", lr.chi2, f64::NAN, f64::NAN);
                metric("logrank_p", lr.p, f64::NAN, f64::NAN);
            }
            let mut labels: Vec<(i64, String)> = idx.iter().map(|&i| m.per[i].as_ref().map(|x| (x.1, x.2.clone())).unwrap()).collect();
            labels.sort();
            labels.dedup();
            for (g, label) in &labels {
                let members: Vec<usize> = (0..idx.len()).filter(|&k| groups[k] == *g).collect();
                let curve = KaplanMeier::fit(&data.select(&members));
                for k in 0..curve.time.len() {
                    km.text(&[cohort, &m.name, label]);
                    km.num(&[curve.time[k], curve.survival[k], curve.at_risk[k], curve.ci_lower[k], curve.ci_upper[k]]);
                }
            }
            // hazard ratio of each group against low risk, when the low group is there with an
            // event (else the ratio is unbounded: a number like 5.6e12 with CI 0 to inf)
            if m.name == "crm" && (0..idx.len()).any(|k| groups[k] == 0 && data.event()[k]) {
                let present: Vec<i64> = labels.iter().map(|l| l.0).filter(|&g| g > 0).collect();
                let columns: Vec<Vec<f64>> = present.iter().map(|&g| groups.iter().map(|&x| (x == g) as u8 as f64).collect()).collect();
                let names: Vec<String> = present.iter().map(|&g| format!("hr_{}_vs_low", GROUPS[g as usize])).collect();
                if let Ok(fit) =
                    Covariates::from_columns(names.clone(), &columns).and_then(|x| CoxModel::fit(&x, &data, &CoxOptions::default()))
                {
                    for (k, name) in names.iter().enumerate() {
                        metric(name, fit.hazard_ratio[k], fit.coef_lower[k].exp(), fit.coef_upper[k].exp());
                    }
                }
            }
        }
        if let Some(d) = summary(&m.name, CRM_MINUS_MODEL).filter(|d| d.replicates > 0) {
            let t = PairedConcordance::from_difference(f64::NAN, f64::NAN, d);
            metric("p_vs_crm", t.p, t.difference.lower, t.difference.upper);
        }
        let scale = training_models.as_deref().zip(training_patients.as_ref().map(|t| &t.1.data));
        if let Some(survival) = calibration::predicted(m, scale, crm_model.as_ref(), horizon) {
            calibration::judge(cohort, m, &survival, &p.data, training.as_ref(), horizon, (&mut cal, &mut dca), &mut metric);
        }
    }
    let out = |rows: Rows, text: &[&str], num: &[&str]| rows.table(text, num).to_parquet().map_err(ExecError::Retryable);
    Ok(vec![
        ("predictions.parquet".into(), out(pred, &["cohort", "patient_id", "model", "group"], &["risk"])?),
        ("metrics.parquet".into(), out(met, &["cohort", "role", "model", "metric"], &["value", "ci_lower", "ci_upper"])?),
        ("km_curves.parquet".into(), out(km, &["cohort", "model", "group"], &["time", "survival", "at_risk", "ci_lower", "ci_upper"])?),
        (
            "calibration.parquet".into(),
            out(
                cal,
                &["cohort", "model", "grouping", "group"],
                &["months", "n", "predicted", "observed", "observed_lower", "observed_upper"],
            )?,
        ),
        ("decision_curves.parquet".into(), out(dca, &["cohort", "model"], &["months", "threshold", "net_benefit", "treat_all"])?),
        ("roc_curves.parquet".into(), out(roc, &["cohort", "model"], &["months", "threshold", "fpr", "tpr"])?),
    ])
}

/// The points of a ROC curve of `n` points that `roc_curves` keeps: at most about 200, evenly
/// spaced, always the first and the last (the curve is for drawing; the AUC is in `metrics`).
fn roc_points(n: usize) -> impl Iterator<Item = usize> {
    let step = n.div_ceil(200).max(1);
    (0..n).filter(move |&k| k % step == 0 || k + 1 == n)
}

/// Rows of text and numeric cells, column by column.
#[derive(Default)]
pub(crate) struct Rows {
    text: Vec<Vec<String>>,
    num: Vec<Vec<f64>>,
}

impl Rows {
    pub(crate) fn text(&mut self, values: &[&str]) {
        self.text.resize(values.len().max(self.text.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.text[c].push(v.to_string()));
    }

    pub(crate) fn num(&mut self, values: &[f64]) {
        self.num.resize(values.len().max(self.num.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.num[c].push(*v));
    }

    pub(crate) fn table(mut self, text: &[&str], num: &[&str]) -> Table {
        self.text.resize(text.len(), Vec::new());
        self.num.resize(num.len(), Vec::new());
        let t = text.iter().zip(self.text).fold(Table::default(), |t, (n, v)| t.with(n, Column::Text(v)));
        num.iter().zip(self.num).fold(t, |t, (n, v)| t.with(n, Column::Float(v)))
    }
}
