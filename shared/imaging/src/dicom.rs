//! DICOM CT series: the slices of one folder sorted along the slice normal by ImagePositionPatient,
//! RescaleSlope and RescaleIntercept applied (HU), spacing from PixelSpacing and the slice positions,
//! orientation from ImageOrientationPatient. A missing, duplicate or inconsistent slice is an error
//! naming the file.
//!
//! Privacy: the parser reads each whole file into memory, but only the geometry and pixel
//! attributes listed in [`READ`] are copied out; nothing identifying (names, dates, ids) reaches the
//! volume, and errors name files and attribute keywords, never attribute values (the parser's own
//! messages, which can quote values, are not passed on). File and folder names appear in errors as
//! they are: PACS exports that name folders after patients should be renamed first.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

use crate::geometry::{Geometry, Volume};
use crate::nifti::ImageError;
use crate::resample::PixelCast;

/// The attributes read from each slice, by keyword.
pub const READ: [&str; 12] = [
    "SeriesInstanceUID",
    "ImagePositionPatient",
    "ImageOrientationPatient",
    "PixelSpacing",
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "BitsAllocated",
    "PixelRepresentation",
    "RescaleSlope",
    "RescaleIntercept",
    "PixelData",
];

/// Uncompressed transfer syntaxes: implicit and explicit VR little endian.
const UNCOMPRESSED: [&str; 2] = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"];

fn attr(file: &Path, field: &'static str, detail: impl Into<String>) -> ImageError {
    ImageError::Header { file: file.to_path_buf(), field, detail: detail.into() }
}

struct Slice {
    file: PathBuf,
    series: String,
    position: [f64; 3],
    orientation: [f64; 6],
    spacing: [f64; 2],
    rows: usize,
    columns: usize,
    hu: Vec<f32>,
    /// The range the rescaled values can take: `None` when slope or intercept is not a whole
    /// number (GDCM then holds them as floating point).
    range: Option<(f64, f64)>,
}

fn floats(obj: &DefaultDicomObject, file: &Path, tag: dicom_core::Tag, field: &'static str, n: usize) -> Result<Vec<f64>, ImageError> {
    let v = obj.element(tag).map_err(|_| attr(file, field, "missing"))?.to_multi_float64().map_err(|_| attr(file, field, "not numeric"))?;
    if v.len() != n {
        return Err(attr(file, field, format!("{} values, expected {n}", v.len())));
    }
    Ok(v)
}

fn int(obj: &DefaultDicomObject, file: &Path, tag: dicom_core::Tag, field: &'static str) -> Result<i64, ImageError> {
    obj.element(tag).map_err(|_| attr(file, field, "missing"))?.to_int::<i64>().map_err(|_| attr(file, field, "not an integer"))
}

fn optional_float(
    obj: &DefaultDicomObject,
    file: &Path,
    tag: dicom_core::Tag,
    field: &'static str,
    default: f64,
) -> Result<f64, ImageError> {
    match obj.element(tag) {
        Ok(e) => e.to_float64().map_err(|_| attr(file, field, "not numeric")),
        Err(_) => Ok(default),
    }
}

