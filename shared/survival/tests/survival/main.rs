//! Integration tests of the survival library, linked into one binary: agreement with the reference
//! tools on real data, and invariants that must hold whatever the data.

#![allow(missing_docs, dead_code)]

mod agreement;
mod common;
mod properties;
