//! NRRD files (`.nrrd`, header and data in one file) with raw or gzip encoding, as 3D Slicer and
//! pyradiomics' test data write them: `type`, `dimension`, `space`, `sizes`, `space directions`,
//! `space origin`, `endian`, `encoding`, `kinds`. Read into f32 voxels with their LPS geometry.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::geometry::{Geometry, Volume};
use crate::nifti::ImageError as ReadError;
use crate::raw::decode;
use crate::resample::PixelCast;

/// Largest volume read (2^31 voxels, 8 GiB as f32): a header asking for more is refused rather
/// than allocated.
pub const MAX_VOXELS: usize = 1 << 31;

fn bad(file: &Path, field: &'static str, detail: String) -> ReadError {
    ReadError::Header { file: file.to_path_buf(), field, detail }
}

fn vector(file: &Path, field: &'static str, text: &str) -> Result<[f64; 3], ReadError> {
    let inner = text.trim().trim_start_matches('(').trim_end_matches(')');
    let parts: Vec<f64> = inner
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad(file, field, format!("{text:?} is not a vector of 3 numbers")))?;
    parts.try_into().map_err(|_| bad(file, field, format!("{text:?} is not a vector of 3 numbers")))
}

/// Where the data begin: after the header's first empty line, its end "\n" or "\r\n" (the data may
/// hold those bytes too, so the header is read line by line, never searched as a whole).
fn header_end(raw: &[u8]) -> Option<usize> {
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\n' {
            if matches!(&raw[start..i], b"" | b"\r") {
                return Some(i + 1);
            }
            start = i + 1;
        }
    }
    None
}

/// Reads a 3D NRRD volume as f32.
pub fn read_nrrd(path: &Path) -> Result<Volume<f32>, ReadError> {
    read_nrrd_stored(path).map(|(volume, _)| volume)
}

