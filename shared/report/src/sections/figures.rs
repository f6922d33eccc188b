//! The figures of the clinical-radiologic model: Kaplan-Meier curves per cohort by risk group with
//! numbers at risk and the log-rank p, the time-dependent AUC of the main models, calibration at
//! the study's month, decision curves, the forest plot of the CRM and its nomogram.

use std::fmt::Write as _;

use super::models::metric;
use super::{cohort_order, rows};
use crate::Source;
use crate::frame::Frame;
use crate::html::{Section, escape, num, p_value, table};
use crate::svg::{PALETTE, Plot, Series, forest};

const GROUPS: [&str; 3] = ["low", "intermediate", "high"];

/// The section.
pub fn section(source: &dyn Source) -> Section {
    let mut body = String::new();
    let metrics = rows(source, "SELECT cohort, role, model, metric, value, ci_lower, ci_upper FROM metrics", &mut body).unwrap_or_default();
    // cohorts in the study's order; those without metrics after them
    let order = cohort_order(&metrics);
    let ordered = |present: Vec<String>| -> Vec<String> {
        let mut v: Vec<String> = order.iter().filter(|c| present.contains(c)).cloned().collect();
        v.extend(present.into_iter().filter(|c| !order.contains(c)));
        v
    };
    body += "<h3>Kaplan-Meier by CRM risk group</h3><div class=\"figs\">";
    if let Some(km) = rows(
        source,
        "SELECT cohort, \"group\", time, survival, at_risk, ci_lower, ci_upper FROM km_curves WHERE model = 'crm' ORDER BY cohort, \"group\", time",
        &mut body,
    ) {
        for cohort in ordered(km.distinct("cohort")) {
            body += &km_figure(&km, &metrics, &cohort);
        }
    }
    body += "</div><h3>Time-dependent ROC</h3><p class=\"note\">Cumulative/dynamic ROC curves at the middle of the study's months (cases: death by then, controls: alive after; inverse-probability-of-censoring weights from training), then the AUC at every month.</p><div class=\"figs\">";
    if let Some(roc) = rows(
        source,
        "SELECT cohort, model, months, fpr, tpr FROM roc_curves WHERE model IN ('crm', 'lfm', 'efm', 'hap', 'bclc') ORDER BY cohort, model, months, fpr, tpr",
        &mut body,
    ) {
        let months: Vec<f64> = {
            let mut m: Vec<f64> = (0..roc.len()).map(|r| roc.num(r, "months")).collect();
            m.sort_by(f64::total_cmp);
            m.dedup();
            m
        };
        let t = months.get(months.len() / 2).copied().unwrap_or(f64::NAN);
        for cohort in ordered(roc.distinct("cohort")) {
            let rs: Vec<usize> = roc.rows_where("cohort", &cohort).into_iter().filter(|&r| roc.num(r, "months") == t).collect();
            let series: Vec<Series> = ["crm", "lfm", "efm", "hap", "bclc"]
                .iter()
                .filter_map(|model| {
                    let points: Vec<(f64, f64)> =
                        rs.iter().filter(|&&r| roc.text(r, "model") == *model).map(|&r| (roc.num(r, "fpr"), roc.num(r, "tpr"))).collect();
                    let auc = metric(&metrics, &cohort, model, &format!("auc_{t:.0}")).0;
                    (!points.is_empty()).then(|| Series { label: format!("{model} {}", num(auc, 3)), points, ..Default::default() })
                })
                .collect();
            body += &Plot {
                title: format!("{cohort}: death by {t} months"),
                x_label: "1 \u{2212} specificity".into(),
                y_label: "sensitivity".into(),
                x_range: Some((0.0, 1.0)),
                y_range: Some((0.0, 1.0)),
                series,
                diagonal: true,
            }
            .svg();
        }
    }
    body += "</div><div class=\"figs\">";
    for cohort in order.iter() {
        // the ROC figures' order first, so that a model keeps its colour
        let series: Vec<Series> = ["crm", "lfm", "efm", "hap", "bclc", "deep", "radiomic"]
            .iter()
            .filter_map(|model| {
                let points: Vec<(f64, f64)> = (0..metrics.len())
                    .filter(|&r| {
                        metrics.text(r, "cohort") == *cohort
                            && metrics.text(r, "model") == *model
                            && metrics.text(r, "metric").starts_with("auc_")
                    })
                    .filter_map(|r| Some((metrics.text(r, "metric")[4..].parse().ok()?, metrics.num(r, "value"))))
                    .collect();
                (!points.is_empty()).then(|| Series { label: model.to_string(), points, ..Default::default() })
            })
            .collect();
        if !series.is_empty() {
            body += &Plot {
                title: format!("{cohort}: AUC(t)"),
                x_label: "months".into(),
                y_label: "AUC".into(),
                x_range: None,
                y_range: Some((0.4, 1.0)),
                series,
                diagonal: false,
            }
            .svg();
        }
    }
    body += "</div><h3>Calibration of the CRM</h3><div class=\"figs\">";
    if let Some(cal) = rows(
        source,
        "SELECT cohort, \"group\", months, n, predicted, observed, observed_lower, observed_upper FROM calibration WHERE model = 'crm' AND grouping = 'quantile' ORDER BY cohort, \"group\"",
        &mut body,
    ) {
        for cohort in ordered(cal.distinct("cohort")) {
            let rs = cal.rows_where("cohort", &cohort);
            let months = cal.num(rs[0], "months");
            let s = Series {
                label: "quantiles".into(),
                points: rs.iter().map(|&r| (cal.num(r, "predicted"), cal.num(r, "observed"))).collect(),
                bounds: rs.iter().map(|&r| (cal.num(r, "observed_lower"), cal.num(r, "observed_upper"))).collect(),
                markers: true,
                ..Default::default()
            };
            body += &Plot {
                title: format!("{cohort}: S({months} mo)"),
                x_label: "predicted survival".into(),
                y_label: "observed (Kaplan-Meier)".into(),
                x_range: Some((0.0, 1.0)),
                y_range: Some((0.0, 1.0)),
                series: vec![s],
                diagonal: true,
            }
            .svg();
        }
    }
    body += "</div><h3>Decision curves</h3><div class=\"figs\">";
    if let Some(dc) = rows(
        source,
        "SELECT cohort, model, months, threshold, net_benefit, treat_all FROM decision_curves WHERE model IN ('crm', 'hap', 'bclc') ORDER BY cohort, model, threshold",
        &mut body,
    ) {
        for cohort in ordered(dc.distinct("cohort")) {
            body += &decision_figure(&dc, &cohort);
        }
    }
    body += "</div>";
    if let Some(c) = rows(source, "SELECT term, coef, se, p FROM model_coefficients WHERE model = 'crm' ORDER BY term", &mut body) {
        let r: Vec<(String, f64, f64, f64)> = (0..c.len())
            .map(|i| {
                (
                    c.text(i, "term"),
                    c.num(i, "coef").exp(),
                    (c.num(i, "coef") - 1.96 * c.num(i, "se")).exp(),
                    (c.num(i, "coef") + 1.96 * c.num(i, "se")).exp(),
                )
            })
            .collect();
        body += "<h3>The clinical-radiologic model</h3>";
        body += &forest("CRM: hazard ratios (95% Wald CI), per unit of each term", &r, "hazard ratio (log scale)");
        let t: Vec<Vec<String>> = (0..c.len())
            .map(|i| vec![escape(&c.text(i, "term")), num(c.num(i, "coef"), 4), num(c.num(i, "se"), 4), p_value(c.num(i, "p"))])
            .collect();
        body += &table(&["term", "coefficient", "SE", "p"], &t);
    }
    if let Some(n) = rows(source, "SELECT variable, value, points, survival_12, survival_24, survival_36 FROM nomogram", &mut body) {
        body += "<h3>Nomogram</h3>";
        body += &nomogram(&n);
    }
    Section { id: "figures", title: "Survival figures".into(), body }
}

