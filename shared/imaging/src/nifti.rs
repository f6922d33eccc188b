//! NIfTI-1 single files (`.nii`, `.nii.gz`): read into f32 voxels with their geometry, write u8, i16
//! or f32 volumes with a consistent sform and qform.
//!
//! NIfTI stores the voxel-to-world affine in RAS; `Geometry` is LPS, so x and y change sign on the
//! way in and out. On reading, the transform is chosen as ITK chooses it (pyradiomics reads through
//! ITK): the sform when its code is 1 (scanner) or there is no qform, provided its axes are at
//! right angles; else the qform; else the pixel dimensions alone on LPS axes. A sheared sform
//! with no qform is an error. Scaling (`scl_slope`, `scl_inter`) is applied.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::geometry::{Geometry, Volume};
use crate::raw::decode;
use crate::resample::PixelCast;

/// Why a NIfTI file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The file could not be opened, read or written.
    #[error("{file}: {cause}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause (in the message, so not also a `source`: a chain printed whole would say it twice).
        cause: std::io::Error,
    },
    /// The gzip stream or the voxel data ends early.
    #[error("{file}: truncated ({detail})")]
    Truncated {
        /// The file.
        file: PathBuf,
        /// What was missing.
        detail: String,
    },
    /// The file (or folder) is not what it should be: not DICOM, no slice in a series.
    #[error("{file}: {detail}")]
    Format {
        /// The file or folder.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A header field with a value this reader does not accept.
    #[error("{file}: header field {field}: {detail}")]
    Header {
        /// The file.
        file: PathBuf,
        /// The field, as the NIfTI-1 standard names it.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Voxel values to write, with their on-disk type.
#[derive(Debug, Clone, PartialEq)]
pub enum VoxelData {
    /// unsigned 8-bit (label maps, masks)
    U8(Vec<u8>),
    /// signed 16-bit (CT in HU)
    I16(Vec<i16>),
    /// 32-bit float
    F32(Vec<f32>),
}

impl VoxelData {
    fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::F32(v) => v.len(),
        }
    }
    fn code_and_bits(&self) -> (i16, i16) {
        match self {
            Self::U8(_) => (2, 8),
            Self::I16(_) => (4, 16),
            Self::F32(_) => (16, 32),
        }
    }
}

const HEADER: usize = 348;
const VOX_OFFSET: usize = 352;

fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Writes a volume; gzip-compressed when the name ends in `.gz` (fixed header time, so the same
/// volume always gives the same bytes).
pub fn write_nifti(path: &Path, geometry: &Geometry, data: &VoxelData) -> Result<(), ImageError> {
    let io = |cause| ImageError::Io { file: path.to_path_buf(), cause };
    if geometry.size.iter().any(|&s| s == 0 || s > i16::MAX as usize) {
        return Err(ImageError::Header {
            file: path.to_path_buf(),
            field: "dim",
            detail: format!("{:?}: NIfTI-1 holds 1 to 32767 voxels per axis", geometry.size),
        });
    }
    if data.len() != geometry.len() {
        return Err(ImageError::Header {
            file: path.to_path_buf(),
            field: "dim",
            detail: format!("{} voxels for a {:?} grid", data.len(), geometry.size),
        });
    }
    let mut bytes = header(geometry, data);
    match data {
        VoxelData::U8(v) => bytes.extend_from_slice(v),
        VoxelData::I16(v) => v.iter().for_each(|x| bytes.extend_from_slice(&x.to_le_bytes())),
        VoxelData::F32(v) => v.iter().for_each(|x| bytes.extend_from_slice(&x.to_le_bytes())),
    }
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::new(file);
    if is_gzip(path) {
        let mut gz = GzEncoder::new(out, Compression::fast());
        gz.write_all(&bytes).map_err(io)?;
        gz.finish().map_err(io)?.flush().map_err(io)?;
    } else {
        out.write_all(&bytes).map_err(io)?;
        out.flush().map_err(io)?;
    }
    Ok(())
}

/// RAS affine rows of an LPS geometry.
fn ras_affine(g: &Geometry) -> [[f64; 4]; 4] {
    let mut a = g.affine();
    for c in 0..4 {
        a[0][c] = -a[0][c];
        a[1][c] = -a[1][c];
    }
    a
}

/// NIfTI quaternion (b, c, d) and qfac of a RAS rotation (columns of unit length).
fn quaternion(mut r: [[f64; 3]; 3]) -> ([f64; 3], f64) {
    let det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
        + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
    let qfac = if det < 0.0 { -1.0 } else { 1.0 };
    if det < 0.0 {
        for row in r.iter_mut() {
            row[2] = -row[2];
        }
    }
    let trace = r[0][0] + r[1][1] + r[2][2];
    let (a, b, c, d);
    if trace > 0.0 {
        let s = 2.0 * (1.0 + trace).sqrt();
        a = 0.25 * s;
        b = (r[2][1] - r[1][2]) / s;
        c = (r[0][2] - r[2][0]) / s;
        d = (r[1][0] - r[0][1]) / s;
    } else if r[0][0] > r[1][1] && r[0][0] > r[2][2] {
        let s = 2.0 * (1.0 + r[0][0] - r[1][1] - r[2][2]).sqrt();
        a = (r[2][1] - r[1][2]) / s;
        b = 0.25 * s;
        c = (r[0][1] + r[1][0]) / s;
        d = (r[0][2] + r[2][0]) / s;
    } else if r[1][1] > r[2][2] {
        let s = 2.0 * (1.0 + r[1][1] - r[0][0] - r[2][2]).sqrt();
        a = (r[0][2] - r[2][0]) / s;
        b = (r[0][1] + r[1][0]) / s;
        c = 0.25 * s;
        d = (r[1][2] + r[2][1]) / s;
    } else {
        let s = 2.0 * (1.0 + r[2][2] - r[0][0] - r[1][1]).sqrt();
        a = (r[1][0] - r[0][1]) / s;
        b = (r[0][2] + r[2][0]) / s;
        c = (r[1][2] + r[2][1]) / s;
        d = 0.25 * s;
    }
    // the standard keeps a >= 0 (a is implied by b, c, d)
    let sign = if a < 0.0 { -1.0 } else { 1.0 };
    ([sign * b, sign * c, sign * d], qfac)
}

fn header(g: &Geometry, data: &VoxelData) -> Vec<u8> {
    let mut h = vec![0u8; VOX_OFFSET];
    let put_i16 = |h: &mut Vec<u8>, at: usize, v: i16| h[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put_i32 = |h: &mut Vec<u8>, at: usize, v: i32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut Vec<u8>, at: usize, v: f32| h[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put_i32(&mut h, 0, HEADER as i32);
    h[38] = b'r';
    let dims = [3i16, g.size[0] as i16, g.size[1] as i16, g.size[2] as i16, 1, 1, 1, 1];
    for (k, d) in dims.iter().enumerate() {
        put_i16(&mut h, 40 + 2 * k, *d);
    }
    let (code, bits) = data.code_and_bits();
    put_i16(&mut h, 70, code);
    put_i16(&mut h, 72, bits);
    let affine = ras_affine(g);
    let rotation = [
        [affine[0][0] / g.spacing[0], affine[0][1] / g.spacing[1], affine[0][2] / g.spacing[2]],
        [affine[1][0] / g.spacing[0], affine[1][1] / g.spacing[1], affine[1][2] / g.spacing[2]],
        [affine[2][0] / g.spacing[0], affine[2][1] / g.spacing[1], affine[2][2] / g.spacing[2]],
    ];
    let (q, qfac) = quaternion(rotation);
    let pixdim = [qfac, g.spacing[0], g.spacing[1], g.spacing[2], 1.0, 1.0, 1.0, 1.0];
    for (k, p) in pixdim.iter().enumerate() {
        put_f32(&mut h, 76 + 4 * k, *p as f32);
    }
    put_f32(&mut h, 108, VOX_OFFSET as f32);
    put_f32(&mut h, 112, 1.0);
    h[123] = 2; // xyzt_units: millimetres
    h[148..148 + 10].copy_from_slice(b"tacefusion");
    put_i16(&mut h, 252, 1); // qform_code: scanner
    put_i16(&mut h, 254, 1); // sform_code: scanner
    for (k, v) in q.iter().enumerate() {
        put_f32(&mut h, 256 + 4 * k, *v as f32);
    }
    for r in 0..3 {
        put_f32(&mut h, 268 + 4 * r, affine[r][3] as f32);
        for c in 0..4 {
            put_f32(&mut h, 280 + 16 * r + 4 * c, affine[r][c] as f32);
        }
    }
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

/// Reads a volume as f32 (scaling applied), whatever its stored type.
pub fn read_nifti(path: &Path) -> Result<Volume<f32>, ImageError> {
    read_nifti_stored(path).map(|(volume, _)| volume)
}

/// [`read_nifti`], with the pixel type ITK holds the values in: the stored type, or 32-bit float
/// when the header scales the values (`scl_slope` other than 0 or 1, or `scl_inter` other than 0).
pub fn read_nifti_stored(path: &Path) -> Result<(Volume<f32>, PixelCast), ImageError> {
    let file = path.to_path_buf();
    let io = |cause| ImageError::Io { file: file.clone(), cause };
    let raw = std::fs::read(path).map_err(io)?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => ImageError::Truncated { file: file.clone(), detail: "gzip stream ends early".into() },
            _ => ImageError::Io { file: file.clone(), cause: e },
        })?;
        out
    } else {
        raw
    };
    parse(&bytes, &file)
}

fn parse(b: &[u8], file: &Path) -> Result<(Volume<f32>, PixelCast), ImageError> {
    let bad = |field: &'static str, detail: String| ImageError::Header { file: file.to_path_buf(), field, detail };
    if b.len() < HEADER {
        return Err(ImageError::Truncated { file: file.to_path_buf(), detail: format!("{} bytes, the header alone is 348", b.len()) });
    }
    let little = i32::from_le_bytes(b[0..4].try_into().unwrap()) == HEADER as i32;
    if !little && i32::from_be_bytes(b[0..4].try_into().unwrap()) != HEADER as i32 {
        return Err(bad("sizeof_hdr", "not 348: not a NIfTI-1 file".into()));
    }
    let i16_at = |at: usize| {
        let v: [u8; 2] = b[at..at + 2].try_into().unwrap();
        if little { i16::from_le_bytes(v) } else { i16::from_be_bytes(v) }
    };
    let f32_at = |at: usize| {
        let v: [u8; 4] = b[at..at + 4].try_into().unwrap();
        if little { f32::from_le_bytes(v) } else { f32::from_be_bytes(v) }
    };
    if &b[344..347] != b"n+1" {
        return Err(bad("magic", format!("{:?}: only single-file NIfTI-1 (n+1) is read", String::from_utf8_lossy(&b[344..348]))));
    }
    let ndim = i16_at(40);
    let dim: Vec<i16> = (0..8).map(|k| i16_at(40 + 2 * k)).collect();
    if !(1..=7).contains(&ndim) || (4..=ndim as usize).any(|k| dim[k] > 1) {
        return Err(bad("dim", format!("{:?}: only 3D volumes are read", &dim[..=ndim.clamp(0, 7) as usize])));
    }
    if (1..=ndim as usize).any(|k| dim[k] < 1) {
        return Err(bad("dim", format!("{:?}: a dimension below 1", &dim[..=ndim as usize])));
    }
    let size = [1, 2, 3].map(|k| if k <= ndim as usize { dim[k] as usize } else { 1 });
    let datatype = i16_at(70);
    let pixdim: Vec<f64> = (0..8).map(|k| f32_at(76 + 4 * k) as f64).collect();
    let raw_offset = f32_at(108);
    if !(raw_offset.is_finite() && raw_offset >= 0.0 && (raw_offset as usize) <= b.len()) {
        return Err(bad("vox_offset", format!("{raw_offset} is outside the file")));
    }
    let offset = raw_offset as usize;
    let (slope, inter) = (f32_at(112), f32_at(116));
    let (slope, inter) = if slope == 0.0 || !slope.is_finite() { (1.0, 0.0) } else { (slope, inter) };
    if !inter.is_finite() {
        return Err(bad("scl_inter", format!("{inter} is not finite")));
    }
    let n: usize = size.iter().product(); // at most 32767³ < 2^45: no overflow
    let width = match datatype {
        2 | 256 => 1,
        4 | 512 => 2,
        8 | 768 | 16 => 4,
        64 => 8,
        other => return Err(bad("datatype", format!("{other} is not a supported voxel type"))),
    };
    let need = offset.max(HEADER) + n * width;
    if b.len() < need {
        return Err(ImageError::Truncated {
            file: file.to_path_buf(),
            detail: format!("{} bytes of voxel data, expected {}", b.len().saturating_sub(offset), n * width),
        });
    }
    let kind = match datatype {
        256 | 4 | 8 => 'i',
        16 | 64 => 'f',
        _ => 'u',
    };
    let mut data = decode(&b[offset.max(HEADER)..need], width, kind, little);
    let scaled = slope != 1.0 || inter != 0.0;
    if scaled {
        data.iter_mut().for_each(|v| *v = (*v as f64 * slope as f64 + inter as f64) as f32);
    }
    let pixel = if scaled { PixelCast::Float } else { PixelCast::stored(width, kind) };

    // voxel-to-RAS affine, chosen as ITK (and so pyradiomics) chooses it: the sform when its code
    // says scanner coordinates or there is no qform, and only when its axes are at right angles
    // (ITK keeps a rotation, not a shear: an uncorrected gantry tilt); else the qform; else the
    // voxel grid itself, unrotated in ITK's LPS
    let (qform_code, sform_code) = (i16_at(252), i16_at(254));
    let mut sform = [[0.0f64; 4]; 3];
    for (r, row) in sform.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = f32_at(280 + 16 * r + 4 * c) as f64;
        }
    }
    let sform_wanted = sform_code > 0 && (sform_code == 1 || qform_code <= 0);
    let sform_usable = sform_wanted && right_angled(&sform);
    let mut ras = [[0.0f64; 4]; 3];
    if sform_usable {
        ras = sform;
    } else if qform_code > 0 {
        let (qb, qc, qd) = (f32_at(256) as f64, f32_at(260) as f64, f32_at(264) as f64);
        let qa = (1.0 - (qb * qb + qc * qc + qd * qd)).max(0.0).sqrt();
        let rot = [
            [qa * qa + qb * qb - qc * qc - qd * qd, 2.0 * (qb * qc - qa * qd), 2.0 * (qb * qd + qa * qc)],
            [2.0 * (qb * qc + qa * qd), qa * qa + qc * qc - qb * qb - qd * qd, 2.0 * (qc * qd - qa * qb)],
            [2.0 * (qb * qd - qa * qc), 2.0 * (qc * qd + qa * qb), qa * qa + qd * qd - qc * qc - qb * qb],
        ];
        let qfac = if pixdim[0] < 0.0 { -1.0 } else { 1.0 };
        let scale = [pixdim[1], pixdim[2], qfac * pixdim[3]];
        for r in 0..3 {
            for c in 0..3 {
                ras[r][c] = rot[r][c] * scale[c];
            }
            ras[r][3] = f32_at(268 + 4 * r) as f64;
        }
    } else if sform_code > 0 {
        return Err(bad(
            "srow_x/srow_y/srow_z",
            "the sform's axes are not at right angles (a sheared grid, as an uncorrected gantry tilt gives) and there is no qform to fall back on; resample the scan onto a right-angled grid first".into(),
        ));
    } else {
        // no transform at all: the grid's axes are LPS's, the origin 0 (as ITK reads it)
        for c in 0..3 {
            ras[c][c] = if c < 2 { -pixdim[c + 1] } else { pixdim[c + 1] };
        }
    }
    // the affine is in the header's spatial unit (xyzt_units bits 0-2): metres, mm (or unknown,
    // read as mm, as ITK does) or micrometres
    let unit_mm = match b[123] & 0x07 {
        1 => 1000.0,
        3 => 0.001,
        _ => 1.0,
    };
    ras.iter_mut().flatten().for_each(|v| *v *= unit_mm);
    let mut geometry = Geometry::axis_aligned(size, [1.0; 3], [0.0; 3]);
    for c in 0..3 {
        let col = [-ras[0][c], -ras[1][c], ras[2][c]];
        let norm = (col[0] * col[0] + col[1] * col[1] + col[2] * col[2]).sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return Err(bad(if sform_usable { "srow" } else { "pixdim" }, format!("axis {c} has zero length")));
        }
        geometry.spacing[c] = norm;
        for r in 0..3 {
            geometry.direction[r][c] = col[r] / norm;
        }
    }
    geometry.origin = [-ras[0][3], -ras[1][3], ras[2][3]];
    Ok((Volume { geometry, data }, pixel))
}

/// Whether the three axis columns of a voxel-to-world affine are at right angles to each other
/// (the cosine of each angle under 1e-4: room for f32 header values and six-decimal DICOM
/// orientations, while a 0.5 degree shear is 9e-3).
fn right_angled(affine: &[[f64; 4]; 3]) -> bool {
    let column = |c: usize| [affine[0][c], affine[1][c], affine[2][c]];
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    [(0, 1), (0, 2), (1, 2)].iter().all(|&(i, j)| {
        let (a, b) = (column(i), column(j));
        dot(a, b).abs() <= 1e-4 * (dot(a, a) * dot(b, b)).sqrt()
    })
}

#[cfg(test)]
mod tests;
