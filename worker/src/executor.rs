//! Stage executors: a leased task's spec and the files of its inputs in, named output files out.
//! Executors are synchronous, deterministic functions of their inputs (rayon inside where useful);
//! the pull loop runs them on blocking threads and commits what they return.

use bytes::Bytes;

use crate::stages;

/// Why an executor failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The input is bad (unreadable file, empty mask, malformed table): not worth retrying.
    #[error("{0}")]
    BadInput(String),
    /// Something transient failed (I/O, a store, memory): retried.
    #[error("{0}")]
    Retryable(String),
}

impl ExecError {
    /// A transient failure (I/O, a store), described by `e`.
    pub(crate) fn retryable(e: impl std::fmt::Display) -> ExecError {
        ExecError::Retryable(e.to_string())
    }
}

/// A file of an input task's manifest, with its content.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Object-store path.
    pub path: String,
    /// Content.
    pub bytes: Bytes,
}

/// A file to commit: its name within the attempt's folder and its content.
pub type OutputFile = (String, Vec<u8>);

/// Where a long task keeps its progress: one checkpoint per task key, outside the attempt folders
/// (`checkpoints/<stage>/<key>/latest.ckpt`), so that the next attempt, on any worker, resumes
/// from it. Saving fails once the attempt's lease is lost.
pub trait Checkpoints: Send + Sync {
    /// The last checkpoint of this task, if any.
    fn load(&self) -> Result<Option<Vec<u8>>, String>;
    /// Replaces it.
    fn save(&self, bytes: Vec<u8>) -> Result<(), String>;
}

/// No checkpoints: a task starts over on every attempt.
pub struct NoCheckpoints;

impl Checkpoints for NoCheckpoints {
    fn load(&self) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }

    fn save(&self, _: Vec<u8>) -> Result<(), String> {
        Ok(())
    }
}

/// Where a task's tensors live: the CPU, or the CUDA device the worker gave the task (from those it
/// found at start-up, `crate::gpus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    /// burn's `flex` backend on the worker's CPU.
    Cpu,
    /// burn's CUDA backend on device `index`.
    Cuda(usize),
}

impl Device {
    /// The error of a GPU task on a build without CUDA (retryable: another worker may have it).
    pub fn unavailable(index: usize) -> ExecError {
        ExecError::Retryable(format!("cuda:{index} was given but this worker was built without --features cuda"))
    }
}

/// Runs the executor of `stage`.
pub fn execute(
    stage: &str,
    spec: &serde_json::Value,
    inputs: &[InputFile],
    checkpoints: &dyn Checkpoints,
    device: Device,
) -> Result<Vec<OutputFile>, ExecError> {
    match stage {
        "ingest" => stages::ingest::run(spec),
        "preprocess" => stages::preprocess::run(spec),
        "radiomics" => stages::radiomics::run(spec),
        "train" => stages::train::run(spec, inputs, checkpoints, device),
        "score" => stages::score::run(spec, inputs, device),
        "fusion" => stages::fusion::run(spec, inputs),
        "bundle" => stages::bundle::run(spec, inputs),
        "evaluate" => stages::evaluate::run(spec, inputs),
        "bootstrap" => stages::evaluate::run_bootstrap(spec, inputs),
        "biology" => stages::biology::run(spec, inputs, device),
        "noop" => Ok(vec![]),
        other => Err(ExecError::BadInput(format!("this worker has no executor for stage {other:?}"))),
    }
}

/// A text field of a spec.
pub fn text<'a>(spec: &'a serde_json::Value, field: &str) -> Result<&'a str, ExecError> {
    spec.get(field).and_then(|v| v.as_str()).ok_or_else(|| ExecError::BadInput(format!("task spec has no text field {field:?}")))
}

/// A number field of a spec.
pub fn number(spec: &serde_json::Value, field: &str) -> Result<f64, ExecError> {
    spec.get(field).and_then(|v| v.as_f64()).ok_or_else(|| ExecError::BadInput(format!("task spec has no number field {field:?}")))
}

/// A whole-number field of a task spec (a seed, a fold), exact: not through f64, which rounds
/// above 2^53.
pub fn integer(spec: &serde_json::Value, field: &str) -> Result<u64, ExecError> {
    spec.get(field).and_then(|v| v.as_u64()).ok_or_else(|| ExecError::BadInput(format!("task spec has no whole-number field {field:?}")))
}
