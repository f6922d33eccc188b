//! `biology` [one omics cohort]: the patients split by the chosen fusion score (above the cohort's
//! median: `high`, else `low`; the fusion carried into the CRM, `efm` or `lfm`), then the cohort's
//! omics compared between the groups:
//!
//! - `bulk` (`bulk.rs`): Hallmark ssGSEA (gseapy's NES) and GSVA per sample, immune marker sets by
//!   ssGSEA (`pathway_scores`), each set compared (`pathway_comparison`), every gene compared
//!   (`differential_expression`), and what each set matched (`gene_set_coverage`);
//! - `singlecell` (`cells.rs`): scanpy's `score_genes` of the hypoxia set and the cytotoxicity genes
//!   in every cell (`cell_scores`), the per patient x cell type means (`cell_type_scores`) compared
//!   between the groups at the patient level, with the cell-level effect sizes beside them
//!   (`cell_type_comparison`);
//! - `biomarker` (`biomarker.rs`): each biomarker compared and correlated with the fusion score
//!   (`biomarker_comparison`).
//!
//! Every comparison has the same columns (`Comparison`): the groups' sizes and means, their
//! difference (high - low), the Mann-Whitney p (exact for small groups without ties, as scipy's
//! default) with the rank-biserial correlation (positive: higher in `high`), Welch's t and p, and
//! Benjamini-Hochberg FDRs over the table's family. Patients or samples that cannot be placed are in
//! `exclusions`.

mod biomarker;
mod bulk;
mod cells;

use std::collections::HashMap;

use tacefusion_omics::compare::{benjamini_hochberg, mann_whitney_auto, welch};

pub use bulk::read_expression;

use crate::executor::{Device, ExecError, InputFile, OutputFile, text};
use crate::tables::{Column, ReadTable, Table};

/// The study's `[omics]` settings as the planner put them in the spec (their defaults live in
/// `tacefusion_core::study::OmicsSettings`, nowhere else).
pub fn settings(spec: &serde_json::Value) -> Result<tacefusion_core::study::OmicsSettings, ExecError> {
    serde_json::from_value(spec["omics"].clone()).map_err(|e| ExecError::BadInput(format!("task spec: omics settings: {e}")))
}

/// Runs the task (single cells scored on `device`).
pub fn run(spec: &serde_json::Value, inputs: &[InputFile], device: Device) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let groups = Groups::read(inputs, cohort)?;
    let mut out = match text(spec, "kind")? {
        "bulk" => bulk::run(spec, cohort, &groups)?,
        "singlecell" => cells::run(spec, cohort, &groups, device)?,
        "biomarker" => biomarker::run(spec, cohort, &groups)?,
        other => return Err(ExecError::BadInput(format!("biology of kind {other:?}: expected bulk, singlecell or biomarker"))),
    };
    out.push(groups.table(cohort)?);
    Ok(out)
}

/// The cohort's patients split by the chosen fusion score.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// The fusion model (`efm` or `lfm`).
    pub model: String,
    /// The cut: the median of the cohort's scores.
    pub median: f64,
    /// Patient id -> (score, high).
    pub of: HashMap<String, (f64, bool)>,
    /// Ids in the predictions' order.
    pub ids: Vec<String>,
}

impl Groups {
    /// Reads the choice from `models.json` and the scores of `cohort` from the `predictions` inputs.
    pub fn read(inputs: &[InputFile], cohort: &str) -> Result<Groups, ExecError> {
        let models = inputs
            .iter()
            .find(|f| f.path.ends_with("/models.json"))
            .ok_or_else(|| ExecError::BadInput("no models.json among the inputs (the fusion models were not fitted)".into()))?;
        let json: serde_json::Value =
            serde_json::from_slice(&models.bytes).map_err(|e| ExecError::BadInput(format!("{}: {e}", models.path)))?;
        let model = json
            .get("chosen")
            .and_then(|v| v.as_str())
            .ok_or_else(|| ExecError::BadInput(format!("{}: no field \"chosen\"", models.path)))?
            .to_string();
        let mut scores = Vec::new();
        for f in inputs.iter().filter(|f| f.path.ends_with("/predictions.parquet")) {
            let t = ReadTable::read(&f.path, f.bytes.clone())?;
            let (c, p, m, r) = (t.texts("cohort")?, t.texts("patient_id")?, t.texts("model")?, t.floats("risk")?);
            scores.extend((0..t.rows()).filter(|&k| c[k] == cohort && m[k] == model).map(|k| (p[k].clone(), r[k])));
        }
        Self::split(model, scores).map_err(|e| ExecError::BadInput(format!("cohort {cohort}: {e}")))
    }

