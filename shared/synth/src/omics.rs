//! The omics of the synthetic study: a gene universe (every Hallmark gene, immune and cell-type
//! markers, background genes), bulk log2 expression driven by h, and single-cell counts in eight cell
//! types with a hypoxia program in every cell type and lost cytotoxicity in CD8+ T cells of high-h
//! patients.

use std::collections::HashMap;
use std::path::Path;

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson};
use rayon::prelude::*;
use serde::Serialize;

use crate::SynthError;
use crate::rng::stream;

/// Hallmark sets whose genes rise with h (half of each set's genes, as a real program would).
pub const PLANTED_SETS: [&str; 4] =
    ["HALLMARK_HYPOXIA", "HALLMARK_MYC_TARGETS_V1", "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION", "HALLMARK_GLYCOLYSIS"];

/// Cytotoxic genes, lower with h in bulk and in CD8+ T cells of high-h patients.
pub const CYTOTOXIC: [&str; 7] = ["GZMA", "GZMB", "GZMH", "PRF1", "GNLY", "NKG7", "IFNG"];

/// Cell types of the single-cell cohort with their share of cells and marker genes.
pub const CELL_TYPES: [(&str, f64, &[&str]); 8] = [
    ("malignant hepatocyte", 0.35, &["ALB", "APOA1", "APOB", "GPC3", "AFP", "TTR", "SERPINA1"]),
    ("CD8+ cytotoxic T", 0.15, &["CD8A", "CD8B", "CD3D", "CD3E", "GZMA", "GZMB", "GZMH", "PRF1", "GNLY", "NKG7", "IFNG", "CCL5"]),
    ("CD4+ T", 0.12, &["CD4", "CD3D", "CD3E", "IL7R", "CCR7"]),
    ("NK", 0.06, &["NCAM1", "KLRD1", "KLRF1", "NKG7", "GNLY"]),
    ("B", 0.06, &["MS4A1", "CD79A", "CD79B", "CD19"]),
    ("macrophage", 0.12, &["CD68", "CD163", "C1QA", "C1QB", "LYZ"]),
    ("endothelial", 0.08, &["PECAM1", "VWF", "CDH5", "KDR"]),
    ("fibroblast", 0.06, &["COL1A1", "COL1A2", "ACTA2", "DCN", "PDGFRB"]),
];

/// Planted omics effects, for `truth/effects.json`.
#[derive(Debug, Clone, Serialize)]
pub struct OmicsEffects {
    /// Sets raised with h in bulk.
    pub bulk_up_sets: Vec<String>,
    /// Share of each raised set's genes that respond.
    pub responding_share: f64,
    /// log2 change per SD of h of a responding gene: uniform in this range.
    pub bulk_log2_per_h: (f64, f64),
    /// log2 change per SD of h of the cytotoxic genes in bulk.
    pub bulk_cytotoxic_log2_per_h: f64,
    /// Natural-log change per SD of h of HALLMARK_HYPOXIA genes in every cell type.
    pub sc_hypoxia_per_h: f64,
    /// Natural-log change per SD of h of the cytotoxic genes in CD8+ T cells.
    pub sc_cd8_cytotoxic_per_h: f64,
}

impl Default for OmicsEffects {
    fn default() -> Self {
        Self {
            bulk_up_sets: PLANTED_SETS.iter().map(|s| s.to_string()).collect(),
            responding_share: 0.5,
            bulk_log2_per_h: (0.3, 0.7),
            bulk_cytotoxic_log2_per_h: -0.45,
            sc_hypoxia_per_h: 0.45,
            sc_cd8_cytotoxic_per_h: -0.6,
        }
    }
}

/// Genes in output order and the gene sets as indices into them.
#[derive(Debug, Clone)]
pub struct GeneUniverse {
    /// Gene symbols.
    pub genes: Vec<String>,
    /// Gene sets by name (Hallmark, from the GMT).
    pub sets: Vec<(String, Vec<usize>)>,
    index: HashMap<String, usize>,
}

impl GeneUniverse {
    /// Reads the Hallmark GMT and adds markers and `background` synthetic genes.
    pub fn from_gmt(path: &Path, background: usize) -> Result<Self, SynthError> {
        let text = std::fs::read_to_string(path).map_err(|e| SynthError::Input { file: path.to_path_buf(), message: e.to_string() })?;
        let mut u = GeneUniverse { genes: Vec::new(), sets: Vec::new(), index: HashMap::new() };
        for (line_no, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 3 {
                return Err(SynthError::Input {
                    file: path.to_path_buf(),
                    message: format!("line {}: not a GMT line (name, description, genes)", line_no + 1),
                });
            }
            let members = fields[2..].iter().filter(|g| !g.is_empty()).map(|g| u.add(g)).collect();
            u.sets.push((fields[0].to_string(), members));
        }
        for (_, _, markers) in CELL_TYPES {
            for m in markers {
                u.add(m);
            }
        }
        for g in CYTOTOXIC {
            u.add(g);
        }
        for b in 0..background {
            u.add(&format!("SYNBG{:05}", b + 1));
        }
        for set in PLANTED_SETS {
            if u.set(set).is_none() {
                return Err(SynthError::Input { file: path.to_path_buf(), message: format!("gene set {set} is missing") });
            }
        }
        Ok(u)
    }

    fn add(&mut self, gene: &str) -> usize {
        if let Some(&i) = self.index.get(gene) {
            return i;
        }
        self.genes.push(gene.to_string());
        self.index.insert(gene.to_string(), self.genes.len() - 1);
        self.genes.len() - 1
    }

    /// Index of a gene.
    pub fn position(&self, gene: &str) -> Option<usize> {
        self.index.get(gene).copied()
    }

