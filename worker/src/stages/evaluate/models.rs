//! The models judged on a cohort: the clinical scores computed from ingest's findings, the study's
//! models read from their tasks' `predictions`, and, in a synthetic study, the planted log hazard
//! as `oracle` (from the truth file the study names).

use std::collections::HashMap;

use tacefusion_survival::clinical::{self, ClinicalFindings, Stratum};

use crate::executor::{ExecError, InputFile};
use crate::stages::fusion::GROUPS;
use crate::stages::patients::Patients;
use crate::tables::ReadTable;

/// One model on one cohort.
pub struct Scored {
    /// Model name as in `metrics`.
    pub name: String,
    /// Per patient (in the patients table's order): risk, ordered group index and group name;
    /// None where the model has no score.
    pub per: Vec<Option<(f64, i64, String)>>,
    /// Whether the model assigns risk groups.
    pub grouped: bool,
}

impl Scored {
    /// Patients (indices) the model scored.
    pub fn scored(&self) -> Vec<usize> {
        (0..self.per.len()).filter(|&i| self.per[i].is_some()).collect()
    }

    /// Risk of patient `i`; NaN when unscored.
    pub fn risk(&self, i: usize) -> f64 {
        self.per[i].as_ref().map_or(f64::NAN, |p| p.0)
    }
}

/// A clinical score of one patient: the risk used for concordance, its group (ordered) and the
/// group's name; None for an unknown score.
pub fn clinical_score(name: &str, f: &ClinicalFindings) -> Option<(f64, i64, String)> {
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

/// The planted log hazard of every patient of a synthetic study, by (cohort, patient).
pub fn read_truth(path: &str) -> Result<HashMap<(String, String), f64>, ExecError> {
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(format!("truth file {path}: {e}"));
    let t = tacefusion_core::Table::from_csv_path(path).map_err(|e| bad(&e))?;
    let (c, p, h) = (
        t.text_column("cohort").map_err(|e| bad(&e))?,
        t.text_column("patient_id").map_err(|e| bad(&e))?,
        t.numeric_column("log_hazard").map_err(|e| bad(&e))?,
    );
    let mut out = HashMap::new();
    for k in 0..t.len() {
        if let Some(v) = h[k] {
            out.insert((c[k].to_string(), p[k].to_string()), v);
        }
    }
    Ok(out)
}

/// Every model of `cohort` for its patients `p`: the clinical `scores`, the study's models in
/// pipeline order (`deep`, `radiomic`, `efm`, `lfm`, `crm`), then `oracle` when `truth` is given.
pub fn cohort_models(
    inputs: &[InputFile],
    cohort: &str,
    p: &Patients,
    scores: &[String],
    truth: Option<&HashMap<(String, String), f64>>,
) -> Result<Vec<Scored>, ExecError> {
    let mut models = Vec::new();
    for name in scores {
        let per: Vec<Option<(f64, i64, String)>> = p.findings.iter().map(|f| clinical_score(name, f)).collect();
        if per.iter().any(Option::is_none) {
            return Err(ExecError::BadInput(format!("unknown clinical score {name}")));
        }
        models.push(Scored { name: name.clone(), per, grouped: true });
    }
    models.extend(study_models(inputs, cohort, &p.ids)?);
    if let Some(truth) = truth {
        let per = p.ids.iter().map(|id| truth.get(&(cohort.to_string(), id.clone())).map(|&h| (h, 0, String::new()))).collect();
        models.push(Scored { name: "oracle".into(), per, grouped: false });
    }
    Ok(models)
}

/// The study's models' scores of the cohort's patients, from the inputs' `predictions`.
fn study_models(inputs: &[InputFile], cohort: &str, ids: &[String]) -> Result<Vec<Scored>, ExecError> {
    let row: HashMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let mut models: Vec<Scored> = Vec::new();
    for f in inputs.iter().filter(|f| f.path.ends_with("/predictions.parquet")) {
        let t = ReadTable::read(&f.path, f.bytes.clone())?;
        let (c, p, m, g, r) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("model")?, t.texts("group")?, t.floats("risk")?);
        // a non-finite risk (a network that diverged) is no score: the patient is left out of that
        // model's metrics rather than every metric of the model made NaN
        for k in (0..t.rows()).filter(|&k| c[k] == cohort && r[k].is_finite()) {
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
