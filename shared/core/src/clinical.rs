//! A cohort's clinical table read into typed records in canonical units, and every row that cannot be
//! used listed as an [`Exclusion`] naming the cohort, the patient, the file, the line and the field
//! (the CONSORT flow of the ingest stage).
//!
//! File-level problems (unreadable file, a missing column, a row with the wrong number of fields) are
//! a [`TableError`]: nothing in the file can be trusted. Row-level problems exclude the row and the
//! rest goes on. Checks, ranges and their sources are in `docs/study.md`, "Ingest checks":
//! - every column is required (complete-case analysis); codes are the documented ones;
//! - `os_months` missing or negative, `death` not 0/1;
//! - a value outside its physiological range, and when that value lies inside the range read in the
//!   other unit, a unit mistake (`albumin_unit`, `bilirubin_unit`, `diameter_unit`) that says so;
//! - a patient id on several rows: every one of them is excluded, the reason names the lines.
//!
//! ```no_run
//! use tacefusion_core::{Study, clinical::read_clinical};
//!
//! let study = Study::from_path("study.toml")?;
//! for cohort in &study.cohorts {
//!     let path = Study::resolve("study.toml".as_ref(), &cohort.clinical);
//!     let table = read_clinical(&path, &cohort.name, &cohort.units)?;
//!     for e in &table.exclusions {
//!         eprintln!("{e}");
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::study::ClinicalUnits;
use crate::table::{MISSING_SPELLINGS, Table, TableError};
use crate::units::{Albumin, Bilirubin, Length};

/// The clinical schema's columns (`docs/study.md`); every one must be in the header.
pub const CLINICAL_COLUMNS: [&str; 18] = [
    "patient_id",
    "centre",
    "os_months",
    "death",
    "age",
    "sex",
    "aetiology",
    "albumin",
    "bilirubin",
    "afp",
    "inr",
    "ascites",
    "encephalopathy",
    "ecog",
    "tumour_number",
    "largest_diameter",
    "pvtt",
    "extrahepatic_spread",
];

/// Plausible serum albumin, g/L: the adult reference interval is about 35-52 g/L, severe
/// hypoalbuminaemia (decompensated cirrhosis, nephrotic syndrome) reaches 15-20 g/L; 10-65 leaves a
/// margin on both sides. Its width (6.5x) is under the g/dL factor 10, so a value in the wrong unit
/// always falls outside it.
pub const ALBUMIN_G_L: RangeInclusive<f64> = 10.0..=65.0;
/// Plausible total bilirubin, umol/L: reference intervals start at 3-5 umol/L (0.2-0.3 mg/dL);
/// jaundice of liver failure rarely passes 500 umol/L (about 30 mg/dL); 850 umol/L is 50 mg/dL. The
/// range is wider than the mg/dL factor 17.1, so only values at its ends reveal a unit mistake.
pub const BILIRUBIN_UMOL_L: RangeInclusive<f64> = 2.0..=850.0;
/// Plausible largest HCC diameter, cm: CT characterises nodules from about 1 cm (LI-RADS starts at
/// 10 mm) and giant HCC reaches 20-25 cm. Wider than the mm factor 10: a mm value in a cm column is
/// caught when the tumour exceeds 3 cm, a cm value in a mm column when it is under 5 cm.
pub const DIAMETER_CM: RangeInclusive<f64> = 0.5..=30.0;
/// Plausible age, years (a birth year or a typing slip falls outside).
pub const AGE_YEARS: RangeInclusive<f64> = 0.0..=120.0;
/// Plausible INR: 0.8-1.2 in health, rarely above 10 even under anticoagulation.
pub const INR: RangeInclusive<f64> = 0.5..=20.0;
/// Longest plausible overall survival, months: 40 years, the age of TACE as a treatment; longer is
/// likely days or weeks written as months.
pub const MAX_OS_MONTHS: f64 = 480.0;

/// Ascites as graded for Child-Pugh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ascites {
    /// absent
    None,
    /// mild or controlled by diuretics
    Mild,
    /// moderate to severe, or refractory
    ModerateSevere,
}

