//! Separable wavelets as IBSI chapter 2 (arXiv 2006.05470) defines them: the undecimated (stationary)
//! transform, one band (e.g. `LLH`) at decomposition level `j`, made rotation invariant by averaging
//! the response of the right-angle rotations of the filter bank (24 in 3D, 4 in the axial plane).
//!
//! Level 1 convolves the image with the band's separable kernel (low-pass `L` or high-pass `H` along
//! each axis). Level `j` convolves the level-`j - 1` all-low-pass response (`LLL`) with the band's
//! filters upsampled à trous (`2^(j-1) - 1` zeros between taps). The decomposition filters are the
//! published ones (Daubechies 1988; `dec_lo`, `dec_hi` in PyWavelets' order), convolved (not
//! correlated); an even-length filter gets a trailing zero so that its centre is tap `len / 2`. A
//! rotation turns the whole cascade: the low-pass pre-filters of the earlier levels as well as the band.

use tacefusion_imaging::Volume;

use crate::convolution::{self, Dimensionality, Padding};
use crate::error::RadiomicsError;

/// The decomposition filters of an orthonormal wavelet.
#[derive(Debug, Clone, PartialEq)]
pub struct WaveletFilters {
    /// low-pass (scaling) decomposition filter
    pub low: Vec<f64>,
    /// high-pass (wavelet) decomposition filter
    pub high: Vec<f64>,
}

/// The Daubechies wavelet `db1`, `db2` or `db3` from its closed form (Daubechies 1988), in the order
/// of the decomposition filters: the low-pass is the reversed scaling filter `h`, the high-pass
/// `g[k] = (-1)^(k+1) low[N-1-k]`.
pub fn daubechies(name: &str) -> Option<WaveletFilters> {
    let s2 = std::f64::consts::SQRT_2;
    // scaling filter h (reconstruction low-pass), sum sqrt(2)
    let h: Vec<f64> = match name {
        "db1" | "haar" => vec![1.0 / s2, 1.0 / s2],
        "db2" => {
            let r3 = 3f64.sqrt();
            [1.0 + r3, 3.0 + r3, 3.0 - r3, 1.0 - r3].iter().map(|v| v / (4.0 * s2)).collect()
        }
        "db3" => {
            let a = 10f64.sqrt();
            let b = (5.0 + 2.0 * a).sqrt();
            let c = [1.0 + a + b, 5.0 + a + 3.0 * b, 10.0 - 2.0 * a + 2.0 * b, 10.0 - 2.0 * a - 2.0 * b, 5.0 + a - 3.0 * b, 1.0 + a - b];
            c.iter().map(|v| v / (16.0 * s2)).collect()
        }
        _ => return None,
    };
    let low: Vec<f64> = h.iter().rev().copied().collect();
    let n = low.len();
    let high = (0..n).map(|k| if k % 2 == 0 { -low[n - 1 - k] } else { low[n - 1 - k] }).collect();
    Some(WaveletFilters { low, high })
}

/// `kernel` of odd length with its centre at `len / 2`: an even-length filter gets a trailing zero.
fn centred(kernel: &[f64]) -> Vec<f64> {
    let mut out = kernel.to_vec();
    if out.len().is_multiple_of(2) {
        out.push(0.0);
    }
    out
}

/// `kernel` (odd length) upsampled for decomposition level `level`: `2^(level-1) - 1` zeros between
/// taps, centre tap kept at the centre.
fn a_trous(kernel: &[f64], level: u32) -> Vec<f64> {
    let step = 1usize << (level - 1);
    let mut out = vec![0.0; (kernel.len() - 1) * step + 1];
    for (t, v) in kernel.iter().enumerate() {
        out[t * step] = *v;
    }
    out
}

fn reversed(kernel: &[f64]) -> Vec<f64> {
    kernel.iter().rev().copied().collect()
}

/// A filter bank turned by a right-angle rotation: factor `f` of the band goes to axis
/// `axes[perm[f]]`, and axis `axes[b]` is reversed where `reversed[b]` (see `laws::rotations`).
struct Orientation<'a> {
    perm: &'a [usize],
    reversed: &'a [bool],
}

/// The kernels along the three axes of the all-low-pass pre-filter of `level`, as `orientation` turns it.
fn pre_filter_kernels(low: &[f64], level: u32, axes: &[usize], orientation: &Orientation) -> [Option<Vec<f64>>; 3] {
    let up = a_trous(low, level);
    let mut kernels: [Option<Vec<f64>>; 3] = [None, None, None];
    for (b, &axis) in axes.iter().enumerate() {
        kernels[axis] = Some(if orientation.reversed[b] { reversed(&up) } else { up.clone() });
    }
    kernels
}

