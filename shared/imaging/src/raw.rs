//! Stored voxel bytes to f32, one tight loop per stored type and byte order.

/// Converts stored voxels to f32, one tight loop per type.
pub(crate) fn decode(bytes: &[u8], width: usize, kind: char, little: bool) -> Vec<f32> {
    macro_rules! each {
        ($n:literal, $conv:expr) => {
            bytes
                .chunks_exact($n)
                .map(|c| {
                    let mut b: [u8; $n] = c.try_into().expect("chunk size");
                    if !little {
                        b.reverse();
                    }
                    $conv(b)
                })
                .collect()
        };
    }
    match (width, kind) {
        (1, 'i') => bytes.iter().map(|&b| b as i8 as f32).collect(),
        (1, _) => bytes.iter().map(|&b| b as f32).collect(),
        (2, 'i') => each!(2, |b| i16::from_le_bytes(b) as f32),
        (2, _) => each!(2, |b| u16::from_le_bytes(b) as f32),
        (4, 'i') => each!(4, |b| i32::from_le_bytes(b) as f32),
        (4, 'u') => each!(4, |b| u32::from_le_bytes(b) as f32),
        (4, _) => each!(4, f32::from_le_bytes),
        _ => each!(8, |b| f64::from_le_bytes(b) as f32),
    }
}
