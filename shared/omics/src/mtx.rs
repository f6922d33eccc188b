//! 10x Genomics MTX folders (`matrix.mtx[.gz]` genes x cells in MatrixMarket coordinate form,
//! `features.tsv[.gz]` or `genes.tsv[.gz]` with the gene symbol in the second column,
//! `barcodes.tsv[.gz]`), read whole into a cells x genes [`CellMatrix`].

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::OmicsError;
use crate::cells::{CellMatrix, CsrChunk};

/// A 10x folder read: cells x genes, with the cell barcodes.
pub struct Mtx {
    /// The matrix (gene names from the features file's symbol column).
    pub matrix: CellMatrix,
    /// Cell barcodes, in matrix order.
    pub barcodes: Vec<String>,
}

fn find(dir: &Path, names: &[&str]) -> Result<PathBuf, OmicsError> {
    for n in names {
        for candidate in [dir.join(n), dir.join(format!("{n}.gz"))] {
            if candidate.exists() {
                return Ok(candidate);
            }
        }
    }
    Err(OmicsError::Invalid(format!("{}: no {} (or .gz) in the folder", dir.display(), names.join(" / "))))
}

fn lines(path: &Path) -> Result<Box<dyn BufRead>, OmicsError> {
    let file = std::fs::File::open(path).map_err(|e| OmicsError::io(path, e))?;
    let reader: Box<dyn Read> =
        if path.extension().is_some_and(|e| e == "gz") { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
    Ok(Box::new(BufReader::new(reader)))
}

fn column(path: &Path, k: usize) -> Result<Vec<String>, OmicsError> {
    let mut out = Vec::new();
    for (i, line) in lines(path)?.lines().enumerate() {
        let line = line.map_err(|e| OmicsError::io(path, e))?;
        let fields: Vec<&str> = line.split('\t').collect();
        let value = fields.get(k).or(fields.first()).ok_or_else(|| OmicsError::Parse {
            file: path.display().to_string(),
            line: i + 1,
            detail: "empty line".into(),
        })?;
        out.push(value.to_string());
    }
    Ok(out)
}

impl Mtx {
    /// Reads a 10x folder.
    pub fn read(dir: impl AsRef<Path>) -> Result<Self, OmicsError> {
        let dir = dir.as_ref();
        let matrix_file = find(dir, &["matrix.mtx"])?;
        let genes = column(&find(dir, &["features.tsv", "genes.tsv"])?, 1)?;
        let barcodes = column(&find(dir, &["barcodes.tsv"])?, 0)?;
        let file = matrix_file.display().to_string();
        let bad = |line: usize, detail: String| OmicsError::Parse { file: file.clone(), line, detail };
        let mut reader = lines(&matrix_file)?;
        let mut text = String::new();
        let mut line_no = 0;
        // header and comments, then "rows cols entries"
        let (rows, cols, entries) = loop {
            text.clear();
            line_no += 1;
            if reader.read_line(&mut text).map_err(|e| OmicsError::io(&matrix_file, e))? == 0 {
                return Err(bad(line_no, "no size line".into()));
            }
            if line_no == 1 && !text.starts_with("%%MatrixMarket matrix coordinate") {
                return Err(bad(1, "not a MatrixMarket coordinate file".into()));
            }
            if text.starts_with('%') {
                continue;
            }
            let v: Vec<usize> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            if v.len() != 3 {
                return Err(bad(line_no, format!("size line {:?}", text.trim())));
            }
            break (v[0], v[1], v[2]);
        };
        if rows != genes.len() || cols != barcodes.len() {
            return Err(bad(line_no, format!("{rows} x {cols}, but {} genes and {} barcodes", genes.len(), barcodes.len())));
        }
        // triplets (gene, cell, value), 1-based, then grouped by cell
        if entries > rows.saturating_mul(cols) {
            return Err(bad(line_no, format!("{entries} entries in a {rows} x {cols} matrix")));
        }
        let mut triplets: Vec<(u32, u32, f32)> = Vec::with_capacity(entries.min(1 << 24));
        for _ in 0..entries {
            text.clear();
            line_no += 1;
            if reader.read_line(&mut text).map_err(|e| OmicsError::io(&matrix_file, e))? == 0 {
                return Err(bad(line_no, format!("{} of {entries} entries", triplets.len())));
            }
            let mut f = text.split_whitespace();
            let (g, c, v) = (f.next(), f.next(), f.next());
            let parsed =
                (g.and_then(|x| x.parse::<usize>().ok()), c.and_then(|x| x.parse::<usize>().ok()), v.and_then(|x| x.parse::<f32>().ok()));
            match parsed {
                (Some(g), Some(c), Some(v)) if (1..=rows).contains(&g) && (1..=cols).contains(&c) => {
                    triplets.push(((c - 1) as u32, (g - 1) as u32, v))
                }
                _ => return Err(bad(line_no, format!("entry {:?}", text.trim()))),
            }
        }
        triplets.sort_unstable_by_key(|t| (t.0, t.1));
        let mut csr = CsrChunk {
            first_cell: 0,
            indptr: vec![0; cols + 1],
            indices: Vec::with_capacity(triplets.len()),
            data: Vec::with_capacity(triplets.len()),
        };
        for &(c, g, v) in &triplets {
            csr.indptr[c as usize + 1] += 1;
            csr.indices.push(g);
            csr.data.push(v);
        }
        for c in 0..cols {
            csr.indptr[c + 1] += csr.indptr[c];
        }
        Ok(Mtx { matrix: CellMatrix { genes, csr }, barcodes })
    }
}
