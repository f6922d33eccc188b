//! The region of interest: the mask's bounding box cut out of the image, its original intensities and
//! its gray levels after discretisation, as pyradiomics prepares them.
//!
//! Discretisation follows pyradiomics' `binImage`: with a fixed bin width W the edges are
//! `lowBound + k W` from `lowBound = min - (min mod W)` (Python's modulo), and a voxel's level is the
//! number of edges at or below its value (numpy's `digitize`); with a fixed bin count N the edges are
//! numpy's `histogram` edges over [min, max] with the last one raised by 1. Only voxels inside the
//! mask enter, and levels start at 1.

use tacefusion_imaging::{Volume, is_label};

use crate::error::RadiomicsError;

/// How intensities become gray levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Discretization {
    /// Fixed bin width (pyradiomics `binWidth`, default 25).
    BinWidth(f64),
    /// Fixed number of bins (pyradiomics `binCount`).
    BinCount(u32),
    /// Fixed bin width with bins counted from a set lower bound (IBSI's *fixed bin size* with the
    /// re-segmentation range's lower bound as minimum: level = floor((x - lower_bound) / width) + 1),
    /// where pyradiomics starts from `min - min mod width`. Intensities below the bound (none after
    /// range re-segmentation) extend the bins downwards by whole widths.
    BinWidthFrom {
        /// The bin width.
        width: f64,
        /// The lower edge of the first bin.
        lower_bound: f64,
    },
}

/// The mask's bounding box with what the feature families need.
#[derive(Debug, Clone)]
pub struct Roi {
    /// Voxels of the bounding box along each axis (first axis fastest in memory).
    pub size: [usize; 3],
    /// Voxel spacing, mm.
    pub spacing: [f64; 3],
    /// Inside the mask, per bounding-box voxel.
    pub mask: Vec<bool>,
    /// Original intensity per bounding-box voxel.
    pub image: Vec<f64>,
    /// Gray level per bounding-box voxel: 1.. inside the mask, 0 outside.
    pub levels: Vec<u32>,
    /// Highest gray level.
    pub n_levels: u32,
    /// Bin edges used for discretisation.
    pub bin_edges: Vec<f64>,
    /// Position of the bounding box's first voxel in the full image.
    pub offset: [usize; 3],
}

impl Roi {
    /// Cuts the ROI of `label` out of `image` and discretises it.
    pub fn new(image: &Volume<f32>, mask: &Volume<f32>, label: f64, discretization: Discretization) -> Result<Self, RadiomicsError> {
        Self::with_transform(image, mask, label, discretization, |v| v)
    }

