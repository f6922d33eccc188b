//! The text files of the study: clinical tables in each centre's units, biomarkers, bulk expression,
//! the single-cell cell table and 10x MTX folder, and the ground truth.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use tacefusion_core::units::{AlbuminUnit, LengthUnit};

use crate::SynthError;
use crate::cohort::{DefectKind, GeneratedCohort, Patient};

/// Writes a file, naming it in the error.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| SynthError::Output { file: dir.to_path_buf(), message: e.to_string() })?;
    }
    std::fs::write(path, bytes).map_err(|e| SynthError::Output { file: path.to_path_buf(), message: e.to_string() })
}

/// Writes a gzip file (header time 0: the same content gives the same bytes).
pub fn write_gzip(path: &Path, bytes: &[u8]) -> Result<(), SynthError> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).map_err(|e| SynthError::Output { file: path.to_path_buf(), message: e.to_string() })?;
    let out = gz.finish().map_err(|e| SynthError::Output { file: path.to_path_buf(), message: e.to_string() })?;
    write_file(path, &out)
}

/// The clinical schema's columns, in file order (the schema ingest reads).
pub use tacefusion_core::clinical::CLINICAL_COLUMNS;

fn clinical_row(p: &Patient, centre: &str, albumin_unit: AlbuminUnit, diameter_unit: LengthUnit) -> String {
    let c = &p.clinical;
    let os = match p.defect {
        Some(DefectKind::MissingSurvivalTime) => String::new(),
        Some(DefectKind::NegativeSurvivalTime) => format!("{:.2}", -p.outcome.os_months),
        _ => format!("{:.2}", p.outcome.os_months),
    };
    let albumin = match (p.defect, albumin_unit) {
        // recorded in g/dL where the centre declares g/L
        (Some(DefectKind::AlbuminUnit), _) | (_, AlbuminUnit::GramsPerDecilitre) => format!("{:.2}", c.albumin_g_l / 10.0),
        (_, AlbuminUnit::GramsPerLitre) => format!("{:.1}", c.albumin_g_l),
    };
    let diameter = match diameter_unit {
        LengthUnit::Centimetre => format!("{:.1}", c.diameter_cm),
        LengthUnit::Millimetre => format!("{:.0}", c.diameter_cm * 10.0),
    };
    let ascites = ["none", "mild", "moderate_severe"][c.ascites as usize];
    let enceph = ["none", "grade1_2", "grade3_4"][c.encephalopathy as usize];
    let aetiology = match c.aetiology {
        crate::model::Aetiology::Hbv => "HBV",
        crate::model::Aetiology::Hcv => "HCV",
        crate::model::Aetiology::Other => "other",
    };
    format!(
        "{},{},{},{},{:.0},{},{},{},{:.1},{:.1},{:.2},{},{},{},{},{},{},{}\n",
        p.id,
        centre,
        os,
        p.outcome.death as u8,
        c.age,
        c.sex,
        aetiology,
        albumin,
        c.bilirubin_umol_l,
        c.afp_ng_ml,
        c.inr,
        ascites,
        enceph,
        c.ecog,
        c.tumour_number,
        diameter,
        c.pvtt as u8,
        c.extrahepatic as u8
    )
}

/// The clinical CSV of a cohort.
pub fn clinical_csv(cohort: &GeneratedCohort) -> String {
    let mut s = CLINICAL_COLUMNS.join(",") + "\n";
    let centre = &cohort.spec.centre;
    for p in &cohort.patients {
        s += &clinical_row(p, centre.code, centre.albumin_unit, centre.diameter_unit);
    }
    s
}

/// Biomarkers tied to h: HIF-1alpha IHC score (0-3), CD8+ T-cell density (cells/mm²), serum VEGF (pg/mL).
pub fn biomarker_csv(seed: u64, cohort: &GeneratedCohort) -> String {
    use rand_distr::{Distribution, Normal};
    let mut s = String::from("patient_id,hif1a_ihc_score,cd8_density_per_mm2,vegf_pg_ml\n");
    for p in &cohort.patients {
        let mut rng = crate::rng::stream(seed, "biomarker", p.stream);
        let n = Normal::new(0.0, 1.0).expect("valid");
        let h = p.latent.h;
        let hif = (1.5 + 0.9 * h + 0.6 * n.sample(&mut rng)).round().clamp(0.0, 3.0);
        let cd8 = (5.0 - 0.5 * h + 0.4 * n.sample(&mut rng)).exp();
        let vegf = (5.5 + 0.4 * h + 0.4 * n.sample(&mut rng)).exp();
        let _ = writeln!(s, "{},{:.0},{:.1},{:.1}", p.id, hif, cd8, vegf);
    }
    s
}

/// Bulk expression TSV: `gene` then one column per sample.
pub fn expression_tsv(genes: &[String], samples: &[&str], values: &[Vec<f64>]) -> String {
    let mut s = String::from("gene");
    for id in samples {
        s.push('\t');
        s.push_str(id);
    }
    s.push('\n');
    for (g, row) in genes.iter().zip(values) {
        s.push_str(g);
        for v in row {
            let _ = write!(s, "\t{v:.3}");
        }
        s.push('\n');
    }
    s
}

/// The 10x MTX folder (genes x cells, integer counts): matrix.mtx.gz, features.tsv.gz, barcodes.tsv.gz.
pub fn write_mtx(
    dir: &Path,
    genes: &[String],
    barcodes: &[String],
    indptr: &[u64],
    indices: &[u32],
    counts: &[u32],
) -> Result<(), SynthError> {
    let mut m = String::with_capacity(counts.len() * 14 + 100);
    m.push_str("%%MatrixMarket matrix coordinate integer general\n");
    m.push_str("%metadata_json: {\"software_version\": \"tacefusion synth\", \"format_version\": 2}\n");
    let _ = writeln!(m, "{} {} {}", genes.len(), barcodes.len(), counts.len());
    for cell in 0..barcodes.len() {
        for k in indptr[cell] as usize..indptr[cell + 1] as usize {
            let _ = writeln!(m, "{} {} {}", indices[k] + 1, cell + 1, counts[k]);
        }
    }
    write_gzip(&dir.join("matrix.mtx.gz"), m.as_bytes())?;
    let features: String = genes.iter().map(|g| format!("{g}\t{g}\tGene Expression\n")).collect();
    write_gzip(&dir.join("features.tsv.gz"), features.as_bytes())?;
    let bc: String = barcodes.iter().map(|b| format!("{b}\n")).collect();
    write_gzip(&dir.join("barcodes.tsv.gz"), bc.as_bytes())
}

/// `truth/patients.csv`: every patient's latents, oracle risk and uncensored times.
pub fn truth_patients_csv(cohorts: &[GeneratedCohort]) -> String {
    let mut s =
        String::from("cohort,row,patient_id,centre,h,spatial,texture,liver,log_hazard,event_time,censor_time,os_months,death,defect\n");
    for c in cohorts {
        for (row, p) in c.patients.iter().enumerate() {
            let _ = writeln!(
                s,
                "{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.4},{:.4},{:.2},{},{}",
                c.spec.name,
                row + 2,
                p.id,
                c.spec.centre.code,
                p.latent.h,
                p.latent.spatial,
                p.latent.texture,
                p.latent.liver,
                p.outcome.log_hazard,
                p.outcome.event_time,
                p.outcome.censor_time,
                p.outcome.os_months,
                p.outcome.death as u8,
                p.defect.map_or("", DefectKind::name)
            );
        }
    }
    s
}
