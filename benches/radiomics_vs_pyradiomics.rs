//! Side-by-side speed of tacefusion-radiomics and pyradiomics 3.0.1 on the same images, with
//! pyradiomics' default settings (original image, bin width 25, label 1, no filters: 107 features):
//!
//! 1. lung1 (`../shared/data/radiomics/pyradiomics`): end to end from the files (read + extract), and
//!    extraction only on volumes already in memory; one thread each. Ours also with every core, end to
//!    end.
//! 2. A batch: the arterial image and mask of every patient of the four TACE cohorts of
//!    `tacefusion synth --preset paper --seed 1` (1349 patients), end to end from the files; ours on one
//!    thread and on every core, pyradiomics in a plain loop on one thread. The planted defective files
//!    fail on both sides; they are counted and left out of the agreement check.
//! 3. Agreement in the same run: every feature of lung1 and of every patient, relative difference.
//!
//! `cargo bench --bench radiomics_vs_pyradiomics` (peer environment from `../shared/peers/install.sh`,
//! or `PEERS_PYTHON=/path/to/python`; without it only our timings are printed). The study is generated
//! into a temporary folder and removed afterwards, unless `RADIOMICS_BENCH_STUDY=DIR` names a study
//! already written by that command. Results are recorded in `benches/RESULTS.md`.

mod common;

use common::{median_seconds, peer_python};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;
use tacefusion_imaging::{Volume, read_volume};
use tacefusion_radiomics::{Feature, Settings, extract};

const COHORTS: [&str; 4] = ["training", "internal_validation", "external_b", "external_c"];
const LUNG1_REPEATS_OURS: usize = 21;
/// Extraction alone takes about 10 ms: more runs, spread over more time, so that a burst of other work
/// on the machine moves the median less.
const LUNG1_EXTRACT_REPEATS_OURS: usize = 101;
const LUNG1_REPEATS_PEER: usize = 5;
const BATCH_REPEATS_OURS: usize = 3;
const TOLERANCE: f64 = 1e-6;
/// Differences below this are rounding around zero, whatever their relative size.
const ABSOLUTE_FLOOR: f64 = 1e-12;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Read both files and extract, as `tacefusion radiomics` does for one patient.
fn end_to_end(image: &Path, mask: &Path) -> Result<Vec<Feature>, String> {
    let (img, msk) = rayon::join(|| read_volume(image), || read_volume(mask));
    let img = img.map_err(|e| format!("{}: {e}", image.display()))?;
    let msk = msk.map_err(|e| format!("{}: {e}", mask.display()))?;
    extract(&img, &msk, &Settings::default()).map_err(|e| e.to_string())
}

/// The study of `tacefusion synth --preset paper --seed 1`: named by `RADIOMICS_BENCH_STUDY`, or
/// generated into a temporary folder (true: remove it afterwards).
fn study() -> (PathBuf, bool) {
    if let Ok(dir) = std::env::var("RADIOMICS_BENCH_STUDY") {
        let dir = PathBuf::from(dir);
        assert!(dir.join("study.toml").exists(), "RADIOMICS_BENCH_STUDY={} holds no study.toml", dir.display());
        return (dir, false);
    }
    let dir = std::env::temp_dir().join(format!("tacefusion-bench-radiomics-{}", std::process::id()));
    let gene_sets = repo_root().join("../shared/data/omics/h.all.v7.0.symbols.gmt");
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion"))
        .args(["synth", "--preset", "paper", "--seed", "1", "--out"])
        .arg(&dir)
        .arg("--gene-sets")
        .arg(&gene_sets)
        .output()
        .expect("tacefusion synth runs");
    assert!(out.status.success(), "tacefusion synth failed: {}", String::from_utf8_lossy(&out.stderr));
    println!("study: tacefusion synth --preset paper --seed 1 into {} ({:.0} s)", dir.display(), start.elapsed().as_secs_f64());
    (dir, true)
}

