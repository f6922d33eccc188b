//! Gray level co-occurrence matrix (GLCM) features, in agreement with pyradiomics 3.0.1's `glcm` class
//! under its defaults: distance 1 in 3D (13 directions; 4 in-plane ones with `force2D`), symmetrical
//! matrices, no distance weighting, each feature computed per direction and averaged over the
//! directions whose matrix is not empty.
//!
//! As in pyradiomics, gray levels that do not occur in the ROI are left out of the matrices, the
//! actual level values serve as `i` and `j`, and `Ng` (used by `Idmn`, `Idn` and the ranges of
//! `p_{x+y}`, `p_{x-y}`) is the highest level in the ROI. All direction matrices come from one pass over
//! the bounding box.

use crate::neighbourhood::{Neighbourhood, Steps};
use crate::roi::Roi;

/// pyradiomics' `eps`: numpy.spacing(1).
const EPS: f64 = f64::EPSILON;

/// Gray levels present in the ROI (ascending) and, per level 0..=n_levels, its index among them.
pub(crate) fn present_levels(roi: &Roi) -> (Vec<u32>, Vec<usize>) {
    let mut seen = vec![false; roi.n_levels as usize + 1];
    for g in roi.gray_levels() {
        seen[g as usize] = true;
    }
    let present: Vec<u32> = (1..=roi.n_levels).filter(|&g| seen[g as usize]).collect();
    let mut index = vec![usize::MAX; roi.n_levels as usize + 1];
    for (c, &g) in present.iter().enumerate() {
        index[g as usize] = c;
    }
    (present, index)
}

/// Mean of the values that are not NaN (numpy's `nanmean`); NaN when none is left.
pub(crate) fn nanmean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.filter(|v| !v.is_nan()).fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Co-occurrence counts per direction of `neighbourhood`, `n` x `n` over the present levels,
/// already symmetrical.
fn matrices(roi: &Roi, index: &[usize], n: usize, neighbourhood: Neighbourhood) -> Vec<Vec<f64>> {
    let steps = Steps::new(roi, neighbourhood);
    let mut counts = vec![vec![0u64; n * n]; steps.directions.len()];
    steps.for_each_voxel(roi, |idx, level, reach| {
        let row = index[level as usize] * n;
        for ((count, &d), &off) in counts.iter_mut().zip(&steps.directions).zip(&steps.offsets) {
            if reach.can_step(d) {
                let other = roi.levels[idx.wrapping_add_signed(off)];
                if other != 0 {
                    count[row + index[other as usize]] += 1;
                }
            }
        }
    });
    counts
        .into_iter()
        .map(|c| {
            let mut p = vec![0.0; n * n];
            for a in 0..n {
                for b in 0..n {
                    p[a * n + b] = (c[a * n + b] + c[b * n + a]) as f64;
                }
            }
            p
        })
        .collect()
}

/// Eigenvalues of the symmetric `n` x `n` matrix `a` (row-major): Householder reduction to a
/// tridiagonal matrix, then implicit QR steps with Wilkinson shifts (Golub & Van Loan 8.3).
fn symmetric_eigenvalues(mut a: Vec<f64>, n: usize) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let (mut d, mut e) = (vec![0.0; n], vec![0.0; n.saturating_sub(1)]);
    let (mut v, mut w) = (vec![0.0; n], vec![0.0; n]);
    for k in 0..n - 1 {
        // reflect a[k+1.., k] onto its first component
        let norm = (k + 1..n).map(|r| a[r * n + k] * a[r * n + k]).sum::<f64>().sqrt();
        let x0 = a[(k + 1) * n + k];
        let alpha = if x0 > 0.0 { -norm } else { norm };
        d[k] = a[k * n + k];
        e[k] = alpha;
        for r in k + 1..n {
            v[r] = a[r * n + k];
        }
        v[k + 1] -= alpha;
        let vnorm = (k + 1..n).map(|r| v[r] * v[r]).sum::<f64>().sqrt();
        if vnorm == 0.0 || norm == 0.0 {
            e[k] = x0;
            continue;
        }
        (k + 1..n).for_each(|r| v[r] /= vnorm);
        // trailing block A <- H A H with H = I - 2 v v^T: A - 2 v q^T - 2 q v^T, q = A v - (v^T A v) v
        for r in k + 1..n {
            w[r] = a[r * n + k + 1..(r + 1) * n].iter().zip(&v[k + 1..]).map(|(x, y)| x * y).sum();
        }
        let vav: f64 = (k + 1..n).map(|r| v[r] * w[r]).sum();
        (k + 1..n).for_each(|r| w[r] -= vav * v[r]);
        for r in k + 1..n {
            let (vr, wr) = (2.0 * v[r], 2.0 * w[r]);
            for ((x, vc), wc) in a[r * n + k + 1..(r + 1) * n].iter_mut().zip(&v[k + 1..]).zip(&w[k + 1..]) {
                *x -= vr * wc + wr * vc;
            }
        }
    }
    d[n - 1] = a[n * n - 1];
    tridiagonal_eigenvalues(&mut d, &mut e);
    d
}

