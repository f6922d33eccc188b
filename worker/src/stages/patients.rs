//! The included patients of a cohort as the fan-in stages read them back from ingest's `patients`
//! table: ids, survival and the clinical findings the scores and models use.

use tacefusion_core::clinical::{Ascites, Encephalopathy};
use tacefusion_core::{Albumin, Bilirubin, Length};
use tacefusion_survival::SurvivalData;
use tacefusion_survival::clinical::ClinicalFindings;

use crate::executor::{ExecError, InputFile};
use crate::tables::ReadTable;

/// The included patients of a cohort, read back from ingest's `patients` table.
pub struct Patients {
    /// Ids, in the table's order.
    pub ids: Vec<String>,
    /// Their survival.
    pub data: SurvivalData,
    /// Their clinical findings in canonical units.
    pub findings: Vec<ClinicalFindings>,
}

impl Patients {
    /// The patients of `cohort` among the inputs' `patients` tables.
    pub fn read(inputs: &[InputFile], cohort: &str) -> Result<Patients, ExecError> {
        for file in inputs.iter().filter(|f| f.path.ends_with("/patients.parquet")) {
            let table = ReadTable::read(&file.path, file.bytes.clone())?;
            if table.texts("cohort")?.first().is_some_and(|c| c == cohort) {
                return from_table(&table);
            }
        }
        Err(ExecError::BadInput(format!("no patients table of cohort {cohort} among the inputs (its ingest failed, or it has no patient)")))
    }
}

fn from_table(c: &ReadTable) -> Result<Patients, ExecError> {
    let ids = c.texts("patient_id")?.to_vec();
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    let data = SurvivalData::new(c.floats("os_months")?.to_vec(), c.bools("death")?.to_vec()).map_err(|e| bad(&e))?;
    let ascites =
        |s: &str| Ascites::CODES.iter().find(|(code, _)| *code == s).map(|(_, a)| *a).ok_or_else(|| bad(&format!("ascites {s:?}")));
    let enceph = |s: &str| {
        Encephalopathy::CODES.iter().find(|(code, _)| *code == s).map(|(_, a)| *a).ok_or_else(|| bad(&format!("encephalopathy {s:?}")))
    };
    // columns resolved once; a bad value names its patient
    let (albumin, bilirubin, afp, inr) =
        (c.floats("albumin_g_l")?, c.floats("bilirubin_umol_l")?, c.floats("afp_ng_ml")?, c.floats("inr")?);
    let (ascites_codes, enceph_codes) = (c.texts("ascites")?, c.texts("encephalopathy")?);
    let (ecog, number, diameter) = (c.ints("ecog")?, c.ints("tumour_number")?, c.floats("largest_diameter_cm")?);
    let (pvtt, spread) = (c.bools("pvtt")?, c.bools("extrahepatic_spread")?);
    let mut findings = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let of = |e: ExecError| match e {
            ExecError::BadInput(m) => ExecError::BadInput(format!("{}: patient {id}: {m}", c.source)),
            other => other,
        };
        findings.push(ClinicalFindings {
            albumin: Albumin::g_per_l(albumin[i]).map_err(|e| of(bad(&e)))?,
            bilirubin: Bilirubin::umol_per_l(bilirubin[i]).map_err(|e| of(bad(&e)))?,
            afp_ng_ml: afp[i],
            inr: inr[i],
            ascites: ascites(&ascites_codes[i]).map_err(of)?,
            encephalopathy: enceph(&enceph_codes[i]).map_err(of)?,
            ecog: ecog[i] as u8,
            tumour_number: number[i] as u32,
            largest_diameter: Length::cm(diameter[i]).map_err(|e| of(bad(&e)))?,
            portal_vein_thrombus: pvtt[i],
            extrahepatic_spread: spread[i],
        });
    }
    Ok(Patients { ids, data, findings })
}