/// [`read_nrrd`], with the pixel type of the file (`type`).
pub fn read_nrrd_stored(path: &Path) -> Result<(Volume<f32>, PixelCast), ReadError> {
    let raw = std::fs::read(path).map_err(|cause| ReadError::Io { file: path.to_path_buf(), cause })?;
    let header_end = header_end(&raw).ok_or_else(|| bad(path, "header", "no blank line ends the header".into()))?;
    let header = String::from_utf8_lossy(&raw[..header_end]);
    let mut lines = header.lines();
    let magic = lines.next().unwrap_or_default();
    if !magic.starts_with("NRRD000") {
        return Err(bad(path, "magic", format!("{magic:?} is not a NRRD magic line")));
    }
    let mut fields = std::collections::HashMap::new();
    for line in lines {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some((k, v)) = line.split_once(": ") {
            fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let get = |k: &'static str| fields.get(k).ok_or_else(|| bad(path, k, "missing".into()));
    if get("dimension")?.trim() != "3" {
        return Err(bad(path, "dimension", format!("{}: only 3D volumes are read", get("dimension")?)));
    }
    if fields.contains_key("data file") || fields.contains_key("datafile") {
        return Err(bad(path, "data file", "detached data files are not read".into()));
    }
    let sizes: Vec<usize> = get("sizes")?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| bad(path, "sizes", get("sizes").unwrap().clone()))?;
    let size: [usize; 3] = sizes.try_into().map_err(|_| bad(path, "sizes", "not three sizes".into()))?;
    let (width, kind) = match get("type")?.as_str() {
        "signed char" | "int8" | "int8_t" => (1, 'i'),
        "uchar" | "unsigned char" | "uint8" | "uint8_t" => (1, 'u'),
        "short" | "short int" | "signed short" | "signed short int" | "int16" | "int16_t" => (2, 'i'),
        "ushort" | "unsigned short" | "unsigned short int" | "uint16" | "uint16_t" => (2, 'u'),
        "int" | "signed int" | "int32" | "int32_t" => (4, 'i'),
        "uint" | "unsigned int" | "uint32" | "uint32_t" => (4, 'u'),
        "float" => (4, 'f'),
        "double" => (8, 'f'),
        other => return Err(bad(path, "type", format!("{other:?} is not a supported voxel type"))),
    };
    let little = fields.get("endian").is_none_or(|e| e == "little");
    for (field, value) in [("byte skip", "0"), ("line skip", "0")] {
        if fields.get(field).is_some_and(|v| v.trim() != value) {
            return Err(bad(
                path,
                if field == "byte skip" { "byte skip" } else { "line skip" },
                "skipping bytes or lines is not supported".into(),
            ));
        }
    }
    let n = size
        .iter()
        .try_fold(1usize, |a, &b| a.checked_mul(b))
        .filter(|&n| n > 0 && n <= MAX_VOXELS)
        .ok_or_else(|| bad(path, "sizes", format!("{size:?}: empty or more than {MAX_VOXELS} voxels")))?;
    let body = &raw[header_end..];
    let data_bytes = match get("encoding")?.as_str() {
        "raw" => body.to_vec(),
        "gzip" | "gz" => {
            let mut out = Vec::with_capacity((n * width).min(body.len().saturating_mul(8)));
            MultiGzDecoder::new(body).take((n * width) as u64 + 1).read_to_end(&mut out).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    ReadError::Truncated { file: path.to_path_buf(), detail: "gzip stream ends early".into() }
                }
                _ => ReadError::Io { file: path.to_path_buf(), cause: e },
            })?;
            out
        }
        other => return Err(bad(path, "encoding", format!("{other:?}: only raw and gzip are read"))),
    };
    if data_bytes.len() < n * width {
        return Err(ReadError::Truncated {
            file: path.to_path_buf(),
            detail: format!("{} bytes of voxel data, expected {}", data_bytes.len(), n * width),
        });
    }
    let data = decode(&data_bytes[..n * width], width, kind, little);

    // geometry: space directions are the axis vectors (columns), in the declared space
    let flip = match fields.get("space").map(String::as_str) {
        None | Some("left-posterior-superior") | Some("LPS") => [1.0, 1.0, 1.0],
        Some("right-anterior-superior") | Some("RAS") => [-1.0, -1.0, 1.0],
        Some("left-anterior-superior") | Some("LAS") => [1.0, -1.0, 1.0],
        Some(other) => return Err(bad(path, "space", format!("{other:?} is not a supported space"))),
    };
    let mut geometry = Geometry::axis_aligned(size, [1.0; 3], [0.0; 3]);
    if let Some(dirs) = fields.get("space directions") {
        let axes: Vec<&str> = dirs.split(')').map(str::trim).filter(|s| !s.is_empty()).collect();
        if axes.len() != 3 {
            return Err(bad(path, "space directions", format!("{dirs:?}: three vectors expected")));
        }
        for (c, axis) in axes.iter().enumerate() {
            let v = vector(path, "space directions", axis)?;
            let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            if norm.is_nan() || norm <= 0.0 {
                return Err(bad(path, "space directions", format!("axis {c} has zero length")));
            }
            geometry.spacing[c] = norm;
            for r in 0..3 {
                geometry.direction[r][c] = flip[r] * v[r] / norm;
            }
        }
    } else if let Some(spacings) = fields.get("spacings") {
        let s: Vec<f64> =
            spacings.split_whitespace().map(str::parse).collect::<Result<_, _>>().map_err(|_| bad(path, "spacings", spacings.clone()))?;
        geometry.spacing = s.try_into().map_err(|_| bad(path, "spacings", "three spacings expected".into()))?;
    }
    if let Some(origin) = fields.get("space origin") {
        let o = vector(path, "space origin", origin)?;
        geometry.origin = [flip[0] * o[0], flip[1] * o[1], flip[2] * o[2]];
    }
    Ok((Volume { geometry, data }, PixelCast::stored(width, kind)))
}

/// Reads a volume: a folder is a DICOM series, a file is read by its extension (`.nii`, `.nii.gz`,
/// `.nrrd`).
pub fn read_volume(path: &Path) -> Result<Volume<f32>, ReadError> {
    read_volume_stored(path).map(|(volume, _)| volume)
}

