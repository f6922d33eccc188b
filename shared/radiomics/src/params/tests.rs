//! Parameter files read as pyradiomics reads them: settings, image types, classes, empty values,
//! and mistakes named by their line.

use super::*;

#[test]
fn reads_a_pyradiomics_parameter_file() {
    let text = "# Params\nimageType:\n  Original: {}\n\nfeatureClass:\n  shape:\n  firstorder: []\n  glcm:\nsetting:\n  binWidth: 10 # narrower\n  label: 2\n  interpolator: 'sitkBSpline'\n";
    // interpolator without resampling is inert, as in pyradiomics; interpolators not implemented are refused
    assert!(settings_from_yaml(&text.replace("sitkBSpline", "sitkLinear")).unwrap_err().to_string().contains("line 12"));
    let s = settings_from_yaml(text).unwrap();
    assert_eq!(s.resample, None);
    assert_eq!(s.discretization, Discretization::BinWidth(10.0));
    assert_eq!(s.label, 2.0);
    assert_eq!(s.classes, vec![FeatureClass::Shape, FeatureClass::FirstOrder, FeatureClass::Glcm]);
}

#[test]
fn normalisation_resegmentation_and_merged_directions() {
    let text = "setting:\n  normalize: true\n  normalizeScale: 100\n  resegmentRange: [-3, 3]\n  resegmentMode: sigma\n  weightingNorm: no_weighting\n  binCount: 64\n";
    let s = settings_from_yaml(text).unwrap();
    assert_eq!(s.normalize, Some(Normalize { scale: 100.0, outliers: None }));
    assert_eq!(s.resegment, Some(Resegment { range: vec![-3.0, 3.0], mode: ResegmentMode::Sigma, shape: false }));
    assert!(s.merge_directions);
    assert_eq!(s.discretization, Discretization::BinCount(64));
    for text in ["setting:\n  binCount: 8\n  binWidth: 5\n", "setting:\n  binWidth: 5\n  binCount: 8\n"] {
        assert_eq!(settings_from_yaml(text).unwrap().discretization, Discretization::BinCount(8), "{text:?}");
    }
    assert!(settings_from_yaml("setting:\n  weightingNorm: manhattan\n").is_err());
    let t = settings_from_yaml("imageType:\n  Original: {}\n  LoG:\n    sigma: [1.0, 3]\n  Wavelet: {}\n  Square:\n").unwrap();
    let log = |mm, integer| ImageType::LoG(Sigma { mm, integer });
    assert_eq!(t.image_types, vec![ImageType::Original, log(1.0, false), log(3.0, true), ImageType::Wavelet, ImageType::Square]);
}

#[test]
fn resampling_with_the_bspline_interpolator() {
    let s = settings_from_yaml("setting:\n  interpolator: sitkBSpline\n  resampledPixelSpacing: [2, 2, 0]\n  padDistance: 5\n").unwrap();
    assert_eq!(s.resample, Some([2.0, 2.0, 0.0]));
    // sitkBSpline is pyradiomics' default interpolator; a null interpolator turns resampling off
    assert_eq!(settings_from_yaml("setting:\n  resampledPixelSpacing: [1, 1, 1]\n").unwrap().resample, Some([1.0; 3]));
    assert_eq!(settings_from_yaml("setting:\n  resampledPixelSpacing: [1, 1, 1]\n  interpolator:\n").unwrap().resample, None);
    assert_eq!(settings_from_yaml("setting:\n  interpolator: 23\n  resampledPixelSpacing: [1, 1, 1]\n").unwrap().resample, Some([1.0; 3]));
    for (text, line) in [
        // SimpleITK 1.x's number for sitkBSpline is no interpolator in SimpleITK 2.x
        ("setting:\n  interpolator: 3\n  resampledPixelSpacing: [1, 1, 1]\n", "line 2"),
        ("setting:\n  resampledPixelSpacing: [1, 1, 1]\n  interpolator: sitkLinear\n", "line 3"),
        ("setting:\n  resampledPixelSpacing: [1, 1]\n", "line 2"),
        ("setting:\n  resampledPixelSpacing: [1, -1, 1]\n", "line 2"),
        ("setting:\n  padDistance: 2.5\n  resampledPixelSpacing: [1, 1, 1]\n", "line 2"),
        ("setting:\n  preCrop: yes please\n", "line 2"),
    ] {
        let e = settings_from_yaml(text).unwrap_err().to_string();
        assert!(e.contains(line), "{text:?}: {e}");
    }
    let s = settings_from_yaml("setting:\n  padDistance: 10\n  preCrop: true\n").unwrap();
    assert_eq!((s.pad_distance, s.pre_crop), (10, true));
}

