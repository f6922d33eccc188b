//! Side-by-side speed of the omics scores and their peers, one thread each, on the same generated
//! data: ssGSEA and GSVA of the 50 Hallmark sets on 20,000 genes x 370 samples against gseapy
//! 1.3.1, and `score_genes` on 100,000 cells x 2,000 genes against scanpy 1.11.5 (control size
//! above every bin, so both compute the same numbers without a random draw).
//!
//! `cargo bench --bench omics_vs_peers` (peer environment from `../shared/peers/install.sh`, or
//! `PEERS_PYTHON=/path/to/python`). Prints both medians, the ratio, and the largest difference
//! between the two tools' scores. Results are recorded in `benches/RESULTS.md`.

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{median_seconds, peer_python, standard_normal};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tacefusion_omics::cells::{CellMatrix, CellSource};
use tacefusion_omics::h5ad::H5ad;
use tacefusion_omics::score_genes::{ScoreGenesOptions, score_genes};
use tacefusion_omics::{Expression, Scale, gsva, match_sets, read_gmt, ssgsea};
use tacefusion_synth::h5ad::{Csr, write_h5ad};

const GENES: usize = 20_000;
const SAMPLES: usize = 370;
const CELLS: usize = 100_000;
const CELL_GENES: usize = 2_000;

