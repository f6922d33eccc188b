//! NumPy `.npy` (format 1.0) for float32 arrays in C order: how a patient's crop travels between
//! the preprocessing and training tasks, readable by `numpy.load` (the GPU benchmark's PyTorch side
//! reads the same files).

/// Why bytes are not a float32 `.npy` array.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NpyError {
    /// Not the NumPy magic string, or a version this reader does not know.
    #[error("not a NumPy 1.0/2.0 .npy file")]
    Magic,
    /// The header dictionary is malformed or asks for something else than little-endian float32 in
    /// C order.
    #[error("npy header: {0}")]
    Header(String),
    /// The data are shorter or longer than the shape says.
    #[error("npy data: {got} bytes for shape {shape:?} ({want} expected)")]
    Length {
        /// The shape in the header.
        shape: Vec<usize>,
        /// Bytes the shape needs.
        want: usize,
        /// Bytes present.
        got: usize,
    },
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Encodes a float32 array of `shape` (C order).
pub fn write_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    debug_assert_eq!(shape.iter().product::<usize>(), values.len());
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple}, }}");
    // magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + values.len() * 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes a little-endian float32 C-order array: its shape and values.
pub fn read_f32(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>), NpyError> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(NpyError::Magic);
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        _ => return Err(NpyError::Magic),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| NpyError::Header("truncated".into()))?;
    let header = std::str::from_utf8(header).map_err(|_| NpyError::Header("not UTF-8".into()))?;
    let field = |key: &str| -> Result<&str, NpyError> {
        let at = header.find(&format!("'{key}'")).ok_or_else(|| NpyError::Header(format!("no {key}")))?;
        let rest = header[at + key.len() + 2..].trim_start();
        Ok(rest.strip_prefix(':').ok_or_else(|| NpyError::Header(format!("{key} has no value")))?.trim_start())
    };
    let descr = field("descr")?;
    if !descr.starts_with("'<f4'") {
        return Err(NpyError::Header(format!("dtype {} is not little-endian float32 ('<f4')", descr.split(',').next().unwrap_or(""))));
    }
    if !field("fortran_order")?.starts_with("False") {
        return Err(NpyError::Header("Fortran order is not supported".into()));
    }
    let shape_text = field("shape")?;
    let inner = shape_text
        .strip_prefix('(')
        .and_then(|s| s.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| NpyError::Header("shape is not a tuple".into()))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| NpyError::Header(format!("shape entry {s:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let data = &bytes[start + header_len..];
    let want = shape
        .iter()
        .try_fold(4usize, |bytes, &d| bytes.checked_mul(d))
        .ok_or_else(|| NpyError::Header(format!("shape {shape:?} is too large")))?;
    if data.len() != want {
        return Err(NpyError::Length { shape, want, got: data.len() });
    }
    Ok((shape, data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        for shape in [vec![3usize], vec![2, 3, 4], vec![2, 32, 32, 32]] {
            let values: Vec<f32> = (0..shape.iter().product::<usize>()).map(|i| i as f32 * 0.5 - 3.0).collect();
            let bytes = write_f32(&shape, &values);
            let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + header_len) % 64, 0);
            assert_eq!(read_f32(&bytes).unwrap(), (shape, values));
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let good = write_f32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(read_f32(b"PK\x03\x04 not numpy"), Err(NpyError::Magic));
        assert!(matches!(read_f32(&good[..good.len() - 2]), Err(NpyError::Length { want: 16, got: 14, .. })));
        let mut f8 = good.clone();
        let at = f8.windows(3).position(|w| w == b"<f4").unwrap();
        f8[at + 2] = b'8';
        assert!(matches!(read_f32(&f8), Err(NpyError::Header(m)) if m.contains("<f8")));
        // malformed or absurd shapes in a hand-made header: errors, not a panic or a wrapped size
        let with_shape = |shape: &str| {
            let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}\n");
            let mut b = MAGIC.to_vec();
            b.extend_from_slice(&[1, 0]);
            b.extend_from_slice(&(header.len() as u16).to_le_bytes());
            b.extend_from_slice(header.as_bytes());
            b
        };
        let cases = [
            (")", "shape is not a tuple"),
            ("é(2,)", "shape is not a tuple"),
            ("(2, x)", "shape entry \"x\""),
            ("(4611686018427387904, 8)", "too large"),
        ];
        for (shape, want) in cases {
            let got = read_f32(&with_shape(shape));
            assert!(matches!(&got, Err(NpyError::Header(m)) if m.contains(want)), "{shape}: {got:?}");
        }
        assert_eq!(read_f32(&with_shape("()")), Err(NpyError::Length { shape: vec![], want: 4, got: 0 }));
    }
}
