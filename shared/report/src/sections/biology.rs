//! The biology of the fusion-score groups: the Hallmark comparison as a heatmap and a table, the
//! bulk samples' pathway scores, the volcano plot of every gene, the immune sets, single-cell
//! hypoxia by cell type and risk group, cytotoxicity of the cytotoxic cells, the biomarkers.

use super::rows;
use crate::Source;
use crate::frame::Frame;
use crate::html::{Section, escape, num, p_value, table};
use crate::svg::{Plot, Series, heatmap};

/// Rows of a comparison table: labels, then the group means, difference and tests.
fn comparison_rows(f: &Frame, rs: &[usize], labels: &[&str]) -> Vec<Vec<String>> {
    rs.iter()
        .map(|&r| {
            let mut row: Vec<String> = labels.iter().map(|l| escape(&f.text(r, l))).collect();
            let d = f.num(r, "difference");
            let q = f.num(r, "mann_whitney_fdr");
            let class = if q < 0.05 { if d > 0.0 { "bad" } else { "good" } } else { "" };
            row.extend([
                format!("{}/{}", num(f.num(r, "n_high"), 0), num(f.num(r, "n_low"), 0)),
                num(f.num(r, "mean_high"), 3),
                num(f.num(r, "mean_low"), 3),
                format!("<span class=\"{class}\">{}</span>", num(d, 3)),
                p_value(f.num(r, "mann_whitney_p")),
                p_value(q),
                num(f.num(r, "rank_biserial"), 2),
                p_value(f.num(r, "welch_p")),
            ]);
            row
        })
        .collect()
}

const COMPARISON: [&str; 8] =
    ["n high/low", "mean high", "mean low", "high \u{2212} low", "Mann-Whitney p", "FDR", "rank-biserial", "Welch p"];

fn header<'a>(labels: &[&'a str]) -> Vec<&'a str> {
    labels.iter().copied().chain(COMPARISON).collect()
}

