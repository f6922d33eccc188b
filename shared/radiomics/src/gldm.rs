//! Gray level dependence matrix (GLDM) features, in agreement with pyradiomics 3.0.1's `gldm` class
//! with its defaults (distance 1, α = 0).
//!
//! Each mask voxel counts its dependent neighbours: the voxels of its 26-neighbourhood (the 8 in-plane
//! neighbours with `force2D`) that are inside the mask and whose gray level differs from its own by at
//! most α. The dependence size is that count plus one (the voxel itself), so every voxel belongs to
//! exactly one entry and N_z = N_p. Features use the actual gray-level values; absent gray levels and
//! dependence sizes are dropped, as pyradiomics does.
//! pyradiomics' deprecated DependencePercentage and GrayLevelNonUniformityNormalized are not computed.

use crate::glszm::GraySizeMatrix;
use crate::neighbourhood::Neighbourhood;
use crate::roi::Roi;

/// pyradiomics' default `gldm_a`: neighbours depend on the centre only at equal gray level.
pub const ALPHA: u32 = 0;

/// The GLDM of the ROI for dependence cutoff `alpha` and the neighbours of `neighbourhood`: rows are
/// the gray levels that occur, columns the dependence sizes (dependent neighbours + 1) that occur.
pub fn matrix(roi: &Roi, alpha: u32, neighbourhood: Neighbourhood) -> GraySizeMatrix {
    let (rows, cols) = (roi.n_levels as usize + 1, neighbourhood.neighbours() + 1);
    // levels are 0 outside the mask and >= 1 inside: at α = 0 (the default) equality is the whole test
    let dense = if alpha == 0 {
        dependence_counts(roi, neighbourhood, cols, |other, level| other == level)
    } else {
        dependence_counts(roi, neighbourhood, cols, |other, level| other != 0 && other.abs_diff(level) <= alpha)
    };
    GraySizeMatrix::from_dense(&dense, rows, cols, |c| (c + 1) as f64)
}

/// Voxels per gray level (rows) and dependence size (column size - 1, `cols` columns), where
/// `depends(other, level)` says whether a voxel of level `other` depends on a mask voxel of `level`.
fn dependence_counts(roi: &Roi, neighbourhood: Neighbourhood, cols: usize, depends: impl Fn(u32, u32) -> bool) -> Vec<f64> {
    let [nx, ny, nz] = roi.size;
    let window = neighbourhood.window();
    let mut dense = vec![0.0; (roi.n_levels as usize + 1) * cols];
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let level = roi.levels[roi.index(i, j, k)];
                if level == 0 {
                    continue;
                }
                // the window holds the voxel itself, which depends on itself: the size
                let mut size = 0;
                window.for_each_row(roi.size, [i, j, k], |row| {
                    size += roi.levels[row].iter().filter(|&&other| depends(other, level)).count();
                });
                dense[level as usize * cols + size - 1] += 1.0;
            }
        }
    }
    dense
}

/// The GLDM features, in pyradiomics' names (without the `original_gldm_` prefix), in 3D.
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    features_in(roi, Neighbourhood::Volume)
}

/// The GLDM features over the neighbours of `neighbourhood` (the 8 in-plane ones with `force2D`).
pub fn features_in(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let s = matrix(roi, ALPHA, neighbourhood).sums();
    let nz = s.total;
    vec![
        ("DependenceEntropy", s.entropy),
        ("DependenceNonUniformity", s.size_squares / nz),
        ("DependenceNonUniformityNormalized", s.size_squares / (nz * nz)),
        ("DependenceVariance", s.size_variance),
        ("GrayLevelNonUniformity", s.gray_squares / nz),
        ("GrayLevelVariance", s.gray_variance),
        ("HighGrayLevelEmphasis", s.high_gray / nz),
        ("LargeDependenceEmphasis", s.large / nz),
        ("LargeDependenceHighGrayLevelEmphasis", s.high_gray_large / nz),
        ("LargeDependenceLowGrayLevelEmphasis", s.low_gray_large / nz),
        ("LowGrayLevelEmphasis", s.low_gray / nz),
        ("SmallDependenceEmphasis", s.small / nz),
        ("SmallDependenceHighGrayLevelEmphasis", s.high_gray_small / nz),
        ("SmallDependenceLowGrayLevelEmphasis", s.low_gray_small / nz),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::roi_2d;

    #[test]
    fn documented_example_matrix() {
        // pyradiomics' documented 5x5 example with α = 0 and δ = 1
        let image: [&[u32]; 5] = [&[5, 2, 5, 4, 4], &[3, 3, 3, 1, 3], &[2, 1, 1, 1, 3], &[4, 2, 2, 2, 3], &[3, 5, 3, 3, 2]];
        let m = matrix(&roi_2d(&image), 0, Neighbourhood::Volume);
        assert_eq!(m.gray, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m.sizes, vec![1.0, 2.0, 3.0, 4.0]);
        #[rustfmt::skip]
        let want = [
            0.0, 1.0, 2.0, 1.0,
            1.0, 2.0, 3.0, 0.0,
            1.0, 4.0, 4.0, 0.0,
            1.0, 2.0, 0.0, 0.0,
            3.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(m.counts, want);
    }

    #[test]
    fn alpha_and_mask_decide_dependence() {
        // (image, alpha, voxels per dependence size) on 1x3 lines
        let cases: [(&[&[u32]], u32, &[(f64, f64)]); 3] = [
            (&[&[1, 1, 2]], 0, &[(1.0, 1.0), (2.0, 2.0)]),
            (&[&[1, 2, 1]], 1, &[(2.0, 2.0), (3.0, 1.0)]),
            (&[&[1, 0, 1]], 0, &[(1.0, 2.0)]),
        ];
        for (image, alpha, want) in cases {
            let m = matrix(&roi_2d(image), alpha, Neighbourhood::Volume);
            let per_size: Vec<(f64, f64)> =
                m.sizes.iter().enumerate().map(|(c, &j)| (j, (0..m.gray.len()).map(|r| m.counts[r * m.sizes.len() + c]).sum())).collect();
            assert_eq!(per_size, want, "{image:?} alpha {alpha}");
        }
    }
}
