//! `tacefusion radiomics`: pyradiomics-named features of one image and mask, of a batch of them, or
//! of a whole study (`radiomics_study.rs`); one failing patient is reported and the others go on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use rayon::prelude::*;
use tacefusion_core::Table;
use tacefusion_imaging::read_volume;
use tacefusion_radiomics::params::settings_from_yaml;
use tacefusion_radiomics::{Feature, Settings, extract};

/// Arguments of `tacefusion radiomics`.
#[derive(Debug, Args)]
pub struct RadiomicsArgs {
    /// Image (.nii, .nii.gz, .nrrd, or a folder of one DICOM series).
    #[arg(long, required_unless_present_any = ["batch", "study"])]
    image: Option<PathBuf>,
    /// Mask (label map on the image's grid).
    #[arg(long, required_unless_present_any = ["batch", "study"])]
    mask: Option<PathBuf>,
    /// CSV with columns `patient,image,mask`: every row is extracted, failures are listed.
    #[arg(long, conflicts_with_all = ["image", "mask"])]
    batch: Option<PathBuf>,
    /// study.toml: every patient x phase of every cohort with images, with the study's settings;
    /// `--out` is then a folder (radiomic_features.csv, radiomics_exclusions.csv).
    #[arg(long, conflicts_with_all = ["image", "mask", "batch", "params", "label", "json"], requires = "out")]
    study: Option<PathBuf>,
    /// Label value of the ROI (overrides the parameter file).
    #[arg(long)]
    label: Option<f64>,
    /// pyradiomics parameter file (YAML).
    #[arg(long)]
    params: Option<PathBuf>,
    /// Print a JSON object keyed by feature name.
    #[arg(long, conflicts_with = "out")]
    json: bool,
    /// Write `feature,value` CSV here (batch: `patient,feature,value`; study: a folder).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn settings(args: &RadiomicsArgs) -> Result<Settings> {
    let mut s = match &args.params {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            settings_from_yaml(&text).with_context(|| format!("{}", p.display()))?
        }
        None => Settings::default(),
    };
    if let Some(l) = args.label {
        s.label = l;
    }
    Ok(s)
}

fn one(image: &Path, mask: &Path, settings: &Settings) -> Result<Vec<Feature>> {
    let (img, msk) = rayon::join(|| read_volume(image), || read_volume(mask));
    let (img, msk) = (img?, msk?);
    extract(&img, &msk, settings).with_context(|| format!("{} with mask {}", image.display(), mask.display()))
}

/// Runs `radiomics`.
pub fn run(args: RadiomicsArgs) -> Result<()> {
    if let Some(study) = &args.study {
        return crate::radiomics_study::run_study(study, args.out.as_deref().expect("required"));
    }
    let settings = settings(&args)?;
    if let Some(batch) = &args.batch {
        return run_batch(batch, &settings, args.out.as_deref());
    }
    let (image, mask) = (args.image.as_deref().expect("required"), args.mask.as_deref().expect("required"));
    let features = one(image, mask, &settings)?;
    if args.json {
        let map: serde_json::Map<String, serde_json::Value> =
            features.iter().map(|f| (f.name.clone(), serde_json::json!(f.value))).collect();
        println!("{}", serde_json::to_string_pretty(&map)?);
        return Ok(());
    }
    let mut csv = String::from("feature,value\n");
    for f in &features {
        let _ = writeln!(csv, "{},{}", f.name, f.value);
    }
    match &args.out {
        Some(path) => std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{csv}"),
    }
    Ok(())
}

fn run_batch(batch: &Path, settings: &Settings, out: Option<&Path>) -> Result<()> {
    let Some(out) = out else { bail!("--batch needs --out FILE.csv") };
    let table = Table::from_csv_path(batch)?;
    let (patients, images, masks) = (table.text_column("patient")?, table.text_column("image")?, table.text_column("mask")?);
    let base = batch.parent().unwrap_or(Path::new("."));
    let results: Vec<(String, Result<Vec<Feature>>)> = (0..table.len())
        .into_par_iter()
        .map(|r| (patients[r].to_string(), one(&base.join(images[r]), &base.join(masks[r]), settings)))
        .collect();
    let (mut csv, mut errors, mut failed) = (String::from("patient,feature,value\n"), String::from("patient,error\n"), 0);
    for (patient, result) in &results {
        match result {
            Ok(features) => features.iter().for_each(|f| {
                let _ = writeln!(csv, "{patient},{},{}", f.name, f.value);
            }),
            Err(e) => {
                failed += 1;
                eprintln!("radiomics: patient {patient}: {e:#}");
                let _ = writeln!(errors, "{patient},\"{}\"", format!("{e:#}").replace('"', "'"));
            }
        }
    }
    std::fs::write(out, csv).with_context(|| format!("writing {}", out.display()))?;
    let errors_file = out.with_extension("errors.csv");
    std::fs::write(&errors_file, errors).with_context(|| format!("writing {}", errors_file.display()))?;
    eprintln!("radiomics: {} patients, {failed} failed (listed in {})", results.len(), errors_file.display());
    Ok(())
}
