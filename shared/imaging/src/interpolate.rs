//! Interpolation to another voxel spacing as IBSI 1 defines it ("Interpolation", VTM2): the new grid
//! is centred on the original one (*align grid centers*, 3WE3), its size rounded up (026Q); intensities
//! beyond the original grid take the nearest boundary value; the image is interpolated by nearest
//! neighbour, (tri)linear or cubic B-spline interpolation and optionally rounded to whole numbers
//! (68QD); the ROI mask is interpolated the same way and binarised at a partial-volume threshold (E8H9).
//! Axes can be left alone (2D, in-plane interpolation).
//!
//! Unlike [`crate::resample`] (pyradiomics' grid around the ROI, ITK's conventions), the grid here
//! covers the whole image and depends on nothing but its size and spacing.

use crate::geometry::{Geometry, Volume};
use crate::resample::{coefficients_along, support};

/// How intensities between the original voxel centres are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolator {
    /// The value of the nearest original voxel (`floor(x + 0.5)`).
    NearestNeighbour,
    /// Linear along every interpolated axis: bilinear in-plane, trilinear in 3D.
    Linear,
    /// Cubic B-spline: the image's B-spline coefficients (recursive prefilter, mirror boundaries, as
    /// ITK and SimpleITK compute them), evaluated with the cubic B-spline kernel; IBSI's *tricubic
    /// spline* interpolation.
    CubicBSpline,
}

/// What to interpolate to, and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interpolation {
    /// New spacing (mm) along i, j, k; `None` leaves that axis as it is (no interpolation across it).
    pub spacing: [Option<f64>; 3],
    /// Interpolation of the image.
    pub image: Interpolator,
    /// Interpolation of the ROI mask (as a 0/1 image) before the partial-volume threshold.
    pub mask: Interpolator,
    /// A new mask voxel is in the ROI when its interpolated value is at least this (IBSI's partial
    /// volume threshold, commonly 0.5).
    pub partial_volume: f64,
    /// Round interpolated intensities to the nearest whole number (CT Hounsfield units).
    pub round: bool,
}

impl Interpolation {
    /// IBSI's 3D setting of the CT phantom (configurations C and D): isotropic `spacing`, trilinear
    /// image and mask, partial-volume threshold 0.5, intensities rounded.
    pub fn trilinear(spacing: f64) -> Self {
        Self { spacing: [Some(spacing); 3], image: Interpolator::Linear, mask: Interpolator::Linear, partial_volume: 0.5, round: true }
    }

    /// IBSI's 2D setting (configuration B): `spacing` within the slices (i, j), the slices left alone,
    /// bilinear image and mask, threshold 0.5, intensities rounded.
    pub fn in_plane(spacing: f64) -> Self {
        Self { spacing: [Some(spacing), Some(spacing), None], ..Self::trilinear(spacing) }
    }
}

/// Why an interpolation cannot be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InterpolationError {
    /// A spacing that is not a positive number.
    #[error("interpolation spacing {value} on axis {axis}: a positive number of mm expected")]
    Spacing {
        /// The axis (0 = i).
        axis: usize,
        /// The spacing given.
        value: f64,
    },
    /// A partial-volume threshold outside (0, 1].
    #[error("partial-volume threshold {0}: a number in (0, 1] expected")]
    Threshold(f64),
    /// A volume without voxels.
    #[error("cannot interpolate an empty volume")]
    Empty,
}

/// The interpolation grid of an image and where its voxels fall in the original grid.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignedGrid {
    /// The new grid: same direction, new spacing and size, centred on the original grid.
    pub geometry: Geometry,
    /// Per axis, the continuous index in the original grid of each new voxel index.
    pub coordinates: [Vec<f64>; 3],
    /// The axes that were interpolated (the others keep the original voxels).
    pub interpolated: [bool; 3],
}

/// Relative slack when rounding the new grid size up, so that a size that is whole in exact arithmetic
/// (60 x 3 mm / 2 mm = 90) is not pushed to the next integer by a floating-point error.
const SIZE_SLACK: f64 = 1e-9;

