//! `study.toml` parsing: a valid file round-trips, every kind of mistake names its line or key.

use super::*;

const VALID: &str = r#"
[study]
name = "demo"
seed = 3

[[cohorts]]
name = "a_train"
role = "training"
centre = "A"
clinical = "a/clinical.csv"
images = { image = "a/{patient}/{phase}.nii.gz", mask = "a/{patient}/{phase}_mask.nii.gz" }

[[cohorts]]
name = "c_ext"
role = "external_validation"
centre = "C"
clinical = "c/clinical.csv"
units = { albumin = "g/dL", diameter = "mm", afp = "IU/mL" }
images = { image = "c/{patient}/{phase}.nii.gz", mask = "c/{patient}/{phase}_mask.nii.gz" }

[evaluation]
bootstrap_replicates = 200
"#;

#[test]
fn a_valid_study_parses_and_round_trips() {
    let s = Study::parse(VALID, Path::new("study.toml")).unwrap();
    assert_eq!(s.cohorts.len(), 2);
    assert_eq!(s.cohorts[1].units.albumin, AlbuminUnit::GramsPerDecilitre);
    assert_eq!(s.cohorts[1].units.bilirubin, BilirubinUnit::MicromolesPerLitre);
    assert_eq!(s.cohorts[1].units.diameter, LengthUnit::Millimetre);
    assert_eq!(
        (s.cohorts[0].units.afp, s.cohorts[1].units.afp),
        (AfpUnit::NanogramsPerMillilitre, AfpUnit::InternationalUnitsPerMillilitre)
    );
    // the default AFP unit is not written back (task keys of studies that never set it stay)
    assert!(!s.to_toml().contains("ng/mL") && s.to_toml().contains("IU/mL"));
    assert_eq!(s.evaluation.bootstrap_replicates, 200);
    assert_eq!(s.evaluation.auc_months, vec![12.0, 24.0, 36.0]);
    assert_eq!(s.cohorts[0].images.as_ref().unwrap().phases, vec!["arterial", "portal_venous"]);
    let again = Study::parse(&s.to_toml(), Path::new("again.toml")).unwrap();
    assert_eq!(again, s);
}

