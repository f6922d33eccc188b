//! CT volumes and masks with their geometry (origin, spacing, direction, in LPS millimetres as ITK
//! and pyradiomics use), and NIfTI-1 files (`.nii`, `.nii.gz`) read and written with that geometry.
//!
//! DICOM series, NRRD, resampling and cropping join with the imaging issue.

pub mod geometry;
pub mod nifti;

pub use geometry::{Geometry, Volume};
pub use nifti::{NiftiError, VoxelData, read_nifti, write_nifti};
