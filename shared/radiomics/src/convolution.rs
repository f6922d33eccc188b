//! Spatial convolution as IBSI chapter 2 (arXiv 2006.05470) defines it: boundary conditions (zero,
//! nearest, periodic, mirror), separable kernels applied in-plane (2D, slice by slice) or across the
//! volume (3D), the mean filter and the Laplacian of Gaussian with its truncated, sampled kernel.
//!
//! Convolution is the true one, `out[i] = Σ_t k[t] · x[i + c - t]` with `c` the kernel's centre, so
//! kernels that are not symmetric (edges, wavelets) keep their orientation. A separable 3D kernel
//! `k_i ⊗ k_j ⊗ k_k` is applied axis by axis; the LoG, not separable, is a sum of three separable terms.

use tacefusion_imaging::Volume;

/// How the image is extended beyond its border before convolution (IBSI 2 "boundary conditions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// zero outside the image (IBSI "constant value", 0)
    Zero,
    /// the nearest border voxel (`a a | a b c d | d d`)
    Nearest,
    /// the image repeated (`c d | a b c d | a b`)
    Periodic,
    /// the image mirrored about its border, border voxel repeated (`b a | a b c d | d c`; numpy
    /// `symmetric`, scipy `reflect`)
    Mirror,
}

impl Padding {
    /// The sample that index `i` (any integer) of a line of `n` samples reads; `None` reads zero.
    #[inline]
    pub fn source(self, i: isize, n: usize) -> Option<usize> {
        let n_i = n as isize;
        if (0..n_i).contains(&i) {
            return Some(i as usize);
        }
        match self {
            Padding::Zero => None,
            Padding::Nearest => Some(i.clamp(0, n_i - 1) as usize),
            Padding::Periodic => Some(i.rem_euclid(n_i) as usize),
            Padding::Mirror => {
                let m = i.rem_euclid(2 * n_i);
                Some(if m < n_i { m } else { 2 * n_i - 1 - m } as usize)
            }
        }
    }
}

/// Whether a filter works in the axial plane only (IBSI 2 "2D", each slice on its own) or in 3D.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimensionality {
    /// along i and j only, slice by slice
    InPlane,
    /// along i, j and k
    Volumetric,
}

impl Dimensionality {
    /// The axes the filter runs along.
    pub fn axes(self) -> &'static [usize] {
        match self {
            Dimensionality::InPlane => &[0, 1],
            Dimensionality::Volumetric => &[0, 1, 2],
        }
    }
}

/// Convolves every line of `image` along `axis` with `kernel` (odd length, centred).
pub fn convolve_axis(image: &Volume<f64>, axis: usize, kernel: &[f64], padding: Padding) -> Volume<f64> {
    assert!(!kernel.len().is_multiple_of(2), "kernel of even length {}", kernel.len());
    let size = image.geometry.size;
    let n = size[axis];
    let stride = [1, size[0], size[0] * size[1]][axis];
    let c = (kernel.len() / 2) as isize;
    // the sample each tap reads, per output position along the axis (None: zero padding)
    let table: Vec<Vec<Option<usize>>> =
        (0..n).map(|o| (0..kernel.len()).map(|t| padding.source(o as isize + c - t as isize, n)).collect()).collect();
    let mut out = vec![0.0; image.data.len()];
    let mut line = vec![0.0; n];
    // every line along the axis starts at a voxel whose coordinate on that axis is 0
    for start in (0..image.data.len()).filter(|&s| (s / stride).is_multiple_of(n)) {
        for (m, v) in line.iter_mut().enumerate() {
            *v = image.data[start + m * stride];
        }
        for (o, taps) in table.iter().enumerate() {
            let sum: f64 = taps.iter().zip(kernel).map(|(src, k)| src.map_or(0.0, |s| k * line[s])).sum();
            out[start + o * stride] = sum;
        }
    }
    Volume { geometry: image.geometry, data: out }
}

/// Convolves `image` with the separable kernel whose factor along axis `a` is `kernels[a]` (`None`:
/// the axis is left alone).
pub fn convolve_separable(image: &Volume<f64>, kernels: [Option<&[f64]>; 3], padding: Padding) -> Volume<f64> {
    let mut out = image.clone();
    for (axis, kernel) in kernels.iter().enumerate() {
        if let Some(k) = kernel {
            out = convolve_axis(&out, axis, k, padding);
        }
    }
    out
}

/// IBSI's mean filter: the average over a cube (or square, in-plane) of `support` voxels a side
/// (odd).
pub fn mean_filter(image: &Volume<f64>, support: usize, dims: Dimensionality, padding: Padding) -> Volume<f64> {
    let box_kernel = vec![1.0 / support as f64; support];
    let mut kernels: [Option<&[f64]>; 3] = [None; 3];
    for &a in dims.axes() {
        kernels[a] = Some(&box_kernel);
    }
    convolve_separable(image, kernels, padding)
}

