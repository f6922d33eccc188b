//! The single-cell cohort: cells from h5ad (patient and cell type from `obs`) or a 10x MTX folder
//! (labels from the cell table), library-size normalised (1e4) and log1p-transformed unless declared
//! log-normalised, scored with scanpy's `score_genes` for the hypoxia set and the cytotoxicity
//! genes, then compared per cell type between the patients' groups on patient means (cells of one
//! patient are not independent), with the cell-level effect beside them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use tacefusion_core::Table as CsvTable;
use tacefusion_omics::cells::{CellSource, Normalized};
use tacefusion_omics::h5ad::H5ad;
use tacefusion_omics::mtx::Mtx;
use tacefusion_omics::score_genes::{GeneScores, ScoreGenesOptions, score_gene_sets};
use tacefusion_omics::{OmicsError, read_gmt};

use super::{Comparison, Groups, compare, group_name, parquet, with_comparisons};
use crate::executor::{Device, ExecError, OutputFile, text};
use crate::stages::Exclusions;
use crate::tables::{Column, Table};

/// The two scores, by their names in the tables.
const HYPOXIA: &str = "hypoxia";
const CYTOTOXICITY: &str = "cytotoxicity";

/// Cells with their labels and both scores.
struct Cells {
    barcodes: Vec<String>,
    patients: Vec<String>,
    types: Vec<String>,
    hypoxia: GeneScores,
    cytotoxicity: GeneScores,
}

/// Scores each of `sets` in the cells of `source` on `device` (both passes over the cells shared
/// by the sets): f64 on the CPU, burn's CUDA backend (f32) on a GPU.
fn score_on(
    device: Device,
    source: &dyn CellSource,
    sets: &[&[String]],
    options: &ScoreGenesOptions,
) -> Result<Vec<Result<GeneScores, OmicsError>>, ExecError> {
    let scored = match device {
        Device::Cpu => score_gene_sets(source, sets, options),
        #[cfg(feature = "cuda")]
        Device::Cuda(index) => tacefusion_omics::score_tensor::score_gene_sets_on::<tacefusion_models::GpuBackend>(
            source,
            sets,
            options,
            &tacefusion_models::gpu_device(index),
        ),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(index) => return Err(Device::unavailable(index)),
    };
    scored.map_err(|e| ExecError::BadInput(e.to_string()))
}

