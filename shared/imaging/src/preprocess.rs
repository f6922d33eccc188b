//! The deep-learning input of one phase: a fixed-size, tumour-centred box resampled to isotropic
//! voxels, its HU clipped to a window and scaled to [0, 1], with the tumour mask on the same grid.
//!
//! The box is centred on the centre of the tumour's bounding box (physical coordinates) and its axes
//! are the patient's (LPS: i to the left, j posterior, k superior) whatever the file's voxel order,
//! so the same scan stored as DICOM or as a NIfTI with flipped or permuted axes gives the same crop.
//! The image is interpolated by cubic B-spline (as the radiomic resampling), the mask by nearest
//! neighbour; where the box reaches beyond the scan it holds air (-1024 HU) before clipping, so
//! padding reads as the window's low end, never as water.

use crate::geometry::{Geometry, Volume, is_label};
use crate::resample::{PixelCast, bounding_box, bspline_resample_filled, nearest_resample};

/// Intensity of voxels the scan does not cover, HU (air).
pub const OUTSIDE_HU: f64 = -1024.0;

/// How a tumour crop is made (the study's `[preprocess]` settings).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropSpec {
    /// Isotropic voxel spacing of the crop, mm.
    pub spacing_mm: f64,
    /// HU window [low, high]: values are clipped to it, then scaled so that low -> 0 and high -> 1.
    pub hu_window: [f64; 2],
    /// Voxels of the crop along i, j, k.
    pub size: [usize; 3],
}

/// Why a crop could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CropError {
    /// The mask has no voxel with the label.
    #[error("the mask has no voxel with label {label}")]
    EmptyMask {
        /// The label asked for.
        label: f64,
    },
    /// Image and mask are not on the same grid.
    #[error("image and mask are on different grids (image vs mask: {difference})")]
    GridMismatch {
        /// What differs ([`Geometry::difference`]).
        difference: String,
    },
    /// A setting is unusable.
    #[error("crop setting {name}: {detail}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// A tumour-centred crop of one phase.
#[derive(Debug, Clone, PartialEq)]
pub struct TumourCrop {
    /// Intensities clipped to the HU window and scaled to [0, 1].
    pub image: Volume<f32>,
    /// 1 inside the tumour, 0 elsewhere, on the same grid.
    pub mask: Volume<f32>,
    /// Centre of the crop (the tumour's bounding-box centre), LPS mm.
    pub centre_mm: [f64; 3],
    /// Share of the tumour's volume inside the crop (1 when the box holds the whole tumour): a tumour
    /// larger than the box is cut, which the caller reports.
    pub tumour_inside: f64,
}

/// Clips `v` (HU) to `window` and scales it to [0, 1].
pub fn window_hu(v: f64, window: [f64; 2]) -> f64 {
    (v.clamp(window[0], window[1]) - window[0]) / (window[1] - window[0])
}

