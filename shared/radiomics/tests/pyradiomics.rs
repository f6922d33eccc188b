//! Agreement with pyradiomics 3.0.1 defaults (`RadiomicsFeatureExtractor()`: bin width 25, label 1,
//! no resampling) on brain1, breast1 and lung1 (`../shared/data/radiomics/pyradiomics`), feature
//! family by feature family, to 1e-6 relative.

#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use tacefusion_imaging::read_nrrd;
use tacefusion_radiomics::{Discretization, Roi};

const CASES: [&str; 3] = ["brain1", "breast1", "lung1"];

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/radiomics/pyradiomics").join(name)
}

fn roi(case: &str) -> Roi {
    let image = read_nrrd(&data(&format!("{case}_image.nrrd"))).unwrap();
    let mask = read_nrrd(&data(&format!("{case}_label.nrrd"))).unwrap();
    Roi::new(&image, &mask, 1.0, Discretization::BinWidth(25.0)).unwrap()
}

fn reference(case: &str) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(data(&format!("{case}_default_features.csv"))).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (k, v) = l.split_once(',').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// Compares one family; every reference feature of the family must be computed.
fn check(family: &str, compute: impl Fn(&Roi) -> Vec<(&'static str, f64)>, tolerance: f64) {
    let mut failures = Vec::new();
    for case in CASES {
        let want = reference(case);
        let roi = roi(case);
        let got: BTreeMap<String, f64> = compute(&roi).into_iter().map(|(k, v)| (format!("original_{family}_{k}"), v)).collect();
        for (name, &w) in want.iter().filter(|(k, _)| k.starts_with(&format!("original_{family}_"))) {
            match got.get(name) {
                None => failures.push(format!("{case} {name}: not computed")),
                Some(&g) => {
                    let rel = (g - w).abs() / w.abs().max(1e-12);
                    // written so that a NaN on either side fails
                    let agree = rel <= tolerance || (g - w).abs() <= 1e-12;
                    if !agree {
                        failures.push(format!("{case} {name}: {g} vs pyradiomics {w} (rel {rel:.2e})"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn firstorder_matches_pyradiomics() {
    check("firstorder", |r| tacefusion_radiomics::firstorder::features(r, 0.0), 1e-6);
}

#[test]
fn glcm_matches_pyradiomics() {
    check("glcm", tacefusion_radiomics::glcm::features, 1e-6);
}

#[test]
fn glrlm_matches_pyradiomics() {
    check("glrlm", tacefusion_radiomics::glrlm::features, 1e-6);
}

#[test]
fn glszm_matches_pyradiomics() {
    check("glszm", tacefusion_radiomics::glszm::features, 1e-6);
}

#[test]
fn gldm_matches_pyradiomics() {
    check("gldm", tacefusion_radiomics::gldm::features, 1e-6);
}

#[test]
fn ngtdm_matches_pyradiomics() {
    check("ngtdm", tacefusion_radiomics::ngtdm::features, 1e-6);
}

#[test]
fn shape_matches_pyradiomics() {
    check("shape", tacefusion_radiomics::shape::features, 1e-6);
}

#[test]
fn a_line_roi_is_refused_unless_minimum_roi_dimensions_allows_it() {
    // pyradiomics' minimumROIDimensions (default 2): a mask one voxel wide along two axes is an error
    let image = read_nrrd(&data("lung1_image.nrrd")).unwrap();
    let mut line = read_nrrd(&data("lung1_label.nrrd")).unwrap();
    let g = line.geometry;
    let first = line.data.iter().position(|&v| v == 1.0).unwrap();
    line.data.iter_mut().for_each(|v| *v = 0.0);
    for i in 0..5 {
        line.data[first + i] = 1.0;
    }
    assert!(first % g.size[0] + 5 <= g.size[0], "the line stays in its row");
    let settings = tacefusion_radiomics::params::settings_from_yaml("setting:\n  binWidth: 25\n").unwrap();
    let e = tacefusion_radiomics::extract(&image, &line, &settings).unwrap_err().to_string();
    assert!(e.contains("minimumROIDimensions asks for 2") && e.contains("along 1 axes"), "{e}");
    let one = tacefusion_radiomics::params::settings_from_yaml("setting:\n  minimumROIDimensions: 1\n").unwrap();
    assert!(tacefusion_radiomics::extract(&image, &line, &one).is_ok());
}

#[test]
fn a_resegmentation_that_leaves_a_line_is_refused_too() {
    // a 4-voxel cube ROI of 0 HU crossed by a line of 100 HU: resegmentRange [50, 150] leaves the
    // line, which pyradiomics checks again (and refuses: too few dimensions)
    use tacefusion_imaging::{Geometry, Volume};
    let g = Geometry::axis_aligned([6, 6, 6], [1.0; 3], [0.0; 3]);
    let cube = |i: usize, j: usize, k: usize| [i, j, k].iter().all(|v| (1..5).contains(v));
    let image = Volume::from_fn(g, |i, j, k| if cube(i, j, k) && j == 2 && k == 2 { 100.0f32 } else { 0.0 });
    let mask = Volume::from_fn(g, |i, j, k| cube(i, j, k) as u8 as f32);
    let settings = tacefusion_radiomics::params::settings_from_yaml("setting:\n  resegmentRange: [50, 150]\n").unwrap();
    let e = tacefusion_radiomics::extract(&image, &mask, &settings).unwrap_err().to_string();
    assert!(e.contains("after re-segmentation") && e.contains("along 1 axes"), "{e}");
    // a range that keeps the cube passes
    let keep = tacefusion_radiomics::params::settings_from_yaml("setting:\n  resegmentRange: [-50, 150]\n").unwrap();
    assert!(tacefusion_radiomics::extract(&image, &mask, &keep).is_ok());
}

#[test]
fn geometry_tolerance_decides_whether_two_grids_are_one() {
    // (mask origin shift in mm, geometryTolerance, accepted): pyradiomics refuses 2e-4 mm at its
    // default and accepts 5e-3 mm with geometryTolerance 0.01 (times the 1 mm spacing)
    use tacefusion_imaging::{Geometry, Volume};
    let g = Geometry::axis_aligned([6, 6, 6], [1.0; 3], [0.0; 3]);
    let image = Volume::from_fn(g, |i, j, k| (i * 7 + j * 3 + k) as f32);
    for (shift, tolerance, accepted) in [
        (5e-3, "", false),
        (5e-3, "  geometryTolerance: 0.01\n", true),
        (2e-4, "  geometryTolerance: 0.000001\n", false),
        (0.0, "  geometryTolerance: 0.000001\n", true),
    ] {
        let moved = Geometry { origin: [shift, 0.0, 0.0], ..g };
        let mask = Volume::from_fn(moved, |i, j, k| [i, j, k].iter().all(|v| (1..5).contains(v)) as u8 as f32);
        let settings = tacefusion_radiomics::params::settings_from_yaml(&format!("setting:\n  binWidth: 5\n{tolerance}")).unwrap();
        let got = tacefusion_radiomics::extract(&image, &mask, &settings);
        assert_eq!(got.is_ok(), accepted, "shift {shift}, {tolerance:?}: {:?}", got.err());
    }
}
