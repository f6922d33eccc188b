//! Helpers both side-by-side benchmarks use: timing medians and the peers' Python interpreter.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Instant;

/// Median wall time of `repeats` runs of `f`, seconds.
pub fn median_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The peers' Python (`$PEERS_PYTHON`, else the environment `../shared/peers/install.sh` makes), if present.
pub fn peer_python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PEERS_PYTHON") {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    let default = PathBuf::from(std::env::var("HOME").ok()?).join(".cache/tacefusion-peers/bin/python");
    default.exists().then_some(default)
}

/// A standard normal draw (Box-Muller) from a seeded generator.
pub fn standard_normal(rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
    use rand::Rng;
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
