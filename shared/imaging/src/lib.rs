//! CT volumes and masks with their geometry (origin, spacing, direction, in LPS millimetres as ITK
//! and pyradiomics use), and NIfTI-1 files (`.nii`, `.nii.gz`) read and written with that geometry.
//!
//! NRRD (raw and gzip) is read too. DICOM series, resampling and cropping join with the imaging issue.

pub mod geometry;
pub mod nifti;
pub mod nrrd;
mod raw;

pub use geometry::{Geometry, Volume};
pub use nifti::{ImageError, VoxelData, read_nifti, write_nifti};
pub use nrrd::{read_nrrd, read_volume};
