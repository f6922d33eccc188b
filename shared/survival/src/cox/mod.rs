//! Cox proportional hazards regression: Newton-Raphson with step halving on the partial likelihood
//! (Efron or Breslow ties, optional strata), with standard errors, Wald z and p, confidence
//! intervals, hazard ratios, the likelihood-ratio, Wald and score tests, Harrell's C and the Breslow
//! baseline hazard for predicted survival.
//!
//! Agrees with lifelines' `CoxPHFitter` (Efron) and scikit-survival's `CoxPHSurvivalAnalysis`
//! (Breslow) on the Rossi data: see `tests/survival/agreement.rs`.

mod baseline;
mod likelihood;

pub use baseline::{Interpolation, StratumBaseline};
pub use likelihood::Ties;
pub(crate) use likelihood::{SortedDesign, evaluate};

use serde::Serialize;

use crate::concordance::harrell_c;
use crate::data::{Covariates, SurvivalData};
use crate::error::{Result, SurvivalError};
use crate::linalg::{Cholesky, SquareMatrix};
use crate::special::{chi2_sf, normal_quantile, normal_two_sided_p};

/// Settings of a Cox fit.
#[derive(Debug, Clone, PartialEq)]
pub struct CoxOptions {
    /// Tie handling.
    pub ties: Ties,
    /// A stratum label per subject: separate baseline hazards, common coefficients.
    pub strata: Option<Vec<i64>>,
    /// Newton iterations at most.
    pub max_iter: usize,
    /// Confidence level of the intervals.
    pub level: f64,
}

impl Default for CoxOptions {
    fn default() -> Self {
        Self { ties: Ties::Efron, strata: None, max_iter: 60, level: 0.95 }
    }
}

/// A test statistic with its degrees of freedom and p-value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChiSquareTest {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
}

impl ChiSquareTest {
    fn new(statistic: f64, df: usize) -> Self {
        Self { statistic, df, p: chi2_sf(statistic, df as f64) }
    }
}

/// A fitted Cox model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoxModel {
    /// Covariate names, in the order of every per-covariate vector below.
    pub covariates: Vec<String>,
    /// Coefficients (log hazard ratios).
    pub coef: Vec<f64>,
    /// Standard errors from the inverse information.
    pub se: Vec<f64>,
    /// Wald z = coef / se.
    pub z: Vec<f64>,
    /// Two-sided p-values of z.
    pub p: Vec<f64>,
    /// exp(coef).
    pub hazard_ratio: Vec<f64>,
    /// Lower confidence bound of the coefficient.
    pub coef_lower: Vec<f64>,
    /// Upper confidence bound of the coefficient.
    pub coef_upper: Vec<f64>,
    /// Covariance matrix of the coefficients, row-major.
    pub covariance: Vec<Vec<f64>>,
    /// Partial log-likelihood at the estimate.
    pub loglik: f64,
    /// Partial log-likelihood with all coefficients zero.
    pub loglik_null: f64,
    /// Likelihood-ratio test of all coefficients zero.
    pub likelihood_ratio: ChiSquareTest,
    /// Wald test of all coefficients zero.
    pub wald: ChiSquareTest,
    /// Score (log-rank) test of all coefficients zero.
    pub score: ChiSquareTest,
    /// Harrell's C of the linear predictor on the fitting data.
    pub concordance: f64,
    /// Subjects.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Newton iterations used.
    pub iterations: usize,
    /// Tie handling used.
    pub ties: Ties,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Covariate means (the reference point of the baseline hazard).
    pub means: Vec<f64>,
    /// Breslow baseline cumulative hazard at the means, per stratum.
    pub baseline: Vec<StratumBaseline>,
}

/// Standardised coefficient |β| sd beyond which the fit is declared divergent (a hazard ratio of
/// e^15 per standard deviation is no finite effect).
const DIVERGENT_SCALED_COEF: f64 = 15.0;

