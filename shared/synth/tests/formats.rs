//! The written study: byte-identical for the same seed whatever the thread count, a `study.toml`
//! that parses, NIfTI geometry that round-trips, defects that are exactly those listed, and files the
//! field's own tools read (scanpy for h5ad and 10x MTX, nibabel for NIfTI; skipped with a message
//! when the peers' Python environment is absent).

#![allow(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use tacefusion_core::{Study, Table};
use tacefusion_imaging::{ImageError, read_nifti};
use tacefusion_synth::{Preset, SynthOptions, generate};

fn gene_sets() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/omics/h.all.v7.0.symbols.gmt")
}

fn write(seed: u64, name: &str) -> PathBuf {
    let out = std::env::temp_dir().join(format!("tacefusion-synth-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let options = SynthOptions { preset: Preset::Small, seed, out: out.clone(), defects_per_kind: 1, gene_sets: gene_sets() };
    generate(&options, &|_| {}).unwrap();
    out
}

fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_whatever_the_threads_and_another_seed_differs() {
    let a = write(1, "a");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let b = pool.install(|| write(1, "b"));
    let c = write(2, "c");
    let (fa, fb, fc) = (files(&a), files(&b), files(&c));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        assert!(bytes == &fb[path], "{} differs between runs", path.display());
    }
    // only the gene list, the cell barcodes and the copy of the gene sets do not depend on the seed
    let seed_free = [
        PathBuf::from("singlecell/mtx/barcodes.tsv.gz"),
        PathBuf::from("singlecell/mtx/features.tsv.gz"),
        PathBuf::from(tacefusion_synth::GENE_SETS),
    ];
    let same: Vec<_> = fa.iter().filter(|(p, bytes)| fc.get(*p) == Some(bytes) && !seed_free.contains(p)).map(|(p, _)| p.clone()).collect();
    assert!(same.is_empty(), "seed 2 left these unchanged: {same:?}");
}

/// What a careful reader finds wrong, checked with nothing but the files: the set must equal
/// `truth/defects.csv`.
#[test]
fn the_defects_found_are_exactly_those_listed() {
    let out = write(5, "defects");
    let study = Study::from_path(out.join("study.toml")).unwrap();
    let mut found = BTreeSet::new();
    for cohort in &study.cohorts {
        let table = Table::from_csv_path(out.join(&cohort.clinical)).unwrap();
        let ids = table.text_column("patient_id").unwrap();
        let os = table.text_column("os_months").unwrap();
        let albumin = table.numeric_column("albumin").unwrap();
        let albumin_g_l = |v: f64| match cohort.units.albumin {
            tacefusion_core::AlbuminUnit::GramsPerLitre => v,
            tacefusion_core::AlbuminUnit::GramsPerDecilitre => v * 10.0,
        };
        for row in 0..table.len() {
            let line = table.line_of(row);
            let mut flag = |kind: &str| found.insert((cohort.name.clone(), line, ids[row].to_string(), kind.to_string()));
            if os[row].trim().is_empty() {
                flag("missing_survival_time");
            } else if os[row].parse::<f64>().unwrap() < 0.0 {
                flag("negative_survival_time");
            }
            if ids.iter().filter(|&&i| i == ids[row]).count() > 1 {
                flag("duplicate_patient_id");
            }
            // plausible serum albumin is 15-60 g/L: a value of 2-5 "g/L" is a g/dL value
            if albumin_g_l(albumin[row].unwrap()) < 10.0 {
                flag("albumin_unit");
            }
        }
        let layout = cohort.images.as_ref().unwrap();
        let mut seen = BTreeSet::new();
        for row in 0..table.len() {
            let id = ids[row];
            if !seen.insert(id) {
                continue;
            }
            let line = table.line_of(row);
            for phase in &layout.phases {
                let path = |pattern: &str| out.join(pattern.replace("{patient}", id).replace("{phase}", phase));
                let image = match read_nifti(&path(&layout.image)) {
                    Ok(v) => Some(v),
                    Err(ImageError::Truncated { .. }) => {
                        found.insert((cohort.name.clone(), line, id.to_string(), "truncated_image".into()));
                        None
                    }
                    Err(e) => panic!("{e}"),
                };
                let mask = read_nifti(&path(&layout.mask)).unwrap();
                if mask.data.iter().all(|&v| v == 0.0) {
                    found.insert((cohort.name.clone(), line, id.to_string(), "empty_mask".into()));
                }
                if let Some(image) = image
                    && !image.geometry.same_grid(&mask.geometry, 1e-4)
                {
                    found.insert((cohort.name.clone(), line, id.to_string(), "mask_grid_mismatch".into()));
                }
            }
        }
    }
    let listed: BTreeSet<(String, usize, String, String)> = std::fs::read_to_string(out.join("truth/defects.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string(), f[3].to_string())
        })
        .collect();
    // a duplicate's second row shares the first row's images: image defects are found at the first row
    assert_eq!(found, listed);
    assert_eq!(listed.len(), 8);
}

#[test]
fn nifti_geometry_round_trips_and_units_are_declared() {
    let out = write(3, "geometry");
    let study = Study::from_path(out.join("study.toml")).unwrap();
    let c = study.cohorts.iter().find(|c| c.name == "external_c").unwrap();
    assert_eq!(c.units.albumin, tacefusion_core::AlbuminUnit::GramsPerDecilitre);
    assert_eq!(c.units.diameter, tacefusion_core::LengthUnit::Millimetre);
    let image = read_nifti(&out.join("images/external_c/EC0001/arterial.nii.gz")).unwrap();
    // centre C stores the first axis reversed, at 2.1 x 2.1 x 2.0 mm scaled by 1.5 for `small`
    assert_eq!(image.geometry.direction[0][0], -1.0);
    for (got, want) in image.geometry.spacing.iter().zip([3.15, 3.15, 3.0]) {
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
    }
    let mask = read_nifti(&out.join("images/external_c/EC0001/arterial_mask.nii.gz")).unwrap();
    assert!(image.geometry.same_grid(&mask.geometry, 1e-5));
    assert!(mask.data.contains(&1.0));
}

fn peer_python() -> Option<PathBuf> {
    let p = std::env::var("PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/tacefusion-peers/bin/python"));
    p.exists().then_some(p)
}