/// The section.
pub fn section(source: &dyn Source) -> Section {
    let mut body = String::from(
        "<p class=\"note\">Each omics cohort's patients are split at the median of the chosen fusion score (<code>high</code> above it). Red: higher in the high group with FDR below 0.05; green: lower.</p>",
    );
    if let Some(g) = rows(
        source,
        "SELECT cohort, model, \"group\", count(*) AS n FROM fusion_groups GROUP BY cohort, model, \"group\" ORDER BY cohort, \"group\"",
        &mut body,
    ) {
        let t: Vec<Vec<String>> = (0..g.len())
            .map(|r| vec![escape(&g.text(r, "cohort")), escape(&g.text(r, "model")), escape(&g.text(r, "group")), num(g.num(r, "n"), 0)])
            .collect();
        body += &table(&["cohort", "fusion score", "group", "patients"], &t);
    }
    body += "<h3>Hallmark pathways (bulk)</h3>";
    if let Some(c) = rows(source, "SELECT * FROM pathway_comparison ORDER BY collection, method, mann_whitney_p", &mut body) {
        // one bulk cohort is drawn (the first); the tables list every cohort
        let cohorts = c.distinct("cohort");
        if cohorts.len() > 1 {
            body += &format!(
                "<p class=\"note\">Bulk cohorts: {}; the figures show {}.</p>",
                escape(&cohorts.join(", ")),
                escape(cohorts.iter().min().map_or("", |c| c.as_str()))
            );
        }
        let drawn = cohorts.iter().min().cloned().unwrap_or_default();
        let hallmark: Vec<usize> = c.rows_where("collection", "hallmark").into_iter().filter(|&r| c.text(r, "cohort") == drawn).collect();
        let mut sets: Vec<String> = hallmark.iter().filter(|&&r| c.text(r, "method") == "ssgsea").map(|&r| c.text(r, "gene_set")).collect();
        let diff_of = |set: &str, method: &str| {
            hallmark.iter().find(|&&r| c.text(r, "gene_set") == set && c.text(r, "method") == method).map_or(f64::NAN, |&r| {
                let q = c.num(r, "mann_whitney_fdr");
                // NaN stays NaN (grey), not -log10 of the floor
                if q.is_finite() { c.num(r, "difference").signum() * -q.max(1e-300).log10() } else { f64::NAN }
            })
        };
        sets.sort_by(|a, b| diff_of(b, "ssgsea").total_cmp(&diff_of(a, "ssgsea")));
        let methods = ["ssgsea".to_string(), "gsva".to_string()];
        let values: Vec<Vec<f64>> = sets.iter().map(|s| methods.iter().map(|m| diff_of(s, m)).collect()).collect();
        let names: Vec<String> = sets.iter().map(|s| s.trim_start_matches("HALLMARK_").to_string()).collect();
        body += "<div class=\"figs\">";
        body += &heatmap("High vs low: signed \u{2212}log10 FDR", &names, &methods, &values, 8.0, "sign(diff) \u{00d7} \u{2212}log10 FDR");
        body += &pathway_samples(source);
        body += "</div>";
        let top: Vec<usize> = hallmark.iter().copied().filter(|&r| c.num(r, "mann_whitney_fdr") < 0.05).collect();
        body += &format!("<p>{} of {} set \u{00d7} method comparisons with FDR below 0.05:</p>", top.len(), hallmark.len());
        body += &table(&header(&["cohort", "method", "gene set"]), &comparison_rows(&c, &top, &["cohort", "method", "gene_set"]));
        let immune = c.rows_where("collection", "immune");
        if !immune.is_empty() {
            body += "<h3>Immune microenvironment (bulk, ssGSEA of marker sets)</h3>";
            body += &table(&header(&["cohort", "gene set"]), &comparison_rows(&c, &immune, &["cohort", "gene_set"]));
        }
        let estimate = c.rows_where("collection", "estimate");
        if !estimate.is_empty() {
            body += "<h3>Stromal and immune scores (bulk, ESTIMATE signatures, raw ssGSEA enrichment)</h3>";
            body += &table(&header(&["cohort", "score"]), &comparison_rows(&c, &estimate, &["cohort", "gene_set"]));
        }
    }
    body += "<h3>Differential expression (bulk)</h3>";
    if let Some(de) = rows(
        source,
        "SELECT gene, log2_fold_change, mann_whitney_p, mann_whitney_fdr FROM differential_expression WHERE cohort = (SELECT min(cohort) FROM differential_expression)",
        &mut body,
    ) {
        let point = |r: usize| {
            let p = de.num(r, "mann_whitney_p");
            (de.num(r, "log2_fold_change"), if p.is_finite() { -p.max(1e-300).log10() } else { f64::NAN })
        };
        let (sig, rest): (Vec<usize>, Vec<usize>) = (0..de.len()).partition(|&r| de.num(r, "mann_whitney_fdr") < 0.05);
        let plot = Plot {
            title: format!("Volcano: {} genes, {} with FDR < 0.05", de.len(), sig.len()),
            x_label: "log2 fold change (high / low)".into(),
            y_label: "\u{2212}log10 p (Mann-Whitney)".into(),
            x_range: None,
            y_range: None,
            series: vec![
                Series {
                    label: "FDR \u{2265} 0.05".into(),
                    points: rest.iter().map(|&r| point(r)).collect(),
                    markers: true,
                    ..Default::default()
                },
                Series { label: "FDR < 0.05".into(), points: sig.iter().map(|&r| point(r)).collect(), markers: true, ..Default::default() },
            ],
            diagonal: false,
        };
        body += &plot.svg();
    }
    body += "<h3>Single cell: scores by cell type (patient means)</h3>";
    if let Some(c) = rows(source, "SELECT * FROM cell_type_comparison ORDER BY score DESC, cell_type", &mut body) {
        if let Some(m) = rows(
            source,
            "SELECT cohort, score, cell_type, patient_id, \"group\", mean FROM cell_type_scores ORDER BY cohort, \"group\", patient_id",
            &mut body,
        ) {
            // one figure per cohort and score: patients of two cohorts may share an id
            let cohorts = m.distinct("cohort");
            body += "<div class=\"figs\">";
            for cohort in &cohorts {
                for score in ["hypoxia", "cytotoxicity"] {
                    let title = if cohorts.len() > 1 { format!("{cohort}, {score}") } else { score.to_string() };
                    body += &cell_heatmap(&m, cohort, score, &title);
                }
            }
            body += "</div>";
        }
        let all: Vec<usize> = (0..c.len()).collect();
        body += "<p class=\"note\">Tests on the patients' mean score per cell type (cells of one patient are not independent); the cell-level rank-biserial correlation is beside them.</p>";
        let mut t = comparison_rows(&c, &all, &["cohort", "score", "cell_type"]);
        for (row, &r) in t.iter_mut().zip(&all) {
            row.push(format!("{}/{}", num(c.num(r, "cells_high"), 0), num(c.num(r, "cells_low"), 0)));
            row.push(num(c.num(r, "cell_rank_biserial"), 2));
        }
        let mut h = header(&["cohort", "score", "cell type"]);
        h.extend(["cells high/low", "cell rank-biserial"]);
        body += &table(&h, &t);
    }
    body += "<h3>Biomarkers</h3>";
    if let Some(b) = rows(source, "SELECT * FROM biomarker_comparison ORDER BY biomarker", &mut body) {
        let all: Vec<usize> = (0..b.len()).collect();
        let mut t = comparison_rows(&b, &all, &["cohort", "biomarker"]);
        for (row, &r) in t.iter_mut().zip(&all) {
            row.push(num(b.num(r, "spearman_rho"), 2));
            row.push(p_value(b.num(r, "spearman_p")));
        }
        let mut h = header(&["cohort", "biomarker"]);
        h.extend(["Spearman rho with the score", "p"]);
        body += &table(&h, &t);
    }
    Section { id: "biology", title: "Biology of the high-score group".into(), body }
}

