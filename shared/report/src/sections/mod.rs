//! The report's sections, one module each; every section says so when its tables are absent
//! (a study without omics cohorts has no biology) instead of failing the report.

pub mod biology;
pub mod cohorts;
pub mod figures;
pub mod models;
pub mod run;

use crate::Source;
use crate::frame::Frame;
use crate::html::escape;

/// Runs a query; on error, a note naming what is missing.
pub(crate) fn rows(source: &dyn Source, sql: &str, body: &mut String) -> Option<Frame> {
    match source.query(sql) {
        Ok(f) => Some(f),
        Err(e) => {
            body.push_str(&format!("<p class=\"note\">Not in these results: {}</p>", escape(&e)));
            None
        }
    }
}

/// Cohorts in the study's order of roles (training, internal and external validation, then the
/// omics cohorts), by name within a role; `f` has `cohort` and `role` columns.
pub(crate) fn cohort_order(f: &Frame) -> Vec<String> {
    const ROLES: [&str; 6] = ["training", "internal_validation", "external_validation", "biomarker", "bulk", "singlecell"];
    let mut cohorts: Vec<(usize, String)> = Vec::new();
    for r in 0..f.len() {
        let c = f.text(r, "cohort");
        if !cohorts.iter().any(|x| x.1 == c) {
            let role = f.text(r, "role");
            cohorts.push((ROLES.iter().position(|x| *x == role).unwrap_or(ROLES.len()), c));
        }
    }
    cohorts.sort();
    cohorts.into_iter().map(|c| c.1).collect()
}

/// Median and quartiles (linear interpolation between order statistics, as numpy's default).
pub(crate) fn quartiles(values: &[f64]) -> Option<(f64, f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let at = p * (v.len() - 1) as f64;
        let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
    };
    Some((q(0.5), q(0.25), q(0.75)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quartiles_interpolate_as_numpy() {
        // numpy.percentile([1, 2, 3, 4], [50, 25, 75]) = 2.5, 1.75, 3.25
        assert_eq!(quartiles(&[4.0, 1.0, 3.0, 2.0, f64::NAN]), Some((2.5, 1.75, 3.25)));
        assert_eq!(quartiles(&[]), None);
    }
}