/// (patient, arterial image, arterial mask) of every patient of the four TACE cohorts, in cohort and
/// patient order.
fn batch_patients(study: &Path) -> Vec<(String, PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for cohort in COHORTS {
        let mut dirs: Vec<PathBuf> =
            std::fs::read_dir(study.join("images").join(cohort)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for d in dirs {
            let patient = d.file_name().unwrap().to_string_lossy().into_owned();
            out.push((patient, d.join("arterial.nii.gz"), d.join("arterial_mask.nii.gz")));
        }
    }
    out
}

/// |a - b| / max(|a|, |b|); 0 when equal (both NaN included), infinite when only one is NaN.
fn relative_difference(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    if a.is_nan() || b.is_nan() {
        return f64::INFINITY;
    }
    (a - b).abs() / a.abs().max(b.abs())
}

fn beyond_tolerance(a: f64, b: f64) -> bool {
    let rel = relative_difference(a, b);
    rel > TOLERANCE && (rel.is_infinite() || (a - b).abs() > ABSOLUTE_FLOOR)
}

/// pyradiomics' values of one image (null = NaN).
fn peer_features(v: &serde_json::Value) -> BTreeMap<String, f64> {
    v.as_object().unwrap().iter().map(|(k, x)| (k.clone(), x.as_f64().unwrap_or(f64::NAN))).collect()
}

/// Worst case of one feature over the batch.
#[derive(Default)]
struct Worst {
    rel: f64,
    patient: String,
    ours: f64,
    theirs: f64,
    beyond: usize,
}

fn ratio_line(what: &str, ours: f64, theirs: f64) -> String {
    let ratio = theirs / ours;
    let verdict = if ratio >= 20.0 { "met" } else { "NOT met" };
    format!("{what}: {ratio:.1}x (goal 20x: {verdict})")
}

fn main() {
    let data = repo_root().join("../shared/data/radiomics/pyradiomics");
    let (lung_image, lung_mask) = (data.join("lung1_image.nrrd"), data.join("lung1_label.nrrd"));
    let cores = rayon::current_num_threads();
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();

    // 1. lung1
    let (image, mask) = (read_volume(&lung_image).unwrap(), read_volume(&lung_mask).unwrap());
    let (ours_lung_e2e, ours_lung_extract, lung_ours) = pool.install(|| {
        let e2e = median_seconds(LUNG1_REPEATS_OURS, || {
            end_to_end(&lung_image, &lung_mask).unwrap();
        });
        let mut features = Vec::new();
        let only = median_seconds(LUNG1_EXTRACT_REPEATS_OURS, || features = extract(&image, &mask, &Settings::default()).unwrap());
        (e2e, only, features)
    });
    let ours_lung_e2e_all = median_seconds(LUNG1_REPEATS_OURS, || {
        end_to_end(&lung_image, &lung_mask).unwrap();
    });
    let ours_lung_read = pool.install(|| {
        median_seconds(LUNG1_REPEATS_OURS, || {
            let _: (Volume<f32>, Volume<f32>) = (read_volume(&lung_image).unwrap(), read_volume(&lung_mask).unwrap());
        })
    });
    println!(
        "tacefusion lung1 ({} features): end to end 1 thread median {ours_lung_e2e:.4} s (reading alone {ours_lung_read:.4} s), \
         extraction only 1 thread {ours_lung_extract:.4} s, end to end {cores} threads {ours_lung_e2e_all:.4} s",
        lung_ours.len()
    );

    // 2. the batch
    let (study_dir, remove_study) = study();
    let patients = batch_patients(&study_dir);
    let run_batch_serial =
        || -> Vec<Result<Vec<Feature>, String>> { patients.iter().map(|(_, image, mask)| end_to_end(image, mask)).collect() };
    let mut batch_ours = Vec::new();
    let ours_batch = pool.install(|| median_seconds(BATCH_REPEATS_OURS, || batch_ours = run_batch_serial()));
    let ours_batch_all = median_seconds(BATCH_REPEATS_OURS, || {
        let r: Vec<Result<Vec<Feature>, String>> = patients.par_iter().map(|(_, image, mask)| end_to_end(image, mask)).collect();
        assert_eq!(r.len(), patients.len());
    });
    let ours_batch_read = pool.install(|| {
        median_seconds(1, || {
            for (_, image, mask) in &patients {
                let _ = (read_volume(image), read_volume(mask));
            }
        })
    });
    let ours_failed: BTreeMap<&str, &str> =
        patients.iter().zip(&batch_ours).filter_map(|((p, _, _), r)| r.as_ref().err().map(|e| (p.as_str(), e.as_str()))).collect();
    let n = patients.len();
    println!(
        "tacefusion batch of {n} arterial images: 1 thread median {ours_batch:.3} s (reading alone {ours_batch_read:.3} s), {cores} threads {ours_batch_all:.3} s; \
         {} failed:",
        ours_failed.len()
    );
    for (p, e) in &ours_failed {
        println!("  {p}: {e}");
    }

    let Some(python) = peer_python() else {
        println!("pyradiomics: peer environment not found (run ../shared/peers/install.sh or set PEERS_PYTHON); no ratio");
        if remove_study {
            let _ = std::fs::remove_dir_all(&study_dir);
        }
        return;
    };

    let list = std::env::temp_dir().join(format!("tacefusion-bench-radiomics-{}.csv", std::process::id()));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&list).unwrap());
    writeln!(f, "patient,image,mask").unwrap();
    for (p, image, mask) in &patients {
        writeln!(f, "{p},{},{}", image.display(), mask.display()).unwrap();
    }
    drop(f);
    let script = repo_root().join("benches/peers/pyradiomics_bench.py");
    let start = Instant::now();
    let out = Command::new(&python)
        .arg(&script)
        .arg(&lung_image)
        .arg(&lung_mask)
        .arg(LUNG1_REPEATS_PEER.to_string())
        .arg(&list)
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .env("ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS", "1")
        .output()
        .expect("peer python runs");
    let _ = std::fs::remove_file(&list);
    if remove_study {
        let _ = std::fs::remove_dir_all(&study_dir);
    }
    assert!(out.status.success(), "pyradiomics failed: {}", String::from_utf8_lossy(&out.stderr));
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    println!(
        "pyradiomics {} (SimpleITK {}): whole peer script {:.0} s",
        peer["pyradiomics_version"].as_str().unwrap_or("?"),
        peer["simpleitk_version"].as_str().unwrap_or("?"),
        start.elapsed().as_secs_f64()
    );
    let their_lung_e2e = peer["lung1_end_to_end_median_s"].as_f64().unwrap();
    let their_lung_extract = peer["lung1_extract_median_s"].as_f64().unwrap();
    let their_batch = peer["batch_s"].as_f64().unwrap();
    println!(
        "pyradiomics lung1: end to end median {their_lung_e2e:.3} s, extraction only {their_lung_extract:.3} s; \
         batch of {n} {their_batch:.1} s"
    );

    // 3. agreement: lung1
    let lung_theirs = peer_features(&peer["lung1_features"]);
    let ours_names: BTreeSet<&str> = lung_ours.iter().map(|f| f.name.as_str()).collect();
    let their_names: BTreeSet<&str> = lung_theirs.keys().map(String::as_str).collect();
    assert_eq!(ours_names, their_names, "lung1: the two tools name different features");
    let (mut lung_max, mut lung_beyond) = (0.0f64, Vec::new());
    for f in &lung_ours {
        let t = lung_theirs[&f.name];
        lung_max = lung_max.max(relative_difference(f.value, t));
        if beyond_tolerance(f.value, t) {
            lung_beyond.push(format!("{} {} vs {t} (rel {:.2e})", f.name, f.value, relative_difference(f.value, t)));
        }
    }
    println!("agreement lung1: {} features, max relative difference {lung_max:.2e}", lung_ours.len());
    if lung_beyond.is_empty() {
        println!("  all {} within {TOLERANCE:e} relative", lung_ours.len());
    } else {
        println!("  DISAGREE beyond {TOLERANCE:e}: {}", lung_beyond.join("; "));
    }

    // 3. agreement: the batch
    let their_failed: BTreeMap<String, String> =
        peer["batch_failed"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect();
    println!("pyradiomics batch: {} failed:", their_failed.len());
    for (p, e) in &their_failed {
        println!("  {p}: {e}");
    }
    let ours_failed_set: BTreeSet<&str> = ours_failed.keys().copied().collect();
    let their_failed_set: BTreeSet<&str> = their_failed.keys().map(String::as_str).collect();
    println!(
        "failures: the same patients on both sides: {}",
        if ours_failed_set == their_failed_set {
            "yes".to_string()
        } else {
            format!("NO (ours {ours_failed_set:?}, pyradiomics {their_failed_set:?})")
        }
    );
    let batch_theirs = peer["batch_features"].as_object().unwrap();
    let (mut compared, mut values, mut batch_max) = (0usize, 0usize, 0.0f64);
    let mut worst: BTreeMap<String, Worst> = BTreeMap::new();
    let mut name_mismatch = 0;
    for ((p, _, _), r) in patients.iter().zip(&batch_ours) {
        let (Ok(ours), Some(theirs)) = (r, batch_theirs.get(p)) else { continue };
        let theirs = peer_features(theirs);
        if ours.len() != theirs.len() {
            name_mismatch += 1;
        }
        compared += 1;
        for f in ours {
            let Some(&t) = theirs.get(&f.name) else {
                name_mismatch += 1;
                continue;
            };
            values += 1;
            let rel = relative_difference(f.value, t);
            batch_max = batch_max.max(rel);
            let w = worst.entry(f.name.clone()).or_default();
            if beyond_tolerance(f.value, t) {
                w.beyond += 1;
            }
            if rel > w.rel {
                *w = Worst { rel, patient: p.clone(), ours: f.value, theirs: t, beyond: w.beyond };
            }
        }
    }
    println!(
        "agreement batch: {compared} patients x 107 features compared ({values} values, {name_mismatch} name mismatches), \
         max relative difference {batch_max:.2e}"
    );
    let mut ranked: Vec<(&String, &Worst)> = worst.iter().collect();
    ranked.sort_by(|a, b| b.1.rel.total_cmp(&a.1.rel));
    let beyond: Vec<&(&String, &Worst)> = ranked.iter().filter(|(_, w)| w.beyond > 0).collect();
    if beyond.is_empty() {
        println!("  every feature of every patient within {TOLERANCE:e} relative (or {ABSOLUTE_FLOOR:e} absolute)");
    } else {
        println!("  features beyond {TOLERANCE:e} relative (and {ABSOLUTE_FLOOR:e} absolute):");
        for (name, w) in &beyond {
            println!(
                "    {name}: {} of {compared} patients; worst {} rel {:.2e} (ours {}, pyradiomics {})",
                w.beyond, w.patient, w.rel, w.ours, w.theirs
            );
        }
    }
    println!("  largest relative differences by feature:");
    for (name, w) in ranked.iter().take(5) {
        println!("    {name}: {:.2e} ({}: ours {}, pyradiomics {})", w.rel, w.patient, w.ours, w.theirs);
    }

    // the table
    println!();
    println!("{}", ratio_line("lung1 end to end, 1 thread", ours_lung_e2e, their_lung_e2e));
    println!("{}", ratio_line("lung1 extraction only, 1 thread", ours_lung_extract, their_lung_extract));
    println!("{}", ratio_line(&format!("batch of {n}, 1 thread"), ours_batch, their_batch));
    println!();
    println!("| what | tacefusion | pyradiomics | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| lung1 end to end (read + extract), 1 thread ({LUNG1_REPEATS_OURS} / {LUNG1_REPEATS_PEER} runs) | {ours_lung_e2e:.4} s | {their_lung_e2e:.3} s | {:.1}x |",
        their_lung_e2e / ours_lung_e2e
    );
    println!(
        "| lung1 extraction only (in memory), 1 thread ({LUNG1_EXTRACT_REPEATS_OURS} / {LUNG1_REPEATS_PEER} runs) | {ours_lung_extract:.4} s | {their_lung_extract:.3} s | {:.1}x |",
        their_lung_extract / ours_lung_extract
    );
    println!(
        "| lung1 end to end, ours on {cores} threads vs pyradiomics on 1 | {ours_lung_e2e_all:.4} s | {their_lung_e2e:.3} s | {:.1}x |",
        their_lung_e2e / ours_lung_e2e_all
    );
    println!(
        "| batch of {n} arterial images end to end, 1 thread ({BATCH_REPEATS_OURS} / 1 runs) | {ours_batch:.2} s | {their_batch:.1} s | {:.1}x |",
        their_batch / ours_batch
    );
    println!(
        "| batch of {n}, ours on {cores} threads vs pyradiomics on 1 | {ours_batch_all:.2} s | {their_batch:.1} s | {:.1}x |",
        their_batch / ours_batch_all
    );
}
