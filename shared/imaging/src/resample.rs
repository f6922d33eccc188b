//! Resampling onto another grid as ITK's `ResampleImageFilter` does it (identity transform): cubic
//! B-spline interpolation (`sitkBSpline`) and nearest neighbour, and the grid pyradiomics resamples
//! image and mask to (`resampledPixelSpacing`, aligned to the mask's ROI bounding box and padded).

use crate::geometry::{Geometry, Volume, is_label};

/// How interpolated values are stored, as ITK casts them to the output pixel type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PixelCast {
    /// A floating-point output: values kept (as `f32`).
    Float,
    /// An integer output: values clamped to `[min, max]`, then truncated toward zero (C++
    /// `static_cast`), as ITK stores an interpolated value in an integer image.
    Truncate {
        /// Smallest value of the pixel type.
        min: f64,
        /// Largest value of the pixel type.
        max: f64,
    },
}

impl PixelCast {
    /// A signed 16-bit integer image (CT): `[-32768, 32767]`, truncated.
    pub const INT16: PixelCast = PixelCast::Truncate { min: i16::MIN as f64, max: i16::MAX as f64 };

    /// The pixel type of values stored in `bytes` bytes, as signed (`'i'`) or unsigned (`'u'`)
    /// integers or floating point (`'f'`).
    pub fn stored(bytes: usize, kind: char) -> PixelCast {
        let bits = 8 * bytes as i32;
        match kind {
            'i' => PixelCast::Truncate { min: -(2f64.powi(bits - 1)), max: 2f64.powi(bits - 1) - 1.0 },
            'u' => PixelCast::Truncate { min: 0.0, max: 2f64.powi(bits) - 1.0 },
            _ => PixelCast::Float,
        }
    }

    /// The narrowest integer type holding `[lo, hi]`, unsigned when `lo >= 0` (8, 16 or 32 bits), as
    /// GDCM chooses it for rescaled DICOM values; floating point beyond 32 bits.
    pub fn fitting(lo: f64, hi: f64) -> PixelCast {
        let kind = if lo >= 0.0 { 'u' } else { 'i' };
        [1, 2, 4]
            .into_iter()
            .map(|bytes| PixelCast::stored(bytes, kind))
            .find(|t| matches!(t, PixelCast::Truncate { min, max } if *min <= lo && hi <= *max))
            .unwrap_or(PixelCast::Float)
    }

    fn apply(self, v: f64) -> f32 {
        match self {
            PixelCast::Float => v as f32,
            PixelCast::Truncate { min, max } => v.clamp(min, max).trunc() as f32,
        }
    }
}

/// Inverse of a 3x3 matrix (by cofactors); `None` when singular.
fn invert(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c = |r: usize, k: usize| {
        let (r1, r2, k1, k2) = ((r + 1) % 3, (r + 2) % 3, (k + 1) % 3, (k + 2) % 3);
        m[r1][k1] * m[r2][k2] - m[r1][k2] * m[r2][k1]
    };
    let det = m[0][0] * c(0, 0) + m[0][1] * c(0, 1) + m[0][2] * c(0, 2);
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let mut inv = [[0.0; 3]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (k, v) in row.iter_mut().enumerate() {
            *v = c(k, r) / det;
        }
    }
    Some(inv)
}

/// Maps physical points (LPS mm) to continuous indices of a grid, as ITK's
/// `TransformPhysicalPointToContinuousIndex`.
struct ToIndex {
    origin: [f64; 3],
    inverse: [[f64; 3]; 3],
}

impl ToIndex {
    fn new(g: &Geometry) -> Self {
        let mut a = [[0.0; 3]; 3];
        for (r, row) in a.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = g.direction[r][c] * g.spacing[c];
            }
        }
        let inverse = invert(a).unwrap_or([[f64::NAN; 3]; 3]);
        Self { origin: g.origin, inverse }
    }

    fn index(&self, p: [f64; 3]) -> [f64; 3] {
        let d = [p[0] - self.origin[0], p[1] - self.origin[1], p[2] - self.origin[2]];
        let mut x = [0.0; 3];
        for (r, v) in x.iter_mut().enumerate() {
            *v = self.inverse[r][0] * d[0] + self.inverse[r][1] * d[1] + self.inverse[r][2] * d[2];
        }
        x
    }
}

