//! CT volumes and masks with their geometry (origin, spacing, direction, in LPS millimetres as ITK
//! and pyradiomics use), and NIfTI-1 files (`.nii`, `.nii.gz`) read and written with that geometry.
//!
//! NRRD (raw and gzip) and DICOM CT series are read too; `resample` puts volumes on other grids
//! (cubic B-spline and nearest neighbour, as ITK) and computes pyradiomics' resampling grid;
//! `interpolate` resamples image and mask as IBSI defines it (grid centres aligned, rounding, partial
//! volume threshold).

pub mod dicom;
pub mod geometry;
pub mod interpolate;
pub mod nifti;
pub mod nrrd;
pub mod preprocess;
mod raw;
pub mod resample;

pub use dicom::{read_dicom_series, read_dicom_series_stored};
pub use geometry::{Geometry, Volume, is_label};
pub use nifti::{ImageError, VoxelData, read_nifti, read_nifti_stored, write_nifti};
pub use nrrd::{read_nrrd, read_nrrd_stored, read_volume, read_volume_stored};
pub use resample::PixelCast;
