//! The models of a plan: the sweep's cross-validation runs on the training cohort
//! (`train/cv/f<fold>/c<config>/s<seed>`), the final network (`train/final`), its scoring of
//! every cohort with images (`score/<cohort>`), the radiomic, fusion and clinical-radiologic models
//! fitted on training (`fusion/fit`) and applied unchanged to every other cohort
//! (`fusion/apply/<cohort>`). Each is a fan-in over the cohort's per-patient
//! preprocess tasks that runs with the patients whose crop was made (`partial_inputs`); a patient
//! whose CT could not be read is in `exclusions` from its preprocess task.

use serde_json::json;
use tacefusion_core::{CohortRole, Study};

use super::{CohortTasks, task_key};
use crate::task::{PlannedTask, Stage};

/// The sweep's configurations: learning rate x width x depth, the last varying fastest (an empty
/// list takes the `[train]` value).
pub(crate) fn configurations(study: &Study) -> Vec<serde_json::Value> {
    let or = |list: &[f64], one: f64| if list.is_empty() { vec![one] } else { list.to_vec() };
    let or_int = |list: &[usize], one: usize| if list.is_empty() { vec![one] } else { list.to_vec() };
    let mut out = Vec::new();
    for lr in or(&study.sweep.learning_rates, study.train.learning_rate) {
        for width in or_int(&study.sweep.widths, study.train.width) {
            for depth in or_int(&study.sweep.depths, study.train.depth) {
                out.push(json!({ "id": out.len(), "learning_rate": lr, "width": width, "depth": depth }));
            }
        }
    }
    out
}

/// A fan-in task over one cohort's patients.
fn fan_in(id: String, stage: Stage, spec: serde_json::Value, mut deps: Vec<(String, String)>, c: &CohortTasks<'_>) -> PlannedTask {
    deps.push(c.ingest.clone());
    deps.extend(c.preprocess.iter().cloned());
    task(id, stage, spec, deps, true)
}

/// The models' tasks, in dependency order; none without a training cohort with images.
/// `inputs` is what new patients' inputs must be made with (crop and radiomic settings), kept in
/// the model bundle.
pub(crate) fn plan(study: &Study, cohorts: &[CohortTasks<'_>], inputs: &serde_json::Value) -> Vec<PlannedTask> {
    let Some(training) = cohorts.iter().find(|c| c.cohort.role == CohortRole::Training && !c.preprocess.is_empty()) else {
        return Vec::new();
    };
    let t = &study.train;
    let shared = json!({
        "epochs": t.epochs, "batch_size": t.batch_size, "weight_decay": t.weight_decay,
        "augmentation": t.augmentation, "patience": t.patience,
    });
    let configs = configurations(study);
    let seeds = if study.sweep.seeds.is_empty() { vec![study.study.seed] } else { study.sweep.seeds.clone() };
    let folds = study.sweep.folds.max(2);
    let mut tasks = Vec::new();
    let mut runs = Vec::new();
    for fold in 0..folds {
        for config in &configs {
            for &seed in &seeds {
                let spec = json!({
                    "kind": "cv", "cohort": training.cohort.name, "fold": fold, "folds": folds,
                    "fold_seed": study.study.seed, "seed": seed, "config": config, "train": shared,
                });
                let id = format!("train/cv/f{fold}/c{}/s{seed}", config["id"]);
                let task = fan_in(id, Stage::Train, spec, Vec::new(), training);
                runs.push((task.id.clone(), task.key.clone()));
                tasks.push(task);
            }
        }
    }
    let spec = json!({ "kind": "final", "cohort": training.cohort.name, "configs": configs, "seed": seeds[0], "train": shared });
    let last = fan_in("train/final".into(), Stage::Train, spec, runs, training);
    let network = (last.id.clone(), last.key.clone());
    tasks.push(last);
    let mut scores = Vec::new();
    for c in cohorts.iter().filter(|c| !c.preprocess.is_empty()) {
        let spec = json!({ "cohort": c.cohort.name });
        let task = fan_in(format!("score/{}", c.cohort.name), Stage::Score, spec, vec![network.clone()], c);
        scores.push((task.id.clone(), task.key.clone()));
        tasks.push(task);
    }
    // the fusion models and the CRM, fitted on training (chosen on internal validation), then
    // applied to each other cohort on its own, so that a new patient elsewhere refits nothing
    let internal = cohorts.iter().find(|c| c.cohort.role == CohortRole::InternalValidation);
    let fitting: Vec<&CohortTasks<'_>> = std::iter::once(training).chain(internal).collect();
    let inputs_of = |c: &CohortTasks<'_>| {
        let mut d: Vec<(String, String)> = scores.iter().filter(|s| s.0 == format!("score/{}", c.cohort.name)).cloned().collect();
        d.push(c.ingest.clone());
        d.extend(c.radiomics.iter().cloned());
        d
    };
    let spec = json!({
        "kind": "fit",
        "training": training.cohort.name,
        "internal_validation": internal.map(|c| c.cohort.name.clone()),
        "cohorts": fitting.iter().map(|c| c.cohort.name.clone()).collect::<Vec<_>>(),
        "seed": study.study.seed,
        "cutpoint_minprop": study.evaluation.cutpoint_minprop,
    });
    let fit = fusion_task("fusion/fit".into(), spec, fitting.iter().flat_map(|c| inputs_of(c)).collect());
    let fitted = (fit.id.clone(), fit.key.clone());
    tasks.push(fit);
    // the model bundle: what another site needs to score its patients with this study
    let spec = json!({ "kind": "pack", "study": study.study.name, "training": training.cohort.name, "settings": inputs });
    let deps = vec![network.clone(), fitted.clone(), training.ingest.clone()];
    tasks.push(task("bundle/pack".into(), Stage::Bundle, spec, deps, false));
    for c in cohorts.iter().filter(|c| !fitting.iter().any(|f| f.cohort.name == c.cohort.name)) {
        let spec = json!({ "kind": "apply", "cohorts": [c.cohort.name] });
        let deps = std::iter::once(fitted.clone()).chain(inputs_of(c)).collect();
        tasks.push(fusion_task(format!("fusion/apply/{}", c.cohort.name), spec, deps));
    }
    tasks
}

