//! What an extraction computes and how: the feature classes, normalisation, re-segmentation,
//! resampling and the other settings, with pyradiomics' defaults.

use serde::Serialize;
use tacefusion_imaging::interpolate::Interpolation;
use tacefusion_imaging::resample::PixelCast;

use crate::filters::{ImageType, Sigma};
use crate::neighbourhood::SliceAxis;
use crate::roi::Discretization;

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
    /// Crop image and mask to the ROI's bounding box padded by `pad_distance` voxels (within the
    /// image) before filtering (pyradiomics `preCrop`): filter responses near the crop's faces change.
    /// Resampling crops the same way by itself.
    pub pre_crop: bool,
    /// Padding around the ROI's bounding box, voxels of the new grid, when resampling or pre-cropping
    /// (pyradiomics `padDistance`, 5).
    pub pad_distance: usize,
    /// Texture within slices only (pyradiomics `force2D` with `force2Ddimension`): GLCM and GLRLM
    /// over the 4 in-plane directions, GLSZM zones 8-connected, GLDM and NGTDM over the 8 in-plane
    /// neighbours; first order and 3D shape unchanged. None (default): 3D.
    pub force2d: Option<SliceAxis>,
    /// IBSI 1 interpolation of image and mask onto IBSI's grid before anything else
    /// (`tacefusion_imaging::interpolate`; the CT phantom's configurations B to E); distinct from
    /// pyradiomics' `resample`, which it excludes. None (default): no interpolation.
    pub interpolation: Option<Interpolation>,
    /// IBSI 1 intensity outlier filtering of the intensity mask: voxels outside mean +- this many
    /// (population) SD of the ROI are left out, intersected with `resegment`'s range when both are
    /// set. None (default): no outlier filtering.
    pub outlier_sigma: Option<f64>,
    /// Axes along which the ROI must be more than one voxel wide (pyradiomics
    /// `minimumROIDimensions`, 2): a line or point ROI is then an error, not a row of features.
    pub minimum_roi_dimensions: usize,
    /// The pixel type the image file holds its values in, as ITK reads it
    /// (`tacefusion_imaging::read_volume_stored`): a resampled value is cast to it, as pyradiomics'
    /// resampling keeps the image's type (an integer type truncates). None: judged from the values
    /// (all whole numbers: a 16- or 32-bit integer image), which misjudges a float file of whole
    /// numbers and a scaled NIfTI.
    pub image_pixel: Option<PixelCast>,
    /// pyradiomics `geometryTolerance`: image and mask grids differing by at most this times the
    /// image's first spacing (ITK's coordinate tolerance; also the direction tolerance) are taken
    /// as one grid, the mask's put on the image's. None (default): 1e-3 mm, looser than
    /// pyradiomics' default (1e-6 times the spacing), which refuses masks saved in another format.
    pub geometry_tolerance: Option<f64>,
    /// After a re-segmentation that leaves the shape alone, cut the original mask to the
    /// re-segmented mask's bounding box before the shape features, as pyradiomics does (a
    /// parameter file read by `params` sets it). False (default): the whole original mask, as
    /// IBSI defines the morphological mask.
    pub shape_within_resegmented_box: bool,
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
            pre_crop: false,
            pad_distance: 5,
            force2d: None,
            interpolation: None,
            outlier_sigma: None,
            minimum_roi_dimensions: 2,
            image_pixel: None,
            geometry_tolerance: None,
            shape_within_resegmented_box: false,
        }
    }
}

impl Settings {
    /// The settings of a study's radiomics stage: pyradiomics' defaults with bin width `bin_width`,
    /// B-spline resampling to `spacing_mm` isotropic (pyradiomics' grid), and the original image, a
    /// LoG response per sigma (mm) and, if asked, the 8 wavelet decompositions.
    pub fn for_study(bin_width: f64, log_sigmas_mm: &[f64], wavelet: bool, spacing_mm: f64) -> Settings {
        let mut image_types = vec![ImageType::Original];
        image_types.extend(log_sigmas_mm.iter().map(|&s| ImageType::LoG(Sigma::decimal(s))));
        if wavelet {
            image_types.push(ImageType::Wavelet);
        }
        Settings {
            discretization: Discretization::BinWidth(bin_width),
            image_types,
            resample: Some([spacing_mm; 3]),
            ..Settings::default()
        }
    }
}
