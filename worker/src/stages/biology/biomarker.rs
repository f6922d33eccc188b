//! The biomarker cohort: every numeric column of the biomarker table (besides `patient_id`)
//! compared between the groups and correlated with the fusion score (Spearman's rho, its p from
//! the t distribution with n - 2 degrees of freedom, as `scipy.stats.spearmanr`). An unreadable
//! value is listed in `exclusions` with its patient, file and column, and left out of that
//! biomarker only.

use tacefusion_core::Table as CsvTable;
use tacefusion_omics::compare::t_two_sided_p;
use tacefusion_survival::ranks::average_ranks;

use super::{Groups, compare, parquet, with_comparisons};
use crate::executor::{ExecError, OutputFile, text};
use crate::stages::Exclusions;
use crate::tables::{Column, Table};

/// Spearman's rho and its two-sided p (NaN below 3 pairs or with a constant side).
pub fn spearman(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len();
    if n < 3 {
        return (f64::NAN, f64::NAN);
    }
    let (rx, ry) = (average_ranks(x), average_ranks(y));
    let mean = (n as f64 + 1.0) / 2.0;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mean) * (b - mean);
        sxx += (a - mean) * (a - mean);
        syy += (b - mean) * (b - mean);
    }
    if sxx == 0.0 || syy == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let rho = sxy / (sxx * syy).sqrt();
    if rho.abs() >= 1.0 {
        return (rho.clamp(-1.0, 1.0), 0.0);
    }
    let df = n as f64 - 2.0;
    (rho, t_two_sided_p(rho * (df / (1.0 - rho * rho)).sqrt(), df))
}

pub(super) fn run(spec: &serde_json::Value, cohort: &str, groups: &Groups) -> Result<Vec<OutputFile>, ExecError> {
    let path = text(spec, "biomarkers")?;
    let t = CsvTable::from_csv_path(path).map_err(|e| ExecError::BadInput(e.to_string()))?;
    let ids = t.text_column("patient_id").map_err(|e| ExecError::BadInput(e.to_string()))?;
    let mut ex = Exclusions::of("biology");
    for id in ids.iter().filter(|id| !groups.of.contains_key(**id)) {
        ex.add(cohort, id, path, "patient_id", "no_fusion_score", format!("patient {id}: no {} score, so in neither group", groups.model));
    }
    let (mut names, mut rows, mut rho, mut rho_p) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for column in t.header().iter().filter(|c| c.as_str() != "patient_id") {
        let (mut high, mut low, mut score, mut value) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let cells = t.text_column(column).map_err(|e| ExecError::BadInput(e.to_string()))?;
        // a column without a single number (a site, a date) is not a biomarker: listed once
        if !cells.iter().any(|c| c.trim().parse::<f64>().is_ok_and(f64::is_finite)) {
            ex.add(cohort, "", path, column, "not_numeric", format!("column {column} holds no number: not compared"));
            continue;
        }
        for (k, id) in ids.iter().enumerate() {
            let Some(&(s, is_high)) = groups.of.get(*id) else { continue };
            let cell = cells[k].trim();
            if tacefusion_core::table::MISSING_SPELLINGS.contains(&cell) {
                continue;
            }
            match cell.parse::<f64>() {
                Ok(v) if v.is_finite() => {
                    if is_high {
                        high.push(v)
                    } else {
                        low.push(v)
                    }
                    score.push(s);
                    value.push(v);
                }
                _ => ex.add(cohort, id, path, column, "invalid_value", format!("line {}: {cell:?} is not a number", t.line_of(k))),
            }
        }
        let (r, p) = spearman(&score, &value);
        names.push(column.clone());
        rows.push(compare(&high, &low));
        rho.push(r);
        rho_p.push(p);
    }
    if names.is_empty() {
        return Err(ExecError::BadInput(format!("{path}: no biomarker column besides patient_id")));
    }
    let labels =
        Table::default().with("cohort", Column::Text(vec![cohort.to_string(); names.len()])).with("biomarker", Column::Text(names.clone()));
    let table = with_comparisons(labels, &rows, &vec![String::new(); names.len()])
        .with("spearman_rho", Column::Float(rho))
        .with("spearman_p", Column::Float(rho_p));
    let mut out = vec![parquet("biomarker_comparison", table)?];
    out.extend(ex.file()?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_meets_known_values() {
        // monotone: rho 1; reversed: -1
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 30.0, 45.0]).0, 1.0);
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]).0, -1.0);
        // scipy.stats.spearmanr([1,2,3,4,5], [2,1,4,3,5]) = (0.8, 0.10397...)
        let (rho, p) = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 5.0]);
        assert!((rho - 0.8).abs() < 1e-12);
        assert!((p - 0.10408803866182788).abs() < 1e-9, "{p}");
        assert!(spearman(&[1.0, 2.0], &[1.0, 2.0]).0.is_nan());
    }
}
