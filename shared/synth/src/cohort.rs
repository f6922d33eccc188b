//! The patients of every cohort and the defective records planted among them.

use rand::seq::SliceRandom;
use serde::Serialize;
use tacefusion_core::CohortRole;

use crate::model::{Clinical, Effects, Latent, Outcome, draw_clinical, draw_latent, draw_outcome, log_hazard};
use crate::preset::{CohortSpec, PresetSpec};
use crate::rng::stream;

/// h planted in single-cell patients: the first half high risk, the rest low.
pub const SINGLECELL_H: f64 = 1.5;

/// A kind of defective record, each of which the pipeline must exclude with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DefectKind {
    /// `os_months` is empty.
    MissingSurvivalTime,
    /// `os_months` is negative.
    NegativeSurvivalTime,
    /// The arterial-phase mask holds no tumour voxel.
    EmptyMask,
    /// The portal-venous mask is on another grid than its image.
    MaskGridMismatch,
    /// Two clinical rows share a patient id (both rows are listed).
    DuplicatePatientId,
    /// The portal-venous image file is cut short.
    TruncatedImage,
    /// Albumin recorded in g/dL in a centre that declares g/L.
    AlbuminUnit,
}

impl DefectKind {
    /// Every kind, with the cohort it is planted in.
    pub const PLAN: [(DefectKind, &'static str); 7] = [
        (DefectKind::MissingSurvivalTime, "training"),
        (DefectKind::NegativeSurvivalTime, "training"),
        (DefectKind::AlbuminUnit, "training"),
        (DefectKind::DuplicatePatientId, "internal_validation"),
        (DefectKind::EmptyMask, "internal_validation"),
        (DefectKind::MaskGridMismatch, "external_b"),
        (DefectKind::TruncatedImage, "external_b"),
    ];

    /// The snake_case name used in `truth/defects.csv`.
    pub fn name(self) -> &'static str {
        match self {
            DefectKind::MissingSurvivalTime => "missing_survival_time",
            DefectKind::NegativeSurvivalTime => "negative_survival_time",
            DefectKind::EmptyMask => "empty_mask",
            DefectKind::MaskGridMismatch => "mask_grid_mismatch",
            DefectKind::DuplicatePatientId => "duplicate_patient_id",
            DefectKind::TruncatedImage => "truncated_image",
            DefectKind::AlbuminUnit => "albumin_unit",
        }
    }
}

/// One generated patient.
#[derive(Debug, Clone, Serialize)]
pub struct Patient {
    /// Pseudonymous id.
    pub id: String,
    /// Index of the patient's stream (unique across the study).
    pub stream: u64,
    /// Latent biology.
    pub latent: Latent,
    /// Clinical findings in canonical units.
    pub clinical: Clinical,
    /// Survival.
    pub outcome: Outcome,
    /// Planted defect, if any.
    pub defect: Option<DefectKind>,
}

/// One generated cohort.
#[derive(Debug, Clone)]
pub struct GeneratedCohort {
    /// What was asked for.
    pub spec: CohortSpec,
    /// Patients in row order (a duplicate-id record is an extra row at the end).
    pub patients: Vec<Patient>,
}

fn draw_patient(seed: u64, effects: &Effects, stream_index: u64, id: String, forced_h: Option<f64>) -> Patient {
    let mut rng = stream(seed, "patient", stream_index);
    let latent = draw_latent(&mut rng, effects, forced_h);
    let clinical = draw_clinical(&mut rng, &latent);
    let eta = log_hazard(effects, &latent, &clinical);
    let outcome = draw_outcome(&mut rng, effects, eta);
    Patient { id, stream: stream_index, latent, clinical, outcome, defect: None }
}

/// Draws every cohort's patients and plants `defects_per_kind` records of each defect kind.
pub fn generate_cohorts(seed: u64, preset: &PresetSpec, effects: &Effects, defects_per_kind: usize) -> Vec<GeneratedCohort> {
    let mut cohorts: Vec<GeneratedCohort> = preset
        .cohorts
        .iter()
        .enumerate()
        .map(|(ci, spec)| {
            let patients = (0..spec.n)
                .map(|i| {
                    let forced =
                        (spec.role == CohortRole::Singlecell).then(|| if i < spec.n.div_ceil(2) { SINGLECELL_H } else { -SINGLECELL_H });
                    draw_patient(seed, effects, (ci as u64) << 32 | i as u64, format!("{}{:04}", spec.id_prefix, i + 1), forced)
                })
                .collect();
            GeneratedCohort { spec: spec.clone(), patients }
        })
        .collect();
    let mut rng = stream(seed, "defects", 0);
    for (kind, cohort_name) in DefectKind::PLAN {
        let Some(ci) = cohorts.iter().position(|c| c.spec.name == cohort_name) else { continue };
        let cohort = &mut cohorts[ci];
        let mut free: Vec<usize> = (0..cohort.spec.n).filter(|&i| cohort.patients[i].defect.is_none()).collect();
        free.shuffle(&mut rng);
        for &i in free.iter().take(defects_per_kind) {
            cohort.patients[i].defect = Some(kind);
            if kind == DefectKind::DuplicatePatientId {
                // a second record with the same id: another patient's data under a colliding id
                let extra = cohort.patients.len() as u64;
                let mut dup = draw_patient(seed, effects, (ci as u64) << 32 | (1 << 31) | extra, cohort.patients[i].id.clone(), None);
                dup.defect = Some(kind);
                cohort.patients.push(dup);
            }
        }
    }
    cohorts
}
