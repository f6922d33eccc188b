//! `[omics]` of `study.toml`: the gene sets and the settings of the biology stage (bulk pathway and
//! immune scores, single-cell hypoxia and cytotoxicity, biomarkers).

use serde::{Deserialize, Serialize};

/// The biology of the omics cohorts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OmicsSettings {
    /// Pathway gene sets (GMT), relative to the study file: required by a `bulk` or `singlecell`
    /// cohort (the Hallmark collection in the paper).
    pub gene_sets: Option<String>,
    /// Immune gene sets (GMT); none: the built-in marker lists (`shared/omics/data/`).
    pub immune_sets: Option<String>,
    /// Bulk: sets with fewer matched genes are left out (gseapy's `min_size`).
    pub min_size: usize,
    /// Bulk: sets with more matched genes are left out (gseapy's `max_size`).
    pub max_size: usize,
    /// Single cell: the set scored in every cell.
    pub hypoxia_set: String,
    /// Single cell: the cytotoxicity genes.
    pub cytotoxic_genes: Vec<String>,
    /// Single cell: the cell types whose cytotoxicity is compared (labels as in the data).
    pub cytotoxic_cell_types: Vec<String>,
    /// Single cell: the cell annotation of the patient (h5ad `obs` column, or column of `cells`).
    pub patient_column: String,
    /// Single cell: the cell annotation of the cell type.
    pub cell_type_column: String,
    /// Single cell: score the h5ad's `.raw`.
    pub use_raw: bool,
    /// Single cell: the matrix is already log-normalised (no library-size normalisation and log1p).
    pub log_normalized: bool,
    /// `score_genes`: control genes per expression bin.
    pub ctrl_size: usize,
    /// `score_genes`: expression bins.
    pub n_bins: usize,
    /// Single cell: 1 scores the cells on a GPU (burn's CUDA backend, f32), 0 on the CPU (f64).
    pub gpus: u32,
}

impl Default for OmicsSettings {
    fn default() -> Self {
        Self {
            gene_sets: None,
            immune_sets: None,
            min_size: 15,
            max_size: 500,
            hypoxia_set: "HALLMARK_HYPOXIA".into(),
            cytotoxic_genes: ["GZMA", "GZMB", "GZMH", "GZMK", "PRF1", "GNLY", "NKG7", "IFNG"].map(String::from).to_vec(),
            cytotoxic_cell_types: ["CD8+ cytotoxic T", "NK"].map(String::from).to_vec(),
            patient_column: "patient".into(),
            cell_type_column: "cell_type".into(),
            use_raw: false,
            log_normalized: false,
            ctrl_size: 50,
            n_bins: 25,
            gpus: 0,
        }
    }
}
