//! Filtered image types against pyradiomics itself, run in the peers' Python environment on the
//! same parameter file (skipped with a message when the environment is absent): every feature of
//! every image type within 1e-6 relative, on breast1 and lung1; and resampling to the image's own
//! spacing.

#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use tacefusion_imaging::{VoxelData, read_nrrd, read_volume, read_volume_stored, write_nifti};
use tacefusion_radiomics::extract;
use tacefusion_radiomics::params::settings_from_yaml;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/radiomics/pyradiomics").join(name)
}

fn peer_python() -> Option<PathBuf> {
    let p = std::env::var("PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/tacefusion-peers/bin/python"));
    p.exists().then_some(p)
}

/// pyradiomics' features for a parameter file on one image and mask, by name.
fn pyradiomics(python: &PathBuf, params: &str, image: &Path, mask: &Path) -> BTreeMap<String, f64> {
    let dir = std::env::temp_dir().join(format!("tacefusion-peer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join(format!("params-{}.yaml", params.len()));
    std::fs::write(&yaml, params).unwrap();
    let script = r#"
import sys, json, logging, warnings
warnings.filterwarnings("ignore")
import radiomics
radiomics.setVerbosity(logging.ERROR)
from radiomics.featureextractor import RadiomicsFeatureExtractor
ex = RadiomicsFeatureExtractor(sys.argv[1])
out = ex.execute(sys.argv[2], sys.argv[3])
print(json.dumps({k: float(v) for k, v in out.items() if not k.startswith("diagnostics")}))
"#;
    let out = Command::new(python)
        .args(["-c", script, yaml.to_str().unwrap(), image.to_str().unwrap(), mask.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "pyradiomics failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs both on `params` over the shipped cases and returns the disagreements (name, ours, theirs)
/// beyond `tolerance`; None without the peers' environment.
fn compare(params: &str, cases: &[&str], tolerance: f64) -> Option<Vec<String>> {
    let files: Vec<(String, PathBuf, PathBuf)> =
        cases.iter().map(|c| (c.to_string(), data(&format!("{c}_image.nrrd")), data(&format!("{c}_label.nrrd")))).collect();
    compare_files(params, &files, tolerance)
}

/// [`compare`] over (case, image, mask) files.
fn compare_files(params: &str, cases: &[(String, PathBuf, PathBuf)], tolerance: f64) -> Option<Vec<String>> {
    let Some(python) = peer_python() else {
        eprintln!("skipped: the peers' Python environment is absent (run ../shared/peers/install.sh or set PEERS_PYTHON)");
        return None;
    };
    let mut failures = Vec::new();
    for (case, image_file, mask_file) in cases {
        let theirs = pyradiomics(&python, params, image_file, mask_file);
        let (image, image_pixel) = read_volume_stored(image_file).unwrap();
        let settings = tacefusion_radiomics::Settings { image_pixel: Some(image_pixel), ..settings_from_yaml(params).unwrap() };
        let mask = read_volume(mask_file).unwrap();
        let ours: BTreeMap<String, f64> = extract(&image, &mask, &settings).unwrap().into_iter().map(|f| (f.name, f.value)).collect();
        for (name, &want) in &theirs {
            match ours.get(name) {
                None => failures.push(format!("{case} {name}: not computed")),
                Some(&got) => {
                    let rel = (got - want).abs() / want.abs().max(1e-12);
                    // NaN on both sides is agreement (pyradiomics returns NaN too); NaN on one side fails
                    let agree = (got.is_nan() && want.is_nan()) || rel <= tolerance || (got - want).abs() <= 1e-10;
                    if !agree {
                        failures.push(format!("{case} {name}: {got} vs pyradiomics {want} (rel {rel:.1e})"));
                    }
                }
            }
        }
        for name in ours.keys().filter(|k| !theirs.contains_key(*k)) {
            failures.push(format!("{case} {name}: not computed by pyradiomics"));
        }
    }
    Some(failures)
}

/// Fails with the disagreements of a comparison, if it ran.
fn assert_agree(failures: Option<Vec<String>>) {
    if let Some(f) = failures {
        assert!(f.is_empty(), "{} disagreements:\n{}", f.len(), f.join("\n"));
    }
}

/// `data` written as NIfTI file `name` on grid `g` in this test run's folder.
fn written(name: &str, g: &tacefusion_imaging::Geometry, data: VoxelData) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tacefusion-peer-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    write_nifti(&file, g, &data).unwrap();
    file
}

#[test]
fn point_filters_match_pyradiomics() {
    let params = "imageType:\n  Square: {}\n  SquareRoot: {}\n  Logarithm: {}\n  Exponential: {}\n";
    assert_agree(compare(params, &["breast1", "lung1"], 1e-6));
}

#[test]
fn wavelet_matches_pyradiomics() {
    let params = "imageType:\n  Wavelet: {}\n";
    assert_agree(compare(params, &["breast1", "lung1"], 1e-6));
}

#[test]
fn log_matches_pyradiomics() {
    // The LoG response reproduces SimpleITK's LaplacianRecursiveGaussianImageFilter bit for bit on
    // breast1 and lung1 (float32 intermediates and coefficient arithmetic in ITK's order), so the 2 x 186
    // LoG features per case agree to 2.1e-15 relative (firstorder Energy/TotalEnergy, summed in another
    // order; every other feature within 1e-15). 1e-12 keeps a margin for summation order only.
    // An integer sigma is named as Python prints it (`log-sigma-3-mm-3D`, not `3-0`).
    let params = "imageType:\n  LoG:\n    sigma: [1.0, 3]\n";
    assert_agree(compare(params, &["breast1", "lung1"], 1e-12));
}

#[test]
fn pre_cropped_filters_match_pyradiomics() {
    // preCrop cuts the image to the ROI's box padded by padDistance voxels before filtering: the LoG and
    // wavelet responses near the crop's faces differ from the whole image's, so this checks the crop itself.
    let params = "setting:\n  preCrop: true\n  padDistance: 3\nimageType:\n  Original: {}\n  LoG:\n    sigma: [1.0]\n  Wavelet: {}\n";
    assert_agree(compare(params, &["breast1", "lung1"], 1e-9));
}

#[test]
fn resampling_to_the_images_own_spacing_crops_like_pyradiomics() {
    // lung1 is at 0.5703125 x 0.5703125 x 5 mm: nothing to interpolate, but the image is still cut to
    // the ROI's box padded by padDistance (5), which the LoG response near the faces shows
    let params = "setting:\n  resampledPixelSpacing: [0.5703125, 0.5703125, 5.0]\nimageType:\n  Original: {}\n  LoG:\n    sigma: [3.0]\n";
    assert_agree(compare(params, &["lung1"], 1e-9));
}

#[test]
fn resampling_keeps_the_files_pixel_type_as_pyradiomics_does() {
    // lung1's CT (whole numbers) as float32 and as int16: resampled to 1 mm, interpolated values are
    // truncated in the int16 file only (57 of 58 features moved when a float file was read as int16)
    let (image, mask) = (read_nrrd(&data("lung1_image.nrrd")).unwrap(), data("lung1_label.nrrd"));
    let g = image.geometry;
    let as_float = written("lung1_float32.nii.gz", &g, VoxelData::F32(image.data.clone()));
    let as_int = written("lung1_int16.nii.gz", &g, VoxelData::I16(image.data.iter().map(|&v| v as i16).collect()));
    let cases = [("lung1-float32".to_string(), as_float, mask.clone()), ("lung1-int16".to_string(), as_int, mask)];
    let params =
        "setting:\n  resampledPixelSpacing: [1, 1, 1]\nimageType:\n  Original: {}\nfeatureClass:\n  firstorder:\n  glcm:\n  glszm:\n";
    assert_agree(compare_files(params, &cases, 1e-6));
}

#[test]
fn a_float_mask_is_truncated_to_labels_as_pyradiomics_casts_it() {
    // lung1's mask as float32: tumour voxels 1.0 or 1.5 (both label 1 once cast to an unsigned
    // integer), the voxel right of each tumour voxel, when outside, 0.9999 (background)
    let mask = read_nrrd(&data("lung1_label.nrrd")).unwrap();
    let g = mask.geometry;
    let values: Vec<f32> = (0..g.len())
        .map(|n| match (mask.data[n] == 1.0, n % g.size[0] > 0 && mask.data[n - 1] == 1.0) {
            (true, _) => 1.0 + 0.5 * (n % 2) as f32,
            (false, true) => 0.9999,
            (false, false) => 0.0,
        })
        .collect();
    let file = written("lung1_float_mask.nii.gz", &g, VoxelData::F32(values));
    let cases = [("lung1-float-mask".to_string(), data("lung1_image.nrrd"), file)];
    assert_agree(compare_files("imageType:\n  Original: {}\nfeatureClass:\n  shape:\n  firstorder:\n  glszm:\n", &cases, 1e-9));
}

#[test]
fn shape_after_a_resegmentation_is_cut_to_its_box_as_in_pyradiomics() {
    // resegmentRange [0, 1000] leaves part of lung1's tumour; with resegmentShape false pyradiomics
    // computes shape on the original mask within the re-segmented mask's bounding box (VoxelVolume
    // 1118.9 mm3, not the whole tumour's 1361.2), texture on the re-segmented voxels
    let params = "setting:\n  resegmentRange: [0, 1000]\nimageType:\n  Original: {}\nfeatureClass:\n  shape:\n  firstorder:\n  glcm:\n";
    assert_agree(compare(params, &["lung1"], 1e-9));
}

#[test]
fn a_single_slice_roi_matches_pyradiomics() {
    // lung1's tumour cut to its largest slice: the run-length directions leaving the slice see runs
    // of length 1 only, and pyradiomics drops them (they used to be averaged in)
    let mask = read_nrrd(&data("lung1_label.nrrd")).unwrap();
    let g = mask.geometry;
    let plane = g.size[0] * g.size[1];
    let in_slice = |k: usize| mask.data[k * plane..(k + 1) * plane].iter().filter(|&&v| v == 1.0).count();
    let k = (0..g.size[2]).max_by_key(|&k| in_slice(k)).unwrap();
    let one: Vec<u8> = (0..g.len()).map(|n| (n / plane == k && mask.data[n] == 1.0) as u8).collect();
    let file = written("lung1_one_slice.nii.gz", &g, VoxelData::U8(one));
    let cases = [("lung1-slice".to_string(), data("lung1_image.nrrd"), file)];
    assert_agree(compare_files("imageType:\n  Original: {}\nfeatureClass:\n  glrlm:\n  firstorder:\n", &cases, 1e-9));
}

#[test]
fn an_isolated_voxel_counts_in_the_ngtdm_as_pyradiomics_counts_it() {
    // lung1's tumour plus one mask voxel with no mask neighbour: pyradiomics counts it in n_i with a
    // difference of 0 (it used to be left out, which changed all five NGTDM features)
    let mask = read_nrrd(&data("lung1_label.nrrd")).unwrap();
    let g = mask.geometry;
    let at = |i: usize, j: usize, k: usize| mask.data[g.index(i, j, k)] == 1.0;
    // 3 columns beyond the tumour's last column: no mask voxel within one voxel of it
    let last = (0..g.len()).filter(|&n| mask.data[n] == 1.0).max_by_key(|&n| n % g.size[0]).unwrap();
    let (i, j, k) = (last % g.size[0] + 3, last / g.size[0] % g.size[1], last / (g.size[0] * g.size[1]));
    let alone = (i - 1..=i + 1).all(|a| (j - 1..=j + 1).all(|b| (k - 1..=k + 1).all(|c| !at(a, b, c))));
    assert!(alone, "the planted voxel has a mask neighbour");
    let mut planted: Vec<u8> = mask.data.iter().map(|&v| (v == 1.0) as u8).collect();
    planted[g.index(i, j, k)] = 1;
    let file = written("lung1_and_one.nii.gz", &g, VoxelData::U8(planted));
    let cases = [("lung1-alone".to_string(), data("lung1_image.nrrd"), file)];
    assert_agree(compare_files("imageType:\n  Original: {}\nfeatureClass:\n  ngtdm:\n", &cases, 1e-9));
}

#[test]
fn bin_edges_of_a_decimal_width_are_numpys() {
    // integer intensities -1000..-980 binned by 0.1 and 0.3: values lie on bin edges, where numpy's arange
    // (low + k ((low + w) - low)) and low + k w differ by an ulp and put them in different bins
    let g = tacefusion_imaging::Geometry::axis_aligned([10, 10, 10], [1.0; 3], [0.0; 3]);
    let image: Vec<i16> = (0..g.len()).map(|n| ((n % 10 + n / 10 % 10 + n / 100) % 21) as i16 - 1000).collect();
    let mask: Vec<u8> = (0..g.len()).map(|n| [n % 10, n / 10 % 10, n / 100].iter().all(|&c| (2..8).contains(&c)) as u8).collect();
    let (image_file, mask_file) = (written("ramp.nii.gz", &g, VoxelData::I16(image)), written("cube.nii.gz", &g, VoxelData::U8(mask)));
    for width in ["0.1", "0.3"] {
        let params =
            format!("setting:\n  binWidth: {width}\nimageType:\n  Original: {{}}\nfeatureClass:\n  glcm:\n  glszm:\n  firstorder:\n");
        let cases = [(format!("ramp-{width}"), image_file.clone(), mask_file.clone())];
        assert_agree(compare_files(&params, &cases, 1e-9));
    }
}
