//! The issue's "what must hold" on the synthetic `paper` study, as `tacefusion run` runs it on this
//! machine (2 cores: 6 to 9 minutes a seed). Not in the default test run for its length:
//!
//! ```sh
//! TACEFUSION_PAPER_SEEDS=1,2,3 cargo test --release --test cluster -- --ignored paper
//! ```
//!
//! For each seed, in each external cohort: the deep score follows the planted hypoxia (Spearman at
//! least 0.5), the CRM's Harrell's C exceeds every clinical score's, the paired bootstrap p against
//! HAP and BCLC is below 0.05, the CRM's three risk groups separate (log-rank p below 0.001) and its
//! C is within 0.05 of the oracle's (the planted log hazard). The biology of the fusion-score
//! groups: HYPOXIA, MYC_TARGETS_V1, EMT and GLYCOLYSIS higher in `high` (ssGSEA and GSVA, FDR below
//! 0.05) in bulk, the planted loss of cytotoxic cells there (FDR below 0.05), single-cell hypoxia
//! higher in at least 7 of the 8 cell types and cytotoxicity lower in CD8+ T cells, the biomarkers
//! in their planted directions (FDR below 0.05).

use std::collections::HashMap;

use crate::harness::*;
use crate::runs::{rows, spearman};

const CLINICAL: [&str; 7] = ["hap", "mhap2", "six_twelve", "up_to_seven", "albi", "child_pugh", "bclc"];

fn query(results: &std::path::Path, sql: &str) -> Vec<HashMap<String, String>> {
    rows(&ok(&["query", "--results", results.to_str().unwrap(), "--csv", sql]))
}