#[test]
fn force2d_and_its_dimension() {
    // (parameter text, slice axis read or None); the classes are listed, as force2D needs
    let classes = "featureClass:\n  glcm:\n";
    let cases = [
        ("setting:\n  force2D: false\n  force2Ddimension: 1\n", None),
        ("setting:\n  force2D: true\n", Some(SliceAxis::Z)),
        ("setting:\n  force2Ddimension: 2\n  force2D: true\n", Some(SliceAxis::X)),
        ("setting:\n  force2D: true\n  force2Ddimension: 1\n", Some(SliceAxis::Y)),
    ];
    for (text, want) in cases {
        assert_eq!(settings_from_yaml(&format!("{text}{classes}")).unwrap().force2d, want, "{text:?}");
    }
    for text in ["setting:\n  force2D: true\n  force2Ddimension: 3\n", "setting:\n  force2D: yes\n"] {
        assert!(settings_from_yaml(&format!("{text}{classes}")).unwrap_err().to_string().contains("line"), "{text:?}");
    }
    // every class under force2D includes shape2D (pyradiomics: its features for one slice, an
    // error otherwise), which is not implemented: refused, not left out
    for text in ["setting:\n  force2D: true\n", "setting:\n  force2D: true\nfeatureClass: {}\n"] {
        assert!(settings_from_yaml(text).unwrap_err().to_string().contains("shape2D"), "{text:?}");
    }
}

#[test]
fn empty_values_read_as_pyradiomics_reads_them() {
    // files pyradiomics 3.0.1 runs: an empty featureClass is every class, an empty binCount or
    // binWidth the default, a resegmentMode without a range no re-segmentation
    let s = settings_from_yaml("featureClass: {}\nsetting:\n  binCount: ~\n  binWidth:\n  resegmentMode: relative\n").unwrap();
    assert_eq!(s.classes, FeatureClass::ALL.to_vec());
    assert_eq!(s.discretization, Discretization::BinWidth(25.0));
    assert_eq!(s.resegment, None);
    let s = settings_from_yaml("setting:\n  geometryTolerance: 0.01\n").unwrap();
    assert_eq!(s.geometry_tolerance, Some(0.01));
    assert!(settings_from_yaml("setting:\n  geometryTolerance: -1\n").unwrap_err().to_string().contains("line 2"));
}

#[test]
fn mistakes_name_their_line() {
    let cases = [
        ("setting:\n  binWidht: 25\n", "line 2", "binWidht"),
        ("setings:\n  binWidth: 25\n", "line 1", "setings"),
        ("featureClass:\n  glcmm:\n", "line 2", "glcmm"),
        ("imageType:\n  LoG:\n    sigmas: [1.0, 2.0]\n", "line 3", "sigmas"),
        ("imageType:\n  Gabor: {}\n", "line 2", "Gabor"),
        ("setting:\n  binWidth: wide\n", "line 2", "binWidth"),
        // non-booleans used to switch normalisation off, or be ignored, silently
        ("setting:\n  binWidth: 25\n  normalize: 1\n", "line 3", "normalize"),
        ("setting:\n  resegmentShape: 1\n", "line 2", "resegmentShape"),
        ("setting:\n  minimumROIDimensions: 4\n", "line 2", "minimumROIDimensions"),
    ];
    for (text, line, key) in cases {
        let e = settings_from_yaml(text).unwrap_err().to_string();
        assert!(e.contains(line) && e.contains(key), "{text:?}: {e}");
    }
    assert_eq!(
        parse_yaml("a: [1, 2.5, x]\n").unwrap(),
        Yaml::Map(vec![("a".into(), 1, Yaml::List(vec![Yaml::Number(1.0, true), Yaml::Number(2.5, false), Yaml::Text("x".into())]))])
    );
}
