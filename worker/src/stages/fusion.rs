//! `fusion` [`fit`: the training and internal validation cohorts; `apply`: one other cohort]: on the
//! training cohort, the Rad-score (signature over the radiomic features
//! of both phases), the early-fusion model (the same signature over deep + radiomic features), the
//! late-fusion model (Cox on the deep score and the Rad-score), the choice between the two fusions by
//! Harrell's C on the internal validation cohort (training when there is none), and the
//! clinical-radiologic model on the chosen fusion score with its risk groups and nomogram. They are
//! fitted on the training cohort's cross-fitted deep scores (`deep_cross_fitted` of `train/final`:
//! each patient scored by the fold network that never saw them), so the late fusion and the CRM
//! (its cut-points too) are fitted on scores like those of new patients; the early fusion's deep
//! features are the final network's, in-sample. Every cohort is then scored with the final
//! network's deep scores, as the model bundle scores it. Each model scores every patient with
//! finite values of what it uses; a patient with an input that is there but not finite, or a
//! feature missing beside the rest of its phase, is listed in `exclusions` (kind `not_scored`;
//! inputs missing whole are their failed tasks' rows). `fit` scores its own cohorts, `apply` one
//! other cohort from the fitted `models.json`.
//!
//! Tables: `predictions` (models `radiomic`, `efm`, `lfm`, `crm`; the CRM with its risk group),
//! `model_coefficients`, `fusion_choice`, `nomogram`; and `models.json`, everything needed to score
//! a new patient (part of the model bundle).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tacefusion_models::crm::{Crm, CrmSettings, FUSION_TERM};
use tacefusion_models::signature::{Signature, SignatureSettings};
use tacefusion_survival::clinical::albi;
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, harrell_c};

use crate::executor::{ExecError, InputFile, OutputFile, integer, text};
use crate::stages::Exclusions;
use crate::stages::patients::Patients;
use crate::tables::{Column, ReadTable, Table};

/// The late-fusion model: Cox on the deep score and the Rad-score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateFusion {
    /// Coefficient of the deep score.
    pub deep: f64,
    /// Coefficient of the Rad-score.
    pub radiomic: f64,
}

/// Everything the fusion stage fitted (`models.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedModels {
    /// The Rad-score.
    pub radscore: Signature,
    /// The early-fusion signature.
    pub efm: Signature,
    /// The late-fusion model.
    pub lfm: LateFusion,
    /// "efm" or "lfm": the fusion carried into the CRM.
    pub chosen: String,
    /// The clinical-radiologic model.
    pub crm: Crm,
    /// How the final network's deep score is standardised before the late fusion uses it.
    #[serde(default)]
    pub deep_scale: DeepScale,
}

/// A network's risk is a log relative hazard up to a constant (the partial likelihood does not see
/// one), so the fold networks whose held-out scores the models are fitted on and the final network
/// that scores every cohort each have their own offset and spread. Each is put on one scale: minus
/// the mean, over the SD, of its scores of the training cohort (the final network's: kept here, as
/// every cohort is scored; a fold network's: over the patients it held out).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeepScale {
    /// Mean of the final network's scores of the training cohort.
    pub mean: f64,
    /// Their SD.
    pub sd: f64,
}

impl Default for DeepScale {
    /// No change (models fitted before the scale was kept).
    fn default() -> Self {
        DeepScale { mean: 0.0, sd: 1.0 }
    }
}

impl DeepScale {
    /// The mean and sample SD of `scores` (finite ones); with one score, or all alike, the mean
    /// and SD 1 (centred only); with none, no change.
    fn of(scores: impl Iterator<Item = f64>) -> Self {
        let v: Vec<f64> = scores.filter(|x| x.is_finite()).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        match v.len() {
            0 => DeepScale::default(),
            // one score, or all alike (a network that collapsed): centred, so they add nothing
            _ if !(sd.is_finite() && sd > 1e-12 * mean.abs().max(1.0)) => DeepScale { mean, sd: 1.0 },
            _ => DeepScale { mean, sd },
        }
    }

    fn apply(&self, risk: f64) -> f64 {
        (risk - self.mean) / self.sd
    }
}

