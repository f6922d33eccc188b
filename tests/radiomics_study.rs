//! `tacefusion radiomics --study` on the synthetic study: exactly the planted image defects are
//! excluded (with their files and reasons), every other patient x phase has the full feature set, the
//! rows equal the single-image command's with the same settings, and they do not depend on the number
//! of threads.

#![allow(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tacefusion(args: &[&str], threads: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion")).args(args).env("RAYON_NUM_THREADS", threads).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {stderr}");
    stderr
}

fn csv(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// A small synthetic study with one LoG sigma and no wavelet (to keep the test short).
fn study(dir: &Path) -> PathBuf {
    let root = dir.join("study");
    tacefusion(&["synth", "--preset", "small", "--seed", "3", "--out", root.to_str().unwrap()], "2");
    let file = root.join("study.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replace("log_sigmas_mm = [2.0, 4.0]", "log_sigmas_mm = [2.0]").replace("wavelet = true", "wavelet = false");
    assert!(text.contains("log_sigmas_mm = [2.0]\n") && text.contains("wavelet = false"), "the synthetic study's settings changed");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn the_study_stage_excludes_the_planted_defects_and_nothing_else() {
    let dir = std::env::temp_dir().join(format!("tacefusion-radiomics-study-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let study = study(&dir);
    let root = study.parent().unwrap();
    let (one, two) = (dir.join("one-thread"), dir.join("two-threads"));
    tacefusion(&["radiomics", "--study", study.to_str().unwrap(), "--out", one.to_str().unwrap()], "1");
    tacefusion(&["radiomics", "--study", study.to_str().unwrap(), "--out", two.to_str().unwrap()], "2");
    for name in ["radiomic_features.csv", "radiomics_exclusions.csv"] {
        assert!(std::fs::read(one.join(name)).unwrap() == std::fs::read(two.join(name)).unwrap(), "{name} depends on the threads");
    }

    // planted image defects: (cohort, patient, phase) from truth/defects.csv rows whose file is an image
    let mut planted = BTreeMap::new();
    for row in csv(&root.join("truth/defects.csv")) {
        let (cohort, patient, kind, file) = (&row[0], &row[2], &row[3], &row[4]);
        if let Some(name) = file.strip_prefix("images/").and_then(|f| f.rsplit('/').next()) {
            let phase = name.trim_end_matches(".nii.gz").trim_end_matches("_mask").to_string();
            planted.insert((cohort.clone(), patient.clone(), phase), (kind.clone(), file.clone()));
        }
    }
    assert!(planted.len() >= 3, "the synthetic study plants image defects: {planted:?}");
    let exclusions = csv(&one.join("radiomics_exclusions.csv"));
    let excluded: BTreeSet<_> = exclusions.iter().map(|r| (r[0].clone(), r[1].clone(), r[2].clone())).collect();
    assert_eq!(excluded, planted.keys().cloned().collect(), "{exclusions:?}");
    for row in &exclusions {
        let (kind, file) = &planted[&(row[0].clone(), row[1].clone(), row[2].clone())];
        let reason = &row[5];
        // the reason names the file and the problem
        assert!(reason.contains(file.as_str()) || (row[3].ends_with(file.as_str()) || row[4].ends_with(file.as_str())), "{row:?}");
        let problem = match kind.as_str() {
            "empty_mask" => "no voxel with label",
            "mask_grid_mismatch" => "different grids",
            "truncated_image" => "truncated",
            other => panic!("an image defect kind this test does not know: {other}"),
        };
        assert!(reason.contains(problem), "{kind}: {reason}");
    }

    // every other patient x phase: the same full feature list
    let features = csv(&one.join("radiomic_features.csv"));
    let mut per_phase: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for r in &features {
        per_phase.entry((r[0].clone(), r[1].clone(), r[2].clone())).or_default().push(r[3].clone());
    }
    let mut expected = 0;
    for cohort in ["training", "internal_validation", "external_b", "external_c", "biomarker", "bulk", "singlecell"] {
        let ids: BTreeSet<String> = csv(&root.join(format!("clinical/{cohort}.csv"))).into_iter().map(|r| r[0].clone()).collect();
        expected += 2 * ids.len();
    }
    assert_eq!(per_phase.len() + excluded.len(), expected);
    let names = per_phase.values().next().unwrap();
    assert!(per_phase.values().all(|n| n == names));
    // 107 original features and 93 LoG ones (no shape on filtered images)
    assert_eq!(names.len(), 107 + 93);
    assert!(names.contains(&"log-sigma-2-0-mm-3D_glcm_Contrast".to_string()));

    // the same numbers as the single-image command with the equivalent parameter file
    let params = dir.join("params.yaml");
    std::fs::write(
        &params,
        "setting:\n  binWidth: 25\n  resampledPixelSpacing: [2, 2, 2]\nimageType:\n  Original: {}\n  LoG:\n    sigma: [2.0]\n",
    )
    .unwrap();
    let (patient, phase) = ("TA0001", "portal_venous");
    let single = dir.join("single.csv");
    let image = root.join(format!("images/training/{patient}/{phase}.nii.gz"));
    let mask = root.join(format!("images/training/{patient}/{phase}_mask.nii.gz"));
    tacefusion(
        &[
            "radiomics",
            "--image",
            image.to_str().unwrap(),
            "--mask",
            mask.to_str().unwrap(),
            "--params",
            params.to_str().unwrap(),
            "--out",
            single.to_str().unwrap(),
        ],
        "2",
    );
    let want: Vec<(String, String)> = csv(&single).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let got: Vec<(String, String)> =
        features.iter().filter(|r| r[0] == "training" && r[1] == patient && r[2] == phase).map(|r| (r[3].clone(), r[4].clone())).collect();
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}
