//! `preprocess` [one patient]: the deep-learning input of one patient, both CT phases resampled to
//! the study's isotropic spacing around the tumour, HU windowed to [0, 1]: `crop.npy` (float32,
//! shape `[phases, k, j, i]`, the phases in the study's order) and the `crops` table (`cohort,
//! patient_id, phase, tumour_inside`: the share of the tumour inside the box). Only voxels and
//! geometry leave the readers, never a header field.

use std::path::Path;

use tacefusion_imaging::preprocess::{CropSpec, tumour_crop};
use tacefusion_imaging::read_volume;
use tacefusion_models::npy;

use crate::executor::{ExecError, OutputFile, number, text};
use crate::tables::{Column, Table};

/// Runs the task.
pub fn run(spec: &serde_json::Value) -> Result<Vec<OutputFile>, ExecError> {
    let (cohort, patient) = (text(spec, "cohort")?, text(spec, "patient_id")?);
    let label = number(spec, "label")?;
    let crop = spec.get("crop").ok_or_else(|| ExecError::BadInput("task spec has no crop settings".into()))?;
    let triple = |name: &str| -> Result<Vec<f64>, ExecError> {
        crop.get(name)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_f64()).collect::<Vec<f64>>())
            .filter(|v| v.len() >= 2)
            .ok_or_else(|| ExecError::BadInput(format!("crop setting {name} missing")))
    };
    let size = triple("crop_size")?;
    let window = triple("hu_window")?;
    if size.len() != 3 {
        return Err(ExecError::BadInput(format!("crop_size {size:?} must have 3 entries")));
    }
    let crop_spec = CropSpec {
        spacing_mm: number(crop, "spacing_mm")?,
        hu_window: [window[0], window[1]],
        size: [size[0] as usize, size[1] as usize, size[2] as usize],
    };
    let phases = spec.get("phases").and_then(|v| v.as_array()).ok_or_else(|| ExecError::BadInput("task spec has no phases".into()))?;
    let mut voxels = Vec::with_capacity(phases.len() * crop_spec.size.iter().product::<usize>());
    let (mut names, mut inside) = (Vec::new(), Vec::new());
    for p in phases {
        let (phase, image, mask) = (text(p, "phase")?, text(p, "image")?, text(p, "mask")?);
        // the readers' errors name their file
        let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(format!("patient {patient} phase {phase}: {e}"));
        let (img, msk) = rayon::join(|| read_volume(Path::new(image)), || read_volume(Path::new(mask)));
        let img = img.map_err(|e| bad(&e))?;
        let msk = msk.map_err(|e| bad(&e))?;
        let c = tumour_crop(&img, &msk, label, &crop_spec).map_err(|e| bad(&format!("{image} with mask {mask}: {e}")))?;
        voxels.extend_from_slice(&c.image.data);
        names.push(phase.to_string());
        inside.push(c.tumour_inside);
    }
    let [i, j, k] = crop_spec.size;
    let array = npy::write_f32(&[phases.len(), k, j, i], &voxels);
    let n = names.len();
    let table = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n]))
        .with("patient_id", Column::Text(vec![patient.to_string(); n]))
        .with("phase", Column::Text(names))
        .with("tumour_inside", Column::Float(inside));
    Ok(vec![("crop.npy".into(), array), ("crops.parquet".into(), table.to_parquet().map_err(ExecError::Retryable)?)])
}