/// IBSI's *align grid centers*: along each axis with a new spacing `s_b`, `n_b = ceil(n_a s_a / s_b)`
/// voxels whose centres are placed symmetrically about the original grid's centre, i.e. the first at
/// original index `(n_a - 1 - (s_b / s_a)(n_b - 1)) / 2`; axes with `None` are kept.
pub fn align_grid_centres(g: &Geometry, spacing: [Option<f64>; 3]) -> Result<AlignedGrid, InterpolationError> {
    if g.is_empty() {
        return Err(InterpolationError::Empty);
    }
    let mut out = Geometry { ..*g };
    let mut coordinates: [Vec<f64>; 3] = Default::default();
    let mut interpolated = [false; 3];
    let mut origin_index = [0.0; 3];
    for a in 0..3 {
        let (n_a, s_a) = (g.size[a], g.spacing[a]);
        let Some(s_b) = spacing[a] else {
            coordinates[a] = (0..n_a).map(|k| k as f64).collect();
            continue;
        };
        if !(s_b.is_finite() && s_b > 0.0) {
            return Err(InterpolationError::Spacing { axis: a, value: s_b });
        }
        let extent = n_a as f64 * s_a / s_b;
        let n_b = ((extent - extent * SIZE_SLACK).ceil() as usize).max(1);
        // written so that positions that are exact in decimal arithmetic (0.5 between two 3 mm slices)
        // come out exact: (s_a (n_a - 1) + s_b (2k - (n_b - 1))) / (2 s_a)
        let base = s_a * (n_a as f64 - 1.0);
        coordinates[a] = (0..n_b).map(|k| (base + s_b * (2.0 * k as f64 - (n_b as f64 - 1.0))) / (2.0 * s_a)).collect();
        origin_index[a] = coordinates[a][0];
        out.size[a] = n_b;
        out.spacing[a] = s_b;
        interpolated[a] = true;
    }
    out.origin = g.point(origin_index);
    Ok(AlignedGrid { geometry: out, coordinates, interpolated })
}

/// Up to four sample indices and weights along one axis for one new voxel.
#[derive(Debug, Clone, Copy)]
struct Taps {
    idx: [usize; 4],
    w: [f64; 4],
    len: usize,
}

impl Taps {
    fn one(i: usize) -> Self {
        Taps { idx: [i, 0, 0, 0], w: [1.0, 0.0, 0.0, 0.0], len: 1 }
    }
}

/// The taps of `interpolator` at continuous index `x` of an axis of `n` voxels; beyond the first and
/// last voxel centres the index is clamped (the boundary intensity is carried outwards).
fn taps(x: f64, n: usize, interpolator: Interpolator, interpolated: bool) -> Taps {
    let last = (n - 1) as f64;
    let x = x.clamp(0.0, last);
    if !interpolated {
        return Taps::one(x.round() as usize);
    }
    match interpolator {
        Interpolator::NearestNeighbour => Taps::one(((x + 0.5).floor().min(last)) as usize),
        Interpolator::Linear => {
            if n == 1 {
                return Taps::one(0);
            }
            let i0 = (x.floor() as usize).min(n - 2);
            let t = x - i0 as f64;
            Taps { idx: [i0, i0 + 1, 0, 0], w: [1.0 - t, t, 0.0, 0.0], len: 2 }
        }
        Interpolator::CubicBSpline => {
            let (idx, w) = support(x, n);
            Taps { idx, w, len: 4 }
        }
    }
}

/// `values` (on `source`'s grid, i fastest) sampled at every voxel of `grid`.
fn sample(values: &[f64], source: &Geometry, grid: &AlignedGrid, interpolator: Interpolator) -> Vec<f64> {
    let per_axis: [Vec<Taps>; 3] =
        std::array::from_fn(|a| grid.coordinates[a].iter().map(|&x| taps(x, source.size[a], interpolator, grid.interpolated[a])).collect());
    let mut out = Vec::with_capacity(grid.geometry.len());
    for tk in &per_axis[2] {
        for tj in &per_axis[1] {
            for ti in &per_axis[0] {
                let mut sum = 0.0;
                for c in 0..tk.len {
                    for b in 0..tj.len {
                        let wbc = tj.w[b] * tk.w[c];
                        let row = source.index(0, tj.idx[b], tk.idx[c]);
                        for a in 0..ti.len {
                            sum += ti.w[a] * wbc * values[row + ti.idx[a]];
                        }
                    }
                }
                out.push(sum);
            }
        }
    }
    out
}

/// Interpolated mask values this close below the partial-volume threshold still reach it: IBSI 1 warns
/// that a value that is 0.5 in exact arithmetic may come out as 0.4999... and drop a voxel. With it,
/// the CT phantom's interpolated ROI has IBSI's 45985 voxels (45956 without).
const PARTIAL_VOLUME_SLACK: f64 = 1e-9;

