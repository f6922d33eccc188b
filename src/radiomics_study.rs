//! `tacefusion radiomics --study`: the radiomics stage over a whole study, every patient x phase of
//! every cohort with images, in parallel (rayon), with the study's settings; a phase that cannot be
//! read or extracted is listed with its files and reason while the others go on.
//!
//! Outputs (in `--out DIR`): `radiomic_features.csv` (`cohort,patient_id,phase,feature,value`, rows in
//! the study's order: cohorts, then patients as in the clinical table, then phases, then features)
//! and `radiomics_exclusions.csv` (`cohort,patient_id,phase,image,mask,reason`). The rows do not
//! depend on the number of threads.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use tacefusion_core::{Study, Table};
use tacefusion_imaging::read_volume;
use tacefusion_radiomics::{Feature, Settings, extract};

/// One patient x phase to extract.
#[derive(Debug, Clone)]
struct PhaseJob {
    cohort: String,
    patient: String,
    phase: String,
    image: PathBuf,
    mask: PathBuf,
    label: f64,
}

/// Every patient x phase of the cohorts with images, in the study's order; each patient once (a
/// repeated id is the ingest stage's exclusion, not a second extraction).
fn jobs(study: &Study, study_file: &Path) -> Result<Vec<PhaseJob>> {
    let mut out = Vec::new();
    for cohort in &study.cohorts {
        let Some(images) = &cohort.images else { continue };
        let clinical = PathBuf::from(Study::resolve(study_file, &cohort.clinical));
        let table = Table::from_csv_path(&clinical)?;
        let ids = table.text_column("patient_id").with_context(|| format!("cohort {}: {}", cohort.name, clinical.display()))?;
        for files in images.phase_files(study_file, ids) {
            out.push(PhaseJob {
                cohort: cohort.name.clone(),
                patient: files.patient,
                phase: files.phase,
                image: files.image,
                mask: files.mask,
                label: images.label as f64,
            });
        }
    }
    Ok(out)
}

fn extract_job(job: &PhaseJob, settings: &Settings) -> Result<Vec<Feature>> {
    let (image, mask) = rayon::join(|| read_volume(&job.image), || read_volume(&job.mask));
    let (image, mask) = (image?, mask?);
    let settings = Settings { label: job.label, ..settings.clone() };
    extract(&image, &mask, &settings).with_context(|| format!("{} with mask {}", job.image.display(), job.mask.display()))
}

/// A CSV field, quoted when it needs to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// Runs the radiomics stage of `study_file` into `out`.
pub fn run_study(study_file: &Path, out: &Path) -> Result<()> {
    let study = Study::from_path(study_file)?;
    let r = &study.radiomics;
    let settings = Settings::for_study(r.bin_width, &r.log_sigmas_mm, r.wavelet, study.preprocess.spacing_mm);
    let jobs = jobs(&study, study_file)?;
    if jobs.is_empty() {
        bail!("{}: no cohort has images", study_file.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let results: Vec<Result<Vec<Feature>>> = jobs.par_iter().map(|job| extract_job(job, &settings)).collect();
    let mut features = String::from("cohort,patient_id,phase,feature,value\n");
    let mut exclusions = String::from("cohort,patient_id,phase,image,mask,reason\n");
    let mut failed = 0;
    for (job, result) in jobs.iter().zip(&results) {
        let key = format!("{},{},{}", field(&job.cohort), field(&job.patient), field(&job.phase));
        match result {
            Ok(list) => list.iter().for_each(|f| {
                let _ = writeln!(features, "{key},{},{}", f.name, f.value);
            }),
            Err(e) => {
                failed += 1;
                let (image, mask) = (job.image.to_string_lossy(), job.mask.to_string_lossy());
                let _ = writeln!(exclusions, "{key},{},{},{}", field(&image), field(&mask), field(&format!("{e:#}")));
                eprintln!("radiomics: {} {} {}: {e:#}", job.cohort, job.patient, job.phase);
            }
        }
    }
    let write = |name: &str, text: &str| {
        let path = out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("radiomic_features.csv", &features)?;
    write("radiomics_exclusions.csv", &exclusions)?;
    eprintln!("radiomics: {} patient-phases, {} extracted, {failed} excluded (radiomics_exclusions.csv)", jobs.len(), jobs.len() - failed);
    Ok(())
}