fn km_figure(km: &Frame, metrics: &Frame, cohort: &str) -> String {
    let mut series = Vec::new();
    let mut at_risk: Vec<(String, Vec<f64>)> = Vec::new();
    let marks = [0.0, 12.0, 24.0, 36.0, 48.0, 60.0];
    for g in GROUPS {
        let rs: Vec<usize> = km.rows_where("cohort", cohort).into_iter().filter(|&r| km.text(r, "group") == g).collect();
        if rs.is_empty() {
            continue;
        }
        series.push(Series {
            label: g.into(),
            points: rs.iter().map(|&r| (km.num(r, "time"), km.num(r, "survival"))).collect(),
            bounds: rs.iter().map(|&r| (km.num(r, "ci_lower"), km.num(r, "ci_upper"))).collect(),
            step: true,
            ..Default::default()
        });
        // at risk at each mark: the first row at or after it (none after the last time: 0)
        let counts = marks.iter().map(|&t| rs.iter().find(|&&r| km.num(r, "time") >= t).map_or(0.0, |&r| km.num(r, "at_risk"))).collect();
        at_risk.push((g.into(), counts));
    }
    let p = metric(metrics, cohort, "crm", "logrank_p").0;
    let plot = Plot {
        title: format!("{cohort} (log-rank p = {})", p_value(p)),
        x_label: "months".into(),
        y_label: "overall survival".into(),
        x_range: Some((0.0, 60.0)),
        y_range: Some((0.0, 1.0)),
        series,
        diagonal: false,
    };
    let mut s = format!("<div>{}", plot.svg());
    let header: Vec<String> = std::iter::once("at risk".to_string()).chain(marks.iter().map(|m| format!("{m}"))).collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let r: Vec<Vec<String>> = at_risk
        .iter()
        .enumerate()
        .map(|(k, (g, c))| {
            std::iter::once(format!("<span style=\"color:{}\">{}</span>", PALETTE[k], escape(g)))
                .chain(c.iter().map(|v| num(*v, 0)))
                .collect()
        })
        .collect();
    let _ = write!(s, "{}</div>", table(&header, &r));
    s
}

