//! What the planner makes and the scheduler runs: stages, planned tasks with their keys, the
//! manifest an attempt commits, and why a task failed.

use serde::{Deserialize, Serialize};

/// A kind of task. The version is part of every key: bump it when a stage's outputs change, and
/// every task of that stage runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Read and validate one cohort's clinical table: `patients`, `exclusions`.
    Ingest,
    /// The deep-learning crop of one patient (both phases): `crop.npy`, `crops`.
    Preprocess,
    /// Radiomic features of one patient x phase: `radiomic_features`.
    Radiomics,
    /// The CT network: one cross-validation run (fold x configuration x seed) or the final model.
    Train,
    /// The final network applied to one cohort: `predictions` (model `deep`), `deep_features`.
    Score,
    /// Rad-score, early and late fusion, the CRM, fitted on training and applied to every cohort.
    Fusion,
    /// The model bundle: packed after training, unpacked to validate a new site's cohort.
    Bundle,
    /// A range of one cohort's bootstrap replicates: `bootstrap_replicates`.
    Bootstrap,
    /// Every model of one cohort, evaluated: `predictions` (clinical scores), `metrics`,
    /// `km_curves`, `calibration`, `decision_curves`, `roc_curves`.
    Evaluate,
    /// The biology of one omics cohort, split by the chosen fusion score: `pathway_scores`,
    /// `pathway_comparison`, `differential_expression`, `immune_scores`, `gene_set_coverage`
    /// (bulk); `cell_scores`, `cell_type_comparison` (single cell); `biomarker_comparison`.
    Biology,
    /// Does nothing: the scheduler benchmark's tasks.
    Noop,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 11] = [
        Stage::Ingest,
        Stage::Preprocess,
        Stage::Radiomics,
        Stage::Train,
        Stage::Score,
        Stage::Fusion,
        Stage::Bundle,
        Stage::Bootstrap,
        Stage::Evaluate,
        Stage::Biology,
        Stage::Noop,
    ];

    /// The name used in task ids, paths and the protocol.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Preprocess => "preprocess",
            Stage::Radiomics => "radiomics",
            Stage::Train => "train",
            Stage::Score => "score",
            Stage::Fusion => "fusion",
            Stage::Bundle => "bundle",
            Stage::Bootstrap => "bootstrap",
            Stage::Evaluate => "evaluate",
            Stage::Biology => "biology",
            Stage::Noop => "noop",
        }
    }

    /// The stage of a name.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Version of the stage's code, part of its keys.
    pub fn code_version(self) -> u32 {
        match self {
            // 2: encephalopathy written with the clinical table's codes (grade1_2, grade3_4)
            // 3: line numbers of CRLF tables; converted values rounded in reasons
            // 4: a missing patient id left empty in exclusions (was its spelling: NA, .)
            Stage::Ingest => 4,
            // 2: crops in the patient's LPS axes; DICOM BitsStored, NIfTI spatial units
            // 3: the NIfTI transform chosen as ITK chooses it (sheared sform refused); DICOM slice
            // spacing from the series' span, tilt judged against the first slice
            Stage::Preprocess => 3,
            // 2: pyradiomics' GLRLM directions, NGTDM lone voxels, numpy bin edges, the crop at the
            // image's own spacing, minimumROIDimensions
            // 3: resampled values cast to the file's pixel type (float and scaled NIfTI, DICOM
            // rescale types as GDCM); the NIfTI and DICOM geometry of preprocess 3
            Stage::Radiomics => 3,
            // 2: the final run on cross-validation's schedule, the median over runs with a C, skipped
            // batches counted on the schedule, times checked, a diverged loss an error;
            // held_out_risks and deep_cross_fitted
            Stage::Train => 2,
            Stage::Score => 1,
            // 2: a non-finite feature or deep score leaves the patient unscored
            // 3: the signature cap counts non-redundant features; each model scores whom it can,
            // the rest listed in exclusions; fitted on cross-fitted, standardised deep scores
            // 4: a feature constant within a LASSO fold no longer fails the cross-validation
            Stage::Fusion => 4,
            Stage::Bundle => 1,
            Stage::Bootstrap => 1,
            // 2: the oracle, calibration and decision curves; intervals from the bootstrap tasks
            // 3: roc_curves
            // 4: non-finite risks skipped, bootstrap_replicates counts finite ones, CRM HR guard
            // 5: Uno's C truncated at the training follow-up; AUC weights only for cases by t;
            // Child-Pugh bilirubin at Pugh's 2 and 3 mg/dL (34.2, 51.3 umol/L)
            Stage::Evaluate => 5,
            // 2: the ESTIMATE stromal and immune scores (collection `estimate`)
            // 3: GSVA on log2 values, MTX gene-expression features only, counts checked
            // 4: log-normalised values refused as counts, unlabelled cells and unmatched cytotoxic
            // cell types listed in exclusions
            Stage::Biology => 4,
            Stage::Noop => 1,
        }
    }
}