/// ITK's buffer test for a continuous index: within half a voxel of the first and last voxel centres
/// (`-0.5 <= x < size - 0.5` on every axis; NaN is outside).
fn inside(x: [f64; 3], size: [usize; 3]) -> bool {
    (0..3).all(|a| x[a] >= -0.5 && x[a] < size[a] as f64 - 0.5)
}

/// Calls `f` with each voxel of `target` (linear index order) and its continuous index in `source`.
fn for_each_target(target: &Geometry, source: &Geometry, mut f: impl FnMut([f64; 3])) {
    let to_index = ToIndex::new(source);
    for k in 0..target.size[2] {
        for j in 0..target.size[1] {
            for i in 0..target.size[0] {
                f(to_index.index(target.point([i as f64, j as f64, k as f64])));
            }
        }
    }
}

/// Nearest-neighbour resampling of `image` onto `target` (ITK's `NearestNeighborInterpolateImageFunction`:
/// the voxel at `floor(x + 0.5)`); voxels of `target` outside `image` are 0.
pub fn nearest_resample(image: &Volume<f32>, target: &Geometry) -> Volume<f32> {
    let size = image.geometry.size;
    let mut data = Vec::with_capacity(target.len());
    for_each_target(target, &image.geometry, |x| {
        data.push(if inside(x, size) {
            let n = |a: usize| ((x[a] + 0.5).floor() as usize).min(size[a] - 1);
            image.at(n(0), n(1), n(2))
        } else {
            0.0
        });
    });
    Volume { geometry: *target, data }
}

/// The pole of the cubic B-spline prefilter.
const POLE: f64 = -0.267_949_192_431_122_7; // sqrt(3) - 2

/// ITK's tolerance of the causal initialisation (`BSplineDecompositionImageFilter`).
const TOLERANCE: f64 = 1e-10;

/// Cubic B-spline coefficients of one line in place, with mirror boundaries, as ITK's
/// `BSplineDecompositionImageFilter::DataToCoefficients1D` computes them (a line of one sample is
/// left as it is).
fn decompose_line(c: &mut [f64]) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let z = POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    for v in c.iter_mut() {
        *v *= gain;
    }
    // causal initialisation
    let horizon = (TOLERANCE.ln() / z.abs().ln()).ceil() as usize;
    let mut zn = z;
    if horizon < n {
        let mut sum = c[0];
        for &v in &c[1..horizon] {
            sum += zn * v;
            zn *= z;
        }
        c[0] = sum;
    } else {
        let iz = 1.0 / z;
        let mut z2n = z.powi(n as i32 - 1);
        let mut sum = c[0] + z2n * c[n - 1];
        z2n = z2n * (z2n * iz); // z^(2n - 3)
        for &v in &c[1..n - 1] {
            sum += (zn + z2n) * v;
            zn *= z;
            z2n *= iz;
        }
        c[0] = sum / (1.0 - zn * zn);
    }
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // anticausal initialisation
    c[n - 1] = (z / (z * z - 1.0)) * (z * c[n - 2] + c[n - 1]);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}

/// Cubic B-spline coefficients of a whole volume (i fastest), axis by axis.
fn coefficients(image: &Volume<f32>) -> Vec<f64> {
    coefficients_along(image, [true; 3])
}

/// Cubic B-spline coefficients of a volume along the axes marked in `axes` only (the others keep
/// their samples: an in-plane spline leaves the slices apart).
pub(crate) fn coefficients_along(image: &Volume<f32>, axes: [bool; 3]) -> Vec<f64> {
    let [nx, ny, nz] = image.geometry.size;
    let mut c: Vec<f64> = image.data.iter().map(|&v| v as f64).collect();
    let mut line = Vec::new();
    let strides = [1, nx, nx * ny];
    for (axis, &stride) in strides.iter().enumerate() {
        let n = image.geometry.size[axis];
        if n < 2 || !axes[axis] {
            continue;
        }
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    let start = [i, j, k];
                    if start[axis] != 0 {
                        continue;
                    }
                    let base = image.geometry.index(i, j, k);
                    line.clear();
                    line.extend((0..n).map(|t| c[base + t * stride]));
                    decompose_line(&mut line);
                    for (t, &v) in line.iter().enumerate() {
                        c[base + t * stride] = v;
                    }
                }
            }
        }
    }
    c
}