pub(super) fn run(spec: &serde_json::Value, cohort: &str, groups: &Groups, device: Device) -> Result<Vec<OutputFile>, ExecError> {
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    let o = super::settings(spec)?;
    let gmt = text(spec, "gene_sets")?;
    let hypoxia_set = &o.hypoxia_set;
    let hypoxia_genes = read_gmt(gmt)
        .map_err(|e| bad(&e))?
        .into_iter()
        .find(|s| s.name == *hypoxia_set)
        .ok_or_else(|| bad(&format!("{gmt}: no gene set {hypoxia_set} (omics.hypoxia_set)")))?
        .genes;
    let cytotoxic_genes = &o.cytotoxic_genes;
    let options =
        ScoreGenesOptions { ctrl_size: o.ctrl_size, n_bins: o.n_bins, seed: spec["seed"].as_u64().unwrap_or(0), ..Default::default() };
    let log_normalized = o.log_normalized;
    // the hypoxia score is the stage's point; cytotoxicity that cannot be scored (none of its genes
    // in the data) is listed and left out, not the end of the task
    let mut ex = Exclusions::of("biology");
    let mut cytotoxic_failure = None;
    let mut score = |source: &dyn CellSource| -> Result<(GeneScores, GeneScores), ExecError> {
        let mut scored = score_on(device, source, &[&hypoxia_genes, cytotoxic_genes], &options)?.into_iter();
        let hypoxia = scored.next().expect("two sets").map_err(|e| ExecError::BadInput(e.to_string()))?;
        let cytotoxicity = scored.next().expect("two sets").unwrap_or_else(|e| {
            cytotoxic_failure = Some(e.to_string());
            GeneScores { scores: vec![f64::NAN; source.n_cells()], used: vec![], absent: cytotoxic_genes.clone(), control: vec![] }
        });
        Ok((hypoxia, cytotoxicity))
    };
    let mut scored = |source: &dyn CellSource| -> Result<(GeneScores, GeneScores), ExecError> {
        if log_normalized { score(source) } else { score(&Normalized { source: Borrowed(source), target_sum: 1e4 }) }
    };
    let (patient_column, type_column) = (&o.patient_column, &o.cell_type_column);
    let cells = match spec.get("h5ad").and_then(|v| v.as_str()) {
        Some(path) => {
            let file = H5ad::open(path).map_err(|e| bad(&e))?;
            let source = file.cells(o.use_raw).map_err(|e| bad(&e))?;
            let (hypoxia, cytotoxicity) = scored(&source).map_err(|e| match e {
                // scanpy scores .raw when there is one: say so when X was refused
                ExecError::BadInput(detail) if !o.use_raw && file.has_raw() && detail.contains("log_normalized") => in_file(
                    path,
                    ExecError::BadInput(format!("X: {detail} (the file has .raw, what scanpy scores by default: omics.use_raw = true)")),
                ),
                e => in_file(path, e),
            })?;
            let label = |c: &str| file.obs_column(c).map_err(|e| bad(&e));
            Cells {
                barcodes: file.obs_names().map_err(|e| bad(&e))?,
                patients: label(patient_column)?,
                types: label(type_column)?,
                hypoxia,
                cytotoxicity,
            }
        }
        None => {
            let dir = text(spec, "mtx")?;
            let m = Mtx::read(dir).map_err(|e| bad(&e))?;
            let table = text(spec, "cells")?;
            let (patients, types, unlabelled) = labels_from_table(Path::new(table), &m.barcodes, patient_column, type_column)?;
            if let Some(first) = unlabelled.first() {
                let reason =
                    format!("{} cells of the matrix have no row in the cell table (first: {first}): in neither group", unlabelled.len());
                ex.add(cohort, "", table, "barcode", "no_cell_label", reason);
            }
            let (hypoxia, cytotoxicity) = scored(&m.matrix).map_err(|e| in_file(dir, e))?;
            Cells { barcodes: m.barcodes, patients, types, hypoxia, cytotoxicity }
        }
    };
    let source = spec.get("h5ad").or(spec.get("mtx")).and_then(|v| v.as_str()).unwrap_or("");
    if let Some(reason) = cytotoxic_failure {
        ex.add(cohort, "", source, "cytotoxic_genes", "not_scored", format!("cytotoxicity not scored: {reason}"));
    }
    compare_cell_types(cohort, source, &cells, groups, &o.cytotoxic_cell_types, ex)
}

/// A bad-input error of scoring `file`'s cells, naming the file.
fn in_file(file: &str, e: ExecError) -> ExecError {
    match e {
        ExecError::BadInput(detail) => ExecError::BadInput(format!("{file}: {detail}")),
        other => other,
    }
}

/// A cell source behind a reference, so that `Normalized` can wrap any of them.
struct Borrowed<'a>(&'a dyn CellSource);

impl CellSource for Borrowed<'_> {
    fn genes(&self) -> &[String] {
        self.0.genes()
    }
    fn n_cells(&self) -> usize {
        self.0.n_cells()
    }
    fn for_each_chunk(
        &self,
        cells_per_chunk: usize,
        f: &mut dyn FnMut(&tacefusion_omics::cells::CsrChunk) -> Result<(), OmicsError>,
    ) -> Result<(), OmicsError> {
        self.0.for_each_chunk(cells_per_chunk, f)
    }
}

/// Patient and cell type of each barcode, from the cell table (CSV: `barcode` and the two columns);
/// a barcode without a row gets empty labels and is returned in the third list.
type Labels = (Vec<String>, Vec<String>, Vec<String>);

