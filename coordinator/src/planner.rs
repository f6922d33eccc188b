//! The planner: `study.toml` -> the task graph of the stages that exist (ingest per cohort,
//! radiomics per patient x phase, evaluation of the clinical scores per cohort), each task with its
//! key: SHA-256 of the canonical JSON of its stage, the stage's code version, its settings and the
//! digests of its inputs (file contents, or the keys of the tasks it reads). A task whose inputs and
//! settings did not change keeps its key, so a resubmission does no work and a new patient adds
//! only its own tasks and the cohort's fan-in tasks.

use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest, Sha256};
use tacefusion_core::bundle::ModelBundle;
use tacefusion_core::study::PhaseFiles;
use tacefusion_core::{CohortRole, Study, Table};

use crate::task::{PlannedTask, Stage};

mod biology;
mod deep;
mod digest;

pub use digest::DigestCache;

/// Why a study could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The model bundle to validate is unreadable or does not fit the study.
    #[error("model bundle {file}: {detail}")]
    Bundle {
        /// The bundle file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// An input file could not be read.
    #[error("cohort {cohort}: {file}: {detail}")]
    Input {
        /// Cohort.
        cohort: String,
        /// The file.
        file: String,
        /// What failed.
        detail: String,
    },
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key of a task: SHA-256 of the canonical JSON (keys sorted) of stage, code version, settings
/// and input digests.
pub fn task_key(stage: Stage, settings: &serde_json::Value, inputs: &[String]) -> String {
    let canonical = json!({ "stage": stage.name(), "version": stage.code_version(), "settings": settings, "inputs": inputs });
    hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

/// Settings of an evaluation task for its key: the truth file counts by its digest (in the
/// inputs), not by where the study folder lies.
fn without_path(spec: &serde_json::Value) -> serde_json::Value {
    let mut s = spec.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("truth");
    }
    s
}

/// The clinical scores the evaluate stage computes for every cohort, by their model names in
/// `metrics` and `predictions` (HAP, mHAP-II, six-and-twelve, up-to-seven, ALBI, Child-Pugh, BCLC).
pub const CLINICAL_SCORES: [&str; 7] = ["hap", "mhap2", "six_twelve", "up_to_seven", "albi", "child_pugh", "bclc"];

/// What the deep-learning stages need of a cohort planned so far: its ingest task and the
/// preprocess task of each patient with images.
pub(crate) struct CohortTasks<'a> {
    /// The cohort.
    pub cohort: &'a tacefusion_core::study::Cohort,
    /// Id and key of its ingest task.
    pub ingest: (String, String),
    /// Id and key of each patient's preprocess task.
    pub preprocess: Vec<(String, String)>,
    /// Id and key of each patient x phase radiomics task.
    pub radiomics: Vec<(String, String)>,
}

/// Plans a study: the tasks in dependency order (every task after its inputs).
pub fn plan(study: &Study, study_file: &Path, digests: &mut DigestCache) -> Result<Vec<PlannedTask>, PlanError> {
    plan_with(study, study_file, digests, None)
}

/// Plans the validation of a trained study's model bundle on the cohorts of `study`: inputs made
/// with the bundle's settings (the study's own `[preprocess]` and `[radiomics]` are not used), every
/// cohort scored with the bundle's models unchanged and evaluated. Nothing is trained.
pub fn plan_validation(study: &Study, study_file: &Path, digests: &mut DigestCache, bundle: &Path) -> Result<Vec<PlannedTask>, PlanError> {
    plan_with(study, study_file, digests, Some(bundle))
}

