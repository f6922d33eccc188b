//! Errors of the omics library: each names the file, and where it applies the line, the gene, the
//! set or the field.

/// What went wrong reading or scoring omics data.
#[derive(Debug, thiserror::Error)]
pub enum OmicsError {
    /// A file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The error.
        source: std::io::Error,
    },
    /// A text file has a bad line.
    #[error("{file}:{line}: {detail}")]
    Parse {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// An HDF5 (h5ad) file lacks something or could not be decoded.
    #[error("{file}: {field}: {detail}")]
    H5ad {
        /// The file.
        file: String,
        /// The HDF5 path (`raw/X/data`, `obs/bulk_labels/codes`, ...).
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// A gene set has no gene in the data (or none at all).
    #[error("gene set {set}: {detail}")]
    EmptySet {
        /// The set.
        set: String,
        /// Why it is empty.
        detail: String,
    },
    /// Requested genes are absent from the data.
    #[error("none of the genes {genes:?} is in the data")]
    NoGenes {
        /// The genes asked for.
        genes: Vec<String>,
    },
    /// An argument out of its range.
    #[error("{0}")]
    Invalid(String),
}

impl OmicsError {
    pub(crate) fn io(file: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        OmicsError::Io { file: file.as_ref().display().to_string(), source }
    }
}