fn decision_figure(dc: &Frame, cohort: &str) -> String {
    let rs = dc.rows_where("cohort", cohort);
    let mut series: Vec<Series> = Vec::new();
    for model in ["crm", "hap", "bclc"] {
        let m: Vec<usize> = rs.iter().copied().filter(|&r| dc.text(r, "model") == model).collect();
        if m.is_empty() {
            continue;
        }
        series.push(Series {
            label: model.into(),
            points: m.iter().map(|&r| (dc.num(r, "threshold"), dc.num(r, "net_benefit"))).collect(),
            ..Default::default()
        });
        if model == "crm" {
            series.push(Series {
                label: "treat all".into(),
                points: m.iter().map(|&r| (dc.num(r, "threshold"), dc.num(r, "treat_all"))).collect(),
                dashed: true,
                ..Default::default()
            });
            series.push(Series { label: "treat none".into(), points: vec![(0.0, 0.0), (1.0, 0.0)], dashed: true, ..Default::default() });
        }
    }
    let months = rs.first().map_or(f64::NAN, |&r| dc.num(r, "months"));
    let top = series.iter().flat_map(|s| s.points.iter().map(|p| p.1)).filter(|v| v.is_finite()).fold(0.05, f64::max);
    Plot {
        title: format!("{cohort}: death by {months} months"),
        x_label: "threshold probability".into(),
        y_label: "net benefit".into(),
        x_range: Some((0.0, 1.0)),
        y_range: Some((-0.05, top)),
        series,
        diagonal: false,
    }
    .svg()
}

/// The nomogram drawn as points scales: one axis per variable with its values where their points
/// fall, then the survival the total points predict.
fn nomogram(n: &Frame) -> String {
    let vars: Vec<String> = n.distinct("variable").into_iter().filter(|v| v != "total").collect();
    let (left, width, row) = (170.0, 460.0, 40.0);
    let h = 40.0 + row * (vars.len() + 1) as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {0} {h}" width="{0}" height="{h}" role="img"><title>Nomogram</title>"#,
        left + width + 40.0
    );
    let max_points = (0..n.len()).map(|r| n.num(r, "points")).filter(|v| v.is_finite()).fold(0.0, f64::max).max(1.0);
    let px = |p: f64| left + p / max_points * width;
    let _ = write!(
        s,
        r#"<text x="10" y="24" class="hr" style="text-anchor:start">points</text><line x1="{left}" x2="{}" y1="20" y2="20" stroke="dimgray"/>"#,
        left + width
    );
    for k in 0..=10 {
        let p = max_points * k as f64 / 10.0;
        let _ = write!(
            s,
            r#"<line x1="{0:.1}" x2="{0:.1}" y1="16" y2="20" stroke="dimgray"/><text x="{0:.1}" y="13" class="xt">{1:.0}</text>"#,
            px(p),
            p
        );
    }
    for (i, v) in vars.iter().enumerate() {
        let y = 40.0 + row * (i as f64 + 0.5);
        let rs = n.rows_where("variable", v);
        let mut pts: Vec<(f64, String)> =
            rs.iter().map(|&r| (n.num(r, "points"), num(n.num(r, "value"), 2))).filter(|p| p.0.is_finite()).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (lo, hi) = pts.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let _ = write!(s, r#"<text x="{}" y="{:.1}" class="hr">{}</text>"#, left - 10.0, y + 4.0, escape(v));
        if lo.is_finite() {
            let _ = write!(
                s,
                r#"<line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="2"/>"#,
                px(lo),
                px(hi),
                PALETTE[0]
            );
        }
        let mut last = f64::NEG_INFINITY;
        for (p, label) in &pts {
            // a label only where it does not overlap the one before
            if px(*p) - last < 34.0 {
                let _ = write!(s, r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="dimgray"/>"#, px(*p), y - 3.0, y + 3.0);
                continue;
            }
            last = px(*p);
            let _ = write!(
                s,
                r#"<line x1="{0:.1}" x2="{0:.1}" y1="{1:.1}" y2="{2:.1}" stroke="dimgray"/><text x="{0:.1}" y="{3:.1}" class="xt">{4}</text>"#,
                px(*p),
                y - 4.0,
                y + 4.0,
                y + 16.0,
                escape(label)
            );
        }
    }
    s += "</svg>";
    // the survival scale, as a table: total points -> S(12, 24, 36)
    let surv: Vec<usize> = (0..n.len()).filter(|&r| n.num(r, "survival_12").is_finite() || n.num(r, "survival_24").is_finite()).collect();
    if !surv.is_empty() {
        let t: Vec<Vec<String>> = surv
            .iter()
            .map(|&r| {
                vec![
                    escape(&n.text(r, "variable")),
                    num(n.num(r, "value"), 2),
                    num(n.num(r, "points"), 1),
                    num(n.num(r, "survival_12"), 3),
                    num(n.num(r, "survival_24"), 3),
                    num(n.num(r, "survival_36"), 3),
                ]
            })
            .collect();
        s += &table(&["scale", "total points", "linear predictor", "S(12 mo)", "S(24 mo)", "S(36 mo)"], &t);
    }
    s
}