/// [`read_volume`], with the pixel type ITK (and so pyradiomics) holds the values in: what an
/// interpolated value is cast to when the volume is resampled.
pub fn read_volume_stored(path: &Path) -> Result<(Volume<f32>, PixelCast), ReadError> {
    if path.is_dir() {
        return crate::dicom::read_dicom_series_stored(path);
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    if name.ends_with(".nrrd") {
        read_nrrd_stored(path)
    } else if name.ends_with(".nii") || name.ends_with(".nii.gz") {
        crate::nifti::read_nifti_stored(path)
    } else {
        Err(bad(path, "file name", "expected a DICOM folder, .nii, .nii.gz or .nrrd".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn data(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/radiomics/pyradiomics").join(name)
    }

    #[test]
    fn reads_pyradiomics_test_images() {
        // (file, size, spacing, origin, flipped y) from the headers
        let cases: &[(&str, [usize; 3], [f64; 3], [f64; 3], bool)] = &[
            ("brain1_image.nrrd", [256, 256, 25], [0.78125, 0.78125, 6.5], [-99.609375, 99.609375, -78.0], true),
            ("lung1_label.nrrd", [512, 512, 48], [0.5703125, 0.5703125, 5.0], [-146.0, -325.0, -777.5], false),
        ];
        for (name, size, spacing, origin, flipped) in cases {
            let v = read_nrrd(&data(name)).unwrap();
            assert_eq!(v.geometry.size, *size, "{name}");
            for c in 0..3 {
                assert!((v.geometry.spacing[c] - spacing[c]).abs() < 1e-9, "{name} spacing");
                assert!((v.geometry.origin[c] - origin[c]).abs() < 1e-9, "{name} origin");
            }
            assert_eq!(v.geometry.direction[1][1], if *flipped { -1.0 } else { 1.0 });
            assert_eq!(v.data.len(), size.iter().product::<usize>());
        }
        let label = read_nrrd(&data("breast1_label.nrrd")).unwrap();
        assert!(label.data.contains(&1.0));
    }

    /// A file `name` of `header` then `values` as little-endian shorts: its path and bytes.
    fn short_nrrd(name: &str, header: &str, values: impl IntoIterator<Item = i16>) -> (PathBuf, Vec<u8>) {
        let dir = std::env::temp_dir().join(format!("tacefusion-nrrd-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = header.as_bytes().to_vec();
        values.into_iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        (path, bytes)
    }

    #[test]
    fn raw_encoding_and_truncation() {
        let header = "NRRD0004\ntype: short\ndimension: 3\nspace: left-posterior-superior\nsizes: 2 2 2\nspace directions: (1,0,0) (0,2,0) (0,0,3)\nendian: little\nencoding: raw\nspace origin: (1,2,3)\n\n";
        let (path, bytes) = short_nrrd("raw.nrrd", header, (0i16..8).map(|v| v * 10 - 20));
        let v = read_volume(&path).unwrap();
        assert_eq!(v.data, vec![-20.0, -10.0, 0.0, 10.0, 20.0, 30.0, 40.0, 50.0]);
        assert_eq!(v.geometry.spacing, [1.0, 2.0, 3.0]);
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(matches!(read_volume(&path), Err(ReadError::Truncated { .. })));
    }

    #[test]
    fn crlf_headers_end_at_their_blank_line_and_detached_data_is_named() {
        let header = "NRRD0004\r\ntype: short\r\ndimension: 3\r\nspace: left-posterior-superior\r\nsizes: 2 2 2\r\nspace directions: (1,0,0) (0,1,0) (0,0,1)\r\nendian: little\r\nencoding: raw\r\nspace origin: (0,0,0)\r\n\r\n";
        // 2570 = 0x0A0A: every voxel's bytes read as a blank line "\n\n"
        let (path, _) = short_nrrd("crlf.nrrd", header, [2570i16; 8]);
        assert_eq!(read_volume(&path).unwrap().data, vec![2570.0; 8]);
        for field in ["data file", "datafile"] {
            let detached = header.replace("encoding: raw", &format!("encoding: raw\r\n{field}: crlf.raw"));
            std::fs::write(&path, detached.as_bytes()).unwrap();
            let e = read_volume(&path).unwrap_err().to_string();
            assert!(e.contains("detached data files are not read"), "{field}: {e}");
        }
    }
}
