//! NGTDM features (pyradiomics' `ngtdm` class) - being written.

use crate::roi::Roi;

/// The NGTDM features in pyradiomics' names.
pub fn features(_roi: &Roi) -> Vec<(&'static str, f64)> {
    Vec::new()
}
