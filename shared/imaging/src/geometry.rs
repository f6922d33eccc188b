//! Where voxels are in the patient: size, spacing, origin and direction cosines in LPS millimetres.

/// The grid of a volume. Voxel (i, j, k) sits at `origin + direction · (spacing ⊙ (i, j, k))`, where
/// the columns of `direction` are the unit vectors of the three axes, in LPS coordinates (x to the
/// patient's left, y posterior, z superior), as DICOM and ITK define them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Voxels along i, j, k.
    pub size: [usize; 3],
    /// Voxel spacing along i, j, k, mm.
    pub spacing: [f64; 3],
    /// Position of voxel (0, 0, 0), mm (LPS).
    pub origin: [f64; 3],
    /// Direction cosines: `direction[r][c]` is component r of axis c.
    pub direction: [[f64; 3]; 3],
}

impl Geometry {
    /// An axis-aligned grid.
    pub fn axis_aligned(size: [usize; 3], spacing: [f64; 3], origin: [f64; 3]) -> Self {
        Self { size, spacing, origin, direction: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] }
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.size.iter().product()
    }

    /// True for a grid without voxels.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Linear index of voxel (i, j, k), i fastest (NIfTI order).
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.size[0] * (j + self.size[1] * k)
    }

    /// Physical position (LPS mm) of voxel (i, j, k), fractional indices allowed.
    pub fn point(&self, ijk: [f64; 3]) -> [f64; 3] {
        let mut p = self.origin;
        for r in 0..3 {
            for c in 0..3 {
                p[r] += self.direction[r][c] * self.spacing[c] * ijk[c];
            }
        }
        p
    }

    /// The 4x4 voxel-to-LPS affine, row-major.
    pub fn affine(&self) -> [[f64; 4]; 4] {
        let mut a = [[0.0; 4]; 4];
        for r in 0..3 {
            for c in 0..3 {
                a[r][c] = self.direction[r][c] * self.spacing[c];
            }
            a[r][3] = self.origin[r];
        }
        a[3][3] = 1.0;
        a
    }

    /// True when both grids have the same size and the same geometry within `tol` mm.
    pub fn same_grid(&self, other: &Geometry, tol: f64) -> bool {
        if self.size != other.size {
            return false;
        }
        let (a, b) = (self.affine(), other.affine());
        (0..3).all(|r| (0..4).all(|c| (a[r][c] - b[r][c]).abs() <= tol))
    }

    /// What differs between this grid and `other` (None for the same grid, as [`Geometry::same_grid`]
    /// decides), for error messages: "size [51, 51, 32] vs [51, 51, 31]; spacing (mm) [1.9, 1.9, 3]
    /// vs [1.9, 1.9, 3.3]", naming only the parts that differ by more than `tol` mm.
    pub fn difference(&self, other: &Geometry, tol: f64) -> Option<String> {
        if self.same_grid(other, tol) {
            return None;
        }
        let shown =
            |v: &[f64]| format!("[{}]", v.iter().map(|x| format!("{}", (x * 1e4).round() / 1e4 + 0.0)).collect::<Vec<_>>().join(", "));
        let differs = |a: &[f64], b: &[f64]| a.iter().zip(b).any(|(x, y)| (x - y).abs() > tol);
        let mut parts = Vec::new();
        if self.size != other.size {
            parts.push(format!("size {:?} vs {:?}", self.size, other.size));
        }
        if differs(&self.spacing, &other.spacing) {
            parts.push(format!("spacing (mm) {} vs {}", shown(&self.spacing), shown(&other.spacing)));
        }
        if differs(&self.origin, &other.origin) {
            parts.push(format!("origin (mm) {} vs {}", shown(&self.origin), shown(&other.origin)));
        }
        let (a, b) = (self.direction.concat(), other.direction.concat());
        if differs(&a, &b) {
            parts.push(format!("direction {} vs {}", shown(&a), shown(&b)));
        }
        if parts.is_empty() {
            // each part within tol, their product (spacing x direction) beyond it
            parts.push(format!("voxel-to-patient affine differs beyond {tol} mm"));
        }
        Some(parts.join("; "))
    }

    /// The grid of the box of `size` voxels whose first voxel is voxel `lo` of this grid: same spacing
    /// and direction, origin at that voxel. The box may reach beyond this grid.
    pub fn sub_grid(&self, lo: [i64; 3], size: [usize; 3]) -> Geometry {
        Geometry { size, origin: self.point(lo.map(|v| v as f64)), ..*self }
    }
}

/// Whether a mask voxel holds `label`: the value truncated toward zero, as pyradiomics casts a mask
/// to an unsigned integer image (a float mask's 1.5 is label 1, its 0.9999 background).
pub fn is_label(value: f32, label: f64) -> bool {
    (value as f64).trunc() == label
}

