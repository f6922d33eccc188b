//! Shape features in 3D (pyradiomics' `shape` class; IBSI chapter 3.1): mesh volume and surface area
//! from a marching-cubes surface of the mask, sphericity, maximum diameters between mesh vertices,
//! and axis lengths from the principal components of the voxel positions.
//!
//! The surface is marching cubes over the mask padded by one voxel, vertices at the midpoints of edges
//! between an inside and an outside voxel centre, triangles from the classic table (Lorensen & Cline
//! 1987, as tabulated by P. Bourke; taken from the `marching-cubes` crate), read for a configuration
//! above 127 through its complement with the orientation reversed, which is how pyradiomics reads it:
//! the mesh volume and area then agree with pyradiomics to 1e-6 and with IBSI within tolerance.
//! Volume is the divergence-theorem sum of signed tetrahedra; diameters use the mesh vertices.

use crate::roi::Roi;

/// Eigenvalues of a symmetric 3x3 matrix by cyclic Jacobi rotations, ascending.
fn symmetric_eigenvalues(mut a: [[f64; 3]; 3]) -> [f64; 3] {
    for _ in 0..100 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off < 1e-15 * (a[0][0].abs() + a[1][1].abs() + a[2][2].abs()).max(1e-300) {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q] == 0.0 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // A' = Jᵀ A J with the rotation in the (p, q) plane
            let mut b = a;
            for k in 0..3 {
                b[k][p] = c * a[k][p] - s * a[k][q];
                b[k][q] = s * a[k][p] + c * a[k][q];
            }
            let mut d = b;
            for k in 0..3 {
                d[p][k] = c * b[p][k] - s * b[q][k];
                d[q][k] = s * b[p][k] + c * b[q][k];
            }
            a = d;
        }
    }
    let mut e = [a[0][0], a[1][1], a[2][2]];
    e.sort_by(f64::total_cmp);
    e
}

/// Corner offsets of a cube (the classic marching-cubes numbering); bit c of a configuration is
/// corner c inside the mask.
const CORNERS: [[usize; 3]; 8] = [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]];

/// The twelve cube edges of the classic table, as corner pairs.
const EDGES: [(usize, usize); 12] = [(0, 1), (1, 2), (2, 3), (0, 3), (4, 5), (5, 6), (6, 7), (4, 7), (0, 4), (1, 5), (2, 6), (3, 7)];

/// Triangles of a configuration (as edges) and whether their orientation must be reversed: the
/// classic table's row for configurations up to 127, the row of the complement, reversed, above
/// (as pyradiomics reads the table).
fn triangles(config: usize) -> (impl Iterator<Item = [(usize, usize); 3]>, bool) {
    let (row, reversed) = if config > 127 { (255 - config, true) } else { (config, false) };
    let tris = marching_cubes::tables::TRI_TABLE[row]
        .chunks(3)
        .take_while(|t| t[0] >= 0)
        .map(|t| [EDGES[t[0] as usize], EDGES[t[1] as usize], EDGES[t[2] as usize]]);
    (tris, reversed)
}

/// Mesh surface area (mm²), enclosed volume (mm³) and the mesh vertices (mm) of the ROI's mask.
fn mesh(roi: &Roi) -> (f64, f64, Vec<[f64; 3]>) {
    let [nx, ny, nz] = roi.size;
    let inside = |x: isize, y: isize, z: isize| {
        // padded coordinates: voxel (x - 1, y - 1, z - 1) of the bounding box
        if x < 1 || y < 1 || z < 1 || x > nx as isize || y > ny as isize || z > nz as isize {
            false
        } else {
            roi.mask[roi.index(x as usize - 1, y as usize - 1, z as usize - 1)]
        }
    };
    let sp = roi.spacing;
    let (mut area, mut volume) = (0.0, 0.0);
    let mut vertices = Vec::new();
    for z in 0..=nz as isize {
        for y in 0..=ny as isize {
            for x in 0..=nx as isize {
                let mut config = 0;
                for (c, o) in CORNERS.iter().enumerate() {
                    if inside(x + o[0] as isize, y + o[1] as isize, z + o[2] as isize) {
                        config |= 1 << c;
                    }
                }
                if config == 0 || config == 255 {
                    continue;
                }
                let point = |(a, b): (usize, usize)| {
                    let (pa, pb) = (CORNERS[a], CORNERS[b]);
                    let base = [x as f64, y as f64, z as f64];
                    [0, 1, 2].map(|d| (base[d] + (pa[d] + pb[d]) as f64 / 2.0) * sp[d])
                };
                // vertices: each cube owns the crossings on its three edges leaving corner 0
                for (a, b) in [(0, 1), (0, 3), (0, 4)] {
                    if (config >> a & 1) != (config >> b & 1) {
                        vertices.push(point((a, b)));
                    }
                }
                let (tris, reversed) = triangles(config);
                let sign = if reversed { -1.0 } else { 1.0 };
                for tri in tris {
                    let [p, q, r] = tri.map(point);
                    let u = [q[0] - p[0], q[1] - p[1], q[2] - p[2]];
                    let v = [r[0] - p[0], r[1] - p[1], r[2] - p[2]];
                    let n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
                    area += 0.5 * (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                    volume += sign
                        * (p[0] * (q[1] * r[2] - q[2] * r[1]) - p[1] * (q[0] * r[2] - q[2] * r[0]) + p[2] * (q[0] * r[1] - q[1] * r[0]))
                        / 6.0;
                }
            }
        }
    }
    (area, volume.abs(), vertices)
}

/// Largest pairwise distance among `points`, exactly, with pruning: points are visited by decreasing
/// distance r from their centroid, and a pair whose r_a + r_b (an upper bound of its distance, by the
/// triangle inequality) cannot beat the best so far is skipped with everything after it.
fn max_distance(points: &[[f64; 3]]) -> f64 {
    if points.len() < 2 {
        return 0.0;
    }
    let n = points.len() as f64;
    let c = [0, 1, 2].map(|d| points.iter().map(|p| p[d]).sum::<f64>() / n);
    let radius = |p: &[f64; 3]| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2)).sqrt();
    let mut order: Vec<(f64, [f64; 3])> = points.iter().map(|p| (radius(p), *p)).collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0));
    // a margin far above rounding keeps the pruning exact
    let margin = 1.0 - 1e-9;
    let (mut best, mut best2) = (0.0f64, 0.0f64);
    for (k, &(ra, a)) in order.iter().enumerate() {
        if (ra + order[0].0) < best * margin {
            break;
        }
        for &(rb, b) in &order[k + 1..] {
            if (ra + rb) < best * margin {
                break;
            }
            let d2 = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2);
            if d2 > best2 {
                best2 = d2;
                best = d2.sqrt();
            }
        }
    }
    best2.sqrt()
}

