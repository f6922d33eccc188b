//! 10x Genomics MTX folders (`matrix.mtx[.gz]` genes x cells in MatrixMarket coordinate form,
//! `features.tsv[.gz]` or `genes.tsv[.gz]` with the gene symbol in the second column,
//! `barcodes.tsv[.gz]`), read whole into a cells x genes [`CellMatrix`]. Only gene-expression
//! features are kept (a third column other than `Gene Expression`, such as CITE-seq's `Antibody
//! Capture`, drops the row), as scanpy's `read_10x_mtx` does by default.

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

/// The tab-separated fields of every line (LF or CRLF); an empty line is an error.
fn rows(path: &Path) -> Result<Vec<Vec<String>>, OmicsError> {
    let mut out = Vec::new();
    for (i, line) in lines(path)?.lines().enumerate() {
        let line = line.map_err(|e| OmicsError::io(path, e))?;
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if line.is_empty() {
            return Err(OmicsError::Parse { file: path.display().to_string(), line: i + 1, detail: "empty line".into() });
        }
        out.push(line.split('\t').map(str::to_string).collect());
    }
    Ok(out)
}

/// Field `k` of each row (the first where a row has fewer).
fn column(rows: &[Vec<String>], k: usize) -> Vec<String> {
    rows.iter().map(|r| r.get(k).unwrap_or(&r[0]).clone()).collect()
}

impl Mtx {
    /// Reads a 10x folder.
    pub fn read(dir: impl AsRef<Path>) -> Result<Self, OmicsError> {
        let dir = dir.as_ref();
        let matrix_file = find(dir, &["matrix.mtx"])?;
        let features = rows(&find(dir, &["features.tsv", "genes.tsv"])?)?;
        // the matrix row of each feature -> its gene's index, None for another kind of feature
        let mut kept: Vec<Option<u32>> = Vec::with_capacity(features.len());
        let mut genes = Vec::new();
        for f in &features {
            if f.get(2).is_none_or(|kind| kind == "Gene Expression") {
                kept.push(Some(genes.len() as u32));
                genes.push(f.get(1).unwrap_or(&f[0]).clone());
            } else {
                kept.push(None);
            }
        }
        let barcodes = column(&rows(&find(dir, &["barcodes.tsv"])?)?, 0);
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
        if rows != features.len() || cols != barcodes.len() {
            return Err(bad(line_no, format!("{rows} x {cols}, but {} features and {} barcodes", features.len(), barcodes.len())));
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
                    if let Some(gene) = kept[g - 1] {
                        triplets.push(((c - 1) as u32, gene, v))
                    }
                }
                _ => return Err(bad(line_no, format!("entry {:?}", text.trim()))),
            }
        }
        triplets.sort_unstable_by_key(|t| (t.0, t.1));
        // an entry repeated for the same gene and cell adds to it (as scipy's tocsr sums duplicates)
        triplets.dedup_by(|later, kept| {
            let same = (later.0, later.1) == (kept.0, kept.1);
            if same {
                kept.2 += later.2;
            }
            same
        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gene_expression_features_are_kept_and_crlf_lines_read() {
        let dir = std::env::temp_dir().join(format!("tacefusion-mtx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // genes A, B and an antibody (990 counts in cell 1) between them; CRLF in the text files
        std::fs::write(
            dir.join("features.tsv"),
            "ENSG1\tA\tGene Expression\r\nAB1\tCD3_TotalSeqB\tAntibody Capture\r\nENSG2\tB\tGene Expression\r\n",
        )
        .unwrap();
        std::fs::write(dir.join("barcodes.tsv"), "AAAC-1\r\nAAAG-1\r\n").unwrap();
        std::fs::write(
            dir.join("matrix.mtx"),
            // gene B of cell 2 is listed twice: 2 + 1
            "%%MatrixMarket matrix coordinate integer general\n%\n3 2 5\n1 1 4\n2 1 990\n3 1 6\n3 2 2\n3 2 1\n",
        )
        .unwrap();
        let m = Mtx::read(&dir).unwrap();
        assert_eq!(m.matrix.genes, ["A", "B"]);
        assert_eq!(m.barcodes, ["AAAC-1", "AAAG-1"]);
        assert_eq!(m.matrix.csr.indptr, [0, 2, 3]);
        assert_eq!(m.matrix.csr.indices, [0, 1, 1]);
        assert_eq!(m.matrix.csr.data, [4.0, 6.0, 3.0]);
        // a genes.tsv of two columns keeps every row
        std::fs::write(dir.join("features.tsv"), "ENSG1\tA\nAB1\tX\nENSG2\tB\n").unwrap();
        assert_eq!(Mtx::read(&dir).unwrap().matrix.genes, ["A", "X", "B"]);
    }
}