/// Eigenvalues (left in `d`) of the symmetric tridiagonal matrix with diagonal `d` and
/// off-diagonal `e` (`e[k]` couples k and k + 1).
fn tridiagonal_eigenvalues(d: &mut [f64], e: &mut [f64]) {
    let negligible = |e: f64, a: f64, b: f64| e.abs() <= EPS * (a.abs() + b.abs());
    let mut hi = d.len().saturating_sub(1);
    let mut steps = 0;
    while hi > 0 && steps < 50 * d.len() {
        if negligible(e[hi - 1], d[hi - 1], d[hi]) {
            e[hi - 1] = 0.0;
            hi -= 1;
            continue;
        }
        let mut lo = hi - 1;
        while lo > 0 && !negligible(e[lo - 1], d[lo - 1], d[lo]) {
            lo -= 1;
        }
        // Wilkinson shift: the eigenvalue of the trailing 2x2 block nearer to its last entry
        let delta = (d[hi - 1] - d[hi]) / 2.0;
        let b2 = e[hi - 1] * e[hi - 1];
        let root = (delta * delta + b2).sqrt();
        let mu = d[hi] - b2 / (delta + if delta < 0.0 { -root } else { root });
        // chase the bulge down the block with Givens rotations in planes (k, k + 1)
        let (mut x, mut z) = (d[lo] - mu, e[lo]);
        for k in lo..hi {
            let r = (x * x + z * z).sqrt();
            let (c, s) = if r == 0.0 { (1.0, 0.0) } else { (x / r, z / r) };
            if k > lo {
                e[k - 1] = r;
            }
            let (p, b, q) = (d[k], e[k], d[k + 1]);
            d[k] = c * c * p + 2.0 * c * s * b + s * s * q;
            d[k + 1] = s * s * p - 2.0 * c * s * b + c * c * q;
            e[k] = c * s * (q - p) + (c * c - s * s) * b;
            if k + 1 < hi {
                z = s * e[k + 1];
                e[k + 1] *= c;
            }
            x = e[k];
        }
        steps += 1;
    }
}

/// Maximal correlation coefficient of a normalised symmetrical matrix: the square root of the second
/// largest eigenvalue of `Q = Dx^-1 P Dy^-1 P^T`. `Q` is similar to `B B^T` with
/// `B = Dx^-1/2 P Dy^-1/2`, and `B` is symmetric with `P`, so `Q`'s eigenvalues are the squares of
/// `B`'s; levels with an empty row only add zero eigenvalues. pyradiomics adds `eps` to
/// `px(i) py(k)` and solves the non-symmetric `Q`; leaving `eps` out moves MCC by about 1e-11 relative
/// on the reference cases.
fn mcc(p: &[f64], px: &[f64]) -> f64 {
    let n = px.len();
    if n < 2 {
        return 1.0;
    }
    let rows: Vec<usize> = (0..n).filter(|&a| px[a] > 0.0).collect();
    let m = rows.len();
    let b: Vec<f64> = rows.iter().flat_map(|&x| rows.iter().map(move |&y| p[x * n + y] / (px[x] * px[y]).sqrt())).collect();
    let mut eig: Vec<f64> = symmetric_eigenvalues(b, m).iter().map(|l| l * l).collect();
    eig.resize(n, 0.0);
    eig.sort_by(f64::total_cmp);
    eig[n - 2].sqrt()
}

/// Feature names, in the order [`direction_features`] returns them.
const NAMES: [&str; 24] = [
    "Autocorrelation",
    "ClusterProminence",
    "ClusterShade",
    "ClusterTendency",
    "Contrast",
    "Correlation",
    "DifferenceAverage",
    "DifferenceEntropy",
    "DifferenceVariance",
    "Id",
    "Idm",
    "Idmn",
    "Idn",
    "Imc1",
    "Imc2",
    "InverseVariance",
    "JointAverage",
    "JointEnergy",
    "JointEntropy",
    "MCC",
    "MaximumProbability",
    "SumAverage",
    "SumEntropy",
    "SumSquares",
];

