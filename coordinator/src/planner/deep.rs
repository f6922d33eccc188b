//! The models of a plan: the sweep's cross-validation runs on the training cohort
//! (`train/cv/f<fold>/c<config>/s<seed>`), the final network (`train/final`), its scoring of
//! every cohort with images (`score/<cohort>`), the radiomic, fusion and clinical-radiologic models
//! fitted on training (`fusion/fit`) and applied unchanged to every other cohort
//! (`fusion/apply/<cohort>`). Each is a fan-in over the cohort's per-patient
//! preprocess tasks that runs with the patients whose crop was made (`partial_inputs`); a patient
//! whose CT could not be read is in `exclusions` from its preprocess task.

use serde_json::json;
use sha2::{Digest, Sha256};
use tacefusion_core::study::SearchKind;
use tacefusion_core::{CohortRole, Study};

use super::{CohortTasks, task_key};
use crate::task::{PlannedTask, Stage};

/// A uniform draw in [0, 1) for (study seed, configuration, what): SHA-256, so that the plan needs
/// no random-number generator and is the same on every coordinator.
fn uniform(seed: u64, config: usize, what: &str) -> f64 {
    let d = Sha256::digest(format!("sweep/{seed}/{config}/{what}").as_bytes());
    (u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) >> 11) as f64 / (1u64 << 53) as f64
}

/// The sweep's configurations (an empty list takes the `[train]` value). A grid is learning rate x
/// width x depth x augmentation, the last varying fastest; a random search draws
/// `configurations` of them from the study seed (learning rate log-uniform and augmentation uniform
/// between the smallest and largest listed, width and depth among those listed).
pub(crate) fn configurations(study: &Study) -> Vec<serde_json::Value> {
    let (s, t) = (&study.sweep, &study.train);
    let or = |list: &[f64], one: f64| if list.is_empty() { vec![one] } else { list.to_vec() };
    let or_int = |list: &[usize], one: usize| if list.is_empty() { vec![one] } else { list.to_vec() };
    let (rates, widths, depths, strengths) = (
        or(&s.learning_rates, t.learning_rate),
        or_int(&s.widths, t.width),
        or_int(&s.depths, t.depth),
        or(&s.augmentations, t.augmentation),
    );
    let config = |id: usize, lr: f64, width: usize, depth: usize, augmentation: f64| json!({ "id": id, "learning_rate": lr, "width": width, "depth": depth, "augmentation": augmentation });
    let mut out = Vec::new();
    match s.search {
        SearchKind::Grid => {
            for &lr in &rates {
                for &width in &widths {
                    for &depth in &depths {
                        for &a in &strengths {
                            out.push(config(out.len(), lr, width, depth, a));
                        }
                    }
                }
            }
        }
        SearchKind::Random => {
            let span = |v: &[f64]| v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            let ((lr_lo, lr_hi), (a_lo, a_hi)) = (span(&rates), span(&strengths));
            let seed = study.study.seed;
            for k in 0..s.configurations {
                let pick = |list: &[usize], what: &str| list[((uniform(seed, k, what) * list.len() as f64) as usize).min(list.len() - 1)];
                let lr = (lr_lo.ln() + (lr_hi.ln() - lr_lo.ln()) * uniform(seed, k, "learning_rate")).exp();
                let a = a_lo + (a_hi - a_lo) * uniform(seed, k, "augmentation");
                out.push(config(k, lr, pick(&widths, "width"), pick(&depths, "depth"), a));
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

/// A network task on the study's device: `gpus` is in its settings (so a network trained on a GPU
/// is not taken for one trained on the CPU) and in its needs (only a worker with a free GPU runs it).
fn on_device(
    id: String,
    stage: Stage,
    mut spec: serde_json::Value,
    deps: Vec<(String, String)>,
    c: &CohortTasks<'_>,
    gpus: u32,
) -> PlannedTask {
    spec["gpus"] = json!(gpus);
    PlannedTask { gpus, ..fan_in(id, stage, spec, deps, c) }
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
                let task = on_device(id, Stage::Train, spec, Vec::new(), training, t.gpus);
                runs.push((task.id.clone(), task.key.clone()));
                tasks.push(task);
            }
        }
    }
    let spec = json!({ "kind": "final", "cohort": training.cohort.name, "configs": configs, "seed": seeds[0], "train": shared });
    let last = on_device("train/final".into(), Stage::Train, spec, runs, training, t.gpus);
    let network = (last.id.clone(), last.key.clone());
    tasks.push(last);
    let mut scores = Vec::new();
    for c in cohorts.iter().filter(|c| !c.preprocess.is_empty()) {
        let spec = json!({ "cohort": c.cohort.name });
        let task = on_device(format!("score/{}", c.cohort.name), Stage::Score, spec, vec![network.clone()], c, t.gpus);
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
    // train/final: the training cohort's cross-fitted deep scores, which the models are fitted on
    let deps = std::iter::once(network.clone()).chain(fitting.iter().flat_map(|c| inputs_of(c))).collect();
    let fit = fusion_task("fusion/fit".into(), spec, deps);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn study(sweep: &str, seed: u64) -> Study {
        let text = format!(
            "[study]\nname = \"t\"\nseed = {seed}\n\n[[cohorts]]\nname = \"training\"\nrole = \"training\"\ncentre = \"A\"\nclinical = \"c.csv\"\n\n[cohorts.images]\nimage = \"{{patient}}/{{phase}}.nii.gz\"\nmask = \"{{patient}}/{{phase}}_mask.nii.gz\"\n\n[sweep]\n{sweep}\n"
        );
        Study::parse(&text, Path::new("study.toml")).unwrap()
    }

    #[test]
    fn a_grid_is_every_combination_and_a_random_search_draws_within_the_ranges() {
        let grid = configurations(&study("learning_rates = [0.001, 0.01]\nwidths = [4, 8]\ndepths = [2]\naugmentations = [0.0, 0.5]", 1));
        assert_eq!(grid.len(), 8);
        assert_eq!(grid[1], json!({ "id": 1, "learning_rate": 0.001, "width": 4, "depth": 2, "augmentation": 0.5 }));
        assert_eq!(grid[7]["learning_rate"], 0.01);

        let sweep = "search = \"random\"\nconfigurations = 40\nlearning_rates = [0.0001, 0.01]\nwidths = [4, 8, 16]\ndepths = [2, 3]\naugmentations = [0.2, 0.8]";
        let drawn = configurations(&study(sweep, 1));
        assert_eq!(drawn.len(), 40);
        assert_eq!(drawn, configurations(&study(sweep, 1)), "the same seed draws the same sweep");
        assert_ne!(drawn, configurations(&study(sweep, 2)), "another seed draws another sweep");
        let lr: Vec<f64> = drawn.iter().map(|c| c["learning_rate"].as_f64().unwrap()).collect();
        assert!(lr.iter().all(|&v| (1e-4..=1e-2).contains(&v)));
        // log-uniform: about half the draws below the geometric middle, 1e-3
        let below = lr.iter().filter(|&&v| v < 1e-3).count();
        assert!((10..=30).contains(&below), "{below} of 40 below 1e-3");
        let widths: BTreeSet<u64> = drawn.iter().map(|c| c["width"].as_u64().unwrap()).collect();
        assert_eq!(widths, BTreeSet::from([4, 8, 16]));
        assert!(drawn.iter().all(|c| (0.2..=0.8).contains(&c["augmentation"].as_f64().unwrap())));
        assert!(drawn.iter().enumerate().all(|(k, c)| c["id"] == k));
    }
}
