//! First-order statistics of the intensities inside the mask (pyradiomics' `firstorder` class; IBSI
//! chapter 3.3-3.4). Entropy and uniformity use the discretised gray levels; everything else the
//! original intensities. Percentiles interpolate linearly (numpy's default).

use crate::roi::Roi;

/// pyradiomics' `eps` in the entropy: numpy.spacing(1).
const EPS: f64 = f64::EPSILON;

/// Linear-interpolation percentile of sorted values (numpy's default method).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The first-order features, in pyradiomics' names (without the `original_firstorder_` prefix);
/// `shift` is pyradiomics' `voxelArrayShift` (0 by default) added before the energies.
pub fn features(roi: &Roi, shift: f64) -> Vec<(&'static str, f64)> {
    let mut x: Vec<f64> = roi.values().collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let central = |p: i32| x.iter().map(|v| (v - mean).powi(p)).sum::<f64>() / n;
    let (m2, m3, m4) = (central(2), central(3), central(4));
    let energy: f64 = x.iter().map(|v| (v + shift).powi(2)).sum();
    let p10 = percentile(&x, 10.0);
    let p90 = percentile(&x, 90.0);
    let robust: Vec<f64> = x.iter().copied().filter(|&v| v >= p10 && v <= p90).collect();
    let robust_mean = robust.iter().sum::<f64>() / robust.len() as f64;

    let mut counts = vec![0.0f64; roi.n_levels as usize + 1];
    for g in roi.gray_levels() {
        counts[g as usize] += 1.0;
    }
    let p: Vec<f64> = counts.iter().filter(|&&c| c > 0.0).map(|c| c / n).collect();

    vec![
        ("10Percentile", p10),
        ("90Percentile", p90),
        ("Energy", energy),
        ("Entropy", -p.iter().map(|pi| pi * (pi + EPS).log2()).sum::<f64>()),
        ("InterquartileRange", percentile(&x, 75.0) - percentile(&x, 25.0)),
        ("Kurtosis", if m2 == 0.0 { 0.0 } else { m4 / (m2 * m2) }),
        ("Maximum", x[x.len() - 1]),
        ("MeanAbsoluteDeviation", x.iter().map(|v| (v - mean).abs()).sum::<f64>() / n),
        ("Mean", mean),
        ("Median", percentile(&x, 50.0)),
        ("Minimum", x[0]),
        ("Range", x[x.len() - 1] - x[0]),
        ("RobustMeanAbsoluteDeviation", robust.iter().map(|v| (v - robust_mean).abs()).sum::<f64>() / robust.len() as f64),
        ("RootMeanSquared", (energy / n).sqrt()),
        ("Skewness", if m2 == 0.0 { 0.0 } else { m3 / m2.powf(1.5) }),
        ("TotalEnergy", roi.voxel_volume() * energy),
        ("Uniformity", p.iter().map(|pi| pi * pi).sum()),
        ("Variance", m2),
    ]
}
