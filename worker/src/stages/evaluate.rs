//! `evaluate` [one cohort]: every model the cohort has, judged the same way. The clinical scores
//! (`hap`, `mhap2`, `six_twelve`, `up_to_seven`, `albi`, `child_pugh`, `bclc`) are computed here from
//! ingest's findings (rows in `predictions`); the study's models (`deep` from `score`, `radiomic`,
//! `efm`, `lfm`, `crm` from `fusion`) are read from their tasks' `predictions`.
//!
//! `metrics` (one row per cohort x model x metric: `cohort, role, model, metric, value, ci_lower,
//! ci_upper`): `n`, `events`, `harrell_c` with its bootstrap percentile interval, `uno_c` and
//! `auc_<t>` at the study's months (censoring from the training cohort), for grouped models
//! `logrank_chi2` and `logrank_p` across the groups, for the CRM the hazard ratio of each group
//! against low risk (`hr_<group>_vs_low`, Wald interval), and for every other model `p_vs_crm`, the
//! paired bootstrap test of C(CRM) - C(model) on the patients both scored (the interval is that of the
//! difference). `km_curves`: Kaplan-Meier of each group. Bootstrap seeds derive from the study seed,
//! the cohort and the model, so the numbers do not depend on the worker.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tacefusion_survival::bootstrap::{paired_concordance, percentile_interval};
use tacefusion_survival::clinical::{self, ClinicalFindings, Stratum};
use tacefusion_survival::{
    Covariates, CoxModel, CoxOptions, KaplanMeier, LogRankTest, SurvivalData, cumulative_dynamic_auc, harrell_c, uno_c,
};

use crate::executor::{ExecError, InputFile, OutputFile, number, text};
use crate::stages::fusion::GROUPS;
use crate::stages::patients::Patients;
use crate::tables::{Column, ReadTable, Table};

/// A clinical score of one patient: the risk used for concordance, its group (ordered) and the
/// group's name.
fn score(name: &str, f: &ClinicalFindings) -> Option<(f64, i64, String)> {
    let stratum = |s: Stratum| (s as i64, format!("{s:?}"));
    Some(match name {
        "hap" | "mhap2" | "child_pugh" => {
            let g = match name {
                "hap" => clinical::hap(f),
                "mhap2" => clinical::mhap2(f),
                _ => clinical::child_pugh(f),
            };
            (g.points as f64, (g.class as u8 - b'A') as i64, g.class.to_string())
        }
        "six_twelve" => {
            let (g, label) = stratum(clinical::six_and_twelve(f));
            (clinical::size_plus_number(f), g, label)
        }
        "up_to_seven" => {
            let beyond = !clinical::within_up_to_seven(f);
            (beyond as i64 as f64, beyond as i64, if beyond { "beyond" } else { "within" }.to_string())
        }
        "albi" => {
            let a = clinical::albi(f.albumin, f.bilirubin);
            (a.score, a.grade as i64, format!("grade {}", a.grade))
        }
        "bclc" => {
            let s = clinical::bclc(f);
            (s as i64 as f64, s as i64, format!("{s:?}"))
        }
        _ => return None,
    })
}

