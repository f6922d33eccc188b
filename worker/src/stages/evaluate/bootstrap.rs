//! `bootstrap` [one cohort x a range of replicates]: the bootstrap replicates of the cohort's
//! evaluation, computed apart so that a study's thousands of replicates spread over the workers.
//! For every model, Harrell's C on each resample of the patients it scored (`harrell_c`), and, for
//! every model but the CRM, C(CRM) - C(model) on each resample of the patients both scored
//! (`crm_minus_model`, the paired test). Replicate r of a statistic draws its resample from
//! (seed, r) only, so `evaluate` summarising the rows of every range gets exactly what one pass
//! over all replicates would (`tacefusion_survival::bootstrap`).
//!
//! Table `bootstrap_replicates`: `cohort, model, statistic, replicate, value` (NaN where the
//! statistic is undefined on that resample, e.g. no event drawn).

use std::collections::HashMap;
use std::ops::Range;

use sha2::{Digest, Sha256};
use tacefusion_survival::bootstrap::replicate_values;
use tacefusion_survival::{SurvivalData, harrell_c};

use super::models::{Scored, cohort_models, read_truth};
use crate::executor::{ExecError, InputFile, OutputFile, number, text};
use crate::stages::patients::Patients;
use crate::tables::{Column, ReadTable, Table};

/// Statistic names in `bootstrap_replicates`.
pub const HARRELL_C: &str = "harrell_c";
/// C(CRM) - C(model) on the patients both scored.
pub const CRM_MINUS_MODEL: &str = "crm_minus_model";

/// The seed of one model's (or comparison's) replicates: from the study seed, the cohort and the
/// model, so the numbers do not depend on the worker or on how the replicates are split.
pub fn seed_of(study_seed: u64, cohort: &str, model: &str) -> u64 {
    let d = Sha256::digest(format!("{study_seed}/{cohort}/{model}").as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Harrell's C of `risk` on the subjects `sub` (indices into `data` and `risk`).
pub fn harrell_on(data: &SurvivalData, risk: &[f64], sub: &[usize]) -> Option<f64> {
    let r: Vec<f64> = sub.iter().map(|&i| risk[i]).collect();
    harrell_c(&data.select(sub), &r).ok().map(|c| c.c_index).filter(|c| c.is_finite())
}

/// A statistic over a model's subjects: its name, the model's seed name and (data, first, second
/// risk) where `second` is empty for a single C.
pub(super) struct Subjects {
    pub statistic: &'static str,
    pub seed_name: String,
    pub data: SurvivalData,
    pub first: Vec<f64>,
    pub second: Vec<f64>,
}

impl Subjects {
    /// The statistic on the resample `sub`.
    pub fn on(&self, sub: &[usize]) -> Option<f64> {
        let c = harrell_on(&self.data, &self.first, sub)?;
        if self.second.is_empty() { Some(c) } else { Some(c - harrell_on(&self.data, &self.second, sub)?) }
    }

    /// Subjects of the paper's statistics for every model of the cohort, with the model's name.
    pub fn of_models(models: &[Scored], data: &SurvivalData) -> Vec<(String, Subjects)> {
        let crm = models.iter().find(|m| m.name == "crm");
        let mut out = Vec::new();
        for m in models {
            let idx = m.scored();
            let first: Vec<f64> = idx.iter().map(|&i| m.risk(i)).collect();
            let subjects = Subjects { statistic: HARRELL_C, seed_name: m.name.clone(), data: data.select(&idx), first, second: Vec::new() };
            out.push((m.name.clone(), subjects));
            if let Some(crm) = crm.filter(|_| m.name != "crm") {
                let both: Vec<usize> = idx.iter().copied().filter(|&i| crm.per[i].is_some()).collect();
                out.push((
                    m.name.clone(),
                    Subjects {
                        statistic: CRM_MINUS_MODEL,
                        seed_name: format!("crm-vs-{}", m.name),
                        data: data.select(&both),
                        first: both.iter().map(|&i| crm.risk(i)).collect(),
                        second: both.iter().map(|&i| m.risk(i)).collect(),
                    },
                ));
            }
        }
        out
    }
}

/// The replicates `range` of every statistic: rows (model, statistic, replicate, value).
pub(super) fn replicate_rows(
    models: &[Scored],
    data: &SurvivalData,
    study_seed: u64,
    cohort: &str,
    range: Range<u64>,
) -> Vec<(String, &'static str, u64, f64)> {
    let mut rows = Vec::new();
    for (model, s) in Subjects::of_models(models, data) {
        if s.data.is_empty() {
            continue;
        }
        let values = replicate_values(s.data.len(), seed_of(study_seed, cohort, &s.seed_name), range.clone(), &|sub| s.on(sub));
        for (r, v) in range.clone().zip(values) {
            rows.push((model.clone(), s.statistic, r, v.unwrap_or(f64::NAN)));
        }
    }
    rows
}

/// Runs the task: replicates `first` (inclusive) to `last` (exclusive) of the cohort.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let (first, last) = (number(spec, "first")? as u64, number(spec, "last")? as u64);
    let study_seed = spec.get("seed").and_then(|v| v.as_u64()).unwrap_or(0);
    let scores: Vec<String> = serde_json::from_value(spec.get("scores").cloned().unwrap_or_default())
        .map_err(|e| ExecError::BadInput(format!("task spec scores: {e}")))?;
    let truth = spec.get("truth").and_then(|v| v.as_str()).map(read_truth).transpose()?;
    let p = Patients::read(inputs, cohort)?;
    let models = cohort_models(inputs, cohort, &p, &scores, truth.as_ref())?;
    let rows = replicate_rows(&models, &p.data, study_seed, cohort, first..last);
    let table = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); rows.len()]))
        .with("model", Column::Text(rows.iter().map(|r| r.0.clone()).collect()))
        .with("statistic", Column::Text(rows.iter().map(|r| r.1.to_string()).collect()))
        .with("replicate", Column::Int(rows.iter().map(|r| r.2 as i64).collect()))
        .with("value", Column::Float(rows.iter().map(|r| r.3).collect()));
    Ok(vec![("bootstrap_replicates.parquet".into(), table.to_parquet().map_err(ExecError::Retryable)?)])
}

