//! Feature extraction of one image and mask: the ROI is cut and discretised once, each enabled
//! feature class runs on it (in parallel), and every value is named as pyradiomics names it
//! (`original_glcm_Contrast`), with the IBSI tag where IBSI defines the same feature.

use rayon::prelude::*;
use serde::Serialize;
use tacefusion_imaging::Volume;
use tacefusion_imaging::resample::{PixelCast, bounding_box, bspline_resample, nearest_resample, pyradiomics_grid, same_spacing};

use crate::error::RadiomicsError;
use crate::filters::{ImageType, apply_in_box};
use crate::neighbourhood::Neighbourhood;
use crate::roi::Roi;

mod settings;
pub use settings::{FeatureClass, Normalize, Resegment, ResegmentMode, Settings};

/// z-score transform of the whole image as SimpleITK's `Normalize` computes it (mean and the
/// standard deviation with n - 1), then outlier clipping and scaling.
fn normalization(image: &Volume<f32>, n: Normalize) -> impl Fn(f64) -> f64 {
    let count = image.data.len() as f64;
    let mean = image.data.iter().map(|&v| v as f64).sum::<f64>() / count;
    let var = image.data.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / (count - 1.0);
    let sd = var.sqrt();
    move |v| {
        let z = (v - mean) / sd;
        let z = match n.outliers {
            Some(o) => z.clamp(-o, o),
            None => z,
        };
        z * n.scale
    }
}

/// One feature value with its names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    /// pyradiomics' full name, e.g. `original_glcm_Contrast`.
    pub name: String,
    /// IBSI tag, if IBSI defines the same feature.
    pub ibsi: Option<&'static str>,
    /// The value.
    pub value: f64,
}

/// Computes one class on a prepared ROI.
pub fn class_features(class: FeatureClass, roi: &Roi, settings: &Settings) -> Vec<(&'static str, f64)> {
    let nb = Neighbourhood::from(settings.force2d);
    match class {
        FeatureClass::Shape => crate::shape::features(roi),
        FeatureClass::FirstOrder => crate::firstorder::features(roi, settings.voxel_array_shift),
        FeatureClass::Glcm if settings.merge_directions => crate::glcm::features_merged(roi, nb),
        FeatureClass::Glcm => crate::glcm::features_in(roi, nb),
        FeatureClass::Glrlm if settings.merge_directions => crate::glrlm::features_merged(roi, nb),
        FeatureClass::Gldm => crate::gldm::features_in(roi, nb),
        FeatureClass::Glrlm => crate::glrlm::features_in(roi, nb),
        FeatureClass::Glszm => crate::glszm::features_in(roi, nb),
        FeatureClass::Ngtdm => crate::ngtdm::features_in(roi, nb),
    }
}

/// The pixel type pyradiomics would store the resampled image in: an image whose values are all whole
/// numbers is taken to be an integer image (16-bit where the values fit, 32-bit otherwise; SimpleITK
/// truncates interpolated values into it), any other image a floating-point one.
fn pixel_cast(image: &Volume<f32>) -> PixelCast {
    if !image.data.iter().all(|v| v.fract() == 0.0) {
        return PixelCast::Float;
    }
    let fits = |lo: f64, hi: f64| image.data.iter().all(|&v| (v as f64) >= lo && (v as f64) <= hi);
    if fits(i16::MIN as f64, i16::MAX as f64) {
        PixelCast::INT16
    } else if fits(i32::MIN as f64, i32::MAX as f64) {
        PixelCast::Truncate { min: i32::MIN as f64, max: i32::MAX as f64 }
    } else {
        PixelCast::Float
    }
}

