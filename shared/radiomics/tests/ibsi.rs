//! Agreement with the IBSI chapter 1 digital phantom reference values
//! (`../shared/data/radiomics/ibsi1_digital_phantom/reference_values.csv`), within the IBSI tolerance.

#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use tacefusion_imaging::read_nifti;
use tacefusion_radiomics::Discretization;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/radiomics/ibsi1_digital_phantom")
}

/// IBSI tag -> (reference value, tolerance). A tolerance of 0 means the value is exact to the digits
/// printed: half a unit of the last printed digit is allowed.
fn reference() -> BTreeMap<String, (f64, f64)> {
    let mut reader = csv::Reader::from_path(dir().join("reference_values.csv")).unwrap();
    let mut out = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let (Some(value), Some(tol), Some(tag)) = (row.get(4), row.get(5), row.get(9)) else { continue };
        let (Ok(v), Ok(t)) = (value.trim().parse::<f64>(), tol.trim().parse::<f64>()) else { continue };
        let printed = value.trim().trim_start_matches('-');
        let half_unit = match printed.split_once('.') {
            Some((_, frac)) => 0.5 * 10f64.powi(-(frac.trim_end_matches(|c: char| !c.is_ascii_digit()).len() as i32)),
            None => 0.5,
        };
        // significant digits: 0.503 printed with three decimals, 1200 with a unit of 10 where trailing zeros
        let half_unit = if printed.contains('.') || !printed.ends_with('0') {
            half_unit
        } else {
            0.5 * 10f64.powi(printed.len() as i32 - printed.trim_end_matches('0').len() as i32)
        };
        out.insert(tag.trim().to_string(), (v, t.max(half_unit)));
    }
    out
}

/// Features pyradiomics itself computes outside the IBSI tolerance on this phantom, with its value
/// (`../shared/data/README.md`): the PCA axis lengths, where pyradiomics (and we, agreeing with it)
/// take the eigenvalues of the population covariance of the voxel centres.
const KNOWN_DEVIATIONS: [(&str, f64); 2] = [("morph_pca_min_axis", 9.245), ("morph_pca_least_axis", 8.478)];

#[test]
fn digital_phantom_every_feature_within_ibsi_tolerance() {
    let image = read_nifti(&dir().join("image.nii.gz")).unwrap();
    let mask = read_nifti(&dir().join("mask.nii.gz")).unwrap();
    // the phantom's gray levels are already discrete (1..6): a bin width of 1 keeps them
    let settings = tacefusion_radiomics::Settings { discretization: Discretization::BinWidth(1.0), ..Default::default() };
    let features = tacefusion_radiomics::extract(&image, &mask, &settings).unwrap();
    let want = reference();
    let mut checked = 0;
    let mut failures = Vec::new();
    for f in &features {
        let Some(tag) = f.ibsi else { continue };
        let Some(&(v, t)) = want.get(tag) else { continue };
        checked += 1;
        // IBSI's kurtosis is the excess kurtosis
        let value = if tag == "stat_kurt" { f.value - 3.0 } else { f.value };
        match KNOWN_DEVIATIONS.iter().find(|(k, _)| *k == tag) {
            Some(&(_, pyradiomics)) => {
                assert!((value - pyradiomics).abs() < 5e-4, "{tag}: ours {value}, pyradiomics {pyradiomics}");
                assert!((value - v).abs() > t, "{tag} now within the IBSI tolerance: drop it from KNOWN_DEVIATIONS");
            }
            // written so that a NaN fails
            None if (value - v).is_nan() || (value - v).abs() > t + 1e-12 => {
                failures.push(format!("{tag} ({}): ours {value} IBSI {v} +- {t}", f.name))
            }
            None => {}
        }
    }
    assert!(failures.is_empty(), "outside the IBSI tolerance:\n{}", failures.join("\n"));
    assert_eq!(checked, 102, "every feature with an IBSI tag and a reference value is checked");
}
