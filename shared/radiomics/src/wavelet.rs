//! coif1 stationary wavelet transform, level 1 (pyradiomics image type `wavelet-<band>`): agrees voxel for voxel with
//! pyradiomics 3.0.1 `getWaveletImage` (`pywt.swtn(data, 'coif1', level=1, start_level=0, axes=[2, 1, 0])`, PyWavelets
//! 1.8.0) on the (z, y, x) array, odd sizes padded by one with 'wrap' and cropped back.
//!
//! Per axis, pywt's undecimated periodic filter of a padded line `x` of length `P` is
//! `out[o] = Σ_t f[t] · x[(o + 3 - t) mod P]` (`F / 2 = 3` for the 6-tap coif1). The padded sample `P - 1 = n` of an odd
//! line equals sample 0, so `x[m]` reads the original sample `m mod n`: no padded copy is needed, only a table of
//! wrapped indices per axis. The terms are summed in pywt's order (see `stencils`), so results match bit for bit.
//! Axes go x, y, z (pywt's `axes` order); band names spell the filter along x, y, z in that order, 'a' → `L`, 'd' → `H`.

use rayon::prelude::*;
use tacefusion_imaging::Volume;

/// Taps of the filters.
const TAPS: usize = 6;

/// coif1 decomposition low-pass filter, `pywt.Wavelet('coif1').dec_lo` (PyWavelets 1.8.0).
const DEC_LO: [f64; TAPS] =
    [-0.015655728135791993, -0.07273261951252645, 0.3848648468648578, 0.8525720202116004, 0.3378976624574818, -0.07273261951252645];

/// coif1 decomposition high-pass filter, `pywt.Wavelet('coif1').dec_hi` (PyWavelets 1.8.0).
const DEC_HI: [f64; TAPS] =
    [0.07273261951252645, 0.3378976624574818, -0.8525720202116004, 0.3848648468648578, 0.07273261951252645, -0.015655728135791993];

/// The 8 level-1 coif1 stationary wavelet decompositions of the whole image, in pyradiomics' order: `LLH`, `LHL`,
/// `LHH`, `HLL`, `HLH`, `HHL`, `HHH` and last the approximation `LLL`. Letter 1, 2, 3 is the low (`L`) or high (`H`)
/// pass along x (i), y (j), z (k). Each has the geometry of `image`; any size works, including sizes below the filter
/// length, where the periodic extension wraps several times.
pub fn coif1_level1(image: &Volume<f64>) -> Vec<(String, Volume<f64>)> {
    coif1_level1_box(image, [0; 3], image.geometry.size)
}

