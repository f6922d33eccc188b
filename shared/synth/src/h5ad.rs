//! Writes single-cell counts as an AnnData file (`.h5ad`, the on-disk layout of anndata >= 0.8) with
//! the pure-Rust `hdf5-pure`: `X` as CSR (float32 counts), `obs` with categorical `patient` and
//! `cell_type`, `var` indexed by gene symbol, and the empty `layers`, `obsm`, `varm`, `obsp`, `varp`,
//! `uns` groups. scanpy and anndata read it (checked by a test against the peers' Python).

use std::path::Path;

use hdf5_pure::{AttrValue, FileBuilder, GroupBuilder};

use crate::SynthError;

/// A categorical column: a code per row into sorted categories.
pub struct Categorical {
    /// Column name.
    pub name: &'static str,
    /// Code of each row.
    pub codes: Vec<i16>,
    /// Category labels in code order.
    pub categories: Vec<String>,
}

impl Categorical {
    /// Codes for text labels, categories sorted as pandas sorts them.
    pub fn from_labels(name: &'static str, labels: &[&str]) -> Self {
        let mut categories: Vec<String> = labels.iter().map(|s| s.to_string()).collect();
        categories.sort();
        categories.dedup();
        let codes = labels.iter().map(|l| categories.binary_search_by(|c| c.as_str().cmp(l)).expect("present") as i16).collect();
        Self { name, codes, categories }
    }
}

/// Cells x genes counts in CSR form.
pub struct Csr<'a> {
    /// Row pointers (cells + 1).
    pub indptr: &'a [u64],
    /// Gene of each stored value.
    pub indices: &'a [u32],
    /// The counts.
    pub counts: &'a [u32],
}

fn text(v: &str) -> AttrValue {
    AttrValue::VarLenString(v.to_string())
}

fn encoding(g: &mut GroupBuilder, kind: &str, version: &str) {
    g.set_attr("encoding-type", text(kind));
    g.set_attr("encoding-version", text(version));
}

fn string_array(g: &mut GroupBuilder, name: &str, values: &[String]) {
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    g.create_dataset(name)
        .with_vlen_strings(&refs)
        .set_attr("encoding-type", text("string-array"))
        .set_attr("encoding-version", text("0.2.0"));
}

fn dataframe(fb: &mut FileBuilder, name: &str, index: &[String], columns: &[Categorical]) -> GroupBuilder {
    let mut g = fb.create_group(name);
    encoding(&mut g, "dataframe", "0.2.0");
    g.set_attr("_index", text("_index"));
    if columns.is_empty() {
        // what anndata writes for no columns
        g.set_attr("column-order", AttrValue::F64Array(vec![]));
    } else {
        g.set_attr("column-order", AttrValue::VarLenStringArray(columns.iter().map(|c| c.name.to_string()).collect()));
    }
    string_array(&mut g, "_index", index);
    for c in columns {
        let mut cg = g.create_group(c.name);
        encoding(&mut cg, "categorical", "0.2.0");
        cg.set_attr("ordered", AttrValue::I8(0));
        cg.create_dataset("codes")
            .with_i16_data(&c.codes)
            .set_attr("encoding-type", text("array"))
            .set_attr("encoding-version", text("0.2.0"));
        string_array(&mut cg, "categories", &c.categories);
        g.add_group(cg.finish());
    }
    g
}

/// Writes the file.
pub fn write_h5ad(path: &Path, x: &Csr<'_>, cells: &[String], genes: &[String], obs: &[Categorical]) -> Result<(), SynthError> {
    let err = |e: hdf5_pure::Error| SynthError::Output { file: path.to_path_buf(), message: e.to_string() };
    let mut fb = FileBuilder::new();
    fb.set_attr("encoding-type", text("anndata"));
    fb.set_attr("encoding-version", text("0.1.0"));
    let mut xg = fb.create_group("X");
    encoding(&mut xg, "csr_matrix", "0.1.0");
    xg.set_attr("shape", AttrValue::I64Array(vec![cells.len() as i64, genes.len() as i64]));
    let data: Vec<f32> = x.counts.iter().map(|&c| c as f32).collect();
    let indices: Vec<i32> = x.indices.iter().map(|&i| i as i32).collect();
    let indptr: Vec<i64> = x.indptr.iter().map(|&p| p as i64).collect();
    xg.create_dataset("data").with_f32_data(&data);
    xg.create_dataset("indices").with_i32_data(&indices);
    xg.create_dataset("indptr").with_i64_data(&indptr);
    fb.add_group(xg.finish());
    let o = dataframe(&mut fb, "obs", cells, obs).finish();
    fb.add_group(o);
    let v = dataframe(&mut fb, "var", genes, &[]).finish();
    fb.add_group(v);
    for name in ["layers", "obsm", "varm", "obsp", "varp", "uns"] {
        let mut g = fb.create_group(name);
        encoding(&mut g, "dict", "0.1.0");
        fb.add_group(g.finish());
    }
    fb.write(path).map_err(err)
}
