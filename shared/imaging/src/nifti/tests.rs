//! NIfTI round trips (geometry and values, plain and gzip, flipped axes), the spatial unit, the
//! shipped IBSI phantom, and the errors for truncated files.

use super::*;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tacefusion-nifti-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn geometry_and_values_round_trip() {
    let flips: [[[f64; 3]; 3]; 3] = [
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]],
    ];
    for (k, direction) in flips.iter().enumerate() {
        let mut g = Geometry::axis_aligned([5, 4, 3], [0.7, 0.8, 2.5], [-30.5, 12.25, 100.0]);
        g.direction = *direction;
        let values: Vec<i16> = (0..g.len() as i16).map(|v| v * 7 - 200).collect();
        for name in [format!("rt{k}.nii"), format!("rt{k}.nii.gz")] {
            let path = temp(&name);
            write_nifti(&path, &g, &VoxelData::I16(values.clone())).unwrap();
            let v = read_nifti(&path).unwrap();
            assert!(v.geometry.same_grid(&g, 1e-5), "{name}: {:?} vs {g:?}", v.geometry);
            assert_eq!(v.data, values.iter().map(|&x| x as f32).collect::<Vec<_>>());
            // the qform alone says the same as the sform, to the precision of f32 quaternions (a
            // rotation by 180 degrees leaves the implied component a at sqrt(f32 rounding) ~ 3e-4)
            let mut bytes = std::fs::read(&path).unwrap();
            if name.ends_with(".gz") {
                let mut out = Vec::new();
                MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out).unwrap();
                bytes = out;
            }
            bytes[254..256].copy_from_slice(&0i16.to_le_bytes());
            let (q, _) = parse(&bytes, Path::new(&name)).unwrap();
            assert!(q.geometry.same_grid(&g, 2e-3), "{name} qform: {:?}", q.geometry);
        }
    }
}

#[test]
fn the_spatial_unit_scales_the_grid_to_millimetres() {
    let g = Geometry::axis_aligned([3, 2, 2], [0.7, 0.8, 2.5], [-30.5, 12.25, 100.0]);
    let path = temp("units.nii");
    write_nifti(&path, &g, &VoxelData::U8(vec![1; 12])).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    // xyzt_units: spatial bits 0-2 (0 unknown, 1 m, 2 mm, 3 um), time bits kept (8 = seconds)
    for (units, mm_per_unit) in [(0u8, 1.0), (2, 1.0), (2 | 8, 1.0), (1, 1000.0), (3 | 8, 0.001)] {
        let mut b = bytes.clone();
        b[123] = units;
        let (v, _) = parse(&b, &path).unwrap();
        let want = Geometry { spacing: g.spacing.map(|s| s * mm_per_unit), origin: g.origin.map(|o| o * mm_per_unit), ..g };
        assert!(v.geometry.same_grid(&want, 1e-5 * mm_per_unit.max(1.0)), "units {units}: {:?}", v.geometry);
    }
}

#[test]
fn same_volume_same_bytes() {
    let g = Geometry::axis_aligned([8, 8, 8], [1.0; 3], [0.0; 3]);
    let data = VoxelData::U8((0..512).map(|i| (i % 3) as u8).collect());
    let (a, b) = (temp("same_a.nii.gz"), temp("same_b.nii.gz"));
    write_nifti(&a, &g, &data).unwrap();
    write_nifti(&b, &g, &data).unwrap();
    assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
}

