//! Side-by-side speed of tacefusion-survival and lifelines on the same generated data: a Cox fit
//! (Efron) on 100,000 patients x 20 covariates and Harrell's C on 100,000 patients, one thread each.
//!
//! `cargo bench --bench survival_vs_lifelines` (peer environment from `../shared/peers/install.sh`,
//! or `PEERS_PYTHON=/path/to/python`). Prints both medians, the ratio, and checks that both tools
//! computed the same numbers. Results are recorded in `benches/RESULTS.md`.

mod common;

use common::{median_seconds, peer_python, standard_normal};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, SurvivalData, harrell_c};

const N: usize = 100_000;
const P: usize = 20;

/// Exponential times with log hazard Σ β_j x_j, uniform censoring; times rounded to 1e-6 as the CSV
/// holds them, so both tools read identical values.
fn generate() -> (Vec<Vec<f64>>, Vec<f64>, Vec<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let beta: Vec<f64> = (0..P).map(|j| if j % 4 == 0 { 0.0 } else { 0.3 * ((j % 5) as f64 - 2.0) / 2.0 }).collect();
    let mut cols: Vec<Vec<f64>> = (0..P).map(|_| Vec::with_capacity(N)).collect();
    let (mut time, mut event) = (Vec::with_capacity(N), Vec::with_capacity(N));
    for _ in 0..N {
        let mut lp = 0.0;
        for j in 0..P {
            let x = (standard_normal(&mut rng) * 1e4).round() / 1e4;
            cols[j].push(x);
            lp += beta[j] * x;
        }
        let t = -rng.random::<f64>().max(1e-300).ln() / lp.exp() * 10.0;
        let c = rng.random::<f64>() * 30.0;
        time.push((t.min(c) * 1e6).round() / 1e6 + 1e-6);
        event.push(t <= c);
    }
    (cols, time, event)
}

fn main() {
    let (cols, time, event) = generate();
    let names: Vec<String> = (0..P).map(|j| format!("x{j}")).collect();
    let x = Covariates::from_columns(names, &cols).unwrap();
    let data = SurvivalData::new(time.clone(), event.clone()).unwrap();
    let risk: Vec<f64> = (0..N).map(|i| x.row(i).iter().enumerate().map(|(j, v)| v * (j as f64 - 9.5) / 10.0).sum()).collect();

    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (ours_cox, ours_c, model, c) = pool.install(|| {
        let mut model = None;
        let cox = median_seconds(5, || model = Some(CoxModel::fit(&x, &data, &CoxOptions::default()).unwrap()));
        let mut c = None;
        let ci = median_seconds(11, || c = Some(harrell_c(&data, &risk).unwrap()));
        (cox, ci, model.unwrap(), c.unwrap())
    });
    println!("tacefusion: Cox {N} x {P} (Efron) median {ours_cox:.4} s; Harrell's C on {N} median {ours_c:.5} s");

    let Some(python) = peer_python() else {
        println!("lifelines: peer environment not found (run ../shared/peers/install.sh or set PEERS_PYTHON); no ratio");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tacefusion-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("cox.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(f, "{},time,event,risk", (0..P).map(|j| format!("x{j}")).collect::<Vec<_>>().join(",")).unwrap();
    for i in 0..N {
        let row: Vec<String> = x.row(i).iter().map(|v| format!("{v}")).collect();
        writeln!(f, "{},{},{},{}", row.join(","), time[i], event[i] as u8, risk[i]).unwrap();
    }
    drop(f);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peers/lifelines_bench.py");
    let out = Command::new(&python)
        .args([script.to_str().unwrap(), csv.to_str().unwrap(), &P.to_string(), "3", "5"])
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .expect("peer python runs");
    assert!(out.status.success(), "lifelines failed: {}", String::from_utf8_lossy(&out.stderr));
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let their_cox = peer["cox_median_s"].as_f64().unwrap();
    let their_c = peer["c_median_s"].as_f64().unwrap();
    let max_coef_diff =
        peer["coef"].as_array().unwrap().iter().zip(&model.coef).map(|(a, b)| (a.as_f64().unwrap() - b).abs()).fold(0.0, f64::max);
    let c_diff = (peer["c_index"].as_f64().unwrap() - c.c_index).abs();
    println!("lifelines:  Cox median {their_cox:.4} s; concordance_index median {their_c:.5} s");
    println!("agreement: max |coef difference| {max_coef_diff:.2e}, |C difference| {c_diff:.2e}");
    println!("| Cox fit {N} x {P}, Efron | {ours_cox:.4} s | {their_cox:.3} s | {:.1}x |", their_cox / ours_cox);
    println!("| Harrell's C, {N} | {ours_c:.5} s | {their_c:.4} s | {:.1}x |", their_c / ours_c);
    let _ = std::fs::remove_dir_all(&dir);
}
