//! `tacefusion synth`: a complete synthetic multi-centre TACE study in the file formats a hospital
//! hands over (clinical CSV with declared units, NIfTI CT in two phases with tumour masks, biomarker
//! table, bulk expression TSV, single-cell h5ad and 10x MTX), generated from a documented model with
//! planted effects and planted defective records, and the ground truth to check findings against.
//!
//! Deterministic: every draw comes from a ChaCha8 stream named by (seed, domain, index), so the same
//! preset and seed give byte-identical files whatever the number of threads.
//! `docs/synthetic-study.md` is the model with its formulas.
//!
//! ```
//! use tacefusion_synth::{Effects, Preset, generate_cohorts};
//!
//! // the patients alone (no files): latents, clinical rows, survival, planted defects
//! let cohorts = generate_cohorts(1, &Preset::Small.spec(), &Effects::default(), 1);
//! assert_eq!(cohorts[0].spec.name, "training");
//! assert_eq!(cohorts[0].patients.len(), 70);
//! assert!(cohorts[0].patients.iter().any(|p| p.defect.is_some()));
//! ```

pub mod cohort;
pub mod h5ad;
pub mod model;
pub mod omics;
pub mod phantom;
pub mod preset;
pub mod rng;
pub mod tables;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use tacefusion_core::study::{Cohort, ExpressionScale, ImageLayout, OmicsSettings, Study, StudyInfo};
use tacefusion_core::units::BilirubinUnit;
use tacefusion_core::{CohortRole, study::ClinicalUnits};
use tacefusion_imaging::{VoxelData, write_nifti};

pub use cohort::{DefectKind, GeneratedCohort, Patient, generate_cohorts};
pub use model::Effects;
pub use omics::OmicsEffects;
pub use preset::{Preset, PresetSpec};

use crate::phantom::Phase;
use crate::tables::write_file;