impl Ascites {
    /// Spellings in the clinical table.
    pub const CODES: [(&'static str, Self); 3] = [("none", Self::None), ("mild", Self::Mild), ("moderate_severe", Self::ModerateSevere)];
}

/// Hepatic encephalopathy as graded for Child-Pugh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encephalopathy {
    /// absent
    None,
    /// West Haven grade I-II (or controlled)
    #[serde(rename = "grade1_2")]
    Grade1To2,
    /// West Haven grade III-IV (or refractory)
    #[serde(rename = "grade3_4")]
    Grade3To4,
}

impl Encephalopathy {
    /// Spellings in the clinical table.
    pub const CODES: [(&'static str, Self); 3] = [("none", Self::None), ("grade1_2", Self::Grade1To2), ("grade3_4", Self::Grade3To4)];
}

/// Sex as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sex {
    /// `M`
    #[serde(rename = "M")]
    Male,
    /// `F`
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    /// Spellings in the clinical table.
    pub const CODES: [(&'static str, Self); 2] = [("M", Self::Male), ("F", Self::Female)];
}

/// Underlying liver disease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aetiology {
    /// hepatitis B
    #[serde(rename = "HBV")]
    Hbv,
    /// hepatitis C
    #[serde(rename = "HCV")]
    Hcv,
    /// alcohol, MASLD, other
    #[serde(rename = "other")]
    Other,
}

impl Aetiology {
    /// Spellings in the clinical table.
    pub const CODES: [(&'static str, Self); 3] = [("HBV", Self::Hbv), ("HCV", Self::Hcv), ("other", Self::Other)];
}

/// One included patient, typed, in canonical units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicalRecord {
    /// Pseudonymous id.
    pub patient_id: String,
    /// Line of the row in the file (header = 1).
    pub line: usize,
    /// Centre code as written.
    pub centre: String,
    /// Overall survival, months.
    pub os_months: f64,
    /// Died (true) or censored.
    pub death: bool,
    /// Age, years.
    pub age: f64,
    /// Sex.
    pub sex: Sex,
    /// Aetiology.
    pub aetiology: Aetiology,
    /// Serum albumin.
    pub albumin: Albumin,
    /// Total bilirubin.
    pub bilirubin: Bilirubin,
    /// Alpha-fetoprotein, ng/mL.
    pub afp_ng_ml: f64,
    /// International normalised ratio.
    pub inr: f64,
    /// Ascites.
    pub ascites: Ascites,
    /// Encephalopathy.
    pub encephalopathy: Encephalopathy,
    /// ECOG performance status 0-4.
    pub ecog: u8,
    /// Number of tumours (at least 1).
    pub tumour_number: u32,
    /// Diameter of the largest tumour.
    pub largest_diameter: Length,
    /// Portal vein tumour thrombus.
    pub pvtt: bool,
    /// Extrahepatic spread.
    pub extrahepatic_spread: bool,
}

/// Why a row was excluded; the snake_case names are those of `truth/defects.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExclusionKind {
    /// A required cell is empty (or NA).
    MissingValue,
    /// A cell is not a number, not an integer where one is needed, or not one of the codes.
    InvalidValue,
    /// A number outside its plausible range in either unit.
    ImplausibleValue,
    /// `os_months` is empty.
    MissingSurvivalTime,
    /// `os_months` is negative.
    NegativeSurvivalTime,
    /// `death` is not 0 or 1.
    InvalidDeath,
    /// Albumin in the other unit than the cohort declares.
    AlbuminUnit,
    /// Bilirubin in the other unit than the cohort declares.
    BilirubinUnit,
    /// Largest diameter in the other unit than the cohort declares.
    DiameterUnit,
    /// The patient id is on more than one row.
    DuplicatePatientId,
}

impl ExclusionKind {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::MissingValue => "missing_value",
            Self::InvalidValue => "invalid_value",
            Self::ImplausibleValue => "implausible_value",
            Self::MissingSurvivalTime => "missing_survival_time",
            Self::NegativeSurvivalTime => "negative_survival_time",
            Self::InvalidDeath => "invalid_death",
            Self::AlbuminUnit => "albumin_unit",
            Self::BilirubinUnit => "bilirubin_unit",
            Self::DiameterUnit => "diameter_unit",
            Self::DuplicatePatientId => "duplicate_patient_id",
        }
    }
}

impl fmt::Display for ExclusionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One problem of one row. A row with several problems has one exclusion per problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusion {
    /// Cohort name.
    pub cohort: String,
    /// Patient id as written (empty when the id is missing).
    pub patient_id: String,
    /// Line in the file (header = 1).
    pub line: usize,
    /// The clinical table.
    pub file: PathBuf,
    /// The column at fault.
    pub field: String,
    /// What kind of problem.
    pub kind: ExclusionKind,
    /// What is wrong, in words, with the value.
    pub reason: String,
}

impl fmt::Display for Exclusion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: line {}, patient {:?}, field {:?}: {} ({}, cohort {})",
            self.file.display(),
            self.line,
            self.patient_id,
            self.field,
            self.reason,
            self.kind,
            self.cohort
        )
    }
}

