//! `tacefusion radiomics` driven as a user drives it: pyradiomics' default features on lung1, and bad
//! inputs (empty mask, a single voxel, grid mismatch, NaN voxel, unreadable file) named with the file
//! and the problem while a batch goes on with the other patients.

#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tacefusion_imaging::{Geometry, VoxelData, write_nifti};

fn pyradiomics(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/radiomics/pyradiomics").join(name)
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn json_output_has_the_107_default_features_of_pyradiomics() {
    let (image, mask) = (pyradiomics("lung1_image.nrrd"), pyradiomics("lung1_label.nrrd"));
    let (ok, stdout, stderr) = run(&["radiomics", "--image", image.to_str().unwrap(), "--mask", mask.to_str().unwrap(), "--json"]);
    assert!(ok, "{stderr}");
    let ours: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let reference = std::fs::read_to_string(pyradiomics("lung1_default_features.csv")).unwrap();
    let mut n = 0;
    for line in reference.lines().skip(1) {
        let (name, value) = line.split_once(',').unwrap();
        let want: f64 = value.parse().unwrap();
        let got = ours[name].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-6 * want.abs().max(1e-12), "{name}: {got} vs {want}");
        n += 1;
    }
    assert_eq!((n, ours.len()), (107, 107));
}

fn volume(dir: &Path, name: &str, size: [usize; 3], spacing: f64, values: Vec<f32>) -> PathBuf {
    let path = dir.join(name);
    write_nifti(&path, &Geometry::axis_aligned(size, [spacing; 3], [0.0; 3]), &VoxelData::F32(values)).unwrap();
    path
}

#[test]
fn bad_inputs_are_named_and_a_batch_goes_on() {
    let dir = std::env::temp_dir().join(format!("tacefusion-radiomics-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = 6 * 6 * 6;
    let image: Vec<f32> = (0..n).map(|i| (i * 37 % 200) as f32).collect();
    let cube: Vec<f32> = (0..n)
        .map(|i| if (1..5).contains(&(i % 6)) && (1..5).contains(&(i / 6 % 6)) && (1..5).contains(&(i / 36)) { 1.0 } else { 0.0 })
        .collect();
    let good_image = volume(&dir, "image.nii.gz", [6, 6, 6], 1.0, image.clone());
    let good_mask = volume(&dir, "mask.nii.gz", [6, 6, 6], 1.0, cube.clone());
    let empty = volume(&dir, "empty.nii.gz", [6, 6, 6], 1.0, vec![0.0; n]);
    let mut one = vec![0.0; n];
    one[50] = 1.0;
    let single = volume(&dir, "single.nii.gz", [6, 6, 6], 1.0, one);
    let other_grid = volume(&dir, "grid.nii.gz", [6, 6, 6], 2.0, cube.clone());
    let mut with_nan = image.clone();
    with_nan[3 + 6 * (3 + 6 * 3)] = f32::NAN;
    let nan_image = volume(&dir, "nan.nii.gz", [6, 6, 6], 1.0, with_nan);
    std::fs::write(dir.join("broken.nii.gz"), b"not a nifti").unwrap();
    // (image, mask, words the error must hold)
    let cases: [(&Path, &Path, &[&str]); 5] = [
        (&good_image, &empty, &["no voxel with label 1", "empty.nii.gz"]),
        (&good_image, &single, &["too small", "single.nii.gz"]),
        (&good_image, &other_grid, &["different grids", "grid.nii.gz"]),
        (&nan_image, &good_mask, &["not finite", "nan.nii.gz"]),
        (&dir.join("broken.nii.gz"), &good_mask, &["broken.nii.gz"]),
    ];
    for (image, mask, needles) in cases {
        let (ok, _, stderr) = run(&["radiomics", "--image", image.to_str().unwrap(), "--mask", mask.to_str().unwrap()]);
        assert!(!ok);
        for w in needles {
            assert!(stderr.contains(w), "{}: {stderr:?} lacks {w:?}", mask.display());
        }
    }
    let batch = dir.join("batch.csv");
    std::fs::write(&batch, "patient,image,mask\nP1,image.nii.gz,mask.nii.gz\nP2,image.nii.gz,empty.nii.gz\nP3,image.nii.gz,mask.nii.gz\n")
        .unwrap();
    let out = dir.join("features.csv");
    let (ok, _, stderr) = run(&["radiomics", "--batch", batch.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let features = std::fs::read_to_string(&out).unwrap();
    assert_eq!(features.lines().filter(|l| l.starts_with("P1,")).count(), 107);
    assert_eq!(features.lines().filter(|l| l.starts_with("P3,")).count(), 107);
    assert!(!features.contains("P2,"));
    let errors = std::fs::read_to_string(dir.join("features.errors.csv")).unwrap();
    assert!(errors.contains("P2") && errors.contains("empty.nii.gz"), "{errors}");
}
