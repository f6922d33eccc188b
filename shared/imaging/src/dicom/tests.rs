//! DICOM series written slice by slice (with identifying attributes filled in), shuffled, read back:
//! geometry and HU round-trip; missing, duplicate and inconsistent slices are errors naming the file;
//! nothing identifying comes out.

use dicom_core::{DataElement, PrimitiveValue, VR, dicom_value};
use dicom_dictionary_std::{tags, uids};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use super::*;

struct Series {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

/// Writes `nz` slices of `ny` x `nx` pixels; HU = stored * 2 - 1024; slice k at z = 10 + 2.5 k along a
/// tilted orientation.
fn write_series(name: &str, nx: usize, ny: usize, nz: usize) -> Series {
    write_series_with(name, nx, ny, nz, &|k| (-50.0, 10.0 + 2.5 * k as f64), 16)
}

/// [`write_series`] with slice k at (x, 20, z) = `position(k)` (an x growing with k puts slices
/// across the normal: a gantry tilt), and `bits_stored` bits per value: under 16, the values are
/// shifted by -1000 (some negative) and the bits above them hold 0101 (as overlays may), not the
/// sign.
fn write_series_with(name: &str, nx: usize, ny: usize, nz: usize, position: &dyn Fn(usize) -> (f64, f64), bits_stored: u16) -> Series {
    let dir = std::env::temp_dir().join(format!("tacefusion-dicom-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (c, s) = (0.8f64, 0.6f64);
    let row_dir = [c, s, 0.0];
    let col_dir = [-s, c, 0.0];
    let mut files = Vec::new();
    for k in 0..nz {
        let mut obj = InMemDicomObject::new_empty();
        let put = |obj: &mut InMemDicomObject, tag, vr, value: PrimitiveValue| obj.put(DataElement::new(tag, vr, value));
        put(&mut obj, tags::PATIENT_NAME, VR::PN, PrimitiveValue::from("Doe^Jane"));
        put(&mut obj, tags::PATIENT_BIRTH_DATE, VR::DA, PrimitiveValue::from("19600101"));
        put(&mut obj, tags::PATIENT_ID, VR::LO, PrimitiveValue::from("HOSP-123456"));
        put(&mut obj, tags::SERIES_INSTANCE_UID, VR::UI, PrimitiveValue::from("1.2.3.4.5"));
        put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, PrimitiveValue::from(format!("1.2.3.4.5.{k}")));
        put(&mut obj, tags::SOP_CLASS_UID, VR::UI, PrimitiveValue::from(uids::CT_IMAGE_STORAGE));
        let (x, z) = position(k);
        put(&mut obj, tags::IMAGE_POSITION_PATIENT, VR::DS, dicom_value!(Strs, [format!("{x}"), "20".to_string(), format!("{z}")]));
        let o: Vec<String> = row_dir.iter().chain(&col_dir).map(|v| format!("{v}")).collect();
        put(&mut obj, tags::IMAGE_ORIENTATION_PATIENT, VR::DS, PrimitiveValue::Strs(o.into()));
        put(&mut obj, tags::PIXEL_SPACING, VR::DS, dicom_value!(Strs, ["0.7".to_string(), "0.9".to_string()]));
        put(&mut obj, tags::ROWS, VR::US, dicom_value!(U16, [ny as u16]));
        put(&mut obj, tags::COLUMNS, VR::US, dicom_value!(U16, [nx as u16]));
        put(&mut obj, tags::SAMPLES_PER_PIXEL, VR::US, dicom_value!(U16, [1]));
        put(&mut obj, tags::BITS_ALLOCATED, VR::US, dicom_value!(U16, [16]));
        put(&mut obj, tags::BITS_STORED, VR::US, dicom_value!(U16, [bits_stored]));
        put(&mut obj, tags::HIGH_BIT, VR::US, dicom_value!(U16, [bits_stored - 1]));
        put(&mut obj, tags::PIXEL_REPRESENTATION, VR::US, dicom_value!(U16, [1]));
        put(&mut obj, tags::RESCALE_SLOPE, VR::DS, dicom_value!(Strs, ["2".to_string()]));
        put(&mut obj, tags::RESCALE_INTERCEPT, VR::DS, dicom_value!(Strs, ["-1024".to_string()]));
        let value = |p: usize| (p + 100 * k) as i16 - if bits_stored < 16 { 1000 } else { 0 };
        let word = |v: i16| if bits_stored < 16 { (v as u16 & ((1 << bits_stored) - 1)) | (0x5555 << bits_stored) } else { v as u16 };
        let pixels: Vec<u8> = (0..nx * ny).flat_map(|p| word(value(p)).to_le_bytes()).collect();
        put(&mut obj, tags::PIXEL_DATA, VR::OW, PrimitiveValue::from(pixels));
        let file = obj
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN)
                    .media_storage_sop_class_uid(uids::CT_IMAGE_STORAGE)
                    .media_storage_sop_instance_uid(format!("1.2.3.4.5.{k}")),
            )
            .unwrap();
        // file names out of slice order: the reader must sort by position
        let path = dir.join(format!("IMG{:04}.dcm", (k * 7919) % 1000));
        file.write_to_file(&path).unwrap();
        files.push(path);
    }
    std::fs::write(dir.join("README.txt"), "not a DICOM file").unwrap();
    Series { dir, files }
}

