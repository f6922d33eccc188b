//! One module per stage executor.

pub mod biology;
pub mod bundle;
pub mod crops;
pub mod evaluate;
pub mod fusion;
pub mod ingest;
pub mod patients;
pub mod preprocess;
pub mod radiomics;
pub mod score;
pub mod train;

/// Columns of the `exclusions` table (all text); the coordinator writes failed tasks with the same.
pub const EXCLUSION_COLUMNS: [&str; 7] = ["cohort", "patient_id", "stage", "file", "field", "kind", "reason"];

/// Rows of a stage's `exclusions` file: who or what left the analysis there, and why.
#[derive(Debug)]
pub struct Exclusions {
    stage: &'static str,
    rows: Vec<[String; 7]>,
}

impl Exclusions {
    /// None yet, for `stage`.
    pub fn of(stage: &'static str) -> Self {
        Exclusions { stage, rows: Vec::new() }
    }

    /// Lists one: `patient` (may be empty), the `file` and `field`, a `kind` and the reason.
    pub fn add(&mut self, cohort: &str, patient: &str, file: &str, field: &str, kind: &str, reason: String) {
        self.rows.push([cohort.into(), patient.into(), self.stage.into(), file.into(), field.into(), kind.into(), reason]);
    }

    /// The `exclusions.parquet` file, when there is a row.
    pub fn file(&self) -> Result<Option<crate::executor::OutputFile>, crate::executor::ExecError> {
        if self.rows.is_empty() {
            return Ok(None);
        }
        let mut t = crate::tables::Table::default();
        for (k, name) in EXCLUSION_COLUMNS.iter().enumerate() {
            t = t.with(name, crate::tables::Column::Text(self.rows.iter().map(|r| r[k].clone()).collect()));
        }
        Ok(Some(("exclusions.parquet".into(), t.to_parquet().map_err(crate::executor::ExecError::Retryable)?)))
    }
}