    /// As [`Roi::new`], with every intensity passed through `transform` (in f64) first, as
    /// normalisation does.
    pub fn with_transform(
        image: &Volume<f32>,
        mask: &Volume<f32>,
        label: f64,
        discretization: Discretization,
        transform: impl Fn(f64) -> f64,
    ) -> Result<Self, RadiomicsError> {
        if let Some(difference) = image.geometry.difference(&mask.geometry, 1e-3) {
            return Err(RadiomicsError::GridMismatch { difference });
        }
        let g = &image.geometry;
        let (mut lo, mut hi) = ([usize::MAX; 3], [0usize; 3]);
        let mut any = false;
        for k in 0..g.size[2] {
            for j in 0..g.size[1] {
                for i in 0..g.size[0] {
                    if is_label(mask.data[g.index(i, j, k)], label) {
                        any = true;
                        for (a, v) in [i, j, k].into_iter().enumerate() {
                            lo[a] = lo[a].min(v);
                            hi[a] = hi[a].max(v);
                        }
                    }
                }
            }
        }
        if !any {
            return Err(RadiomicsError::EmptyMask { label });
        }
        let size = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
        let n = size.iter().product();
        let (mut m, mut values) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let idx = g.index(i, j, k);
                    let inside = is_label(mask.data[idx], label);
                    let v = transform(image.data[idx] as f64);
                    if inside && !v.is_finite() {
                        return Err(RadiomicsError::NonFiniteVoxel { i, j, k });
                    }
                    m.push(inside);
                    values.push(v);
                }
            }
        }
        if m.iter().filter(|&&b| b).count() < 2 {
            return Err(RadiomicsError::TooSmall { detail: "a single voxel".into() });
        }
        let mut roi =
            Roi { size, spacing: g.spacing, mask: m, image: values, levels: vec![0; n], n_levels: 0, bin_edges: Vec::new(), offset: lo };
        roi.discretize(discretization)?;
        Ok(roi)
    }

    /// Recomputes the gray levels with another discretisation.
    pub fn discretize(&mut self, discretization: Discretization) -> Result<(), RadiomicsError> {
        let inside: Vec<f64> = self.values().collect();
        let edges = bin_edges(&inside, discretization)?;
        for (idx, level) in self.levels.iter_mut().enumerate() {
            *level = if self.mask[idx] { edges.partition_point(|&e| e <= self.image[idx]) as u32 } else { 0 };
        }
        self.n_levels = self.levels.iter().copied().max().unwrap_or(0);
        self.bin_edges = edges;
        Ok(())
    }

    /// The same region and mask over another image on the same grid (a filter response), discretised
    /// anew.
    pub fn with_values(&self, image: &Volume<f64>, discretization: Discretization) -> Result<Self, RadiomicsError> {
        let g = &image.geometry;
        self.with_values_at(|a, b, c| image.data[g.index(a, b, c)], discretization)
    }

    /// As [`Roi::with_values`], from a response computed over the bounding box only (its grid is the
    /// box's: `image.geometry.size == self.size`).
    pub fn with_box_values(&self, image: &Volume<f64>, discretization: Discretization) -> Result<Self, RadiomicsError> {
        assert_eq!(image.geometry.size, self.size, "a response over the ROI's bounding box");
        let o = self.offset;
        self.with_values_at(|a, b, c| image.data[self.index(a - o[0], b - o[1], c - o[2])], discretization)
    }

    /// The ROI with the value at full-image voxel (a, b, c) given by `value`.
    fn with_values_at(&self, value: impl Fn(usize, usize, usize) -> f64, discretization: Discretization) -> Result<Self, RadiomicsError> {
        let mut roi = self.clone();
        for k in 0..self.size[2] {
            for j in 0..self.size[1] {
                for i in 0..self.size[0] {
                    let (a, b, c) = (i + self.offset[0], j + self.offset[1], k + self.offset[2]);
                    let v = value(a, b, c);
                    let idx = self.index(i, j, k);
                    if self.mask[idx] && !v.is_finite() {
                        return Err(RadiomicsError::NonFiniteVoxel { i: a, j: b, k: c });
                    }
                    roi.image[idx] = v;
                }
            }
        }
        roi.discretize(discretization)?;
        Ok(roi)
    }

    /// Keeps only the mask voxels whose intensity lies in [low, high] and discretises again
    /// (pyradiomics' re-segmentation); an error if none or one is left.
    pub fn resegment(&mut self, low: f64, high: f64, discretization: Discretization) -> Result<(), RadiomicsError> {
        for (m, &v) in self.mask.iter_mut().zip(&self.image) {
            if *m && !(v >= low && v <= high) {
                *m = false;
            }
        }
        if self.n_voxels() < 2 {
            return Err(RadiomicsError::TooSmall {
                detail: format!("{} voxels left after re-segmentation to [{low}, {high}]", self.n_voxels()),
            });
        }
        self.discretize(discretization)
    }

    /// The first and last box voxel inside the mask along each axis; None for an empty mask.
    fn extent(&self) -> Option<[(usize, usize); 3]> {
        let mut extent = [(usize::MAX, 0); 3];
        let mut any = false;
        for k in 0..self.size[2] {
            for j in 0..self.size[1] {
                for i in 0..self.size[0] {
                    if self.mask[self.index(i, j, k)] {
                        any = true;
                        for (e, v) in extent.iter_mut().zip([i, j, k]) {
                            *e = (e.0.min(v), e.1.max(v));
                        }
                    }
                }
            }
        }
        any.then_some(extent)
    }

    /// Axes along which the mask's voxels span more than one voxel.
    pub fn spanned_axes(&self) -> usize {
        self.extent().map_or(0, |e| e.iter().filter(|(lo, hi)| hi > lo).count())
    }

    /// This ROI with its mask cut to the bounding box of `other`'s mask (both on the same box):
    /// what pyradiomics computes shape on after a re-segmentation that leaves the shape alone.
    pub fn within_box_of(&self, other: &Roi) -> Roi {
        let mut out = self.clone();
        let Some(extent) = other.extent() else { return out };
        for k in 0..self.size[2] {
            for j in 0..self.size[1] {
                for i in 0..self.size[0] {
                    let inside = [i, j, k].iter().zip(&extent).all(|(&v, &(lo, hi))| (lo..=hi).contains(&v));
                    if !inside {
                        let at = self.index(i, j, k);
                        out.mask[at] = false;
                        out.levels[at] = 0;
                    }
                }
            }
        }
        out
    }

    /// Linear index of bounding-box voxel (i, j, k).
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.size[0] * (j + self.size[1] * k)
    }

    /// Original intensities inside the mask, in memory order.
    pub fn values(&self) -> impl Iterator<Item = f64> + '_ {
        self.image.iter().zip(&self.mask).filter(|(_, m)| **m).map(|(v, _)| *v)
    }

    /// Gray levels inside the mask, in memory order.
    pub fn gray_levels(&self) -> impl Iterator<Item = u32> + '_ {
        self.levels.iter().zip(&self.mask).filter(|(_, m)| **m).map(|(v, _)| *v)
    }

    /// Voxels inside the mask.
    pub fn n_voxels(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }

    /// Volume of one voxel, mm³.
    pub fn voxel_volume(&self) -> f64 {
        self.spacing.iter().product()
    }
}

/// Most gray levels a discretisation may make: the texture matrices grow with their square.
pub const MAX_BINS: usize = 100_000;

