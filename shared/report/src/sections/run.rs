//! For a synthetic study, what was planted beside what was found; and the run's facts (version,
//! settings and seed, tasks, retries and wall time per stage).

use super::models::metric;
use crate::html::{Section, escape, num, p_value, table};
use crate::{RunFacts, Source};

/// Planted beside found (a synthetic study only).
pub fn planted(source: &dyn Source, facts: &RunFacts) -> Section {
    let mut body = String::new();
    let Some(effects) = &facts.planted else {
        body += "<p class=\"note\">Not a synthetic study (no planted truth given).</p>";
        return Section { id: "planted", title: "Planted and found".into(), body };
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Ok(m) = source.query(
        "SELECT cohort, model, metric, value, ci_lower, ci_upper FROM metrics WHERE metric = 'harrell_c' AND model IN ('crm', 'oracle')",
    ) {
        for cohort in m.distinct("cohort") {
            let (crm, oracle) = (metric(&m, &cohort, "crm", "harrell_c").0, metric(&m, &cohort, "oracle", "harrell_c").0);
            rows.push(vec![
                format!("{}: C of the planted log hazard (the best any model can do)", escape(&cohort)),
                num(oracle, 3),
                format!("CRM C {}", num(crm, 3)),
            ]);
        }
    }
    if let Ok(c) =
        source.query("SELECT gene_set, method, difference, mann_whitney_fdr FROM pathway_comparison WHERE collection = 'hallmark'")
    {
        for set in effects["omics"]["bulk_up_sets"].as_array().into_iter().flatten().filter_map(|v| v.as_str()) {
            for r in c.rows_where("gene_set", set) {
                rows.push(vec![
                    format!("bulk: {} raised with h ({})", escape(set), escape(&c.text(r, "method"))),
                    "higher in high".into(),
                    format!("high \u{2212} low {}, FDR {}", num(c.num(r, "difference"), 3), p_value(c.num(r, "mann_whitney_fdr"))),
                ]);
            }
        }
    }
    if let Ok(c) = source.query("SELECT score, cell_type, difference, mann_whitney_p FROM cell_type_comparison") {
        let hyp = c.rows_where("score", "hypoxia");
        let up = hyp.iter().filter(|&&r| c.num(r, "difference") > 0.0).count();
        rows.push(vec![
            format!(
                "single cell: hypoxia genes +{} log per SD of h in every cell type",
                escape(&effects["omics"]["sc_hypoxia_per_h"].to_string())
            ),
            "higher in high, every cell type".into(),
            format!("higher in {up} of {} cell types", hyp.len()),
        ]);
        for r in c.rows_where("score", "cytotoxicity").into_iter().filter(|&r| c.text(r, "cell_type").starts_with("CD8")) {
            rows.push(vec![
                format!(
                    "single cell: cytotoxic genes {} log per SD of h in CD8+ T cells",
                    escape(&effects["omics"]["sc_cd8_cytotoxic_per_h"].to_string())
                ),
                "lower in high".into(),
                format!("high \u{2212} low {}, p {}", num(c.num(r, "difference"), 3), p_value(c.num(r, "mann_whitney_p"))),
            ]);
        }
    }
    body += &table(&["planted", "expected", "found"], &rows);
    body += &format!(
        "<details><summary>truth/effects.json</summary><pre>{}</pre></details>",
        escape(&serde_json::to_string_pretty(effects).unwrap_or_default())
    );
    Section { id: "planted", title: "Planted and found".into(), body }
}

/// The run's facts.
pub fn facts(facts: &RunFacts) -> Section {
    let mut body = format!(
        "<p>tacefusion {} \u{00b7} job {} \u{00b7} study {} \u{00b7} {}</p>",
        escape(&facts.version),
        escape(&facts.job),
        escape(&facts.study),
        escape(&facts.state)
    );
    let rows: Vec<Vec<String>> = facts
        .stages
        .iter()
        .map(|(stage, tasks, committed, failed, retries, wall)| {
            vec![escape(stage), tasks.to_string(), committed.to_string(), failed.to_string(), retries.to_string(), num(*wall, 1)]
        })
        .collect();
    let total = |k: fn(&(String, u64, u64, u64, u64, f64)) -> u64| facts.stages.iter().map(k).sum::<u64>().to_string();
    let mut rows = rows;
    rows.push(vec!["<b>all</b>".into(), total(|s| s.1), total(|s| s.2), total(|s| s.3), total(|s| s.4), String::new()]);
    body += "<p class=\"note\">Wall time: from the first to the last commit of the stage's tasks in this job (stages overlap).</p>";
    body += &table(&["stage", "tasks", "committed", "failed", "retries", "wall, s"], &rows);
    if let Some(toml) = &facts.study_toml {
        body += &format!("<details><summary>study.toml (settings and seed)</summary><pre>{}</pre></details>", escape(toml));
    }
    Section { id: "run", title: "Run".into(), body }
}