    /// Splits scored patients at the median of their scores (at it: `low`); a patient without a
    /// finite score is in neither group (the omics files' patients without a group are listed).
    pub fn split(model: String, scores: Vec<(String, f64)>) -> Result<Groups, String> {
        let scores: Vec<(String, f64)> = scores.into_iter().filter(|s| s.1.is_finite()).collect();
        if scores.len() < 2 {
            return Err(format!("{} patients with a {model} score: at least 2 to form groups", scores.len()));
        }
        let mut sorted: Vec<f64> = scores.iter().map(|s| s.1).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 };
        let ids = scores.iter().map(|s| s.0.clone()).collect();
        let of = scores.into_iter().map(|(id, s)| (id, (s, s > median))).collect();
        Ok(Groups { model, median, of, ids })
    }

    /// `fusion_groups`: each patient's score and group.
    fn table(&self, cohort: &str) -> Result<OutputFile, ExecError> {
        let n = self.ids.len();
        let t = Table::default()
            .with("cohort", Column::Text(vec![cohort.to_string(); n]))
            .with("patient_id", Column::Text(self.ids.clone()))
            .with("model", Column::Text(vec![self.model.clone(); n]))
            .with("score", Column::Float(self.ids.iter().map(|id| self.of[id].0).collect()))
            .with("median", Column::Float(vec![self.median; n]))
            .with("group", Column::Text(self.ids.iter().map(|id| group_name(self.of[id].1).to_string()).collect()));
        parquet("fusion_groups", t)
    }
}

/// `high` or `low`.
pub fn group_name(high: bool) -> &'static str {
    if high { "high" } else { "low" }
}

/// One feature compared between the groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    /// Values in `high`.
    pub n_high: usize,
    /// Values in `low`.
    pub n_low: usize,
    /// Mean in `high`.
    pub mean_high: f64,
    /// Mean in `low`.
    pub mean_low: f64,
    /// Mann-Whitney two-sided p (NaN when a group is empty, or every value is the same: such a row,
    /// a gene expressed in no sample, is tested by neither test and counted in neither FDR).
    pub mann_whitney_p: f64,
    /// Rank-biserial correlation of high against low.
    pub rank_biserial: f64,
    /// Welch's t (NaN when it is undefined: fewer than 2 values in a group, or both constant).
    pub welch_t: f64,
    /// Welch's two-sided p.
    pub welch_p: f64,
}

/// Compares `high` against `low`.
pub fn compare(high: &[f64], low: &[f64]) -> Comparison {
    let mean = |v: &[f64]| if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
    let constant = high.iter().chain(low).all(|v| Some(v) == high.first().or(low.first()));
    let (mw_p, rb) =
        mann_whitney_auto(high, low).map_or((f64::NAN, f64::NAN), |m| (if constant { f64::NAN } else { m.p }, m.rank_biserial));
    let (t, p) = welch(high, low).map_or((f64::NAN, f64::NAN), |w| (w.t, w.p));
    Comparison {
        n_high: high.len(),
        n_low: low.len(),
        mean_high: mean(high),
        mean_low: mean(low),
        mann_whitney_p: mw_p,
        rank_biserial: rb,
        welch_t: t,
        welch_p: p,
    }
}

/// `table` with the comparisons' columns appended, FDRs over the rows with the same `family`.
pub fn with_comparisons(table: Table, rows: &[Comparison], family: &[String]) -> Table {
    let mut mw_fdr = vec![f64::NAN; rows.len()];
    let mut welch_fdr = vec![f64::NAN; rows.len()];
    let mut families: Vec<&String> = family.iter().collect();
    families.sort();
    families.dedup();
    for f in families {
        let at: Vec<usize> = (0..rows.len()).filter(|&i| &family[i] == f).collect();
        let q = benjamini_hochberg(&at.iter().map(|&i| rows[i].mann_whitney_p).collect::<Vec<_>>());
        let w = benjamini_hochberg(&at.iter().map(|&i| rows[i].welch_p).collect::<Vec<_>>());
        for (k, &i) in at.iter().enumerate() {
            mw_fdr[i] = q[k];
            welch_fdr[i] = w[k];
        }
    }
    let f = |g: fn(&Comparison) -> f64| Column::Float(rows.iter().map(g).collect());
    table
        .with("n_high", Column::Int(rows.iter().map(|r| r.n_high as i64).collect()))
        .with("n_low", Column::Int(rows.iter().map(|r| r.n_low as i64).collect()))
        .with("mean_high", f(|r| r.mean_high))
        .with("mean_low", f(|r| r.mean_low))
        .with("difference", f(|r| r.mean_high - r.mean_low))
        .with("mann_whitney_p", f(|r| r.mann_whitney_p))
        .with("mann_whitney_fdr", Column::Float(mw_fdr))
        .with("rank_biserial", f(|r| r.rank_biserial))
        .with("welch_t", f(|r| r.welch_t))
        .with("welch_p", f(|r| r.welch_p))
        .with("welch_fdr", Column::Float(welch_fdr))
}

