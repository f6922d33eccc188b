//! Integration tests of the survival library, linked into one binary: agreement with the reference
//! tools on real data, invariants that must hold whatever the data, and bad input's errors.

#![allow(missing_docs, dead_code)]

mod agreement;
mod bad_input;
mod common;
mod properties;