/// The tumour-centred crop of `image` around the voxels of `mask` equal to `label`.
pub fn tumour_crop(image: &Volume<f32>, mask: &Volume<f32>, label: f64, spec: &CropSpec) -> Result<TumourCrop, CropError> {
    if !(spec.spacing_mm.is_finite() && spec.spacing_mm > 0.0) {
        return Err(CropError::Setting { name: "spacing_mm", detail: format!("{} must be > 0", spec.spacing_mm) });
    }
    let [low, high] = spec.hu_window;
    if low.is_nan() || high.is_nan() || low >= high {
        return Err(CropError::Setting { name: "hu_window", detail: format!("[{low}, {high}] must have low < high") });
    }
    if spec.size.contains(&0) {
        return Err(CropError::Setting { name: "crop_size", detail: format!("{:?} has an empty axis", spec.size) });
    }
    if let Some(difference) = image.geometry.difference(&mask.geometry, 1e-3) {
        return Err(CropError::GridMismatch { difference });
    }
    let (lo, size) = bounding_box(mask, label).ok_or(CropError::EmptyMask { label })?;
    let g = &mask.geometry;
    let centre_mm = g.point(std::array::from_fn(|a| lo[a] as f64 + (size[a] as f64 - 1.0) / 2.0));
    let spacing = [spec.spacing_mm; 3];
    // origin: the crop's centre voxel (fractional for even sizes) sits on centre_mm
    let half: [f64; 3] = std::array::from_fn(|a| (spec.size[a] as f64 - 1.0) / 2.0);
    let origin: [f64; 3] = std::array::from_fn(|a| centre_mm[a] - spacing[a] * half[a]);
    let grid = Geometry::axis_aligned(spec.size, spacing, origin);
    let resampled = bspline_resample_filled(image, &grid, PixelCast::Float, OUTSIDE_HU);
    let image = Volume { geometry: grid, data: resampled.data.iter().map(|&v| window_hu(v as f64, spec.hu_window) as f32).collect() };
    let labels = nearest_resample(mask, &grid);
    let mask_out = Volume { geometry: grid, data: labels.data.iter().map(|&v| if is_label(v, label) { 1.0 } else { 0.0 }).collect() };
    let tumour_mm3 = mask.data.iter().filter(|&&v| is_label(v, label)).count() as f64 * g.spacing.iter().product::<f64>();
    let inside_mm3 = mask_out.data.iter().filter(|&&v| v == 1.0).count() as f64 * spacing.iter().product::<f64>();
    Ok(TumourCrop { image, mask: mask_out, centre_mm, tumour_inside: (inside_mm3 / tumour_mm3).min(1.0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 20 x 20 x 10 scan at 1 x 1 x 2 mm whose HU is 10 * i (a ramp along i), tumour = a box.
    fn scan() -> (Volume<f32>, Volume<f32>) {
        let g = Geometry::axis_aligned([20, 20, 10], [1.0, 1.0, 2.0], [-5.0, 3.0, 100.0]);
        let mut image = Volume { geometry: g, data: vec![0.0; g.len()] };
        let mut mask = Volume { geometry: g, data: vec![0.0; g.len()] };
        for k in 0..10 {
            for j in 0..20 {
                for i in 0..20 {
                    let n = g.index(i, j, k);
                    image.data[n] = 10.0 * i as f32;
                    if (8..12).contains(&i) && (6..10).contains(&j) && (4..6).contains(&k) {
                        mask.data[n] = 2.0;
                    }
                }
            }
        }
        (image, mask)
    }

    #[test]
    fn the_crop_is_centred_on_the_tumour_and_windowed() {
        let (image, mask) = scan();
        let spec = CropSpec { spacing_mm: 1.0, hu_window: [0.0, 200.0], size: [6, 6, 6] };
        let crop = tumour_crop(&image, &mask, 2.0, &spec).unwrap();
        // bounding box centre: i 9.5, j 7.5, k 4.5 -> (-5 + 9.5, 3 + 7.5, 100 + 9) mm
        assert_eq!(crop.centre_mm, [4.5, 10.5, 109.0]);
        let c = crop.image.geometry.point([2.5; 3]);
        assert!((0..3).all(|a| (c[a] - crop.centre_mm[a]).abs() < 1e-12), "{c:?}");
        // the ramp is linear, which the cubic B-spline reproduces away from the borders: HU = 10 * i_scan
        for i in 0..6 {
            let i_scan = 9.5 - 2.5 + i as f64;
            let want = window_hu(10.0 * i_scan, spec.hu_window);
            assert!((crop.image.at(i, 3, 3) as f64 - want).abs() < 1e-4, "i {i}: {} vs {want}", crop.image.at(i, 3, 3));
        }
        assert_eq!(crop.tumour_inside, 1.0);
        assert!(crop.mask.data.iter().all(|&v| v == 0.0 || v == 1.0));
        assert_eq!(crop.mask.data.iter().filter(|&&v| v == 1.0).count(), 4 * 4 * 4);
    }

    /// The scan of [`scan`] stored with its j axis reversed and i and k swapped (as another
    /// converter could write it): the same voxels at the same places in the patient.
    fn scan_stored_otherwise() -> (Volume<f32>, Volume<f32>) {
        let (image, mask) = scan();
        let g = image.geometry;
        // new axis a = old axis k, new b = old j reversed, new c = old i
        let size = [g.size[2], g.size[1], g.size[0]];
        let origin = g.point([0.0, (g.size[1] - 1) as f64, 0.0]);
        let direction = [[0.0, 0.0, 1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]];
        let h = Geometry { size, spacing: [g.spacing[2], g.spacing[1], g.spacing[0]], origin, direction };
        let moved = |v: &Volume<f32>| Volume::from_fn(h, |a, b, c| v.at(c, g.size[1] - 1 - b, a));
        let (image2, mask2) = (moved(&image), moved(&mask));
        // the same voxel is at the same place
        let (p, q) = (g.point([3.0, 5.0, 7.0]), h.point([7.0, (g.size[1] - 1 - 5) as f64, 3.0]));
        assert!((0..3).all(|r| (p[r] - q[r]).abs() < 1e-12), "{p:?} vs {q:?}");
        assert_eq!(image.at(3, 5, 7), image2.at(7, g.size[1] - 1 - 5, 3));
        (image2, mask2)
    }

    #[test]
    fn the_crop_has_the_patients_axes_whatever_the_files_voxel_order() {
        let (image, mask) = scan();
        let (image2, mask2) = scan_stored_otherwise();
        let spec = CropSpec { spacing_mm: 1.5, hu_window: [0.0, 200.0], size: [8, 6, 5] };
        let (a, b) = (tumour_crop(&image, &mask, 2.0, &spec).unwrap(), tumour_crop(&image2, &mask2, 2.0, &spec).unwrap());
        assert_eq!(a.image.geometry, b.image.geometry);
        assert_eq!(a.image.geometry.direction, Geometry::axis_aligned([1; 3], [1.0; 3], [0.0; 3]).direction);
        for (n, (x, y)) in a.image.data.iter().zip(&b.image.data).enumerate() {
            assert!((x - y).abs() < 1e-5, "voxel {n}: {x} vs {y}");
        }
        assert_eq!(a.mask.data, b.mask.data);
    }

    #[test]
    fn beyond_the_scan_is_air_and_a_large_tumour_is_reported_cut() {
        let (image, mask) = scan();
        // 40 mm wide boxes at 2 mm stick out of the 20 mm scan; the 4 x 4 x 4 mm tumour's box is cut by a 2 mm box
        let wide = tumour_crop(&image, &mask, 2.0, &CropSpec { spacing_mm: 2.0, hu_window: [-100.0, 300.0], size: [20, 20, 20] }).unwrap();
        assert_eq!(wide.image.at(0, 10, 10), 0.0, "air clipped to the window's low end");
        assert_eq!(wide.tumour_inside, 1.0);
        let small = tumour_crop(&image, &mask, 2.0, &CropSpec { spacing_mm: 1.0, hu_window: [-100.0, 300.0], size: [2, 2, 2] }).unwrap();
        assert!((small.tumour_inside - 8.0 / 64.0).abs() < 1e-12, "{}", small.tumour_inside);
    }

    #[test]
    fn bad_inputs_are_named() {
        let (image, mask) = scan();
        let ok = CropSpec { spacing_mm: 1.0, hu_window: [0.0, 1.0], size: [4, 4, 4] };
        let cases: [(CropSpec, f64, &str); 4] = [
            (ok, 7.0, "label 7"),
            (CropSpec { spacing_mm: 0.0, ..ok }, 2.0, "spacing_mm"),
            (CropSpec { hu_window: [1.0, 1.0], ..ok }, 2.0, "hu_window"),
            (CropSpec { size: [4, 0, 4], ..ok }, 2.0, "crop_size"),
        ];
        for (spec, label, want) in cases {
            let e = tumour_crop(&image, &mask, label, &spec).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
        let other = Volume { geometry: Geometry::axis_aligned([20, 20, 10], [1.0; 3], [0.0; 3]), data: mask.data.clone() };
        assert!(matches!(tumour_crop(&image, &other, 2.0, &ok), Err(CropError::GridMismatch { .. })));
    }
}
