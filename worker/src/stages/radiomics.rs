//! `radiomics` [one patient x phase]: the study's radiomic features of one CT phase, as the
//! `radiomic_features` table (`cohort, patient_id, phase, feature, ibsi, value`).

use std::path::Path;

use tacefusion_imaging::{read_volume, read_volume_stored};
use tacefusion_radiomics::{Settings, extract};

use crate::executor::{ExecError, OutputFile, number, text};
use crate::tables::{Column, Table};

/// Runs the task.
pub fn run(spec: &serde_json::Value) -> Result<Vec<OutputFile>, ExecError> {
    let (cohort, patient, phase) = (text(spec, "cohort")?, text(spec, "patient_id")?, text(spec, "phase")?);
    let (image, mask) = (text(spec, "image")?, text(spec, "mask")?);
    let s = spec.get("settings").ok_or_else(|| ExecError::BadInput("task spec has no settings".into()))?;
    // absent: none; anything but a list of numbers (or a boolean) is an error, not a setting dropped
    let spec_err = |field: &str, e: &dyn std::fmt::Display| ExecError::BadInput(format!("task spec settings.{field}: {e}"));
    let sigmas: Vec<f64> = match s.get("log_sigmas_mm") {
        None => Vec::new(),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| spec_err("log_sigmas_mm", &e))?,
    };
    let wavelet = match s.get("wavelet") {
        None => false,
        Some(v) => v.as_bool().ok_or_else(|| spec_err("wavelet", &format!("{v} is not true or false")))?,
    };
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(format!("patient {patient} phase {phase}: {e}"));
    let (img, msk) = rayon::join(|| read_volume_stored(Path::new(image)), || read_volume(Path::new(mask)));
    let ((img, image_pixel), msk) = (img.map_err(|e| bad(&e))?, msk.map_err(|e| bad(&e))?);
    // resampled values are cast to the file's pixel type, as pyradiomics does
    let settings = Settings {
        label: number(spec, "label")?,
        image_pixel: Some(image_pixel),
        ..Settings::for_study(number(s, "bin_width")?, &sigmas, wavelet, number(s, "spacing_mm")?)
    };
    let features = extract(&img, &msk, &settings).map_err(|e| bad(&format!("{image} with mask {mask}: {e}")))?;
    let n = features.len();
    let repeat = |v: &str| Column::Text(vec![v.to_string(); n]);
    let table = Table::default()
        .with("cohort", repeat(cohort))
        .with("patient_id", repeat(patient))
        .with("phase", repeat(phase))
        .with("feature", Column::Text(features.iter().map(|f| f.name.clone()).collect()))
        .with("ibsi", Column::Text(features.iter().map(|f| f.ibsi.unwrap_or("").to_string()).collect()))
        .with("value", Column::Float(features.iter().map(|f| f.value).collect()));
    Ok(vec![("radiomic_features.parquet".into(), table.to_parquet().map_err(ExecError::Retryable)?)])
}