/// A cohort's clinical table after ingest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicalTable {
    /// Cohort name.
    pub cohort: String,
    /// The file read.
    pub file: PathBuf,
    /// The units it was read in.
    pub units: ClinicalUnits,
    /// Data rows in the file.
    pub rows: usize,
    /// Included patients, in file order.
    pub records: Vec<ClinicalRecord>,
    /// Every problem of every excluded row, in file order.
    pub exclusions: Vec<Exclusion>,
}

impl ClinicalTable {
    /// Lines of the excluded rows (a row with several problems counts once).
    pub fn excluded_lines(&self) -> BTreeSet<usize> {
        self.exclusions.iter().map(|e| e.line).collect()
    }
}

/// Reads a cohort's clinical table, converting albumin, bilirubin and diameter from the cohort's
/// declared `units`. File-level problems are errors; row-level problems are exclusions.
pub fn read_clinical(path: impl AsRef<Path>, cohort: &str, units: &ClinicalUnits) -> Result<ClinicalTable, TableError> {
    let table = Table::from_csv_path(path)?;
    let mut columns = [0; CLINICAL_COLUMNS.len()];
    for (slot, name) in columns.iter_mut().zip(CLINICAL_COLUMNS) {
        *slot = table.column_index(name)?;
    }
    let id_of = |row: usize| table.cell(row, columns[0]).trim();
    let mut lines_of_id: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for row in 0..table.len() {
        if !MISSING_SPELLINGS.contains(&id_of(row)) {
            lines_of_id.entry(id_of(row)).or_default().push(table.line_of(row));
        }
    }
    let mut records = Vec::new();
    let mut exclusions = Vec::new();
    for row in 0..table.len() {
        let mut cells = row::Row { table: &table, columns: &columns, row, units, problems: Vec::new() };
        if let Some(lines) = lines_of_id.get(id_of(row)).filter(|l| l.len() > 1) {
            let list = lines.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
            cells.problem(
                ExclusionKind::DuplicatePatientId,
                "patient_id",
                format!(
                    "patient id {:?} is on lines {list}: which row is this patient's cannot be told, so every one is excluded",
                    id_of(row)
                ),
            );
        }
        let record = cells.record();
        if cells.problems.is_empty() {
            records.push(record.expect("a row without problems is a record"));
        }
        exclusions.extend(cells.problems.into_iter().map(|(kind, field, reason)| Exclusion {
            cohort: cohort.to_string(),
            patient_id: if MISSING_SPELLINGS.contains(&id_of(row)) { String::new() } else { id_of(row).to_string() },
            line: table.line_of(row),
            file: table.file().to_path_buf(),
            field: field.to_string(),
            kind,
            reason,
        }));
    }
    Ok(ClinicalTable {
        cohort: cohort.to_string(),
        file: table.file().to_path_buf(),
        units: *units,
        rows: table.len(),
        records,
        exclusions,
    })
}

mod row;
#[cfg(test)]
mod tests;
