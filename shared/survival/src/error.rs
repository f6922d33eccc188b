//! Errors of the survival statistics: every one says what was wrong with which input.

/// Why a survival statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SurvivalError {
    /// Inputs that must have one entry per subject have different lengths.
    #[error("{what} has {got} entries, expected {expected} (one per subject)")]
    LengthMismatch {
        /// Which input.
        what: &'static str,
        /// Number of subjects.
        expected: usize,
        /// Number of entries it has.
        got: usize,
    },
    /// No subject at all.
    #[error("no subjects")]
    Empty,
    /// A survival time that is negative, NaN or infinite.
    #[error("subject {index}: survival time {value} is not a finite non-negative number")]
    InvalidTime {
        /// 0-based subject.
        index: usize,
        /// The time.
        value: f64,
    },
    /// A covariate, risk score or weight that is NaN or infinite.
    #[error("subject {index}: {what} is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: String,
        /// 0-based subject.
        index: usize,
        /// The value.
        value: f64,
    },
    /// There is no event, so nothing can be estimated.
    #[error("no events among {n} subjects")]
    NoEvents {
        /// Number of subjects.
        n: usize,
    },
    /// A covariate that has one value for every subject.
    #[error("covariate {name:?} is constant")]
    ConstantCovariate {
        /// The covariate.
        name: String,
    },
    /// The design matrix does not have full column rank.
    #[error("singular design: covariate {name:?} is a linear combination of the covariates before it")]
    SingularDesign {
        /// The first dependent covariate.
        name: String,
    },
    /// The partial likelihood has no finite maximum: the covariate separates the events.
    #[error(
        "monotone likelihood: covariate {name:?} separates events from non-events, its coefficient diverges (|coef| x sd = {scaled_coef:.1})"
    )]
    MonotoneLikelihood {
        /// The covariate.
        name: String,
        /// Coefficient times the covariate's standard deviation when the fit stopped.
        scaled_coef: f64,
    },
    /// The iteration did not converge.
    #[error("{what} did not converge in {iterations} iterations")]
    NotConverged {
        /// Which algorithm.
        what: &'static str,
        /// Iterations done.
        iterations: usize,
    },
    /// No pair of subjects can be compared (no event before another subject's time).
    #[error("no comparable pairs among {n} subjects: concordance undefined")]
    NoComparablePairs {
        /// Number of subjects.
        n: usize,
    },
    /// The censoring distribution reaches zero where an inverse-probability weight is needed.
    #[error("censoring survival is zero at time {time}: inverse probability of censoring weight undefined")]
    CensoringSurvivalZero {
        /// The time.
        time: f64,
    },
    /// A setting or argument out of its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

/// Result of the survival statistics.
pub type Result<T, E = SurvivalError> = std::result::Result<T, E>;
