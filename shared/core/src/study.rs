//! `study.toml`: the cohorts of a study, where their files are, the units their clinical columns use,
//! and the settings of every stage. Parsing rejects unknown keys and bad values with the line and
//! the key; `docs/study.md` documents every key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::units::{AfpUnit, AlbuminUnit, BilirubinUnit, LengthUnit};

mod omics;
mod stages;
pub use omics::OmicsSettings;
pub use stages::{EvaluationSettings, PreprocessSettings, RadiomicsSettings, SearchKind, SweepSettings, TrainSettings};

/// Why a study file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key or a bad value; `line` and `column` are 1-based.
    #[error("{file}:{line}:{column}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// Line of the offending key or value.
        line: usize,
        /// Column.
        column: usize,
        /// What is wrong (names the key).
        message: String,
    },
    /// Valid syntax, inconsistent content (names the key).
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// Dotted key, e.g. `cohorts[2].role`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The role a cohort plays in the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortRole {
    /// Models are fitted here.
    Training,
    /// Held-out patients of the training centre(s): model choice (early vs late fusion).
    InternalValidation,
    /// Other centres: validation only.
    ExternalValidation,
    /// CT + measured tissue/serum biomarkers.
    Biomarker,
    /// CT + bulk RNA expression.
    Bulk,
    /// CT + single-cell counts.
    Singlecell,
}

/// Units in which a cohort's clinical table records its measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicalUnits {
    /// Albumin: "g/L" or "g/dL".
    #[serde(default = "default_albumin")]
    pub albumin: AlbuminUnit,
    /// Total bilirubin: "umol/L" or "mg/dL".
    #[serde(default = "default_bilirubin")]
    pub bilirubin: BilirubinUnit,
    /// Largest tumour diameter: "cm" or "mm".
    #[serde(default = "default_length")]
    pub diameter: LengthUnit,
    /// Alpha-fetoprotein: "ng/mL" or "IU/mL" (left out of a written study, and so of the task
    /// keys, when it is the default).
    #[serde(default, skip_serializing_if = "AfpUnit::is_default")]
    pub afp: AfpUnit,
}

fn default_albumin() -> AlbuminUnit {
    AlbuminUnit::GramsPerLitre
}
fn default_bilirubin() -> BilirubinUnit {
    BilirubinUnit::MicromolesPerLitre
}
fn default_length() -> LengthUnit {
    LengthUnit::Centimetre
}

impl Default for ClinicalUnits {
    fn default() -> Self {
        Self { albumin: default_albumin(), bilirubin: default_bilirubin(), diameter: default_length(), afp: AfpUnit::default() }
    }
}

/// Where a cohort's CT volumes are: one file per patient and phase, found by substituting
/// `{patient}` and `{phase}` in the patterns (relative to the study file or URLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageLayout {
    /// Pattern of the image files, e.g. `images/{patient}/{phase}.nii.gz`.
    pub image: String,
    /// Pattern of the tumour masks, e.g. `images/{patient}/{phase}_mask.nii.gz`.
    pub mask: String,
    /// Phases, in channel order.
    #[serde(default = "default_phases")]
    pub phases: Vec<String>,
    /// Label value of the tumour in the masks.
    #[serde(default = "default_label")]
    pub label: u32,
}

/// The image and mask of one patient in one phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseFiles {
    /// Patient id.
    pub patient: String,
    /// Phase.
    pub phase: String,
    /// Image file (or URL).
    pub image: PathBuf,
    /// Mask file (or URL).
    pub mask: PathBuf,
}