/// `image` interpolated onto its aligned grid with `settings.image`, rounded when asked.
pub fn interpolate_image(image: &Volume<f32>, settings: &Interpolation) -> Result<Volume<f32>, InterpolationError> {
    let grid = align_grid_centres(&image.geometry, settings.spacing)?;
    let values: Vec<f64> = match settings.image {
        Interpolator::CubicBSpline => coefficients_along(image, grid.interpolated),
        _ => image.data.iter().map(|&v| v as f64).collect(),
    };
    let data = sample(&values, &image.geometry, &grid, settings.image)
        .into_iter()
        .map(|v| if settings.round { v.round() as f32 } else { v as f32 })
        .collect();
    Ok(Volume { geometry: grid.geometry, data })
}

/// The ROI of `label` in `mask` interpolated onto the aligned grid: the 0/1 mask is interpolated with
/// `settings.mask` and a new voxel takes `label` where the result reaches `settings.partial_volume`
/// (within `PARTIAL_VOLUME_SLACK`, 1e-9; 0 elsewhere).
pub fn interpolate_mask(mask: &Volume<f32>, label: f64, settings: &Interpolation) -> Result<Volume<f32>, InterpolationError> {
    let threshold = settings.partial_volume;
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(InterpolationError::Threshold(threshold));
    }
    let grid = align_grid_centres(&mask.geometry, settings.spacing)?;
    let binary = Volume { geometry: mask.geometry, data: mask.data.iter().map(|&v| if v as f64 == label { 1.0 } else { 0.0 }).collect() };
    let values: Vec<f64> = match settings.mask {
        Interpolator::CubicBSpline => coefficients_along(&binary, grid.interpolated),
        _ => binary.data.iter().map(|&v| v as f64).collect(),
    };
    let data = sample(&values, &mask.geometry, &grid, settings.mask)
        .into_iter()
        .map(|v| if v >= threshold - PARTIAL_VOLUME_SLACK { label as f32 } else { 0.0 })
        .collect();
    Ok(Volume { geometry: grid.geometry, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_follow_the_ibsi_manual() {
        // IBSI 1, interpolation grid: 4 voxels of 3 mm to 2 mm gives 6 voxels, the first at grid
        // coordinate (3 - 2/3 * 5) / 2 = -1/6, i.e. 0.5 mm before the original origin
        let cases: [([usize; 3], [f64; 3], [Option<f64>; 3], [usize; 3], [f64; 3]); 3] = [
            ([4, 4, 1], [3.0, 3.0, 1.0], [Some(2.0), Some(2.0), None], [6, 6, 1], [-0.5, -0.5, 0.0]),
            // the CT phantom: 204 x 201 x 60 voxels of 0.977 x 0.977 x 3 mm to 2 mm (IBSI: 100 x 99 x 90)
            ([204, 201, 60], [0.977, 0.977, 3.0], [Some(2.0); 3], [100, 99, 90], [0.1655, -0.3, -0.5]),
            ([5, 5, 5], [1.0, 1.0, 1.0], [Some(1.0); 3], [5, 5, 5], [0.0, 0.0, 0.0]),
        ];
        for (size, spacing, new, want_size, want_origin) in cases {
            let g = Geometry::axis_aligned(size, spacing, [0.0; 3]);
            let grid = align_grid_centres(&g, new).unwrap();
            assert_eq!(grid.geometry.size, want_size, "{size:?}");
            for a in 0..3 {
                // origin: x_a + (s_a (n_a - 1) - s_b (n_b - 1)) / 2
                assert!((grid.geometry.origin[a] - want_origin[a]).abs() < 1e-3, "{size:?} axis {a}: {:?}", grid.geometry.origin);
                // centres coincide
                let centre = |n: usize, s: f64, o: f64| o + s * (n as f64 - 1.0) / 2.0;
                let (c0, c1) = (centre(size[a], spacing[a], 0.0), centre(want_size[a], grid.geometry.spacing[a], grid.geometry.origin[a]));
                assert!((c0 - c1).abs() < 1e-9);
            }
        }
        // the 0.5 between two 3 mm slices is exact: the second new slice lies halfway
        let g = Geometry::axis_aligned([1, 1, 60], [1.0, 1.0, 3.0], [0.0; 3]);
        assert_eq!(align_grid_centres(&g, [None, None, Some(2.0)]).unwrap().coordinates[2][1], 0.5);
        assert_eq!(align_grid_centres(&g, [None, None, Some(0.0)]), Err(InterpolationError::Spacing { axis: 2, value: 0.0 }));
    }

    #[test]
    fn linear_reproduces_a_ramp_and_splines_reproduce_a_constant() {
        let g = Geometry::axis_aligned([7, 6, 5], [1.1, 0.9, 2.5], [3.0, -2.0, 1.0]);
        // a linear function of position is reproduced exactly by trilinear interpolation (inside)
        let ramp = |p: [f64; 3]| 2.0 * p[0] - 3.0 * p[1] + 0.5 * p[2] + 7.0;
        let mut data = Vec::new();
        for k in 0..5 {
            for j in 0..6 {
                for i in 0..7 {
                    data.push(ramp(g.point([i as f64, j as f64, k as f64])) as f32);
                }
            }
        }
        let image = Volume { geometry: g, data };
        let linear = Interpolation { round: false, ..Interpolation::trilinear(0.7) };
        let out = interpolate_image(&image, &linear).unwrap();
        let grid = align_grid_centres(&g, linear.spacing).unwrap();
        let last = [6.0, 5.0, 4.0];
        let mut inside = 0;
        for k in 0..out.geometry.size[2] {
            for j in 0..out.geometry.size[1] {
                for i in 0..out.geometry.size[0] {
                    let x = [grid.coordinates[0][i], grid.coordinates[1][j], grid.coordinates[2][k]];
                    if (0..3).all(|a| x[a] >= 0.0 && x[a] <= last[a]) {
                        inside += 1;
                        let want = ramp(out.geometry.point([i as f64, j as f64, k as f64]));
                        assert!((out.at(i, j, k) as f64 - want).abs() < 1e-4, "({i}, {j}, {k})");
                    }
                }
            }
        }
        assert!(inside > 100);
        // a constant stays constant, also beyond the original grid, for every interpolator
        let flat = Volume { geometry: g, data: vec![-7.0; g.len()] };
        for interpolator in [Interpolator::NearestNeighbour, Interpolator::Linear, Interpolator::CubicBSpline] {
            let s = Interpolation { image: interpolator, round: false, ..Interpolation::trilinear(0.45) };
            assert!(interpolate_image(&flat, &s).unwrap().data.iter().all(|&v| (v + 7.0).abs() < 1e-4), "{interpolator:?}");
        }
    }

    #[test]
    fn in_plane_interpolation_keeps_the_slices_and_rounding_rounds() {
        let g = Geometry::axis_aligned([4, 4, 3], [3.0, 3.0, 5.0], [0.0; 3]);
        let data: Vec<f32> = (0..g.len()).map(|n| ((n * 37) % 11) as f32 * 10.0 + 0.3).collect();
        let image = Volume { geometry: g, data };
        for interpolator in [Interpolator::Linear, Interpolator::CubicBSpline] {
            let s = Interpolation { image: interpolator, ..Interpolation::in_plane(3.0) };
            // same in-plane spacing: every voxel is an original one, rounded
            let out = interpolate_image(&image, &s).unwrap();
            assert_eq!(out.geometry, g);
            for (a, b) in out.data.iter().zip(&image.data) {
                assert_eq!(*a, b.round(), "{interpolator:?}");
            }
        }
        let out = interpolate_image(&image, &Interpolation::in_plane(2.0)).unwrap();
        assert_eq!(out.geometry.size, [6, 6, 3]);
        assert_eq!(out.geometry.spacing, [2.0, 2.0, 5.0]);
        assert!(out.data.iter().all(|v| v.fract() == 0.0));
    }

    #[test]
    fn masks_are_interpolated_then_thresholded() {
        // a one-dimensional mask 0 0 1 1 1 0 at 3 mm, to 2 mm: 9 new voxels at original index
        // (5 - 4/3 * 8) / 2 + 2/3 k = -1/6 + 2k/3
        let g = Geometry::axis_aligned([6, 1, 1], [3.0, 1.0, 1.0], [0.0; 3]);
        let mask = Volume { geometry: g, data: vec![0.0, 0.0, 2.0, 2.0, 2.0, 1.0] };
        let s = Interpolation { spacing: [Some(2.0), None, None], ..Interpolation::trilinear(2.0) };
        let out = interpolate_mask(&mask, 2.0, &s).unwrap();
        // positions -1/6, 1/2, 7/6, 11/6, 5/2, 19/6, 23/6, 9/2, 31/6; values 0, 0, 1/6, 5/6, 1, 1, 1, 1/2, 0
        assert_eq!(out.data, vec![0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.0]);
        let near = Interpolation { mask: Interpolator::NearestNeighbour, ..s };
        // nearest: indices 0, 1, 1, 2, 3, 3, 4, 5, 5
        assert_eq!(interpolate_mask(&mask, 2.0, &near).unwrap().data, vec![0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0, 0.0]);
        assert_eq!(interpolate_mask(&mask, 2.0, &Interpolation { partial_volume: 0.0, ..s }), Err(InterpolationError::Threshold(0.0)));
    }
}
