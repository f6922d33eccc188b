//! IBSI chapter 2 (arXiv 2006.05470), phase 2: a filter's response map over the whole image, then the
//! 18 intensity statistics of the response inside the re-segmented ROI, with IBSI's tags.
//!
//! The filters are those of the phase-2 configurations (none, mean, LoG, Laws, Gabor, Daubechies and
//! Simoncelli wavelets). Those not implemented yet answer with an error naming them, so a caller (and
//! `tests/ibsi2.rs`) knows exactly which response maps exist.

use tacefusion_imaging::Volume;

use crate::convolution::{self, Dimensionality, Padding};
use crate::error::RadiomicsError;
use crate::extract::{FeatureClass, ibsi_tag};
use crate::roi::Roi;

/// A filter of IBSI 2, with the parameters its phase-2 configurations set.
#[derive(Debug, Clone, PartialEq)]
pub enum Ibsi2Filter {
    /// the image itself
    None,
    /// mean over a cube (square in 2D) of `support` voxels a side
    Mean {
        /// voxels a side, odd
        support: usize,
    },
    /// Laplacian of Gaussian, scale `sigma_mm`, kernel truncated at `truncate` sigmas
    LaplacianOfGaussian {
        /// Gaussian scale, mm
        sigma_mm: f64,
        /// kernel half-width in sigmas
        truncate: f64,
    },
    /// Laws kernel (e.g. `L5E5E5`), energy map over a Chebyshev distance `delta`, rotation invariant
    /// with max pooling
    Laws {
        /// 1D kernels along the axes, e.g. `L5E5E5`
        kernel: &'static str,
        /// energy window half-width, voxels
        delta: usize,
    },
    /// Gabor modulus, averaged over orientations every `theta_step` radians (and over the three
    /// orthogonal planes in 3D)
    Gabor {
        /// Gaussian scale, mm
        sigma_mm: f64,
        /// wavelength, mm
        lambda_mm: f64,
        /// spatial aspect ratio
        gamma: f64,
        /// orientation step, radians
        theta_step: f64,
    },
    /// separable (undecimated) wavelet band, rotation invariant by averaging
    SeparableWavelet {
        /// family, e.g. `db3`
        family: &'static str,
        /// band, e.g. `LLH`
        band: &'static str,
        /// decomposition level
        level: u32,
    },
    /// Simoncelli (non-separable) wavelet band-pass map
    Simoncelli {
        /// decomposition level
        level: u32,
    },
}

/// The response map of `filter` over the whole `image` (f64, same grid).
pub fn response_map(
    image: &Volume<f64>,
    filter: &Ibsi2Filter,
    dims: Dimensionality,
    padding: Padding,
) -> Result<Volume<f64>, RadiomicsError> {
    match filter {
        Ibsi2Filter::None => Ok(image.clone()),
        Ibsi2Filter::Mean { support } => {
            if support.is_multiple_of(2) {
                return Err(RadiomicsError::Setting { name: "mean filter support", detail: format!("{support} is even") });
            }
            Ok(convolution::mean_filter(image, *support, dims, padding))
        }
        Ibsi2Filter::LaplacianOfGaussian { sigma_mm, truncate } => {
            if !(*sigma_mm > 0.0 && *truncate > 0.0) {
                return Err(RadiomicsError::Setting { name: "LoG", detail: format!("sigma {sigma_mm} mm, truncation {truncate}") });
            }
            Ok(convolution::laplacian_of_gaussian(image, *sigma_mm, *truncate, dims, padding))
        }
        Ibsi2Filter::Laws { kernel, delta } => crate::laws::energy(image, kernel, *delta, dims, padding),
        Ibsi2Filter::SeparableWavelet { family, band, level } => {
            crate::ibsi_wavelet::separable_wavelet(image, family, band, *level, dims, padding, true)
        }
        other => Err(RadiomicsError::Setting { name: "IBSI 2 filter", detail: format!("{other:?} is not implemented") }),
    }
}