/// pyradiomics' `loadImage`: normalisation, then resampling of image and mask onto the grid around the
/// ROI (at the image's own spacing, a crop to that box). Returns the image, the mask and the settings
/// left to apply (normalisation done here, as pyradiomics normalises the whole original image first);
/// None without `resampledPixelSpacing`.
fn resampled(
    image: &Volume<f32>,
    mask: &Volume<f32>,
    settings: &Settings,
) -> Result<Option<(Volume<f32>, Volume<f32>, Settings)>, RadiomicsError> {
    let Some(spacing) = settings.resample else { return Ok(None) };
    if spacing.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(RadiomicsError::Setting { name: "resampledPixelSpacing", detail: format!("{spacing:?}: spacings must be >= 0") });
    }
    if let Some(difference) = image.geometry.difference(&mask.geometry, 1e-3) {
        return Err(RadiomicsError::GridMismatch { difference });
    }
    let grid = pyradiomics_grid(mask, settings.label, spacing, settings.pad_distance as f64)
        .ok_or(RadiomicsError::EmptyMask { label: settings.label })?;
    let rest = Settings { normalize: None, resample: None, pre_crop: false, ..settings.clone() };
    if same_spacing(image.geometry.spacing, grid.spacing) {
        // nothing to interpolate, but pyradiomics still cuts image and mask to the ROI's padded box
        // (within the image), which changes what the filters see near the faces
        let image = match settings.normalize {
            Some(n) => normalized(image, n),
            None => image.clone(),
        };
        let (first, size) = padded_box(&image, mask, settings)?;
        return Ok(Some((image.crop(first, size, 0.0), mask.crop(first, size, 0.0), rest)));
    }
    let resampled_image = match settings.normalize {
        Some(n) => bspline_resample(&normalized(image, n), &grid, PixelCast::Float),
        None => bspline_resample(image, &grid, settings.image_pixel.unwrap_or_else(|| pixel_cast(image))),
    };
    Ok(Some((resampled_image, nearest_resample(mask, &grid), rest)))
}

/// The image after pyradiomics' normalisation of the whole image (f32, as pyradiomics keeps it).
fn normalized(image: &Volume<f32>, n: Normalize) -> Volume<f32> {
    let t = normalization(image, n);
    Volume { geometry: image.geometry, data: image.data.iter().map(|&v| t(v as f64) as f32).collect() }
}

/// pyradiomics' `cropToTumorMask` with `preCrop`: image and mask cut to the ROI's bounding box padded
/// by `pad_distance` voxels, kept within the image; None when not pre-cropping. (Normalisation stays
/// the whole image's: its transform is computed before cropping.)
fn pre_cropped(image: &Volume<f32>, mask: &Volume<f32>, settings: &Settings) -> Result<Option<(Volume<f32>, Volume<f32>)>, RadiomicsError> {
    if !settings.pre_crop {
        return Ok(None);
    }
    if let Some(difference) = image.geometry.difference(&mask.geometry, 1e-3) {
        return Err(RadiomicsError::GridMismatch { difference });
    }
    let (first, size) = padded_box(image, mask, settings)?;
    Ok(Some((image.crop(first, size, 0.0), mask.crop(first, size, 0.0))))
}

/// The ROI's bounding box padded by `pad_distance` voxels, kept within the image: first voxel and size.
fn padded_box(image: &Volume<f32>, mask: &Volume<f32>, settings: &Settings) -> Result<([i64; 3], [usize; 3]), RadiomicsError> {
    let (lo, size) = bounding_box(mask, settings.label).ok_or(RadiomicsError::EmptyMask { label: settings.label })?;
    let pad = settings.pad_distance;
    let first = lo.map(|v| v.saturating_sub(pad));
    let size: [usize; 3] = std::array::from_fn(|a| (lo[a] + size[a] + pad).min(image.geometry.size[a]) - first[a]);
    Ok((first.map(|v| v as i64), size))
}

