//! Cells x genes matrices as the single-cell code reads them: a [`CellSource`] hands out chunks of
//! cells in CSR form (an h5ad file, a 10x MTX folder, or a matrix in memory), and [`Normalized`]
//! turns counts into log-normalised values chunk by chunk (library size to 10,000, then log1p, as
//! scanpy's `normalize_total` + `log1p`).

use crate::OmicsError;

/// Consecutive cells in CSR form: cell `first_cell + r` has the values
/// `data[indptr[r]..indptr[r + 1]]` at the genes `indices[..]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrChunk {
    /// Index of the chunk's first cell in the whole matrix.
    pub first_cell: usize,
    /// Row pointers, one more than the chunk's cells, starting at 0.
    pub indptr: Vec<usize>,
    /// Gene of each stored value.
    pub indices: Vec<u32>,
    /// The values.
    pub data: Vec<f32>,
}

impl CsrChunk {
    /// Cells in the chunk.
    pub fn cells(&self) -> usize {
        self.indptr.len() - 1
    }

    /// The stored (gene, value) pairs of row `r`.
    pub fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        (self.indptr[r]..self.indptr[r + 1]).map(move |k| (self.indices[k] as usize, self.data[k]))
    }

    /// Copies of consecutive runs of at most `cells_per_chunk` of the chunk's cells, each passed to `f`.
    pub fn for_each_slice(&self, cells_per_chunk: usize, f: &mut dyn FnMut(&CsrChunk) -> Result<(), OmicsError>) -> Result<(), OmicsError> {
        let step = cells_per_chunk.max(1);
        for first in (0..self.cells()).step_by(step) {
            let last = (first + step).min(self.cells());
            let (a, b) = (self.indptr[first], self.indptr[last]);
            f(&CsrChunk {
                first_cell: self.first_cell + first,
                indptr: self.indptr[first..=last].iter().map(|p| p - a).collect(),
                indices: self.indices[a..b].to_vec(),
                data: self.data[a..b].to_vec(),
            })?;
        }
        Ok(())
    }

    /// A dense block (cells x `genes`, row-major), zeros left out.
    pub fn from_dense(first_cell: usize, genes: usize, values: &[f32]) -> Self {
        let mut chunk = CsrChunk { first_cell, indptr: vec![0], indices: Vec::new(), data: Vec::new() };
        for row in values.chunks(genes.max(1)) {
            for (g, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                chunk.indices.push(g as u32);
                chunk.data.push(v);
            }
            chunk.indptr.push(chunk.data.len());
        }
        chunk
    }
}

/// Where cells come from: genes, the number of cells, and the cells chunk by chunk in file order.
pub trait CellSource {
    /// Gene names (matrix columns).
    fn genes(&self) -> &[String];
    /// Number of cells.
    fn n_cells(&self) -> usize;
    /// Calls `f` on consecutive chunks of at most `cells_per_chunk` cells, in order.
    fn for_each_chunk(&self, cells_per_chunk: usize, f: &mut dyn FnMut(&CsrChunk) -> Result<(), OmicsError>) -> Result<(), OmicsError>;
}

/// A cells x genes matrix held in memory (tests, small inputs, 10x MTX).
#[derive(Debug, Clone, PartialEq)]
pub struct CellMatrix {
    /// Gene names.
    pub genes: Vec<String>,
    /// All cells as one chunk.
    pub csr: CsrChunk,
}

impl CellSource for CellMatrix {
    fn genes(&self) -> &[String] {
        &self.genes
    }

    fn n_cells(&self) -> usize {
        self.csr.cells()
    }

    fn for_each_chunk(&self, cells_per_chunk: usize, f: &mut dyn FnMut(&CsrChunk) -> Result<(), OmicsError>) -> Result<(), OmicsError> {
        if cells_per_chunk >= self.n_cells() {
            // one chunk: the matrix itself, not a copy
            return f(&self.csr);
        }
        self.csr.for_each_slice(cells_per_chunk, f)
    }
}

/// Cells whose stored values decide whether a matrix is counts.
const JUDGED_CELLS: usize = 1000;

/// Counts made log-normalised on the fly: each cell scaled to `target_sum` in total, then
/// `ln(1 + x)`. A negative or non-finite value is an error naming the cell and the gene: such data
/// are not counts (already scaled or log-normalised), and normalising them would give NaN scores.
/// So is a matrix whose first 1,000 cells' stored values are mostly not whole numbers
/// (log-normalised data normalised again would score without an error, but wrongly).
pub struct Normalized<S> {
    /// The counts.
    pub source: S,
    /// Total per cell after scaling (scanpy's `target_sum`, 1e4 here).
    pub target_sum: f64,
}

impl<S: CellSource> CellSource for Normalized<S> {
    fn genes(&self) -> &[String] {
        self.source.genes()
    }

    fn n_cells(&self) -> usize {
        self.source.n_cells()
    }

