//! The CT of one patient: a liver region with a tumour whose appearance carries the latent biology,
//! in an arterial and a portal-venous phase, as a centre's scanner would record it.
//!
//! What the image holds, by latent (see `docs/synthetic-study.md`):
//! - h: size (through the diameter), necrotic low-attenuation core, irregular margin, portal washout,
//!   absence of an enhancing capsule;
//! - spatial s: satellite nodules a few mm outside the tumour, outside the mask (a CNN on the crop
//!   sees them, mask-based radiomics does not);
//! - texture t: heterogeneity of arterial enhancement inside the tumour (texture features see it).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use tacefusion_imaging::Geometry;

use crate::model::Latent;
use crate::preset::Centre;

/// The two contrast phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// late arterial
    Arterial,
    /// portal venous
    PortalVenous,
}

impl Phase {
    /// Both phases in channel order.
    pub const ALL: [Phase; 2] = [Phase::Arterial, Phase::PortalVenous];

    /// Name used in file names and `study.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Arterial => "arterial",
            Phase::PortalVenous => "portal_venous",
        }
    }
}

/// The anatomy of one patient's tumour, shared by both phases.
#[derive(Debug, Clone)]
pub struct Anatomy {
    /// Grid of the volumes.
    pub geometry: Geometry,
    /// Tumour label map (1 inside the main tumour).
    pub mask: Vec<u8>,
    /// Per voxel: 0 liver, 1 viable tumour, 2 necrosis, 3 satellite nodule, 4 capsule ring.
    tissue: Vec<u8>,
    /// Smooth unit-variance noise field (tumour texture and liver parenchyma).
    texture_field: Vec<f32>,
    /// Amplitude of the tumour's enhancement heterogeneity, HU.
    heterogeneity: f64,
    /// Portal washout in [0, 1].
    washout: f64,
    /// Satellite nodules drawn.
    pub satellites: usize,
    /// Tumour radius in the image, mm (capped to fit the field of view).
    pub radius_mm: f64,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn unit_vector(rng: &mut ChaCha8Rng) -> [f64; 3] {
    let n = Normal::new(0.0f64, 1.0).expect("valid");
    loop {
        let v = [n.sample(rng), n.sample(rng), n.sample(rng)];
        let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        if norm > 1e-6 {
            return [v[0] / norm, v[1] / norm, v[2] / norm];
        }
    }
}

/// White noise smoothed by a separable binomial kernel [1 4 6 4 1]/16 along each axis, scaled to unit
/// variance.
fn smooth_noise(rng: &mut ChaCha8Rng, size: [usize; 3]) -> Vec<f32> {
    let n = Normal::new(0.0f32, 1.0).expect("valid");
    let len = size[0] * size[1] * size[2];
    let mut a: Vec<f32> = (0..len).map(|_| n.sample(rng)).collect();
    let mut b = vec![0.0f32; len];
    const K: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
    let strides = [1, size[0], size[0] * size[1]];
    for axis in 0..3 {
        let (stride, extent) = (strides[axis], size[axis]);
        for idx in 0..len {
            let pos = (idx / stride) % extent;
            let mut s = 0.0;
            for (t, w) in K.iter().enumerate() {
                let q = pos as isize + t as isize - 2;
                let q = q.clamp(0, extent as isize - 1) as usize;
                s += w * a[idx - pos * stride + q * stride];
            }
            b[idx] = s;
        }
        std::mem::swap(&mut a, &mut b);
    }
    // variance of the smoothing: (Σ w²)³ with Σ w² = 70/256
    let sd = (70.0f32 / 256.0).powi(3).sqrt();
    a.iter_mut().for_each(|v| *v /= sd);
    a
}

/// Draws the anatomy: where the tumour is, its shape, necrosis, satellites and capsule.
pub fn draw_anatomy(rng: &mut ChaCha8Rng, centre: &Centre, latent: &Latent, diameter_cm: f64) -> Anatomy {
    let size = centre.size;
    let sp = centre.spacing;
    let fov = [size[0] as f64 * sp[0], size[1] as f64 * sp[1], size[2] as f64 * sp[2]];
    let half_min = fov.iter().cloned().fold(f64::INFINITY, f64::min) / 2.0;
    let radius_mm = (diameter_cm * 5.0).min(0.62 * half_min).max(4.0);
    let jitter = 0.06 * half_min;
    let centre_mm = [rng.random_range(-jitter..jitter), rng.random_range(-jitter..jitter), rng.random_range(-jitter..jitter)];
    // origin such that the volume centre sits at a plausible liver position (LPS)
    let origin = [-60.0 - fov[0] / 2.0, 20.0 - fov[1] / 2.0, -120.0 - fov[2] / 2.0];
    let mut geometry = Geometry::axis_aligned(size, sp, origin);
    if centre.flip_x {
        geometry.direction[0][0] = -1.0;
        geometry.origin[0] = -60.0 + fov[0] / 2.0;
    }

    // margin: radius modulated by a few low-frequency waves, stronger for aggressive tumours
    let irregularity = 0.04 + 0.10 * logistic(1.2 * latent.h);
    let waves: Vec<([f64; 3], f64, f64)> =
        (0..5).map(|_| (unit_vector(rng), rng.random_range(1.0..3.0), rng.random_range(0.0..std::f64::consts::TAU))).collect();
    let radius_at = |d: [f64; 3]| {
        let bump: f64 =
            waves.iter().map(|(v, f, p)| (f * std::f64::consts::PI * (d[0] * v[0] + d[1] * v[1] + d[2] * v[2]) + p).cos()).sum::<f64>()
                / 5.0;
        radius_mm * (1.0 + irregularity * bump * 2.0)
    };
    // necrotic core: eccentric, its radius growing with h
    let necrosis_fraction = 0.65 * logistic(1.6 * latent.h - 0.6);
    let necrosis_dir = unit_vector(rng);
    let necrosis_centre = [0, 1, 2].map(|a| centre_mm[a] + 0.25 * radius_mm * necrosis_dir[a]);
    let necrosis_radius = necrosis_fraction * radius_mm;
    // capsule: an enhancing ring, common in less aggressive tumours
    let capsule = rng.random::<f64>() < logistic(0.3 - 1.2 * latent.h);
    // satellites: small nodules just outside the margin
    let satellites = (Poisson::new(0.9 * (1.0 * latent.spatial).exp()).expect("positive").sample(rng) as usize).min(6);
    let nodules: Vec<([f64; 3], f64)> = (0..satellites)
        .map(|_| {
            let d = unit_vector(rng);
            let dist = radius_at(d) + rng.random_range(4.0..12.0);
            ([0, 1, 2].map(|a| centre_mm[a] + dist * d[a]), rng.random_range(2.5..4.5))
        })
        .collect();

    let len = size[0] * size[1] * size[2];
    let mut mask = vec![0u8; len];
    let mut tissue = vec![0u8; len];
    for k in 0..size[2] {
        for j in 0..size[1] {
            for i in 0..size[0] {
                let p = [
                    (i as f64 + 0.5) * sp[0] - fov[0] / 2.0,
                    (j as f64 + 0.5) * sp[1] - fov[1] / 2.0,
                    (k as f64 + 0.5) * sp[2] - fov[2] / 2.0,
                ];
                let v = [p[0] - centre_mm[0], p[1] - centre_mm[1], p[2] - centre_mm[2]];
                let r = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
                let dir = if r > 1e-9 { [v[0] / r, v[1] / r, v[2] / r] } else { [1.0, 0.0, 0.0] };
                let rho = r / radius_at(dir);
                let idx = i + size[0] * (j + size[1] * k);
                if rho <= 1.0 {
                    mask[idx] = 1;
                    let dn = [p[0] - necrosis_centre[0], p[1] - necrosis_centre[1], p[2] - necrosis_centre[2]];
                    let in_necrosis = (dn[0] * dn[0] + dn[1] * dn[1] + dn[2] * dn[2]).sqrt() < necrosis_radius && rho < 0.9;
                    tissue[idx] = if in_necrosis { 2 } else { 1 };
                } else if capsule && rho <= 1.0 + 1.6 / radius_mm.max(1.0) * 2.0 {
                    tissue[idx] = 4;
                } else if nodules.iter().any(|(c, rad)| {
                    let d = [p[0] - c[0], p[1] - c[1], p[2] - c[2]];
                    d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= rad * rad
                }) {
                    tissue[idx] = 3;
                }
            }
        }
    }
    Anatomy {
        geometry,
        mask,
        tissue,
        texture_field: smooth_noise(rng, size),
        heterogeneity: 14.0 * (0.45 * latent.texture).exp(),
        washout: logistic(1.3 * latent.h),
        satellites,
        radius_mm,
    }
}

/// Renders one phase in HU as the centre's scanner records it (contrast timing, offset, noise).
pub fn render(rng: &mut ChaCha8Rng, anatomy: &Anatomy, centre: &Centre, phase: Phase) -> Vec<i16> {
    let noise = Normal::new(0.0, centre.noise_sd).expect("valid");
    let c = centre.contrast;
    let (liver, tumour, necrosis, satellite, ring) = match phase {
        Phase::Arterial => (65.0 + 10.0 * c, 60.0 + 60.0 * c, 18.0, 55.0 + 55.0 * c, 65.0 + 10.0 * c),
        Phase::PortalVenous => {
            let t = 60.0 + 45.0 * c - 35.0 * anatomy.washout;
            (55.0 + 50.0 * c, t, 20.0, t, 90.0 + 45.0 * c)
        }
    };
    let texture_gain = match phase {
        Phase::Arterial => 1.0,
        Phase::PortalVenous => 0.5,
    };
    anatomy
        .tissue
        .iter()
        .zip(&anatomy.texture_field)
        .map(|(&t, &f)| {
            let base = match t {
                1 => tumour + texture_gain * anatomy.heterogeneity * f as f64,
                2 => necrosis + 4.0 * f as f64,
                3 => satellite + 0.5 * anatomy.heterogeneity * f as f64,
                4 => ring,
                _ => liver + 6.0 * f as f64,
            };
            (base + centre.hu_offset + noise.sample(rng)).round().clamp(-1024.0, 3071.0) as i16
        })
        .collect()
}