fn labels_from_table(path: &Path, barcodes: &[String], patient: &str, cell_type: &str) -> Result<Labels, ExecError> {
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    let t = CsvTable::from_csv_path(path).map_err(|e| bad(&e))?;
    let (b, p, c) = (
        t.text_column("barcode").map_err(|e| bad(&e))?,
        t.text_column(patient).map_err(|e| bad(&e))?,
        t.text_column(cell_type).map_err(|e| bad(&e))?,
    );
    // a barcode listed twice must say the same both times: which row is right cannot be told
    let mut row: HashMap<&str, usize> = HashMap::with_capacity(b.len());
    for (i, x) in b.iter().enumerate() {
        if let Some(&first) = row.get(x)
            && (p[first], c[first]) != (p[i], c[i])
        {
            return Err(ExecError::BadInput(format!(
                "{}: barcode {x} is on lines {} and {} with other labels ({patient}, {cell_type}: {}, {} and {}, {})",
                path.display(),
                t.line_of(first),
                t.line_of(i),
                p[first],
                c[first],
                p[i],
                c[i]
            )));
        }
        row.entry(x).or_insert(i);
    }
    let mut out = (Vec::with_capacity(barcodes.len()), Vec::with_capacity(barcodes.len()), Vec::new());
    for code in barcodes {
        match row.get(code.as_str()) {
            Some(&i) => {
                out.0.push(p[i].to_string());
                out.1.push(c[i].to_string());
            }
            None => {
                out.0.push(String::new());
                out.1.push(String::new());
                out.2.push(code.clone());
            }
        }
    }
    Ok(out)
}

/// The patient x cell type means of one score and the cells behind them, by (cell type, patient).
type PatientMeans = BTreeMap<(String, String), (f64, usize)>;