/// Extracts the enabled classes from every image type: resampling (after normalisation, as
/// pyradiomics), normalisation, ROI, re-segmentation (shape keeps the original mask unless asked, and
/// is computed on the original image only), then each filter response over the same region.
pub fn extract(image: &Volume<f32>, mask: &Volume<f32>, settings: &Settings) -> Result<Vec<Feature>, RadiomicsError> {
    if settings.force2d.is_some() && settings.image_types.contains(&ImageType::Wavelet) {
        // pyradiomics then decomposes in 2D (4 bands, `wavelet-LH`, ...); ours is the 3D transform
        return Err(RadiomicsError::Setting { name: "force2D", detail: "with the Wavelet image type is not implemented".into() });
    }
    if let Some(tolerance) = settings.geometry_tolerance {
        // within the user's tolerance the two grids are one: the mask's is put on the image's
        if let Some(difference) = image.geometry.difference(&mask.geometry, tolerance * image.geometry.spacing[0]) {
            return Err(RadiomicsError::GridMismatch { difference });
        }
        let mask = Volume { geometry: image.geometry, data: mask.data.clone() };
        return extract(image, &mask, &Settings { geometry_tolerance: None, ..settings.clone() });
    }
    if let Some((image, mask, rest)) = crate::ibsi1::interpolated(image, mask, settings)? {
        return extract(&image, &mask, &rest);
    }
    if let Some((image, mask, rest)) = resampled(image, mask, settings)? {
        return extract(&image, &mask, &rest);
    }
    let transform = settings.normalize.map(|n| normalization(image, n));
    let transform = transform.as_ref().map(|t| t as &dyn Fn(f64) -> f64);
    match pre_cropped(image, mask, settings)? {
        Some((image, mask)) => extract_prepared(&image, &mask, settings, transform),
        None => extract_prepared(image, mask, settings, transform),
    }
}

/// [`extract`] after resampling or cropping, with the whole image's normalisation `transform`.
fn extract_prepared(
    image: &Volume<f32>,
    mask: &Volume<f32>,
    settings: &Settings,
    transform: Option<&dyn Fn(f64) -> f64>,
) -> Result<Vec<Feature>, RadiomicsError> {
    let roi = match &transform {
        Some(t) => Roi::with_transform(image, mask, settings.label, settings.discretization, t)?,
        None => Roi::new(image, mask, settings.label, settings.discretization)?,
    };
    check_dimensions(&roi, settings, "")?;
    let resegmented = match crate::ibsi1::resegment_interval(&roi, settings)? {
        Some((low, high)) => {
            let mut out = roi.clone();
            out.resegment(low, high, settings.discretization)?;
            // pyradiomics checks the re-segmented mask again
            check_dimensions(&out, settings, " after re-segmentation")?;
            Some(out)
        }
        None => None,
    };
    let texture_roi = resegmented.as_ref().unwrap_or(&roi);
    // shape describes the original mask unless resegmentShape; pyradiomics then still cuts it to
    // the re-segmented mask's bounding box (it computes shape within the box it found last)
    let clipped;
    let shape_roi = match (&settings.resegment, &resegmented) {
        (Some(r), Some(res)) if r.shape => res,
        (_, Some(res)) if settings.shape_within_resegmented_box => {
            clipped = roi.within_box_of(res);
            &clipped
        }
        _ => &roi,
    };
    let mut out = Vec::new();
    let filtered_types: Vec<&ImageType> = settings.image_types.iter().filter(|t| **t != ImageType::Original).collect();
    if settings.image_types.contains(&ImageType::Original) {
        out.extend(features_of(shape_roi, texture_roi, "original", settings));
    } else if settings.classes.contains(&FeatureClass::Shape) {
        // as in pyradiomics, shape describes the mask and is computed whatever the image types
        let shape_only = Settings { classes: vec![FeatureClass::Shape], ..settings.clone() };
        out.extend(features_of(shape_roi, texture_roi, "original", &shape_only));
    }
    if !filtered_types.is_empty() {
        let full = Volume {
            geometry: image.geometry,
            data: image.data.iter().map(|&v| transform.as_ref().map_or(v as f64, |t| t(v as f64))).collect(),
        };
        let texture_only =
            Settings { classes: settings.classes.iter().copied().filter(|c| *c != FeatureClass::Shape).collect(), ..settings.clone() };
        for kind in filtered_types {
            for (name, response) in apply_in_box(&full, kind, texture_roi.offset, texture_roi.size) {
                let filtered = texture_roi.with_box_values(&response, settings.discretization)?;
                out.extend(features_of(&filtered, &filtered, &name, &texture_only));
            }
        }
    }
    Ok(out)
}