/// The same bands, computed and kept only over the box of `size` voxels from voxel `lo` (a ROI's bounding box), on
/// that box's grid: every value equals the whole-image transform's there, bit for bit, while memory and time follow
/// the box (and the image planes it reads) instead of 8 whole volumes.
pub fn coif1_level1_box(image: &Volume<f64>, lo: [usize; 3], size: [usize; 3]) -> Vec<(String, Volume<f64>)> {
    let [nx, ny, nz] = image.geometry.size;
    assert!((0..3).all(|a| lo[a] + size[a] <= image.geometry.size[a]), "box {lo:?}+{size:?} outside {:?}", image.geometry.size);
    let [sx, sy, sz] = size;
    let (out_plane, len) = (sx * sy, sx * sy * sz);
    // Band b in pywt's dict order (LLL, LLH, ..., HHH): bit 2 of b is the filter along x, bit 1 along y, bit 0 along z.
    let mut bands: Vec<Vec<f64>> = (0..8).map(|_| vec![0.0; len]).collect();
    if len > 0 {
        let (ix, iy, iz) = (stencils(nx), stencils(ny), stencils(nz));
        let (iy, iz) = (&iy[lo[1]..lo[1] + sy], &iz[lo[2]..lo[2] + sz]);
        // x-y bands of an image plane: full rows along x, the box's rows along y.
        let plane = nx * sy;
        // Runs of output planes, one per thread (at least 8 planes: a run recomputes the x-y bands of 5 planes its
        // neighbour also needs), each filtering x then y plane by plane as z needs them.
        let run = sz.div_ceil(rayon::current_num_threads()).max(8);
        let mut runs: Vec<Vec<&mut [f64]>> = (0..sz.div_ceil(run)).map(|_| Vec::with_capacity(8)).collect();
        for band in &mut bands {
            runs.iter_mut().zip(band.chunks_mut(run * out_plane)).for_each(|(r, chunk)| r.push(chunk));
        }
        runs.into_par_iter().enumerate().for_each(|(r, mut out)| {
            let mut window = Window { live: Vec::new(), spare: Vec::new(), tmp: [vec![0.0; nx * ny], vec![0.0; nx * ny]], plane };
            for (dk, s) in iz.iter().skip(r * run).take(run).enumerate() {
                window.load(&s.at, |m, xy, tmp| xy_plane(&image.data[m * nx * ny..][..nx * ny], &ix, iy, tmp, xy));
                for (b, pair) in out.chunks_exact_mut(2).enumerate() {
                    let [low, high] = pair else { unreachable!() };
                    let planes = s.at.map(|m| window.get(m)[b].as_slice());
                    for j in 0..sy {
                        let rows = planes.map(|p| &p[j * nx + lo[0]..][..sx]);
                        let at = dk * out_plane + j * sx;
                        combine(s, &rows, &mut low[at..][..sx], &mut high[at..][..sx]);
                    }
                }
            }
        });
    }
    let geometry = image.geometry.sub_grid(lo.map(|v| v as i64), size);
    let name = |b: usize| [4, 2, 1].map(|bit| if b & bit == 0 { 'L' } else { 'H' }).iter().collect::<String>();
    let mut named: Vec<_> = bands.into_iter().enumerate().map(|(b, data)| (name(b), Volume { geometry, data })).collect();
    // pyradiomics yields the details in pywt's order, then the approximation.
    named.rotate_left(1);
    named
}

/// The x-then-y bands (LL, LH, HL, HH) of the image planes that the current output plane reads, with buffers to reuse.
struct Window {
    /// Plane index and its 4 bands.
    live: Vec<(usize, [Vec<f64>; 4])>,
    /// Buffers of planes no longer read.
    spare: Vec<[Vec<f64>; 4]>,
    /// Scratch for the x pass (low, high), whole image planes.
    tmp: [Vec<f64>; 2],
    /// Values per x-y band of a plane.
    plane: usize,
}

impl Window {
    /// Keeps the planes in `taps`, computing the missing ones with `fill(plane index, bands, scratch)`.
    fn load(&mut self, taps: &[usize; TAPS], fill: impl Fn(usize, &mut [Vec<f64>; 4], &mut [Vec<f64>; 2])) {
        let (keep, gone): (Vec<_>, Vec<_>) = self.live.drain(..).partition(|(m, _)| taps.contains(m));
        self.live = keep;
        self.spare.extend(gone.into_iter().map(|(_, xy)| xy));
        for &m in taps {
            if self.get_opt(m).is_none() {
                let plane = self.plane;
                let mut xy = self.spare.pop().unwrap_or_else(|| std::array::from_fn(|_| vec![0.0; plane]));
                fill(m, &mut xy, &mut self.tmp);
                self.live.push((m, xy));
            }
        }
    }

    /// The bands of plane `m`, if loaded.
    fn get_opt(&self, m: usize) -> Option<&[Vec<f64>; 4]> {
        self.live.iter().find(|(c, _)| *c == m).map(|(_, xy)| xy)
    }

    /// The bands of loaded plane `m`.
    fn get(&self, m: usize) -> &[Vec<f64>; 4] {
        self.get_opt(m).expect("plane loaded")
    }
}