fn plan_with(study: &Study, study_file: &Path, digests: &mut DigestCache, bundle: Option<&Path>) -> Result<Vec<PlannedTask>, PlanError> {
    let mut tasks = Vec::new();
    let mut fan_in = Vec::new();
    let mut planned = Vec::new();
    let mut crop_settings = json!({
        "spacing_mm": study.preprocess.crop_spacing_mm.unwrap_or(study.preprocess.spacing_mm),
        "hu_window": study.preprocess.hu_window,
        "crop_size": study.preprocess.crop_size,
        // the crop's array axes: the patient's (preprocess 2); bundles without it were trained on
        // crops in each file's own axes
        "axes": "LPS",
    });
    let mut radiomics_settings = json!({
        "bin_width": study.radiomics.bin_width,
        "log_sigmas_mm": study.radiomics.log_sigmas_mm,
        "wavelet": study.radiomics.wavelet,
        "spacing_mm": study.preprocess.spacing_mm,
    });
    let bundle = match bundle {
        None => None,
        Some(path) => {
            let err = |detail: String| PlanError::Bundle { file: path.display().to_string(), detail };
            let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
            let b = ModelBundle::from_bytes(&bytes).map_err(|e| err(e.to_string()))?;
            let settings = &b.header.settings;
            crop_settings = settings.get("crop").cloned().ok_or_else(|| err("its header has no crop settings".into()))?;
            if crop_settings.get("axes").and_then(|a| a.as_str()) != Some("LPS") {
                return Err(err(
                    "its network was trained on crops in each file's own axes (before crops took the patient's LPS axes): retrain it"
                        .into(),
                ));
            }
            radiomics_settings = settings.get("radiomics").cloned().ok_or_else(|| err("its header has no radiomic settings".into()))?;
            let phases: Vec<String> = serde_json::from_value(settings.get("phases").cloned().unwrap_or_default()).unwrap_or_default();
            for c in &study.cohorts {
                if let Some(images) = c.images.as_ref().filter(|i| i.phases != phases) {
                    return Err(err(format!(
                        "cohort {} has phases {:?}; the bundle's network was trained on {phases:?}",
                        c.name, images.phases
                    )));
                }
            }
            Some((path.display().to_string(), digests.digest(path).map_err(|e| err(e.to_string()))?))
        }
    };
    for cohort in &study.cohorts {
        let clinical = PathBuf::from(Study::resolve(study_file, &cohort.clinical));
        // the file is named once (a table's own errors start with it)
        let input_err = |file: &Path, detail: String| {
            let file = file.display().to_string();
            let detail = detail.strip_prefix(&format!("{file}: ")).map_or(detail.clone(), str::to_string);
            PlanError::Input { cohort: cohort.name.clone(), file, detail }
        };
        let clinical_digest = digests.digest(&clinical).map_err(|e| input_err(&clinical, e.to_string()))?;
        let ingest_settings = json!({ "cohort": cohort.name, "role": cohort.role, "centre": cohort.centre, "units": cohort.units });
        let ingest_key = task_key(Stage::Ingest, &ingest_settings, std::slice::from_ref(&clinical_digest));
        let ingest_id = format!("ingest/{}", cohort.name);
        tasks.push(PlannedTask {
            id: ingest_id.clone(),
            stage: Stage::Ingest,
            key: ingest_key.clone(),
            spec:
                json!({ "cohort": cohort.name, "role": cohort.role, "centre": cohort.centre, "units": cohort.units, "clinical": clinical })
                    .to_string(),
            deps: vec![],
            cpu_slots: 1,
            gpus: 0,
            partial_inputs: false,
        });
        let (mut preprocess, mut radiomics) = (Vec::new(), Vec::new());
        if let Some(images) = &cohort.images {
            // the patients of the table, each once (a repeated id is ingest's exclusion); a validation
            // cohort's table that cannot be read plans no patient of it: its ingest task fails naming
            // the file, and the other cohorts run (the models' cohorts must be readable)
            let table = Table::from_csv_path(&clinical);
            let ids = match table.as_ref().map_err(|e| e.to_string()).and_then(|t| t.text_column("patient_id").map_err(|e| e.to_string())) {
                Ok(ids) => ids,
                Err(e) if matches!(cohort.role, CohortRole::Training | CohortRole::InternalValidation) => {
                    return Err(input_err(&clinical, e));
                }
                Err(e) => {
                    tracing::warn!(cohort = %cohort.name, file = %clinical.display(), error = %e, "clinical table unreadable: no patient of this cohort is planned");
                    Vec::new()
                }
            };
            let phase_files = images.phase_files(study_file, ids);
            // one preprocess task per patient, both phases
            let mut by_patient: Vec<(String, Vec<&PhaseFiles>)> = Vec::new();
            for f in &phase_files {
                match by_patient.last_mut() {
                    Some((p, list)) if *p == f.patient => list.push(f),
                    _ => by_patient.push((f.patient.clone(), vec![f])),
                }
            }
            for (id, files) in by_patient {
                let mut inputs = Vec::new();
                for f in &files {
                    inputs.push(digests.digest(&f.image).map_err(|e| input_err(&f.image, e.to_string()))?);
                    inputs.push(digests.digest(&f.mask).map_err(|e| input_err(&f.mask, e.to_string()))?);
                }
                let phases: Vec<&str> = files.iter().map(|f| f.phase.as_str()).collect();
                let settings =
                    json!({ "crop": crop_settings, "label": images.label, "cohort": cohort.name, "patient_id": id, "phases": phases });
                let task_id = format!("preprocess/{}/{id}", cohort.name);
                let key = task_key(Stage::Preprocess, &settings, &inputs);
                tasks.push(PlannedTask {
                    id: task_id.clone(),
                    stage: Stage::Preprocess,
                    key: key.clone(),
                    spec: json!({
                        "cohort": cohort.name, "patient_id": id, "label": images.label, "crop": crop_settings,
                        "phases": files.iter().map(|f| json!({ "phase": f.phase, "image": f.image, "mask": f.mask })).collect::<Vec<_>>(),
                        "files": files.iter().flat_map(|f| [&f.image, &f.mask]).collect::<Vec<_>>(),
                    })
                    .to_string(),
                    deps: vec![],
                    cpu_slots: 1,
                    gpus: 0,
                    partial_inputs: false,
                });
                preprocess.push((task_id, key));
            }
            for PhaseFiles { patient: id, phase, image, mask } in phase_files {
                let inputs = vec![
                    digests.digest(&image).map_err(|e| input_err(&image, e.to_string()))?,
                    digests.digest(&mask).map_err(|e| input_err(&mask, e.to_string()))?,
                ];
                let settings = json!({ "radiomics": radiomics_settings, "label": images.label, "cohort": cohort.name, "patient_id": id, "phase": phase });
                let (task_id, key) = (format!("radiomics/{}/{id}/{phase}", cohort.name), task_key(Stage::Radiomics, &settings, &inputs));
                radiomics.push((task_id.clone(), key.clone()));
                tasks.push(PlannedTask {
                    id: task_id,
                    stage: Stage::Radiomics,
                    key,
                    spec: json!({
                        "cohort": cohort.name, "patient_id": id, "phase": phase, "image": image, "mask": mask,
                        "label": images.label, "settings": radiomics_settings,
                    })
                    .to_string(),
                    deps: vec![],
                    cpu_slots: 1,
                    gpus: 0,
                    partial_inputs: false,
                });
            }
        }
        planned.push(CohortTasks { cohort, ingest: (ingest_id, ingest_key), preprocess, radiomics });
    }
    let training_cohort = planned.iter().find(|c| c.cohort.role == tacefusion_core::CohortRole::Training);
    let models = match &bundle {
        Some((path, digest)) => deep::plan_validation(&planned, path, digest),
        None => {
            let images = training_cohort.and_then(|t| t.cohort.images.as_ref());
            let inputs = json!({
                "crop": crop_settings, "radiomics": radiomics_settings,
                "label": images.map(|i| i.label), "phases": images.map(|i| i.phases.clone()),
            });
            deep::plan(study, &planned, &inputs)
        }
    };
    // evaluation of each cohort: the clinical scores from its ingest, the models when they exist
    // (the training cohort's survival for Uno's C and the time-dependent AUC)
    // (a validation job's training survival comes with the bundle)
    let training_cohort = training_cohort.filter(|_| bundle.is_none());
    let training = training_cohort.map(|c| c.ingest.clone());
    let find = |id: &str| models.iter().find(|t| t.id == id).map(|t| (t.id.clone(), t.key.clone()));
    // a synthetic study's planted truth: the oracle model
    let truth = match &study.study.truth {
        Some(t) => {
            let path = PathBuf::from(Study::resolve(study_file, t));
            let err = |detail: String| PlanError::Input { cohort: "-".into(), file: path.display().to_string(), detail };
            Some((path.clone(), digests.digest(&path).map_err(|e| err(e.to_string()))?))
        }
        None => None,
    };
    let e = &study.evaluation;
    let per_task = e.replicates_per_task.max(1);
    for c in &planned {
        let evaluation = json!({
            "cohort": c.cohort.name,
            "role": c.cohort.role,
            "training": training_cohort.map(|t| t.cohort.name.clone()),
            "scores": CLINICAL_SCORES,
            "bootstrap_replicates": e.bootstrap_replicates,
            "auc_months": e.auc_months,
            "calibration_months": e.calibration_months,
            "seed": study.study.seed,
            "truth": truth.as_ref().map(|t| t.0.clone()),
        });
        // the cohort's scores, and the training cohort's (each model's scale of predicted survival)
        let mut deps = vec![c.ingest.clone()];
        deps.extend(training.iter().filter(|t| t.0 != c.ingest.0).cloned());
        deps.extend(find(&format!("score/{}", c.cohort.name)));
        if let Some(t) = training_cohort.filter(|t| t.cohort.name != c.cohort.name) {
            deps.extend(find(&format!("score/{}", t.cohort.name)));
        }
        deps.extend(find(&format!("fusion/apply/{}", c.cohort.name)));
        deps.extend(find("fusion/fit"));
        deps.extend(find("bundle/unpack"));
        let mut keys: Vec<String> = deps.iter().map(|d| d.1.clone()).collect();
        keys.extend(truth.as_ref().map(|t| t.1.clone()));
        // the bootstrap replicates, a range per task; replicate r depends only on the study's seed
        // and r, so the spec holds only what the replicates use: more replicates or other
        // evaluation times reuse the ranges already computed
        let mut replicates = Vec::new();
        for first in (0..e.bootstrap_replicates).step_by(per_task) {
            let last = (first + per_task).min(e.bootstrap_replicates);
            let spec = json!({
                "cohort": c.cohort.name,
                "scores": CLINICAL_SCORES,
                "seed": study.study.seed,
                "truth": truth.as_ref().map(|t| t.0.clone()),
                "first": first,
                "last": last,
            });
            let key = task_key(Stage::Bootstrap, &without_path(&spec), &keys);
            let id = format!("bootstrap/{}/{first}-{last}", c.cohort.name);
            replicates.push((id.clone(), key.clone()));
            fan_in.push(PlannedTask {
                id,
                stage: Stage::Bootstrap,
                key,
                spec: spec.to_string(),
                deps: deps.iter().map(|d| d.0.clone()).collect(),
                cpu_slots: 1,
                gpus: 0,
                partial_inputs: true,
            });
        }
        deps.extend(replicates);
        let keys: Vec<String> = deps.iter().map(|d| d.1.clone()).chain(truth.as_ref().map(|t| t.1.clone())).collect();
        fan_in.push(PlannedTask {
            id: format!("evaluate/{}", c.cohort.name),
            stage: Stage::Evaluate,
            key: task_key(Stage::Evaluate, &without_path(&evaluation), &keys),
            spec: evaluation.to_string(),
            deps: deps.into_iter().map(|d| d.0).collect(),
            cpu_slots: 1,
            gpus: 0,
            // the clinical scores are evaluated even when a model failed
            partial_inputs: true,
        });
    }
    fan_in.extend(biology::plan(study, study_file, &planned, &models, digests)?);
    tasks.extend(models);
    tasks.extend(fan_in);
    Ok(tasks)
}

#[cfg(test)]
mod tests;