/// Largest pairwise distance among points sharing coordinate `axis`.
fn max_planar_distance(points: &[[f64; 3]], axis: usize) -> f64 {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a[axis].total_cmp(&b[axis]));
    sorted.chunk_by(|a, b| a[axis] == b[axis]).map(max_distance).fold(0.0, f64::max)
}

/// The shape features in pyradiomics' names (without the `original_shape_` prefix).
pub fn features(roi: &Roi) -> Vec<(&'static str, f64)> {
    let (area, volume, vertices) = mesh(roi);
    // principal components of the voxel centres, positions in mm (no direction), as pyradiomics
    let n = roi.n_voxels() as f64;
    let mut coords = Vec::with_capacity(roi.n_voxels());
    for k in 0..roi.size[2] {
        for j in 0..roi.size[1] {
            for i in 0..roi.size[0] {
                if roi.mask[roi.index(i, j, k)] {
                    coords.push([i as f64 * roi.spacing[0], j as f64 * roi.spacing[1], k as f64 * roi.spacing[2]]);
                }
            }
        }
    }
    let mean = [0, 1, 2].map(|d| coords.iter().map(|c| c[d]).sum::<f64>() / n);
    let mut cov = [[0.0; 3]; 3];
    for c in &coords {
        for a in 0..3 {
            for b in 0..3 {
                cov[a][b] += (c[a] - mean[a]) * (c[b] - mean[b]) / n;
            }
        }
    }
    let eig = symmetric_eigenvalues(cov).map(|e| if e < 0.0 && e > -1e-10 { 0.0 } else { e });
    let (least, minor, major) = (eig[0], eig[1], eig[2]);
    vec![
        ("Elongation", (minor / major).sqrt()),
        ("Flatness", (least / major).sqrt()),
        ("LeastAxisLength", 4.0 * least.sqrt()),
        ("MajorAxisLength", 4.0 * major.sqrt()),
        ("Maximum2DDiameterColumn", max_planar_distance(&vertices, 1)),
        ("Maximum2DDiameterRow", max_planar_distance(&vertices, 0)),
        ("Maximum2DDiameterSlice", max_planar_distance(&vertices, 2)),
        ("Maximum3DDiameter", max_distance(&vertices)),
        ("MeshVolume", volume),
        ("MinorAxisLength", 4.0 * minor.sqrt()),
        ("Sphericity", (36.0 * std::f64::consts::PI * volume * volume).cbrt() / area),
        ("SurfaceArea", area),
        ("SurfaceVolumeRatio", area / volume),
        ("VoxelVolume", n * roi.voxel_volume()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_table_cases_and_eigenvalues() {
        // one inside corner: one triangle; its complement: the same triangle, reversed
        let (one, reversed) = triangles(1);
        assert_eq!((one.count(), reversed), (1, false));
        let (seven, reversed) = triangles(254);
        assert_eq!((seven.count(), reversed), (1, true));
        // four corners of a face: a quad in two triangles
        assert_eq!(triangles(0b0000_1111).0.count(), 2);
        assert_eq!(symmetric_eigenvalues([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 1.0]]), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn pruned_diameter_equals_every_pair_compared() {
        // points on a lumpy shell and inside it, from a fixed sequence
        let points: Vec<[f64; 3]> = (0..500)
            .map(|i| {
                let t = i as f64 * 0.618_033_988_7;
                let r = 3.0 + (t * 7.0).sin() + (i % 5) as f64 * 0.1;
                [r * (t * 2.3).cos(), r * (t * 2.3).sin() * 0.7, r * (t * 1.1).cos() * 1.3]
            })
            .collect();
        let mut brute = 0.0f64;
        for (k, a) in points.iter().enumerate() {
            for b in &points[k + 1..] {
                brute = brute.max(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt());
            }
        }
        assert_eq!(max_distance(&points), brute);
        assert_eq!(max_distance(&points[..1]), 0.0);
    }
}