    fn for_each_chunk(&self, cells_per_chunk: usize, f: &mut dyn FnMut(&CsrChunk) -> Result<(), OmicsError>) -> Result<(), OmicsError> {
        let genes = self.source.genes();
        // log-normalised values are positive too: most stored values not whole numbers is the sign
        // (counts are whole, or nearly all so after an EM quantifier). Judged over the first
        // JUDGED_CELLS cells, whatever the chunks (a GPU's are smaller than the CPU's); chunks
        // before the judgement may have been passed on, and the error ends the scoring all the same.
        let judged = JUDGED_CELLS.min(self.source.n_cells());
        let (mut stored, mut fractional, mut first) = (0usize, 0usize, None);
        self.source.for_each_chunk(cells_per_chunk, &mut |chunk| {
            if chunk.first_cell < judged {
                let end = chunk.indptr[(judged - chunk.first_cell).min(chunk.cells())];
                stored += end;
                for k in (0..end).filter(|&k| chunk.data[k].fract() != 0.0) {
                    fractional += 1;
                    if first.is_none() {
                        let r = chunk.indptr.partition_point(|&p| p <= k) - 1;
                        let gene = genes.get(chunk.indices[k] as usize).map_or("?", |g| g.as_str());
                        first = Some(format!("cell {}, gene {gene}: {}", chunk.first_cell + r, chunk.data[k]));
                    }
                }
                if chunk.first_cell + chunk.cells() >= judged && 2 * fractional > stored {
                    return Err(OmicsError::Invalid(format!(
                        "{fractional} of the {stored} stored values of the first {judged} cells are not whole numbers ({}): \
                         these are not counts; for log-normalised data set log_normalized = true",
                        first.as_deref().unwrap_or("")
                    )));
                }
            }
            let mut out = chunk.clone();
            for r in 0..chunk.cells() {
                let range = chunk.indptr[r]..chunk.indptr[r + 1];
                if let Some(k) = range.clone().find(|&k| !(chunk.data[k] >= 0.0 && chunk.data[k].is_finite())) {
                    return Err(OmicsError::Invalid(format!(
                        "cell {} (0-based), gene {}: {} is not a count; for log-normalised or scaled data set log_normalized = true",
                        chunk.first_cell + r,
                        genes.get(chunk.indices[k] as usize).map_or("?", |g| g.as_str()),
                        chunk.data[k]
                    )));
                }
                let total: f64 = chunk.data[range.clone()].iter().map(|&v| v as f64).sum();
                for k in range {
                    let scaled = if total > 0.0 { chunk.data[k] as f64 * self.target_sum / total } else { 0.0 };
                    out.data[k] = scaled.ln_1p() as f32;
                }
            }
            f(&out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising_refuses_values_that_are_not_counts() {
        // cell 0: counts 1 and 3; cell 1: a scaled value -0.4 for gene B
        let matrix = |b1: f32| CellMatrix {
            genes: vec!["A".into(), "B".into()],
            csr: CsrChunk { first_cell: 0, indptr: vec![0, 2, 4], indices: vec![0, 1, 0, 1], data: vec![1.0, 3.0, 2.0, b1] },
        };
        let seen = |m: CellMatrix| {
            let mut out = Vec::new();
            Normalized { source: m, target_sum: 4.0 }
                .for_each_chunk(1, &mut |c| {
                    out.extend_from_slice(&c.data);
                    Ok(())
                })
                .map(|_| out)
        };
        // 1 of 4 -> ln(2), 3 of 4 -> ln(4); 2 of 4 -> ln(3) twice
        let want = [2f64.ln(), 4f64.ln(), 3f64.ln(), 3f64.ln()];
        let got = seen(matrix(2.0)).unwrap();
        assert!(got.iter().zip(want).all(|(g, w)| (*g as f64 - w).abs() < 1e-6), "{got:?}");
        for bad in [-0.4, f32::NAN] {
            let e = seen(matrix(bad)).unwrap_err().to_string();
            assert!(e.contains("cell 1 (0-based), gene B") && e.contains("not a count") && e.contains("log_normalized"), "{e}");
        }
        // one fractional value of four (an EM quantifier's count) is still counts; three of four are not
        assert!(seen(matrix(2.5)).is_ok());
        let logged = CellMatrix {
            genes: vec!["A".into(), "B".into()],
            csr: CsrChunk { first_cell: 0, indptr: vec![0, 2, 4], indices: vec![0, 1, 0, 1], data: vec![1.0, 0.69, 1.1, 2.3] },
        };
        // the same judgement whatever the chunks
        for cells_per_chunk in [1, 2] {
            let e = Normalized { source: logged.clone(), target_sum: 4.0 }.for_each_chunk(cells_per_chunk, &mut |_| Ok(()));
            let e = e.unwrap_err().to_string();
            assert!(e.contains("3 of the 4 stored values of the first 2 cells are not whole numbers"), "{e}");
            assert!(e.contains("cell 0, gene B: 0.69") && e.contains("log_normalized = true"), "{e}");
        }
    }
}
