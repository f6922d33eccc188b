//! Radiomic features of a region of interest, named and computed as pyradiomics 3.0.1 computes them
//! (`original_glcm_Contrast`), with their IBSI tags where IBSI defines the same feature.
//!
//! A [`Roi`] holds the mask's bounding box of an image: original intensities for first-order
//! statistics, gray levels after discretisation for the texture matrices. Each feature family is a
//! module with one `features(&Roi) -> Vec<(&'static str, f64)>` function.

pub mod convolution;
pub mod error;
pub mod extract;
pub mod filters;
pub mod firstorder;
pub mod glcm;
pub mod gldm;
pub mod glrlm;
pub mod glszm;
pub mod ibsi1;
pub mod ibsi2;
pub mod ibsi_wavelet;
pub mod laws;
pub mod log_filter;
pub mod neighbourhood;
pub mod ngtdm;
pub mod params;
pub mod roi;
pub mod shape;
pub mod wavelet;

pub use error::RadiomicsError;
pub use extract::{Feature, FeatureClass, Settings, extract, features_of};
pub use roi::{Discretization, Roi};
