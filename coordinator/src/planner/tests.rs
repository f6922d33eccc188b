//! Planning a small study written here: the graph's tasks and dependencies, keys that change only
//! with their inputs, and the errors that name the file.

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
