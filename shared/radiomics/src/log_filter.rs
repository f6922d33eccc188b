//! Laplacian of Gaussian filter (pyradiomics image type `log-sigma-<s>-mm-3D`): the response of the
//! recursive filter pyradiomics 3.0.1 uses (SimpleITK's `LaplacianRecursiveGaussianImageFilter`, ITK 5.4,
//! normalised across scale), reproduced voxel for voxel, float32 rounding of its intermediate images included.
//!
//! The filter is separable. For each axis `a` the image is filtered along `a` with a recursive (IIR)
//! approximation of the second derivative of a Gaussian, then along the two other axes (increasing order)
//! with a recursive Gaussian; each pass is stored as float32, as ITK does. The three responses are added
//! up, each multiplied by `1 / spacing[a]²`, into a float32 sum.
//!
//! Each 1D pass is Deriche's fourth-order recursive filter with the coefficients of Farnebäck and Westin
//! (2006) that ITK uses: a causal pass `y⁺[k] = Σ n_j x[k-j] - Σ d_j y⁺[k-j]` (j = 0..3, 1..4) plus an
//! anticausal pass `y⁻[k] = Σ m_j x[k+j] - Σ d_j y⁻[k+j]` (j = 1..4), with the input extended by its edge
//! values and the outputs beyond the edge at their steady state for that constant. The numerator is
//! normalised so that the kernel sums to 1 (smoothing), or sums to 0 with second moment 2 (second
//! derivative); the latter is multiplied by sigma² (sigma in mm, kernel in voxel units), which with the
//! `1 / spacing²` above gives `sigma² ∂²/∂x²` in mm: the scale-normalised Laplacian.
//!
//! pyradiomics skips the filter when the image is smaller than 4 voxels along an axis, and a sigma unless
//! every axis has at least `ceil(sigma / spacing) + 1` voxels: see [`pyradiomics_computes`]. This function
//! itself works on any size.

use std::cell::RefCell;

use rayon::prelude::*;
use tacefusion_imaging::Volume;

/// Bytes of scratch per tile of lines filtered together (wide tiles read the strided axes in long runs;
/// measured best on lung1 among 32 KiB to 4 MiB).
const TILE_BYTES: usize = 768 << 10;

// Farnebäck-Westin parameters of the exponential-sinusoid fit: amplitudes for the orders 0, 1, 2.
const A1: [f64; 3] = [1.3530, -0.6724, -1.3563];
const B1: [f64; 3] = [1.8151, -3.4327, 5.2318];
const W1: f64 = 0.6681;
const L1: f64 = -1.3932;
const A2: [f64; 3] = [-0.3531, 0.6724, 0.3446];
const B2: [f64; 3] = [0.0902, 0.6100, -2.2355];
const W2: f64 = 2.0787;
const L2: f64 = -1.3732;

/// Whether pyradiomics (`getLoGImage`) computes the LoG image for `sigma_mm` on an image of `size` voxels
/// with `spacing` mm: every axis at least 4 voxels, `sigma_mm > 0`, and every axis at least
/// `ceil(sigma_mm / spacing) + 1` voxels. Otherwise pyradiomics logs a warning and yields no features.
pub fn pyradiomics_computes(size: [usize; 3], spacing: [f64; 3], sigma_mm: f64) -> bool {
    size.iter().all(|&n| n >= 4) && sigma_mm > 0.0 && size.iter().zip(spacing).all(|(&n, s)| n as f64 >= (sigma_mm / s).ceil() + 1.0)
}

