//! `score_genes` against scanpy 1.11.5 on pbmc68k_reduced (`../shared/data/singlecell`, read from
//! the current h5ad layout and from the legacy one scanpy ships; both read alike): with a control size above every bin every cell's score is scanpy's
//! within 1e-6; with the default control size (a seeded draw of 50 per bin, not numpy's) the scores
//! still correlate above 0.99; NK and cytotoxic CD8 T cells score highest, as scanpy finds. The
//! burn-backend scoring (what a GPU worker runs; here on burn's CPU backend) gives the same scores
//! within 1e-5, on the counts normalised on the fly too.

mod common;

use std::path::PathBuf;

use tacefusion_omics::cells::{CellSource, CsrChunk, Normalized};
use tacefusion_omics::h5ad::H5ad;
use tacefusion_omics::score_genes::{ScoreGenesOptions, score_genes};
use tacefusion_omics::score_tensor::score_genes_on;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/singlecell").join(name)
}

/// The genes of the reference (KLRD1 is not in the data and not in the list).
const GENES: [&str; 12] = ["GZMB", "PRF1", "NKG7", "GNLY", "GZMA", "GZMK", "GZMH", "CST7", "CTSW", "CD8A", "KLRB1", "CCL5"];

fn reference() -> Vec<f64> {
    std::fs::read_to_string(data("pbmc68k_cyto_score_scanpy.tsv")).unwrap().lines().map(|l| l.trim().parse().unwrap()).collect()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    cov / (a.iter().map(|x| (x - ma).powi(2)).sum::<f64>() * b.iter().map(|y| (y - mb).powi(2)).sum::<f64>()).sqrt()
}

/// The same cells in the current layout (anndata 0.12) and in the legacy one (before 0.7).
const LAYOUTS: [&str; 2] = ["pbmc68k_reduced_modern.h5ad", "pbmc68k_reduced.h5ad"];

#[test]
fn every_cell_matches_scanpy_without_a_draw_and_correlates_with_one() {
    for name in LAYOUTS {
        matches_scanpy(name);
    }
}

fn matches_scanpy(name: &str) {
    let file = H5ad::open(data(name)).unwrap();
    let cells = file.cells(true).unwrap();
    assert_eq!((cells.n_cells(), cells.genes().len()), (700, 765));
    let genes: Vec<String> = GENES.iter().map(|s| s.to_string()).collect();
    let want = reference();
    assert_eq!(want.len(), 700);
    // chunks of 64 cells: the streamed reading gives what one pass would
    let all = ScoreGenesOptions { ctrl_size: 100_000, chunk_cells: 64, ..Default::default() };
    let got = score_genes(&cells, &genes, &all).unwrap();
    assert!(got.absent.is_empty());
    let worst = got.scores.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-6, "{name}: largest difference from scanpy {worst}");

    let drawn = score_genes(&cells, &genes, &ScoreGenesOptions::default()).unwrap();
    let r = pearson(&drawn.scores, &want);
    assert!(r > 0.99, "{name}: correlation with scanpy {r}");

    // the mean score per cell type: NK and cytotoxic T cells first
    let labels = file.obs_column("bulk_labels").unwrap();
    let mut types: Vec<(f64, String)> = Vec::new();
    for t in labels.iter().collect::<std::collections::BTreeSet<_>>() {
        let s: Vec<f64> = (0..700).filter(|&i| labels[i] == *t).map(|i| got.scores[i]).collect();
        types.push((s.iter().sum::<f64>() / s.len() as f64, t.clone()));
    }
    types.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top: Vec<&str> = types[..2].iter().map(|t| t.1.as_str()).collect();
    assert!(top.contains(&"CD56+ NK") && top.contains(&"CD8+ Cytotoxic T"), "{name}: {types:?}");
}

