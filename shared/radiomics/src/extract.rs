//! Feature extraction of one image and mask: the ROI is cut and discretised once, each enabled
//! feature class runs on it (in parallel), and every value is named as pyradiomics names it
//! (`original_glcm_Contrast`), with the IBSI tag where IBSI defines the same feature.

use rayon::prelude::*;
use serde::Serialize;
use tacefusion_imaging::Volume;
use tacefusion_imaging::resample::{PixelCast, bspline_resample, nearest_resample, pyradiomics_grid, same_spacing};

use crate::error::RadiomicsError;
use crate::filters::{ImageType, apply};
use crate::roi::{Discretization, Roi};

/// The feature classes, in pyradiomics' output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum FeatureClass {
    /// 3D shape (14 features)
    Shape,
    /// first-order statistics (18)
    FirstOrder,
    /// gray level co-occurrence matrix (24)
    Glcm,
    /// gray level dependence matrix (14)
    Gldm,
    /// gray level run length matrix (16)
    Glrlm,
    /// gray level size zone matrix (16)
    Glszm,
    /// neighbouring gray tone difference matrix (5)
    Ngtdm,
}

impl FeatureClass {
    /// Every class, in output order.
    pub const ALL: [FeatureClass; 7] = [
        FeatureClass::Shape,
        FeatureClass::FirstOrder,
        FeatureClass::Glcm,
        FeatureClass::Gldm,
        FeatureClass::Glrlm,
        FeatureClass::Glszm,
        FeatureClass::Ngtdm,
    ];

    /// pyradiomics' name of the class.
    pub fn name(self) -> &'static str {
        match self {
            FeatureClass::Shape => "shape",
            FeatureClass::FirstOrder => "firstorder",
            FeatureClass::Glcm => "glcm",
            FeatureClass::Gldm => "gldm",
            FeatureClass::Glrlm => "glrlm",
            FeatureClass::Glszm => "glszm",
            FeatureClass::Ngtdm => "ngtdm",
        }
    }

    /// The class of a pyradiomics name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// How a re-segmentation range is read (pyradiomics `resegmentMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResegmentMode {
    /// thresholds in intensity units
    Absolute,
    /// thresholds as fractions of the ROI's maximum
    Relative,
    /// thresholds in standard deviations from the ROI's mean
    Sigma,
}

/// Re-segmentation of the ROI by intensity (pyradiomics `resegmentRange`).
#[derive(Debug, Clone, PartialEq)]
pub struct Resegment {
    /// One value (lower bound only) or two.
    pub range: Vec<f64>,
    /// How the range is read.
    pub mode: ResegmentMode,
    /// Shape features on the re-segmented mask too (pyradiomics `resegmentShape`, default false).
    pub shape: bool,
}

/// Whole-image intensity normalisation (pyradiomics `normalize`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalize {
    /// Multiplies the z-scores (`normalizeScale`).
    pub scale: f64,
    /// Clips z-scores at +- this many standard deviations before scaling (`removeOutliers`).
    pub outliers: Option<f64>,
}

/// Settings of an extraction (pyradiomics' defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Label value of the ROI in the mask.
    pub label: f64,
    /// Discretisation of the texture classes (and of entropy/uniformity).
    pub discretization: Discretization,
    /// Added to intensities before the energies (pyradiomics `voxelArrayShift`).
    pub voxel_array_shift: f64,
    /// Classes to compute.
    pub classes: Vec<FeatureClass>,
    /// Whole-image normalisation before anything else.
    pub normalize: Option<Normalize>,
    /// Intensity re-segmentation of the ROI.
    pub resegment: Option<Resegment>,
    /// GLCM and GLRLM of the 13 directions summed into one matrix before the features
    /// (pyradiomics `weightingNorm: no_weighting`); false: features averaged over directions.
    pub merge_directions: bool,
    /// Image types to extract from (pyradiomics `imageType`): `Original` by default.
    pub image_types: Vec<ImageType>,
    /// Resampling to this voxel spacing (mm, i j k) before anything but normalisation (pyradiomics
    /// `resampledPixelSpacing` with `interpolator: sitkBSpline`, `padDistance` 5): the image by cubic
    /// B-spline, the mask by nearest neighbour, onto pyradiomics' grid around the ROI. A 0 keeps the
    /// mask's spacing on that axis. None (default): no resampling.
    pub resample: Option<[f64; 3]>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            label: 1.0,
            discretization: Discretization::BinWidth(25.0),
            voxel_array_shift: 0.0,
            classes: FeatureClass::ALL.to_vec(),
            normalize: None,
            resegment: None,
            merge_directions: false,
            image_types: vec![ImageType::Original],
            resample: None,
        }
    }
}

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
    match class {
        FeatureClass::Shape => crate::shape::features(roi),
        FeatureClass::FirstOrder => crate::firstorder::features(roi, settings.voxel_array_shift),
        FeatureClass::Glcm if settings.merge_directions => crate::glcm::features_merged(roi),
        FeatureClass::Glcm => crate::glcm::features(roi),
        FeatureClass::Glrlm if settings.merge_directions => crate::glrlm::features_merged(roi),
        FeatureClass::Gldm => crate::gldm::features(roi),
        FeatureClass::Glrlm => crate::glrlm::features(roi),
        FeatureClass::Glszm => crate::glszm::features(roi),
        FeatureClass::Ngtdm => crate::ngtdm::features(roi),
    }
}

