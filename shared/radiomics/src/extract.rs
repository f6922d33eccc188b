//! Feature extraction of one image and mask: the ROI is cut and discretised once, each enabled
//! feature class runs on it (in parallel), and every value is named as pyradiomics names it
//! (`original_glcm_Contrast`), with the IBSI tag where IBSI defines the same feature.

use rayon::prelude::*;
use serde::Serialize;
use tacefusion_imaging::Volume;

use crate::error::RadiomicsError;
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
}

impl Default for Settings {
    fn default() -> Self {
        Self { label: 1.0, discretization: Discretization::BinWidth(25.0), voxel_array_shift: 0.0, classes: FeatureClass::ALL.to_vec() }
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
        FeatureClass::Glcm => crate::glcm::features(roi),
        FeatureClass::Gldm => crate::gldm::features(roi),
        FeatureClass::Glrlm => crate::glrlm::features(roi),
        FeatureClass::Glszm => crate::glszm::features(roi),
        FeatureClass::Ngtdm => crate::ngtdm::features(roi),
    }
}

/// Extracts the enabled classes from the original image (image type `original`).
pub fn extract(image: &Volume<f32>, mask: &Volume<f32>, settings: &Settings) -> Result<Vec<Feature>, RadiomicsError> {
    let roi = Roi::new(image, mask, settings.label, settings.discretization)?;
    Ok(features_of(&roi, "original", settings))
}

/// Every enabled class of a prepared ROI, named with the image type prefix.
pub fn features_of(roi: &Roi, image_type: &str, settings: &Settings) -> Vec<Feature> {
    let per_class: Vec<(FeatureClass, Vec<(&'static str, f64)>)> =
        settings.classes.par_iter().map(|&c| (c, class_features(c, roi, settings))).collect();
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