/// Filters one image plane along x (into `tmp`) then, for the rows of `iy`, along y (into `xy`: LL, LH, HL, HH).
fn xy_plane(src: &[f64], ix: &[Stencil], iy: &[Stencil], tmp: &mut [Vec<f64>; 2], xy: &mut [Vec<f64>; 4]) {
    let nx = ix.len();
    let [l, h] = tmp;
    for ((line, l), h) in src.chunks(nx).zip(l.chunks_mut(nx)).zip(h.chunks_mut(nx)) {
        for ((s, l), h) in ix.iter().zip(l.iter_mut()).zip(h.iter_mut()) {
            let (mut lo, mut hi) = (0.0, 0.0);
            for (k, &m) in s.at.iter().enumerate() {
                lo += s.lo[k] * line[m];
                hi += s.hi[k] * line[m];
            }
            (*l, *h) = (lo, hi);
        }
    }
    let [ll, lh, hl, hh] = xy;
    across(l, nx, iy, ll, lh);
    across(h, nx, iy, hl, hh);
}

/// One output sample of a line: the original samples it reads and the taps applied to them, in pywt's summation order.
struct Stencil {
    /// Sample index of each term.
    at: [usize; TAPS],
    /// Low-pass tap of each term.
    lo: [f64; TAPS],
    /// High-pass tap of each term.
    hi: [f64; TAPS],
}

/// The stencils of a line of `n` samples (padded to even length `P`). Output `o` is pywt's `i = o + 3`; tap `t` reads
/// padded sample `(i - t) mod P`, that is original sample `((i - t) mod P) mod n`. pywt
/// (`downsampling_convolution_periodization`, step 1) sums in increasing `t`, except where `i ≥ P`: there the taps that
/// run past the end (`t ≤ i - P`) come first, in decreasing `t`, then the others in increasing `t`.
fn stencils(n: usize) -> Vec<Stencil> {
    let padded = n + n % 2;
    (0..n)
        .map(|o| {
            let i = o + TAPS / 2;
            let wrapped = (i + 1).saturating_sub(padded).min(TAPS);
            let order: [usize; TAPS] = std::array::from_fn(|k| if k < wrapped { wrapped - 1 - k } else { k });
            Stencil { at: order.map(|t| (i + TAPS * padded - t) % padded % n), lo: order.map(|t| DEC_LO[t]), hi: order.map(|t| DEC_HI[t]) }
        })
        .collect()
}

/// Filters `src`, `stencils.len()` rows of `inner` values, across its rows into `lo` and `hi` of the same shape.
fn across(src: &[f64], inner: usize, stencils: &[Stencil], lo: &mut [f64], hi: &mut [f64]) {
    for ((s, lo), hi) in stencils.iter().zip(lo.chunks_mut(inner)).zip(hi.chunks_mut(inner)) {
        combine(s, &s.at.map(|m| &src[m * inner..][..inner]), lo, hi);
    }
}