/// A volume: one value per voxel of its geometry, i fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    /// The grid.
    pub geometry: Geometry,
    /// Values, `geometry.len()` of them.
    pub data: Vec<T>,
}

impl<T: Copy> Volume<T> {
    /// A volume on `geometry` whose value at voxel (i, j, k) is `f(i, j, k)` (stored x fastest).
    pub fn from_fn(geometry: Geometry, f: impl Fn(usize, usize, usize) -> T) -> Self {
        let [nx, ny, nz] = geometry.size;
        let mut data = Vec::with_capacity(geometry.len());
        for k in 0..nz {
            for j in 0..ny {
                for i in 0..nx {
                    data.push(f(i, j, k));
                }
            }
        }
        Self { geometry, data }
    }

    /// The value at (i, j, k).
    #[inline]
    pub fn at(&self, i: usize, j: usize, k: usize) -> T {
        self.data[self.geometry.index(i, j, k)]
    }

    /// The box of `size` voxels starting at voxel `lo` (which may lie outside: cropping with padding),
    /// on [`Geometry::sub_grid`]; voxels outside this volume take `fill`.
    pub fn crop(&self, lo: [i64; 3], size: [usize; 3], fill: T) -> Volume<T> {
        let geometry = self.geometry.sub_grid(lo, size);
        let n = self.geometry.size.map(|v| v as i64);
        let mut data = Vec::with_capacity(geometry.len());
        for k in 0..size[2] as i64 {
            for j in 0..size[1] as i64 {
                for i in 0..size[0] as i64 {
                    let (a, b, c) = (lo[0] + i, lo[1] + j, lo[2] + k);
                    let inside = (0..n[0]).contains(&a) && (0..n[1]).contains(&b) && (0..n[2]).contains(&c);
                    data.push(if inside { self.at(a as usize, b as usize, c as usize) } else { fill });
                }
            }
        }
        Volume { geometry, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_follow_spacing_direction_and_origin() {
        let mut g = Geometry::axis_aligned([4, 5, 6], [0.5, 0.75, 3.0], [10.0, -20.0, 5.0]);
        assert_eq!(g.point([2.0, 4.0, 1.0]), [11.0, -17.0, 8.0]);
        g.direction = [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
        assert_eq!(g.point([2.0, 0.0, 0.0]), [9.0, -20.0, 5.0]);
        assert_eq!(g.index(1, 2, 3), 1 + 4 * (2 + 5 * 3));
        assert_eq!(g.len(), 120);
        assert!(g.same_grid(&g, 0.0));
        let mut h = g;
        h.spacing[2] = 2.5;
        assert!(!g.same_grid(&h, 1e-6));
    }

    #[test]
    fn a_difference_names_only_what_differs() {
        let g = Geometry::axis_aligned([51, 51, 32], [1.9, 1.9, 3.0], [-108.45, -28.45, -168.0]);
        let cases: [(fn(&mut Geometry), Option<&str>); 5] = [
            (|_| {}, None),
            (|h| h.origin[0] += 5e-4, None),
            (|h| h.size[2] = 31, Some("size [51, 51, 32] vs [51, 51, 31]")),
            (|h| h.spacing[2] = 1.899999976158142 * 2.0, Some("spacing (mm) [1.9, 1.9, 3] vs [1.9, 1.9, 3.8]")),
            (
                |h| (h.origin[1], h.direction[0][0]) = (-30.0, -1.0),
                Some(
                    "origin (mm) [-108.45, -28.45, -168] vs [-108.45, -30, -168]; direction [1, 0, 0, 0, 1, 0, 0, 0, 1] vs [-1, 0, 0, 0, 1, 0, 0, 0, 1]",
                ),
            ),
        ];
        for (change, want) in cases {
            let mut h = g;
            change(&mut h);
            assert_eq!(g.difference(&h, 1e-3).as_deref(), want);
        }
    }

    #[test]
    fn crops_keep_positions_and_pad_with_the_fill() {
        let g = Geometry::axis_aligned([3, 2, 2], [0.5, 1.0, 2.0], [10.0, 0.0, 0.0]);
        let v = Volume { geometry: g, data: (0..12).map(|x| x as f32).collect() };
        let cases: [([i64; 3], [usize; 3], Vec<f32>); 3] = [
            ([1, 1, 1], [2, 1, 1], vec![10.0, 11.0]),
            ([-1, 0, 0], [2, 1, 1], vec![-1.0, 0.0]),
            ([2, 1, 1], [2, 2, 1], vec![11.0, -1.0, -1.0, -1.0]),
        ];
        for (lo, size, want) in cases {
            let c = v.crop(lo, size, -1.0);
            assert_eq!(c.data, want, "{lo:?} {size:?}");
            // a voxel keeps its physical position
            assert_eq!(c.geometry.point([0.0; 3]), g.point(lo.map(|x| x as f64)));
        }
    }
}