/// Every value of a matrix, cell by cell, as (cell, gene, value) of the stored entries not zero.
fn entries(cells: &dyn CellSource) -> Vec<(usize, u32, f32)> {
    let mut all = Vec::new();
    cells
        .for_each_chunk(100, &mut |c| {
            for i in 0..c.indptr.len() - 1 {
                for k in c.indptr[i]..c.indptr[i + 1] {
                    if c.data[k] != 0.0 {
                        all.push((c.first_cell + i, c.indices[k], c.data[k]));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    all
}

#[test]
fn the_legacy_layout_reads_as_the_current_one() {
    let (current, legacy) = (H5ad::open(data(LAYOUTS[0])).unwrap(), H5ad::open(data(LAYOUTS[1])).unwrap());
    assert!(legacy.has_raw());
    assert_eq!(legacy.obs_names().unwrap(), current.obs_names().unwrap());
    for column in ["bulk_labels", "louvain", "phase"] {
        let labels = legacy.obs_column(column).unwrap();
        assert_eq!(labels, current.obs_column(column).unwrap(), "obs/{column}");
        assert!(labels.iter().all(|l| !l.is_empty()), "obs/{column}: a code without its label");
    }
    // .raw (CSR, h5sparse's attributes) and X (dense)
    for raw in [true, false] {
        assert_eq!(legacy.var_names(raw).unwrap(), current.var_names(raw).unwrap(), "raw {raw}");
        let (a, b) = (legacy.cells(raw).unwrap(), current.cells(raw).unwrap());
        let (a, b) = (entries(&a), entries(&b));
        assert!(!a.is_empty());
        assert_eq!(a, b, "raw {raw}: the matrices differ");
    }
    let e = legacy.obs_column("no_such_column").unwrap_err().to_string();
    assert!(e.contains("pbmc68k_reduced.h5ad") && e.contains("obs/no_such_column") && e.contains("bulk_labels"), "{e}");
}

/// anndata 0.7 wrote a categorical as its codes in `obs/<column>` (an object reference to its labels
/// in `obs/__categories/<column>`); no such file ships, so h5py writes one from the current file.
const WRITE_0_7: &str = r#"
import sys, h5py
src, dst = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "w")
text = h5py.string_dtype()
for frame in ("obs", "var"):
    g = dst.create_group(frame)
    g.attrs["_index"] = "index"
    g.create_dataset("index", data=src[frame + "/" + src[frame].attrs["_index"]][:], dtype=text)
labels = dst.create_group("obs/__categories").create_dataset("bulk_labels", data=src["obs/bulk_labels/categories"][:], dtype=text)
codes = dst["obs"].create_dataset("bulk_labels", data=src["obs/bulk_labels/codes"][:])
codes.attrs["categories"] = labels.ref
dst.create_dataset("X", data=src["X"][:])
dst.close()
"#;

#[test]
fn the_anndata_0_7_layout_reads_as_the_current_one() {
    let Some(python) = common::peer_python() else { return };
    let written = std::env::temp_dir().join(format!("tacefusion-anndata07-{}.h5ad", std::process::id()));
    let out = std::process::Command::new(&python).args(["-c", WRITE_0_7]).arg(data(LAYOUTS[0])).arg(&written).output().unwrap();
    assert!(out.status.success(), "h5py: {}", String::from_utf8_lossy(&out.stderr));
    let (current, old) = (H5ad::open(data(LAYOUTS[0])).unwrap(), H5ad::open(&written).unwrap());
    assert_eq!(old.obs_names().unwrap(), current.obs_names().unwrap());
    let labels = old.obs_column("bulk_labels").unwrap();
    assert_eq!(labels, current.obs_column("bulk_labels").unwrap());
    assert_eq!(labels.iter().collect::<std::collections::BTreeSet<_>>().len(), 10);
    assert_eq!(entries(&old.cells(false).unwrap()), entries(&current.cells(false).unwrap()));
    let _ = std::fs::remove_file(&written);
}

#[test]
fn missing_pieces_are_named() {
    let file = H5ad::open(data("pbmc68k_reduced_modern.h5ad")).unwrap();
    let e = file.obs_column("no_such_column").unwrap_err().to_string();
    assert!(e.contains("pbmc68k_reduced_modern.h5ad") && e.contains("obs/no_such_column"), "{e}");
    let e = H5ad::open(data("pbmc68k_cyto_score_scanpy.tsv")).err().unwrap().to_string();
    assert!(e.contains("pbmc68k_cyto_score_scanpy.tsv"), "{e}");
    let cells = file.cells(true).unwrap();
    let e = score_genes(&cells, &["NOT_A_GENE".to_string()], &ScoreGenesOptions::default()).unwrap_err().to_string();
    assert!(e.contains("NOT_A_GENE"), "{e}");
}

#[test]
fn the_burn_backend_scores_what_the_cpu_scores() {
    let file = H5ad::open(data("pbmc68k_reduced_modern.h5ad")).unwrap();
    let genes: Vec<String> = GENES.iter().map(|s| s.to_string()).collect();
    let device = Default::default();
    for options in [ScoreGenesOptions { ctrl_size: 100_000, ..Default::default() }, ScoreGenesOptions::default()] {
        // .raw is log-normalised; X here is scaled, with negative values: both scored as they are
        for raw in [true, false] {
            let cells = file.cells(raw).unwrap();
            let cpu = score_genes(&cells, &genes, &options).unwrap();
            let tensor = score_genes_on::<burn_flex::Flex>(&cells, &genes, &options, &device).unwrap();
            assert_eq!(cpu.control, tensor.control, "the same control genes");
            let worst = cpu.scores.iter().zip(&tensor.scores).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(worst < 1e-5, "raw {raw}, ctrl_size {}: largest difference {worst}", options.ctrl_size);
        }
    }
    // counts made log-normalised on the fly (counts made up from .raw: round(10 expm1(x)))
    let normalized = Normalized { source: MadeUpCounts(file.cells(true).unwrap()), target_sum: 1e4 };
    let options = ScoreGenesOptions::default();
    let (cpu, tensor) = (
        score_genes(&normalized, &genes, &options).unwrap(),
        score_genes_on::<burn_flex::Flex>(&normalized, &genes, &options, &device).unwrap(),
    );
    let worst = cpu.scores.iter().zip(&tensor.scores).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-5, "normalised: largest difference {worst}");
}

/// Whole numbers from a log-normalised matrix, for the normalising path: round(10 expm1(x)).
struct MadeUpCounts<S>(S);

impl<S: CellSource> CellSource for MadeUpCounts<S> {
    fn genes(&self) -> &[String] {
        self.0.genes()
    }

    fn n_cells(&self) -> usize {
        self.0.n_cells()
    }

    fn for_each_chunk(
        &self,
        cells_per_chunk: usize,
        f: &mut dyn FnMut(&CsrChunk) -> Result<(), tacefusion_omics::OmicsError>,
    ) -> Result<(), tacefusion_omics::OmicsError> {
        self.0.for_each_chunk(cells_per_chunk, &mut |chunk| {
            let mut counts = chunk.clone();
            counts.data.iter_mut().for_each(|v| *v = (10.0 * v.exp_m1()).round());
            f(&counts)
        })
    }
}

#[test]
fn log_normalised_values_are_not_normalised_again() {
    let file = H5ad::open(data("pbmc68k_reduced_modern.h5ad")).unwrap();
    let genes: Vec<String> = GENES.iter().map(|s| s.to_string()).collect();
    let twice = Normalized { source: file.cells(true).unwrap(), target_sum: 1e4 };
    let e = score_genes(&twice, &genes, &ScoreGenesOptions::default()).unwrap_err().to_string();
    assert!(e.contains("not whole numbers") && e.contains("log_normalized = true"), "{e}");
}