/// Scale-normalised Laplacian of Gaussian (`sigma² ∇²(G_sigma * image)`, sigma in mm) of the whole image,
/// as SimpleITK computes it for pyradiomics (values rounded to float32 like its output).
pub fn laplacian_of_gaussian(image: &Volume<f64>, sigma_mm: f64) -> Volume<f64> {
    let geometry = image.geometry;
    if image.data.is_empty() {
        return image.clone();
    }
    let (size, spacing) = (geometry.size, geometry.spacing);
    let mut total = vec![0.0; image.data.len()];
    let mut response = vec![0f32; image.data.len()];
    for axis in 0..3 {
        pass(Some(&image.data), &mut response, None, size, axis, &Recursive::new(sigma_mm, spacing[axis], true));
        // then smoothed along the other two axes, in increasing order (both strided: the last one adds
        // the float32 result times 1 / spacing² to the float32 sum, as ITK does)
        let (u, v) = if axis == 0 { (1, 2) } else { (0, 3 - axis) };
        pass(None, &mut response, None, size, u, &Recursive::new(sigma_mm, spacing[u], false));
        let sum = Some((&mut total[..], 1.0 / (spacing[axis] * spacing[axis])));
        pass(None, &mut response, sum, size, v, &Recursive::new(sigma_mm, spacing[v], false));
    }
    Volume { geometry, data: total }
}

/// Coefficients of one recursive 1D filter.
#[derive(Debug, Clone, Copy)]
struct Recursive {
    /// causal numerator, taps 0..3
    n: [f64; 4],
    /// anticausal numerator, taps 1..4
    m: [f64; 4],
    /// denominator (shared), taps 1..4
    d: [f64; 4],
    /// denominator applied to the edge input instead of the causal outputs before the first sample:
    /// `d_j` times the steady output per unit constant input (sum n / sum d)
    edge_n: [f64; 4],
    /// the same for the anticausal outputs after the last sample (sum m / sum d)
    edge_m: [f64; 4],
}

impl Recursive {
    /// The Gaussian smoothing (`second_derivative` false) or its second derivative multiplied by
    /// sigma² in mm (along an axis of `spacing` mm; the result is per voxel², not per mm²).
    fn new(sigma_mm: f64, spacing: f64, second_derivative: bool) -> Self {
        let s = sigma_mm / spacing.abs();
        let (sin1, cos1, e1) = ((W1 / s).sin(), (W1 / s).cos(), (L1 / s).exp());
        let (sin2, cos2, e2) = ((W2 / s).sin(), (W2 / s).cos(), (L2 / s).exp());
        // (1 - 2 e1 cos1 z⁻¹ + e1² z⁻²)(1 - 2 e2 cos2 z⁻¹ + e2² z⁻²), grouped as ITK computes it
        let d = [
            -2.0 * (e2 * cos2 + e1 * cos1),
            4.0 * cos2 * cos1 * e1 * e2 + (e1 * e1 + e2 * e2),
            -2.0 * cos1 * e1 * e2 * e2 + -2.0 * cos2 * e2 * e1 * e1,
            e1 * e1 * e2 * e2,
        ];
        // numerator of an order with its sum, first and second moment
        let numerator = |order: usize| {
            let (a1, b1, a2, b2) = (A1[order], B1[order], A2[order], B2[order]);
            let n1 = e2 * (b2 * sin2 - (a2 + 2.0 * a1) * cos2) + e1 * (b1 * sin1 - (a1 + 2.0 * a2) * cos1);
            let n2 = ((a1 + a2) * cos2 * cos1 - (b1 * cos2 * sin1 + b2 * cos1 * sin2)) * (2.0 * e1 * e2) + (a2 * e1 * e1 + a1 * e2 * e2);
            let n3 = e2 * e1 * e1 * (b2 * sin2 - a2 * cos2) + e1 * e2 * e2 * (b1 * sin1 - a1 * cos1);
            let n = [a1 + a2, n1, n2, n3];
            (n, [n[0] + n[1] + n[2] + n[3], n[1] + 2.0 * n[2] + 3.0 * n[3], n[1] + 4.0 * n[2] + 9.0 * n[3]])
        };
        // sum, first and second moment of the denominator 1 + d1 z⁻¹ + .. + d4 z⁻⁴
        let sd = 1.0 + d[0] + d[1] + d[2] + d[3];
        let (dd, ed) = (d[0] + 2.0 * d[1] + 3.0 * d[2] + 4.0 * d[3], d[0] + 4.0 * d[1] + 9.0 * d[2] + 16.0 * d[3]);
        let (smooth, [sn0, dn0, en0]) = numerator(0);
        let n = if second_derivative {
            let (raw, [sn2, dn2, en2]) = numerator(2);
            // mix in the smoothing kernel so that the two-sided kernel sums to zero
            let beta = -(2.0 * sn2 - sd * raw[0]) / (2.0 * sn0 - sd * smooth[0]);
            let (sn, dn, en) = (sn2 + beta * sn0, dn2 + beta * dn0, en2 + beta * en0);
            // second moment of the causal kernel n(z)/d(z): half that of the two-sided kernel
            let alpha = (en * sd * sd - ed * sn * sd - 2.0 * dn * dd * sd + 2.0 * dd * dd * sn) / (sd * sd * sd);
            let scale = sigma_mm * sigma_mm / alpha;
            [0, 1, 2, 3].map(|j| (raw[j] + beta * smooth[j]) * scale)
        } else {
            let scale = 1.0 / (2.0 * sn0 / sd - smooth[0]);
            smooth.map(|v| v * scale)
        };
        // symmetric kernel: the anticausal part mirrors the causal one without its centre tap
        let m = [n[1] - d[0] * n[0], n[2] - d[1] * n[0], n[3] - d[2] * n[0], -d[3] * n[0]];
        let sum = |c: [f64; 4]| c[0] + c[1] + c[2] + c[3];
        let (sn, sm) = (sum(n), sum(m));
        Self { n, m, d, edge_n: d.map(|v| v * sn / sd), edge_m: d.map(|v| v * sm / sd) }
    }