fn read_slice(file: &Path) -> Result<Slice, ImageError> {
    // the parser's own message can quote attribute values (a patient's name): never pass it on
    let obj = OpenFileOptions::new()
        .open_file(file)
        .map_err(|_| ImageError::Format { file: file.to_path_buf(), detail: "not a readable DICOM file".into() })?;
    let syntax = obj.meta().transfer_syntax().trim_end_matches('\0').to_string();
    if !UNCOMPRESSED.contains(&syntax.as_str()) {
        return Err(attr(file, "TransferSyntaxUID", format!("{syntax}: only uncompressed little-endian slices are read")));
    }
    let series =
        obj.element(tags::SERIES_INSTANCE_UID).ok().and_then(|e| e.to_str().ok()).map(|s| s.trim().to_string()).unwrap_or_default();
    let position = floats(&obj, file, tags::IMAGE_POSITION_PATIENT, "ImagePositionPatient", 3)?;
    let orientation = floats(&obj, file, tags::IMAGE_ORIENTATION_PATIENT, "ImageOrientationPatient", 6)?;
    let spacing = floats(&obj, file, tags::PIXEL_SPACING, "PixelSpacing", 2)?;
    let dimension = |tag, field| -> Result<usize, ImageError> {
        let v = int(&obj, file, tag, field)?;
        if (1..=65535).contains(&v) { Ok(v as usize) } else { Err(attr(file, field, format!("{v} is not a pixel count"))) }
    };
    let rows = dimension(tags::ROWS, "Rows")?;
    let columns = dimension(tags::COLUMNS, "Columns")?;
    if obj.element(tags::NUMBER_OF_FRAMES).ok().and_then(|e| e.to_int::<i64>().ok()).is_some_and(|f| f != 1) {
        return Err(attr(file, "NumberOfFrames", "multi-frame images are not read: one slice per file"));
    }
    if int(&obj, file, tags::SAMPLES_PER_PIXEL, "SamplesPerPixel").unwrap_or(1) != 1 {
        return Err(attr(file, "SamplesPerPixel", "not a grayscale image"));
    }
    let bits = int(&obj, file, tags::BITS_ALLOCATED, "BitsAllocated")?;
    let signed = int(&obj, file, tags::PIXEL_REPRESENTATION, "PixelRepresentation")? == 1;
    // the value is in the low BitsStored bits (HighBit = BitsStored - 1); the bits above may hold
    // anything (overlays, or no sign extension) and are dropped
    let stored = int(&obj, file, tags::BITS_STORED, "BitsStored").unwrap_or(bits);
    if !(1..=bits).contains(&stored) {
        return Err(attr(file, "BitsStored", format!("{stored} for {bits} bits allocated")));
    }
    if let Ok(high) = int(&obj, file, tags::HIGH_BIT, "HighBit")
        && high != stored - 1
    {
        return Err(attr(file, "HighBit", format!("{high} with {stored} bits stored: only HighBit = BitsStored - 1 is read")));
    }
    let slope = optional_float(&obj, file, tags::RESCALE_SLOPE, "RescaleSlope", 1.0)?;
    let intercept = optional_float(&obj, file, tags::RESCALE_INTERCEPT, "RescaleIntercept", 0.0)?;
    let bytes = obj
        .element(tags::PIXEL_DATA)
        .map_err(|_| attr(file, "PixelData", "missing"))?
        .to_bytes()
        .map_err(|_| attr(file, "PixelData", "unreadable"))?;
    let n = rows * columns;
    let width = match bits {
        8 => 1,
        16 => 2,
        other => return Err(attr(file, "BitsAllocated", format!("{other}: only 8 and 16 are read"))),
    };
    if bytes.len() > n * width + 1 {
        return Err(attr(file, "PixelData", format!("{} bytes for one {rows} x {columns} frame", bytes.len())));
    }
    if bytes.len() < n * width {
        return Err(ImageError::Truncated {
            file: file.to_path_buf(),
            detail: format!("{} bytes of pixel data for {rows} x {columns}", bytes.len()),
        });
    }
    let mask = (1i64 << stored) - 1;
    let raw = |k: usize| -> f64 {
        let word = if width == 1 { bytes[k] as i64 } else { u16::from_le_bytes([bytes[2 * k], bytes[2 * k + 1]]) as i64 };
        let v = word & mask;
        // two's complement in `stored` bits
        if signed && v >> (stored - 1) == 1 { (v - (1i64 << stored)) as f64 } else { v as f64 }
    };
    let hu = (0..n).map(|k| (raw(k) * slope + intercept) as f32).collect();
    let range = rescaled_range(signed, stored as u32, slope, intercept);
    Ok(Slice {
        file: file.to_path_buf(),
        series,
        position: [position[0], position[1], position[2]],
        orientation: [orientation[0], orientation[1], orientation[2], orientation[3], orientation[4], orientation[5]],
        spacing: [spacing[0], spacing[1]],
        rows,
        columns,
        hu,
        range,
    })
}

/// The range of `stored`-bit values (two's complement when `signed`) after the rescale; None when
/// slope or intercept is not a whole number.
fn rescaled_range(signed: bool, stored: u32, slope: f64, intercept: f64) -> Option<(f64, f64)> {
    let (lo, hi) =
        if signed { (-(2f64.powi(stored as i32 - 1)), 2f64.powi(stored as i32 - 1) - 1.0) } else { (0.0, 2f64.powi(stored as i32) - 1.0) };
    (slope.fract() == 0.0 && intercept.fract() == 0.0).then(|| {
        let (a, b) = (lo * slope + intercept, hi * slope + intercept);
        (a.min(b), a.max(b))
    })
}

fn is_dicom(path: &Path) -> bool {
    let mut head = [0u8; 132];
    std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head)).is_ok() && &head[128..132] == b"DICM"
}

/// Reads the CT series in `dir` (files without the DICOM preamble are skipped; the folder must hold
/// one series).
pub fn read_dicom_series(dir: &Path) -> Result<Volume<f32>, ImageError> {
    read_dicom_series_stored(dir).map(|(volume, _)| volume)
}

