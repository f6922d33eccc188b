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