fn seed_of(study_seed: u64, cohort: &str, model: &str) -> u64 {
    let d = Sha256::digest(format!("{study_seed}/{cohort}/{model}").as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// One model on the cohort: per patient (in the patients table's order) its risk and group.
struct Scored {
    name: String,
    /// (risk, group index, group name) per patient; None where the model has no score.
    per: Vec<Option<(f64, i64, String)>>,
    grouped: bool,
}

/// The study's models' scores of the cohort's patients, from the inputs' `predictions`.
fn model_scores(inputs: &[InputFile], cohort: &str, ids: &[String]) -> Result<Vec<Scored>, ExecError> {
    let row: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let mut models: Vec<Scored> = Vec::new();
    for f in inputs.iter().filter(|f| f.path.ends_with("/predictions.parquet")) {
        let t = ReadTable::read(&f.path, f.bytes.clone())?;
        let (c, p, m, g, r) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("model")?, t.texts("group")?, t.floats("risk")?);
        for k in (0..t.rows()).filter(|&k| c[k] == cohort) {
            let Some(&i) = row.get(p[k].as_str()) else { continue };
            let at = match models.iter().position(|s| s.name == m[k]) {
                Some(at) => at,
                None => {
                    models.push(Scored { name: m[k].clone(), per: vec![None; ids.len()], grouped: false });
                    models.len() - 1
                }
            };
            let group = GROUPS.iter().position(|x| *x == g[k]).map(|x| x as i64);
            models[at].grouped |= group.is_some();
            models[at].per[i] = Some((r[k], group.unwrap_or(0), g[k].clone()));
        }
    }
    // the pipeline's order, whatever the order of the inputs
    let order = ["deep", "radiomic", "efm", "lfm", "crm"];
    models.sort_by_key(|s| order.iter().position(|o| *o == s.name).unwrap_or(order.len()));
    Ok(models)
}

/// Runs the task.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let role = spec.get("role").and_then(|v| v.as_str()).unwrap_or("");
    let replicates = (number(spec, "bootstrap_replicates")? as usize).max(2);
    let study_seed = spec.get("seed").and_then(|v| v.as_u64()).unwrap_or(0);
    let months: Vec<f64> =
        spec.get("auc_months").and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|x| x.as_f64()).collect()).unwrap_or_default();
    let scores: Vec<String> = spec
        .get("scores")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let p = Patients::read(inputs, cohort)?;
    // the training cohort's survival: the censoring distribution of Uno's C and the AUC
    let training = match inputs.iter().find(|f| f.path.ends_with("/training_survival.parquet")) {
        // a validation job: the bundle carries the training cohort's survival
        Some(f) => {
            let t = ReadTable::read(&f.path, f.bytes.clone())?;
            Some(
                SurvivalData::new(t.floats("os_months")?.to_vec(), t.bools("death")?.to_vec())
                    .map_err(|e| ExecError::BadInput(format!("{}: {e}", f.path)))?,
            )
        }
        None => spec.get("training").and_then(|v| v.as_str()).and_then(|t| Patients::read(inputs, t).ok()).map(|t| t.data),
    };

    let mut models: Vec<Scored> = Vec::new();
    for name in &scores {
        let per: Vec<Option<(f64, i64, String)>> = p.findings.iter().map(|f| score(name, f)).collect();
        if per.iter().any(Option::is_none) {
            return Err(ExecError::BadInput(format!("unknown clinical score {name}")));
        }
        models.push(Scored { name: name.clone(), per, grouped: true });
    }
    models.extend(model_scores(inputs, cohort, &p.ids)?);

    let (mut pred, mut met, mut km) = (Rows::default(), Rows::default(), Rows::default());
    let crm = models.iter().find(|m| m.name == "crm").map(|m| m.per.clone());
    for m in &models {
        let idx: Vec<usize> = (0..p.ids.len()).filter(|&i| m.per[i].is_some()).collect();
        let risk: Vec<f64> = idx.iter().map(|&i| m.per[i].as_ref().unwrap().0).collect();
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
        let c = |sub: &[usize]| {
            let r: Vec<f64> = sub.iter().map(|&i| risk[i]).collect();
            harrell_c(&data.select(sub), &r).ok().map(|c| c.c_index)
        };
        match percentile_interval(idx.len(), replicates, seed_of(study_seed, cohort, &m.name), 0.95, c) {
            Ok(ci) => metric("harrell_c", ci.estimate, ci.lower, ci.upper),
            Err(_) => metric("harrell_c", f64::NAN, f64::NAN, f64::NAN),
        }
        if let Some(train) = &training {
            metric("uno_c", uno_c(train, &data, &risk, None).map_or(f64::NAN, |c| c.c_index), f64::NAN, f64::NAN);
            for &t in &months {
                let auc = cumulative_dynamic_auc(train, &data, &risk, &[t]).map_or(f64::NAN, |a| a.auc[0]);
                metric(&format!("auc_{t:.0}"), auc, f64::NAN, f64::NAN);
            }
        }
        if m.grouped {
            if let Ok(lr) = LogRankTest::new(&data, &groups) {
                metric("logrank_chi2", lr.chi2, f64::NAN, f64::NAN);
                metric("logrank_p", lr.p, f64::NAN, f64::NAN);
            }
            let mut labels: Vec<(i64, String)> =
                idx.iter().map(|&i| (m.per[i].as_ref().unwrap().1, m.per[i].as_ref().unwrap().2.clone())).collect();
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
            if m.name == "crm" {
                // hazard ratio of each group against low risk
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
        if let Some(crm) = crm.as_ref().filter(|_| m.name != "crm") {
            let both: Vec<usize> = idx.iter().copied().filter(|&i| crm[i].is_some()).collect();
            let first: Vec<f64> = both.iter().map(|&i| crm[i].as_ref().unwrap().0).collect();
            let second: Vec<f64> = both.iter().map(|&i| m.per[i].as_ref().unwrap().0).collect();
            let seed = seed_of(study_seed, cohort, &format!("crm-vs-{}", m.name));
            if let Ok(t) = paired_concordance(&p.data.select(&both), &first, &second, replicates, seed, 0.95) {
                metric("p_vs_crm", t.p, t.difference.lower, t.difference.upper);
            }
        }
    }
    let out = |rows: Rows, text: &[&str], num: &[&str]| rows.table(text, num).to_parquet().map_err(ExecError::Retryable);
    Ok(vec![
        ("predictions.parquet".into(), out(pred, &["cohort", "patient_id", "model", "group"], &["risk"])?),
        ("metrics.parquet".into(), out(met, &["cohort", "role", "model", "metric"], &["value", "ci_lower", "ci_upper"])?),
        ("km_curves.parquet".into(), out(km, &["cohort", "model", "group"], &["time", "survival", "at_risk", "ci_lower", "ci_upper"])?),
    ])
}

/// Rows of text and numeric cells, column by column.
#[derive(Default)]
struct Rows {
    text: Vec<Vec<String>>,
    num: Vec<Vec<f64>>,
}

impl Rows {
    fn text(&mut self, values: &[&str]) {
        self.text.resize(values.len().max(self.text.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.text[c].push(v.to_string()));
    }

    fn num(&mut self, values: &[f64]) {
        self.num.resize(values.len().max(self.num.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.num[c].push(*v));
    }

    fn table(mut self, text: &[&str], num: &[&str]) -> Table {
        self.text.resize(text.len(), Vec::new());
        self.num.resize(num.len(), Vec::new());
        let t = text.iter().zip(self.text).fold(Table::default(), |t, (n, v)| t.with(n, Column::Text(v)));
        num.iter().zip(self.num).fold(t, |t, (n, v)| t.with(n, Column::Float(v)))
    }
}
