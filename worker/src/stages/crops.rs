//! What the deep-learning stages read: the cohort's included patients (ingest's `patients` table)
//! joined with the crops of the `preprocess` tasks that committed (a patient whose CT could not be
//! cropped is already in `exclusions`; here it is simply absent), in the patients table's order.

use std::collections::HashMap;

use tacefusion_models::{CropSet, npy};

use crate::executor::{ExecError, InputFile};
use crate::tables::ReadTable;

/// The folder of an input file (`cache/<stage>/<key>/attempt-<n>`): files of one manifest share it.
fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The included patients of `cohort` with a crop, with their survival.
pub fn cohort_crops(cohort: &str, inputs: &[InputFile]) -> Result<CropSet, ExecError> {
    let patients = inputs
        .iter()
        .filter(|f| f.path.ends_with("/patients.parquet"))
        .map(|f| ReadTable::read(&f.path, f.bytes.clone()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|t| t.texts("cohort").is_ok_and(|c| c.first().is_some_and(|c| c == cohort)))
        .ok_or_else(|| ExecError::BadInput(format!("no patients table of cohort {cohort} among the inputs")))?;
    // crop of each patient of this cohort: the crops table and the array of one manifest
    let arrays: HashMap<&str, &InputFile> = inputs.iter().filter(|f| f.path.ends_with("/crop.npy")).map(|f| (folder(&f.path), f)).collect();
    let mut by_patient: HashMap<String, &InputFile> = HashMap::new();
    for f in inputs.iter().filter(|f| f.path.ends_with("/crops.parquet")) {
        let t = ReadTable::read(&f.path, f.bytes.clone())?;
        let (cohorts, ids) = (t.texts("cohort")?, t.texts("patient_id")?);
        if let (Some(c), Some(id)) = (cohorts.first(), ids.first())
            && c == cohort
        {
            let array = arrays.get(folder(&f.path)).ok_or_else(|| ExecError::BadInput(format!("{}: no crop.npy beside it", f.path)))?;
            by_patient.insert(id.clone(), array);
        }
    }
    let (ids, time, death) = (patients.texts("patient_id")?, patients.floats("os_months")?, patients.bools("death")?);
    let mut set: Option<CropSet> = None;
    for (n, id) in ids.iter().enumerate() {
        let Some(file) = by_patient.get(id) else { continue };
        let (shape, values) = npy::read_f32(&file.bytes).map_err(|e| ExecError::BadInput(format!("{}: patient {id}: {e}", file.path)))?;
        let shape4: [usize; 4] = shape
            .clone()
            .try_into()
            .map_err(|_| ExecError::BadInput(format!("{}: patient {id}: crop of shape {shape:?} is not [phases, k, j, i]", file.path)))?;
        let s = set.get_or_insert_with(|| CropSet::new(shape4));
        s.push(id, &shape, &values, Some((time[n], death[n]))).map_err(|e| ExecError::BadInput(format!("{}: {e}", file.path)))?;
    }
    set.ok_or_else(|| ExecError::BadInput(format!("cohort {cohort}: no included patient has a CT crop")))
}