/// The models' tasks of a validation job: the bundle unpacked (its file's digest is the key's
/// input), then every cohort scored with it unchanged. Nothing is trained or refitted.
pub(crate) fn plan_validation(cohorts: &[CohortTasks<'_>], bundle: &str, digest: &str) -> Vec<PlannedTask> {
    let spec = json!({ "kind": "unpack", "bundle": bundle, "files": [bundle] });
    let key = task_key(Stage::Bundle, &json!({ "kind": "unpack" }), &[digest.to_string()]);
    // keyed by the file's content, not its path
    let unpack = PlannedTask { key, ..task("bundle/unpack".into(), Stage::Bundle, spec, vec![], false) };
    let unpacked = (unpack.id.clone(), unpack.key.clone());
    let mut tasks = vec![unpack];
    for c in cohorts.iter().filter(|c| !c.preprocess.is_empty()) {
        let spec = json!({ "cohort": c.cohort.name });
        let score = fan_in(format!("score/{}", c.cohort.name), Stage::Score, spec, vec![unpacked.clone()], c);
        let mut deps = vec![unpacked.clone(), (score.id.clone(), score.key.clone()), c.ingest.clone()];
        deps.extend(c.radiomics.iter().cloned());
        tasks.push(score);
        let spec = json!({ "kind": "apply", "cohorts": [c.cohort.name] });
        tasks.push(fusion_task(format!("fusion/apply/{}", c.cohort.name), spec, deps));
    }
    tasks
}

/// A task reading `deps` (id, key); its key covers its spec and their keys.
fn task(id: String, stage: Stage, spec: serde_json::Value, deps: Vec<(String, String)>, partial_inputs: bool) -> PlannedTask {
    let keys: Vec<String> = deps.iter().map(|(_, k)| k.clone()).collect();
    PlannedTask {
        id,
        stage,
        key: task_key(stage, &spec, &keys),
        spec: spec.to_string(),
        deps: deps.into_iter().map(|(id, _)| id).collect(),
        cpu_slots: 1,
        gpus: 0,
        partial_inputs,
    }
}

/// A fusion task over `deps` (partial inputs: a patient without features is left out).
fn fusion_task(id: String, spec: serde_json::Value, deps: Vec<(String, String)>) -> PlannedTask {
    task(id, Stage::Fusion, spec, deps, true)
}
