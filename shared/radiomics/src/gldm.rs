//! GLDM features (pyradiomics' `gldm` class) - being written.

use crate::roi::Roi;

/// The GLDM features in pyradiomics' names.
pub fn features(_roi: &Roi) -> Vec<(&'static str, f64)> {
    Vec::new()
}
