//! The model comparison: per cohort, every model's Harrell's C with its bootstrap interval, Uno's
//! C, the time-dependent AUCs, the Brier score and the paired bootstrap test against the CRM.

use super::{cohort_order, rows};
use crate::Source;
use crate::frame::Frame;
use crate::html::{Section, escape, num, p_value, table};

/// Display order of the models: the study's, then the clinical scores, then the planted truth.
pub const MODELS: [&str; 13] =
    ["deep", "radiomic", "efm", "lfm", "crm", "hap", "mhap2", "six_twelve", "up_to_seven", "albi", "child_pugh", "bclc", "oracle"];

/// A metric of (cohort, model): value and interval.
pub fn metric(m: &Frame, cohort: &str, model: &str, name: &str) -> (f64, f64, f64) {
    (0..m.len())
        .find(|&r| m.text(r, "cohort") == cohort && m.text(r, "model") == model && m.text(r, "metric") == name)
        .map_or((f64::NAN, f64::NAN, f64::NAN), |r| (m.num(r, "value"), m.num(r, "ci_lower"), m.num(r, "ci_upper")))
}

/// The section.
pub fn section(source: &dyn Source) -> Section {
    let mut body = String::from(
        "<p class=\"note\">Harrell's C with its 95% bootstrap percentile interval; Uno's C and the time-dependent AUC with censoring from the training cohort; p vs CRM: paired bootstrap test of C(CRM) \u{2212} C(model) on the patients both score. <code>oracle</code>: the planted risk of a synthetic study.</p>",
    );
    if let Some(m) = rows(source, "SELECT cohort, role, model, metric, value, ci_lower, ci_upper FROM metrics", &mut body) {
        let months: Vec<String> = {
            let mut v: Vec<String> = m.distinct("metric").into_iter().filter(|x| x.starts_with("auc_")).collect();
            v.sort_by(|a, b| a[4..].parse::<f64>().unwrap_or(0.0).total_cmp(&b[4..].parse::<f64>().unwrap_or(0.0)));
            v
        };
        // the Brier score is at the study's calibration time: brier_<months>
        let brier = m.distinct("metric").into_iter().find(|x| x.starts_with("brier_"));
        let brier_header = brier.as_ref().map_or("Brier".to_string(), |b| format!("Brier {} mo", &b[6..]));
        for cohort in cohort_order(&m) {
            let models: Vec<&str> =
                MODELS.iter().copied().filter(|x| m.rows_where("cohort", &cohort).iter().any(|&r| m.text(r, "model") == *x)).collect();
            let mut out = Vec::new();
            for model in models {
                let (c, lo, hi) = metric(&m, &cohort, model, "harrell_c");
                let mut r = vec![
                    format!("<b>{}</b>", escape(model)),
                    num(metric(&m, &cohort, model, "n").0, 0),
                    format!("{} ({}\u{2013}{})", num(c, 3), num(lo, 3), num(hi, 3)),
                    num(metric(&m, &cohort, model, "uno_c").0, 3),
                ];
                r.extend(months.iter().map(|a| num(metric(&m, &cohort, model, a).0, 3)));
                r.push(brier.as_ref().map_or("\u{2014}".into(), |b| num(metric(&m, &cohort, model, b).0, 3)));
                r.push(if model == "crm" { String::new() } else { p_value(metric(&m, &cohort, model, "p_vs_crm").0) });
                out.push(r);
            }
            let auc_names: Vec<String> = months.iter().map(|a| format!("AUC {} mo", &a[4..])).collect();
            let mut header = vec!["model", "n", "Harrell's C (95% CI)", "Uno's C"];
            header.extend(auc_names.iter().map(String::as_str));
            header.extend([brier_header.as_str(), "p vs CRM"]);
            body += &format!("<h3>{}</h3>", escape(&cohort));
            body += &table(&header, &out);
        }
    }
    Section { id: "models", title: "Model comparison".into(), body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Cell, Frame};

    /// The metrics of one model of one cohort, as a query over `metrics` returns them.
    struct Metrics(Vec<(&'static str, f64)>);

    impl Source for Metrics {
        fn query(&self, _sql: &str) -> Result<Frame, String> {
            let columns = ["cohort", "role", "model", "metric", "value", "ci_lower", "ci_upper"].map(String::from).to_vec();
            let text = |s: &str| Cell::Text(s.into());
            let rows = self
                .0
                .iter()
                .map(|(metric, v)| {
                    vec![
                        text("train"),
                        text("training"),
                        text("crm"),
                        text(metric),
                        Cell::Num(*v),
                        Cell::Num(f64::NAN),
                        Cell::Num(f64::NAN),
                    ]
                })
                .collect();
            Ok(Frame { columns, rows })
        }
    }

    #[test]
    fn the_brier_column_is_at_the_studys_calibration_time() {
        // calibration_months = 12: the metric is brier_12 (the column used to look for brier_24 only)
        let body = section(&Metrics(vec![("n", 50.0), ("harrell_c", 0.7), ("auc_12", 0.75), ("brier_12", 0.123)])).body;
        assert!(body.contains("Brier 12 mo") && body.contains("0.123"), "{body}");
        assert!(!body.contains("Brier 24"), "{body}");
    }
}
