//! Neighbouring gray tone difference matrix (NGTDM) features, in agreement with pyradiomics 3.0.1's
//! `ngtdm` class with its default distance 1 (IBSI chapter 3.11).
//!
//! For each mask voxel the neighbourhood average is the mean gray level of the voxels of its
//! 26-neighbourhood (the 8 in-plane neighbours with `force2D`) that are inside the mask (the centre
//! excluded); a voxel without such a neighbour counts in n_i with a difference of 0, as pyradiomics
//! 3.0.1 counts it (IBSI leaves it out). Per gray level i the matrix holds n_i and s_i (the sum of
//! |i - average|). Gray levels with n_i = 0 are dropped and the features use the
//! actual gray-level values. Degenerate cases follow pyradiomics: Coarseness is 10⁶ when Σ p_i s_i = 0,
//! and Contrast, Busyness and Strength are 0 when their denominators vanish.

use crate::neighbourhood::Neighbourhood;
use crate::roi::Roi;

/// pyradiomics' Coarseness when Σ p_i s_i = 0.
const MAX_COARSENESS: f64 = 1e6;

/// The NGTDM over the gray levels present (a voxel without a neighbour in the mask counts, s = 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ngtdm {
    /// Gray-level value i of each entry.
    pub gray: Vec<f64>,
    /// n_i: voxels of gray level i (those without a neighbour in the mask included).
    pub count: Vec<f64>,
    /// s_i: Σ |i - neighbourhood average| over those with a neighbour.
    pub diff: Vec<f64>,
}

/// The NGTDM of the ROI over the neighbours of `neighbourhood`, in one pass over the bounding box.
pub fn matrix(roi: &Roi, neighbourhood: Neighbourhood) -> Ngtdm {
    let [nx, ny, nz] = roi.size;
    let window = neighbourhood.window();
    let levels = roi.n_levels as usize + 1;
    let (mut count, mut diff) = (vec![0.0; levels], vec![0.0; levels]);
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let idx = roi.index(i, j, k);
                let level = roi.levels[idx];
                if level == 0 {
                    continue;
                }
                // the centre voxel is inside the mask: count it and take it back out afterwards
                let (mut sum, mut w) = (0u64, 0u32);
                window.for_each_row(roi.size, [i, j, k], |row| {
                    for &other in &roi.levels[row] {
                        if other != 0 {
                            sum += u64::from(other);
                            w += 1;
                        }
                    }
                });
                let (sum, w) = (sum - u64::from(level), w - 1);
                // a voxel without a neighbour in the mask counts, with a difference of 0 (pyradiomics)
                count[level as usize] += 1.0;
                if w > 0 {
                    diff[level as usize] += (f64::from(level) - sum as f64 / f64::from(w)).abs();
                }
            }
        }
    }
    let mut m = Ngtdm::default();
    for (g, (&n, &s)) in count.iter().zip(&diff).enumerate().filter(|(_, (n, _))| **n > 0.0) {
        m.gray.push(g as f64);
        m.count.push(n);
        m.diff.push(s);
    }
    m
}

/// The NGTDM features, in pyradiomics' names (without the `original_ngtdm_` prefix), in 3D.
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    features_in(roi, Neighbourhood::Volume)
}

/// The NGTDM features over the neighbours of `neighbourhood` (the 8 in-plane ones with `force2D`).
pub fn features_in(roi: &Roi, neighbourhood: Neighbourhood) -> Vec<(&'static str, f64)> {
    let m = matrix(roi, neighbourhood);
    // N_vp: the voxels counted in the n_i (every voxel of the region)
    let nvp: f64 = m.count.iter().sum();
    let p: Vec<f64> = m.count.iter().map(|n| n / nvp).collect();
    let (i, s) = (&m.gray, &m.diff);
    let ngp = p.len() as f64;
    let sum_s: f64 = s.iter().sum();
    let sum_ps: f64 = p.iter().zip(s).map(|(p, s)| p * s).sum();

    let (mut contrast, mut busy_den, mut complexity, mut strength) = (0.0, 0.0, 0.0, 0.0);
    for a in 0..p.len() {
        for b in 0..p.len() {
            let d = i[a] - i[b];
            contrast += p[a] * p[b] * d * d;
            busy_den += (i[a] * p[a] - i[b] * p[b]).abs();
            complexity += d.abs() * (p[a] * s[a] + p[b] * s[b]) / (p[a] + p[b]);
            strength += (p[a] + p[b]) * d * d;
        }
    }
    let div = ngp * (ngp - 1.0);
    vec![
        ("Busyness", if busy_den != 0.0 { sum_ps / busy_den } else { 0.0 }),
        ("Coarseness", if sum_ps != 0.0 { 1.0 / sum_ps } else { MAX_COARSENESS }),
        // pyradiomics divides by N_vp unguarded
        ("Complexity", complexity / nvp),
        ("Contrast", if div != 0.0 { contrast * sum_s / nvp / div } else { 0.0 }),
        ("Strength", if sum_s != 0.0 { strength / sum_s } else { 0.0 }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::roi_2d;

    #[test]
    fn documented_example_matrix() {
        // pyradiomics' documented 4x4 example (no voxel of gray level 4)
        let image: [&[u32]; 4] = [&[1, 2, 5, 2], &[3, 5, 1, 3], &[1, 3, 5, 5], &[3, 1, 1, 1]];
        let m = matrix(&roi_2d(&image), Neighbourhood::Volume);
        assert_eq!(m.gray, vec![1.0, 2.0, 3.0, 5.0]);
        assert_eq!(m.count, vec![6.0, 2.0, 4.0, 4.0]);
        // s_i recomputed by hand from the image (the documentation's worked terms and table differ in places)
        let want = [13.35, 2.0, 0.6 + 0.6 + 0.5 + 4.0 / 3.0, 10.075];
        for (got, want) in m.diff.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn degenerate_regions() {
        // (image, feature, value)
        let cases: [(&[&[u32]], &str, f64); 4] = [
            // a flat region: every s_i is 0
            (&[&[2, 2], &[2, 2]], "Coarseness", MAX_COARSENESS),
            (&[&[2, 2], &[2, 2]], "Contrast", 0.0),
            (&[&[2, 2], &[2, 2]], "Strength", 0.0),
            // the lone voxel (3) counts with s = 0, as pyradiomics: p = 1/3 each, Σ p s = 2/3 (leaving it
            // out, IBSI's rule, gives p = 1/2 and Coarseness 1)
            (&[&[1, 2, 0, 3]], "Coarseness", 1.5),
        ];
        for (image, name, want) in cases {
            let got = features(&roi_2d(image)).into_iter().find(|(n, _)| *n == name).unwrap().1;
            assert_eq!(got, want, "{name} of {image:?}");
        }
    }
}
