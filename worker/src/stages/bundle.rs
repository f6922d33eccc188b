//! `bundle`: the model bundle of a trained study (`tacefusion_models::bundle`).
//!
//! - `bundle/pack` [a training job]: the final network, the fusion models and the training
//!   cohort's survival times, with the settings new inputs must be made with, in
//!   `model_bundle.tfb`; the `model_bundle` table describes it.
//! - `bundle/unpack` [a validation job]: the parts of a bundle file as the outputs the `score`,
//!   `fusion/apply` and `evaluate` tasks read, so a new site's cohort is scored with the trained study
//!   unchanged (nothing refitted).

use std::path::Path;

use tacefusion_core::bundle::ModelBundle;

use crate::executor::{ExecError, InputFile, OutputFile, text};
use crate::stages::patients::Patients;
use crate::tables::{Column, Table};

/// The parts of a bundle: (name, required).
const PARTS: [&str; 4] = ["network.mpk", "deep_model.json", "models.json", "training_survival.parquet"];

fn describe(b: &ModelBundle) -> Result<OutputFile, ExecError> {
    let n = b.header.parts.len();
    let table = Table::default()
        .with("study", Column::Text(vec![b.header.study.clone(); n]))
        .with("software", Column::Text(vec![b.header.software.clone(); n]))
        .with("format", Column::Int(vec![b.header.format as i64; n]))
        .with("part", Column::Text(b.header.parts.iter().map(|p| p.0.clone()).collect()))
        .with("bytes", Column::Int(b.header.parts.iter().map(|p| p.1 as i64).collect()))
        .with("settings", Column::Text(vec![b.header.settings.to_string(); n]));
    Ok(("model_bundle.parquet".into(), table.to_parquet().map_err(ExecError::Retryable)?))
}

/// Runs the task.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    match text(spec, "kind")? {
        "pack" => {
            let training = text(spec, "training")?;
            let file = |name: &str| {
                inputs
                    .iter()
                    .find(|f| f.path.ends_with(&format!("/{name}")))
                    .map(|f| f.bytes.to_vec())
                    .ok_or_else(|| ExecError::BadInput(format!("no {name} among the inputs: the study's models did not all fit")))
            };
            let p = Patients::read(inputs, training)?;
            let survival = Table::default()
                .with("os_months", Column::Float(p.data.time().to_vec()))
                .with("death", Column::Bool(p.data.event().to_vec()))
                .to_parquet()
                .map_err(ExecError::Retryable)?;
            let mut parts = Vec::new();
            for name in &PARTS[..3] {
                parts.push((name.to_string(), file(name)?));
            }
            parts.push((PARTS[3].to_string(), survival));
            let settings = spec.get("settings").cloned().unwrap_or_default();
            let bundle = ModelBundle::new(text(spec, "study")?, env!("CARGO_PKG_VERSION"), settings, parts);
            Ok(vec![("model_bundle.tfb".into(), bundle.to_bytes()), describe(&bundle)?])
        }
        "unpack" => {
            let path = text(spec, "bundle")?;
            let bytes = std::fs::read(Path::new(path)).map_err(|e| ExecError::BadInput(format!("{path}: {e}")))?;
            let bundle = ModelBundle::from_bytes(&bytes).map_err(|e| ExecError::BadInput(format!("{path}: {e}")))?;
            let mut out = Vec::new();
            for name in PARTS {
                out.push((name.to_string(), bundle.part(name).map_err(|e| ExecError::BadInput(format!("{path}: {e}")))?.to_vec()));
            }
            out.push(describe(&bundle)?);
            Ok(out)
        }
        other => Err(ExecError::BadInput(format!("unknown bundle kind {other:?}"))),
    }
}