#[test]
fn a_shuffled_series_reads_back_in_order_with_its_geometry() {
    let s = write_series("good", 5, 4, 6);
    let v = read_dicom_series(&s.dir).unwrap();
    assert_eq!(v.geometry.size, [5, 4, 6]);
    for (got, want) in v.geometry.spacing.iter().zip([0.9, 0.7, 2.5]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
    assert_eq!(v.geometry.origin, [-50.0, 20.0, 10.0]);
    assert!((v.geometry.direction[0][0] - 0.8).abs() < 1e-12 && (v.geometry.direction[1][1] - 0.8).abs() < 1e-12);
    assert_eq!(v.geometry.direction[2][2], 1.0);
    // HU of pixel (i, j) of slice k: (j * 5 + i + 100 k) * 2 - 1024
    for k in 0..6 {
        for j in 0..4 {
            for i in 0..5 {
                let want = ((j * 5 + i + 100 * k) as f32) * 2.0 - 1024.0;
                assert_eq!(v.at(i, j, k), want, "({i}, {j}, {k})");
            }
        }
    }
}

#[test]
fn the_pixel_type_is_the_one_gdcm_chooses() {
    // (PixelRepresentation signed, BitsStored, RescaleSlope, RescaleIntercept) -> the pixel type
    // SimpleITK 2.5.7's ImageSeriesReader (GDCM) gave for a series written so by pydicom
    let int = |bytes| PixelCast::stored(bytes, 'i');
    let uint = |bytes| PixelCast::stored(bytes, 'u');
    for (signed, stored, slope, intercept, want) in [
        (false, 12, 1.0, -1024.0, int(2)),
        (true, 16, 1.0, -1024.0, int(4)),
        (false, 16, 1.0, -1024.0, int(4)),
        (true, 16, 1.0, 0.0, int(2)),
        (true, 12, 1.0, -1024.0, int(2)),
        (false, 16, 1.0, 0.0, uint(2)),
        (true, 16, 2.0, -1024.0, int(4)),
        (true, 16, 0.5, -1024.0, PixelCast::Float),
        (false, 16, 1.0, -1024.5, PixelCast::Float),
        (false, 12, 1.0, 0.0, uint(2)),
        (false, 8, 1.0, 0.0, uint(1)),
        (false, 8, 1.0, -1024.0, int(2)),
        (true, 16, 1.0, 1000.0, int(4)),
    ] {
        let got = rescaled_range(signed, stored, slope, intercept).map_or(PixelCast::Float, |(lo, hi)| PixelCast::fitting(lo, hi));
        assert_eq!(got, want, "signed {signed}, {stored} bits, slope {slope}, intercept {intercept}");
    }
    // the test series: 16 and 12 signed bits stored, slope 2, intercept -1024
    let (_, pixel) = read_dicom_series_stored(&write_series("typed", 3, 3, 2).dir).unwrap();
    assert_eq!(pixel, int(4));
    let (_, pixel) = read_dicom_series_stored(&write_series_with("typed-12", 3, 3, 2, &|k| (-50.0, 2.5 * k as f64), 12).dir).unwrap();
    assert_eq!(pixel, int(2));
}

#[test]
fn values_are_read_from_the_bits_stored_only() {
    // 12 bits stored in 16, signed, with 0101 above them: stored -1000 ..= -467
    let s = write_series_with("bits-stored", 5, 4, 6, &|k| (-50.0, 10.0 + 2.5 * k as f64), 12);
    let v = read_dicom_series(&s.dir).unwrap();
    for k in 0..6 {
        for p in 0..20 {
            let want = ((p + 100 * k) as f32 - 1000.0) * 2.0 - 1024.0;
            assert_eq!(v.at(p % 5, p / 5, k), want, "pixel {p} of slice {k}");
        }
    }
}

#[test]
fn a_tilted_gantry_series_is_refused_naming_the_slice() {
    // (name, slices, x shift per 2.5 mm step in mm, refused): a slice more than half a pixel
    // (0.35 mm) beside the normal through the first one is refused
    for (name, nz, shear, refused) in [
        ("tilt-20-degrees", 4, 0.9, true),
        // 0.8% of the step: passes step by step, but the 20th slice is 0.38 mm off
        ("tilt-adding-up", 20, 0.02, true),
        ("positions-to-1e-3", 4, 0.001, false),
        ("tilt-within-half-a-pixel", 10, 0.03, false),
    ] {
        let s = write_series_with(name, 3, 3, nz, &|k| (-50.0 + shear * k as f64, 10.0 + 2.5 * k as f64), 16);
        match read_dicom_series(&s.dir) {
            Err(e) if refused => {
                let e = e.to_string();
                assert!(e.contains("ImagePositionPatient") && e.contains("tilted-gantry") && e.contains(".dcm"), "{name}: {e}");
            }
            Ok(_) if !refused => {}
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn positions_rounded_to_two_decimals_read_with_the_mean_step() {
    // a 0.625 mm series whose positions were written to two decimals: steps of 0.62 and 0.63 mm;
    // SimpleITK 2.5.7 reads such a series with a spacing of 0.6257 (0.625 +- rounding / span)
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let s = write_series_with("two-decimals", 3, 3, 8, &|k| (-50.0, round(-100.0 + 0.625 * k as f64)), 16);
    let v = read_dicom_series(&s.dir).unwrap();
    let want = (round(-100.0 + 0.625 * 7.0) + 100.0) / 7.0;
    assert!((v.geometry.spacing[2] - want).abs() < 1e-9 && (want - 0.625).abs() < 2e-3, "{:?}", v.geometry.spacing);
}

#[test]
fn missing_duplicate_and_foreign_slices_name_the_file() {
    let s = write_series("missing", 3, 3, 5);
    // the third slice (z = 15) is gone: the step from 12.5 to 17.5 is twice the series' step
    let third = s.files[2].clone();
    std::fs::remove_file(&third).unwrap();
    let e = read_dicom_series(&s.dir).unwrap_err().to_string();
    assert!(e.contains("missing") && e.contains("ImagePositionPatient"), "{e}");
    let s = write_series("duplicate", 3, 3, 4);
    std::fs::copy(&s.files[1], s.dir.join("copy.dcm")).unwrap();
    let e = read_dicom_series(&s.dir).unwrap_err().to_string();
    assert!(
        e.contains("same position") && (e.contains("copy.dcm") || e.contains(s.files[1].file_name().unwrap().to_str().unwrap())),
        "{e}"
    );
    let a = write_series("mixed-a", 3, 3, 3);
    let b = write_series("mixed-b", 4, 3, 3);
    std::fs::copy(&b.files[0], a.dir.join("other.dcm")).unwrap();
    let e = read_dicom_series(&a.dir).unwrap_err().to_string();
    assert!(e.contains("other.dcm") && e.contains("Rows"), "{e}");
}

#[test]
fn nothing_identifying_leaves_the_reader() {
    let s = write_series("privacy", 3, 3, 3);
    let v = read_dicom_series(&s.dir).unwrap();
    let printed = format!("{v:?}");
    for secret in ["Doe", "Jane", "19600101", "HOSP-123456"] {
        assert!(!printed.contains(secret));
    }
    // an error about a bad slice names the file and the attribute, not the patient
    std::fs::copy(&write_series("privacy-b", 4, 3, 3).files[0], s.dir.join("x.dcm")).unwrap();
    let e = read_dicom_series(&s.dir).unwrap_err().to_string();
    for secret in ["Doe", "Jane", "19600101", "HOSP-123456"] {
        assert!(!e.contains(secret), "{e}");
    }
}
