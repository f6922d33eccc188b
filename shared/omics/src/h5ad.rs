//! AnnData files (`.h5ad`) read with the pure-Rust `hdf5-pure`: the cell x gene matrix `X` or
//! `raw/X` (dense, CSR or CSC), `var` and `raw/var` names, `obs` names and columns (categoricals
//! decoded). The current layout (anndata >= 0.8, and 0.7's categoricals under `obs/__categories`)
//! and the legacy one (anndata < 0.7: `legacy.rs`) are both read. A CSR or dense matrix is streamed
//! by chunks of cells, so a file of a million cells is never held twice; a CSC matrix is read whole
//! and transposed, then passed on in chunks too. Stored arrays shorter or longer than the pointers
//! say are errors naming the field.

use std::collections::HashMap;
use std::path::Path;

use hdf5_pure::{AttrValue, File, VlenStringReadOptions};

use crate::OmicsError;
use crate::cells::{CellSource, CsrChunk};

mod legacy;

use legacy::{Column, compound_column};

/// An open h5ad file.
pub struct H5ad {
    file: File,
    path: String,
    /// anndata < 0.7: dataframes as compound datasets, `raw.X` and `raw.var`.
    legacy: bool,
}

fn text_attr(attrs: &HashMap<String, AttrValue>, name: &str) -> Option<String> {
    match attrs.get(name)? {
        AttrValue::String(s) | AttrValue::AsciiString(s) | AttrValue::VarLenString(s) | AttrValue::VarLenAsciiString(s) => Some(s.clone()),
        _ => None,
    }
}

fn int_array_attr(attrs: &HashMap<String, AttrValue>, name: &str) -> Option<Vec<i64>> {
    Some(match attrs.get(name)? {
        AttrValue::I64Array(v) => v.clone(),
        AttrValue::I32Array(v) => v.iter().map(|&x| x as i64).collect(),
        AttrValue::U64Array(v) => v.iter().map(|&x| x as i64).collect(),
        AttrValue::U32Array(v) => v.iter().map(|&x| x as i64).collect(),
        _ => return None,
    })
}

/// A float label as Python writes it: NaN (missing) as "", a whole number with `.0`, else the
/// shortest text that reads back (`shortest`, Rust's, which is Python's but for exponents).
fn python_float(v: f64, shortest: String) -> String {
    match v {
        v if v.is_nan() => String::new(),
        v if v.fract() == 0.0 && v.abs() < 1e16 => format!("{v:.1}"),
        _ => shortest,
    }
}

/// How `X` is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    Dense,
    Csr,
    Csc,
}