/// pyradiomics' `minimumROIDimensions`: the ROI's voxels must span more than one voxel along that
/// many axes.
fn check_dimensions(roi: &Roi, settings: &Settings, when: &str) -> Result<(), RadiomicsError> {
    let dimensions = roi.spanned_axes();
    if dimensions < settings.minimum_roi_dimensions {
        return Err(RadiomicsError::TooSmall {
            detail: format!(
                "the region{when} is more than one voxel wide along {dimensions} axes, minimumROIDimensions asks for {}",
                settings.minimum_roi_dimensions
            ),
        });
    }
    Ok(())
}

/// Intensity bounds of a re-segmentation, read in its mode from the ROI's intensities.
pub(crate) fn resegment_bounds(roi: &Roi, r: &Resegment) -> Result<(f64, f64), RadiomicsError> {
    let values: Vec<f64> = roi.values().collect();
    let n = values.len() as f64;
    let mut range = r.range.clone();
    range.sort_by(f64::total_cmp);
    let thresholds: Vec<f64> = match r.mode {
        ResegmentMode::Absolute => range,
        ResegmentMode::Relative => {
            let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            range.iter().map(|t| t * max).collect()
        }
        ResegmentMode::Sigma => {
            let mean = values.iter().sum::<f64>() / n;
            let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            range.iter().map(|t| mean + t * sd).collect()
        }
    };
    match thresholds.as_slice() {
        [low] => Ok((*low, f64::INFINITY)),
        [low, high] => Ok((*low, *high)),
        other => Err(RadiomicsError::Setting { name: "resegmentRange", detail: format!("{} values; one or two expected", other.len()) }),
    }
}