/// All features of one direction's normalised matrix `p` over the present `levels`; `ng` is the
/// highest gray level.
fn direction_features(p: &[f64], levels: &[f64], ng: usize) -> [f64; 24] {
    let n = levels.len();
    let at = |a: usize, b: usize| p[a * n + b];
    let (mut px, mut py) = (vec![0.0; n], vec![0.0; n]);
    let (mut sum_xy, mut diff_xy) = (vec![0.0; 2 * ng + 1], vec![0.0; ng]);
    let (mut ux, mut uy, mut autocorrelation, mut energy, mut hxy, mut max_p) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0f64);
    for a in 0..n {
        for b in 0..n {
            let v = at(a, b);
            let (i, j) = (levels[a], levels[b]);
            px[a] += v;
            py[b] += v;
            ux += v * i;
            uy += v * j;
            autocorrelation += v * i * j;
            if v == 0.0 {
                continue;
            }
            energy += v * v;
            hxy -= v * (v + EPS).log2();
            max_p = max_p.max(v);
            sum_xy[(i + j) as usize] += v;
            diff_xy[(i - j).abs() as usize] += v;
        }
    }
    let (mut cluster, mut contrast, mut var_x, mut var_y, mut cov, mut hxy1, mut hxy2) = ([0.0; 3], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for a in 0..n {
        for b in 0..n {
            let pxy = px[a] * py[b];
            if pxy == 0.0 {
                continue;
            }
            let log_pxy = (pxy + EPS).log2();
            hxy2 -= pxy * log_pxy;
            let v = at(a, b);
            if v == 0.0 {
                continue;
            }
            let (i, j) = (levels[a], levels[b]);
            let s = i + j - ux - uy;
            cluster[0] += v * s.powi(4);
            cluster[1] += v * s.powi(3);
            cluster[2] += v * s * s;
            contrast += v * (i - j) * (i - j);
            var_x += v * (i - ux) * (i - ux);
            var_y += v * (j - uy) * (j - uy);
            cov += v * (i - ux) * (j - uy);
            hxy1 -= v * log_pxy;
        }
    }
    let sig = var_x.sqrt() * var_y.sqrt();
    let correlation = if sig == 0.0 { 1.0 } else { cov / (sig + EPS) };
    let entropy = |q: &[f64]| -q.iter().map(|&v| v * (v + EPS).log2()).sum::<f64>();
    let (hx, hy) = (entropy(&px), entropy(&py));
    let imc1 = if hx.max(hy) != 0.0 { (hxy - hxy1) / hx.max(hy) } else { 0.0 };
    // a NaN (HXY2 < HXY by rounding) is left out of the average, as numpy's nanmean does
    let imc2 = if hxy2 == hxy { 0.0 } else { (1.0 - (-2.0 * (hxy2 - hxy)).exp()).sqrt() };
    let diff_sum = |w: &dyn Fn(f64) -> f64| diff_xy.iter().enumerate().map(|(k, &v)| v * w(k as f64)).sum::<f64>();
    let diff_average = diff_sum(&|k| k);
    let ngf = ng as f64;
    let sum_average: f64 = sum_xy.iter().enumerate().skip(2).map(|(k, &v)| k as f64 * v).sum();
    [
        autocorrelation,
        cluster[0],
        cluster[1],
        cluster[2],
        contrast,
        correlation,
        diff_average,
        entropy(&diff_xy),
        diff_sum(&|k| (k - diff_average) * (k - diff_average)),
        diff_sum(&|k| 1.0 / (1.0 + k)),
        diff_sum(&|k| 1.0 / (1.0 + k * k)),
        diff_sum(&|k| 1.0 / (1.0 + k * k / (ngf * ngf))),
        diff_sum(&|k| 1.0 / (1.0 + k / ngf)),
        imc1,
        imc2,
        diff_sum(&|k| if k == 0.0 { 0.0 } else { 1.0 / (k * k) }),
        ux,
        energy,
        hxy,
        mcc(p, &px),
        max_p,
        sum_average,
        entropy(&sum_xy[2..]),
        var_x,
    ]
}

/// The GLCM features in pyradiomics' names (without the `original_glcm_` prefix), in 3D.
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    features_in(roi, Neighbourhood::Volume)
}

/// The GLCM features over the directions of `neighbourhood` (4 in-plane ones with `force2D`).
pub fn features_in(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let (present, index) = present_levels(roi);
    let n = present.len();
    let levels: Vec<f64> = present.iter().map(|&g| g as f64).collect();
    let per_direction: Vec<[f64; 24]> = matrices(roi, &index, n, neighbourhood)
        .into_iter()
        .filter_map(|mut p| {
            let total: f64 = p.iter().sum();
            if total == 0.0 {
                return None;
            }
            p.iter_mut().for_each(|v| *v /= total);
            Some(direction_features(&p, &levels, roi.n_levels as usize))
        })
        .collect();
    NAMES.iter().enumerate().map(|(f, &name)| (name, nanmean(per_direction.iter().map(|d| d[f])))).collect()
}