impl CoxModel {
    /// Fits the model.
    pub fn fit(x: &Covariates, data: &SurvivalData, options: &CoxOptions) -> Result<Self> {
        check_design(x, data, options)?;
        let design = SortedDesign::new(x, data, options.strata.as_deref());
        let groups = design.tie_groups();
        let (_, sds) = x.means_and_sds();
        let p = x.p();
        let name = |j: usize| x.names()[j].clone();

        let mut beta = vec![0.0; p];
        let mut current = evaluate(&design, &groups, &beta, options.ties, true);
        let loglik_null = current.loglik;
        let null_info = Cholesky::new(&current.information, 1e-12).map_err(|e| SurvivalError::SingularDesign { name: name(e.column) })?;
        let score = ChiSquareTest::new(dot(&current.gradient, &null_info.solve(&current.gradient)), p);

        let mut iterations = 0;
        let mut converged = false;
        while iterations < options.max_iter {
            iterations += 1;
            let chol = match Cholesky::new(&current.information, 1e-14) {
                Ok(c) => c,
                Err(e) => return Err(divergence(&beta, &sds, x).unwrap_or(SurvivalError::SingularDesign { name: name(e.column) })),
            };
            let step = chol.solve(&current.gradient);
            let decrement = dot(&current.gradient, &step);
            let mut t = 1.0;
            let mut candidate: Vec<f64>;
            loop {
                candidate = beta.iter().zip(&step).map(|(b, s)| b + t * s).collect();
                let ll = evaluate(&design, &groups, &candidate, options.ties, false).loglik;
                if ll.is_finite() && ll >= current.loglik - 1e-12 * current.loglik.abs().max(1.0) {
                    break;
                }
                t *= 0.5;
                if t < 1e-12 {
                    candidate = beta.clone();
                    break;
                }
            }
            beta = candidate;
            current = evaluate(&design, &groups, &beta, options.ties, true);
            if let Some(err) = divergence(&beta, &sds, x) {
                return Err(err);
            }
            if decrement.abs() < 1e-13 * current.loglik.abs().max(1.0) {
                converged = true;
                break;
            }
            if t < 1e-12 {
                // no step along the Newton direction raises the likelihood: at the optimum to
                // rounding only if the predicted gain is already negligible
                if decrement.abs() < 1e-8 * current.loglik.abs().max(1.0) {
                    converged = true;
                    break;
                }
                return Err(SurvivalError::NotConverged { what: "Cox Newton-Raphson (line search failed)", iterations });
            }
        }
        if !converged {
            return Err(SurvivalError::NotConverged { what: "Cox Newton-Raphson", iterations });
        }

        let chol = Cholesky::new(&current.information, 1e-14).map_err(|e| SurvivalError::SingularDesign { name: name(e.column) })?;
        let cov = chol.inverse();
        let z_crit = normal_quantile(1.0 - (1.0 - options.level) / 2.0);
        let se: Vec<f64> = (0..p).map(|j| cov.get(j, j).sqrt()).collect();
        let z: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
        let wald = ChiSquareTest::new(current.information.quadratic_form(&beta), p);
        let risk: Vec<f64> = (0..x.n()).map(|i| dot(x.row(i), &beta)).collect();
        let concordance = harrell_c(data, &risk)?.c_index;
        let baseline = baseline::breslow(&design, &groups, &beta);
        Ok(Self {
            covariates: x.names().to_vec(),
            hazard_ratio: beta.iter().map(|b| b.exp()).collect(),
            coef_lower: beta.iter().zip(&se).map(|(b, s)| b - z_crit * s).collect(),
            coef_upper: beta.iter().zip(&se).map(|(b, s)| b + z_crit * s).collect(),
            p: z.iter().map(|&z| normal_two_sided_p(z)).collect(),
            covariance: (0..p).map(|i| (0..p).map(|j| cov.get(i, j)).collect()).collect(),
            likelihood_ratio: ChiSquareTest::new(2.0 * (current.loglik - loglik_null), p),
            loglik: current.loglik,
            loglik_null,
            wald,
            score,
            concordance,
            n: x.n(),
            events: data.n_events(),
            iterations,
            ties: options.ties,
            level: options.level,
            means: design.means.clone(),
            baseline,
            coef: beta,
            se,
            z,
        })
    }