/// The replicates of a cohort read back from the bootstrap tasks' outputs, by (model, statistic),
/// in replicate order.
#[derive(Default)]
pub struct Replicates {
    values: HashMap<(String, String), Vec<(i64, f64)>>,
}

impl Replicates {
    /// The rows of `cohort` among the inputs' `bootstrap_replicates` tables.
    pub fn read(inputs: &[InputFile], cohort: &str) -> Result<Self, ExecError> {
        let mut values: HashMap<(String, String), Vec<(i64, f64)>> = HashMap::new();
        for f in inputs.iter().filter(|f| f.path.ends_with("/bootstrap_replicates.parquet")) {
            let t = ReadTable::read(&f.path, f.bytes.clone())?;
            let (c, m, s, r, v) = (t.texts("cohort")?, t.texts("model")?, t.texts("statistic")?, t.ints("replicate")?, t.floats("value")?);
            for k in (0..t.rows()).filter(|&k| c[k] == cohort) {
                values.entry((m[k].clone(), s[k].clone())).or_default().push((r[k], v[k]));
            }
        }
        for v in values.values_mut() {
            v.sort_by_key(|x| x.0);
            v.dedup_by_key(|x| x.0);
        }
        Ok(Self { values })
    }

    /// The values of a model's statistic, in replicate order (None where undefined).
    pub fn of(&self, model: &str, statistic: &str) -> Vec<Option<f64>> {
        self.values
            .get(&(model.to_string(), statistic.to_string()))
            .map(|v| v.iter().map(|x| Some(x.1).filter(|v| v.is_finite())).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use tacefusion_survival::bootstrap::{interval_from_replicates, paired_concordance, percentile_interval};

    use super::*;

    /// 60 patients, a CRM that knows the outcome roughly and a weaker score that misses some.
    fn cohort() -> (SurvivalData, Vec<Scored>) {
        let n = 60;
        let time: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 37) % n) as f64).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 4 != 0).collect();
        let crm: Vec<Option<(f64, i64, String)>> = (0..n).map(|i| Some((-time[i] + ((i * 7) % 11) as f64, 0, String::new()))).collect();
        let weak: Vec<Option<(f64, i64, String)>> =
            (0..n).map(|i| (i % 9 != 0).then(|| (-time[i] + ((i * 5) % 41) as f64, 0, String::new()))).collect();
        let models =
            vec![Scored { name: "weak".into(), per: weak, grouped: false }, Scored { name: "crm".into(), per: crm, grouped: false }];
        (SurvivalData::new(time, event).unwrap(), models)
    }

    #[test]
    fn replicates_in_ranges_give_what_one_pass_gives() {
        let (data, models) = cohort();
        let mut rows = replicate_rows(&models, &data, 5, "external_b", 0..70);
        rows.extend(replicate_rows(&models, &data, 5, "external_b", 70..200));
        let values = |model: &str, statistic: &str| -> Vec<Option<f64>> {
            rows.iter().filter(|r| r.0 == model && r.1 == statistic).map(|r| Some(r.3).filter(|v| v.is_finite())).collect()
        };
        // the weak score's C: the patients it scored, its own seed
        let weak = &models[0];
        let idx = weak.scored();
        let risk: Vec<f64> = idx.iter().map(|&i| weak.risk(i)).collect();
        let d = data.select(&idx);
        let one = percentile_interval(idx.len(), 200, seed_of(5, "external_b", "weak"), 0.95, |s| harrell_on(&d, &risk, s)).unwrap();
        assert_eq!(interval_from_replicates(one.estimate, &values("weak", HARRELL_C), 0.95).unwrap(), one);
        // the paired test against the CRM, on the patients both scored
        let crm: Vec<f64> = idx.iter().map(|&i| models[1].risk(i)).collect();
        let paired = paired_concordance(&d, &crm, &risk, 200, seed_of(5, "external_b", "crm-vs-weak"), 0.95).unwrap();
        let split = interval_from_replicates(paired.difference.estimate, &values("weak", CRM_MINUS_MODEL), 0.95).unwrap();
        assert_eq!(split, paired.difference);
        assert!(values("crm", CRM_MINUS_MODEL).is_empty(), "the CRM is not compared with itself");
        assert_eq!(values("crm", HARRELL_C).len(), 200);
    }
}