/// The four sample indices (mirrored into `0..n`) and cubic B-spline weights around continuous index `x`.
pub(crate) fn support(x: f64, n: usize) -> ([usize; 4], [f64; 4]) {
    let first = x.floor() as i64 - 1;
    let w = x - (first + 1) as f64;
    let w3 = w * w * w / 6.0;
    let w0 = 1.0 / 6.0 + 0.5 * w * (w - 1.0) - w3;
    let w2 = w + w0 - 2.0 * w3;
    let w1 = 1.0 - w0 - w2 - w3;
    let last = n as i64 - 1;
    let mut idx = [0usize; 4];
    for (t, v) in idx.iter_mut().enumerate() {
        let mut k = first + t as i64;
        if n == 1 {
            k = 0;
        } else {
            if k < 0 {
                k = -k;
            }
            if k > last {
                k = 2 * last - k;
            }
        }
        *v = k.clamp(0, last) as usize;
    }
    (idx, [w0, w1, w2, w3])
}

/// Cubic B-spline resampling of `image` onto `target`, as SimpleITK's `ResampleImageFilter` with
/// `sitkBSpline` (ITK's `BSplineInterpolateImageFunction`, order 3, mirror boundaries, coefficients
/// from the whole image); voxels of `target` outside `image` are 0; values stored through `cast`.
pub fn bspline_resample(image: &Volume<f32>, target: &Geometry, cast: PixelCast) -> Volume<f32> {
    bspline_resample_filled(image, target, cast, 0.0)
}

/// As [`bspline_resample`], with voxels of `target` outside `image` set to `outside` (air for a CT).
pub fn bspline_resample_filled(image: &Volume<f32>, target: &Geometry, cast: PixelCast, outside: f64) -> Volume<f32> {
    let coef = coefficients(image);
    let size = image.geometry.size;
    let g = &image.geometry;
    let mut data = Vec::with_capacity(target.len());
    for_each_target(target, g, |x| {
        if !inside(x, size) {
            data.push(cast.apply(outside));
            return;
        }
        let (ia, wa) = support(x[0], size[0]);
        let (ib, wb) = support(x[1], size[1]);
        let (ic, wc) = support(x[2], size[2]);
        let mut sum = 0.0;
        for c in 0..4 {
            for b in 0..4 {
                let wbc = wb[b] * wc[c];
                for a in 0..4 {
                    sum += wa[a] * wbc * coef[g.index(ia[a], ib[b], ic[c])];
                }
            }
        }
        data.push(cast.apply(sum));
    });
    Volume { geometry: *target, data }
}

/// Index bounding box of the voxels of `mask` equal to `label`: (lowest index, size) per axis.
pub fn bounding_box(mask: &Volume<f32>, label: f64) -> Option<([usize; 3], [usize; 3])> {
    let mut lo = [usize::MAX; 3];
    let mut hi = [0usize; 3];
    let [nx, ny, _] = mask.geometry.size;
    for (n, &v) in mask.data.iter().enumerate() {
        if is_label(v, label) {
            let ijk = [n % nx, (n / nx) % ny, n / (nx * ny)];
            for a in 0..3 {
                lo[a] = lo[a].min(ijk[a]);
                hi[a] = hi[a].max(ijk[a]);
            }
        }
    }
    (lo[0] != usize::MAX).then(|| (lo, [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1]))
}

