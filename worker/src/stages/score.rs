//! `score` [one cohort]: the final CT network (`network.mpk` and `deep_model.json` of the final
//! `train` task) applied unchanged to every included patient of a cohort with a crop: rows of model
//! `deep` in `predictions` (risk = the network's log relative hazard) and the patient's deep
//! features in `deep_features` (`cohort, patient_id, feature, value`, feature `deep_000`...).

use tacefusion_models::train::load_network;
use tacefusion_models::{Backend, CpuBackend, CropSet, score};

use crate::executor::{Device, ExecError, InputFile, OutputFile, text};
use crate::stages::crops::cohort_crops;
use crate::stages::train::DeepModel;
use crate::tables::{Column, Table};

/// Patients scored per forward pass.
const BATCH: usize = 16;

/// Risk and deep features of every crop, on backend `B`.
fn score_on<B: Backend>(
    model: &DeepModel,
    network: &InputFile,
    crops: &CropSet,
    device: &B::Device,
) -> Result<(Vec<f64>, Vec<Vec<f32>>), ExecError> {
    let net = load_network::<B>(&model.config.network, &network.bytes, device)
        .map_err(|e| ExecError::BadInput(format!("{}: {e}", network.path)))?;
    Ok(score(&net, crops, BATCH, device))
}

/// Runs the task on `device`.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile], device: Device) -> Result<Vec<OutputFile>, ExecError> {
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
    let network_file = file("network.mpk")?;
    let (risk, features) = match device {
        Device::Cpu => score_on::<CpuBackend>(&model, network_file, &crops, &Default::default())?,
        #[cfg(feature = "cuda")]
        Device::Cuda(index) => {
            score_on::<tacefusion_models::GpuBackend>(&model, network_file, &crops, &tacefusion_models::gpu_device(index))?
        }
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(index) => return Err(Device::unavailable(index)),
    };
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