/// pyradiomics' padding around the ROI of the resampled grid (`padDistance`, voxels).
const PAD_DISTANCE: f64 = 5.0;

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
/// ROI. Returns the image, the mask and the settings left to apply (normalisation done here when
/// resampling, as pyradiomics normalises the whole original image first); None when nothing is resampled.
fn resampled(
    image: &Volume<f32>,
    mask: &Volume<f32>,
    settings: &Settings,
) -> Result<Option<(Volume<f32>, Volume<f32>, Settings)>, RadiomicsError> {
    let Some(spacing) = settings.resample else { return Ok(None) };
    if spacing.iter().any(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(RadiomicsError::Setting { name: "resampledPixelSpacing", detail: format!("{spacing:?}: spacings must be >= 0") });
    }
    if !image.geometry.same_grid(&mask.geometry, 1e-3) {
        return Err(RadiomicsError::GridMismatch { image: format!("{:?}", image.geometry), mask: format!("{:?}", mask.geometry) });
    }
    let grid = pyradiomics_grid(mask, settings.label, spacing, PAD_DISTANCE).ok_or(RadiomicsError::EmptyMask { label: settings.label })?;
    if same_spacing(image.geometry.spacing, grid.spacing) {
        return Ok(None);
    }
    let rest = Settings { normalize: None, resample: None, ..settings.clone() };
    let resampled_image = match settings.normalize {
        Some(n) => {
            let t = normalization(image, n);
            let normalized = Volume { geometry: image.geometry, data: image.data.iter().map(|&v| t(v as f64) as f32).collect() };
            bspline_resample(&normalized, &grid, PixelCast::Float)
        }
        None => bspline_resample(image, &grid, pixel_cast(image)),
    };
    Ok(Some((resampled_image, nearest_resample(mask, &grid), rest)))
}

/// Extracts the enabled classes from every image type: resampling (after normalisation, as
/// pyradiomics), normalisation, ROI, re-segmentation (shape keeps the original mask unless asked, and
/// is computed on the original image only), then each filter response over the same region.
pub fn extract(image: &Volume<f32>, mask: &Volume<f32>, settings: &Settings) -> Result<Vec<Feature>, RadiomicsError> {
    if let Some((image, mask, rest)) = resampled(image, mask, settings)? {
        return extract(&image, &mask, &rest);
    }
    let transform = settings.normalize.map(|n| normalization(image, n));
    let roi = match &transform {
        Some(t) => Roi::with_transform(image, mask, settings.label, settings.discretization, t)?,
        None => Roi::new(image, mask, settings.label, settings.discretization)?,
    };
    let resegmented = match &settings.resegment {
        Some(r) => {
            let mut out = roi.clone();
            let (low, high) = resegment_bounds(&roi, r)?;
            out.resegment(low, high, settings.discretization)?;
            Some(out)
        }
        None => None,
    };
    let texture_roi = resegmented.as_ref().unwrap_or(&roi);
    let shape_roi = match (&settings.resegment, &resegmented) {
        (Some(r), Some(res)) if r.shape => res,
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
            for (name, response) in apply(&full, kind) {
                let filtered = texture_roi.with_values(&response, settings.discretization)?;
                out.extend(features_of(&filtered, &filtered, &name, &texture_only));
            }
        }
    }
    Ok(out)
}

/// Intensity bounds of a re-segmentation, read in its mode from the ROI's intensities.
fn resegment_bounds(roi: &Roi, r: &Resegment) -> Result<(f64, f64), RadiomicsError> {
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