/// A table as `<name>.parquet`.
pub fn parquet(name: &str, t: Table) -> Result<OutputFile, ExecError> {
    Ok((format!("{name}.parquet"), t.to_parquet().map_err(ExecError::Retryable)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_split_at_the_median_with_ties_low() {
        for (scores, median, high) in [
            (vec![1.0, 5.0, 3.0, 2.0], 2.5, vec![false, true, true, false]),
            (vec![1.0, 2.0, 3.0], 2.0, vec![false, false, true]),
            (vec![2.0, 2.0, 2.0, 7.0], 2.0, vec![false, false, false, true]),
        ] {
            let ids: Vec<(String, f64)> = scores.iter().enumerate().map(|(i, &s)| (format!("P{i}"), s)).collect();
            let g = Groups::split("lfm".into(), ids).unwrap();
            assert_eq!(g.median, median);
            let got: Vec<bool> = g.ids.iter().map(|id| g.of[id].1).collect();
            assert_eq!(got, high, "{scores:?}");
        }
        assert!(Groups::split("lfm".into(), vec![("P".into(), 1.0)]).is_err());
        // a NaN score is in neither group and moves no median
        let g = Groups::split("lfm".into(), vec![("A".into(), 1.0), ("B".into(), f64::NAN), ("C".into(), 3.0)]).unwrap();
        assert_eq!((g.median, g.ids.len(), g.of.contains_key("B")), (2.0, 2, false));
    }

    #[test]
    fn comparisons_say_which_way_and_adjust_within_their_family() {
        let c = compare(&[5.0, 6.0, 7.0, 8.0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((c.n_high, c.n_low, c.mean_high, c.mean_low), (4, 4, 6.5, 2.5));
        assert_eq!(c.rank_biserial, 1.0);
        assert!((c.mann_whitney_p - 2.0 / 70.0).abs() < 1e-15 && c.welch_t > 0.0);
        let empty = compare(&[], &[1.0]);
        assert!(empty.mann_whitney_p.is_nan() && empty.welch_p.is_nan());
        // two families: each adjusted on its own
        let rows = [c, c, compare(&[1.0, 2.0], &[1.5, 2.5])];
        let t = with_comparisons(Table::default(), &rows, &["a".into(), "b".into(), "b".into()]);
        let fdr = t.columns.iter().find(|(n, _)| n == "mann_whitney_fdr").unwrap();
        let Column::Float(q) = &fdr.1 else { panic!() };
        assert!((q[0] - rows[0].mann_whitney_p).abs() < 1e-15, "alone in its family");
        assert!((q[1] - rows[1].mann_whitney_p * 2.0).abs() < 1e-15);
        // a constant row (a gene expressed nowhere) is in neither test's family: both FDRs over the
        // same rows
        let rows = [c, compare(&[0.0, 0.0, 0.0], &[0.0, 0.0])];
        assert!(rows[1].mann_whitney_p.is_nan() && rows[1].welch_p.is_nan());
        let t = with_comparisons(Table::default(), &rows, &[String::new(), String::new()]);
        for name in ["mann_whitney_fdr", "welch_fdr"] {
            let Column::Float(q) = &t.columns.iter().find(|(n, _)| n == name).unwrap().1 else { panic!() };
            assert!(q[0].is_finite() && q[1].is_nan(), "{name}: {q:?}");
            if name == "mann_whitney_fdr" {
                assert!((q[0] - rows[0].mann_whitney_p).abs() < 1e-15, "m = 1: {q:?}");
            }
        }
    }
}
