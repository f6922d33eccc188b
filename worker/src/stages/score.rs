//! `score` [one cohort]: the final CT network (`network.mpk` and `deep_model.json` of the final
//! `train` task) applied unchanged to every included patient of a cohort with a crop: rows of model
//! `deep` in `predictions` (risk = the network's log relative hazard) and the patient's deep
//! features in `deep_features` (`cohort, patient_id, feature, value`, feature `deep_000`...).

use tacefusion_models::train::load_network;
use tacefusion_models::{CpuBackend, score};

use crate::executor::{ExecError, InputFile, OutputFile, text};
use crate::stages::crops::cohort_crops;
use crate::stages::train::DeepModel;
use crate::tables::{Column, Table};

/// Patients scored per forward pass.
const BATCH: usize = 16;

/// Runs the task.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let file = |name: &str| {
        inputs
            .iter()
            .find(|f| f.path.ends_with(&format!("/{name}")))
            .ok_or_else(|| ExecError::BadInput(format!("no {name} among the inputs (the final network did not train)")))
    };
    let model_file = file("deep_model.json")?;
    let model: DeepModel =
        serde_json::from_slice(&model_file.bytes).map_err(|e| ExecError::BadInput(format!("{}: {e}", model_file.path)))?;
    let crops = cohort_crops(cohort, inputs)?;
    if crops.shape != model.crop_shape {
        return Err(ExecError::BadInput(format!(
            "cohort {cohort}: crops of shape {:?}, the network was trained on {:?} (other preprocessing settings)",
            crops.shape, model.crop_shape
        )));
    }
    let device = Default::default();
    let network_file = file("network.mpk")?;
    let network = load_network::<CpuBackend>(&model.config.network, &network_file.bytes, &device)
        .map_err(|e| ExecError::BadInput(format!("{}: {e}", network_file.path)))?;
    let (risk, features) = score(&network, &crops, BATCH, &device);
    let n = crops.len();
    let predictions = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n]))
        .with("patient_id", Column::Text(crops.ids.clone()))
        .with("model", Column::Text(vec!["deep".into(); n]))
        .with("group", Column::Text(vec![String::new(); n]))
        .with("risk", Column::Float(risk));
    let width = features.first().map_or(0, Vec::len);
    let names: Vec<String> = (0..width).map(|k| format!("deep_{k:03}")).collect();
    let deep = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n * width]))
        .with("patient_id", Column::Text(crops.ids.iter().flat_map(|id| std::iter::repeat_n(id.clone(), width)).collect()))
        .with("feature", Column::Text((0..n).flat_map(|_| names.iter().cloned()).collect()))
        .with("value", Column::Float(features.iter().flat_map(|f| f.iter().map(|&v| v as f64)).collect()));
    Ok(vec![
        ("predictions.parquet".into(), predictions.to_parquet().map_err(ExecError::Retryable)?),
        ("deep_features.parquet".into(), deep.to_parquet().map_err(ExecError::Retryable)?),
    ])
}