    /// Linear predictor x·β (uncentred): the model's risk score, higher = worse.
    pub fn risk_score(&self, row: &[f64]) -> f64 {
        dot(row, &self.coef)
    }

    /// Predicted S(t | x) in the given stratum (0 without strata).
    pub fn survival_at(&self, row: &[f64], stratum: i64, t: f64, interpolation: Interpolation) -> Result<f64> {
        if row.len() != self.coef.len() {
            return Err(SurvivalError::LengthMismatch { what: "covariate row", expected: self.coef.len(), got: row.len() });
        }
        crate::data::check_time_point("t of S(t)", t)?;
        let base = self
            .baseline
            .iter()
            .find(|b| b.stratum == stratum)
            .ok_or_else(|| SurvivalError::InvalidArgument(format!("no stratum {stratum} in the fitted model")))?;
        let centred: f64 = row.iter().zip(&self.means).zip(&self.coef).map(|((x, m), b)| (x - m) * b).sum();
        Ok((-base.at(t, interpolation) * centred.exp()).exp())
    }
}

/// The partial log-likelihood at `beta` (no strata) and its gradient, for code that optimises it by
/// other means (the deep-learning loss is checked against this).
pub fn partial_log_likelihood(x: &Covariates, data: &SurvivalData, beta: &[f64], ties: Ties) -> Result<(f64, Vec<f64>)> {
    if x.n() != data.len() {
        return Err(SurvivalError::LengthMismatch { what: "covariate rows", expected: data.len(), got: x.n() });
    }
    if beta.len() != x.p() {
        return Err(SurvivalError::LengthMismatch { what: "coefficients", expected: x.p(), got: beta.len() });
    }
    let design = SortedDesign::new(x, data, None);
    let d = evaluate(&design, &design.tie_groups(), beta, ties, true);
    Ok((d.loglik, d.gradient))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The covariate whose standardised coefficient has run off, if any.
fn divergence(beta: &[f64], sds: &[f64], x: &Covariates) -> Option<SurvivalError> {
    let (j, scaled) = beta.iter().zip(sds).map(|(b, s)| (b * s).abs()).enumerate().max_by(|a, b| a.1.total_cmp(&b.1))?;
    (scaled > DIVERGENT_SCALED_COEF).then(|| SurvivalError::MonotoneLikelihood { name: x.names()[j].clone(), scaled_coef: scaled })
}

/// Rejects designs no Cox fit can use: wrong lengths, no events, constant or collinear covariates.
fn check_design(x: &Covariates, data: &SurvivalData, options: &CoxOptions) -> Result<()> {
    if x.n() != data.len() {
        return Err(SurvivalError::LengthMismatch { what: "covariate rows", expected: data.len(), got: x.n() });
    }
    if let Some(s) = &options.strata
        && s.len() != data.len()
    {
        return Err(SurvivalError::LengthMismatch { what: "strata", expected: data.len(), got: s.len() });
    }
    if !(options.level > 0.0 && options.level < 1.0) {
        return Err(SurvivalError::InvalidArgument(format!("confidence level {} not in (0, 1)", options.level)));
    }
    if data.n_events() == 0 {
        return Err(SurvivalError::NoEvents { n: data.len() });
    }
    let (means, sds) = x.means_and_sds();
    for (j, &sd) in sds.iter().enumerate() {
        if sd.is_nan() || sd <= 1e-12 * means[j].abs().max(1.0) {
            return Err(SurvivalError::ConstantCovariate { name: x.names()[j].clone() });
        }
    }
    // correlation matrix: a pivot that vanishes marks a column spanned by the earlier ones
    let p = x.p();
    let mut corr = SquareMatrix::zeros(p);
    for i in 0..x.n() {
        let row = x.row(i);
        for j in 0..p {
            let a = (row[j] - means[j]) / sds[j];
            for k in j..p {
                corr.add(j, k, a * (row[k] - means[k]) / sds[k]);
            }
        }
    }
    corr.symmetrize_from_upper();
    Cholesky::new(&corr, 1e-10).map_err(|e| SurvivalError::SingularDesign { name: x.names()[e.column].clone() })?;
    Ok(())
}

#[cfg(test)]
mod tests;