impl H5ad {
    /// Opens a file; an unreadable or non-HDF5 file is an error naming it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OmicsError> {
        let p = path.as_ref().display().to_string();
        let file = File::open(path.as_ref()).map_err(|e| OmicsError::H5ad { file: p.clone(), field: "/".into(), detail: e.to_string() })?;
        let legacy = file.dataset("obs").is_ok();
        Ok(H5ad { file, path: p, legacy })
    }

    fn err(&self, field: &str, detail: impl std::fmt::Display) -> OmicsError {
        OmicsError::H5ad { file: self.path.clone(), field: field.to_string(), detail: detail.to_string() }
    }

    fn strings(&self, field: &str) -> Result<Vec<String>, OmicsError> {
        let d = self.file.dataset(field).map_err(|e| self.err(field, e))?;
        match d.datatype() {
            // fixed-length strings (older writers)
            Ok(hdf5_pure::Datatype::String { .. }) => d.read_string().map_err(|e| self.err(field, e)),
            _ => d.read_vlen_strings(VlenStringReadOptions::new()).map_err(|e| self.err(field, e)),
        }
    }

    /// A column of a legacy (compound) dataframe.
    fn legacy_column(&self, frame: &str, column: &str) -> Result<Column, OmicsError> {
        compound_column(&self.file, frame, column).map_err(|e| self.err(&format!("{frame}/{column}"), e))
    }

    /// Labels of categorical codes (-1, missing, as "").
    fn decode(&self, field: &str, codes: &[i64], categories: &[String]) -> Result<Vec<String>, OmicsError> {
        codes
            .iter()
            .map(|&c| match c {
                -1 => Ok(String::new()),
                c if c >= 0 && (c as usize) < categories.len() => Ok(categories[c as usize].clone()),
                c => Err(self.err(field, format!("code {c} outside the {} categories", categories.len()))),
            })
            .collect()
    }

    /// The path of `.raw`'s `part` (`X`, `var`): `raw/<part>`, or `raw.<part>` in the legacy layout.
    fn raw(&self, part: &str) -> String {
        format!("raw{}{part}", if self.legacy { "." } else { "/" })
    }

    /// The index of a dataframe group (`obs`, `var`, `raw/var`).
    fn index(&self, frame: &str) -> Result<Vec<String>, OmicsError> {
        if self.legacy {
            return Ok(self.legacy_column(frame, "index")?.into_text());
        }
        let g = self.file.group(frame).map_err(|e| self.err(frame, e))?;
        let attrs = g.attrs().map_err(|e| self.err(frame, e))?;
        let column = text_attr(&attrs, "_index").unwrap_or_else(|| "_index".into());
        self.strings(&format!("{frame}/{column}"))
    }

    /// Whether the file has `.raw`.
    pub fn has_raw(&self) -> bool {
        match self.legacy {
            true => self.file.group("raw.X").is_ok() || self.file.dataset("raw.X").is_ok(),
            false => self.file.group("raw").is_ok(),
        }
    }

    /// Gene names of `X` (or of `raw/X`).
    pub fn var_names(&self, raw: bool) -> Result<Vec<String>, OmicsError> {
        self.index(&if raw { self.raw("var") } else { "var".into() })
    }

    /// Cell names.
    pub fn obs_names(&self) -> Result<Vec<String>, OmicsError> {
        self.index("obs")
    }

    /// An `obs` column as text: a categorical's labels (a missing code, -1, as ""), or a string,
    /// integer, float or boolean array, plain or nullable (a masked entry as "").
    pub fn obs_column(&self, name: &str) -> Result<Vec<String>, OmicsError> {
        let field = format!("obs/{name}");
        if self.legacy {
            let categories = format!("uns/{name}_categories");
            return match self.legacy_column("obs", name)? {
                Column::Integers(codes) if self.file.dataset(&categories).is_ok() => {
                    self.decode(&field, &codes, &self.strings(&categories)?)
                }
                column => Ok(column.into_text()),
            };
        }
        if let Ok(group) = self.file.group(&field) {
            let kind = group.attrs().ok().and_then(|a| text_attr(&a, "encoding-type")).unwrap_or_default();
            if kind.starts_with("nullable-") {
                // pandas' Int64 / boolean / string arrays: values, and a mask true where missing
                let mask_field = format!("{field}/mask");
                let mask = self.file.dataset(&mask_field).and_then(|d| d.read_u8()).map_err(|e| self.err(&mask_field, e))?;
                let mut values = self.column(&format!("{field}/values"))?;
                if mask.len() != values.len() {
                    return Err(self.err(&mask_field, format!("{} mask entries for {} values", mask.len(), values.len())));
                }
                values.iter_mut().zip(mask).filter(|(_, m)| *m != 0).for_each(|(v, _)| v.clear());
                return Ok(values);
            }
            let categories = self.column(&format!("{field}/categories"))?;
            let codes_field = format!("{field}/codes");
            let codes = self.file.dataset(&codes_field).and_then(|d| d.read_i64()).map_err(|e| self.err(&codes_field, e))?;
            return self.decode(&codes_field, &codes, &categories);
        }
        // anndata 0.7: codes in the column, labels in obs/__categories
        let categories = format!("obs/__categories/{name}");
        if self.file.dataset(&categories).is_ok() {
            let codes = self.file.dataset(&field).and_then(|d| d.read_i64()).map_err(|e| self.err(&field, e))?;
            return self.decode(&field, &codes, &self.column(&categories)?);
        }
        self.column(&field)
    }

    /// A one-dimensional dataset as text: strings as they are, integers written out, floats as
    /// Python writes them (`1.5`, `2.0`; NaN as missing, ""), booleans `True` / `False` (as pandas
    /// prints them, so labels read the same whatever type the writer gave the column).
    fn column(&self, field: &str) -> Result<Vec<String>, OmicsError> {
        let d = self.file.dataset(field).map_err(|e| self.err(field, e))?;
        match d.datatype().map_err(|e| self.err(field, e))? {
            hdf5_pure::Datatype::FixedPoint { .. } => {
                Ok(d.read_i64().map_err(|e| self.err(field, e))?.iter().map(|v| v.to_string()).collect())
            }
            // a float32 column is written at its own precision (0.1, not 0.10000000149011612)
            hdf5_pure::Datatype::FloatingPoint { size: 4, .. } => {
                Ok(d.read_f32().map_err(|e| self.err(field, e))?.iter().map(|&v| python_float(v as f64, v.to_string())).collect())
            }
            hdf5_pure::Datatype::FloatingPoint { .. } => {
                Ok(d.read_f64().map_err(|e| self.err(field, e))?.iter().map(|&v| python_float(v, v.to_string())).collect())
            }
            // h5py writes numpy booleans as an enumeration FALSE = 0, TRUE = 1 over int8
            hdf5_pure::Datatype::Enumeration { .. } => Ok(d
                .read_u8()
                .map_err(|e| self.err(field, e))?
                .iter()
                .map(|&v| if v != 0 { "True" } else { "False" }.to_string())
                .collect()),
            _ => self.strings(field),
        }
    }

    fn storage(&self, field: &str) -> Result<(Storage, [usize; 2]), OmicsError> {
        if let Ok(d) = self.file.dataset(field) {
            let shape = d.shape().map_err(|e| self.err(field, e))?;
            if shape.len() != 2 {
                return Err(self.err(field, format!("a matrix of {} dimensions", shape.len())));
            }
            return Ok((Storage::Dense, [shape[0] as usize, shape[1] as usize]));
        }
        let g = self.file.group(field).map_err(|e| self.err(field, e))?;
        let attrs = g.attrs().map_err(|e| self.err(field, e))?;
        // anndata < 0.7 wrote h5sparse's attributes
        let kind = text_attr(&attrs, "encoding-type").or_else(|| text_attr(&attrs, "h5sparse_format")).unwrap_or_default();
        let shape = int_array_attr(&attrs, "shape")
            .or_else(|| int_array_attr(&attrs, "h5sparse_shape"))
            .filter(|s| s.len() == 2)
            .ok_or_else(|| self.err(field, "no 2-element shape attribute"))?;
        let storage = match kind.as_str() {
            "csr_matrix" | "csr" => Storage::Csr,
            "csc_matrix" | "csc" => Storage::Csc,
            other => return Err(self.err(field, format!("encoding-type {other:?}: expected a dense array, csr_matrix or csc_matrix"))),
        };
        Ok((storage, [shape[0] as usize, shape[1] as usize]))
    }

    /// The cells of `X` (or `raw/X`) as a source of CSR chunks.
    pub fn cells(&self, raw: bool) -> Result<H5adCells<'_>, OmicsError> {
        if raw && !self.has_raw() {
            return Err(self.err("raw", "the file has no .raw (use X)"));
        }
        let field = if raw { self.raw("X") } else { "X".into() };
        let (storage, shape) = self.storage(&field)?;
        let genes = self.var_names(raw)?;
        if genes.len() != shape[1] {
            return Err(self.err(&field, format!("{} columns but {} gene names", shape[1], genes.len())));
        }
        Ok(H5adCells { file: self, field, storage, shape, genes })
    }
}

