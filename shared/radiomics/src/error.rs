//! Errors of feature extraction: each names the problem with the image or mask.

/// Why features could not be computed for a region of interest.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RadiomicsError {
    /// Image and mask are not on the same grid.
    #[error("image and mask are on different grids (image vs mask: {difference})")]
    GridMismatch {
        /// What differs (`Geometry::difference`).
        difference: String,
    },
    /// The label selects no voxel.
    #[error("mask has no voxel with label {label}")]
    EmptyMask {
        /// The label asked for.
        label: f64,
    },
    /// The region has too few voxels or dimensions for texture features.
    #[error("region of interest is too small: {detail}")]
    TooSmall {
        /// What is missing.
        detail: String,
    },
    /// A voxel inside the region is NaN or infinite.
    #[error("image voxel ({i}, {j}, {k}) inside the mask is not finite")]
    NonFiniteVoxel {
        /// Index along the first axis.
        i: usize,
        /// Index along the second axis.
        j: usize,
        /// Index along the third axis.
        k: usize,
    },
    /// A setting out of its domain.
    #[error("invalid setting {name}: {detail}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        detail: String,
    },
}