/// The grid pyradiomics' `resampleImage` resamples image and mask to: spacing `spacing` (0 keeps the
/// mask's; an axis where the ROI is one voxel thick keeps the mask's too), the mask's direction, the
/// ROI's bounding box padded by `pad_distance` new voxels (kept within the mask's extent), and an origin
/// such that the new voxels tile the mask's extent from its corner. `None` when `label` is absent.
pub fn pyradiomics_grid(mask: &Volume<f32>, label: f64, spacing: [f64; 3], pad_distance: f64) -> Option<Geometry> {
    let (lo, size) = bounding_box(mask, label)?;
    let mg = &mask.geometry;
    let mut new_spacing = [0.0; 3];
    let mut new_size = [0usize; 3];
    let mut origin_index = [0.0; 3];
    for a in 0..3 {
        let s = if spacing[a] == 0.0 || size[a] == 1 { mg.spacing[a] } else { spacing[a] };
        new_spacing[a] = s;
        let ratio = mg.spacing[a] / s;
        let lower = ((lo[a] as f64 - 0.5) * ratio - pad_distance).floor().max(0.0);
        let max_upper = (mg.size[a] as f64 * ratio).ceil() - 1.0;
        let upper = (((lo[a] + size[a]) as f64 - 0.5) * ratio + pad_distance).ceil().min(max_upper);
        new_size[a] = (upper - lower + 1.0) as usize;
        origin_index[a] = 0.5 * (s - mg.spacing[a]) / mg.spacing[a] + lower / ratio;
    }
    Some(Geometry { size: new_size, spacing: new_spacing, origin: mg.point(origin_index), direction: mg.direction })
}

/// True when pyradiomics would not resample an image of spacing `image` to `spacing` (numpy's
/// `allclose`: within 1e-8 + 1e-5 * |new| on every axis).
pub fn same_spacing(image: [f64; 3], spacing: [f64; 3]) -> bool {
    (0..3).all(|a| (image[a] - spacing[a]).abs() <= 1e-8 + 1e-5 * spacing[a].abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bspline_reproduces_samples_on_the_grid_and_constants_anywhere() {
        let g = Geometry::axis_aligned([5, 30, 4], [1.0, 0.5, 2.0], [0.0, 0.0, 0.0]);
        let data: Vec<f32> = (0..g.len()).map(|n| ((n * 7919) % 101) as f32).collect();
        let image = Volume { geometry: g, data };
        let same = bspline_resample(&image, &g, PixelCast::Float);
        for (a, b) in same.data.iter().zip(&image.data) {
            assert!((a - b).abs() < 1e-3, "{a} vs {b}");
        }
        let flat = Volume { geometry: g, data: vec![7.0; g.len()] };
        let fine = Geometry::axis_aligned([9, 45, 6], [0.4, 0.3, 1.1], [0.1, 0.2, 0.3]);
        let out = bspline_resample(&flat, &fine, PixelCast::Float);
        assert!(out.data.iter().all(|&v| (v - 7.0).abs() < 1e-4));
        let far = Geometry::axis_aligned([2, 2, 2], [1.0, 1.0, 1.0], [100.0, 0.0, 0.0]);
        assert!(bspline_resample(&flat, &far, PixelCast::INT16).data.iter().all(|&v| v == 0.0));
        assert_eq!(PixelCast::INT16.apply(-3.7), -3.0);
        assert_eq!(PixelCast::INT16.apply(1e6), 32767.0);
    }

    #[test]
    fn nearest_and_grid_follow_pyradiomics() {
        let g = Geometry::axis_aligned([10, 10, 10], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]);
        let mut mask = Volume { geometry: g, data: vec![0.0; g.len()] };
        for (i, j, k) in [(3, 4, 5), (5, 6, 5)] {
            mask.data[g.index(i, j, k)] = 1.0;
        }
        assert_eq!(bounding_box(&mask, 1.0), Some(([3, 4, 5], [3, 3, 1])));
        let grid = pyradiomics_grid(&mask, 1.0, [2.0, 2.0, 2.0], 1.0).unwrap();
        // x: floor(2.5 * 0.5 - 1) = 0 .. ceil(5.5 * 0.5 + 1) = 4; y: 0 .. min(5, ceil(10 * 0.5) - 1);
        // z keeps spacing 1 (one slice): floor(4.5 - 1) = 3 .. ceil(5.5 + 1) = 7
        assert_eq!(grid.spacing, [2.0, 2.0, 1.0]);
        assert_eq!(grid.size, [5, 5, 5]);
        assert_eq!(grid.origin, [0.5, 0.5, 3.0]);
        let near = nearest_resample(&mask, &g);
        assert_eq!(near.data, mask.data);
        assert!(same_spacing([2.0, 2.0, 2.0], [2.0, 2.0, 2.000001]));
        assert!(pyradiomics_grid(&mask, 2.0, [2.0; 3], 5.0).is_none());
    }
}