/// The cells of one matrix of an h5ad file.
pub struct H5adCells<'a> {
    file: &'a H5ad,
    field: String,
    storage: Storage,
    shape: [usize; 2],
    genes: Vec<String>,
}

impl H5adCells<'_> {
    fn read_ints(&self, name: &str, start: u64, rows: u64) -> Result<Vec<i64>, OmicsError> {
        let field = format!("{}/{name}", self.field);
        let d = self.file.file.dataset(&field).map_err(|e| self.file.err(&field, e))?;
        d.read_i64_rows(start, rows).map_err(|e| self.file.err(&field, e))
    }

    fn read_data(&self, start: u64, rows: u64) -> Result<Vec<f32>, OmicsError> {
        let field = format!("{}/data", self.field);
        let d = self.file.file.dataset(&field).map_err(|e| self.file.err(&field, e))?;
        d.read_f32_rows(start, rows).map_err(|e| self.file.err(&field, e))
    }

    /// The pointer array of a compressed matrix, checked: starts at 0, never decreases, ends at the
    /// number of stored values.
    fn pointers(&self, count: usize) -> Result<Vec<i64>, OmicsError> {
        let field = format!("{}/indptr", self.field);
        let p = self.read_ints("indptr", 0, count as u64 + 1)?;
        let stored =
            self.file.file.dataset(&format!("{}/data", self.field)).and_then(|d| d.shape()).map_err(|e| self.file.err(&field, e))?;
        let nnz = stored.first().copied().unwrap_or(0) as i64;
        if p.len() != count + 1 {
            return Err(self.file.err(&field, format!("{} pointers for {count} rows (want {})", p.len(), count + 1)));
        }
        if p.first() != Some(&0) || p.windows(2).any(|w| w[1] < w[0]) || p.last() != Some(&nnz) {
            return Err(self.file.err(&field, format!("pointers must rise from 0 to the {nnz} stored values")));
        }
        let field = format!("{}/indices", self.field);
        let indices = self.file.file.dataset(&field).and_then(|d| d.shape()).map_err(|e| self.file.err(&field, e))?;
        if indices.first().copied().unwrap_or(0) as i64 != nnz {
            return Err(self.file.err(&field, format!("{} indices for {nnz} stored values", indices.first().copied().unwrap_or(0))));
        }
        Ok(p)
    }

    /// The stored values `a..b` (indices and data), checked to be all there.
    fn stored(&self, a: u64, b: u64) -> Result<(Vec<i64>, Vec<f32>), OmicsError> {
        let (indices, data) = (self.read_ints("indices", a, b - a)?, self.read_data(a, b - a)?);
        for (name, len) in [("indices", indices.len()), ("data", data.len())] {
            if len as u64 != b - a {
                return Err(self.file.err(&format!("{}/{name}", self.field), format!("{len} values read where {} are stored", b - a)));
            }
        }
        Ok((indices, data))
    }

    /// A CSC matrix read whole and turned into CSR.
    fn csc_as_csr(&self) -> Result<CsrChunk, OmicsError> {
        let [cells, genes] = self.shape;
        let indptr = self.pointers(genes)?;
        let nnz = *indptr.last().unwrap_or(&0) as u64;
        let (rows, data) = self.stored(0, nnz)?;
        let mut count = vec![0usize; cells + 1];
        for &r in &rows {
            if r < 0 || r as usize >= cells {
                return Err(self.file.err(&format!("{}/indices", self.field), format!("cell index {r} outside 0..{cells}")));
            }
            count[r as usize + 1] += 1;
        }
        for c in 0..cells {
            count[c + 1] += count[c];
        }
        let mut next = count.clone();
        let (mut indices, mut values) = (vec![0u32; nnz as usize], vec![0f32; nnz as usize]);
        for g in 0..genes {
            for k in indptr[g] as usize..indptr[g + 1] as usize {
                let at = next[rows[k] as usize];
                indices[at] = g as u32;
                values[at] = data[k];
                next[rows[k] as usize] += 1;
            }
        }
        Ok(CsrChunk { first_cell: 0, indptr: count, indices, data: values })
    }
}