/// [`read_dicom_series`], with the pixel type GDCM (under ITK and pyradiomics) holds the values in:
/// the narrowest integer type the rescaled stored range fits (`BitsStored`, `PixelRepresentation`,
/// whole-number `RescaleSlope` and `RescaleIntercept`), else floating point.
pub fn read_dicom_series_stored(dir: &Path) -> Result<(Volume<f32>, PixelCast), ImageError> {
    let io = |cause| ImageError::Io { file: dir.to_path_buf(), cause };
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && is_dicom(p)).collect();
    files.sort();
    if files.is_empty() {
        return Err(ImageError::Format { file: dir.to_path_buf(), detail: "no DICOM file in the folder".into() });
    }
    let mut slices: Vec<Slice> = files.iter().map(|f| read_slice(f)).collect::<Result<_, _>>()?;
    let first = &slices[0];
    let (o, rows, columns, spacing) = (first.orientation, first.rows, first.columns, first.spacing);
    for s in &slices[1..] {
        if s.series != first.series {
            return Err(attr(
                &s.file,
                "SeriesInstanceUID",
                format!("a second series in the folder (first seen in {})", first.file.display()),
            ));
        }
        if (s.rows, s.columns) != (rows, columns) {
            return Err(attr(&s.file, "Rows", format!("{} x {} differs from {} x {}", s.rows, s.columns, rows, columns)));
        }
        if s.orientation.iter().zip(&o).any(|(a, b)| (a - b).abs() > 1e-4) {
            return Err(attr(&s.file, "ImageOrientationPatient", "differs from the other slices"));
        }
        if s.spacing.iter().zip(&spacing).any(|(a, b)| (a - b).abs() > 1e-4) {
            return Err(attr(&s.file, "PixelSpacing", "differs from the other slices"));
        }
    }
    let row_dir = [o[0], o[1], o[2]];
    let col_dir = [o[3], o[4], o[5]];
    let normal = [
        row_dir[1] * col_dir[2] - row_dir[2] * col_dir[1],
        row_dir[2] * col_dir[0] - row_dir[0] * col_dir[2],
        row_dir[0] * col_dir[1] - row_dir[1] * col_dir[0],
    ];
    let along = |s: &Slice| s.position.iter().zip(&normal).map(|(p, n)| p * n).sum::<f64>();
    slices.sort_by(|a, b| along(a).total_cmp(&along(b)));
    let gaps: Vec<f64> = slices.windows(2).map(|w| along(&w[1]) - along(&w[0])).collect();
    if let Some(k) = gaps.iter().position(|gap| gap.abs() < 1e-4) {
        return Err(attr(&slices[k + 1].file, "ImagePositionPatient", format!("same position as {}", slices[k].file.display())));
    }
    // the series' step is its span over its slices, as ITK takes it (a median of steps read from
    // positions written to two decimals would be off by up to 1%)
    let slice_spacing = if gaps.is_empty() { 1.0 } else { (along(&slices[slices.len() - 1]) - along(&slices[0])) / gaps.len() as f64 };
    // each slice must lie on the line through the first one along the normal, to half a pixel: a
    // gantry tilt (or a sheared series) puts later slices beside it, and the grid below (slices
    // stacked along the normal) would silently straighten them. Judged against the first slice,
    // not step by step, so that a small tilt cannot add up over many slices.
    let half_pixel = 0.5 * spacing[0].min(spacing[1]);
    for s in &slices[1..] {
        let offset: [f64; 3] = std::array::from_fn(|r| s.position[r] - slices[0].position[r]);
        let beside: [f64; 3] = std::array::from_fn(|r| offset[r] - (along(s) - along(&slices[0])) * normal[r]);
        let beside = beside.iter().map(|v| v * v).sum::<f64>().sqrt();
        if beside > half_pixel {
            return Err(attr(
                &s.file,
                "ImagePositionPatient",
                format!(
                    "{beside:.3} mm beside the slice normal through {} (more than half a pixel): a tilted-gantry (or sheared) series is not read; resample it first",
                    slices[0].file.display()
                ),
            ));
        }
    }
    // steps may differ by what positions rounded to two decimals allow (0.02 mm) and 1%
    for (k, &gap) in gaps.iter().enumerate() {
        if (gap - slice_spacing).abs() > 0.02 + 0.01 * slice_spacing.abs() {
            return Err(attr(
                &slices[k + 1].file,
                "ImagePositionPatient",
                format!(
                    "{gap:.3} mm from {} where the series steps {slice_spacing:.3} mm: a slice is missing or misplaced",
                    slices[k].file.display()
                ),
            ));
        }
    }
    let mut geometry = Geometry::axis_aligned([columns, rows, slices.len()], [spacing[1], spacing[0], slice_spacing], slices[0].position);
    for r in 0..3 {
        geometry.direction[r] = [row_dir[r], col_dir[r], normal[r]];
    }
    let pixel = slices
        .iter()
        .map(|s| s.range)
        .try_fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| r.map(|(a, b)| (lo.min(a), hi.max(b))))
        .map_or(PixelCast::Float, |(lo, hi)| PixelCast::fitting(lo, hi));
    let mut data = Vec::with_capacity(geometry.len());
    for s in slices {
        data.extend(s.hu);
    }
    Ok((Volume { geometry, data }, pixel))
}

#[cfg(test)]
mod tests;
