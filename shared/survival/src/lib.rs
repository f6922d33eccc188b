//! Survival statistics of the tacefusion study, in agreement with lifelines and scikit-survival.
//!
//! Every claim of the study (the clinical-radiologic model stratifies survival better than the
//! clinical scores, late fusion beats early fusion, risk groups separate in every external cohort)
//! is one of these statistics. Each public routine names the reference tool it agrees with; the
//! agreement tests in `tests/` compare against that tool's numbers in `../shared/data/survival`.
//!
//! - [`CoxModel`]: proportional hazards, Efron/Breslow ties, strata, tests, baseline hazard.
//! - [`penalized`]: LASSO / elastic-net Cox along a lambda path with cross-validation (Rad-scores).
//! - [`KaplanMeier`], [`LogRankTest`]: curves and group comparisons.
//! - [`harrell_c`], [`uno_c`], [`cumulative_dynamic_auc`], [`brier_scores`], [`calibration`],
//!   [`decision_curve`]: discrimination, calibration and clinical usefulness.
//! - [`cutpoint`]: maximally selected log-rank cut-points, three groups, tertiles.
//! - [`bootstrap`]: seeded percentile intervals and paired comparisons of two models' C.
//! - [`clinical`]: HAP, mHAP-II, six-and-twelve, seven-eleven, up-to-seven, tumour burden score,
//!   ALBI, Child-Pugh and BCLC, with explicit units.
//!
//! Nothing here touches files or the network.
//!
//! ```
//! use tacefusion_survival::{CoxModel, CoxOptions, Covariates, KaplanMeier, LogRankTest, SurvivalData, harrell_c};
//!
//! // months of follow-up, death observed, and a binary marker
//! let data = SurvivalData::new(
//!     vec![5.0, 8.0, 12.0, 3.0, 20.0, 15.0, 7.0, 30.0],
//!     vec![true, true, false, true, false, true, true, false],
//! )?;
//! let marker = vec![1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
//!
//! let km = KaplanMeier::fit(&data);
//! assert_eq!(km.survival_at(0.0), 1.0);
//! // S drops to 7/8, 3/4, 5/8 and 1/2 at months 3, 5, 7 and 8: the median is 8
//! assert_eq!(km.median().median, Some(8.0));
//!
//! let groups: Vec<i64> = marker.iter().map(|&m| m as i64).collect();
//! let test = LogRankTest::new(&data, &groups)?;
//! assert_eq!(test.df, 1);
//!
//! let c = harrell_c(&data, &marker)?;
//! assert!(c.c_index > 0.5); // marker-positive patients die earlier
//!
//! let x = Covariates::from_columns(vec!["marker".into()], &[marker])?;
//! let cox = CoxModel::fit(&x, &data, &CoxOptions::default())?;
//! assert!(cox.hazard_ratio[0] > 1.0);
//! # Ok::<(), tacefusion_survival::SurvivalError>(())
//! ```

pub mod bootstrap;
pub mod calibration;
pub mod clinical;
pub mod concordance;
pub mod cox;
pub mod cutpoint;
pub mod data;
pub mod decision_curve;
pub mod error;
pub mod ipcw;
pub mod kaplan_meier;
pub mod linalg;
pub mod logrank;
pub mod penalized;
pub mod ranks;
pub mod special;
pub mod time_dependent;

pub use concordance::{Concordance, harrell_c, uno_c};
pub use cox::{ChiSquareTest, CoxModel, CoxOptions, Interpolation, Ties};
pub use data::{Covariates, SurvivalData};
pub use error::{Result, SurvivalError};
pub use kaplan_meier::{KaplanMeier, MedianSurvival};
pub use logrank::LogRankTest;
pub use time_dependent::{BrierScores, RocCurve, TimeDependentAuc, brier_scores, cumulative_dynamic_auc, cumulative_dynamic_roc};