/// Every enabled class, named with the image type prefix: shape from `shape_roi`, the others from
/// `roi` (they differ after re-segmentation).
pub fn features_of(shape_roi: &Roi, roi: &Roi, image_type: &str, settings: &Settings) -> Vec<Feature> {
    let per_class: Vec<(FeatureClass, Vec<(&'static str, f64)>)> = settings
        .classes
        .par_iter()
        .map(|&c| (c, class_features(c, if c == FeatureClass::Shape { shape_roi } else { roi }, settings)))
        .collect();
    let mut out = Vec::new();
    for class in FeatureClass::ALL {
        for (c, values) in &per_class {
            if *c != class {
                continue;
            }
            for &(name, value) in values {
                out.push(Feature { name: format!("{image_type}_{}_{name}", class.name()), ibsi: ibsi_tag(class, name), value });
            }
        }
    }
    out
}

/// The IBSI tag of a pyradiomics feature (IBSI 1, 3D, direction-averaged texture), where IBSI
/// defines the same quantity. pyradiomics' kurtosis is IBSI's plus 3, and its texture matrices drop
/// absent gray levels, which changes the normalised inverse differences: the tag still names the
/// feature's IBSI counterpart; `docs/radiomics.md` lists where the values differ.
pub fn ibsi_tag(class: FeatureClass, name: &str) -> Option<&'static str> {
    let tag = match (class, name) {
        (FeatureClass::Shape, "MeshVolume") => "morph_volume",
        (FeatureClass::Shape, "VoxelVolume") => "morph_vol_approx",
        (FeatureClass::Shape, "SurfaceArea") => "morph_area_mesh",
        (FeatureClass::Shape, "SurfaceVolumeRatio") => "morph_av",
        (FeatureClass::Shape, "Sphericity") => "morph_sphericity",
        (FeatureClass::Shape, "Maximum3DDiameter") => "morph_diam",
        (FeatureClass::Shape, "MajorAxisLength") => "morph_pca_maj_axis",
        (FeatureClass::Shape, "MinorAxisLength") => "morph_pca_min_axis",
        (FeatureClass::Shape, "LeastAxisLength") => "morph_pca_least_axis",
        (FeatureClass::Shape, "Elongation") => "morph_pca_elongation",
        (FeatureClass::Shape, "Flatness") => "morph_pca_flatness",
        (FeatureClass::FirstOrder, "Mean") => "stat_mean",
        (FeatureClass::FirstOrder, "Variance") => "stat_var",
        (FeatureClass::FirstOrder, "Skewness") => "stat_skew",
        (FeatureClass::FirstOrder, "Kurtosis") => "stat_kurt",
        (FeatureClass::FirstOrder, "Median") => "stat_median",
        (FeatureClass::FirstOrder, "Minimum") => "stat_min",
        (FeatureClass::FirstOrder, "10Percentile") => "stat_p10",
        (FeatureClass::FirstOrder, "90Percentile") => "stat_p90",
        (FeatureClass::FirstOrder, "Maximum") => "stat_max",
        (FeatureClass::FirstOrder, "InterquartileRange") => "stat_iqr",
        (FeatureClass::FirstOrder, "Range") => "stat_range",
        (FeatureClass::FirstOrder, "MeanAbsoluteDeviation") => "stat_mad",
        (FeatureClass::FirstOrder, "RobustMeanAbsoluteDeviation") => "stat_rmad",
        (FeatureClass::FirstOrder, "Energy") => "stat_energy",
        (FeatureClass::FirstOrder, "RootMeanSquared") => "stat_rms",
        (FeatureClass::FirstOrder, "Entropy") => "ih_entropy",
        (FeatureClass::FirstOrder, "Uniformity") => "ih_uniformity",
        (FeatureClass::Glcm, n) => match n {
            "MaximumProbability" => "cm_joint_max_3D_avg",
            "JointAverage" => "cm_joint_avg_3D_avg",
            "SumSquares" => "cm_joint_var_3D_avg",
            "JointEntropy" => "cm_joint_entr_3D_avg",
            "DifferenceAverage" => "cm_diff_avg_3D_avg",
            "DifferenceVariance" => "cm_diff_var_3D_avg",
            "DifferenceEntropy" => "cm_diff_entr_3D_avg",
            "SumAverage" => "cm_sum_avg_3D_avg",
            "SumEntropy" => "cm_sum_entr_3D_avg",
            "JointEnergy" => "cm_energy_3D_avg",
            "Contrast" => "cm_contrast_3D_avg",
            "Id" => "cm_inv_diff_3D_avg",
            "Idn" => "cm_inv_diff_norm_3D_avg",
            "Idm" => "cm_inv_diff_mom_3D_avg",
            "Idmn" => "cm_inv_diff_mom_norm_3D_avg",
            "InverseVariance" => "cm_inv_var_3D_avg",
            "Correlation" => "cm_corr_3D_avg",
            "Autocorrelation" => "cm_auto_corr_3D_avg",
            "ClusterTendency" => "cm_clust_tend_3D_avg",
            "ClusterShade" => "cm_clust_shade_3D_avg",
            "ClusterProminence" => "cm_clust_prom_3D_avg",
            "Imc1" => "cm_info_corr1_3D_avg",
            "Imc2" => "cm_info_corr2_3D_avg",
            _ => return None,
        },
        (FeatureClass::Glrlm, n) => match n {
            "ShortRunEmphasis" => "rlm_sre_3D_avg",
            "LongRunEmphasis" => "rlm_lre_3D_avg",
            "LowGrayLevelRunEmphasis" => "rlm_lgre_3D_avg",
            "HighGrayLevelRunEmphasis" => "rlm_hgre_3D_avg",
            "ShortRunLowGrayLevelEmphasis" => "rlm_srlge_3D_avg",
            "ShortRunHighGrayLevelEmphasis" => "rlm_srhge_3D_avg",
            "LongRunLowGrayLevelEmphasis" => "rlm_lrlge_3D_avg",
            "LongRunHighGrayLevelEmphasis" => "rlm_lrhge_3D_avg",
            "GrayLevelNonUniformity" => "rlm_glnu_3D_avg",
            "GrayLevelNonUniformityNormalized" => "rlm_glnu_norm_3D_avg",
            "RunLengthNonUniformity" => "rlm_rlnu_3D_avg",
            "RunLengthNonUniformityNormalized" => "rlm_rlnu_norm_3D_avg",
            "RunPercentage" => "rlm_r_perc_3D_avg",
            "GrayLevelVariance" => "rlm_gl_var_3D_avg",
            "RunVariance" => "rlm_rl_var_3D_avg",
            "RunEntropy" => "rlm_rl_entr_3D_avg",
            _ => return None,
        },
        (FeatureClass::Glszm, n) => match n {
            "SmallAreaEmphasis" => "szm_sze_3D",
            "LargeAreaEmphasis" => "szm_lze_3D",
            "LowGrayLevelZoneEmphasis" => "szm_lgze_3D",
            "HighGrayLevelZoneEmphasis" => "szm_hgze_3D",
            "SmallAreaLowGrayLevelEmphasis" => "szm_szlge_3D",
            "SmallAreaHighGrayLevelEmphasis" => "szm_szhge_3D",
            "LargeAreaLowGrayLevelEmphasis" => "szm_lzlge_3D",
            "LargeAreaHighGrayLevelEmphasis" => "szm_lzhge_3D",
            "GrayLevelNonUniformity" => "szm_glnu_3D",
            "GrayLevelNonUniformityNormalized" => "szm_glnu_norm_3D",
            "SizeZoneNonUniformity" => "szm_zsnu_3D",
            "SizeZoneNonUniformityNormalized" => "szm_zsnu_norm_3D",
            "ZonePercentage" => "szm_z_perc_3D",
            "GrayLevelVariance" => "szm_gl_var_3D",
            "ZoneVariance" => "szm_zs_var_3D",
            "ZoneEntropy" => "szm_zs_entr_3D",
            _ => return None,
        },
        (FeatureClass::Gldm, n) => match n {
            "SmallDependenceEmphasis" => "ngl_lde_3D",
            "LargeDependenceEmphasis" => "ngl_hde_3D",
            "LowGrayLevelEmphasis" => "ngl_lgce_3D",
            "HighGrayLevelEmphasis" => "ngl_hgce_3D",
            "SmallDependenceLowGrayLevelEmphasis" => "ngl_ldlge_3D",
            "SmallDependenceHighGrayLevelEmphasis" => "ngl_ldhge_3D",
            "LargeDependenceLowGrayLevelEmphasis" => "ngl_hdlge_3D",
            "LargeDependenceHighGrayLevelEmphasis" => "ngl_hdhge_3D",
            "GrayLevelNonUniformity" => "ngl_glnu_3D",
            "DependenceNonUniformity" => "ngl_dcnu_3D",
            "DependenceNonUniformityNormalized" => "ngl_dcnu_norm_3D",
            "GrayLevelVariance" => "ngl_gl_var_3D",
            "DependenceVariance" => "ngl_dc_var_3D",
            "DependenceEntropy" => "ngl_dc_entr_3D",
            _ => return None,
        },
        (FeatureClass::Ngtdm, n) => match n {
            "Coarseness" => "ngt_coarseness_3D",
            "Contrast" => "ngt_contrast_3D",
            "Busyness" => "ngt_busyness_3D",
            "Complexity" => "ngt_complexity_3D",
            "Strength" => "ngt_strength_3D",
            _ => return None,
        },
        _ => return None,
    };
    Some(tag)
}