/// Why the study could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// An input (the gene sets) could not be read.
    #[error("{file}: {message}")]
    Input {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An output could not be written.
    #[error("{file}: {message}")]
    Output {
        /// The file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// The preset.
    pub preset: Preset,
    /// Master seed.
    pub seed: u64,
    /// Output folder (created).
    pub out: PathBuf,
    /// Defective records of each kind.
    pub defects_per_kind: usize,
    /// The Hallmark gene sets (GMT).
    pub gene_sets: PathBuf,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Path of `study.toml`.
    pub study_file: PathBuf,
    /// (cohort, rows) in order.
    pub cohorts: Vec<(String, usize)>,
    /// CT volumes written (images and masks).
    pub volumes: usize,
    /// Cells and genes of the single-cell cohort.
    pub cells: usize,
    /// Genes of the omics.
    pub genes: usize,
    /// Defective records planted.
    pub defects: usize,
}

fn image_path(cohort: &str, patient: &str, phase: &str, mask: bool) -> String {
    format!("images/{cohort}/{patient}/{phase}{}.nii.gz", if mask { "_mask" } else { "" })
}

/// Writes the whole study; `progress` receives one line per step.
pub fn generate(options: &SynthOptions, progress: &(dyn Fn(&str) + Sync)) -> Result<Summary, SynthError> {
    let spec = options.preset.spec();
    let effects = Effects::default();
    let omics_effects = OmicsEffects::default();
    let seed = options.seed;
    let out = &options.out;
    if std::fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(SynthError::Output {
            file: out.clone(),
            message: "the output folder is not empty: choose a new one, or remove it first".into(),
        });
    }
    std::fs::create_dir_all(out).map_err(|e| SynthError::Output { file: out.clone(), message: e.to_string() })?;
    let universe = omics::GeneUniverse::from_gmt(&options.gene_sets, spec.background_genes)?;
    let cohorts = generate_cohorts(seed, &spec, &effects, options.defects_per_kind);
    progress(&format!(
        "patients drawn: {}",
        cohorts.iter().map(|c| format!("{} {}", c.spec.name, c.patients.len())).collect::<Vec<_>>().join(", ")
    ));

    let volumes = write_images(out, seed, &cohorts, progress)?;

    let mut study_cohorts = Vec::new();
    let mut defects = String::from("cohort,line,patient_id,kind,file,field\n");
    for c in &cohorts {
        let name = c.spec.name;
        let clinical = format!("clinical/{name}.csv");
        write_file(&out.join(&clinical), tables::clinical_csv(c).as_bytes())?;
        for (row, p) in c.patients.iter().enumerate() {
            let Some(kind) = p.defect else { continue };
            let (file, field) = match kind {
                DefectKind::MissingSurvivalTime | DefectKind::NegativeSurvivalTime => (clinical.clone(), "os_months"),
                DefectKind::AlbuminUnit => (clinical.clone(), "albumin"),
                DefectKind::DuplicatePatientId => (clinical.clone(), "patient_id"),
                DefectKind::EmptyMask => (image_path(name, &p.id, "arterial", true), "mask"),
                DefectKind::MaskGridMismatch => (image_path(name, &p.id, "portal_venous", true), "geometry"),
                DefectKind::TruncatedImage => (image_path(name, &p.id, "portal_venous", false), "image"),
            };
            defects += &format!("{name},{},{},{},{file},{field}\n", row + 2, p.id, kind.name());
        }
        let mut cohort = Cohort {
            name: name.to_string(),
            role: c.spec.role,
            centre: c.spec.centre.code.to_string(),
            clinical,
            units: ClinicalUnits {
                albumin: c.spec.centre.albumin_unit,
                bilirubin: BilirubinUnit::MicromolesPerLitre,
                diameter: c.spec.centre.diameter_unit,
                afp: Default::default(),
            },
            images: Some(ImageLayout {
                image: format!("images/{name}/{{patient}}/{{phase}}.nii.gz"),
                mask: format!("images/{name}/{{patient}}/{{phase}}_mask.nii.gz"),
                phases: Phase::ALL.iter().map(|p| p.name().to_string()).collect(),
                label: 1,
            }),
            biomarkers: None,
            expression: None,
            expression_scale: None,
            h5ad: None,
            mtx: None,
            cells: None,
        };
        match c.spec.role {
            CohortRole::Biomarker => {
                let path = "biomarker/biomarkers.csv";
                write_file(&out.join(path), tables::biomarker_csv(seed, c).as_bytes())?;
                cohort.biomarkers = Some(path.into());
            }
            CohortRole::Bulk => {
                let h: Vec<f64> = c.patients.iter().map(|p| p.latent.h).collect();
                let values = omics::bulk_expression(seed, &universe, &h, &omics_effects);
                let ids: Vec<&str> = c.patients.iter().map(|p| p.id.as_str()).collect();
                let path = "bulk/expression.tsv";
                write_file(&out.join(path), tables::expression_tsv(&universe.genes, &ids, &values).as_bytes())?;
                cohort.expression = Some(path.into());
                cohort.expression_scale = Some(ExpressionScale::Log2);
                progress(&format!("bulk expression: {} genes x {} samples", universe.genes.len(), ids.len()));
            }
            CohortRole::Singlecell => {
                let n = write_singlecell(out, seed, c, &universe, &omics_effects, spec.cells_per_patient)?;
                cohort.h5ad = Some("singlecell/cells.h5ad".into());
                cohort.mtx = Some("singlecell/mtx".into());
                cohort.cells = Some("singlecell/cells.csv".into());
                progress(&format!("single cell: {n} cells x {} genes (h5ad and 10x MTX)", universe.genes.len()));
            }
            _ => {}
        }
        study_cohorts.push(cohort);
    }

    write_file(&out.join("truth/patients.csv"), tables::truth_patients_csv(&cohorts).as_bytes())?;
    write_file(&out.join("truth/defects.csv"), defects.as_bytes())?;
    let truth = serde_json::json!({
        "preset": spec.name, "seed": seed, "survival": effects, "omics": omics_effects,
        "singlecell_h": cohort::SINGLECELL_H, "defects_per_kind": options.defects_per_kind,
    });
    write_file(&out.join("truth/effects.json"), serde_json::to_string_pretty(&truth).expect("serialisable").as_bytes())?;

    // the study carries its gene sets, so that it runs wherever it is copied
    let gmt =
        std::fs::read(&options.gene_sets).map_err(|e| SynthError::Input { file: options.gene_sets.clone(), message: e.to_string() })?;
    write_file(&out.join(GENE_SETS), &gmt)?;
    let (preprocess, train, sweep) = options.preset.deep_settings();
    let study = Study {
        study: StudyInfo {
            name: format!("synthetic-{}-seed{seed}", spec.name),
            seed,
            description:
                "synthetic multi-centre TACE study written by `tacefusion synth`; model in docs/synthetic-study.md, truth in truth/".into(),
            truth: Some("truth/patients.csv".into()),
        },
        cohorts: study_cohorts,
        preprocess,
        radiomics: Default::default(),
        train,
        sweep,
        evaluation: Default::default(),
        omics: OmicsSettings { gene_sets: Some(GENE_SETS.into()), ..Default::default() },
    };
    let study_file = out.join("study.toml");
    let header =
        format!("# written by tacefusion synth --preset {} --seed {seed}; every key is documented in docs/study.md\n\n", spec.name);
    write_file(&study_file, (header + &study.to_toml()).as_bytes())?;
    debug_assert!(Study::from_path(&study_file).is_ok());

    Ok(Summary {
        study_file,
        cohorts: cohorts.iter().map(|c| (c.spec.name.to_string(), c.patients.len())).collect(),
        volumes,
        cells: spec.cells_per_patient * cohorts.iter().filter(|c| c.spec.role == CohortRole::Singlecell).map(|c| c.spec.n).sum::<usize>(),
        genes: universe.genes.len(),
        defects: cohorts.iter().flat_map(|c| &c.patients).filter(|p| p.defect.is_some()).count(),
    })
}