/// The response of the band `factors` (centred kernels, one per axis of `axes`) at `level` under
/// `orientation`, from `pre`, the image already low-passed through levels `1..level`.
fn band(pre: &Volume<f64>, factors: &[Vec<f64>], level: u32, axes: &[usize], orientation: &Orientation, padding: Padding) -> Volume<f64> {
    let mut kernels: [Option<Vec<f64>>; 3] = [None, None, None];
    for (f, factor) in factors.iter().enumerate() {
        let b = orientation.perm[f];
        let up = a_trous(factor, level);
        kernels[axes[b]] = Some(if orientation.reversed[b] { reversed(&up) } else { up });
    }
    convolve(pre, &kernels, padding)
}

fn convolve(image: &Volume<f64>, kernels: &[Option<Vec<f64>>; 3], padding: Padding) -> Volume<f64> {
    convolution::convolve_separable(image, [kernels[0].as_deref(), kernels[1].as_deref(), kernels[2].as_deref()], padding)
}

/// The image low-passed through the levels `1..level` under `orientation`.
fn low_passed(image: &Volume<f64>, low: &[f64], level: u32, axes: &[usize], orientation: &Orientation, padding: Padding) -> Volume<f64> {
    let mut out = image.clone();
    for l in 1..level {
        out = convolve(&out, &pre_filter_kernels(low, l, axes, orientation), padding);
    }
    out
}

