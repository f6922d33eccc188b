//! The legacy h5ad layout (anndata < 0.7, still the one of scanpy's own `pbmc68k_reduced`): each
//! dataframe (`obs`, `var`, `raw.var`) one compound dataset with a member per column, text as
//! fixed-length strings, a categorical column as integer codes whose labels are in
//! `uns/<column>_categories`.

use hdf5_pure::{Datatype, DatatypeByteOrder, File, StringPadding};

/// A column of a compound dataframe.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Column {
    /// Fixed-length strings.
    Text(Vec<String>),
    /// Integers (categorical codes, counts).
    Integers(Vec<i64>),
}

impl Column {
    /// The column as text (integers written out).
    pub(super) fn into_text(self) -> Vec<String> {
        match self {
            Column::Text(t) => t,
            Column::Integers(v) => v.iter().map(|x| x.to_string()).collect(),
        }
    }
}

/// Column `member` of the compound dataset `dataset`; the error says what is there instead.
pub(super) fn compound_column(file: &File, dataset: &str, member: &str) -> Result<Column, String> {
    let d = file.dataset(dataset).map_err(|e| e.to_string())?;
    let Datatype::Compound { size, members } = d.datatype().map_err(|e| e.to_string())? else {
        return Err("not a compound dataset (a dataframe of the legacy layout)".into());
    };
    let Some(m) = members.iter().find(|m| m.name == member) else {
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        return Err(format!("no column {member:?} (columns: {})", names.join(", ")));
    };
    let raw = d.read_raw().map_err(|e| e.to_string())?;
    let (size, offset) = (size as usize, m.byte_offset as usize);
    // a malformed file is an error, never a slice out of bounds
    let fits = |width: u32| {
        if size == 0 || raw.len() % size != 0 {
            return Err(format!("{} bytes are not whole records of {size} bytes", raw.len()));
        }
        match offset.checked_add(width as usize) {
            Some(end) if end <= size => Ok(width as usize),
            _ => Err(format!("column {member:?} ({width} bytes at {offset}) lies outside its {size}-byte record")),
        }
    };
    let field = |i: usize, width: usize| &raw[i * size + offset..i * size + offset + width];
    let n = raw.len() / size.max(1);
    match &m.datatype {
        Datatype::String { size: width, padding, .. } => {
            let width = fits(*width)?;
            Ok(Column::Text((0..n).map(|i| fixed_string(field(i, width), padding)).collect()))
        }
        Datatype::FixedPoint { size: width, byte_order, layout } if matches!(width, 1 | 2 | 4 | 8) => {
            let width = fits(*width)?;
            let big = matches!(byte_order, DatatypeByteOrder::BigEndian);
            Ok(Column::Integers((0..n).map(|i| integer(field(i, width), big, layout.signed)).collect()))
        }
        other => Err(format!("column {member:?} is neither text nor integers: {other:?}")),
    }
}

/// A fixed-length string: up to its first NUL (or without its trailing spaces, when space-padded).
fn fixed_string(bytes: &[u8], padding: &StringPadding) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let text = String::from_utf8_lossy(&bytes[..end]);
    match padding {
        StringPadding::SpacePad => text.trim_end_matches(' ').to_string(),
        _ => text.into_owned(),
    }
}

/// An integer of 1, 2, 4 or 8 bytes.
fn integer(bytes: &[u8], big_endian: bool, signed: bool) -> i64 {
    let mut value: u64 = 0;
    for k in 0..bytes.len() {
        let byte = if big_endian { bytes[k] } else { bytes[bytes.len() - 1 - k] };
        value = (value << 8) | byte as u64;
    }
    let bits = 8 * bytes.len() as u32;
    if signed && bits < 64 && ((value >> (bits - 1)) & 1) == 1 {
        // sign extension
        (value | (u64::MAX << bits)) as i64
    } else {
        value as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_strings_decode() {
        let cases: [(&[u8], bool, bool, i64); 6] = [
            (&[0xff], false, true, -1),
            (&[0xff], false, false, 255),
            (&[0x02, 0x01], false, true, 0x0102),
            (&[0x01, 0x02], true, true, 0x0102),
            (&[0xfe, 0xff, 0xff, 0xff], false, true, -2),
            (&[1, 0, 0, 0, 0, 0, 0, 0x80], false, true, i64::MIN + 1),
        ];
        for (bytes, big, signed, want) in cases {
            assert_eq!(integer(bytes, big, signed), want, "{bytes:?} big {big} signed {signed}");
        }
        assert_eq!(fixed_string(b"CD8+\0\0\0", &StringPadding::NullPad), "CD8+");
        assert_eq!(fixed_string(b"AB  ", &StringPadding::SpacePad), "AB");
        assert_eq!(fixed_string(b"full", &StringPadding::NullTerminate), "full");
    }
}