/// Risk-group names of the CRM, by group index.
pub const GROUPS: [&str; 3] = ["low", "intermediate", "high"];

/// One patient's model inputs.
#[derive(Default, Clone)]
struct Features {
    /// The final network's score.
    deep: Option<f64>,
    /// A training patient's cross-fitted score (the fold network that held them out).
    cross_fitted: Option<f64>,
    values: HashMap<String, f64>,
}

/// The clinical candidates of the CRM, by name, from one patient's findings.
fn clinical_candidates(f: &tacefusion_survival::clinical::ClinicalFindings) -> [(&'static str, f64); 7] {
    [
        ("log10_afp", f.afp_ng_ml.max(1.0).log10()),
        ("tumour_number", f.tumour_number as f64),
        ("largest_diameter_cm", f.largest_diameter.as_cm()),
        ("albi_score", albi(f.albumin, f.bilirubin).score),
        ("pvtt", f.portal_vein_thrombus as u8 as f64),
        ("extrahepatic_spread", f.extrahepatic_spread as u8 as f64),
        ("ecog", f.ecog as f64),
    ]
}

/// Reads every input table of one name.
fn tables<'a>(inputs: &'a [InputFile], name: &'a str) -> impl Iterator<Item = Result<ReadTable, ExecError>> + 'a {
    inputs.iter().filter(move |f| f.path.ends_with(&format!("/{name}.parquet"))).map(|f| ReadTable::read(&f.path, f.bytes.clone()))
}

/// Deep scores, deep features and radiomic features per (cohort, patient).
fn features(inputs: &[InputFile]) -> Result<BTreeMap<(String, String), Features>, ExecError> {
    let mut out: BTreeMap<(String, String), Features> = BTreeMap::new();
    for t in tables(inputs, "predictions") {
        let t = t?;
        let (c, p, m, r) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("model")?, t.floats("risk")?);
        for i in (0..t.rows()).filter(|&i| m[i] == "deep") {
            out.entry((c[i].clone(), p[i].clone())).or_default().deep = Some(r[i]);
        }
    }
    // the training cohort's cross-fitted deep scores (`train/final`, given to `fusion/fit` only),
    // each fold network's on its own scale
    for t in tables(inputs, "deep_cross_fitted") {
        let t = t?;
        let (c, p, fold, r) = (t.texts("cohort")?, t.texts("patient_id")?, t.ints("fold")?, t.floats("risk")?);
        let mut folds: Vec<i64> = fold.to_vec();
        folds.sort();
        folds.dedup();
        for k in folds {
            let rows: Vec<usize> = (0..t.rows()).filter(|&i| fold[i] == k).collect();
            let scale = DeepScale::of(rows.iter().map(|&i| r[i]));
            for i in rows {
                out.entry((c[i].clone(), p[i].clone())).or_default().cross_fitted = Some(scale.apply(r[i]));
            }
        }
    }
    for t in tables(inputs, "deep_features") {
        let t = t?;
        let (c, p, f, v) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("feature")?, t.floats("value")?);
        for i in 0..t.rows() {
            out.entry((c[i].clone(), p[i].clone())).or_default().values.insert(f[i].clone(), v[i]);
        }
    }
    for t in tables(inputs, "radiomic_features") {
        let t = t?;
        let (c, p, ph, f, v) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("phase")?, t.texts("feature")?, t.floats("value")?);
        for i in 0..t.rows() {
            out.entry((c[i].clone(), p[i].clone())).or_default().values.insert(format!("{}:{}", ph[i], f[i]), v[i]);
        }
    }
    Ok(out)
}

fn bad(e: impl std::fmt::Display) -> ExecError {
    ExecError::BadInput(e.to_string())
}