/// CT volumes of every patient (the extra duplicate-id records share their id's images).
fn write_images(out: &Path, seed: u64, cohorts: &[GeneratedCohort], progress: &(dyn Fn(&str) + Sync)) -> Result<usize, SynthError> {
    let jobs: Vec<(&GeneratedCohort, &Patient)> = cohorts.iter().flat_map(|c| c.patients[..c.spec.n].iter().map(move |p| (c, p))).collect();
    let done = AtomicUsize::new(0);
    let total = jobs.len();
    jobs.par_iter()
        .map(|(c, p)| {
            let centre = &c.spec.centre;
            let mut rng = rng::stream(seed, "anatomy", p.stream);
            let anatomy = phantom::draw_anatomy(&mut rng, centre, &p.latent, p.clinical.diameter_cm);
            for phase in Phase::ALL {
                let mut scan = rng::stream(seed, phase.name(), p.stream);
                let image = phantom::render(&mut scan, &anatomy, centre, phase);
                let image_file = out.join(image_path(c.spec.name, &p.id, phase.name(), false));
                let mask_file = out.join(image_path(c.spec.name, &p.id, phase.name(), true));
                if let Some(dir) = image_file.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| SynthError::Output { file: dir.to_path_buf(), message: e.to_string() })?;
                }
                let nifti_err = |e: tacefusion_imaging::ImageError| SynthError::Output { file: image_file.clone(), message: e.to_string() };
                write_nifti(&image_file, &anatomy.geometry, &VoxelData::I16(image)).map_err(nifti_err)?;
                let mut mask_geometry = anatomy.geometry;
                let mut mask = anatomy.mask.clone();
                match (p.defect, phase) {
                    (Some(DefectKind::EmptyMask), Phase::Arterial) => mask.iter_mut().for_each(|v| *v = 0),
                    (Some(DefectKind::MaskGridMismatch), Phase::PortalVenous) => {
                        // the mask of a reconstruction with thicker slices: one slice fewer, 10% wider spacing
                        mask_geometry.size[2] -= 1;
                        mask_geometry.spacing[2] *= 1.1;
                        mask.truncate(mask_geometry.len());
                    }
                    _ => {}
                }
                write_nifti(&mask_file, &mask_geometry, &VoxelData::U8(mask)).map_err(nifti_err)?;
                if (p.defect, phase) == (Some(DefectKind::TruncatedImage), Phase::PortalVenous) {
                    let bytes =
                        std::fs::read(&image_file).map_err(|e| SynthError::Output { file: image_file.clone(), message: e.to_string() })?;
                    write_file(&image_file, &bytes[..bytes.len() * 3 / 5])?;
                }
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(200) || n == total {
                progress(&format!("CT: {n}/{total} patients (2 phases, image + mask)"));
            }
            Ok(4)
        })
        .collect::<Result<Vec<usize>, SynthError>>()
        .map(|v| v.iter().sum())
}