impl ImageLayout {
    /// The files of every patient x phase: patients in the order given, each once (a repeated id
    /// is the ingest stage's exclusion, not a second extraction), ids read as the clinical table's
    /// reader reads them (trimmed; a missing one, such as `NA`, skipped), then phases in channel
    /// order; relative patterns resolved against the study file's folder.
    pub fn phase_files<'a>(&self, study_file: &Path, patients: impl IntoIterator<Item = &'a str>) -> Vec<PhaseFiles> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let ids = patients.into_iter().map(str::trim).filter(|id| !crate::table::MISSING_SPELLINGS.contains(id));
        for id in ids.filter(|id| seen.insert(*id)) {
            for phase in &self.phases {
                let path =
                    |pattern: &str| PathBuf::from(Study::resolve(study_file, &pattern.replace("{patient}", id).replace("{phase}", phase)));
                out.push(PhaseFiles { patient: id.to_string(), phase: phase.clone(), image: path(&self.image), mask: path(&self.mask) });
            }
        }
        out
    }
}

fn default_phases() -> Vec<String> {
    vec!["arterial".into(), "portal_venous".into()]
}
fn default_label() -> u32 {
    1
}

/// Scale of a bulk expression matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpressionScale {
    /// raw counts
    Counts,
    /// transcripts per million
    Tpm,
    /// log2 (x + 1) of a normalised expression
    Log2,
}

/// One cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// Unique name, used in every output.
    pub name: String,
    /// Its role.
    pub role: CohortRole,
    /// Centre (site) code.
    pub centre: String,
    /// Clinical table (CSV, one row per patient, the clinical schema of `docs/study.md`).
    pub clinical: String,
    /// Units of the clinical table.
    #[serde(default)]
    pub units: ClinicalUnits,
    /// CT images and masks.
    pub images: Option<ImageLayout>,
    /// Biomarker table (CSV), for the `biomarker` role.
    pub biomarkers: Option<String>,
    /// Bulk expression matrix (TSV, genes x samples), for the `bulk` role.
    pub expression: Option<String>,
    /// Scale of `expression`.
    pub expression_scale: Option<ExpressionScale>,
    /// Single-cell counts as h5ad, for the `singlecell` role.
    pub h5ad: Option<String>,
    /// The same counts as a 10x MTX folder.
    pub mtx: Option<String>,
    /// Cell table (CSV: barcode, patient, cell type).
    pub cells: Option<String>,
}

/// Identity of the study.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyInfo {
    /// Name of the study.
    pub name: String,
    /// Master seed: every random draw of every stage derives from it and the task key.
    #[serde(default)]
    pub seed: u64,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Synthetic studies: the planted truth per patient (CSV with `cohort`, `patient_id` and
    /// `log_hazard`), relative to this file; evaluated as the model `oracle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truth: Option<String>,
}

/// A whole `study.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// Identity and seed.
    pub study: StudyInfo,
    /// The cohorts.
    pub cohorts: Vec<Cohort>,
    /// CT preprocessing.
    #[serde(default)]
    pub preprocess: PreprocessSettings,
    /// Radiomics.
    #[serde(default)]
    pub radiomics: RadiomicsSettings,
    /// Training.
    #[serde(default)]
    pub train: TrainSettings,
    /// Sweep.
    #[serde(default)]
    pub sweep: SweepSettings,
    /// Evaluation.
    #[serde(default)]
    pub evaluation: EvaluationSettings,
    /// The biology of the omics cohorts.
    #[serde(default)]
    pub omics: OmicsSettings,
}

/// The first value listed twice, if any.
fn first_repeated<T: PartialEq>(values: &[T]) -> Option<&T> {
    values.iter().enumerate().find(|(i, v)| values[..*i].contains(v)).map(|(_, v)| v)
}

/// Line and column (1-based) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.len(), |p| before.len() - p - 1) + 1;
    (line, column)
}