fn compare_cell_types(
    cohort: &str,
    source: &str,
    cells: &Cells,
    groups: &Groups,
    cytotoxic_types: &[String],
    mut ex: Exclusions,
) -> Result<Vec<OutputFile>, ExecError> {
    let n = cells.barcodes.len();
    let lengths = [cells.patients.len(), cells.types.len(), cells.hypoxia.scores.len(), cells.cytotoxicity.scores.len()];
    if lengths.iter().any(|&l| l != n) {
        return Err(ExecError::BadInput(format!(
            "{source}: {n} cells but {} patient labels, {} cell-type labels, {} hypoxia and {} cytotoxicity scores",
            lengths[0], lengths[1], lengths[2], lengths[3]
        )));
    }
    // cells without a patient (a missing categorical code) or without a cell type are in no comparison
    for (labels, field) in [(&cells.patients, "patient"), (&cells.types, "cell_type")] {
        let missing = labels.iter().filter(|l| l.trim().is_empty()).count();
        if missing > 0 {
            ex.add(cohort, "", source, field, "no_cell_label", format!("{missing} cells have no {field} label: in no comparison"));
        }
    }
    let present: std::collections::BTreeSet<&str> = cells.types.iter().map(String::as_str).filter(|t| !t.trim().is_empty()).collect();
    for t in cytotoxic_types.iter().filter(|t| !present.contains(t.as_str())) {
        let labels = present.iter().copied().collect::<Vec<_>>().join(", ");
        let reason = format!("cytotoxic cell type {t:?} matches no cell's label (labels here: {labels}): its cytotoxicity is not compared");
        ex.add(cohort, "", source, "cytotoxic_cell_types", "no_cell_type", reason);
    }
    let mut unplaced: BTreeMap<&str, usize> = BTreeMap::new();
    for p in cells.patients.iter().filter(|p| !p.trim().is_empty() && !groups.of.contains_key(*p)) {
        *unplaced.entry(p.as_str()).or_default() += 1;
    }
    for (p, count) in &unplaced {
        ex.add(
            cohort,
            p,
            source,
            "patient",
            "no_fusion_score",
            format!("{count} cells of patient {p:?}: no {} score, so in neither group", groups.model),
        );
    }
    let with_cells: std::collections::HashSet<&str> = cells.patients.iter().map(String::as_str).collect();
    for id in groups.ids.iter().filter(|id| !with_cells.contains(id.as_str())) {
        ex.add(cohort, id, source, "patient", "no_cells", format!("patient {id} has a {} score but no cell", groups.model));
    }
    let group_of = |p: &str| groups.of.get(p).map(|g| group_name(g.1)).unwrap_or("");
    let cell_scores = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n]))
        .with("barcode", Column::Text(cells.barcodes.clone()))
        .with("patient_id", Column::Text(cells.patients.clone()))
        .with("cell_type", Column::Text(cells.types.clone()))
        .with("group", Column::Text(cells.patients.iter().map(|p| group_of(p).to_string()).collect()))
        .with(HYPOXIA, Column::Float(cells.hypoxia.scores.clone()))
        .with(CYTOTOXICITY, Column::Float(cells.cytotoxicity.scores.clone()));

    // (score, cell type, patient, mean, cells)
    let mut means_rows: Vec<(&str, String, String, f64, usize)> = Vec::new();
    // (cell type, score, patient-level comparison, cell-level comparison)
    let mut rows: Vec<(String, &str, Comparison, Comparison)> = Vec::new();
    for (name, scores) in [(HYPOXIA, &cells.hypoxia.scores), (CYTOTOXICITY, &cells.cytotoxicity.scores)] {
        let mut means: PatientMeans = BTreeMap::new();
        let mut by_type: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        // a cell without a finite score (NaN in the data) is left out of the means, not the mean made NaN
        for i in
            (0..n).filter(|&i| groups.of.contains_key(&cells.patients[i]) && scores[i].is_finite() && !cells.types[i].trim().is_empty())
        {
            let t = cells.types[i].as_str();
            if name == CYTOTOXICITY && !cytotoxic_types.iter().any(|c| c == t) {
                continue;
            }
            let m = means.entry((t.to_string(), cells.patients[i].clone())).or_default();
            m.0 += scores[i];
            m.1 += 1;
            let side = by_type.entry(t).or_default();
            if groups.of[&cells.patients[i]].1 { side.0.push(scores[i]) } else { side.1.push(scores[i]) }
        }
        for (t, (high_cells, low_cells)) in by_type {
            let (mut high, mut low) = (Vec::new(), Vec::new());
            for ((_, p), (sum, count)) in means.range((t.to_string(), String::new())..).take_while(|((tt, _), _)| tt == t) {
                let mean = sum / *count as f64;
                means_rows.push((name, t.to_string(), p.clone(), mean, *count));
                if groups.of[p].1 { high.push(mean) } else { low.push(mean) }
            }
            rows.push((t.to_string(), name, compare(&high, &low), compare(&high_cells, &low_cells)));
        }
    }
    let means = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); means_rows.len()]))
        .with("score", Column::Text(means_rows.iter().map(|r| r.0.to_string()).collect()))
        .with("cell_type", Column::Text(means_rows.iter().map(|r| r.1.clone()).collect()))
        .with("patient_id", Column::Text(means_rows.iter().map(|r| r.2.clone()).collect()))
        .with("group", Column::Text(means_rows.iter().map(|r| group_of(&r.2).to_string()).collect()))
        .with("cells", Column::Int(means_rows.iter().map(|r| r.4 as i64).collect()))
        .with("mean", Column::Float(means_rows.iter().map(|r| r.3).collect()));
    let labels = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); rows.len()]))
        .with("score", Column::Text(rows.iter().map(|r| r.1.to_string()).collect()))
        .with("cell_type", Column::Text(rows.iter().map(|r| r.0.clone()).collect()));
    let comparisons: Vec<Comparison> = rows.iter().map(|r| r.2).collect();
    let family: Vec<String> = rows.iter().map(|r| r.1.to_string()).collect();
    let f = |g: fn(&Comparison) -> f64| Column::Float(rows.iter().map(|r| g(&r.3)).collect());
    let comparison = with_comparisons(labels, &comparisons, &family)
        .with("cells_high", Column::Int(rows.iter().map(|r| r.3.n_high as i64).collect()))
        .with("cells_low", Column::Int(rows.iter().map(|r| r.3.n_low as i64).collect()))
        .with("cell_mean_high", f(|c| c.mean_high))
        .with("cell_mean_low", f(|c| c.mean_low))
        .with("cell_rank_biserial", f(|c| c.rank_biserial));
    let genes = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); 2]))
        .with("score", Column::Text(vec![HYPOXIA.into(), CYTOTOXICITY.into()]))
        .with("genes_used", Column::Text([&cells.hypoxia, &cells.cytotoxicity].iter().map(|s| s.used.join(",")).collect()))
        .with("genes_absent", Column::Text([&cells.hypoxia, &cells.cytotoxicity].iter().map(|s| s.absent.join(",")).collect()))
        .with("control_genes", Column::Int([&cells.hypoxia, &cells.cytotoxicity].iter().map(|s| s.control.len() as i64).collect()));
    let mut out = vec![
        parquet("cell_scores", cell_scores)?,
        parquet("cell_type_scores", means)?,
        parquet("cell_type_comparison", comparison)?,
        parquet("cell_score_genes", genes)?,
    ];
    out.extend(ex.file()?);
    Ok(out)
}