fn peer(script: &Path, args: &[&str]) -> Option<serde_json::Value> {
    let python = peer_python()?;
    let out = Command::new(python).arg(script).args(args).env("OMP_NUM_THREADS", "1").output().ok()?;
    if !out.status.success() {
        eprintln!("peer failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last()?).ok()
}

/// (sample, set) -> value of a gseapy long table.
fn long_table(path: &Path, column: &str) -> HashMap<(String, String), f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let at = header.iter().position(|h| *h == column).unwrap();
    lines.map(|l| l.split('\t').collect::<Vec<_>>()).map(|f| ((f[0].to_string(), f[1].to_string()), f[at].parse().unwrap())).collect()
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("tacefusion-omics-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = root.join("benches/peers/omics_bench.py");
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);

    // `OMICS_BENCH=bulk` or `cells` runs one half
    let only = std::env::var("OMICS_BENCH").unwrap_or_default();
    if only != "cells" {
        bulk(&root, &dir, &script, &one, &mut rng);
    }
    if only != "bulk" {
        cells(&dir, &script, &one, &mut rng);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// ssGSEA and GSVA of the Hallmark sets, ours and gseapy's.
fn bulk(root: &Path, dir: &Path, script: &Path, one: &rayon::ThreadPool, rng: &mut ChaCha8Rng) {
    // the Hallmark genes, then filler genes, log2 expression with a gene effect and noise
    let gmt = root.join("../shared/data/omics/h.all.v7.0.symbols.gmt");
    let sets = read_gmt(&gmt).unwrap();
    let mut genes: Vec<String> = Vec::new();
    for g in sets.iter().flat_map(|s| &s.genes) {
        if !genes.contains(g) {
            genes.push(g.clone());
        }
    }
    let hallmark = genes.len();
    genes.extend((hallmark..GENES).map(|i| format!("FILLER{i}")));
    let mut text = String::from("gene");
    (0..SAMPLES).for_each(|s| write!(text, "\tS{s}").unwrap());
    text.push('\n');
    for g in &genes {
        let level = 6.0 + 2.0 * standard_normal(rng);
        text.push_str(g);
        (0..SAMPLES).for_each(|_| write!(text, "\t{:.6}", level + standard_normal(rng)).unwrap());
        text.push('\n');
    }
    let expr_file = dir.join("expr.tsv");
    std::fs::write(&expr_file, text).unwrap();
    let expr = Expression::read(&expr_file, Scale::Log2).unwrap();
    let matched: Vec<_> = match_sets(&sets, &expr.genes).into_iter().filter(|s| (15..=500).contains(&s.indices.len())).collect();
    println!("bulk: {GENES} genes ({hallmark} Hallmark) x {SAMPLES} samples, {} sets", matched.len());
    let mut ours_ss = None;
    let t_ss = median_seconds(3, || ours_ss = Some(one.install(|| ssgsea(&expr, &matched, 0.25).unwrap())));
    let mut ours_gv = None;
    let t_gv = median_seconds(1, || ours_gv = Some(one.install(|| gsva(&expr, &matched).unwrap())));
    let (ours_ss, ours_gv) = (ours_ss.unwrap(), ours_gv.unwrap());
    let ours = |s: &tacefusion_omics::SetScores| -> HashMap<(String, String), f64> {
        let mut m = HashMap::new();
        for (k, set) in s.sets.iter().enumerate() {
            for (j, sample) in s.samples.iter().enumerate() {
                m.insert((sample.clone(), set.clone()), s.get(k, j));
            }
        }
        m
    };
    match peer(script, &["gsea", expr_file.to_str().unwrap(), gmt.to_str().unwrap(), dir.to_str().unwrap()]) {
        Some(p) => {
            let (p_ss, p_gv) = (p["ssgsea_s"].as_f64().unwrap(), p["gsva_s"].as_f64().unwrap());
            let worst = |theirs: HashMap<(String, String), f64>, mine: &HashMap<(String, String), f64>| {
                theirs.iter().map(|(k, v)| (mine[k] - v).abs()).fold(0.0, f64::max)
            };
            let d_ss = worst(long_table(&dir.join("gseapy_ssgsea.tsv"), "ES"), &ours(&ours_ss));
            let d_gv = worst(long_table(&dir.join("gseapy_gsva.tsv"), "ES"), &ours(&ours_gv));
            println!(
                "| ssGSEA {GENES} x {SAMPLES} x {} sets | {t_ss:.3} s | {p_ss:.2} s | {:.0}x | max |ES diff| {d_ss:.1e} |",
                matched.len(),
                p_ss / t_ss
            );
            println!(
                "| GSVA {GENES} x {SAMPLES} x {} sets | {t_gv:.3} s | {p_gv:.2} s | {:.1}x | max |ES diff| {d_gv:.1e} |",
                matched.len(),
                p_gv / t_gv
            );
        }
        None => println!("SKIPPED gseapy (no peer environment): ours ssGSEA {t_ss:.3} s, GSVA {t_gv:.3} s"),
    }
}

/// score_genes on sparse counts, ours and scanpy's.
fn cells(dir: &Path, script: &Path, one: &rayon::ThreadPool, rng: &mut ChaCha8Rng) {
    // sparse counts, about 10% of genes detected per cell
    let (mut indptr, mut indices, mut counts) = (vec![0u64], Vec::new(), Vec::new());
    for _ in 0..CELLS {
        for g in 0..CELL_GENES {
            let p = 0.02 + 0.2 * (g % 10) as f64 / 10.0;
            if rng.random::<f64>() < p {
                indices.push(g as u32);
                counts.push(1 + (rng.random::<f64>() * (1 + g % 7) as f64) as u32);
            }
        }
        indptr.push(indices.len() as u64);
    }
    let cells: Vec<String> = (0..CELLS).map(|c| format!("C{c}")).collect();
    let cell_genes: Vec<String> = (0..CELL_GENES).map(|g| format!("G{g}")).collect();
    let h5ad = dir.join("cells.h5ad");
    write_h5ad(&h5ad, &Csr { indptr: &indptr, indices: &indices, counts: &counts }, &cells, &cell_genes, &[]).unwrap();
    let file = H5ad::open(&h5ad).unwrap();
    let source = file.cells(false).unwrap();
    let mut all = Vec::new();
    source
        .for_each_chunk(CELLS, &mut |c| {
            all.push(c.clone());
            Ok(())
        })
        .unwrap();
    let matrix = CellMatrix { genes: cell_genes.clone(), csr: all.remove(0) };
    let set: Vec<String> = (0..CELL_GENES).step_by(97).map(|g| format!("G{g}")).collect();
    let options = ScoreGenesOptions { ctrl_size: 100_000, chunk_cells: CELLS, ..Default::default() };
    let mut ours_sc = None;
    let t_sc = median_seconds(5, || ours_sc = Some(one.install(|| score_genes(&matrix, &set, &options).unwrap())));
    let ours_sc = ours_sc.unwrap().scores;
    let scanpy_out = dir.join("scanpy_scores.tsv");
    match peer(script, &["score", h5ad.to_str().unwrap(), &set.join(","), scanpy_out.to_str().unwrap()]) {
        Some(p) => {
            let p_sc = p["score_genes_s"].as_f64().unwrap();
            let theirs: Vec<f64> = std::fs::read_to_string(&scanpy_out).unwrap().lines().map(|l| l.parse().unwrap()).collect();
            let d = theirs.iter().zip(&ours_sc).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            println!(
                "| score_genes {CELLS} cells x {CELL_GENES} genes, {} genes | {t_sc:.3} s | {p_sc:.3} s | {:.1}x | max |score diff| {d:.1e} |",
                set.len(),
                p_sc / t_sc
            );
        }
        None => println!("SKIPPED scanpy (no peer environment): ours score_genes {t_sc:.3} s"),
    }
}