/// The IBSI separable wavelet response of `image` for `band` (one `L` or `H` per axis of `dims`, the
/// first along i) of the wavelet `family` at decomposition `level` (1 or more), with `padding` at every
/// convolution. `rotation_invariant` averages the responses of the filter bank's right-angle rotations
/// (IBSI's rotation invariance with average pooling); otherwise the band as oriented.
pub fn separable_wavelet(
    image: &Volume<f64>,
    family: &str,
    band_name: &str,
    level: u32,
    dims: Dimensionality,
    padding: Padding,
    rotation_invariant: bool,
) -> Result<Volume<f64>, RadiomicsError> {
    let filters = daubechies(family)
        .ok_or_else(|| RadiomicsError::Setting { name: "wavelet family", detail: format!("{family} is not implemented") })?;
    let axes = dims.axes();
    let bad_band = || RadiomicsError::Setting { name: "wavelet band", detail: format!("{band_name} for {} axes", axes.len()) };
    if band_name.len() != axes.len() {
        return Err(bad_band());
    }
    let factors: Vec<Vec<f64>> = band_name
        .chars()
        .map(|c| match c {
            'L' => Ok(centred(&filters.low)),
            'H' => Ok(centred(&filters.high)),
            _ => Err(bad_band()),
        })
        .collect::<Result<_, _>>()?;
    if level == 0 || level > 8 {
        return Err(RadiomicsError::Setting { name: "wavelet level", detail: format!("{level} outside 1..=8") });
    }
    let low = centred(&filters.low);
    let identity: Vec<usize> = (0..axes.len()).collect();
    let unreversed = vec![false; axes.len()];
    if !rotation_invariant {
        let orientation = Orientation { perm: &identity, reversed: &unreversed };
        let pre = low_passed(image, &low, level, axes, &orientation, padding);
        return Ok(band(&pre, &factors, level, axes, &orientation, padding));
    }
    let rotations = crate::laws::rotations(axes.len());
    // the pre-filter depends on the reversed axes only: compute it once per pattern
    let mut patterns: Vec<&Vec<bool>> = rotations.iter().map(|(_, r)| r).collect();
    patterns.sort();
    patterns.dedup();
    let mut sum = vec![0.0; image.data.len()];
    for pattern in patterns {
        let pre = low_passed(image, &low, level, axes, &Orientation { perm: &identity, reversed: pattern }, padding);
        for (perm, _) in rotations.iter().filter(|(_, r)| r == pattern) {
            let response = band(&pre, &factors, level, axes, &Orientation { perm, reversed: pattern }, padding);
            sum.iter_mut().zip(&response.data).for_each(|(s, r)| *s += r);
        }
    }
    let n = rotations.len() as f64;
    Ok(Volume { geometry: image.geometry, data: sum.into_iter().map(|s| s / n).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    fn volume(size: [usize; 3], f: impl Fn(usize, usize, usize) -> f64) -> Volume<f64> {
        Volume::from_fn(Geometry::axis_aligned(size, [1.0; 3], [0.0; 3]), f)
    }

    /// a deterministic, irregular test pattern
    fn texture(i: usize, j: usize, k: usize) -> f64 {
        ((i * 7 + j * 13 + k * 29) % 17) as f64 + (i * j) as f64 * 0.3 - (k * k) as f64 * 0.2
    }

    fn energy(v: &Volume<f64>) -> f64 {
        v.data.iter().map(|x| x * x).sum()
    }

    #[test]
    fn daubechies_filters_are_the_published_ones() {
        // PyWavelets 1.9 `Wavelet(name).dec_lo` / `.dec_hi` (db1's 0.7071067811865476 is 1/sqrt 2)
        const R: f64 = std::f64::consts::FRAC_1_SQRT_2;
        let cases: [(&str, &[f64], &[f64]); 3] = [
            ("db1", &[R, R], &[-R, R]),
            (
                "db2",
                &[-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416],
                &[-0.48296291314453416, 0.8365163037378079, -0.2241438680420134, -0.12940952255126037],
            ),
            (
                "db3",
                &[
                    0.03522629188570953,
                    -0.08544127388202666,
                    -0.13501102001025458,
                    0.45987750211849154,
                    0.8068915093110925,
                    0.33267055295008263,
                ],
                &[
                    -0.33267055295008263,
                    0.8068915093110925,
                    -0.45987750211849154,
                    -0.13501102001025458,
                    0.08544127388202666,
                    0.03522629188570953,
                ],
            ),
        ];
        for (name, low, high) in cases {
            let f = daubechies(name).unwrap();
            for (got, want) in f.low.iter().zip(low).chain(f.high.iter().zip(high)) {
                assert!((got - want).abs() < 1e-15, "{name}: {got} vs {want}");
            }
            // orthonormal: unit norm, orthogonal to its even shifts; low sums to sqrt 2, high to 0 with
            // N vanishing moments
            let n = f.low.len();
            for shift in (0..n).step_by(2) {
                let dot: f64 = (0..n - shift).map(|k| f.low[k] * f.low[k + shift]).sum();
                assert!((dot - if shift == 0 { 1.0 } else { 0.0 }).abs() < 1e-14, "{name} shift {shift}");
            }
            assert!((f.low.iter().sum::<f64>() - std::f64::consts::SQRT_2).abs() < 1e-14);
            for p in 0..n / 2 {
                let moment: f64 = f.high.iter().enumerate().map(|(k, g)| (k as f64).powi(p as i32) * g).sum();
                assert!(moment.abs() < 1e-12, "{name} moment {p}: {moment}");
            }
        }
        assert!(daubechies("db9").is_none());
    }

    #[test]
    fn undecimated_bands_keep_the_energy() {
        // |L(w)|² + |H(w)|² = 2 on each axis, so with periodic padding the 2^D bands of a level hold
        // 2^D times the energy of what they decompose: the image at level 1, the all-low band of
        // level 1 at level 2 (the à trous filters keep the identity)
        let image = volume([10, 9, 8], texture);
        let cases: [(Dimensionality, &[&str]); 2] = [
            (Dimensionality::InPlane, &["LL", "LH", "HL", "HH"]),
            (Dimensionality::Volumetric, &["LLL", "LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH"]),
        ];
        for (dims, bands) in cases {
            let gain = bands.len() as f64;
            let all_low = bands[0];
            let level_1 = separable_wavelet(&image, "db3", all_low, 1, dims, Padding::Periodic, false).unwrap();
            for (level, source) in [(1, &image), (2, &level_1)] {
                let total: f64 = bands
                    .iter()
                    .map(|b| energy(&separable_wavelet(&image, "db3", b, level, dims, Padding::Periodic, false).unwrap()))
                    .sum();
                let want = gain * energy(source);
                assert!((total - want).abs() < 1e-9 * want, "{dims:?} level {level}: {total} vs {want}");
            }
        }
    }

    #[test]
    fn a_constant_has_no_detail() {
        // high-pass filters sum to zero; the all-low band multiplies a constant by sqrt(2) per axis and level
        let flat = volume([12, 11, 10], |_, _, _| 50.0);
        let cases = [
            (Dimensionality::InPlane, "LH", 1, 0.0),
            (Dimensionality::InPlane, "HH", 2, 0.0),
            (Dimensionality::Volumetric, "LLH", 1, 0.0),
            (Dimensionality::Volumetric, "HHH", 2, 0.0),
            (Dimensionality::InPlane, "LL", 1, 100.0),
            (Dimensionality::Volumetric, "LLL", 2, 400.0),
        ];
        for (dims, band_name, level, want) in cases {
            for invariant in [false, true] {
                let out = separable_wavelet(&flat, "db3", band_name, level, dims, Padding::Mirror, invariant).unwrap();
                assert!(out.data.iter().all(|v| (v - want).abs() < 1e-9), "{band_name} level {level}");
            }
        }
    }

    #[test]
    fn impulse_response_is_the_oriented_kernel() {
        // LH: low-pass along i, high-pass along j, convolved (not correlated): the response at
        // (c + a, c + b) to an impulse at (c, c) is low[3 + a] high[3 + b] (filters centred on tap 3)
        let f = daubechies("db3").unwrap();
        let (low, high) = (centred(&f.low), centred(&f.high));
        let impulse = volume([9, 9, 1], |i, j, _| if (i, j) == (4, 4) { 1.0 } else { 0.0 });
        let out = separable_wavelet(&impulse, "db3", "LH", 1, Dimensionality::InPlane, Padding::Zero, false).unwrap();
        for a in -3..=3isize {
            for b in -3..=3isize {
                let want = low[(3 + a) as usize] * high[(3 + b) as usize];
                let got = out.at((4 + a) as usize, (4 + b) as usize, 0);
                assert!((got - want).abs() < 1e-15, "({a}, {b})");
            }
        }
    }

    /// voxel (i, j, k) of a cube of side `n` turned a right angle about k (i -> j, j -> -i) reads
    /// voxel `about_k(n, i, j, k)` of the original
    fn about_k(n: usize, i: usize, j: usize, k: usize) -> (usize, usize, usize) {
        (j, n - 1 - i, k)
    }

    /// the same about i (j -> k, k -> -j)
    fn about_i(n: usize, i: usize, j: usize, k: usize) -> (usize, usize, usize) {
        (i, k, n - 1 - j)
    }

    #[test]
    fn rotation_invariant_response_turns_with_the_image() {
        // a cube and the same cube turned by a right angle give rotation-invariant responses turned
        // the same way; the single oriented band does not
        type Turn = fn(usize, usize, usize, usize) -> (usize, usize, usize);
        let n = 11;
        let image = volume([n; 3], texture);
        let cases: [(Dimensionality, &str, u32, Turn); 5] = [
            (Dimensionality::InPlane, "LH", 1, about_k),
            (Dimensionality::InPlane, "HH", 2, about_k),
            (Dimensionality::Volumetric, "LLH", 1, about_k),
            (Dimensionality::Volumetric, "HHH", 2, about_i),
            (Dimensionality::Volumetric, "LHL", 2, about_i),
        ];
        for (dims, band_name, level, turn) in cases {
            let turned = volume([n; 3], |i, j, k| {
                let (a, b, c) = turn(n, i, j, k);
                texture(a, b, c)
            });
            let turned_alike = |original: &Volume<f64>, other: &Volume<f64>| {
                (0..n).all(|k| {
                    (0..n).all(|j| {
                        (0..n).all(|i| {
                            let (a, b, c) = turn(n, i, j, k);
                            (other.at(i, j, k) - original.at(a, b, c)).abs() < 1e-9
                        })
                    })
                })
            };
            let respond =
                |v: &Volume<f64>, invariant| separable_wavelet(v, "db3", band_name, level, dims, Padding::Periodic, invariant).unwrap();
            assert!(turned_alike(&respond(&image, true), &respond(&turned, true)), "{dims:?} {band_name} level {level}");
            assert!(!turned_alike(&respond(&image, false), &respond(&turned, false)), "{dims:?} {band_name} level {level} oriented");
        }
    }

    #[test]
    fn settings_out_of_their_domain_are_errors() {
        let image = volume([4, 4, 4], texture);
        let cases = [
            ("db3", "LHL", 1, Dimensionality::InPlane),
            ("db3", "LX", 1, Dimensionality::InPlane),
            ("db3", "LH", 0, Dimensionality::InPlane),
            ("coif1", "LH", 1, Dimensionality::InPlane),
        ];
        for (family, band_name, level, dims) in cases {
            assert!(
                separable_wavelet(&image, family, band_name, level, dims, Padding::Mirror, true).is_err(),
                "{family} {band_name} {level}"
            );
        }
    }
}
