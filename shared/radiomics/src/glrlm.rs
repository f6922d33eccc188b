//! GLRLM features (pyradiomics' `glrlm` class) - being written.

use crate::roi::Roi;

/// The GLRLM features in pyradiomics' names.
pub fn features(_roi: &Roi) -> Vec<(&'static str, f64)> {
    Vec::new()
}
