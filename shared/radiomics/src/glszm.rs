//! GLSZM features (pyradiomics' `glszm` class) - being written.

use crate::roi::Roi;

/// The GLSZM features in pyradiomics' names.
pub fn features(_roi: &Roi) -> Vec<(&'static str, f64)> {
    Vec::new()
}
