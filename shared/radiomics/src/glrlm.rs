//! Gray level run length matrix (GLRLM) features, in agreement with pyradiomics 3.0.1's `glrlm` class
//! under its defaults: runs along the 13 directions of 3D (the 4 in-plane ones with `force2D`), no
//! distance weighting, each feature computed per direction and averaged over the directions.
//!
//! A run is a maximal line of consecutive mask voxels with the same gray level; voxels outside the
//! mask or the bounding box end it. As in pyradiomics, gray levels that do not occur in the ROI are
//! left out and the actual level values serve as `i`; `j` is the run length in voxels and `Nr(θ)` the
//! number of runs along direction θ.

use crate::glcm::{nanmean, present_levels};
use crate::neighbourhood::{Neighbourhood, Steps};
use crate::roi::Roi;

/// pyradiomics' `eps`: numpy.spacing(1).
const EPS: f64 = f64::EPSILON;

/// Run counts per direction of `neighbourhood`: `n` present levels x `max_len` run lengths (length
/// j at column j - 1). As pyradiomics, a direction along which no line through the box holds two
/// mask voxels (a flat ROI seen edge-on: every run has length 1) is left empty, and so out of the
/// features.
fn matrices(roi: &Roi, index: &[usize], n: usize, max_len: usize, neighbourhood: Neighbourhood) -> Vec<Vec<u64>> {
    let steps = Steps::new(roi, neighbourhood);
    let mut counts = vec![vec![0u64; n * max_len]; steps.directions.len()];
    let mut lined = vec![false; steps.directions.len()];
    steps.for_each_voxel(roi, |idx, level, reach| {
        let row = index[level as usize] * max_len;
        for ((lined, &d), &off) in lined.iter_mut().zip(&steps.directions).zip(&steps.offsets) {
            // another mask voxel further along this voxel's line (levels are 0 outside the mask)
            let mut at = idx;
            for _ in 0..if *lined { 0 } else { reach.room(d) } {
                at = at.wrapping_add_signed(off);
                if roi.levels[at] != 0 {
                    *lined = true;
                    break;
                }
            }
        }
        for ((count, &d), &off) in counts.iter_mut().zip(&steps.directions).zip(&steps.offsets) {
            // only the first voxel of a run walks it (levels are 0 outside the mask, so an equal
            // level means inside it)
            if reach.can_step(d.map(|c| -c)) && roi.levels[idx.wrapping_add_signed(-off)] == level {
                continue;
            }
            if !reach.can_step(d) || roi.levels[idx.wrapping_add_signed(off)] != level {
                count[row] += 1;
                continue;
            }
            let ahead = reach.room(d);
            let (mut len, mut at) = (1, idx);
            while len <= ahead {
                at = at.wrapping_add_signed(off);
                if roi.levels[at] != level {
                    break;
                }
                len += 1;
            }
            count[row + len - 1] += 1;
        }
    });
    for (count, lined) in counts.iter_mut().zip(lined) {
        if !lined {
            count.fill(0);
        }
    }
    counts
}

/// Feature names, in the order [`direction_features`] returns them.
const NAMES: [&str; 16] = [
    "GrayLevelNonUniformity",
    "GrayLevelNonUniformityNormalized",
    "GrayLevelVariance",
    "HighGrayLevelRunEmphasis",
    "LongRunEmphasis",
    "LongRunHighGrayLevelEmphasis",
    "LongRunLowGrayLevelEmphasis",
    "LowGrayLevelRunEmphasis",
    "RunEntropy",
    "RunLengthNonUniformity",
    "RunLengthNonUniformityNormalized",
    "RunPercentage",
    "RunVariance",
    "ShortRunEmphasis",
    "ShortRunHighGrayLevelEmphasis",
    "ShortRunLowGrayLevelEmphasis",
];

