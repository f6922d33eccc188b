//! Which voxels neighbour each other in the texture families, in one place: the 13 directions of GLCM
//! and GLRLM and the 3 x 3 x 3 window of GLSZM, GLDM and NGTDM, over the whole volume or, as
//! pyradiomics' `force2D` asks, within slices only (4 directions and the 3 x 3 in-plane window).

use crate::roi::Roi;

/// The 13 neighbour offsets (i, j, k) at infinity-norm distance 1, one of each opposite pair.
pub const DIRECTIONS: [[isize; 3]; 13] = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 0],
    [1, -1, 0],
    [1, 0, 1],
    [1, 0, -1],
    [0, 1, 1],
    [0, 1, -1],
    [1, 1, 1],
    [1, 1, -1],
    [1, -1, 1],
    [1, -1, -1],
];

/// The axis across which pyradiomics' `force2D` cuts the slices (`force2Ddimension`, numpy order
/// z, y, x): `Z` (0, the default) gives axial slices, in which the ROI's third axis `k` is constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SliceAxis {
    /// `force2Ddimension: 0`: slices of constant `k`.
    Z,
    /// `force2Ddimension: 1`: slices of constant `j`.
    Y,
    /// `force2Ddimension: 2`: slices of constant `i`.
    X,
}

impl SliceAxis {
    /// The axis of pyradiomics' `force2Ddimension` (0, 1 or 2); None for other values.
    pub fn from_dimension(dimension: usize) -> Option<Self> {
        [SliceAxis::Z, SliceAxis::Y, SliceAxis::X].get(dimension).copied()
    }

    /// The ROI axis (0 = i, 1 = j, 2 = k) that is constant within a slice.
    pub fn roi_axis(self) -> usize {
        match self {
            SliceAxis::Z => 2,
            SliceAxis::Y => 1,
            SliceAxis::X => 0,
        }
    }
}

/// The neighbours of a voxel: all of 3D (pyradiomics' default) or those in its slice (`force2D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Neighbourhood {
    /// 13 directions, 26 neighbours.
    #[default]
    Volume,
    /// Within slices normal to the axis: 4 directions, 8 neighbours.
    Slice(SliceAxis),
}

impl From<Option<SliceAxis>> for Neighbourhood {
    fn from(force2d: Option<SliceAxis>) -> Self {
        force2d.map_or(Neighbourhood::Volume, Neighbourhood::Slice)
    }
}

impl Neighbourhood {
    /// The ROI axis neighbours never step along, if any.
    fn fixed_axis(self) -> Option<usize> {
        match self {
            Neighbourhood::Volume => None,
            Neighbourhood::Slice(axis) => Some(axis.roi_axis()),
        }
    }

    /// The directions of [`DIRECTIONS`] that stay within the neighbourhood, in that order.
    pub fn directions(self) -> Vec<[isize; 3]> {
        DIRECTIONS.into_iter().filter(|d| self.fixed_axis().is_none_or(|a| d[a] == 0)).collect()
    }

    /// How many voxels neighbour a voxel away from the edges: 26 or 8.
    pub fn neighbours(self) -> usize {
        match self {
            Neighbourhood::Volume => 26,
            Neighbourhood::Slice(_) => 8,
        }
    }

    /// The window of neighbours around a voxel, itself included (3 x 3 x 3 or 3 x 3 in the slice).
    pub fn window(self) -> Window {
        let fixed = self.fixed_axis();
        Window { radius: [0, 1, 2].map(|a| usize::from(fixed != Some(a))) }
    }
}

/// A voxel and its neighbours: one voxel either side along each axis but the fixed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    radius: [usize; 3],
}

impl Window {
    /// Calls `row` with the memory range of each row (along `i`) of the window around `pos` in a
    /// box of `size`, cut at the box's faces.
    #[inline]
    pub fn for_each_row(self, size: [usize; 3], pos: [usize; 3], mut row: impl FnMut(std::ops::Range<usize>)) {
        let [(i0, i1), (j0, j1), (k0, k1)] =
            [0, 1, 2].map(|a| (pos[a] - pos[a].min(self.radius[a]), (pos[a] + self.radius[a]).min(size[a] - 1) + 1));
        for k in k0..k1 {
            for j in j0..j1 {
                let start = size[0] * (j + size[1] * k);
                row(start + i0..start + i1);
            }
        }
    }
}

/// Steps along a set of directions in one ROI's bounding box: each direction with its memory offset.
pub(crate) struct Steps {
    /// The directions (i, j, k).
    pub directions: Vec<[isize; 3]>,
    /// Memory offset of one step along each direction.
    pub offsets: Vec<isize>,
    /// The axis no direction steps along, if any: a voxel is interior whatever its place on it.
    fixed: Option<usize>,
}

impl Steps {
    /// The directions of `neighbourhood` in the bounding box of `roi`.
    pub fn new(roi: &Roi, neighbourhood: Neighbourhood) -> Self {
        let [si, sj, _] = roi.size.map(|s| s as isize);
        let directions = neighbourhood.directions();
        let offsets = directions.iter().map(|[a, b, c]| a + si * (b + sj * c)).collect();
        Steps { directions, offsets, fixed: neighbourhood.fixed_axis() }
    }

    /// Calls `visit` with the memory index, gray level and [`Reach`] of every mask voxel of the box,
    /// in memory order.
    #[inline]
    pub fn for_each_voxel(&self, roi: &Roi, mut visit: impl FnMut(usize, u32, &Reach)) {
        let [si, sj, sk] = roi.size;
        for k in 0..sk {
            for j in 0..sj {
                for i in 0..si {
                    let idx = roi.index(i, j, k);
                    // levels are 0 outside the mask
                    let level = roi.levels[idx];
                    if level == 0 {
                        continue;
                    }
                    visit(idx, level, &Reach::new(roi.size, [i, j, k], self.fixed));
                }
            }
        }
    }
}