/// The bulk samples' ssGSEA scores, z-scored per set, patients ordered by group.
fn pathway_samples(source: &dyn Source) -> String {
    let Ok(p) = source.query("SELECT gene_set, patient_id, \"group\", score FROM pathway_scores WHERE collection = 'hallmark' AND method = 'ssgsea' AND cohort = (SELECT min(cohort) FROM pathway_scores) ORDER BY \"group\", patient_id, gene_set") else {
        return String::new();
    };
    let patients = p.distinct("patient_id");
    let high = patients.iter().filter(|id| p.rows_where("patient_id", id).first().is_some_and(|&r| p.text(r, "group") == "high")).count();
    let sets = {
        let mut s = p.distinct("gene_set");
        s.sort();
        s
    };
    let mut values = vec![vec![f64::NAN; patients.len()]; sets.len()];
    for r in 0..p.len() {
        let (Some(i), Some(j)) =
            (sets.iter().position(|s| *s == p.text(r, "gene_set")), patients.iter().position(|x| *x == p.text(r, "patient_id")))
        else {
            continue;
        };
        values[i][j] = p.num(r, "score");
    }
    // sets by how much higher they are in the high group (its patients are the first `high` columns)
    let gap = |row: &[f64]| {
        row[..high].iter().sum::<f64>() / high.max(1) as f64 - row[high..].iter().sum::<f64>() / (row.len() - high).max(1) as f64
    };
    let mut order: Vec<usize> = (0..sets.len()).collect();
    order.sort_by(|&a, &b| gap(&values[b]).total_cmp(&gap(&values[a])));
    let sets: Vec<String> = order.iter().map(|&i| sets[i].clone()).collect();
    let mut values: Vec<Vec<f64>> = order.iter().map(|&i| values[i].clone()).collect();
    for row in values.iter_mut() {
        let n = row.len() as f64;
        let mean = row.iter().sum::<f64>() / n;
        let sd = (row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        row.iter_mut().for_each(|v| *v = if sd > 0.0 { (*v - mean) / sd } else { 0.0 });
    }
    let names: Vec<String> = sets.iter().map(|s| s.trim_start_matches("HALLMARK_").to_string()).collect();
    heatmap(&format!("ssGSEA z-scores: {high} high | {} low patients", patients.len() - high), &names, &patients, &values, 2.0, "z-score")
}

/// Patient means of one score per cell type in one cohort, centred per cell type, patients ordered
/// by group.
fn cell_heatmap(m: &Frame, cohort: &str, score: &str, title: &str) -> String {
    let rs: Vec<usize> = m.rows_where("score", score).into_iter().filter(|&r| m.text(r, "cohort") == cohort).collect();
    if rs.is_empty() {
        return String::new();
    }
    let mut patients: Vec<(String, String)> = Vec::new();
    for &r in &rs {
        let p = (m.text(r, "group"), m.text(r, "patient_id"));
        if !patients.contains(&p) {
            patients.push(p);
        }
    }
    patients.sort();
    let types = {
        let mut t: Vec<String> = rs.iter().map(|&r| m.text(r, "cell_type")).collect();
        t.sort();
        t.dedup();
        t
    };
    let mut values = vec![vec![f64::NAN; patients.len()]; types.len()];
    for &r in &rs {
        let i = types.iter().position(|t| *t == m.text(r, "cell_type")).unwrap_or(0);
        let j = patients.iter().position(|p| p.1 == m.text(r, "patient_id")).unwrap_or(0);
        values[i][j] = m.num(r, "mean");
    }
    for row in values.iter_mut() {
        let f: Vec<f64> = row.iter().copied().filter(|v| v.is_finite()).collect();
        let mean = f.iter().sum::<f64>() / f.len().max(1) as f64;
        row.iter_mut().for_each(|v| *v -= mean);
    }
    let columns: Vec<String> = patients.iter().map(|(g, p)| format!("{p} ({g})")).collect();
    let limit = values.iter().flatten().filter(|v| v.is_finite()).fold(0.0f64, |a, v| a.max(v.abs())).max(1e-6);
    let limit = (limit * 100.0).ceil() / 100.0;
    heatmap(&format!("{title}: patient mean \u{2212} cell-type mean"), &types, &columns, &values, limit, "score difference")
}
