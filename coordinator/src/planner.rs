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
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn write_study(dir: &Path, patients: &[&str]) -> PathBuf {
        std::fs::create_dir_all(dir.join("clinical")).unwrap();
        let mut csv = String::from("patient_id,os_months\n");
        for p in patients {
            csv.push_str(&format!("{p},10\n"));
        }
        std::fs::write(dir.join("clinical/train.csv"), csv).unwrap();
        for p in patients {
            for f in ["arterial", "arterial_mask", "portal_venous", "portal_venous_mask"] {
                std::fs::create_dir_all(dir.join(format!("images/{p}"))).unwrap();
                std::fs::write(dir.join(format!("images/{p}/{f}.nii.gz")), format!("{p}-{f}")).unwrap();
            }
        }
        let toml = "[study]\nname = \"t\"\nseed = 7\n\n[[cohorts]]\nname = \"training\"\nrole = \"training\"\ncentre = \"A\"\nclinical = \"clinical/train.csv\"\n\n[cohorts.images]\nimage = \"images/{patient}/{phase}.nii.gz\"\nmask = \"images/{patient}/{phase}_mask.nii.gz\"\n";
        let file = dir.join("study.toml");
        std::fs::write(&file, toml).unwrap();
        file
    }

    #[test]
    fn an_unreadable_clinical_table_plans_no_patient_of_its_cohort_only() {
        let dir = std::env::temp_dir().join(format!("tacefusion-plan-bad-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = write_study(&dir, &["P1", "P2"]);
        // an external cohort whose table has a row of the wrong length, and one without a table
        std::fs::write(dir.join("clinical/ext.csv"), "patient_id,os_months\nE1,10,extra\n").unwrap();
        let mut toml = std::fs::read_to_string(&file).unwrap();
        for (name, table) in [("ext", "clinical/ext.csv"), ("gone", "clinical/gone.csv")] {
            toml.push_str(&format!(
                "\n[[cohorts]]\nname = \"{name}\"\nrole = \"external_validation\"\ncentre = \"B\"\nclinical = \"{table}\"\n\n[cohorts.images]\nimage = \"images/{{patient}}/{{phase}}.nii.gz\"\nmask = \"images/{{patient}}/{{phase}}_mask.nii.gz\"\n"
            ));
        }
        std::fs::write(&file, toml).unwrap();
        let ids: Vec<String> = keys(&file).into_iter().map(|(id, _)| id).collect();
        for want in ["ingest/ext", "ingest/gone", "preprocess/training/P1", "preprocess/training/P2", "evaluate/training"] {
            assert!(ids.iter().any(|id| id == want), "{want} not planned: {ids:?}");
        }
        assert!(!ids.iter().any(|id| id.starts_with("preprocess/ext") || id.starts_with("preprocess/gone")), "{ids:?}");
        // the training cohort's table is the models': unreadable, the study is refused naming it
        std::fs::write(dir.join("clinical/train.csv"), "patient_id,os_months\nP1,10,extra\n").unwrap();
        let e = plan(&Study::from_path(&file).unwrap(), &file, &mut DigestCache::default()).unwrap_err().to_string();
        assert!(e.contains("cohort training") && e.contains("train.csv"), "{e}");
    }

    #[test]
    fn more_replicates_or_other_evaluation_times_reuse_the_bootstrap_ranges() {
        let dir = std::env::temp_dir().join(format!("tacefusion-plan-boot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = write_study(&dir, &["P1", "P2"]);
        let before: HashMap<String, String> = keys(&file).into_iter().collect();
        let mut toml = std::fs::read_to_string(&file).unwrap();
        toml.push_str("\n[evaluation]\nbootstrap_replicates = 1500\nauc_months = [6.0, 12.0]\ncalibration_months = 12.0\n");
        std::fs::write(&file, toml).unwrap();
        let after: HashMap<String, String> = keys(&file).into_iter().collect();
        for range in ["0-250", "250-500", "500-750", "750-1000"] {
            let id = format!("bootstrap/training/{range}");
            assert_eq!(before[&id], after[&id], "{id} would run again");
        }
        assert!(after.contains_key("bootstrap/training/1250-1500"));
        assert_ne!(before["evaluate/training"], after["evaluate/training"], "the evaluation itself changed");
    }

    #[test]
    fn a_bundle_trained_on_crops_in_file_axes_is_refused() {
        let dir = std::env::temp_dir().join(format!("tacefusion-plan-axes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = write_study(&dir, &["P1"]);
        let study = Study::from_path(&file).unwrap();
        let crop = json!({ "spacing_mm": 4.0, "hu_window": [-100.0, 300.0], "crop_size": [16, 16, 16] });
        let settings = |crop: serde_json::Value| json!({ "crop": crop, "radiomics": {}, "phases": ["arterial", "portal_venous"] });
        let old = dir.join("old.tfb");
        std::fs::write(&old, tacefusion_core::bundle::ModelBundle::new("t", "0", settings(crop.clone()), vec![]).to_bytes()).unwrap();
        let e = plan_validation(&study, &file, &mut DigestCache::default(), &old).unwrap_err().to_string();
        assert!(e.contains("old.tfb") && e.contains("retrain"), "{e}");
        let mut lps = crop;
        lps["axes"] = json!("LPS");
        let new = dir.join("new.tfb");
        std::fs::write(&new, tacefusion_core::bundle::ModelBundle::new("t", "0", settings(lps), vec![]).to_bytes()).unwrap();
        let planned = plan_validation(&study, &file, &mut DigestCache::default(), &new);
        assert!(planned.as_ref().is_ok_and(|p| p.iter().any(|t| t.id == "preprocess/training/P1")), "{:?}", planned.err());
    }

    fn keys(file: &Path) -> Vec<(String, String)> {
        let study = Study::from_path(file).unwrap();
        plan(&study, file, &mut DigestCache::default()).unwrap().into_iter().map(|t| (t.id, t.key)).collect()
    }

    #[test]
    fn a_new_patient_changes_only_its_tasks_and_the_fan_in() {
        let dir = std::env::temp_dir().join(format!("tacefusion-plan-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let file = write_study(&dir, &["P1", "P2", "P1"]);
        let before = keys(&file);
        let ids: Vec<&str> = before.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "ingest/training",
                "preprocess/training/P1",
                "preprocess/training/P2",
                "radiomics/training/P1/arterial",
                "radiomics/training/P1/portal_venous",
                "radiomics/training/P2/arterial",
                "radiomics/training/P2/portal_venous",
                "train/cv/f0/c0/s1",
                "train/cv/f1/c0/s1",
                "train/cv/f2/c0/s1",
                "train/cv/f3/c0/s1",
                "train/cv/f4/c0/s1",
                "train/final",
                "score/training",
                "fusion/fit",
                "bundle/pack",
                "bootstrap/training/0-250",
                "bootstrap/training/250-500",
                "bootstrap/training/500-750",
                "bootstrap/training/750-1000",
                "evaluate/training",
            ]
        );
        assert_eq!(keys(&file), before, "same inputs, same keys");
        write_study(&dir, &["P1", "P2", "P1", "P3"]);
        let after: HashMap<String, String> = keys(&file).into_iter().collect();
        for (id, key) in &before {
            let changed = after[id] != *key;
            // the cohort's fan-ins: evaluation and every model
            let should = ["ingest", "bootstrap", "evaluate", "train", "score", "fusion", "bundle"].iter().any(|s| id.starts_with(s));
            assert_eq!(changed, should, "{id}");
        }
        assert!(after.contains_key("radiomics/training/P3/arterial") && after.contains_key("preprocess/training/P3"));
        // a changed image changes its own tasks and the models built on it, nothing else
        std::fs::write(dir.join("images/P2/arterial.nii.gz"), "other").unwrap();
        let changed: Vec<String> = keys(&file).into_iter().filter(|(id, key)| after[id] != *key).map(|(id, _)| id).collect();
        let deep = [
            "train/cv/f0/c0/s1",
            "train/cv/f1/c0/s1",
            "train/cv/f2/c0/s1",
            "train/cv/f3/c0/s1",
            "train/cv/f4/c0/s1",
            "train/final",
            "score/training",
            "fusion/fit",
            "bundle/pack",
            "bootstrap/training/0-250",
            "bootstrap/training/250-500",
            "bootstrap/training/500-750",
            "bootstrap/training/750-1000",
            "evaluate/training",
        ];
        let want: Vec<&str> = ["preprocess/training/P2", "radiomics/training/P2/arterial"].into_iter().chain(deep).collect();
        assert_eq!(changed, want);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_truth_file_counts_by_its_content_not_its_place() {
        let evaluation_keys = |dir: &Path| -> Vec<(String, String)> {
            let file = write_study(dir, &["P1", "P2"]);
            let text = std::fs::read_to_string(&file).unwrap().replacen("seed = 7\n", "seed = 7\ntruth = \"truth.csv\"\n", 1);
            std::fs::write(&file, text).unwrap();
            keys(&file).into_iter().filter(|(id, _)| id.starts_with("evaluate") || id.starts_with("bootstrap")).collect()
        };
        let base = std::env::temp_dir().join(format!("tacefusion-plan-truth-{}", std::process::id()));
        let (a, b) = (base.join("a"), base.join("elsewhere/b"));
        for d in [&a, &b] {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(d.join("truth.csv"), "cohort,patient_id,log_hazard\ntraining,P1,0.5\n").unwrap();
        }
        let (ka, kb) = (evaluation_keys(&a), evaluation_keys(&b));
        assert_eq!(ka.len(), 5);
        assert_eq!(ka, kb, "the same study in another folder keeps its keys");
        std::fs::write(b.join("truth.csv"), "cohort,patient_id,log_hazard\ntraining,P1,0.7\n").unwrap();
        let changed = evaluation_keys(&b);
        assert!(ka.iter().zip(&changed).all(|(x, y)| x.1 != y.1), "a changed truth reruns the evaluation");
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn keys_are_canonical() {
        let a = task_key(Stage::Ingest, &json!({ "a": 1, "b": [1, 2] }), &["x".into()]);
        let b = task_key(Stage::Ingest, &serde_json::from_str(r#"{"b":[1,2],"a":1}"#).unwrap(), &["x".into()]);
        assert_eq!(a, b);
        assert_ne!(a, task_key(Stage::Evaluate, &json!({ "a": 1, "b": [1, 2] }), &["x".into()]));
        assert_eq!(a.len(), 64);
    }
}
