//! h5ad files as anndata 0.12 writes them, made by the peers' anndata (skipped without it): a CSC
//! matrix is passed on in chunks of the asked size with the CSR file's entries; integer, nullable,
//! boolean, float (64- and 32-bit) and integer-categorical `obs` columns read as pandas prints
//! them; a stored array shorter than its pointers say is an error naming it, not a panic.

mod common;

use std::path::{Path, PathBuf};

use tacefusion_omics::cells::CellSource;
use tacefusion_omics::h5ad::H5ad;

const WRITE: &str = r#"
import sys, warnings
warnings.filterwarnings("ignore")
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad, h5py
out = sys.argv[1]
X = np.random.default_rng(4).poisson(0.8, size=(10, 4)).astype(np.float32)
obs = pd.DataFrame({
    "patient": np.arange(1, 11, dtype=np.int64),
    "nullable": pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 10], dtype="Int64"),
    "flag": np.array([True, False] * 5),
    "dose": np.array([1.5, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.25]),
    "ratio": np.array([0.1, 0.2, 0.3, 1.0, 2.5, 0.1, 0.1, 0.1, 0.1, 0.1], dtype=np.float32),
    "centre": pd.Categorical([7, 8] * 5),
}, index=[f"c{i}" for i in range(10)])
var = pd.DataFrame(index=["G0", "G1", "G2", "G3"])
ad.AnnData(sp.csc_matrix(X), obs=obs, var=var).write_h5ad(f"{out}/csc.h5ad")
ad.AnnData(sp.csr_matrix(X), obs=obs, var=var).write_h5ad(f"{out}/csr.h5ad")
with h5py.File(f"{out}/csr.h5ad", "r") as src, h5py.File(f"{out}/short.h5ad", "w") as dst:
    for k in src.keys():
        src.copy(k, dst)
    for k, v in src.attrs.items():
        dst.attrs[k] = v
    indices = dst["X/indices"][:]
    del dst["X/indices"]
    dst["X"].create_dataset("indices", data=indices[:-1])
"#;

/// The three files in a fresh folder of test `name` (tests run at once), or None without the
/// peers' environment.
fn written(name: &str) -> Option<PathBuf> {
    let python = common::peer_python()?;
    let dir = std::env::temp_dir().join(format!("tacefusion-anndata-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new(python).args(["-c", WRITE]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "anndata: {}", String::from_utf8_lossy(&out.stderr));
    Some(dir)
}

/// (first cell, cells, stored (cell, gene, value)) of each chunk.
fn chunks(file: &Path, cells_per_chunk: usize) -> Vec<(usize, usize, Vec<(usize, usize, f32)>)> {
    let h5ad = H5ad::open(file).unwrap();
    let cells = h5ad.cells(false).unwrap();
    let mut out = Vec::new();
    cells
        .for_each_chunk(cells_per_chunk, &mut |c| {
            let entries = (0..c.cells()).flat_map(|r| c.row(r).map(move |(g, v)| (c.first_cell + r, g, v))).collect();
            out.push((c.first_cell, c.cells(), entries));
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn the_current_layout_reads_as_anndata_wrote_it() {
    let Some(dir) = written("layout") else { return };
    let (csc, csr) = (chunks(&dir.join("csc.h5ad"), 3), chunks(&dir.join("csr.h5ad"), 3));
    let shape: Vec<(usize, usize)> = csc.iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(shape, [(0, 3), (3, 3), (6, 3), (9, 1)], "chunks of at most 3 cells");
    assert_eq!(csc, csr, "the CSC file's entries are the CSR file's");
    assert!(csc.iter().map(|c| c.2.len()).sum::<usize>() > 10);

    let file = H5ad::open(dir.join("csc.h5ad")).unwrap();
    let want = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases = [
        ("patient", want(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"])),
        ("nullable", want(&["1", "", "3", "4", "5", "6", "7", "8", "9", "10"])),
        ("flag", want(&["True", "False", "True", "False", "True", "False", "True", "False", "True", "False"])),
        ("dose", want(&["1.5", "2.0", "", "4.0", "5.0", "6.0", "7.0", "8.0", "9.0", "10.25"])),
        ("centre", want(&["7", "8", "7", "8", "7", "8", "7", "8", "7", "8"])),
        ("ratio", want(&["0.1", "0.2", "0.3", "1.0", "2.5", "0.1", "0.1", "0.1", "0.1", "0.1"])),
    ];
    for (column, want) in cases {
        assert_eq!(file.obs_column(column).unwrap(), want, "obs/{column}");
    }
}

#[test]
fn a_short_indices_array_is_an_error_naming_it() {
    let Some(dir) = written("short") else { return };
    let file = H5ad::open(dir.join("short.h5ad")).unwrap();
    let cells = file.cells(false).unwrap();
    let e = cells.for_each_chunk(4, &mut |_| Ok(())).unwrap_err().to_string();
    assert!(e.contains("short.h5ad") && e.contains("X/indices") && e.contains("indices for"), "{e}");
}