#[test]
fn truncated_files_are_errors_that_name_the_file() {
    let g = Geometry::axis_aligned([16, 16, 16], [1.0; 3], [0.0; 3]);
    let data = VoxelData::I16((0..4096).map(|i| (i * 31 % 2000) as i16).collect());
    for name in ["cut.nii.gz", "cut.nii"] {
        let path = temp(name);
        write_nifti(&path, &g, &data).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_nifti(&path).unwrap_err();
        assert!(matches!(err, ImageError::Truncated { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn reads_the_ibsi_digital_phantom() {
    // IBSI 1 digital phantom: 5 x 4 x 4 voxels of 2 x 2 x 2 mm, 74 voxels in the ROI
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/radiomics/ibsi1_digital_phantom");
    let image = read_nifti(&dir.join("image.nii.gz")).unwrap();
    let mask = read_nifti(&dir.join("mask.nii.gz")).unwrap();
    let mut size = image.geometry.size;
    size.sort_unstable();
    assert_eq!(size, [4, 4, 5]);
    assert_eq!(image.geometry.spacing, [2.0, 2.0, 2.0]);
    assert!(image.geometry.same_grid(&mask.geometry, 1e-6));
    assert_eq!(mask.data.iter().filter(|&&v| v > 0.5).count(), 74);
}

/// A header rewritten field by field: pixel dimensions, qform and sform codes, quaternion offset,
/// sform rows (the quaternion itself is left at the identity).
fn rewritten(pixdim: [f32; 3], codes: (i16, i16), qoffset: [f32; 3], srow: [[f32; 4]; 3]) -> Vec<u8> {
    let g = Geometry::axis_aligned([4, 3, 2], [1.0, 1.0, 1.0], [0.0; 3]);
    let path = temp("rewritten.nii");
    write_nifti(&path, &g, &VoxelData::U8(vec![1; 24])).unwrap();
    let mut b = std::fs::read(&path).unwrap();
    let mut put = |at: usize, bytes: &[u8]| b[at..at + bytes.len()].copy_from_slice(bytes);
    for (k, p) in pixdim.iter().enumerate() {
        put(80 + 4 * k, &p.to_le_bytes());
    }
    put(252, &codes.0.to_le_bytes());
    put(254, &codes.1.to_le_bytes());
    for k in 0..3 {
        put(256 + 4 * k, &0f32.to_le_bytes());
        put(268 + 4 * k, &qoffset[k].to_le_bytes());
        for c in 0..4 {
            put(280 + 16 * k + 4 * c, &srow[k][c].to_le_bytes());
        }
    }
    b
}

#[test]
fn the_transform_is_chosen_as_itk_chooses_it() {
    // expected grids: SimpleITK 2.5.7 (ITK 5.4) reading the same headers
    let (sin, cos) = 11f32.to_radians().sin_cos();
    let sheared = [[1.0, 0.0, 0.0, 5.0], [0.0, 2.5, 2.5 * sin, 6.0], [0.0, 0.0, 2.5 * cos, 7.0]];
    let lps = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
    let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    #[rustfmt::skip]
    let cases: [(&str, [f32; 3], (i16, i16), [f32; 3], [[f32; 4]; 3], Result<([f64; 3], [f64; 3], [[f64; 3]; 3]), &str>); 6] = [
        ("sform of another space: qform", [1.0, 2.0, 3.0], (1, 2), [-1.0, 2.0, 3.0],
            [[-1.0, 0.0, 0.0, -11.0], [0.0, -2.0, 0.0, 2.0], [0.0, 0.0, 3.0, 3.0]], Ok(([1.0, 2.0, 3.0], [1.0, -2.0, 3.0], lps))),
        ("scanner sform beside an aligned qform: sform", [1.0, 2.0, 3.0], (2, 1), [-1.0, 2.0, 3.0],
            [[1.0, 0.0, 0.0, -11.0], [0.0, 2.0, 0.0, 2.0], [0.0, 0.0, 3.0, 3.0]], Ok(([1.0, 2.0, 3.0], [11.0, -2.0, 3.0], lps))),
        ("no transform: LPS axes", [1.0, 2.0, 3.0], (0, 0), [0.0; 3], [[0.0; 4]; 3], Ok(([1.0, 2.0, 3.0], [0.0; 3], identity))),
        ("sheared sform: qform", [1.0, 2.5, 2.5], (1, 1), [5.0, 6.0, 7.0], sheared, Ok(([1.0, 2.5, 2.5], [-5.0, -6.0, 7.0], lps))),
        ("sheared sform, no qform", [1.0, 2.5, 2.5], (0, 1), [0.0; 3], sheared, Err("srow_x/srow_y/srow_z")),
        ("rotated sform alone", [1.0, 2.0, 3.0], (0, 1), [0.0; 3],
            [[0.0, -2.0, 0.0, 10.0], [1.0, 0.0, 0.0, 20.0], [0.0, 0.0, 3.0, 30.0]],
            Ok(([1.0, 2.0, 3.0], [-10.0, -20.0, 30.0], [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))),
    ];
    for (name, pixdim, codes, qoffset, srow, want) in cases {
        let got = parse(&rewritten(pixdim, codes, qoffset, srow), Path::new("case.nii"));
        match (got, want) {
            (Ok((v, _)), Ok((spacing, origin, direction))) => {
                let g = Geometry { size: [4, 3, 2], spacing, origin, direction };
                assert!(v.geometry.same_grid(&g, 1e-5), "{name}: {:?}", v.geometry);
            }
            (Err(e), Err(field)) => assert!(e.to_string().contains(field) && e.to_string().contains("case.nii"), "{name}: {e}"),
            (got, _) => panic!("{name}: {got:?}"),
        }
    }
}

#[test]
fn the_pixel_type_is_the_one_itk_reads() {
    // SimpleITK 2.5.7 on the same headers: the stored type, or 32-bit float once scl_slope or
    // scl_inter scales the values (a slope of 0 means no scaling)
    let g = Geometry::axis_aligned([2, 2, 1], [1.0; 3], [0.0; 3]);
    let float = PixelCast::Float;
    for (name, data, scaling, want) in [
        ("i16.nii", VoxelData::I16(vec![1; 4]), None, PixelCast::INT16),
        ("u8.nii", VoxelData::U8(vec![1; 4]), None, PixelCast::stored(1, 'u')),
        ("f32.nii", VoxelData::F32(vec![1.0; 4]), None, float),
        ("i16-intercept.nii", VoxelData::I16(vec![1; 4]), Some((1f32, -1024f32)), float),
        ("i16-slope-2.nii", VoxelData::I16(vec![1; 4]), Some((2.0, 0.0)), float),
        ("i16-slope-0.nii", VoxelData::I16(vec![1; 4]), Some((0.0, 0.0)), PixelCast::INT16),
    ] {
        let path = temp(name);
        write_nifti(&path, &g, &data).unwrap();
        let mut b = std::fs::read(&path).unwrap();
        if let Some((slope, intercept)) = scaling {
            b[112..116].copy_from_slice(&slope.to_le_bytes());
            b[116..120].copy_from_slice(&intercept.to_le_bytes());
        }
        assert_eq!(parse(&b, &path).unwrap().1, want, "{name}");
    }
}
