//! The cohorts side by side (Table 1, with the number missing of each characteristic) and the
//! exclusion flow with its reasons.

use super::{cohort_order, quartiles, rows};
use crate::Source;
use crate::frame::Frame;
use crate::html::{Section, escape, num, table};

/// The section.
pub fn section(source: &dyn Source) -> Section {
    let mut body = String::new();
    if let Some(p) = rows(source, "SELECT * FROM patients ORDER BY cohort, patient_id", &mut body) {
        body += "<h3>Table 1. Characteristics by cohort</h3>";
        body += &table_one(&p);
    }
    body += "<h3>Exclusions</h3>";
    if let Some(e) = rows(
        source,
        "SELECT cohort, stage, kind, count(*) AS n FROM exclusions GROUP BY cohort, stage, kind ORDER BY cohort, stage, kind",
        &mut body,
    ) {
        let r: Vec<Vec<String>> = (0..e.len())
            .map(|i| vec![escape(&e.text(i, "cohort")), escape(&e.text(i, "stage")), escape(&e.text(i, "kind")), num(e.num(i, "n"), 0)])
            .collect();
        body += "<p class=\"note\">Rows of the clinical tables excluded at ingest (with the reason), patients whose CT could not be read, patients a fusion model could not score (one row each, naming the models), and omics samples or cells that could not be placed; every row with its file and field is in the <code>exclusions</code> table.</p>";
        body += &table(&["cohort", "stage", "reason", "n"], &r);
    }
    Section { id: "cohorts", title: "Cohorts".into(), body }
}

fn table_one(p: &Frame) -> String {
    let cohorts = cohort_order(p);
    let of = |c: &str| p.rows_where("cohort", c);
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut line = |label: &str, cell: &dyn Fn(&[usize]) -> String| {
        let mut r = vec![escape(label)];
        r.extend(cohorts.iter().map(|c| cell(&of(c))));
        out.push(r);
    };
    let missing = |rs: &[usize], col: &str| {
        rs.iter()
            .filter(|&&r| {
                let t = p.text(r, col);
                t.is_empty() || t == "NaN"
            })
            .count()
    };
    let with_missing = |s: String, m: usize| if m > 0 { format!("{s} <span class=\"note\">(missing {m})</span>") } else { s };
    let count = |rs: &[usize], col: &str, value: &str| {
        let k = rs.iter().filter(|&&r| p.text(r, col) == value).count();
        with_missing(format!("{k} ({:.1}%)", 100.0 * k as f64 / rs.len().max(1) as f64), missing(rs, col))
    };
    let median = |rs: &[usize], col: &str, digits: usize| {
        let v: Vec<f64> = rs.iter().map(|&r| p.num(r, col)).collect();
        let s = quartiles(&v).map_or("\u{2014}".into(), |(m, a, b)| format!("{} [{}, {}]", num(m, digits), num(a, digits), num(b, digits)));
        with_missing(s, v.iter().filter(|x| !x.is_finite()).count())
    };
    line("patients", &|rs| rs.len().to_string());
    line("deaths, n (%)", &|rs| count(rs, "death", "true"));
    line("observed time (death or last follow-up), months, median [IQR]", &|rs| median(rs, "os_months", 1));
    line("age, years, median [IQR]", &|rs| median(rs, "age", 0));
    line("male, n (%)", &|rs| count(rs, "sex", "M"));
    for a in p.distinct("aetiology").iter().filter(|a| !a.is_empty()) {
        line(&format!("aetiology {a}, n (%)"), &|rs| count(rs, "aetiology", a));
    }
    line("albumin, g/L", &|rs| median(rs, "albumin_g_l", 1));
    line("bilirubin, \u{00b5}mol/L", &|rs| median(rs, "bilirubin_umol_l", 1));
    line("AFP, ng/mL", &|rs| median(rs, "afp_ng_ml", 1));
    line("INR", &|rs| median(rs, "inr", 2));
    line("ascites present, n (%)", &|rs| {
        let k = rs.iter().filter(|&&r| !p.text(r, "ascites").is_empty() && p.text(r, "ascites") != "none").count();
        format!("{k} ({:.1}%)", 100.0 * k as f64 / rs.len().max(1) as f64)
    });
    for e in ["0", "1", "2"] {
        line(&format!("ECOG {e}, n (%)"), &|rs| count(rs, "ecog", e));
    }
    line("tumour number", &|rs| median(rs, "tumour_number", 0));
    line("largest diameter, cm", &|rs| median(rs, "largest_diameter_cm", 1));
    line("portal vein tumour thrombus, n (%)", &|rs| count(rs, "pvtt", "true"));
    line("extrahepatic spread, n (%)", &|rs| count(rs, "extrahepatic_spread", "true"));
    let header: Vec<&str> = std::iter::once("").chain(cohorts.iter().map(String::as_str)).collect();
    table(&header, &out)
}
