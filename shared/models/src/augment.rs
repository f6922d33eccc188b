//! Deterministic augmentation of a training crop `[channels, a, b, c]` (C order, `c` fastest):
//! random flips of the three axes, a small rotation in the `(b, c)` plane with a sub-voxel shift
//! along every axis (one trilinear resampling, zero beyond the crop: the HU window's low end), and
//! a per-channel intensity jitter. The draws come from a ChaCha8 stream keyed by (seed, epoch,
//! patient), so an epoch's batches are the same whichever worker runs the task and wherever a
//! resumed run restarts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Largest rotation at strength 1, degrees.
pub const MAX_ROTATION_DEG: f64 = 15.0;
/// Largest shift at strength 1, as a share of each axis' length.
pub const MAX_SHIFT: f64 = 0.1;
/// Largest relative intensity scale change at strength 1.
pub const MAX_SCALE: f64 = 0.1;
/// Largest intensity offset at strength 1 (intensities are in [0, 1]).
pub const MAX_OFFSET: f64 = 0.05;

/// The random stream of one patient in one epoch.
pub fn stream(seed: u64, epoch: usize, patient: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((epoch as u64) << 32) ^ patient as u64);
    rng
}

/// An augmented copy of `crop` (shape `[channels, a, b, c]`) at `strength` in [0, 1]; strength 0
/// returns the crop unchanged.
pub fn augment(crop: &[f32], shape: [usize; 4], strength: f64, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let [channels, na, nb, nc] = shape;
    debug_assert_eq!(crop.len(), channels * na * nb * nc);
    if strength <= 0.0 {
        return crop.to_vec();
    }
    let strength = strength.min(1.0);
    let flip: [bool; 3] = [rng.random_bool(0.5), rng.random_bool(0.5), rng.random_bool(0.5)];
    let angle = (rng.random::<f64>() * 2.0 - 1.0) * MAX_ROTATION_DEG.to_radians() * strength;
    let shift: [f64; 3] = [na, nb, nc].map(|n| (rng.random::<f64>() * 2.0 - 1.0) * MAX_SHIFT * strength * n as f64);
    let jitter: Vec<(f32, f32)> = (0..channels)
        .map(|_| {
            let scale = 1.0 + (rng.random::<f64>() * 2.0 - 1.0) * MAX_SCALE * strength;
            let offset = (rng.random::<f64>() * 2.0 - 1.0) * MAX_OFFSET * strength;
            (scale as f32, offset as f32)
        })
        .collect();

    let (sin, cos) = angle.sin_cos();
    let centre = [na, nb, nc].map(|n| (n as f64 - 1.0) / 2.0);
    let voxels = na * nb * nc;
    let mut out = vec![0f32; crop.len()];
    for a in 0..na {
        for b in 0..nb {
            for c in 0..nc {
                // output voxel -> source point: undo the shift, then the rotation, then the flips
                let pa = a as f64 - shift[0];
                let (db, dc) = (b as f64 - shift[1] - centre[1], c as f64 - shift[2] - centre[2]);
                let pb = cos * db + sin * dc + centre[1];
                let pc = -sin * db + cos * dc + centre[2];
                let p = [pa, pb, pc];
                let src = [0, 1, 2].map(|k| if flip[k] { [na, nb, nc][k] as f64 - 1.0 - p[k] } else { p[k] });
                let at = a * nb * nc + b * nc + c;
                for (ch, (scale, offset)) in jitter.iter().enumerate() {
                    let v = trilinear(&crop[ch * voxels..(ch + 1) * voxels], [na, nb, nc], src);
                    out[ch * voxels + at] = v * scale + offset;
                }
            }
        }
    }
    out
}

/// Trilinear interpolation at a continuous index, 0 outside the grid.
fn trilinear(v: &[f32], [na, nb, nc]: [usize; 3], p: [f64; 3]) -> f32 {
    let base = p.map(|x| x.floor());
    let frac = [p[0] - base[0], p[1] - base[1], p[2] - base[2]];
    let mut sum = 0.0f64;
    for corner in 0..8 {
        let offs = [(corner >> 2) & 1, (corner >> 1) & 1, corner & 1];
        let idx = [0, 1, 2].map(|k| base[k] as i64 + offs[k] as i64);
        let weight: f64 = (0..3).map(|k| if offs[k] == 1 { frac[k] } else { 1.0 - frac[k] }).product();
        if weight == 0.0 {
            continue;
        }
        if idx[0] < 0 || idx[1] < 0 || idx[2] < 0 || idx[0] >= na as i64 || idx[1] >= nb as i64 || idx[2] >= nc as i64 {
            continue;
        }
        sum += weight * v[(idx[0] as usize * nb + idx[1] as usize) * nc + idx[2] as usize] as f64;
    }
    sum as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(shape: [usize; 4]) -> Vec<f32> {
        (0..shape.iter().product::<usize>()).map(|i| ((i * 37) % 101) as f32 / 100.0).collect()
    }

    #[test]
    fn same_stream_same_crop_and_zero_strength_is_identity() {
        let shape = [2, 6, 7, 8];
        let x = crop(shape);
        let a = augment(&x, shape, 0.7, &mut stream(5, 3, 11));
        let b = augment(&x, shape, 0.7, &mut stream(5, 3, 11));
        assert_eq!(a, b);
        assert_ne!(a, augment(&x, shape, 0.7, &mut stream(5, 4, 11)), "another epoch draws otherwise");
        assert_ne!(a, augment(&x, shape, 0.7, &mut stream(5, 3, 12)), "another patient draws otherwise");
        assert_eq!(augment(&x, shape, 0.0, &mut stream(5, 3, 11)), x);
    }

    #[test]
    fn interpolation_is_exact_on_the_grid_and_zero_outside() {
        let v: Vec<f32> = (0..24).map(|i| i as f32).collect();
        assert_eq!(trilinear(&v, [2, 3, 4], [1.0, 2.0, 3.0]), 23.0);
        assert_eq!(trilinear(&v, [2, 3, 4], [0.0, 0.0, 0.5]), 0.5);
        assert_eq!(trilinear(&v, [2, 3, 4], [5.0, 0.0, 0.0]), 0.0);
    }

    #[test]
    fn mass_is_roughly_kept_at_moderate_strength() {
        // a centred blob stays inside the crop: rotation and shift move it, they neither lose nor grow it
        let shape = [1, 16, 16, 16];
        let mut x = vec![0f32; 4096];
        for a in 5..11 {
            for b in 5..11 {
                for c in 5..11 {
                    x[a * 256 + b * 16 + c] = 1.0;
                }
            }
        }
        for patient in 0..10 {
            let y = augment(&x, shape, 0.5, &mut stream(1, 0, patient));
            let inside = y.iter().filter(|v| **v > 0.5).count() as f64;
            assert!((inside / 216.0 - 1.0).abs() < 0.25, "patient {patient}: {inside} voxels above 0.5, 216 before");
        }
    }
}