impl Study {
    /// Reads and checks a study file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, StudyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| StudyError::Io { file: path.to_path_buf(), source })?;
        Self::parse(&text, path)
    }

    /// Parses and checks the text of a study file (`file` only names it in errors).
    pub fn parse(text: &str, file: &Path) -> Result<Self, StudyError> {
        let study: Study = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |s| line_column(text, s.start));
            StudyError::Parse { file: file.to_path_buf(), line, column, message: e.message().trim().to_string() }
        })?;
        study.check(file)?;
        Ok(study)
    }

    /// The study as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a study always serialises")
    }

    fn check(&self, file: &Path) -> Result<(), StudyError> {
        let invalid = |key: String, message: String| StudyError::Invalid { file: file.to_path_buf(), key, message };
        if !self.cohorts.iter().any(|c| c.role == CohortRole::Training) {
            return Err(invalid("cohorts".into(), "no cohort has role = \"training\"".into()));
        }
        // the models are fitted on one training cohort and chosen on one internal validation cohort
        for role in [CohortRole::Training, CohortRole::InternalValidation] {
            let named: Vec<&str> = self.cohorts.iter().filter(|c| c.role == role).map(|c| c.name.as_str()).collect();
            if named.len() > 1 {
                return Err(invalid(
                    "cohorts".into(),
                    format!("{} cohorts have role {role:?} ({}): at most one", named.len(), named.join(", ")),
                ));
            }
        }
        for (i, c) in self.cohorts.iter().enumerate() {
            let key = |k: &str| format!("cohorts[{i}].{k}");
            if self.cohorts[..i].iter().any(|o| o.name == c.name) {
                return Err(invalid(key("name"), format!("{:?} is used by an earlier cohort", c.name)));
            }
            let needs = |present: bool, field: &str| {
                if present { Ok(()) } else { Err(invalid(key(field), format!("required for role {:?}", c.role))) }
            };
            match c.role {
                CohortRole::Training | CohortRole::InternalValidation | CohortRole::ExternalValidation => {
                    needs(c.images.is_some(), "images")?
                }
                CohortRole::Biomarker => needs(c.biomarkers.is_some(), "biomarkers")?,
                CohortRole::Bulk => {
                    needs(c.expression.is_some(), "expression")?;
                    needs(c.expression_scale.is_some(), "expression_scale")?
                }
                CohortRole::Singlecell => {
                    needs(c.h5ad.is_some() || c.mtx.is_some(), "h5ad")?;
                    if c.h5ad.is_none() {
                        needs(c.cells.is_some(), "cells")?
                    }
                }
            }
            if matches!(c.role, CohortRole::Bulk | CohortRole::Singlecell) && self.omics.gene_sets.is_none() {
                return Err(invalid("omics.gene_sets".into(), format!("required by cohort {:?} (role {:?})", c.name, c.role)));
            }
            if let Some(images) = &c.images {
                if images.phases.is_empty() {
                    return Err(invalid(key("images.phases"), "no phase".into()));
                }
                if let Some(p) = first_repeated(&images.phases) {
                    return Err(invalid(key("images.phases"), format!("{p:?} is listed twice")));
                }
                for (field, pattern) in [("images.image", &images.image), ("images.mask", &images.mask)] {
                    if !pattern.contains("{patient}") || !pattern.contains("{phase}") {
                        return Err(invalid(key(field), format!("{pattern:?} must contain {{patient}} and {{phase}}")));
                    }
                }
            }
        }
        let p = &self.preprocess;
        for (name, v) in [("preprocess.spacing_mm", Some(p.spacing_mm)), ("preprocess.crop_spacing_mm", p.crop_spacing_mm)] {
            if let Some(v) = v.filter(|v| !(*v > 0.0 && v.is_finite())) {
                return Err(invalid(name.into(), format!("{v} is not a positive spacing")));
            }
        }
        if p.crop_size.contains(&0) {
            return Err(invalid("preprocess.crop_size".into(), format!("{:?} has an empty axis", p.crop_size)));
        }
        if p.hu_window.iter().any(|v| v.is_nan()) || p.hu_window[0] >= p.hu_window[1] {
            return Err(invalid("preprocess.hu_window".into(), format!("{:?}: need low < high", p.hu_window)));
        }
        let t = &self.train;
        if !(t.learning_rate > 0.0 && t.learning_rate.is_finite()) {
            return Err(invalid("train.learning_rate".into(), format!("{} is not a positive learning rate", t.learning_rate)));
        }
        if !(0.0..=1.0).contains(&t.augmentation) {
            return Err(invalid("train.augmentation".into(), format!("{} is not in [0, 1]", t.augmentation)));
        }
        for (name, value, least) in [("train.epochs", t.epochs, 1), ("train.batch_size", t.batch_size, 2), ("train.width", t.width, 1)] {
            if value < least {
                return Err(invalid(name.into(), format!("{value}: at least {least}")));
            }
        }
        if self.sweep.widths.contains(&0) {
            return Err(invalid("sweep.widths".into(), "0: a width is at least 1".into()));
        }
        if let Some(s) = first_repeated(&self.sweep.seeds) {
            return Err(invalid("sweep.seeds".into(), format!("{s} is listed twice")));
        }
        let e = &self.evaluation;
        if e.replicates_per_task == 0 {
            return Err(invalid("evaluation.replicates_per_task".into(), "0: at least 1".into()));
        }
        if e.auc_months.is_empty() || e.auc_months.iter().any(|m| !(*m > 0.0 && m.is_finite())) || !e.auc_months.is_sorted_by(|a, b| a < b)
        {
            return Err(invalid("evaluation.auc_months".into(), format!("{:?}: need positive months in increasing order", e.auc_months)));
        }
        if !(e.calibration_months > 0.0 && e.calibration_months.is_finite()) {
            return Err(invalid("evaluation.calibration_months".into(), format!("{} is not a positive time", e.calibration_months)));
        }
        if !(0.0..0.5).contains(&e.cutpoint_minprop) {
            return Err(invalid("evaluation.cutpoint_minprop".into(), format!("{} not in [0, 0.5)", e.cutpoint_minprop)));
        }
        if self.sweep.folds < 2 {
            return Err(invalid("sweep.folds".into(), format!("{} folds; at least 2", self.sweep.folds)));
        }
        if self.train.gpus > 1 {
            return Err(invalid("train.gpus".into(), format!("{}: a task trains on one device (0 or 1)", self.train.gpus)));
        }
        if self.sweep.search == SearchKind::Random && self.sweep.configurations == 0 {
            return Err(invalid("sweep.configurations".into(), "a random search needs at least 1 configuration".into()));
        }
        if let Some(v) = self.sweep.learning_rates.iter().find(|v| !(**v > 0.0 && v.is_finite())) {
            return Err(invalid("sweep.learning_rates".into(), format!("{v} is not a positive learning rate")));
        }
        let o = &self.omics;
        if o.min_size == 0 || o.min_size > o.max_size {
            return Err(invalid(
                "omics.min_size".into(),
                format!("{} with max_size {}: need 1 <= min_size <= max_size", o.min_size, o.max_size),
            ));
        }
        if o.gpus > 1 {
            return Err(invalid("omics.gpus".into(), format!("{}: a task scores on one device (0 or 1)", o.gpus)));
        }
        if o.ctrl_size == 0 || o.n_bins == 0 {
            return Err(invalid("omics.ctrl_size".into(), "ctrl_size and n_bins must be at least 1".into()));
        }
        if let Some(v) = self.sweep.augmentations.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(invalid("sweep.augmentations".into(), format!("{v} is not in [0, 1]")));
        }
        Ok(())
    }

    /// Resolves a path of the study file: URLs and absolute paths as they are, relative paths
    /// against the folder of the study file.
    pub fn resolve(study_file: &Path, path: &str) -> String {
        if path.contains("://") || Path::new(path).is_absolute() {
            path.to_string()
        } else {
            study_file.parent().unwrap_or(Path::new(".")).join(path).to_string_lossy().into_owned()
        }
    }
}

#[cfg(test)]
mod tests;