impl CellSource for H5adCells<'_> {
    fn genes(&self) -> &[String] {
        &self.genes
    }

    fn n_cells(&self) -> usize {
        self.shape[0]
    }

    fn for_each_chunk(&self, cells_per_chunk: usize, f: &mut dyn FnMut(&CsrChunk) -> Result<(), OmicsError>) -> Result<(), OmicsError> {
        let [cells, genes] = self.shape;
        let step = cells_per_chunk.max(1);
        match self.storage {
            Storage::Csc => self.csc_as_csr()?.for_each_slice(step, f),
            Storage::Dense => {
                let d = self.file.file.dataset(&self.field).map_err(|e| self.file.err(&self.field, e))?;
                for first in (0..cells).step_by(step) {
                    let n = step.min(cells - first);
                    let values = d.read_f32_rows(first as u64, n as u64).map_err(|e| self.file.err(&self.field, e))?;
                    if values.len() != n * genes {
                        return Err(self.file.err(&self.field, format!("{} values read for {n} cells x {genes} genes", values.len())));
                    }
                    f(&CsrChunk::from_dense(first, genes, &values))?;
                }
                Ok(())
            }
            Storage::Csr => {
                let indptr = self.pointers(cells)?;
                for first in (0..cells).step_by(step) {
                    let last = (first + step).min(cells);
                    let (a, b) = (indptr[first] as u64, indptr[last] as u64);
                    let (indices, data) = self.stored(a, b)?;
                    let mut columns = Vec::with_capacity(indices.len());
                    for &g in &indices {
                        if g < 0 || g as usize >= genes {
                            return Err(self.file.err(&format!("{}/indices", self.field), format!("gene index {g} outside 0..{genes}")));
                        }
                        columns.push(g as u32);
                    }
                    let chunk = CsrChunk {
                        first_cell: first,
                        indptr: indptr[first..=last].iter().map(|&p| (p as u64 - a) as usize).collect(),
                        indices: columns,
                        data,
                    };
                    f(&chunk)?;
                }
                Ok(())
            }
        }
    }
}
