//! Laws' texture energy as IBSI chapter 2 defines it: a separable kernel of the normalised 1D Laws
//! kernels (`L5 = [1, 4, 6, 4, 1] / √70`, `E5 = [-1, -2, 0, 2, 1] / √10`, ...), made rotation
//! invariant by max pooling over the right-angle rotations of the kernel (24 in 3D, 4 in the axial
//! plane), then the energy map: the mean of the absolute pooled response over a cube (square) of
//! `2 delta + 1` voxels a side.
//!
//! A rotation by right angles permutes the axes and reverses some of them. Reversing an axis leaves a
//! symmetric factor (L, S, R) alone and negates an antisymmetric one (E, W), so each rotation's response
//! is ± the response of the permuted kernel; only the distinct permutations are convolved.

use tacefusion_imaging::Volume;

use crate::convolution::{self, Dimensionality, Padding};
use crate::error::RadiomicsError;

/// The normalised 1D Laws kernel named `name` (`L3`, `E3`, `S3`, `L5`, `E5`, `S5`, `W5`, `R5`).
pub fn kernel(name: &str) -> Option<Vec<f64>> {
    let raw: &[f64] = match name {
        "L3" => &[1.0, 2.0, 1.0],
        "E3" => &[-1.0, 0.0, 1.0],
        "S3" => &[-1.0, 2.0, -1.0],
        "L5" => &[1.0, 4.0, 6.0, 4.0, 1.0],
        "E5" => &[-1.0, -2.0, 0.0, 2.0, 1.0],
        "S5" => &[-1.0, 0.0, 2.0, 0.0, -1.0],
        "W5" => &[-1.0, 2.0, 0.0, -2.0, 1.0],
        "R5" => &[1.0, -4.0, 6.0, -4.0, 1.0],
        _ => return None,
    };
    let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
    Some(raw.iter().map(|v| v / norm).collect())
}

/// The signed permutations of `n` axes with determinant +1 (the right-angle rotations): for each,
/// the axis each factor goes to and, per axis, whether that axis is reversed.
pub(crate) fn rotations(n: usize) -> Vec<(Vec<usize>, Vec<bool>)> {
    let perms: Vec<Vec<usize>> = match n {
        2 => vec![vec![0, 1], vec![1, 0]],
        _ => vec![vec![0, 1, 2], vec![0, 2, 1], vec![1, 0, 2], vec![1, 2, 0], vec![2, 0, 1], vec![2, 1, 0]],
    };
    let mut out = Vec::new();
    for p in perms {
        // parity of the permutation: count inversions
        let inversions = (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).filter(|&(a, b)| p[a] > p[b]).count();
        for flips in 0..(1usize << n) {
            let reversed: Vec<bool> = (0..n).map(|a| flips & (1 << a) != 0).collect();
            let negative = reversed.iter().filter(|&&r| r).count();
            if (inversions + negative).is_multiple_of(2) {
                out.push((p.clone(), reversed));
            }
        }
    }
    out
}

/// The Laws energy map of `image` for the kernel `name` (e.g. `L5E5E5` in 3D, `L5E5` in-plane, the
/// first factor along i), rotation invariant by max pooling, energy over `delta` voxels around.
pub fn energy(
    image: &Volume<f64>,
    name: &str,
    delta: usize,
    dims: Dimensionality,
    padding: Padding,
) -> Result<Volume<f64>, RadiomicsError> {
    let axes = dims.axes();
    let bad = || RadiomicsError::Setting { name: "Laws kernel", detail: format!("{name} for {} axes", axes.len()) };
    if name.len() != 2 * axes.len() {
        return Err(bad());
    }
    let factors: Vec<Vec<f64>> = (0..axes.len()).map(|f| kernel(&name[2 * f..2 * f + 2]).ok_or_else(bad)).collect::<Result<_, _>>()?;
    let antisymmetric: Vec<bool> = factors.iter().map(|k| k.iter().zip(k.iter().rev()).all(|(a, b)| (a + b).abs() < 1e-12)).collect();
    let mut pooled = vec![f64::NEG_INFINITY; image.data.len()];
    let mut cache: Vec<(Vec<usize>, Volume<f64>)> = Vec::new();
    for (perm, reversed) in rotations(axes.len()) {
        // factor f goes to axis axes[perm[f]]; reversing that axis negates an antisymmetric factor
        let sign: f64 = (0..axes.len()).map(|f| if reversed[perm[f]] && antisymmetric[f] { -1.0 } else { 1.0 }).product();
        if !cache.iter().any(|(p, _)| *p == perm) {
            let mut kernels: [Option<&[f64]>; 3] = [None; 3];
            for f in 0..axes.len() {
                kernels[axes[perm[f]]] = Some(&factors[f]);
            }
            cache.push((perm.clone(), convolution::convolve_separable(image, kernels, padding)));
        }
        let response = &cache.iter().find(|(p, _)| *p == perm).unwrap().1;
        pooled.iter_mut().zip(&response.data).for_each(|(m, r)| *m = m.max(sign * r));
    }
    let absolute = Volume { geometry: image.geometry, data: pooled.iter().map(|v| v.abs()).collect() };
    Ok(convolution::mean_filter(&absolute, 2 * delta + 1, dims, padding))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    #[test]
    fn kernels_have_unit_norm_and_rotations_are_proper() {
        for name in ["L3", "E3", "S3", "L5", "E5", "S5", "W5", "R5"] {
            let k = kernel(name).unwrap();
            assert!((k.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-12, "{name}");
        }
        assert!(kernel("X5").is_none());
        assert_eq!(rotations(3).len(), 24);
        assert_eq!(rotations(2).len(), 4);
    }

    #[test]
    fn energy_is_rotation_invariant() {
        // a random-ish volume and the same volume rotated by 90 degrees about k (i -> j, j -> -i) give
        // energy maps that are rotations of each other
        let n = 9;
        let g = Geometry::axis_aligned([n, n, n], [1.0; 3], [0.0; 3]);
        let f = |i: usize, j: usize, k: usize| ((i * 7 + j * 13 + k * 29) % 17) as f64 + (i * j) as f64 * 0.1;
        let mut a = Vec::new();
        let mut b = Vec::new();
        for k in 0..n {
            for j in 0..n {
                for i in 0..n {
                    a.push(f(i, j, k));
                    b.push(f(j, n - 1 - i, k));
                }
            }
        }
        let (a, b) = (Volume { geometry: g, data: a }, Volume { geometry: g, data: b });
        for dims in [Dimensionality::Volumetric, Dimensionality::InPlane] {
            let name = if dims == Dimensionality::Volumetric { "L5E5E5" } else { "L5E5" };
            let (ea, eb) = (energy(&a, name, 1, dims, Padding::Periodic).unwrap(), energy(&b, name, 1, dims, Padding::Periodic).unwrap());
            for (i, j, k) in [(2, 3, 4), (0, 0, 0), (8, 5, 1)] {
                assert!((eb.at(i, j, k) - ea.at(j, n - 1 - i, k)).abs() < 1e-9, "{dims:?} ({i}, {j}, {k})");
            }
        }
        assert!(energy(&a, "L5E5", 1, Dimensionality::Volumetric, Padding::Mirror).is_err());
    }
}