    /// Filters the `w` interleaved lines of `len` samples that `scratch.input` received; the result is
    /// `scratch.result`.
    fn run(&self, len: usize, w: usize, scratch: &mut Scratch) {
        let (n, m, d) = (self.n, self.m, self.d);
        let Scratch { x, causal, anti } = scratch;
        // extend the input by its edge samples, 4 rows either side
        let (head, body) = x.split_at_mut(4 * w);
        head.chunks_mut(w).for_each(|r| r.copy_from_slice(&body[..w]));
        let (body, tail) = x.split_at_mut((4 + len) * w);
        tail.chunks_mut(w).for_each(|r| r.copy_from_slice(&body[(3 + len) * w..]));
        let row = |k: usize| &x[k * w..][..w];
        // causal pass: row r holds sample r - 4; the 4 rows before hold the edge sample, weighted by
        // `edge_n` as the outputs there would be at their steady state
        causal.resize((len + 4) * w, 0.0);
        causal[..4 * w].copy_from_slice(&x[..4 * w]);
        for r in 4..4 + len {
            let (done, now) = causal.split_at_mut(r * w);
            let y = |j: usize| &done[(r - j) * w..][..w];
            let (now, y1, y2, y3, y4) = (&mut now[..w], y(1), y(2), y(3), y(4));
            let (x0, x1, x2, x3) = (row(r), row(r - 1), row(r - 2), row(r - 3));
            let den = [1, 2, 3, 4].map(|j| if r - j < 4 { self.edge_n[j - 1] } else { d[j - 1] });
            step(now, [x0, x1, x2, x3], n, [y1, y2, y3, y4], den);
        }
        // anticausal pass, added to the causal one: row r as above, the 4 rows after as the rows before
        anti.resize((len + 8) * w, 0.0);
        anti[(len + 4) * w..].copy_from_slice(&x[(len + 4) * w..]);
        for r in (4..4 + len).rev() {
            let (now, later) = anti.split_at_mut((r + 1) * w);
            let a = |j: usize| &later[(j - 1) * w..][..w];
            let (now, a1, a2, a3, a4) = (&mut now[r * w..][..w], a(1), a(2), a(3), a(4));
            let (x1, x2, x3, x4) = (row(r + 1), row(r + 2), row(r + 3), row(r + 4));
            let out = &mut causal[r * w..][..w];
            let den = [1, 2, 3, 4].map(|j| if r + j >= len + 4 { self.edge_m[j - 1] } else { d[j - 1] });
            step(now, [x1, x2, x3, x4], m, [a1, a2, a3, a4], den);
            out.iter_mut().zip(&*now).for_each(|(o, v)| *o += v);
        }
    }
}