    /// Members of a set.
    pub fn set(&self, name: &str) -> Option<&[usize]> {
        self.sets.iter().find(|(n, _)| n == name).map(|(_, m)| m.as_slice())
    }
}

/// Bulk log2 expression, genes x samples (row-major by gene), from each sample's h.
pub fn bulk_expression(seed: u64, universe: &GeneUniverse, h: &[f64], effects: &OmicsEffects) -> Vec<Vec<f64>> {
    let n_genes = universe.genes.len();
    // per-gene response to h, drawn once
    let mut slope = vec![0.0; n_genes];
    let mut rng = stream(seed, "bulk-design", 0);
    for set in &effects.bulk_up_sets {
        for &g in universe.set(set).expect("checked when read") {
            if rng.random::<f64>() < effects.responding_share && slope[g] == 0.0 {
                slope[g] = rng.random_range(effects.bulk_log2_per_h.0..effects.bulk_log2_per_h.1);
            }
        }
    }
    for g in CYTOTOXIC {
        slope[universe.position(g).expect("added")] = effects.bulk_cytotoxic_log2_per_h;
    }
    (0..n_genes)
        .into_par_iter()
        .map(|g| {
            let mut rng = stream(seed, "bulk-gene", g as u64);
            let mean: f64 = Normal::new(6.0, 2.0).expect("valid").sample(&mut rng);
            let mean = mean.clamp(0.5, 14.0);
            let sd = rng.random_range(0.25..0.6);
            let noise = Normal::new(0.0, sd).expect("valid");
            h.iter().map(|&hs| ((mean + slope[g] * hs + noise.sample(&mut rng)).max(0.0) * 1000.0).round() / 1000.0).collect()
        })
        .collect()
}

/// Single-cell counts of one patient: cells x genes as CSR (indptr, indices, counts), the cell type
/// of each cell.
pub struct CellCounts {
    /// Cell type index (into `CELL_TYPES`) per cell.
    pub cell_type: Vec<u8>,
    /// CSR row pointers, one row per cell.
    pub indptr: Vec<u64>,
    /// Gene index of each stored count.
    pub indices: Vec<u32>,
    /// The counts.
    pub counts: Vec<u32>,
}

/// Log mean expression per cell type and gene, shared by every patient (drawn from the seed).
pub fn cell_type_profiles(seed: u64, universe: &GeneUniverse) -> Vec<Vec<f64>> {
    let n_genes = universe.genes.len();
    let mut rng = stream(seed, "sc-profile", 0);
    let normal = Normal::new(0.0, 1.0).expect("valid");
    let base: Vec<f64> = (0..n_genes).map(|_| -2.5 + 1.2 * normal.sample(&mut rng)).collect();
    CELL_TYPES
        .iter()
        .map(|(_, _, markers)| {
            let mut p: Vec<f64> = base.iter().map(|b| b + 0.5 * normal.sample(&mut rng)).collect();
            for m in markers.iter() {
                p[universe.position(m).expect("added")] = 1.5 + 0.5 * normal.sample(&mut rng);
            }
            p
        })
        .collect()
}

/// Draws one patient's cells: cell types by their shares, Poisson counts around the cell type's
/// profile times a log-normal library size, shifted by the patient's h.
pub fn patient_cells(
    seed: u64,
    patient: u64,
    n_cells: usize,
    h: f64,
    universe: &GeneUniverse,
    profiles: &[Vec<f64>],
    effects: &OmicsEffects,
) -> CellCounts {
    let hypoxia: Vec<usize> = universe.set("HALLMARK_HYPOXIA").expect("checked").to_vec();
    let cytotoxic: Vec<usize> = CYTOTOXIC.iter().map(|g| universe.position(g).expect("added")).collect();
    let mut shifted: Vec<Vec<f64>> = profiles.to_vec();
    for (t, p) in shifted.iter_mut().enumerate() {
        for &g in &hypoxia {
            p[g] += effects.sc_hypoxia_per_h * h;
        }
        if CELL_TYPES[t].0 == "CD8+ cytotoxic T" {
            for &g in &cytotoxic {
                p[g] += effects.sc_cd8_cytotoxic_per_h * h;
            }
        }
    }
    let means: Vec<Vec<f64>> = shifted.iter().map(|p| p.iter().map(|v| v.exp()).collect()).collect();
    let cells: Vec<(u8, Vec<(u32, u32)>)> = (0..n_cells)
        .into_par_iter()
        .map(|c| {
            let mut rng = stream(seed, "sc-cell", patient * 1_000_000 + c as u64);
            let u: f64 = rng.random();
            let mut acc = 0.0;
            let mut t = CELL_TYPES.len() - 1;
            for (k, (_, share, _)) in CELL_TYPES.iter().enumerate() {
                acc += share;
                if u < acc {
                    t = k;
                    break;
                }
            }
            let library = LogNormal::new(0.0, 0.3).expect("valid").sample(&mut rng);
            let mut row = Vec::new();
            for (g, &m) in means[t].iter().enumerate() {
                let lambda = m * library;
                let x = if lambda < 1e-9 { 0 } else { Poisson::new(lambda).expect("positive").sample(&mut rng) as u32 };
                if x > 0 {
                    row.push((g as u32, x));
                }
            }
            (t as u8, row)
        })
        .collect();
    let mut out = CellCounts { cell_type: Vec::with_capacity(n_cells), indptr: vec![0], indices: Vec::new(), counts: Vec::new() };
    for (t, row) in cells {
        out.cell_type.push(t);
        for (g, x) in row {
            out.indices.push(g);
            out.counts.push(x);
        }
        out.indptr.push(out.indices.len() as u64);
    }
    out
}
