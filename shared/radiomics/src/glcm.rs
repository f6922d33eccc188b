//! GLCM features (pyradiomics' `glcm` class) - being written.

use crate::roi::Roi;

/// The GLCM features in pyradiomics' names.
pub fn features(_roi: &Roi) -> Vec<(&'static str, f64)> {
    Vec::new()
}
