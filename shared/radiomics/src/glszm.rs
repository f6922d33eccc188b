//! Gray level size zone matrix (GLSZM) features, in agreement with pyradiomics 3.0.1's `glszm` class
//! (IBSI chapter 3.8): zones are 26-connected groups of mask voxels sharing one gray level (8-connected
//! within a slice with `force2D`).
//!
//! Zones are found by an iterative flood fill over the ROI bounding box with a visited bitmap. The
//! matrix keeps only the gray levels and zone sizes that occur, and features use the actual gray-level
//! values and zone sizes, as pyradiomics does after deleting empty rows and columns.
//!
//! The [`GraySizeMatrix`] (gray level × size counts) and its [`Sums`] are shared with the GLDM, whose
//! features have the same shape.

use crate::neighbourhood::Neighbourhood;
use crate::roi::Roi;

/// pyradiomics' `eps` in the entropies: numpy.spacing(1).
const EPS: f64 = f64::EPSILON;

/// Counts of (gray level, size) pairs, restricted to the gray levels and sizes that occur.
#[derive(Debug, Clone, PartialEq)]
pub struct GraySizeMatrix {
    /// Gray-level value of each row.
    pub gray: Vec<f64>,
    /// Size (zone size, dependence count, ...) value of each column.
    pub sizes: Vec<f64>,
    /// Counts, row-major: `counts[row * sizes.len() + column]`.
    pub counts: Vec<f64>,
}

impl GraySizeMatrix {
    /// Builds the matrix from a dense `rows × cols` count table whose row `r` stands for gray level
    /// `r` and column `c` for size `size_of(c)`; rows and columns without any count are dropped.
    pub fn from_dense(dense: &[f64], rows: usize, cols: usize, size_of: impl Fn(usize) -> f64) -> Self {
        debug_assert_eq!(dense.len(), rows * cols);
        let keep_row: Vec<usize> = (0..rows).filter(|&r| dense[r * cols..(r + 1) * cols].iter().any(|&c| c > 0.0)).collect();
        let keep_col: Vec<usize> = (0..cols).filter(|&c| (0..rows).any(|r| dense[r * cols + c] > 0.0)).collect();
        let counts = keep_row.iter().flat_map(|&r| keep_col.iter().map(move |&c| dense[r * cols + c])).collect();
        GraySizeMatrix { gray: keep_row.iter().map(|&r| r as f64).collect(), sizes: keep_col.iter().map(|&c| size_of(c)).collect(), counts }
    }

    /// The sums every GLSZM/GLDM/GLRLM-like feature is made of.
    pub fn sums(&self) -> Sums {
        let ns = self.sizes.len();
        let mut pg = vec![0.0; self.gray.len()];
        let mut ps = vec![0.0; ns];
        let mut s = Sums::default();
        for (r, &i) in self.gray.iter().enumerate() {
            let i2 = i * i;
            for (c, &j) in self.sizes.iter().enumerate() {
                let p = self.counts[r * ns + c];
                if p == 0.0 {
                    continue;
                }
                let j2 = j * j;
                pg[r] += p;
                ps[c] += p;
                s.low_gray_small += p / (i2 * j2);
                s.high_gray_small += p * i2 / j2;
                s.low_gray_large += p * j2 / i2;
                s.high_gray_large += p * i2 * j2;
            }
        }
        s.total = pg.iter().sum();
        let n = s.total;
        for (&i, &g) in self.gray.iter().zip(&pg) {
            s.low_gray += g / (i * i);
            s.high_gray += g * i * i;
            s.gray_squares += g * g;
        }
        for (&j, &z) in self.sizes.iter().zip(&ps) {
            s.small += z / (j * j);
            s.large += z * j * j;
            s.size_squares += z * z;
            s.voxels += z * j;
        }
        s.gray_variance = variance(&self.gray, &pg, n);
        s.size_variance = variance(&self.sizes, &ps, n);
        s.entropy = -self.counts.iter().map(|&p| p / n).map(|p| p * (p + EPS).log2()).sum::<f64>();
        s
    }
}