#[test]
fn mistakes_name_the_line_or_the_key() {
    // (edit of the valid text, text the error must contain)
    let cases: &[(&str, &str, &[&str])] = &[
        ("seed = 3", "seed = 3\ncolour = \"red\"", &["study.toml:5:", "colour"]),
        ("role = \"training\"", "role = \"trainer\"", &["study.toml:8:", "trainer"]),
        ("units = { albumin = \"g/dL\"", "units = { albumin = \"mg/L\"", &["study.toml:18:", "mg/L"]),
        ("bootstrap_replicates = 200", "bootstrap_replicates = -1", &["study.toml:22:"]),
        ("[evaluation]", "[evaluaton]", &["study.toml:21:", "evaluaton"]),
        ("role = \"training\"", "role = \"bulk\"", &["cohorts", "training"]),
        ("name = \"c_ext\"", "name = \"a_train\"", &["cohorts[1].name", "a_train"]),
        ("a/{patient}/{phase}.nii.gz", "a/{patient}.nii.gz", &["cohorts[0].images.image", "{phase}"]),
        ("role = \"external_validation\"", "role = \"training\"", &["cohorts", "2 cohorts have role Training", "a_train, c_ext"]),
        (
            "_mask.nii.gz\" }\n\n[[cohorts]]",
            "_mask.nii.gz\", phases = [\"arterial\", \"arterial\"] }\n\n[[cohorts]]",
            &["cohorts[0].images.phases", "\"arterial\" is listed twice"],
        ),
        ("_mask.nii.gz\" }\n\n[[cohorts]]", "_mask.nii.gz\", phases = [] }\n\n[[cohorts]]", &["cohorts[0].images.phases", "no phase"]),
        ("[evaluation]", "[sweep]\nseeds = [1, 2, 1]\n\n[evaluation]", &["sweep.seeds", "1 is listed twice"]),
        (
            "[evaluation]",
            "[preprocess]\ncrop_spacing_mm = 0.0\n\n[evaluation]",
            &["preprocess.crop_spacing_mm", "0 is not a positive spacing"],
        ),
        ("[evaluation]", "[preprocess]\ncrop_size = [32, 0, 32]\n\n[evaluation]", &["preprocess.crop_size", "empty axis"]),
        ("[evaluation]", "[preprocess]\nhu_window = [200.0, -100.0]\n\n[evaluation]", &["preprocess.hu_window", "low < high"]),
        ("[evaluation]", "[train]\naugmentation = 1.5\n\n[evaluation]", &["train.augmentation", "1.5 is not in [0, 1]"]),
        ("[evaluation]", "[train]\nlearning_rate = 0.0\n\n[evaluation]", &["train.learning_rate"]),
        ("[evaluation]", "[train]\nepochs = 0\n\n[evaluation]", &["train.epochs", "0: at least 1"]),
        ("[evaluation]", "[train]\nbatch_size = 1\n\n[evaluation]", &["train.batch_size", "1: at least 2"]),
        ("[evaluation]", "[train]\nwidth = 0\n\n[evaluation]", &["train.width"]),
        ("[evaluation]", "[sweep]\nwidths = [8, 0]\n\n[evaluation]", &["sweep.widths"]),
        ("bootstrap_replicates = 200", "bootstrap_replicates = 200\nreplicates_per_task = 0", &["evaluation.replicates_per_task"]),
        ("bootstrap_replicates = 200", "bootstrap_replicates = 200\nauc_months = [24.0, 12.0]", &["evaluation.auc_months", "increasing"]),
        ("bootstrap_replicates = 200", "bootstrap_replicates = 200\ncalibration_months = -3.0", &["evaluation.calibration_months"]),
    ];
    for (from, to, needles) in cases {
        let text = VALID.replacen(from, to, 1);
        let err = Study::parse(&text, Path::new("study.toml")).unwrap_err().to_string();
        for n in *needles {
            assert!(err.contains(n), "{to:?}: {err:?} lacks {n:?}");
        }
    }
}

#[test]
fn relative_paths_resolve_against_the_study_file() {
    assert_eq!(Study::resolve(Path::new("/data/s/study.toml"), "a/x.csv"), "/data/s/a/x.csv");
    assert_eq!(Study::resolve(Path::new("/data/s/study.toml"), "s3://bucket/x.csv"), "s3://bucket/x.csv");
    assert_eq!(Study::resolve(Path::new("/data/s/study.toml"), "/abs/x.csv"), "/abs/x.csv");
}

#[test]
fn phase_files_take_each_patient_once_in_order_then_phases() {
    let layout = ImageLayout {
        image: "images/{patient}/{phase}.nii.gz".into(),
        mask: "/masks/{patient}_{phase}.nrrd".into(),
        phases: vec!["arterial".into(), "portal_venous".into()],
        label: 1,
    };
    // ids as the clinical reader takes them: " P1 " is P1, NA and an empty id are no patient
    let files = layout.phase_files(Path::new("/data/study.toml"), ["P2", " P1 ", "NA", "", "P2", "P1"]);
    let got: Vec<(&str, &str, String, String)> =
        files.iter().map(|f| (f.patient.as_str(), f.phase.as_str(), f.image.display().to_string(), f.mask.display().to_string())).collect();
    assert_eq!(
        got,
        [
            ("P2", "arterial", "/data/images/P2/arterial.nii.gz".to_string(), "/masks/P2_arterial.nrrd".to_string()),
            ("P2", "portal_venous", "/data/images/P2/portal_venous.nii.gz".to_string(), "/masks/P2_portal_venous.nrrd".to_string()),
            ("P1", "arterial", "/data/images/P1/arterial.nii.gz".to_string(), "/masks/P1_arterial.nrrd".to_string()),
            ("P1", "portal_venous", "/data/images/P1/portal_venous.nii.gz".to_string(), "/masks/P1_portal_venous.nrrd".to_string()),
        ]
    );
}