/// How far a voxel is from the faces of the bounding box, per axis, backwards / not / forwards.
pub(crate) struct Reach {
    steps: [[usize; 3]; 3],
    /// Away from the box's faces (those the directions cross): every neighbour exists.
    pub interior: bool,
}

impl Reach {
    #[inline]
    fn new(size: [usize; 3], pos: [usize; 3], fixed: Option<usize>) -> Self {
        let steps = [0, 1, 2].map(|a| [pos[a], usize::MAX, size[a] - 1 - pos[a]]);
        let interior = (0..3).all(|a| fixed == Some(a) || (steps[a][0] > 0 && steps[a][2] > 0));
        Reach { steps, interior }
    }

    /// How many steps along `d` stay inside the box.
    #[inline]
    pub fn room(&self, d: [isize; 3]) -> usize {
        let along = |a: usize| self.steps[a][(d[a] + 1) as usize];
        along(0).min(along(1)).min(along(2))
    }

    /// Whether one step along `d` stays inside the box.
    #[inline]
    pub fn can_step(&self, d: [isize; 3]) -> bool {
        self.interior || self.room(d) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_plane_sets_leave_out_the_slice_axis() {
        // (neighbourhood, directions, window size in the middle of a 5x5x5 box)
        let cases = [
            (Neighbourhood::Volume, 13, 27),
            (Neighbourhood::Slice(SliceAxis::Z), 4, 9),
            (Neighbourhood::Slice(SliceAxis::Y), 4, 9),
            (Neighbourhood::Slice(SliceAxis::X), 4, 9),
        ];
        for (nb, n_dir, window) in cases {
            let dirs = nb.directions();
            assert_eq!(dirs.len(), n_dir, "{nb:?}");
            assert_eq!(2 * dirs.len(), nb.neighbours(), "{nb:?}");
            if let Neighbourhood::Slice(axis) = nb {
                assert!(dirs.iter().all(|d| d[axis.roi_axis()] == 0), "{nb:?}");
            }
            let mut seen = Vec::new();
            nb.window().for_each_row([5; 3], [2; 3], |r| seen.extend(r));
            assert_eq!(seen.len(), window, "{nb:?}");
            // the window holds the centre and its neighbour along every direction, both ways
            let centre: isize = 2 + 5 * (2 + 5 * 2);
            for d in dirs {
                let off = d[0] + 5 * (d[1] + 5 * d[2]);
                for n in [centre + off, centre - off] {
                    assert!(seen.contains(&(n as usize)), "{nb:?} {d:?}");
                }
            }
        }
        assert_eq!(SliceAxis::from_dimension(0), Some(SliceAxis::Z));
        assert_eq!(SliceAxis::from_dimension(3), None);
    }

    /// A 2 x 2 x 2 ROI of the given gray levels, slice k = 0 first, all inside the mask.
    fn cube(levels: [u32; 8]) -> Roi {
        Roi {
            size: [2; 3],
            spacing: [1.0; 3],
            mask: vec![true; 8],
            image: levels.iter().map(|&g| f64::from(g)).collect(),
            levels: levels.to_vec(),
            n_levels: levels.iter().copied().max().unwrap_or(0),
            bin_edges: Vec::new(),
            offset: [0; 3],
        }
    }

    #[test]
    fn in_plane_neighbourhoods_give_hand_computed_features() {
        type Family = fn(&Roi, Neighbourhood) -> Vec<(&'static str, f64)>;
        let flat = cube([1; 8]);
        let layered = cube([1, 1, 1, 1, 3, 3, 3, 3]);
        // (ROI, family, feature, in 3D, within axial slices), worked out by hand
        let cases: [(&Roi, Family, &str, f64, f64); 5] = [
            // one zone of 8 voxels, or one zone of 4 per slice
            (&flat, crate::glszm::features_in, "ZonePercentage", 1.0 / 8.0, 2.0 / 8.0),
            // 7 dependent neighbours (size 8), or 3 (size 4)
            (&flat, crate::gldm::features_in, "LargeDependenceEmphasis", 64.0, 16.0),
            // runs per direction: 4 along the axes, 6 along face diagonals, 7 along space diagonals
            (&flat, crate::glrlm::features_in, "RunPercentage", (3.0 * 4.0 + 6.0 * 6.0 + 4.0 * 7.0) / 8.0 / 13.0, 20.0 / 32.0),
            // the 9 directions with a k step pair levels 1 and 3 only; in-plane ones pair equal levels
            (&layered, crate::glcm::features_in, "Contrast", 9.0 * 4.0 / 13.0, 0.0),
            // 3D: average of 3 equal and 4 other neighbours, |1 - 15/7| = |3 - 13/7| = 8/7; in-plane: flat
            (&layered, crate::ngtdm::features_in, "Coarseness", 7.0 / 32.0, 1e6),
        ];
        for (roi, family, name, volume, slice) in cases {
            for (nb, want) in [(Neighbourhood::Volume, volume), (Neighbourhood::Slice(SliceAxis::Z), slice)] {
                let got = family(roi, nb).into_iter().find(|(n, _)| *n == name).map(|(_, v)| v);
                assert!(got.is_some_and(|g| (g - want).abs() <= 1e-12 * want.abs().max(1.0)), "{name} {nb:?}: {got:?} vs {want}");
            }
        }
    }
}