/// Bin edges as pyradiomics' `getBinEdges` makes them.
pub fn bin_edges(values: &[f64], discretization: Discretization) -> Result<Vec<f64>, RadiomicsError> {
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    match discretization {
        Discretization::BinWidth(w) | Discretization::BinWidthFrom { width: w, .. } => {
            if !(w > 0.0 && w.is_finite()) {
                return Err(RadiomicsError::Setting { name: "binWidth", detail: format!("{w} is not a positive number") });
            }
            let low = match discretization {
                Discretization::BinWidthFrom { lower_bound, .. } if lower_bound.is_finite() => {
                    lower_bound - ((lower_bound - min) / w).ceil().max(0.0) * w
                }
                Discretization::BinWidthFrom { lower_bound, .. } => {
                    return Err(RadiomicsError::Setting { name: "binWidth", detail: format!("lower bound {lower_bound} is not a number") });
                }
                _ => min - min.rem_euclid(w),
            };
            let high = max + 2.0 * w;
            // numpy.arange(low, high, w): ceil((high - low) / w) values low + k delta, delta being
            // (low + w) - low as numpy takes it from its first two values (it differs from w by an
            // ulp for widths like 0.1, which moves values lying on an edge)
            let count = ((high - low) / w).ceil();
            if count.is_nan() || count > MAX_BINS as f64 {
                return Err(RadiomicsError::Setting {
                    name: "binWidth",
                    detail: format!("{w} gives {count} bins over [{min}, {max}], more than {MAX_BINS}"),
                });
            }
            let count = count as usize;
            let delta = (low + w) - low;
            let mut edges: Vec<f64> = (0..count).map(|k| low + k as f64 * delta).collect();
            if edges.len() == 1 {
                edges = vec![edges[0] - 0.5, edges[0] + 0.5];
            }
            Ok(edges)
        }
        Discretization::BinCount(n) => {
            if n == 0 || n as usize > MAX_BINS {
                return Err(RadiomicsError::Setting { name: "binCount", detail: format!("{n} bins; 1 to {MAX_BINS}") });
            }
            let (lo, hi) = if min == max { (min - 0.5, max + 0.5) } else { (min, max) };
            let step = (hi - lo) / n as f64;
            let mut edges: Vec<f64> = (0..=n).map(|k| lo + k as f64 * step).collect();
            edges[n as usize] = hi + 1.0;
            Ok(edges)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_width_edges_follow_pyradiomics() {
        // pyradiomics' documented example: values 54..166, width 25 -> edges 50, 75, ..., 175 (and 200)
        let edges = bin_edges(&[54.0, 100.0, 166.0], Discretization::BinWidth(25.0)).unwrap();
        assert_eq!(&edges[..6], &[50.0, 75.0, 100.0, 125.0, 150.0, 175.0]);
        let level = |v: f64| edges.partition_point(|&e| e <= v);
        assert_eq!((level(54.0), level(100.0), level(166.0)), (1, 3, 5));
        // negative values: Python's modulo keeps the low bound at or below the minimum
        let edges = bin_edges(&[-1001.0, -10.0], Discretization::BinWidth(25.0)).unwrap();
        assert_eq!(edges[0], -1025.0);
        // a flat region still gets two edges: one bin holds it
        assert_eq!(bin_edges(&[50.0, 50.0], Discretization::BinWidth(25.0)).unwrap(), vec![50.0, 75.0]);
    }

    #[test]
    fn bin_width_from_a_bound_counts_from_the_bound() {
        // IBSI fixed bin size from -1000 HU: -939 is in bin floor(61 / 25) + 1 = 3 (pyradiomics: 1)
        let from = Discretization::BinWidthFrom { width: 25.0, lower_bound: -1000.0 };
        let cases: [(&[f64], Discretization, f64, &[(f64, usize)]); 3] = [
            (&[-939.0, 393.0], from, -1000.0, &[(-939.0, 3), (393.0, 56), (-1000.0, 1), (-975.0, 2)]),
            (&[-939.0, 393.0], Discretization::BinWidth(25.0), -950.0, &[(-939.0, 1), (393.0, 54)]),
            // below the bound: whole bins added below it
            (&[-1010.0, 0.0], from, -1025.0, &[(-1010.0, 1), (-1000.0, 2)]),
        ];
        for (values, d, first, levels) in cases {
            let edges = bin_edges(values, d).unwrap();
            assert_eq!(edges[0], first, "{d:?}");
            for &(v, want) in levels {
                assert_eq!(edges.partition_point(|&e| e <= v), want, "{d:?} {v}");
            }
        }
    }

    #[test]
    fn bin_count_puts_the_maximum_in_the_last_bin() {
        let edges = bin_edges(&[0.0, 10.0, 5.0], Discretization::BinCount(4)).unwrap();
        let level = |v: f64| edges.partition_point(|&e| e <= v);
        assert_eq!((level(0.0), level(5.0), level(10.0)), (1, 3, 4));
    }
}
