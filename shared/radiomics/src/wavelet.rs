//! coif1 stationary wavelet transform, level 1 (pyradiomics image type `wavelet-<band>`) - being written.

use tacefusion_imaging::Volume;

/// The 8 level-1 bands (`LLH`, ..., `LLL`) of the whole image (to be written: returns nothing).
pub fn coif1_level1(_image: &Volume<f64>) -> Vec<(String, Volume<f64>)> {
    Vec::new()
}