/// Linear-interpolation percentile of sorted values (numpy's default, as the firstorder class).
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q / 100.0;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The 18 intensity statistics of IBSI (chapter 1 section 3.3, the set IBSI 2 phase 2 reports) of the
/// ROI's intensities, by IBSI tag: the 15 that pyradiomics' firstorder class computes (kurtosis made
/// excess kurtosis), then median absolute deviation (mean distance to the median), coefficient of
/// variation (population standard deviation over the mean) and quartile coefficient of dispersion
/// ((P75 - P25) / (P75 + P25)).
pub fn intensity_statistics(roi: &Roi) -> Vec<(&'static str, f64)> {
    let mut out: Vec<(&'static str, f64)> = crate::firstorder::features(roi, 0.0)
        .into_iter()
        .filter_map(|(name, value)| {
            let tag = ibsi_tag(FeatureClass::FirstOrder, name)?;
            match tag {
                "ih_entropy" | "ih_uniformity" => None,
                "stat_kurt" => Some((tag, value - 3.0)),
                _ => Some((tag, value)),
            }
        })
        .collect();
    let mut x: Vec<f64> = roi.values().collect();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let sd = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let median = percentile(&x, 50.0);
    let (p25, p75) = (percentile(&x, 25.0), percentile(&x, 75.0));
    out.push(("stat_medad", x.iter().map(|v| (v - median).abs()).sum::<f64>() / n));
    out.push(("stat_cov", sd / mean));
    out.push(("stat_qcod", (p75 - p25) / (p75 + p25)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roi::Discretization;
    use tacefusion_imaging::Geometry;

    #[test]
    fn statistics_of_a_small_sample_follow_their_definitions() {
        // values 1, 2, 3, 4, 10 (a 5 x 1 x 1 image, all inside)
        let geometry = Geometry::axis_aligned([5, 1, 1], [1.0; 3], [0.0; 3]);
        let image = Volume { geometry, data: vec![1.0f32, 2.0, 3.0, 4.0, 10.0] };
        let mask = Volume { geometry, data: vec![1.0f32; 5] };
        let roi = Roi::new(&image, &mask, 1.0, Discretization::BinWidth(25.0)).unwrap();
        let stats = intensity_statistics(&roi);
        let get = |tag: &str| stats.iter().find(|(t, _)| *t == tag).unwrap().1;
        assert_eq!(stats.len(), 18);
        let (mean, var) = (4.0, (9.0 + 4.0 + 1.0 + 0.0 + 36.0) / 5.0);
        let cases = [
            ("stat_mean", mean),
            ("stat_var", var),
            ("stat_median", 3.0),
            ("stat_medad", (2.0 + 1.0 + 0.0 + 1.0 + 7.0) / 5.0),
            ("stat_cov", f64::sqrt(var) / mean),
            // numpy percentiles 25 and 75 of 1, 2, 3, 4, 10: 2 and 4
            ("stat_qcod", (4.0 - 2.0) / (4.0 + 2.0)),
            ("stat_iqr", 2.0),
            ("stat_energy", 1.0 + 4.0 + 9.0 + 16.0 + 100.0),
            ("stat_kurt", (81.0 + 16.0 + 1.0 + 0.0 + 1296.0) / 5.0 / (var * var) - 3.0),
        ];
        for (tag, want) in cases {
            assert!((get(tag) - want).abs() < 1e-12, "{tag}: {} vs {want}", get(tag));
        }
    }

    #[test]
    fn unimplemented_filters_say_so() {
        let image = Volume { geometry: Geometry::axis_aligned([3, 3, 3], [1.0; 3], [0.0; 3]), data: vec![0.0; 27] };
        let err = response_map(&image, &Ibsi2Filter::Simoncelli { level: 1 }, Dimensionality::Volumetric, Padding::Mirror).unwrap_err();
        assert!(err.to_string().contains("not implemented"), "{err}");
        assert!(response_map(&image, &Ibsi2Filter::Mean { support: 4 }, Dimensionality::Volumetric, Padding::Mirror).is_err());
    }
}
