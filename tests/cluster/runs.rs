//! Whole runs: three worker processes give the tables of `run --workers 1`; defective patients fail
//! only their own tasks and are listed with their reasons; a resubmission does nothing; a new
//! patient reruns only its own tasks and its cohort's fan-in.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::harness::*;

/// The planted defects of the synthetic study: (cohort, patient, kind, file).
fn planted(study: &std::path::Path) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(study.parent().unwrap().join("truth/defects.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
        .map(|f| (f[0].clone(), f[2].clone(), f[3].clone(), f[4].clone()))
        .collect()
}

#[test]
fn three_worker_processes_give_the_tables_of_one_in_process_worker() {
    let dir = scratch("three");
    let study = small_study(&dir);
    let single = dir.join("single");
    let job = ok(&["run", study.to_str().unwrap(), "--workers", "1", "--out", single.to_str().unwrap()]);
    let want = tables(single.to_str().unwrap(), Some(job.trim()), &[]);

    let c = start_coordinator(&dir, free_port(), &[]);
    let _workers: Vec<Proc> = (0..3).map(|_| start_worker(&c.url, &[], &[])).collect();
    let job = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    let end = wait_job(&c.url, &job, Duration::from_secs(300));
    assert_eq!(end["state"], "succeeded_with_failures", "{end}");
    let got = tables(c.store.to_str().unwrap(), Some(&job), &[]);
    for ((name, a), (_, b)) in want.iter().zip(&got) {
        assert!(a.lines().count() > 1, "table {name} is empty");
        assert!(a == b, "table {name} differs between 1 and 3 workers");
    }

    // exactly the planted image defects fail, each its own radiomics task and its patient's crop; the
    // clinical ones are ingest's exclusions
    let defects = planted(&study);
    let failed: BTreeSet<String> = end["failed"].as_array().unwrap().iter().map(|f| f["task_id"].as_str().unwrap().to_string()).collect();
    let image_defects: BTreeSet<String> = defects
        .iter()
        .filter(|d| d.3.starts_with("images/"))
        .flat_map(|(cohort, patient, _, file)| {
            let phase = file.rsplit('/').next().unwrap().trim_end_matches(".nii.gz").trim_end_matches("_mask");
            [format!("radiomics/{cohort}/{patient}/{phase}"), format!("preprocess/{cohort}/{patient}")]
        })
        .collect();
    assert!(!image_defects.is_empty());
    assert_eq!(failed, image_defects, "{end}");
    let exclusions = &got.iter().find(|(n, _)| n == "exclusions").unwrap().1;
    for (cohort, patient, kind, _) in &defects {
        let line = exclusions.lines().find(|l| l.starts_with(&format!("{cohort},{patient},")));
        let line = line.unwrap_or_else(|| panic!("{cohort} {patient} ({kind}) is not in exclusions:\n{exclusions}"));
        if kind == "duplicate_patient_id" || !defects.iter().any(|d| d.3.starts_with("images/") && d.1 == *patient) {
            assert!(line.contains(kind.as_str()) || line.contains("task_failed"), "{line}");
        }
    }
    deep_learning_found_the_planted_tumour_biology(&study, &got, &failed);
    // metrics exist for every cohort and clinical score
    let metrics = &got.iter().find(|(n, _)| n == "metrics").unwrap().1;
    assert!(metrics.lines().filter(|l| l.contains(",harrell_c,")).count() >= 7 * 4);
    evaluation_has_the_oracle_calibration_and_decision_curves(&got);
    biology_compared_the_fusion_groups(&got);
}

/// Each omics cohort's patients were split by the chosen fusion score and compared: every Hallmark
/// set by ssGSEA and GSVA (the four planted programmes higher in `high`), hypoxia in the 8 cell types
/// and cytotoxicity in the 2 cytotoxic ones, the 3 biomarkers.
fn biology_compared_the_fusion_groups(got: &[(String, String)]) {
    let table = |name: &str| rows(&got.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no table {name}")).1);
    let groups = table("fusion_groups");
    let cohorts: BTreeSet<&str> = groups.iter().map(|r| r["cohort"].as_str()).collect();
    assert_eq!(cohorts, BTreeSet::from(["biomarker", "bulk", "singlecell"]));
    let pathways = table("pathway_comparison");
    for method in ["ssgsea", "gsva"] {
        let hallmark: Vec<_> = pathways.iter().filter(|r| r["collection"] == "hallmark" && r["method"] == method).collect();
        assert_eq!(hallmark.len(), 50, "{method}: every Hallmark set is scored");
        for set in ["HALLMARK_HYPOXIA", "HALLMARK_MYC_TARGETS_V1", "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION", "HALLMARK_GLYCOLYSIS"] {
            let d: f64 = hallmark.iter().find(|r| r["gene_set"] == set).unwrap()["difference"].parse().unwrap();
            assert!(d > 0.0, "{method} {set}: high - low = {d}");
        }
    }
    assert!(pathways.iter().any(|r| r["gene_set"] == "DANAHER_CYTOTOXIC_CELLS"), "the built-in immune sets are scored");
    let estimate: BTreeSet<&str> = pathways.iter().filter(|r| r["collection"] == "estimate").map(|r| r["gene_set"].as_str()).collect();
    assert_eq!(
        estimate,
        BTreeSet::from(["ESTIMATE_IMMUNE_SIGNATURE", "ESTIMATE_SCORE", "ESTIMATE_STROMAL_SIGNATURE"]),
        "the stromal and immune scores"
    );
    let cells = table("cell_type_comparison");
    assert_eq!(cells.iter().filter(|r| r["score"] == "hypoxia").count(), 8);
    assert_eq!(cells.iter().filter(|r| r["score"] == "cytotoxicity").count(), 2);
    assert_eq!(table("biomarker_comparison").len(), 3);
}

/// The planted risk is evaluated as `oracle` in every cohort, with a bootstrap interval from the
/// bootstrap tasks; the CRM is calibrated; treating everyone has one net benefit per cohort,
/// whichever model's curve it is printed beside (the clinical scores score every patient).
fn evaluation_has_the_oracle_calibration_and_decision_curves(got: &[(String, String)]) {
    let table = |name: &str| rows(&got.iter().find(|(n, _)| n == name).unwrap().1);
    let metrics = table("metrics");
    let cohorts: BTreeSet<String> = metrics.iter().map(|r| r["cohort"].clone()).collect();
    assert_eq!(cohorts.len(), 7);
    for c in &cohorts {
        let oracle = metrics.iter().find(|r| r["cohort"] == *c && r["model"] == "oracle" && r["metric"] == "harrell_c");
        let oracle = oracle.unwrap_or_else(|| panic!("no oracle C in {c}"));
        let (v, lo, hi): (f64, f64, f64) =
            (oracle["value"].parse().unwrap(), oracle["ci_lower"].parse().unwrap(), oracle["ci_upper"].parse().unwrap());
        assert!(lo <= v && v <= hi, "{c}: oracle C {v} ({lo}, {hi})");
        if c.starts_with("external") || c == "training" {
            assert!(v > 0.6 && lo < v && v < hi, "{c}: oracle C {v} ({lo}, {hi})");
        }
    }
    // every replicate of every bootstrap task arrived (the study asks for 1000), and the metric
    // counts those the interval rests on: the ones with a C (a resample of the small single-cell
    // cohort often has no comparable pair)
    let replicates = table("bootstrap_replicates");
    let mut short = 0;
    for m in metrics.iter().filter(|r| r["metric"] == "bootstrap_replicates") {
        let of_model: Vec<_> =
            replicates.iter().filter(|r| r["cohort"] == m["cohort"] && r["model"] == m["model"] && r["statistic"] == "harrell_c").collect();
        assert_eq!(of_model.len(), 1000, "{} {}: replicates arrived", m["cohort"], m["model"]);
        let with_c = of_model.iter().filter(|r| r["value"].parse::<f64>().is_ok_and(f64::is_finite)).count();
        assert_eq!(m["value"].parse::<f64>().unwrap(), with_c as f64, "{} {}: replicates behind the interval", m["cohort"], m["model"]);
        short += (with_c < 1000) as usize;
    }
    assert!(short > 0, "the single-cell cohort's resamples without a comparable pair are not counted");
    let calibration = table("calibration");
    for c in ["external_b", "external_c"] {
        let crm: Vec<_> = calibration.iter().filter(|r| r["cohort"] == c && r["model"] == "crm" && r["grouping"] == "quantile").collect();
        // 5 groups, fewer when the cohort has fewer than 25 patients (external_c has 20)
        assert!((2..=5).contains(&crm.len()), "{c}: {} CRM quantile groups", crm.len());
        // predicted survival falls from the lowest to the highest quantile of risk
        let predicted: Vec<f64> = crm.iter().map(|r| r["predicted"].parse().unwrap()).collect();
        assert!(predicted.windows(2).all(|w| w[0] >= w[1]), "{c}: {predicted:?}");
    }
    let curves = table("decision_curves");
    for c in &cohorts {
        let all: BTreeSet<String> = curves
            .iter()
            .filter(|r| r["cohort"] == *c && r["threshold"] == "0.2" && ["hap", "bclc", "albi"].contains(&r["model"].as_str()))
            .map(|r| r["treat_all"].clone())
            .collect();
        assert_eq!(all.len(), 1, "{c}: {all:?}");
    }
}

#[test]
fn a_resubmission_does_nothing_and_a_new_patient_reruns_only_its_tasks() {
    let dir = scratch("incremental");
    let study = small_study(&dir);
    let c = start_coordinator(&dir, free_port(), &[]);
    let _workers: Vec<Proc> = (0..2).map(|_| start_worker(&c.url, &[], &[])).collect();
    let first = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    wait_job(&c.url, &first, Duration::from_secs(300));
    let manifests_before = manifests(&c.store);

    let second = tacefusion(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]);
    let stderr = String::from_utf8_lossy(&second.stderr);
    let job = String::from_utf8_lossy(&second.stdout).trim().to_string();
    let s = wait_job(&c.url, &job, Duration::from_secs(30));
    assert_eq!(s["attempts"], 0, "a resubmission runs nothing: {s} ({stderr})");
    assert_eq!(manifests(&c.store), manifests_before);

    // one more patient in external_c: a copy of its first patient's row and images under a new id
    let root = study.parent().unwrap();
    let csv = root.join("clinical/external_c.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let first_row = text.lines().nth(1).unwrap();
    let old_id = first_row.split(',').next().unwrap();
    std::fs::write(&csv, format!("{text}{}\n", first_row.replacen(old_id, "ECNEW1", 1))).unwrap();
    let (from, to) = (root.join(format!("images/external_c/{old_id}")), root.join("images/external_c/ECNEW1"));
    std::fs::create_dir_all(&to).unwrap();
    for f in std::fs::read_dir(&from).unwrap().flatten() {
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
    let third = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    let s = wait_job(&c.url, &third, Duration::from_secs(120));
    // ingest, evaluate and its 4 bootstrap tasks, the deep score and the fusion models' scores of
    // external_c, the new patient's two radiomics phases and its crop; the networks and models
    // fitted on training stay as they were
    assert_eq!(s["attempts"], 11, "{s}");
    let after = manifests(&c.store);
    assert_eq!(after.len(), manifests_before.len() + 11);
    assert!(manifests_before.iter().all(|m| after.contains(m)), "nothing committed is replaced");
}

/// Rows of a CSV table as maps from column to value.
pub(crate) fn rows(csv: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap_or_default().split(',').map(str::to_string).collect();
    lines.map(|l| header.iter().cloned().zip(l.split(',').map(str::to_string)).collect()).collect()
}

/// Spearman's rank correlation (average ranks for ties).
pub(crate) fn spearman(x: &[f64], y: &[f64]) -> f64 {
    use tacefusion_survival::ranks::average_ranks;
    let (a, b) = (average_ranks(x), average_ranks(y));
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(&b).map(|(p, q)| (p - ma) * (q - mb)).sum();
    let va: f64 = a.iter().map(|p| (p - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|q| (q - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// The sweep ran as planned, one configuration was chosen, every included patient with a readable
/// CT got a deep score (those whose crop failed are the failed preprocess tasks), and the scores
/// follow the planted hypoxia latent h.
fn deep_learning_found_the_planted_tumour_biology(study: &std::path::Path, got: &[(String, String)], failed: &BTreeSet<String>) {
    let table = |name: &str| rows(&got.iter().find(|(n, _)| n == name).unwrap().1);
    let runs = table("cv_runs");
    assert_eq!(runs.len(), 2, "folds x configurations x seeds of the small preset");
    for r in &runs {
        let c: f64 = r["validation_c"].parse().unwrap();
        assert!(c > 0.0 && c < 1.0, "{r:?}");
    }
    assert_eq!(table("deep_selection").iter().filter(|r| r["chosen"] == "true").count(), 1);
    let patients = table("patients");
    let deep: Vec<_> = table("predictions").into_iter().filter(|r| r["model"] == "deep").collect();
    for p in &patients {
        let crop_failed = failed.contains(&format!("preprocess/{}/{}", p["cohort"], p["patient_id"]));
        let scored = deep.iter().any(|d| d["cohort"] == p["cohort"] && d["patient_id"] == p["patient_id"]);
        assert_eq!(scored, !crop_failed, "patient {} of {}", p["patient_id"], p["cohort"]);
    }
    // the fusion models were fitted on cross-fitted deep scores: every training patient with a crop
    // once, with the risk the network of the fold that held it out gave it
    let crossed = table("deep_cross_fitted");
    let trained: BTreeSet<String> = patients
        .iter()
        .filter(|p| p["role"] == "training" && !failed.contains(&format!("preprocess/{}/{}", p["cohort"], p["patient_id"])))
        .map(|p| p["patient_id"].clone())
        .collect();
    assert_eq!(crossed.len(), trained.len());
    assert_eq!(crossed.iter().map(|r| r["patient_id"].clone()).collect::<BTreeSet<_>>(), trained);
    let held = table("held_out_risks");
    for r in &crossed {
        let h = held.iter().find(|h| h["patient_id"] == r["patient_id"] && h["fold"] == r["fold"]);
        assert_eq!(h.map(|h| &h["risk"]), Some(&r["risk"]), "{r:?}");
    }
    let truth = rows(&std::fs::read_to_string(study.parent().unwrap().join("truth/patients.csv")).unwrap());
    let (mut risk, mut h) = (Vec::new(), Vec::new());
    for d in &deep {
        let t = truth.iter().find(|t| t["cohort"] == d["cohort"] && t["patient_id"] == d["patient_id"]).unwrap();
        risk.push(d["risk"].parse::<f64>().unwrap());
        h.push(t["h"].parse::<f64>().unwrap());
    }
    let rho = spearman(&risk, &h);
    eprintln!("deep score vs planted h: Spearman {rho:.3} over {} patients", risk.len());
    assert!(rho > 0.3, "Spearman {rho:.3} between the deep score and h over {} patients", risk.len());
}

/// CSV rows of one query.
fn query(results: &std::path::Path, sql: &str) -> String {
    ok(&["query", "--results", results.to_str().unwrap(), "--csv", sql])
}

#[test]
fn a_model_bundle_scores_another_sites_cohorts_unchanged() {
    let dir = scratch("validate");
    let study = small_study(&dir);
    let trained = dir.join("trained");
    ok(&["run", study.to_str().unwrap(), "--workers", "2", "--out", trained.to_str().unwrap()]);
    // the new site: the same files under another study (a site sends its own cohorts)
    let validated = dir.join("validated");
    let out =
        tacefusion(&["validate", "--model", trained.to_str().unwrap(), study.to_str().unwrap(), "--out", validated.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("model_bundle.tfb"), "{stderr}");
    // nothing was trained or fitted: no CV run, no fusion fit, the bundle unpacked once
    let stages = query(&validated, "SELECT part FROM model_bundle ORDER BY part");
    assert_eq!(stages.lines().skip(1).collect::<Vec<_>>(), ["deep_model.json", "models.json", "network.mpk", "training_survival.parquet"]);
    let missing = tacefusion(&["query", "--results", validated.to_str().unwrap(), "SELECT * FROM cv_runs"]);
    assert!(!missing.status.success(), "a validation job trains nothing");
    // queries read: a COPY (which would write a file where the query runs) is refused
    let copied = dir.join("copied.csv");
    let copy = format!("COPY (SELECT part FROM model_bundle) TO '{}'", copied.display());
    let refused = tacefusion(&["query", "--results", validated.to_str().unwrap(), &copy]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && !copied.exists() && said.contains("not supported: COPY"), "{said}");
    // the same patients get the same scores and the same C as in the training run
    let sql = "SELECT cohort, patient_id, model, \"group\", risk FROM predictions WHERE model IN ('deep', 'radiomic', 'efm', 'lfm', 'crm') ORDER BY cohort, model, patient_id";
    let (a, b) = (query(&trained, sql), query(&validated, sql));
    assert!(a.lines().count() > 100, "{a}");
    assert_eq!(a, b, "scores of the bundle differ from those of the trained run");
    let sql = "SELECT cohort, model, metric, value, ci_lower, ci_upper FROM metrics WHERE model = 'crm' ORDER BY cohort, metric";
    assert_eq!(query(&trained, sql), query(&validated, sql));
    // a damaged bundle is refused with its file named
    let bundle = stderr.lines().find_map(|l| l.strip_prefix("model bundle: ")).unwrap().trim().to_string();
    let damaged = dir.join("damaged.tfb");
    let bytes = std::fs::read(&bundle).unwrap();
    std::fs::write(&damaged, &bytes[..bytes.len() / 2]).unwrap();
    let out =
        tacefusion(&["validate", "--model", damaged.to_str().unwrap(), study.to_str().unwrap(), "--out", dir.join("v2").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("damaged.tfb") && stderr.contains("truncated"), "{stderr}");
}

#[test]
fn run_refuses_a_study_that_asks_for_a_gpu_it_does_not_have() {
    // this build has no CUDA (`--features cuda` is not on for the tests), so `run` has no GPU
    let dir = scratch("gpu");
    let study = small_study(&dir);
    let text = std::fs::read_to_string(&study).unwrap().replacen("gpus = 0", "gpus = 1", 1);
    assert!(text.contains("gpus = 1"));
    std::fs::write(&study, text).unwrap();
    let out = tacefusion(&["run", study.to_str().unwrap(), "--workers", "1", "--out", dir.join("out").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("gpus = 1") && stderr.contains("no CUDA device"), "{stderr}");
}
