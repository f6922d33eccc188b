//! Shared vocabulary of tacefusion: measurement units, tabular input with row-and-column errors, the
//! clinical table of a cohort read into typed records with its exclusions.
//!
//! Everything here is free of statistics and of networking. Later issues add identifiers, study
//! settings, the storage layout and the commit protocol here, as `../shared/DESIGN.md` lays out.
//!
//! ```
//! use tacefusion_core::{Albumin, AlbuminUnit, Length, LengthUnit};
//!
//! // a centre that records albumin in g/dL and diameters in mm says so, and the value is converted once
//! let albumin = Albumin::new(3.4, "g/dL".parse::<AlbuminUnit>()?)?;
//! assert_eq!(albumin.as_g_per_l(), 34.0);
//! assert_eq!(Length::new(72.0, LengthUnit::Millimetre)?.as_cm(), 7.2);
//! # Ok::<(), tacefusion_core::UnitError>(())
//! ```

pub mod bundle;
pub mod clinical;
pub mod study;
pub mod table;
pub mod units;

pub use clinical::{ClinicalRecord, ClinicalTable, Exclusion, ExclusionKind, read_clinical};
pub use study::{Cohort, CohortRole, Study, StudyError};
pub use table::{LineCounter, Table, TableError};
pub use units::{Albumin, AlbuminUnit, Bilirubin, BilirubinUnit, Length, LengthUnit, UnitError};