#[test]
fn scanpy_and_nibabel_read_the_files() {
    let Some(python) = peer_python() else {
        eprintln!("skipped: the peers' Python environment is absent (run ../shared/peers/install.sh or set PEERS_PYTHON)");
        return;
    };
    let out = write(7, "peers");
    let script = r#"
import sys, warnings, json
warnings.filterwarnings("ignore")
import numpy as np, scanpy as sc, nibabel as nib
out = sys.argv[1]
a = sc.read_h5ad(out + "/singlecell/cells.h5ad")
m = sc.read_10x_mtx(out + "/singlecell/mtx")
img = nib.load(out + "/images/external_c/EC0001/arterial.nii.gz")
print(json.dumps({
    "n_obs": a.n_obs, "n_vars": a.n_vars, "obs": list(a.obs.columns),
    "patients": sorted(a.obs["patient"].cat.categories.tolist()), "cell_types": len(a.obs["cell_type"].cat.categories),
    "x_sum": float(a.X.sum()), "mtx_equal": bool((a.X != m.X).nnz == 0), "mtx_genes_equal": bool(list(a.var_names) == list(m.var_names)),
    "first_cell": a.obs_names[0], "affine": img.affine.tolist(), "shape": list(img.shape), "dtype": str(img.get_data_dtype()),
}))
"#;
    let result = Command::new(&python).args(["-c", script, out.to_str().unwrap()]).output().unwrap();
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let v: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!(v["n_obs"].as_u64(), Some(1000));
    assert_eq!(v["obs"], serde_json::json!(["patient", "cell_type"]));
    assert_eq!(v["patients"], serde_json::json!(["SC0001", "SC0002"]));
    assert_eq!(v["cell_types"].as_u64(), Some(8));
    assert_eq!(v["mtx_equal"], serde_json::json!(true));
    assert_eq!(v["mtx_genes_equal"], serde_json::json!(true));
    assert_eq!(v["first_cell"], "SC0001_00001");
    // the counts scanpy sums are the counts in cells.csv's matrix market twin, summed here
    let mtx = std::fs::read(out.join("singlecell/mtx/matrix.mtx.gz")).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&mtx[..]), &mut text).unwrap();
    let total: f64 = text.lines().skip(3).map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap()).sum();
    assert_eq!(v["x_sum"].as_f64(), Some(total));
    // nibabel's RAS affine is our LPS geometry with x and y negated
    let ours = read_nifti(&out.join("images/external_c/EC0001/arterial.nii.gz")).unwrap().geometry.affine();
    for r in 0..3 {
        for col in 0..4 {
            let sign = if r < 2 { -1.0 } else { 1.0 };
            let theirs = v["affine"][r][col].as_f64().unwrap();
            assert!((theirs - sign * ours[r][col]).abs() < 1e-4, "affine[{r}][{col}]: nibabel {theirs} vs ours {}", sign * ours[r][col]);
        }
    }
    assert_eq!(v["dtype"], "int16");
}