/// All features of one direction's run counts over the present `levels`; `None` without runs.
fn direction_features(counts: &[u64], levels: &[f64], max_len: usize) -> Option<[f64; 16]> {
    let n = levels.len();
    let (mut pg, mut pr) = (vec![0.0; n], vec![0.0; max_len]);
    // sums of P weighted by 1/j², j², 1/(i²j²), i²/j², j²/i², i²j²
    let mut w = [0.0; 6];
    for (a, &i) in levels.iter().enumerate() {
        let i2 = i * i;
        for (l, &c) in counts[a * max_len..(a + 1) * max_len].iter().enumerate() {
            if c == 0 {
                continue;
            }
            let (c, j2) = (c as f64, ((l + 1) * (l + 1)) as f64);
            pg[a] += c;
            pr[l] += c;
            for (s, f) in w.iter_mut().zip([1.0 / j2, j2, 1.0 / (i2 * j2), i2 / j2, j2 / i2, i2 * j2]) {
                *s += c * f;
            }
        }
    }
    let nr: f64 = pg.iter().sum();
    if nr == 0.0 {
        return None;
    }
    let np: f64 = pr.iter().enumerate().map(|(l, &c)| c * (l + 1) as f64).sum();
    let gln = pg.iter().map(|v| v * v).sum::<f64>() / nr;
    let rln = pr.iter().map(|v| v * v).sum::<f64>() / nr;
    let variance = |p: &[f64], x: &dyn Fn(usize) -> f64| {
        let mean: f64 = p.iter().enumerate().map(|(a, v)| v / nr * x(a)).sum();
        p.iter().enumerate().map(|(a, v)| v / nr * (x(a) - mean).powi(2)).sum::<f64>()
    };
    let entropy = -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / nr;
            p * (p + EPS).log2()
        })
        .sum::<f64>();
    let (low, high): (f64, f64) = levels.iter().zip(&pg).fold((0.0, 0.0), |(l, h), (i, c)| (l + c / (i * i), h + c * i * i));
    Some([
        gln,
        gln / nr,
        variance(&pg, &|a| levels[a]),
        high / nr,
        w[1] / nr,
        w[5] / nr,
        w[4] / nr,
        low / nr,
        entropy,
        rln,
        rln / nr,
        nr / np,
        variance(&pr, &|l| (l + 1) as f64),
        w[0] / nr,
        w[3] / nr,
        w[2] / nr,
    ])
}

/// The GLRLM features in pyradiomics' names (without the `original_glrlm_` prefix), in 3D.
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    features_in(roi, Neighbourhood::Volume)
}

/// The GLRLM features over the directions of `neighbourhood` (4 in-plane ones with `force2D`).
pub fn features_in(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let (present, index) = present_levels(roi);
    let levels: Vec<f64> = present.iter().map(|&g| g as f64).collect();
    let max_len = roi.size.iter().copied().max().unwrap_or(1);
    let per_direction: Vec<[f64; 16]> = matrices(roi, &index, present.len(), max_len, neighbourhood)
        .iter()
        .filter_map(|c| direction_features(c, &levels, max_len))
        .collect();
    NAMES.iter().enumerate().map(|(f, &name)| (name, nanmean(per_direction.iter().map(|d| d[f])))).collect()
}

/// The GLRLM features of the direction matrices of `neighbourhood` summed into one (pyradiomics'
/// `weightingNorm: no_weighting`; the voxel count of the run percentage then counts every voxel once
/// per direction, as pyradiomics' does).
pub fn features_merged(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let (present, index) = present_levels(roi);
    let levels: Vec<f64> = present.iter().map(|&g| g as f64).collect();
    let max_len = roi.size.iter().copied().max().unwrap_or(1);
    let all = matrices(roi, &index, present.len(), max_len, neighbourhood);
    let mut merged = vec![0u64; present.len() * max_len];
    for c in &all {
        merged.iter_mut().zip(c).for_each(|(m, v)| *m += v);
    }
    let values = direction_features(&merged, &levels, max_len).unwrap_or([f64::NAN; 16]);
    NAMES.iter().zip(values).map(|(&name, v)| (name, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_match_pyradiomics_documented_example() {
        // pyradiomics' documentation: 5x5 image, angle 0 (along rows) gives this GLRLM
        let rows: [[u32; 5]; 5] = [[5, 2, 5, 4, 4], [3, 3, 3, 1, 3], [2, 1, 1, 1, 3], [4, 2, 2, 2, 3], [3, 5, 3, 3, 2]];
        let levels: Vec<u32> = rows.iter().flatten().copied().collect();
        let roi = Roi {
            size: [5, 5, 1],
            spacing: [1.0; 3],
            mask: vec![true; 25],
            image: levels.iter().map(|&g| g as f64).collect(),
            levels,
            n_levels: 5,
            bin_edges: Vec::new(),
            offset: [0; 3],
        };
        let (present, index) = present_levels(&roi);
        let runs = &matrices(&roi, &index, present.len(), 5, Neighbourhood::Volume)[0];
        let want = [[1, 0, 1, 0, 0], [3, 0, 1, 0, 0], [4, 1, 1, 0, 0], [1, 1, 0, 0, 0], [3, 0, 0, 0, 0]];
        assert_eq!(runs, &want.iter().flatten().copied().collect::<Vec<u64>>());
        // every voxel lies in exactly one run of each in-plane direction; the directions leaving the
        // single slice see runs of length 1 only and are left empty, as pyradiomics drops them
        let directions = Steps::new(&roi, Neighbourhood::Volume).directions;
        for (d, m) in directions.iter().zip(matrices(&roi, &index, present.len(), 5, Neighbourhood::Volume)) {
            let voxels: u64 = m.iter().enumerate().map(|(x, &c)| c * (x as u64 % 5 + 1)).sum();
            assert_eq!(voxels, if d[2] == 0 { 25 } else { 0 }, "direction {d:?}");
        }
    }
}