/// One row of a recursion over interleaved lines, `now = Σ num_j x_j - Σ den_j past_j` in ITK's order of
/// operations (a function of its own so that `now` is known not to alias and the loop vectorises).
fn step(now: &mut [f64], x: [&[f64]; 4], num: [f64; 4], past: [&[f64]; 4], den: [f64; 4]) {
    let w = now.len();
    let ([x0, x1, x2, x3], [p1, p2, p3, p4]) = (x.map(|r| &r[..w]), past.map(|r| &r[..w]));
    for c in 0..w {
        now[c] = (num[0] * x0[c] + num[1] * x1[c] + num[2] * x2[c] + num[3] * x3[c])
            - (den[0] * p1[c] + den[1] * p2[c] + den[2] * p3[c] + den[3] * p4[c]);
    }
}

thread_local! {
    /// Each worker's scratch, kept between tiles and passes (allocating it afresh costs page faults).
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Work rows of one tile of `w` lines: the input with 4 edge rows either side, the causal output (with the
/// result) and the anticausal one.
#[derive(Debug, Default)]
struct Scratch {
    x: Vec<f64>,
    causal: Vec<f64>,
    anti: Vec<f64>,
}

impl Scratch {
    /// The `len` input rows of `w` samples to fill before [`Recursive::run`].
    fn input(&mut self, len: usize, w: usize) -> &mut [f64] {
        self.x.resize((len + 8) * w, 0.0);
        &mut self.x[4 * w..(4 + len) * w]
    }

    /// The `len` filtered rows of `w` samples after [`Recursive::run`].
    fn result(&self, len: usize, w: usize) -> &[f64] {
        &self.causal[4 * w..(4 + len) * w]
    }
}

/// One recursive pass along `axis` of `image` when given, else of `buf` in place, into `buf` as float32, or,
/// given `sum` and a scale, added as float32 times the scale to `sum` (rounded to float32); volumes laid out
/// i fastest with `size`, `sum` only along a strided axis. The lines are filtered in tiles of up to [`TILE_BYTES`] of scratch,
/// interleaved so that the recursion vectorises.
fn pass(image: Option<&[f64]>, buf: &mut [f32], sum: Option<(&mut [f64], f64)>, size: [usize; 3], axis: usize, filter: &Recursive) {
    let len = size[axis];
    let inner: usize = size[..axis].iter().product();
    // lines per tile: 3 scratch rows of f64 per sample
    let tile = (TILE_BYTES / (24 * (len + 8)) / 8 * 8).max(8);
    debug_assert!(sum.is_none() || inner > 1, "sums go along strided axes only");
    if inner == 1 {
        // contiguous lines: transpose each tile in and out
        buf.par_chunks_mut(tile * len).enumerate().for_each(|(t, lines)| {
            SCRATCH.with_borrow_mut(|scratch| {
                let w = lines.len() / len;
                match image {
                    Some(src) => transpose(&src[t * tile * len..][..w * len], scratch.input(len, w), len, |v| v),
                    None => transpose(lines, scratch.input(len, w), len, f64::from),
                }
                filter.run(len, w, scratch);
                transpose(scratch.result(len, w), lines, w, |v| v as f32);
            })
        });
        return;
    }
    // strided lines: each tile owns a piece of `w` samples of every row it crosses
    let width = inner.min(tile);
    let tiles = inner.div_ceil(width);
    let outer = buf.len() / (len * inner);
    let mut units: Vec<(Vec<&mut [f32]>, Vec<&mut [f64]>)> = (0..outer * tiles).map(|_| (Vec::with_capacity(len), Vec::new())).collect();
    for (r, row) in buf.chunks_mut(inner).enumerate() {
        for (t, piece) in row.chunks_mut(width).enumerate() {
            units[(r / len) * tiles + t].0.push(piece);
        }
    }
    let scale = sum.as_ref().map_or(1.0, |s| s.1);
    for (r, row) in sum.map(|s| s.0).unwrap_or_default().chunks_mut(inner).enumerate() {
        for (t, piece) in row.chunks_mut(width).enumerate() {
            units[(r / len) * tiles + t].1.push(piece);
        }
    }
    units.into_par_iter().enumerate().for_each(|(unit, (mut pieces, mut sums))| {
        SCRATCH.with_borrow_mut(|scratch| {
            let w = pieces[0].len();
            let start = (unit / tiles) * len * inner + (unit % tiles) * width;
            for (k, (row, piece)) in scratch.input(len, w).chunks_mut(w).zip(&pieces).enumerate() {
                match image {
                    Some(src) => row.copy_from_slice(&src[start + k * inner..][..w]),
                    None => row.iter_mut().zip(piece.iter()).for_each(|(x, &v)| *x = v.into()),
                }
            }
            filter.run(len, w, scratch);
            let result = scratch.result(len, w).chunks(w);
            if sums.is_empty() {
                pieces.iter_mut().zip(result).for_each(|(piece, row)| piece.iter_mut().zip(row).for_each(|(o, &v)| *o = v as f32));
            } else {
                for (piece, row) in sums.iter_mut().zip(result) {
                    piece.iter_mut().zip(row).for_each(|(t, &v)| *t = f64::from((*t + f64::from(v as f32) * scale) as f32));
                }
            }
        })
    });
}

/// Writes the transpose of `src` (rows of `len`) to `dst`, converting each value, in blocks that stay in cache.
fn transpose<S: Copy, D>(src: &[S], dst: &mut [D], len: usize, convert: impl Fn(S) -> D) {
    let rows = src.len() / len;
    for k0 in (0..len).step_by(8) {
        for (c, row) in src.chunks(len).enumerate() {
            for (k, &v) in row.iter().enumerate().skip(k0).take(8) {
                dst[k * rows + c] = convert(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    fn volume(size: [usize; 3], spacing: [f64; 3], f: impl Fn([f64; 3]) -> f64) -> Volume<f64> {
        let geometry = Geometry::axis_aligned(size, spacing, [0.0; 3]);
        let mut data = Vec::with_capacity(size.iter().product());
        for k in 0..size[2] {
            for j in 0..size[1] {
                for i in 0..size[0] {
                    data.push(f([i as f64 * spacing[0], j as f64 * spacing[1], k as f64 * spacing[2]]));
                }
            }
        }
        Volume { geometry, data }
    }

    #[test]
    fn quadratic_has_constant_normalised_laplacian() {
        // sigma² ∇²(x² + y² + z²) = 6 sigma² (the kernels' moments are exact), away from the edges
        let (size, spacing, sigma) = ([41, 33, 21], [0.5, 0.8, 1.2], 1.0);
        let centre = [20.0 * 0.5, 16.0 * 0.8, 10.0 * 1.2];
        let image = volume(size, spacing, |p| (0..3).map(|a| (p[a] - centre[a]).powi(2)).sum());
        let out = laplacian_of_gaussian(&image, sigma);
        let got = out.at(20, 16, 10);
        assert!((got - 6.0 * sigma * sigma).abs() < 1e-3, "{got}");
        // a constant image has no response anywhere (edges included: they extend the constant)
        let flat = laplacian_of_gaussian(&volume([9, 7, 5], spacing, |_| 100.0), 2.0);
        assert!(flat.data.iter().all(|v| v.abs() < 1e-4), "{:?}", flat.data);
    }

    #[test]
    fn impulse_response_is_symmetric_and_gaussian() {
        let (n, sigma) = (31, 2.0);
        let image = volume([n, n, n], [1.0; 3], |p| if p == [15.0; 3] { 1.0 } else { 0.0 });
        let out = laplacian_of_gaussian(&image, sigma);
        // continuous truth at the centre: sigma² ∇²G(0) = -3 / ((2π)^{3/2} sigma³)
        let truth = -3.0 / ((2.0 * std::f64::consts::PI).powf(1.5) * sigma.powi(3));
        assert!((out.at(15, 15, 15) / truth - 1.0).abs() < 0.02, "{} vs {truth}", out.at(15, 15, 15));
        for (a, b) in [((12, 15, 15), (18, 15, 15)), ((15, 11, 15), (15, 15, 19)), ((13, 17, 14), (17, 13, 16))] {
            let (x, y) = (out.at(a.0, a.1, a.2), out.at(b.0, b.1, b.2));
            assert!((x - y).abs() < 1e-6 * truth.abs(), "{x} vs {y}");
        }
    }
}