/// The two 1D factors of the IBSI LoG kernel for a Gaussian of `sigma` voxels truncated at
/// `truncate` sigmas: the Gaussian `g(k) = exp(-k² / 2σ²) / (σ √(2π))` and its second derivative
/// `g''(k) = g(k) (k² / σ⁴ - 1 / σ²)`, sampled at the integer offsets `|k| <= ⌊truncate σ + 0.5⌋`
/// (the manual's filter size `M = 1 + 2 ⌊d σ + 0.5⌋`). Neither is renormalised: the manual's kernel
/// is the sampled function.
pub fn log_factors(sigma: f64, truncate: f64) -> (Vec<f64>, Vec<f64>) {
    let radius = (truncate * sigma + 0.5).floor() as isize;
    let g = |k: f64| (-k * k / (2.0 * sigma * sigma)).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt());
    let gauss: Vec<f64> = (-radius..=radius).map(|k| g(k as f64)).collect();
    let second: Vec<f64> = (-radius..=radius)
        .map(|k| {
            let k = k as f64;
            g(k) * (k * k / sigma.powi(4) - 1.0 / (sigma * sigma))
        })
        .collect();
    (gauss, second)
}

/// IBSI's Laplacian of Gaussian, `g(x) = -1/σ² (1/(σ√(2π)))^D (D - |x|²/σ²) exp(-|x|²/2σ²)` over the
/// D axes of `dims`, with `sigma_mm` converted to voxels on each axis (the kernel lives on the voxel
/// grid, as in the manual) and truncated at `truncate` sigmas. Applied as the sum over the axes `a`
/// of `g''` along `a` times `g` along the others, which is the same kernel.
pub fn laplacian_of_gaussian(image: &Volume<f64>, sigma_mm: f64, truncate: f64, dims: Dimensionality, padding: Padding) -> Volume<f64> {
    let axes = dims.axes();
    let factors: Vec<(Vec<f64>, Vec<f64>)> = (0..3).map(|a| log_factors(sigma_mm / image.geometry.spacing[a], truncate)).collect();
    let mut sum = vec![0.0; image.data.len()];
    for &second_along in axes {
        let mut kernels: [Option<&[f64]>; 3] = [None; 3];
        for &a in axes {
            kernels[a] = Some(if a == second_along { &factors[a].1 } else { &factors[a].0 });
        }
        let term = convolve_separable(image, kernels, padding);
        sum.iter_mut().zip(&term.data).for_each(|(s, t)| *s += t);
    }
    Volume { geometry: image.geometry, data: sum }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    fn volume(size: [usize; 3], spacing: [f64; 3], f: impl Fn(usize, usize, usize) -> f64) -> Volume<f64> {
        Volume::from_fn(Geometry::axis_aligned(size, spacing, [0.0; 3]), f)
    }

    #[test]
    fn padding_reads_the_samples_the_manual_draws() {
        // a line a b c d (0..4) read from -3 to 6
        let cases: [(Padding, [Option<usize>; 10]); 4] = [
            (Padding::Zero, [None, None, None, Some(0), Some(1), Some(2), Some(3), None, None, None]),
            (Padding::Nearest, [Some(0), Some(0), Some(0), Some(0), Some(1), Some(2), Some(3), Some(3), Some(3), Some(3)]),
            (Padding::Periodic, [Some(1), Some(2), Some(3), Some(0), Some(1), Some(2), Some(3), Some(0), Some(1), Some(2)]),
            (Padding::Mirror, [Some(2), Some(1), Some(0), Some(0), Some(1), Some(2), Some(3), Some(3), Some(2), Some(1)]),
        ];
        for (padding, want) in cases {
            let got: Vec<Option<usize>> = (-3..7).map(|i| padding.source(i, 4)).collect();
            assert_eq!(got, want, "{padding:?}");
        }
        // far beyond a short line, mirror and periodic keep folding
        assert_eq!(Padding::Mirror.source(-9, 2), Some(0));
        assert_eq!(Padding::Periodic.source(-9, 2), Some(1));
    }

    #[test]
    fn convolution_is_not_correlation() {
        // an impulse convolved with an asymmetric kernel reproduces the kernel in order
        let v = volume([7, 1, 1], [1.0; 3], |i, _, _| if i == 3 { 1.0 } else { 0.0 });
        let out = convolve_axis(&v, 0, &[1.0, 2.0, 3.0], Padding::Zero);
        assert_eq!(out.data, vec![0.0, 0.0, 1.0, 2.0, 3.0, 0.0, 0.0]);
    }

    #[test]
    fn mean_filter_keeps_constants_and_averages_ramps() {
        for padding in [Padding::Nearest, Padding::Periodic, Padding::Mirror] {
            let flat = volume([6, 5, 4], [1.0; 3], |_, _, _| 7.5);
            let out = mean_filter(&flat, 5, Dimensionality::Volumetric, padding);
            assert!(out.data.iter().all(|v| (v - 7.5).abs() < 1e-12), "{padding:?}");
        }
        // zero padding: the corner of a constant image sees 3 x 3 x 3 of the 5 x 5 x 5 window
        let flat = volume([6, 5, 4], [1.0; 3], |_, _, _| 1.0);
        let out = mean_filter(&flat, 5, Dimensionality::Volumetric, Padding::Zero);
        assert!((out.data[0] - 27.0 / 125.0).abs() < 1e-12);
        // a linear ramp along k away from the border is unchanged; in-plane filtering never mixes slices
        let ramp = volume([5, 5, 9], [1.0; 3], |i, j, k| (i + 2 * j) as f64 + 10.0 * k as f64);
        let out = mean_filter(&ramp, 5, Dimensionality::Volumetric, Padding::Mirror);
        assert!((out.at(2, 2, 4) - ramp.at(2, 2, 4)).abs() < 1e-12);
        let slice_wise = mean_filter(&ramp, 5, Dimensionality::InPlane, Padding::Mirror);
        for k in 0..9 {
            assert!((slice_wise.at(2, 2, k) - ramp.at(2, 2, k)).abs() < 1e-12, "slice {k}");
        }
    }

    #[test]
    fn log_factors_have_the_manual_support_and_sums() {
        // sigma 1.5 voxels, truncation 4: M = 1 + 2 floor(6.5) = 13
        let (g, g2) = log_factors(1.5, 4.0);
        assert_eq!((g.len(), g2.len()), (13, 13));
        // sampled Gaussian of unit integral sums to ~1; its second derivative to ~0 (truncated at 4 sigma)
        assert!((g.iter().sum::<f64>() - 1.0).abs() < 1e-4);
        assert!(g2.iter().sum::<f64>().abs() < 1e-3);
        // ∫ x² g''(x) dx = ∫ (x²)'' g(x) dx = 2, up to the truncation
        let m2: f64 = g2.iter().enumerate().map(|(t, v)| ((t as f64 - 6.0).powi(2)) * v).sum();
        assert!((m2 - 2.0).abs() < 1e-2, "{m2}");
        // sigma 1.5 mm on 0.977 mm voxels: 4 sigma = 6.14 voxels, still M = 13
        assert_eq!(log_factors(1.5 / 0.977, 4.0).0.len(), 13);
    }

    #[test]
    fn log_of_a_quadratic_is_its_laplacian() {
        // f = (i-15)² + 2 (j-15)² + 3 (k-15)² has Laplacian 2 + 4 + 6 = 12 (voxel units). At the
        // centre the truncated kernel gives it up to the truncation of the Gaussian's second moment
        // (Σ k² g''(k) = 1.995 instead of 2 at 4 sigma), i.e. within 0.3%.
        let c = |x: usize| (x as f64 - 15.0).powi(2);
        let q = volume([31, 31, 31], [1.0; 3], |i, j, k| c(i) + 2.0 * c(j) + 3.0 * c(k));
        let out = laplacian_of_gaussian(&q, 1.5, 4.0, Dimensionality::Volumetric, Padding::Mirror);
        assert!((out.at(15, 15, 15) - 12.0).abs() < 0.04, "{}", out.at(15, 15, 15));
        // in-plane: only the i and j terms, 2 + 4
        let out = laplacian_of_gaussian(&q, 1.5, 4.0, Dimensionality::InPlane, Padding::Mirror);
        assert!((out.at(15, 15, 15) - 6.0).abs() < 0.02, "{}", out.at(15, 15, 15));
        // a constant: the response is the constant times the kernel's sum, which the manual does not
        // force to zero (truncation leaves a small negative sum)
        let flat = volume([20, 20, 20], [1.0; 3], |_, _, _| 100.0);
        let out = laplacian_of_gaussian(&flat, 1.5, 4.0, Dimensionality::Volumetric, Padding::Nearest);
        let (g, g2) = log_factors(1.5, 4.0);
        let kernel_sum = 3.0 * g2.iter().sum::<f64>() * g.iter().sum::<f64>().powi(2);
        assert!(out.data.iter().all(|v| (v - 100.0 * kernel_sum).abs() < 1e-9));
        assert!(kernel_sum < 0.0 && kernel_sum > -1e-3, "{kernel_sum}");
    }

    #[test]
    fn log_kernel_equals_the_manual_formula() {
        // the response to an impulse is the kernel itself: compare with the closed form on a 3D grid
        let n = 15;
        let impulse = volume([n, n, n], [1.0; 3], |i, j, k| if (i, j, k) == (7, 7, 7) { 1.0 } else { 0.0 });
        let sigma: f64 = 1.2;
        let out = laplacian_of_gaussian(&impulse, sigma, 4.0, Dimensionality::Volumetric, Padding::Zero);
        let norm = (sigma * (2.0 * std::f64::consts::PI).sqrt()).powi(3);
        for (i, j, k) in [(7, 7, 7), (8, 7, 7), (9, 10, 6), (3, 7, 11)] {
            let r2 = [i, j, k].iter().map(|&x| (x as f64 - 7.0).powi(2)).sum::<f64>();
            let want = -1.0 / (sigma * sigma) / norm * (3.0 - r2 / (sigma * sigma)) * (-r2 / (2.0 * sigma * sigma)).exp();
            assert!((out.at(i, j, k) - want).abs() < 1e-15, "({i}, {j}, {k}) {} {want}", out.at(i, j, k));
        }
    }
}
