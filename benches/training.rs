//! Training throughput of the CT network, forward + backward + AdamW step, patients per second:
//! tacefusion's burn network (`shared/models`) next to the same network in PyTorch eager on the
//! same crops, batch size, batch order and threads, in the same run.
//!
//! `cargo bench --bench training` (CPU: burn's flex backend, all cores; PyTorch from
//! `$TORCH_PYTHON` or `~/.cache/tacefusion/torch`, see `benches/RESULTS.md`). With
//! `--features cuda` and `TACEFUSION_BENCH_DEVICE=cuda` the burn side runs on GPU 0 and PyTorch on
//! `cuda` (what `benches/gpu.sh` does on a GPU machine). `BENCH_CROP` (default 24), `BENCH_WIDTH`
//! (8), `BENCH_DEPTH` (3), `BENCH_BATCH` (16), `BENCH_STEPS` (10) size it.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::backend::AutodiffBackend;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tacefusion_models::data::batch_tensor;
use tacefusion_models::train::init_network;
use tacefusion_models::{NetworkConfig, RiskSets, Ties, cox_loss, npy};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Median seconds per step of `steps` timed steps after `warmup`.
fn burn_steps<B: AutodiffBackend>(
    device: &B::Device,
    net: NetworkConfig,
    shape: [usize; 4],
    crops: &[f32],
    outcomes: &(Vec<f64>, Vec<bool>),
    batch: usize,
    warmup: usize,
    steps: usize,
) -> (f64, f32) {
    let mut network = init_network::<B>(&net, 0, device);
    let mut optimizer = AdamWConfig::new().with_weight_decay(1e-4).init::<B, tacefusion_models::ResNet3d<B>>();
    let len: usize = shape.iter().product();
    let n = crops.len() / len;
    let (mut times, mut first) = (Vec::new(), None);
    for step in 0..warmup + steps {
        let rows: Vec<usize> = (0..batch).map(|k| (step * batch + k) % n).collect();
        let (t, e): (Vec<f64>, Vec<bool>) = rows.iter().map(|&i| (outcomes.0[i], outcomes.1[i])).unzip();
        let sets = RiskSets::new(&t, &e, Ties::Breslow).unwrap();
        let began = Instant::now();
        let mut values = Vec::with_capacity(batch * len);
        rows.iter().for_each(|&i| values.extend_from_slice(&crops[i * len..(i + 1) * len]));
        let loss = cox_loss(network.forward(batch_tensor::<B>(shape, values, device)), &sets).unwrap();
        let value: f32 = loss.clone().into_scalar().elem();
        let grads = GradientsParams::from_grads(loss.backward(), &network);
        network = optimizer.step(1e-3, network, grads);
        B::sync(device).unwrap();
        if step >= warmup {
            times.push(began.elapsed().as_secs_f64());
        }
        first.get_or_insert(value);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], first.unwrap())
}

use burn::tensor::ElementConversion;

fn main() {
    let (size, width, depth, batch, steps) =
        (env("BENCH_CROP", 24), env("BENCH_WIDTH", 8), env("BENCH_DEPTH", 3), env("BENCH_BATCH", 16), env("BENCH_STEPS", 10));
    let warmup = 2;
    let n = batch * 4;
    let shape = [2, size, size, size];
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let crops: Vec<f32> = (0..n * shape.iter().product::<usize>()).map(|_| rng.random::<f32>()).collect();
    let outcomes: (Vec<f64>, Vec<bool>) = (0..n).map(|_| (1.0 + 60.0 * rng.random::<f64>(), rng.random_bool(0.6))).unzip();
    let net = NetworkConfig { channels: 2, width, depth };
    let device_name = std::env::var("TACEFUSION_BENCH_DEVICE").unwrap_or_else(|_| "cpu".into());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (ours, our_loss) = match device_name.as_str() {
        #[cfg(feature = "cuda")]
        "cuda" => {
            let device = burn::backend::cuda::CudaDevice::new(0);
            burn_steps::<tacefusion_models::GpuTraining>(&device, net, shape, &crops, &outcomes, batch, warmup, steps)
        }
        "cpu" => burn_steps::<tacefusion_models::CpuTraining>(&Default::default(), net, shape, &crops, &outcomes, batch, warmup, steps),
        other => panic!("TACEFUSION_BENCH_DEVICE={other}: this build knows cpu (and cuda with --features cuda)"),
    };
    println!(
        "tacefusion (burn 0.21, {device_name}): crop 2x{size}^3, width {width}, depth {depth}, batch {batch}: {:.4} s/step, {:.1} patients/s (first loss {our_loss:.4})",
        ours,
        batch as f64 / ours
    );

    let python = std::env::var("TORCH_PYTHON").map(PathBuf::from).ok().or_else(|| {
        let p = PathBuf::from(std::env::var("HOME").ok()?).join(".cache/tacefusion/torch/bin/python");
        p.exists().then_some(p)
    });
    let Some(python) = python else {
        println!("pytorch: no interpreter (set TORCH_PYTHON); no ratio");
        return;
    };
    let dir = std::env::temp_dir().join(format!("tacefusion-train-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("crops.npy"), npy::write_f32(&[n, 2, size, size, size], &crops)).unwrap();
    let flat: Vec<f32> = outcomes.0.iter().map(|&t| t as f32).chain(outcomes.1.iter().map(|&e| e as u8 as f32)).collect();
    std::fs::write(dir.join("outcomes.npy"), npy::write_f32(&[2, n], &flat)).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/peers/torch_train.py");
    let args = [width, depth, batch, warmup, steps].map(|v| v.to_string());
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir.join("crops.npy"))
        .arg(dir.join("outcomes.npy"))
        .args(&args)
        .arg(&device_name)
        .arg(threads.to_string())
        .output()
        .expect("pytorch's python runs");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "pytorch failed: {}", String::from_utf8_lossy(&out.stderr));
    let peer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let theirs = peer["step_median_s"].as_f64().unwrap();
    println!(
        "pytorch {} eager ({device_name}, {} threads): {theirs:.4} s/step, {:.1} patients/s (first loss {:.4})",
        peer["torch"].as_str().unwrap_or("?"),
        peer["threads"],
        batch as f64 / theirs,
        peer["first_loss"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "| {device_name}, crop 2x{size}^3, width {width}, depth {depth}, batch {batch} | {:.1} patients/s | {:.1} patients/s | {:.2} |",
        batch as f64 / ours,
        batch as f64 / theirs,
        theirs / ours
    );
}