/// Runs the task: `kind = "fit"` fits on training (and chooses on internal validation) and scores
/// those cohorts; `kind = "apply"` scores the cohorts of the spec with the fitted `models.json`.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohorts: Vec<String> = serde_json::from_value(spec.get("cohorts").cloned().unwrap_or_default()).map_err(bad)?;
    let feats = features(inputs)?;
    match text(spec, "kind")? {
        "fit" => {
            // fitted on the training patients' cross-fitted deep scores, not on the final network's
            // scores of the patients it was trained on; every cohort is then scored with the final
            // network's, as the model bundle scores them
            let training = text(spec, "training")?;
            let scale = DeepScale::of(feats.iter().filter(|((c, _), _)| c == training).filter_map(|(_, f)| f.deep));
            let for_fitting: BTreeMap<(String, String), Features> = feats
                .iter()
                .map(|(k, f)| {
                    let crossed = f.cross_fitted.filter(|v| v.is_finite());
                    (k.clone(), Features { deep: crossed.or(f.deep.map(|r| scale.apply(r))), ..f.clone() })
                })
                .collect();
            let (mut models, choice) = fit(spec, inputs, &for_fitting)?;
            models.deep_scale = scale;
            // scored with the coefficients as `models.json` keeps them (JSON text: the last bit of a
            // number may differ), so that `apply` and a validation job give these cohorts the same scores
            // (these very bytes are `models.json`: a second print of what was read back could move a
            // last bit again)
            let kept = serde_json::to_vec_pretty(&models).map_err(|e| ExecError::Retryable(e.to_string()))?;
            let models: FittedModels = serde_json::from_slice(&kept).map_err(|e| ExecError::Retryable(e.to_string()))?;
            let (pred, risk, ex) = score_cohorts(&models, &cohorts, inputs, &feats)?;
            let mut out = fitted_outputs(&models, &pred, &risk, &choice, kept)?;
            out.extend(ex.file()?);
            Ok(out)
        }
        "apply" => {
            let file = inputs
                .iter()
                .find(|f| f.path.ends_with("/models.json"))
                .ok_or_else(|| bad("no models.json among the inputs (the fusion models were not fitted)"))?;
            let models: FittedModels = serde_json::from_slice(&file.bytes).map_err(|e| bad(format!("{}: {e}", file.path)))?;
            let (pred, risk, ex) = score_cohorts(&models, &cohorts, inputs, &feats)?;
            let mut out = vec![("predictions.parquet".into(), predictions(&pred, &risk).to_parquet().map_err(ExecError::Retryable)?)];
            out.extend(ex.file()?);
            Ok(out)
        }
        other => Err(bad(format!("unknown fusion kind {other:?}"))),
    }
}