/// The GLCM features of the direction matrices of `neighbourhood` summed into one (pyradiomics'
/// `weightingNorm: no_weighting`): features computed once on the merged matrix.
pub fn features_merged(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let (present, index) = present_levels(roi);
    let n = present.len();
    let levels: Vec<f64> = present.iter().map(|&g| g as f64).collect();
    let mut merged = vec![0.0; n * n];
    for p in matrices(roi, &index, n, neighbourhood) {
        merged.iter_mut().zip(&p).for_each(|(m, v)| *m += v);
    }
    let total: f64 = merged.iter().sum();
    let values = if total == 0.0 {
        [f64::NAN; 24]
    } else {
        merged.iter_mut().for_each(|v| *v /= total);
        direction_features(&merged, &levels, roi.n_levels as usize)
    };
    NAMES.iter().zip(values).map(|(&name, v)| (name, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-slice ROI from rows of gray levels (0 = outside the mask).
    fn roi(rows: &[&[u32]]) -> Roi {
        let size = [rows[0].len(), rows.len(), 1];
        let levels: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        Roi {
            size,
            spacing: [1.0; 3],
            mask: levels.iter().map(|&g| g > 0).collect(),
            image: levels.iter().map(|&g| g as f64).collect(),
            n_levels: levels.iter().copied().max().unwrap(),
            levels,
            bin_edges: Vec::new(),
            offset: [0; 3],
        }
    }

    #[test]
    fn counts_match_pyradiomics_documented_example() {
        // pyradiomics' documentation: 5x5 image, angle 0 gives this symmetrical GLCM
        let r = roi(&[&[1, 2, 5, 2, 3], &[3, 2, 1, 3, 1], &[1, 3, 5, 5, 2], &[1, 1, 1, 1, 2], &[1, 2, 4, 3, 5]]);
        let (present, index) = present_levels(&r);
        let p = &matrices(&r, &index, present.len(), Neighbourhood::Volume)[0];
        let want = [6, 4, 3, 0, 0, 4, 0, 2, 1, 3, 3, 2, 0, 1, 2, 0, 1, 1, 0, 0, 0, 3, 2, 0, 2];
        assert_eq!(p, &want.map(|v| v as f64).to_vec());
    }

    #[test]
    fn eigenvalues_match_known_spectra() {
        // dense: (I - 2uu^T) diag(1, -2, 3, 0.5) (I - 2uu^T) with |u| = 1
        let u = [0.5, -0.5, 0.5, 0.5];
        let h = |r: usize, c: usize| if r == c { 1.0 } else { 0.0 } - 2.0 * u[r] * u[c];
        let diag = [1.0, -2.0, 3.0, 0.5];
        let dense: Vec<f64> = (0..16).map(|x| (0..4).map(|k| h(x / 4, k) * diag[k] * h(k, x % 4)).sum()).collect();
        // the second-difference matrix of size 10: 2 - 2 cos(k pi / 11)
        let second: Vec<f64> = (0..100usize).map(|x| [0.0, -1.0, 2.0][2usize.saturating_sub((x / 10).abs_diff(x % 10))]).collect();
        let second_want: Vec<f64> = (1..=10).map(|k| 2.0 - 2.0 * (k as f64 * std::f64::consts::PI / 11.0).cos()).collect();
        let cases: [(Vec<f64>, usize, Vec<f64>); 6] = [
            (vec![5.0], 1, vec![5.0]),
            (dense, 4, vec![-2.0, 0.5, 1.0, 3.0]),
            (second, 10, second_want),
            (vec![2.0, 1.0, 1.0, 2.0], 2, vec![1.0, 3.0]),
            (vec![4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0], 3, vec![1.0, 2.0, 4.0]),
            (vec![2.0, -1.0, 0.0, -1.0, 2.0, -1.0, 0.0, -1.0, 2.0], 3, vec![2.0 - 2f64.sqrt(), 2.0, 2.0 + 2f64.sqrt()]),
        ];
        for (a, n, want) in cases {
            let mut got = symmetric_eigenvalues(a, n);
            got.sort_by(f64::total_cmp);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn flat_and_missing_levels_follow_pyradiomics_conventions() {
        // flat region: Correlation 1, MCC 1, Imc1 0, Imc2 0; gaps in levels keep actual values
        let flat: std::collections::BTreeMap<_, _> = features(&roi(&[&[3, 3], &[3, 3]])).into_iter().collect();
        for (name, want) in [("Correlation", 1.0), ("MCC", 1.0), ("Imc1", 0.0), ("Imc2", 0.0), ("JointAverage", 3.0), ("Idn", 1.0)] {
            assert_eq!(flat[name], want, "{name}");
        }
        let gap: std::collections::BTreeMap<_, _> = features(&roi(&[&[1, 4, 1, 4]])).into_iter().collect();
        for (name, want) in [("Contrast", 9.0), ("DifferenceAverage", 3.0), ("Idn", 1.0 / (1.0 + 3.0 / 4.0)), ("SumAverage", 5.0)] {
            assert!((gap[name] - want).abs() < 1e-12, "{name}: {}", gap[name]);
        }
    }
}
