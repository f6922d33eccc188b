//! The two presets: `paper` (the study's size: 1349 TACE patients in four cohorts of three centres,
//! 41 biomarker, 50 bulk and 8 single-cell patients) and `small` (about 150 TACE patients, for tests).
//! The paper's centre split is not public; the split below is an assumption, documented in
//! `docs/synthetic-study.md`.

use tacefusion_core::CohortRole;
use tacefusion_core::study::{PreprocessSettings, SweepSettings, TrainSettings};
use tacefusion_core::units::{AlbuminUnit, LengthUnit};

/// How one centre's scanner and records differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Centre {
    /// Centre code.
    pub code: &'static str,
    /// Voxel spacing (i, j, k), mm.
    pub spacing: [f64; 3],
    /// Voxels (i, j, k).
    pub size: [usize; 3],
    /// Standard deviation of the scanner noise, HU.
    pub noise_sd: f64,
    /// Calibration offset, HU.
    pub hu_offset: f64,
    /// Contrast timing: multiplies every enhancement.
    pub contrast: f64,
    /// Images stored with the first axis reversed (direction -x).
    pub flip_x: bool,
    /// Unit of albumin in the clinical table.
    pub albumin_unit: AlbuminUnit,
    /// Unit of the largest diameter in the clinical table.
    pub diameter_unit: LengthUnit,
}

/// One cohort to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSpec {
    /// Cohort name (also the folder name).
    pub name: &'static str,
    /// Role in the study.
    pub role: CohortRole,
    /// Its centre.
    pub centre: Centre,
    /// Patients.
    pub n: usize,
    /// Prefix of the patient ids.
    pub id_prefix: &'static str,
}

/// A preset: the cohorts and the sizes of everything.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetSpec {
    /// Preset name.
    pub name: &'static str,
    /// Cohorts in output order.
    pub cohorts: Vec<CohortSpec>,
    /// Cells per single-cell patient.
    pub cells_per_patient: usize,
    /// Background genes added to the Hallmark and marker genes.
    pub background_genes: usize,
}

/// The presets `tacefusion synth` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The size of the published study.
    Paper,
    /// A small study that generates in seconds.
    Small,
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "paper" => Ok(Self::Paper),
            "small" => Ok(Self::Small),
            other => Err(format!("unknown preset {other:?} (paper, small)")),
        }
    }
}

fn centre(code: &'static str, in_plane: f64, slice: f64, fov: f64, noise_sd: f64, hu_offset: f64, contrast: f64) -> Centre {
    let n = |s: f64| (fov / s).round() as usize;
    Centre {
        code,
        spacing: [in_plane, in_plane, slice],
        size: [n(in_plane), n(in_plane), n(slice)],
        noise_sd,
        hu_offset,
        contrast,
        flip_x: false,
        albumin_unit: AlbuminUnit::GramsPerLitre,
        diameter_unit: LengthUnit::Centimetre,
    }
}

impl Preset {
    /// The cohorts and sizes of the preset.
    pub fn spec(self) -> PresetSpec {
        // field of view 96 mm (paper: 48 voxels of 2 mm in-plane) or 90 mm at coarser voxels (small)
        let (fov, coarse) = match self {
            Preset::Paper => (96.0, 1.0),
            Preset::Small => (90.0, 1.5),
        };
        let a = centre("A", 2.0 * coarse, 2.5 * coarse, fov, 10.0, 0.0, 1.0);
        let b = centre("B", 1.9 * coarse, 3.0 * coarse, fov, 14.0, 8.0, 0.9);
        let c = Centre {
            flip_x: true,
            albumin_unit: AlbuminUnit::GramsPerDecilitre,
            diameter_unit: LengthUnit::Millimetre,
            ..centre("C", 2.1 * coarse, 2.0 * coarse, fov, 8.0, -6.0, 1.1)
        };
        let r = centre("R", 2.0 * coarse, 2.5 * coarse, fov, 11.0, 3.0, 1.0);
        let t = centre("T", 2.0 * coarse, 3.0 * coarse, fov, 15.0, 5.0, 0.95);
        let s = centre("S", 2.0 * coarse, 2.5 * coarse, fov, 10.0, 0.0, 1.0);
        let sizes: [usize; 7] = match self {
            Preset::Paper => [600, 258, 291, 200, 41, 50, 8],
            Preset::Small => [70, 30, 30, 20, 12, 20, 2],
        };
        let cohort = |name, role, centre: &Centre, n, id_prefix| CohortSpec { name, role, centre: centre.clone(), n, id_prefix };
        PresetSpec {
            name: match self {
                Preset::Paper => "paper",
                Preset::Small => "small",
            },
            cohorts: vec![
                cohort("training", CohortRole::Training, &a, sizes[0], "TA"),
                cohort("internal_validation", CohortRole::InternalValidation, &a, sizes[1], "VA"),
                cohort("external_b", CohortRole::ExternalValidation, &b, sizes[2], "EB"),
                cohort("external_c", CohortRole::ExternalValidation, &c, sizes[3], "EC"),
                cohort("biomarker", CohortRole::Biomarker, &r, sizes[4], "BR"),
                cohort("bulk", CohortRole::Bulk, &t, sizes[5], "BT"),
                cohort("singlecell", CohortRole::Singlecell, &s, sizes[6], "SC"),
            ],
            cells_per_patient: match self {
                Preset::Paper => 1500,
                Preset::Small => 500,
            },
            background_genes: match self {
                Preset::Paper => 1000,
                Preset::Small => 300,
            },
        }
    }
}

impl Preset {
    /// The deep-learning settings the preset's `study.toml` carries: sized so that the sweep runs on
    /// a CPU (`small`: a few minutes inside the test suite; `paper`: within 15 minutes on 2 cores).
    pub fn deep_settings(self) -> (PreprocessSettings, TrainSettings, SweepSettings) {
        let preprocess = PreprocessSettings::default();
        match self {
            Preset::Small => (
                PreprocessSettings { crop_size: [16, 16, 16], crop_spacing_mm: Some(4.0), ..preprocess },
                TrainSettings { epochs: 6, batch_size: 16, learning_rate: 3e-3, width: 4, depth: 2, patience: 3, ..Default::default() },
                SweepSettings {
                    folds: 2,
                    seeds: vec![1],
                    learning_rates: vec![3e-3],
                    widths: vec![4],
                    depths: vec![2],
                    ..Default::default()
                },
            ),
            Preset::Paper => (
                PreprocessSettings { crop_size: [24, 24, 24], crop_spacing_mm: Some(3.0), ..preprocess },
                TrainSettings { epochs: 10, batch_size: 32, learning_rate: 2e-3, width: 8, depth: 3, patience: 3, ..Default::default() },
                SweepSettings {
                    folds: 3,
                    seeds: vec![1],
                    learning_rates: vec![2e-3],
                    widths: vec![8],
                    depths: vec![3],
                    ..Default::default()
                },
            ),
        }
    }
}