fn write_singlecell(
    out: &Path,
    seed: u64,
    c: &GeneratedCohort,
    universe: &omics::GeneUniverse,
    effects: &OmicsEffects,
    cells_per_patient: usize,
) -> Result<usize, SynthError> {
    let profiles = omics::cell_type_profiles(seed, universe);
    let (mut indptr, mut indices, mut counts) = (vec![0u64], Vec::new(), Vec::new());
    let (mut barcodes, mut patient_labels, mut type_labels) = (Vec::new(), Vec::new(), Vec::new());
    let mut table = String::from("barcode,patient,cell_type\n");
    for p in &c.patients {
        let cells = omics::patient_cells(seed, p.stream, cells_per_patient, p.latent.h, universe, &profiles, effects);
        let offset = *indptr.last().expect("starts with 0");
        indptr.extend(cells.indptr[1..].iter().map(|v| v + offset));
        indices.extend_from_slice(&cells.indices);
        counts.extend_from_slice(&cells.counts);
        for (k, &t) in cells.cell_type.iter().enumerate() {
            let barcode = format!("{}_{:05}", p.id, k + 1);
            let cell_type = omics::CELL_TYPES[t as usize].0;
            table += &format!("{barcode},{},{cell_type}\n", p.id);
            barcodes.push(barcode);
            patient_labels.push(p.id.as_str());
            type_labels.push(cell_type);
        }
    }
    write_file(&out.join("singlecell/cells.csv"), table.as_bytes())?;
    tables::write_mtx(&out.join("singlecell/mtx"), &universe.genes, &barcodes, &indptr, &indices, &counts)?;
    let obs = [h5ad::Categorical::from_labels("patient", &patient_labels), h5ad::Categorical::from_labels("cell_type", &type_labels)];
    h5ad::write_h5ad(
        &out.join("singlecell/cells.h5ad"),
        &h5ad::Csr { indptr: &indptr, indices: &indices, counts: &counts },
        &barcodes,
        &universe.genes,
        &obs,
    )?;
    Ok(barcodes.len())
}

/// Where a synthetic study keeps its copy of the gene sets, relative to its `study.toml`.
pub const GENE_SETS: &str = "omics/gene_sets.gmt";

/// The Hallmark GMT in the reference data, from the repository root.
const HALLMARK: &str = "../shared/data/omics/h.all.v7.0.symbols.gmt";

/// Where the Hallmark GMT is by default: `../shared/data/omics/h.all.v7.0.symbols.gmt` from the
/// working directory (the repository root), else beside the checkout this program was built from
/// (a `cargo run` from another folder); the first that exists, else the first.
pub fn default_gene_sets() -> PathBuf {
    let from_here = PathBuf::from(HALLMARK);
    let beside_checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(HALLMARK);
    [from_here.clone(), beside_checkout].into_iter().find(|p| p.exists()).unwrap_or(from_here)
}
