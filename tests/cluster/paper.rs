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
//! C is within 0.05 of the oracle's (the planted log hazard).

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
        let dir = scratch(&format!("paper-{seed}"));
        let study = dir.join("study");
        ok(&["synth", "--preset", "paper", "--seed", seed, "--out", study.to_str().unwrap()]);
        let results = dir.join("results");
        ok(&["run", study.join("study.toml").to_str().unwrap(), "--workers", "2", "--out", results.to_str().unwrap()]);
        let truth: HashMap<(String, String), f64> = rows(&std::fs::read_to_string(study.join("truth/patients.csv")).unwrap())
            .into_iter()
            .map(|r| ((r["cohort"].clone(), r["patient_id"].clone()), r["h"].parse().unwrap()))
            .collect();
        for cohort in ["external_b", "external_c"] {
            let mut check = |what: String, good: bool| {
                eprintln!("seed {seed} {cohort}: {} {what}", if good { "PASS" } else { "FAIL" });
                if !good {
                    failures.push(format!("seed {seed} {cohort}: {what}"));
                }
            };
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