/// Variance of `values` weighted by `weights / total`.
fn variance(values: &[f64], weights: &[f64], total: f64) -> f64 {
    let mean: f64 = values.iter().zip(weights).map(|(v, w)| v * w / total).sum();
    values.iter().zip(weights).map(|(v, w)| w / total * (v - mean) * (v - mean)).sum()
}

/// Unnormalised sums over a [`GraySizeMatrix`] P(i, j) with gray value i and size j.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    /// Σ P: the number of zones (N_z).
    pub total: f64,
    /// Σ P j: the number of voxels the zones cover (N_p).
    pub voxels: f64,
    /// Σ P / j².
    pub small: f64,
    /// Σ P j².
    pub large: f64,
    /// Σ P / i².
    pub low_gray: f64,
    /// Σ P i².
    pub high_gray: f64,
    /// Σ P / (i² j²).
    pub low_gray_small: f64,
    /// Σ P i² / j².
    pub high_gray_small: f64,
    /// Σ P j² / i².
    pub low_gray_large: f64,
    /// Σ P i² j².
    pub high_gray_large: f64,
    /// Σ_i (Σ_j P)².
    pub gray_squares: f64,
    /// Σ_j (Σ_i P)².
    pub size_squares: f64,
    /// Variance of i under p = P / N_z.
    pub gray_variance: f64,
    /// Variance of j under p = P / N_z.
    pub size_variance: f64,
    /// -Σ p log2(p + eps) with p = P / N_z.
    pub entropy: f64,
}

/// Sizes of the zones of equal gray level inside the mask, connected through `neighbourhood` (26-
/// connected in 3D, 8-connected within a slice), as (gray level, voxels) pairs in the order their
/// first voxel appears in memory.
pub fn zones(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(u32, usize)> {
    let [nx, ny, _] = roi.size;
    let window = neighbourhood.window();
    let mut visited = vec![false; roi.levels.len()];
    let mut stack = Vec::new();
    let mut found = Vec::new();
    for start in 0..roi.levels.len() {
        let level = roi.levels[start];
        // levels are 0 outside the mask and >= 1 inside
        if level == 0 || visited[start] {
            continue;
        }
        visited[start] = true;
        stack.push(start);
        let mut size = 0;
        while let Some(idx) = stack.pop() {
            size += 1;
            let pos = [idx % nx, (idx / nx) % ny, idx / (nx * ny)];
            window.for_each_row(roi.size, pos, |row| {
                for n in row {
                    if !visited[n] && roi.levels[n] == level {
                        visited[n] = true;
                        stack.push(n);
                    }
                }
            });
        }
        found.push((level, size));
    }
    found
}

/// The GLSZM of the ROI with zones connected through `neighbourhood`: rows are the gray levels that
/// occur, columns the zone sizes that occur.
pub fn matrix(roi: &Roi, neighbourhood: Neighbourhood) -> GraySizeMatrix {
    let zones = zones(roi, neighbourhood);
    let mut sizes: Vec<usize> = zones.iter().map(|&(_, s)| s).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let (rows, cols) = (roi.n_levels as usize + 1, sizes.len());
    let mut dense = vec![0.0; rows * cols];
    for (level, size) in zones {
        let c = sizes.binary_search(&size).unwrap_or_else(|_| unreachable!("every zone size is listed"));
        dense[level as usize * cols + c] += 1.0;
    }
    GraySizeMatrix::from_dense(&dense, rows, cols, |c| sizes[c] as f64)
}

/// The GLSZM features, in pyradiomics' names (without the `original_glszm_` prefix), in 3D.
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    features_in(roi, Neighbourhood::Volume)
}