/// One task of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedTask {
    /// Unique within its job, readable: `radiomics/training/TA0001/arterial`.
    pub id: String,
    /// Its stage.
    pub stage: Stage,
    /// Hash of stage, code version, canonical settings and input digests (hex SHA-256).
    pub key: String,
    /// The executor's input, JSON text (stage-specific); kept as text because the coordinator only
    /// passes it on and saves it (a parsed tree costs several times the memory and serialisation
    /// time for 100,000s of tasks). States saved before it was text (a JSON object) still load.
    #[serde(deserialize_with = "json_text")]
    pub spec: String,
    /// Ids of the tasks whose outputs it reads.
    pub deps: Vec<String>,
    /// CPU slots it occupies.
    pub cpu_slots: u32,
    /// GPUs it needs.
    pub gpus: u32,
    /// A fan-in over per-patient tasks: it runs once every input has settled, with the inputs that
    /// committed; a failed input (a defective patient, listed in `exclusions`) is left out instead
    /// of failing this task.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial_inputs: bool,
}

/// JSON text, read from either a string (how it is saved) or any other JSON value (older states).
fn json_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(text) => text,
        other => other.to_string(),
    })
}

/// One committed output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// Object-store path.
    pub path: String,
    /// Size, bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// What a task committed: `cache/<stage>/<key>/manifest.json`, created once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The task's id in the job that committed it.
    pub task_id: String,
    /// Stage name.
    pub stage: String,
    /// The task key.
    pub key: String,
    /// The attempt that wrote the files.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: String,
    /// Its files (all under `cache/<stage>/<key>/attempt-<attempt>/`).
    pub files: Vec<OutputFile>,
    /// When the coordinator accepted the commit (Unix ms; 0 in manifests written before it was kept).
    #[serde(default)]
    pub committed_unix_ms: u64,
}

/// Object-store path of a task's manifest.
pub fn manifest_path(stage: &str, key: &str) -> String {
    format!("cache/{stage}/{key}/manifest.json")
}

/// Object-store folder of one attempt's outputs.
pub fn attempt_dir(stage: &str, key: &str, attempt: u32) -> String {
    format!("cache/{stage}/{key}/attempt-{attempt}")
}

/// Why an attempt failed, as the worker reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureKind {
    /// Transient: retried with backoff within the task's budget.
    Retryable,
    /// The input is bad: not retried; the task and the tasks that need it fail.
    BadInput,
    /// The worker gave the lease back (draining): re-queued at once, budget untouched.
    GivenBack,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_loads_from_text_and_from_older_states_json() {
        for (saved, text) in
            [(r#""{\"cohort\":\"a\"}""#, r#"{"cohort":"a"}"#), (r#"{"cohort":"a"}"#, r#"{"cohort":"a"}"#), ("null", "null")]
        {
            let json = format!(r#"{{"id":"t","stage":"ingest","key":"k","spec":{saved},"deps":[],"cpu_slots":1,"gpus":0}}"#);
            let task: PlannedTask = serde_json::from_str(&json).unwrap();
            assert_eq!(task.spec, text, "{saved}");
            let again: PlannedTask = serde_json::from_str(&serde_json::to_string(&task).unwrap()).unwrap();
            assert_eq!(again, task);
        }
    }
}