/// The choice between the fusions: (model, cohort, Harrell's C, patients).
type Choice = Vec<(&'static str, String, f64, usize)>;

/// Fits every model on the training cohort.
fn fit(
    spec: &serde_json::Value,
    inputs: &[InputFile],
    feats: &BTreeMap<(String, String), Features>,
) -> Result<(FittedModels, Choice), ExecError> {
    let training = text(spec, "training")?;
    let internal = spec.get("internal_validation").and_then(|v| v.as_str());
    let seed = integer(spec, "seed")?;
    let minprop = spec.get("cutpoint_minprop").and_then(|v| v.as_f64()).unwrap_or(0.1);

    // the training patients with every input
    let train = Patients::read(inputs, training)?;
    let get = |cohort: &str, id: &str| feats.get(&(cohort.to_string(), id.to_string()));
    let score = |sig: &Signature, f: &Features| sig.score(|n| f.values.get(n).copied());
    // the training cohort's feature names of one kind, sorted
    let names_where = |kind: fn(&str) -> bool| {
        let mut names: Vec<String> =
            feats.iter().filter(|((c, _), _)| c == training).flat_map(|(_, f)| f.values.keys().filter(|k| kind(k)).cloned()).collect();
        names.sort();
        names.dedup();
        names
    };
    // radiomic features are named `<phase>:<feature>`, deep ones `deep_<k>`
    let radiomic_names = names_where(|k| k.contains(':'));
    let deep_names = names_where(|k| k.starts_with("deep_"));
    let complete =
        |f: &Features| f.deep.is_some_and(f64::is_finite) && radiomic_names.iter().chain(&deep_names).all(|n| f.values.contains_key(n));
    let rows: Vec<usize> = (0..train.ids.len()).filter(|&i| get(training, &train.ids[i]).is_some_and(complete)).collect();
    if rows.len() < 20 {
        return Err(bad(format!(
            "only {} training patients have a deep score and every radiomic feature: too few to fit the models",
            rows.len()
        )));
    }
    let data = train.data.select(&rows);
    let column = |name: &str| -> Vec<f64> { rows.iter().map(|&i| get(training, &train.ids[i]).unwrap().values[name]).collect() };
    let settings = SignatureSettings { seed, ..Default::default() };
    let rad_columns: Vec<Vec<f64>> = radiomic_names.iter().map(|n| column(n)).collect();
    let radscore = Signature::fit(&radiomic_names, &rad_columns, &data, &settings).map_err(|e| bad(format!("Rad-score: {e}")))?;
    let all_names: Vec<String> = deep_names.iter().chain(&radiomic_names).cloned().collect();
    let all_columns: Vec<Vec<f64>> = deep_names.iter().map(|n| column(n)).chain(rad_columns).collect();
    let efm = Signature::fit(&all_names, &all_columns, &data, &settings).map_err(|e| bad(format!("early fusion: {e}")))?;
    let deep_train: Vec<f64> = rows.iter().map(|&i| get(training, &train.ids[i]).unwrap().deep.unwrap()).collect();
    let rad_train: Vec<f64> = rows.iter().map(|&i| score(&radscore, get(training, &train.ids[i]).unwrap()).unwrap()).collect();
    let x = Covariates::from_columns(vec!["deep".into(), "radiomic".into()], &[deep_train.clone(), rad_train.clone()]).map_err(bad)?;
    let late = CoxModel::fit(&x, &data, &CoxOptions::default()).map_err(|e| bad(format!("late fusion: {e}")))?;
    let lfm = LateFusion { deep: late.coef[0], radiomic: late.coef[1] };
    let lfm_score = |f: &Features| Some(lfm.deep * f.deep.filter(|v| v.is_finite())? + lfm.radiomic * score(&radscore, f)?);

    // the better fusion on internal validation
    let choose_on = internal.unwrap_or(training);
    let held = Patients::read(inputs, choose_on)?;
    let mut choice_rows = Vec::new();
    let mut best = ("lfm", f64::NEG_INFINITY);
    let efm_score = |f: &Features| score(&efm, f);
    let fusions: [(&'static str, &dyn Fn(&Features) -> Option<f64>); 2] = [("efm", &efm_score), ("lfm", &lfm_score)];
    for (name, f) in fusions {
        let scored: Vec<(usize, f64)> =
            (0..held.ids.len()).filter_map(|i| get(choose_on, &held.ids[i]).and_then(f).map(|s| (i, s))).collect();
        let idx: Vec<usize> = scored.iter().map(|s| s.0).collect();
        let c = harrell_c(&held.data.select(&idx), &scored.iter().map(|s| s.1).collect::<Vec<_>>()).map(|c| c.c_index).unwrap_or(f64::NAN);
        if c > best.1 || (c == best.1 && name == "lfm") {
            best = (name, c);
        }
        choice_rows.push((name, choose_on.to_string(), c, scored.len()));
    }
    let chosen = best.0.to_string();
    let fusion_of = |f: &Features| if chosen == "efm" { score(&efm, f) } else { lfm_score(f) };

    // the clinical-radiologic model
    let fusion_train: Vec<f64> = rows.iter().map(|&i| fusion_of(get(training, &train.ids[i]).unwrap()).unwrap()).collect();
    let names: Vec<&str> = clinical_candidates(&train.findings[0]).iter().map(|c| c.0).collect();
    let clinical: Vec<(String, Vec<f64>)> = names
        .iter()
        .enumerate()
        .map(|(k, n)| (n.to_string(), rows.iter().map(|&i| clinical_candidates(&train.findings[i])[k].1).collect()))
        .collect();
    let crm = Crm::fit(&fusion_train, &clinical, &data, &CrmSettings { minprop, ..Default::default() }).map_err(bad)?;
    Ok((FittedModels { radscore, efm, lfm, chosen, crm, deep_scale: DeepScale::default() }, choice_rows))
}

/// The models' scores of every included patient of `cohorts`: rows (cohort, patient, model, group)
/// and risks. Each model scores every patient it has the inputs for (the CRM needs the chosen
/// fusion's score and its clinical terms); a patient with an input that is not finite, or a feature
/// not computed, gets one `exclusions` row naming the models that could not score them. An
/// unreadable patients table is an error naming it.
fn score_cohorts(
    models: &FittedModels,
    cohorts: &[String],
    inputs: &[InputFile],
    feats: &BTreeMap<(String, String), Features>,
) -> Result<(Vec<[String; 4]>, Vec<f64>, Exclusions), ExecError> {
    let score = |sig: &Signature, f: &Features| sig.score(|n| f.values.get(n).copied());
    let deep = |f: &Features| f.deep.filter(|v| v.is_finite()).map(|r| models.deep_scale.apply(r));
    let lfm = |f: &Features| Some(models.lfm.deep * deep(f)? + models.lfm.radiomic * score(&models.radscore, f)?);
    let (mut pred, mut risk, mut ex) = (Vec::new(), Vec::new(), Exclusions::of("fusion"));
    for cohort in cohorts {
        let p = Patients::read(inputs, cohort).map_err(|e| bad(format!("cohort {cohort}: {e}")))?;
        for (i, id) in p.ids.iter().enumerate() {
            // a patient without features failed before (preprocess, radiomics, scoring) and is listed there
            let Some(f) = feats.get(&(cohort.clone(), id.clone())) else { continue };
            let (r, e, l) = (score(&models.radscore, f), score(&models.efm, f), lfm(f));
            let fusion = if models.chosen == "efm" { e } else { l };
            let candidates = clinical_candidates(&p.findings[i]);
            let lp = fusion.and_then(|fusion| {
                models
                    .crm
                    .linear_predictor(|n| if n == FUSION_TERM { Some(fusion) } else { candidates.iter().find(|c| c.0 == n).map(|c| c.1) })
            });
            // why a model could not score: an input that is there but not finite, or a feature
            // missing while the rest of its phase is there (a filter too large for the image); a
            // whole input missing is the failure of the task that makes it, listed there
            let unusable = |n: &str| match f.values.get(n) {
                Some(v) if !v.is_finite() => Some(format!("{n} is {v}")),
                Some(_) => None,
                None => {
                    let phase = n.split_once(':').map_or("deep_".to_string(), |(p, _)| format!("{p}:"));
                    f.values.keys().any(|k| k.starts_with(&phase)).then(|| format!("{n} was not computed"))
                }
            };
            let of_signature = |sig: &Signature| sig.features.iter().find_map(|n| unusable(n));
            let of_deep = f.deep.filter(|v| !v.is_finite()).map(|v| format!("the deep score is {v}"));
            let of_lfm = of_deep.or_else(|| of_signature(&models.radscore));
            let of_fusion = if models.chosen == "efm" { of_signature(&models.efm) } else { of_lfm.clone() };
            let of_crm = match fusion {
                Some(_) => candidates.iter().find(|c| !c.1.is_finite()).map(|c| format!("{} is {}", c.0, c.1)),
                None => of_fusion,
            };
            let group = lp.map_or("", |lp| GROUPS[models.crm.group(lp) as usize]);
            // the models that could not score the patient for a reason found here, each with it
            let mut unscored: Vec<(&str, String)> = Vec::new();
            for (model, value, group, why) in [
                ("radiomic", r, "", of_signature(&models.radscore)),
                ("efm", e, "", of_signature(&models.efm)),
                ("lfm", l, "", of_lfm),
                ("crm", lp, group, of_crm),
            ] {
                match value {
                    Some(v) => {
                        pred.push([cohort.clone(), id.clone(), model.into(), group.into()]);
                        risk.push(v);
                    }
                    None => unscored.extend(why.map(|why| (model, why))),
                }
            }
            // one row per patient, naming the models and why
            if !unscored.is_empty() {
                let models: Vec<&str> = unscored.iter().map(|u| u.0).collect();
                let why: Vec<String> = unscored.iter().map(|(m, w)| format!("{m}: {w}")).collect();
                ex.add(cohort, id, "", &models.join(","), "not_scored", format!("not scored by {}", why.join("; ")));
            }
        }
    }
    Ok((pred, risk, ex))
}

fn predictions(pred: &[[String; 4]], risk: &[f64]) -> Table {
    let col = |k: usize| Column::Text(pred.iter().map(|r| r[k].clone()).collect());
    Table::default()
        .with("cohort", col(0))
        .with("patient_id", col(1))
        .with("model", col(2))
        .with("group", col(3))
        .with("risk", Column::Float(risk.to_vec()))
}

fn fitted_outputs(
    m: &FittedModels,
    pred: &[[String; 4]],
    risk: &[f64],
    choice: &Choice,
    models_json: Vec<u8>,
) -> Result<Vec<OutputFile>, ExecError> {
    let predictions = predictions(pred, risk);
    // coefficients: (model, term, coef, se, p, mean, sd)
    let mut coef: Vec<(String, String, [f64; 5])> = Vec::new();
    for (name, sig) in [("radiomic", &m.radscore), ("efm", &m.efm)] {
        for k in 0..sig.features.len() {
            coef.push((name.into(), sig.features[k].clone(), [sig.coef[k], f64::NAN, f64::NAN, sig.means[k], sig.sds[k]]));
        }
    }
    // the deep score enters standardised: its mean and SD over the training cohort beside it
    coef.push(("lfm".into(), "deep".into(), [m.lfm.deep, f64::NAN, f64::NAN, m.deep_scale.mean, m.deep_scale.sd]));
    coef.push(("lfm".into(), "radiomic".into(), [m.lfm.radiomic, f64::NAN, f64::NAN, f64::NAN, f64::NAN]));
    for t in &m.crm.terms {
        coef.push(("crm".into(), t.name.clone(), [t.coef, t.se, t.p, t.mean, f64::NAN]));
    }
    let num = |k: usize| Column::Float(coef.iter().map(|c| c.2[k]).collect());
    let coefficients = Table::default()
        .with("model", Column::Text(coef.iter().map(|c| c.0.clone()).collect()))
        .with("term", Column::Text(coef.iter().map(|c| c.1.clone()).collect()))
        .with("coef", num(0))
        .with("se", num(1))
        .with("p", num(2))
        .with("mean", num(3))
        .with("sd", num(4));
    let fusion_choice = Table::default()
        .with("model", Column::Text(choice.iter().map(|c| c.0.to_string()).collect()))
        .with("cohort", Column::Text(choice.iter().map(|c| c.1.clone()).collect()))
        .with("harrell_c", Column::Float(choice.iter().map(|c| c.2).collect()))
        .with("n", Column::Int(choice.iter().map(|c| c.3 as i64).collect()))
        .with("chosen", Column::Bool(choice.iter().map(|c| c.0 == m.chosen).collect()));
    let rows = m.crm.nomogram(7);
    let months: Vec<f64> = m.crm.baseline.iter().map(|b| b.0).collect();
    let mut nomogram = Table::default()
        .with("variable", Column::Text(rows.iter().map(|r| r.variable.clone()).collect()))
        .with("value", Column::Float(rows.iter().map(|r| r.value).collect()))
        .with("points", Column::Float(rows.iter().map(|r| r.points).collect()));
    for (k, t) in months.iter().enumerate() {
        nomogram = nomogram.with(
            &format!("survival_{t:.0}"),
            Column::Float(rows.iter().map(|r| r.survival.get(k).copied().unwrap_or(f64::NAN)).collect()),
        );
    }
    let parquet = |t: Table| t.to_parquet().map_err(ExecError::Retryable);
    Ok(vec![
        ("predictions.parquet".into(), parquet(predictions)?),
        ("model_coefficients.parquet".into(), parquet(coefficients)?),
        ("fusion_choice.parquet".into(), parquet(fusion_choice)?),
        ("nomogram.parquet".into(), parquet(nomogram)?),
        ("models.json".into(), models_json),
    ])
}

#[cfg(test)]
mod tests;
