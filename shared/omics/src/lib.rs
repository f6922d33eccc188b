//! The study's biology as the field computes it: gene sets from GMT files, bulk expression
//! matrices with their scale, single-sample pathway scores (ssGSEA and GSVA, in agreement with
//! gseapy 1.3), and the single-cell side (h5ad and 10x MTX reading, scanpy's `score_genes`).
//!
//! No networking and no cluster code: the worker's omics stages and the `tacefusion omics` command
//! line call into this crate.

pub mod cells;
pub mod compare;
pub mod error;
pub mod expression;
pub mod gmt;
pub mod gsva;
pub mod h5ad;
pub mod markers;
pub mod mtx;
pub mod score_genes;
pub mod score_tensor;
pub mod ssgsea;

pub use error::OmicsError;
pub use expression::{Expression, Scale};
pub use gmt::{GeneSet, MatchedSet, match_sets, parse_gmt, read_gmt};
pub use gsva::gsva;
pub use ssgsea::{SetScores, ssgsea};