/// `lo[e] = Σ_k s.lo[k] · rows[k][e]` and likewise `hi`, summed in stencil order from 0 as pywt does.
fn combine(s: &Stencil, rows: &[&[f64]; TAPS], lo: &mut [f64], hi: &mut [f64]) {
    let n = lo.len().min(hi.len());
    let [r0, r1, r2, r3, r4, r5] = rows.map(|r| &r[..n]);
    let (lo, hi) = (&mut lo[..n], &mut hi[..n]);
    for e in 0..n {
        let v = [r0[e], r1[e], r2[e], r3[e], r4[e], r5[e]];
        let (mut l, mut h) = (0.0, 0.0);
        for k in 0..TAPS {
            l += s.lo[k] * v[k];
            h += s.hi[k] * v[k];
        }
        lo[e] = l;
        hi[e] = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_imaging::Geometry;

    #[test]
    fn constant_image_has_no_details_and_gain_cubed_approximation() {
        // Sizes below the filter length and odd ones too. Σ dec_lo = √2 and Σ dec_hi = 0 per axis.
        let geometry = Geometry::axis_aligned([5, 2, 3], [1.0; 3], [0.0; 3]);
        let image = Volume { geometry, data: vec![7.0; geometry.len()] };
        let bands = coif1_level1(&image);
        let names: Vec<&str> = bands.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["LLH", "LHL", "LHH", "HLL", "HLH", "HHL", "HHH", "LLL"]);
        for (name, band) in &bands {
            assert_eq!(band.geometry, geometry);
            let want = if name == "LLL" { 7.0 * 2f64.sqrt().powi(3) } else { 0.0 };
            assert!(band.data.iter().all(|v| (v - want).abs() < 1e-12), "{name}: {:?}", band.data);
        }
    }

    #[test]
    fn a_box_gives_the_whole_image_values_bit_for_bit() {
        let geometry = Geometry::axis_aligned([9, 7, 12], [0.7, 0.8, 2.5], [1.0, 2.0, 3.0]);
        let data = (0..geometry.len()).map(|n| ((n * 7919) % 1013) as f64 - 300.5).collect();
        let image = Volume { geometry, data };
        let whole = coif1_level1(&image);
        for (lo, size) in [([0, 0, 0], [9, 7, 12]), ([2, 1, 3], [4, 5, 6]), ([8, 6, 11], [1, 1, 1]), ([0, 3, 0], [9, 1, 12])] {
            let boxed = coif1_level1_box(&image, lo, size);
            for ((name, w), (bname, b)) in whole.iter().zip(&boxed) {
                assert_eq!(name, bname);
                assert_eq!(b.geometry.point([0.0; 3]), geometry.point(lo.map(|v| v as f64)));
                for k in 0..size[2] {
                    for j in 0..size[1] {
                        for i in 0..size[0] {
                            let want = w.at(lo[0] + i, lo[1] + j, lo[2] + k);
                            assert_eq!(b.at(i, j, k).to_bits(), want.to_bits(), "{name} {lo:?} ({i}, {j}, {k})");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn odd_line_wraps_through_the_padding() {
        // x = [1, 2, 3] is padded to [1, 2, 3, 1]; output 0 reads padded samples 3, 2, 1, 0, 3, 2. y and z have length
        // 1, padded to 2: their low pass gains √2 each and their high pass is (almost) 0.
        let image = Volume { geometry: Geometry::axis_aligned([3, 1, 1], [1.0; 3], [0.0; 3]), data: vec![1.0, 2.0, 3.0] };
        let bands = coif1_level1(&image);
        let padded = [1.0, 2.0, 3.0, 1.0];
        let expect = |f: &[f64; TAPS]| 2.0 * f.iter().zip([3, 2, 1, 0, 3, 2]).map(|(c, m)| c * padded[m]).sum::<f64>();
        assert!((bands[7].1.data[0] - expect(&DEC_LO)).abs() < 1e-14, "LLL");
        assert!((bands[3].1.data[0] - expect(&DEC_HI)).abs() < 1e-14, "HLL");
        assert!(bands[..3].iter().chain(&bands[4..7]).all(|(_, b)| b.data.iter().all(|v| v.abs() < 1e-14)));
    }

    #[test]
    fn stencils_follow_pywt_order() {
        // n = 3 is padded to P = 4; output 2 (pywt's i = 5) sums taps 1, 0 (past the end) first, then 2..5, reading
        // padded samples 0, 1, 3, 2, 1, 0, where padded sample 3 is original sample 0.
        let s = &stencils(3)[2];
        assert_eq!(s.at, [0, 1, 0, 2, 1, 0]);
        assert_eq!(s.lo, [1, 0, 2, 3, 4, 5].map(|t| DEC_LO[t]));
        assert_eq!(s.hi, [1, 0, 2, 3, 4, 5].map(|t| DEC_HI[t]));
        assert_eq!(stencils(3)[0].at, [0, 2, 1, 0, 0, 2]);
    }
}