/// The GLSZM features of zones connected through `neighbourhood` (8-connected with `force2D`).
pub fn features_in(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let s = matrix(roi, neighbourhood).sums();
    let nz = s.total;
    vec![
        ("GrayLevelNonUniformity", s.gray_squares / nz),
        ("GrayLevelNonUniformityNormalized", s.gray_squares / (nz * nz)),
        ("GrayLevelVariance", s.gray_variance),
        ("HighGrayLevelZoneEmphasis", s.high_gray / nz),
        ("LargeAreaEmphasis", s.large / nz),
        ("LargeAreaHighGrayLevelEmphasis", s.high_gray_large / nz),
        ("LargeAreaLowGrayLevelEmphasis", s.low_gray_large / nz),
        ("LowGrayLevelZoneEmphasis", s.low_gray / nz),
        ("SizeZoneNonUniformity", s.size_squares / nz),
        ("SizeZoneNonUniformityNormalized", s.size_squares / (nz * nz)),
        ("SmallAreaEmphasis", s.small / nz),
        ("SmallAreaHighGrayLevelEmphasis", s.high_gray_small / nz),
        ("SmallAreaLowGrayLevelEmphasis", s.low_gray_small / nz),
        ("ZoneEntropy", s.entropy),
        ("ZonePercentage", nz / s.voxels),
        ("ZoneVariance", s.size_variance),
    ]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A single-slice ROI of the given gray levels (rows of equal length, 0 = outside the mask).
    pub(crate) fn roi_2d(rows: &[&[u32]]) -> Roi {
        let (nx, ny) = (rows[0].len(), rows.len());
        let levels: Vec<u32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
        let mask: Vec<bool> = levels.iter().map(|&l| l > 0).collect();
        let n_levels = levels.iter().copied().max().unwrap_or(0);
        Roi {
            size: [nx, ny, 1],
            spacing: [1.0; 3],
            image: levels.iter().map(|&l| l as f64).collect(),
            mask,
            levels,
            n_levels,
            bin_edges: Vec::new(),
            offset: [0; 3],
        }
    }

    /// pyradiomics' documented 5x5 example.
    const DOC_IMAGE: [&[u32]; 5] = [&[5, 2, 5, 4, 4], &[3, 3, 3, 1, 3], &[2, 1, 1, 1, 3], &[4, 2, 2, 2, 3], &[3, 5, 3, 3, 2]];

    #[test]
    fn documented_example_matrix() {
        let m = matrix(&roi_2d(&DOC_IMAGE), Neighbourhood::Volume);
        assert_eq!(m.gray, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(m.sizes, vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        #[rustfmt::skip]
        let want = [
            0.0, 0.0, 0.0, 1.0, 0.0,
            1.0, 0.0, 0.0, 0.0, 1.0,
            1.0, 0.0, 1.0, 0.0, 1.0,
            1.0, 1.0, 0.0, 0.0, 0.0,
            3.0, 0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(m.counts, want);
    }

    #[test]
    fn hand_computed_features() {
        // (image, feature, value): zones {1: size 3}, {2: size 1} -> Nz 2, Np 4
        let cases: [(&[&[u32]], &str, f64); 6] = [
            (&[&[1, 1], &[1, 2]], "ZonePercentage", 0.5),
            (&[&[1, 1], &[1, 2]], "SmallAreaEmphasis", (1.0 / 9.0 + 1.0) / 2.0),
            (&[&[1, 1], &[1, 2]], "LargeAreaEmphasis", (9.0 + 1.0) / 2.0),
            (&[&[1, 1], &[1, 2]], "GrayLevelVariance", 0.25),
            (&[&[1, 1], &[1, 2]], "ZoneEntropy", 1.0),
            // diagonal neighbours connect, holes in the mask separate
            (&[&[3, 0, 0], &[0, 3, 0], &[0, 0, 3]], "ZonePercentage", 1.0 / 3.0),
        ];
        for (image, name, want) in cases {
            let got = features(&roi_2d(image)).into_iter().find(|(n, _)| *n == name).unwrap().1;
            assert!((got - want).abs() < 1e-12, "{name}: {got} vs {want}");
        }
    }
}