#[test]
#[ignore = "runs the paper study: minutes per seed"]
fn paper_study_finds_what_was_planted() {
    let seeds = std::env::var("TACEFUSION_PAPER_SEEDS").unwrap_or_else(|_| "1".into());
    let mut failures = Vec::new();
    for seed in seeds.split(',').map(str::trim) {
        let mut check = |what: String, good: bool| {
            eprintln!("seed {seed}: {} {what}", if good { "PASS" } else { "FAIL" });
            if !good {
                failures.push(format!("seed {seed}: {what}"));
            }
        };
        let dir = scratch(&format!("paper-{seed}"));
        let study = dir.join("study");
        ok(&["synth", "--preset", "paper", "--seed", seed, "--out", study.to_str().unwrap()]);
        let results = dir.join("results");
        ok(&["run", study.join("study.toml").to_str().unwrap(), "--workers", "2", "--out", results.to_str().unwrap()]);
        let truth: HashMap<(String, String), f64> = rows(&std::fs::read_to_string(study.join("truth/patients.csv")).unwrap())
            .into_iter()
            .map(|r| ((r["cohort"].clone(), r["patient_id"].clone()), r["h"].parse().unwrap()))
            .collect();
        biology_finds_what_was_planted(&results, &mut check);
        for cohort in ["external_b", "external_c"] {
            let mut check = |what: String, good: bool| check(format!("{cohort}: {what}"), good);
            let deep = query(&results, &format!("SELECT patient_id, risk FROM predictions WHERE model = 'deep' AND cohort = '{cohort}'"));
            let risk: Vec<f64> = deep.iter().map(|r| r["risk"].parse().unwrap()).collect();
            let h: Vec<f64> = deep.iter().map(|r| truth[&(cohort.to_string(), r["patient_id"].clone())]).collect();
            let rho = spearman(&risk, &h);
            check(format!("Spearman(deep, planted h) = {rho:.3} >= 0.5"), rho >= 0.5);
            let metrics = query(&results, &format!("SELECT model, metric, value FROM metrics WHERE cohort = '{cohort}'"));
            let value = |model: &str, metric: &str| -> f64 {
                let row = metrics.iter().find(|r| r["model"] == model && r["metric"] == metric);
                row.unwrap_or_else(|| panic!("seed {seed} {cohort}: no {model} {metric}"))["value"].parse().unwrap()
            };
            let crm = value("crm", "harrell_c");
            let best =
                CLINICAL.iter().map(|m| (value(m, "harrell_c"), *m)).fold((f64::NEG_INFINITY, ""), |a, b| if b.0 > a.0 { b } else { a });
            check(format!("C(crm) {crm:.3} > best clinical {} {:.3}", best.1, best.0), crm > best.0);
            for m in ["hap", "bclc"] {
                let p = value(m, "p_vs_crm");
                check(format!("paired bootstrap p(crm vs {m}) = {p:.2e} < 0.05"), p < 0.05);
            }
            let p = value("crm", "logrank_p");
            check(format!("log-rank p across the CRM's groups = {p:.2e} < 0.001"), p < 0.001);
            let oracle = value("oracle", "harrell_c");
            check(format!("C(crm) {crm:.3} within 0.05 of C(oracle) {oracle:.3}"), oracle - crm <= 0.05);
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The biology checks of the issue, on the paper study's omics cohorts.
fn biology_finds_what_was_planted(results: &std::path::Path, check: &mut dyn FnMut(String, bool)) {
    let f = |r: &HashMap<String, String>, k: &str| -> f64 { r[k].parse().unwrap_or(f64::NAN) };
    let pathways = query(results, "SELECT collection, method, gene_set, difference, mann_whitney_fdr FROM pathway_comparison");
    for set in ["HALLMARK_HYPOXIA", "HALLMARK_MYC_TARGETS_V1", "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION", "HALLMARK_GLYCOLYSIS"] {
        for method in ["ssgsea", "gsva"] {
            let row = pathways.iter().find(|r| r["gene_set"] == set && r["method"] == method);
            let Some(row) = row else { return check(format!("bulk: no {method} comparison of {set}"), false) };
            let (d, q) = (f(row, "difference"), f(row, "mann_whitney_fdr"));
            check(format!("bulk {method} {set}: high - low = {d:.3}, FDR {q:.1e} < 0.05"), d > 0.0 && q < 0.05);
        }
    }
    for set in ["DANAHER_CYTOTOXIC_CELLS", "ROONEY_CYTOLYTIC_ACTIVITY"] {
        let row = pathways.iter().find(|r| r["gene_set"] == set);
        let Some(row) = row else { return check(format!("bulk: no comparison of {set}"), false) };
        let (d, q) = (f(row, "difference"), f(row, "mann_whitney_fdr"));
        check(format!("bulk immune {set} (planted loss of cytotoxic genes): high - low = {d:.3}, FDR {q:.1e} < 0.05"), d < 0.0 && q < 0.05);
    }
    let cells = query(results, "SELECT score, cell_type, difference, mann_whitney_p FROM cell_type_comparison");
    let hypoxia: Vec<_> = cells.iter().filter(|r| r["score"] == "hypoxia").collect();
    let up = hypoxia.iter().filter(|r| f(r, "difference") > 0.0).count();
    check(
        format!("single cell: hypoxia higher in high-risk patients in {up} of {} cell types (>= 7 of 8)", hypoxia.len()),
        up >= 7 && hypoxia.len() == 8,
    );
    let cd8 = cells.iter().find(|r| r["score"] == "cytotoxicity" && r["cell_type"] == "CD8+ cytotoxic T");
    let d = cd8.map_or(f64::NAN, |r| f(r, "difference"));
    check(format!("single cell: CD8+ T cytotoxicity high - low = {d:.3} < 0"), d < 0.0);
    let markers = query(results, "SELECT biomarker, difference, mann_whitney_fdr, spearman_rho FROM biomarker_comparison");
    for (name, sign) in [("hif1a_ihc_score", 1.0), ("cd8_density_per_mm2", -1.0), ("vegf_pg_ml", 1.0)] {
        let row = markers.iter().find(|r| r["biomarker"] == name);
        let Some(row) = row else { return check(format!("biomarker: no comparison of {name}"), false) };
        let (d, q, rho) = (f(row, "difference"), f(row, "mann_whitney_fdr"), f(row, "spearman_rho"));
        check(
            format!("biomarker {name}: high - low = {d:.3}, FDR {q:.1e} < 0.05, rho {rho:.2}"),
            d * sign > 0.0 && rho * sign > 0.0 && q < 0.05,
        );
    }
}
