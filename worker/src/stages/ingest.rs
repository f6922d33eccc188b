//! `ingest` [one cohort]: reads and checks the cohort's clinical table (`tacefusion_core::clinical`)
//! into the `patients` table (values in canonical units: albumin g/L, bilirubin umol/L, diameter cm)
//! and the `exclusions` table (every excluded row with its file, line, field and reason).

use tacefusion_core::clinical::{ClinicalRecord, read_clinical};
use tacefusion_core::study::ClinicalUnits;

use crate::executor::{ExecError, OutputFile, text};
use crate::stages::EXCLUSION_COLUMNS;
use crate::tables::{Column, Table};

fn texts(records: &[ClinicalRecord], f: impl Fn(&ClinicalRecord) -> String) -> Column {
    Column::Text(records.iter().map(f).collect())
}

fn floats(records: &[ClinicalRecord], f: impl Fn(&ClinicalRecord) -> f64) -> Column {
    Column::Float(records.iter().map(f).collect())
}

fn code<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// Runs the task.
pub fn run(spec: &serde_json::Value) -> Result<Vec<OutputFile>, ExecError> {
    let (cohort, role, clinical) = (text(spec, "cohort")?, text(spec, "role")?, text(spec, "clinical")?);
    let units: ClinicalUnits = serde_json::from_value(spec.get("units").cloned().unwrap_or_default())
        .map_err(|e| ExecError::BadInput(format!("cohort {cohort}: units: {e}")))?;
    let table = read_clinical(clinical, cohort, &units).map_err(|e| ExecError::BadInput(format!("cohort {cohort}: {e}")))?;
    let r = &table.records;
    let n = r.len();
    let patients = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n]))
        .with("role", Column::Text(vec![role.to_string(); n]))
        .with("patient_id", texts(r, |p| p.patient_id.clone()))
        .with("line", Column::Int(r.iter().map(|p| p.line as i64).collect()))
        .with("centre", texts(r, |p| p.centre.clone()))
        .with("os_months", floats(r, |p| p.os_months))
        .with("death", Column::Bool(r.iter().map(|p| p.death).collect()))
        .with("age", floats(r, |p| p.age))
        .with("sex", texts(r, |p| code(&p.sex)))
        .with("aetiology", texts(r, |p| code(&p.aetiology)))
        .with("albumin_g_l", floats(r, |p| p.albumin.as_g_per_l()))
        .with("bilirubin_umol_l", floats(r, |p| p.bilirubin.as_umol_per_l()))
        .with("afp_ng_ml", floats(r, |p| p.afp_ng_ml))
        .with("inr", floats(r, |p| p.inr))
        .with("ascites", texts(r, |p| code(&p.ascites)))
        .with("encephalopathy", texts(r, |p| code(&p.encephalopathy)))
        .with("ecog", Column::Int(r.iter().map(|p| p.ecog as i64).collect()))
        .with("tumour_number", Column::Int(r.iter().map(|p| p.tumour_number as i64).collect()))
        .with("largest_diameter_cm", floats(r, |p| p.largest_diameter.as_cm()))
        .with("pvtt", Column::Bool(r.iter().map(|p| p.pvtt).collect()))
        .with("extrahepatic_spread", Column::Bool(r.iter().map(|p| p.extrahepatic_spread).collect()));
    let x = &table.exclusions;
    let values: [Vec<String>; 7] = [
        x.iter().map(|e| e.cohort.clone()).collect(),
        x.iter().map(|e| e.patient_id.clone()).collect(),
        vec!["ingest".to_string(); x.len()],
        x.iter().map(|e| format!("{}:{}", e.file.display(), e.line)).collect(),
        x.iter().map(|e| e.field.clone()).collect(),
        x.iter().map(|e| e.kind.name().to_string()).collect(),
        x.iter().map(|e| e.reason.clone()).collect(),
    ];
    let exclusions = EXCLUSION_COLUMNS.iter().zip(values).fold(Table::default(), |t, (name, v)| t.with(name, Column::Text(v)));
    Ok(vec![
        ("patients.parquet".into(), patients.to_parquet().map_err(ExecError::Retryable)?),
        ("exclusions.parquet".into(), exclusions.to_parquet().map_err(ExecError::Retryable)?),
    ])
}
