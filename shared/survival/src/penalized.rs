//! Penalised Cox regression (LASSO, elastic net) along a path of penalties, with k-fold
//! cross-validation choosing lambda_min and lambda_1se, as used to build Rad-scores.
//!
//! Objective, as in glmnet and scikit-survival's `CoxnetSurvivalAnalysis`:
//! minimise -ℓ(β)/n + α (r ‖β‖₁ + (1 - r)/2 ‖β‖²), with ℓ the Breslow partial log-likelihood and
//! r the L1 ratio. Solved by proximal Newton: coordinate descent on the quadratic model of -ℓ/n,
//! then a backtracking line search on the true objective. Covariates are used as given: standardise
//! them first (`Covariates::standardized`) to penalise every one alike.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::cox::{SortedDesign, Ties, evaluate};
use crate::data::{Covariates, SurvivalData};
use crate::error::{Result, SurvivalError};

/// Settings of a penalised fit.
#[derive(Debug, Clone, PartialEq)]
pub struct PenaltyOptions {
    /// Weight r of the L1 part (1 = LASSO, 0 = ridge).
    pub l1_ratio: f64,
    /// Convergence: largest coefficient change of an outer step.
    pub tol: f64,
    /// Outer (Newton) steps at most per penalty.
    pub max_iter: usize,
}

impl Default for PenaltyOptions {
    fn default() -> Self {
        Self { l1_ratio: 1.0, tol: 1e-10, max_iter: 200 }
    }
}

/// Coefficients along a path of penalties.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElasticNetCox {
    /// Covariate names.
    pub covariates: Vec<String>,
    /// Penalties, in the order fitted (decreasing for an automatic path).
    pub alphas: Vec<f64>,
    /// Coefficients per penalty.
    pub coef: Vec<Vec<f64>>,
    /// L1 ratio used.
    pub l1_ratio: f64,
}

/// The smallest penalty at which every coefficient is zero: max_j |∂ℓ/∂β_j (0)| / (n r).
pub fn alpha_max(x: &Covariates, data: &SurvivalData, l1_ratio: f64) -> Result<f64> {
    check(x, data)?;
    let design = SortedDesign::new(x, data, None);
    let d = evaluate(&design, &design.tie_groups(), &vec![0.0; x.p()], Ties::Breslow, true);
    let g = d.gradient.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    Ok(g / (x.n() as f64 * l1_ratio.max(1e-3)))
}

/// `n` penalties log-spaced from [`alpha_max`] down to `min_ratio` times it (glmnet's defaults:
/// 100 values, ratio 1e-4 when n > p, else 0.01).
pub fn alpha_path(x: &Covariates, data: &SurvivalData, l1_ratio: f64, n: usize, min_ratio: Option<f64>) -> Result<Vec<f64>> {
    let top = alpha_max(x, data, l1_ratio)?;
    let ratio = min_ratio.unwrap_or(if x.n() > x.p() { 1e-4 } else { 1e-2 });
    Ok((0..n).map(|k| top * ratio.powf(k as f64 / (n.max(2) - 1) as f64)).collect())
}

fn check(x: &Covariates, data: &SurvivalData) -> Result<()> {
    if x.n() != data.len() {
        return Err(SurvivalError::LengthMismatch { what: "covariate rows", expected: data.len(), got: x.n() });
    }
    if data.n_events() == 0 {
        return Err(SurvivalError::NoEvents { n: data.len() });
    }
    if let Some(j) = constant_columns(x).iter().position(|&c| c) {
        return Err(SurvivalError::ConstantCovariate { name: x.names()[j].clone() });
    }
    Ok(())
}

/// Which columns do not vary (their SD within 1e-12 of their mean's size).
fn constant_columns(x: &Covariates) -> Vec<bool> {
    let (means, sds) = x.means_and_sds();
    (0..x.p()).map(|j| sds[j].is_nan() || sds[j] <= 1e-12 * means[j].abs().max(1.0)).collect()
}

struct Problem {
    design: SortedDesign,
    groups: Vec<(usize, usize)>,
    n: f64,
    alpha: f64,
    r: f64,
}

impl Problem {
    fn penalty(&self, beta: &[f64]) -> f64 {
        let l1: f64 = beta.iter().map(|b| b.abs()).sum();
        let l2: f64 = beta.iter().map(|b| b * b).sum();
        self.alpha * (self.r * l1 + 0.5 * (1.0 - self.r) * l2)
    }
    fn objective(&self, beta: &[f64]) -> f64 {
        -evaluate(&self.design, &self.groups, beta, Ties::Breslow, false).loglik / self.n + self.penalty(beta)
    }

    /// Proximal Newton from `beta` (warm start) to the minimiser.
    fn solve(&self, mut beta: Vec<f64>, options: &PenaltyOptions) -> Result<Vec<f64>> {
        let p = beta.len();
        for _ in 0..options.max_iter {
            let d = evaluate(&self.design, &self.groups, &beta, Ties::Breslow, true);
            let g: Vec<f64> = d.gradient.iter().map(|v| -v / self.n).collect();
            let h = |j: usize, k: usize| d.information.get(j, k) / self.n;
            // coordinate descent on gᵀδ + ½ δᵀHδ + penalty(β + δ)
            let mut next = beta.clone();
            for _sweep in 0..10_000 {
                let mut change = 0.0_f64;
                for j in 0..p {
                    let hjj = h(j, j);
                    let mut grad_j = g[j];
                    for k in 0..p {
                        grad_j += h(j, k) * (next[k] - beta[k]);
                    }
                    let denominator = hjj + self.alpha * (1.0 - self.r);
                    if denominator <= 0.0 {
                        // a covariate without variation in this risk set structure (constant within a
                        // fold) carries no information: it stays at zero
                        next[j] = 0.0;
                        continue;
                    }
                    let z = hjj * next[j] - grad_j;
                    let b = soft_threshold(z, self.alpha * self.r) / denominator;
                    change = change.max((b - next[j]).abs());
                    next[j] = b;
                }
                if change < options.tol * 1e-2 {
                    break;
                }
            }
            let delta: Vec<f64> = next.iter().zip(&beta).map(|(a, b)| a - b).collect();
            if delta.iter().any(|v| !v.is_finite()) {
                return Err(SurvivalError::NotConverged { what: "penalised Cox proximal Newton (non-finite step)", iterations: 0 });
            }
            let step_norm = delta.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            if step_norm < options.tol {
                return Ok(next);
            }
            // backtracking on the true objective (Armijo condition of proximal Newton)
            let f0 = self.objective(&beta);
            let decrease: f64 = g.iter().zip(&delta).map(|(a, b)| a * b).sum::<f64>() + self.penalty(&next) - self.penalty(&beta);
            let mut t = 1.0;
            loop {
                let trial: Vec<f64> = beta.iter().zip(&delta).map(|(b, d)| b + t * d).collect();
                if self.objective(&trial) <= f0 + 1e-4 * t * decrease || t < 1e-10 {
                    beta = trial;
                    break;
                }
                t *= 0.5;
            }
            if t * step_norm < options.tol {
                return Ok(beta);
            }
        }
        Err(SurvivalError::NotConverged { what: "penalised Cox proximal Newton", iterations: options.max_iter })
    }
}

fn soft_threshold(z: f64, gamma: f64) -> f64 {
    if z > gamma {
        z - gamma
    } else if z < -gamma {
        z + gamma
    } else {
        0.0
    }
}

/// The penalised objective -ℓ(β)/n + α (r ‖β‖₁ + (1 - r)/2 ‖β‖²) at `beta` (Breslow ties).
pub fn objective(x: &Covariates, data: &SurvivalData, alpha: f64, l1_ratio: f64, beta: &[f64]) -> Result<f64> {
    check(x, data)?;
    let design = SortedDesign::new(x, data, None);
    let groups = design.tie_groups();
    Ok(Problem { design, groups, n: x.n() as f64, alpha, r: l1_ratio }.objective(beta))
}

impl ElasticNetCox {
    /// Fits every penalty of `alphas` in the order given, each starting from the previous solution.
    pub fn path(x: &Covariates, data: &SurvivalData, alphas: &[f64], options: &PenaltyOptions) -> Result<Self> {
        check(x, data)?;
        if !(0.0..=1.0).contains(&options.l1_ratio) {
            return Err(SurvivalError::InvalidArgument(format!("l1 ratio {} not in [0, 1]", options.l1_ratio)));
        }
        if let Some(a) = alphas.iter().find(|a| !(a.is_finite() && **a >= 0.0)) {
            return Err(SurvivalError::InvalidArgument(format!("penalty {a} is not a finite non-negative number")));
        }
        let design = SortedDesign::new(x, data, None);
        let groups = design.tie_groups();
        let mut problem = Problem { design, groups, n: x.n() as f64, alpha: 0.0, r: options.l1_ratio };
        let mut beta = vec![0.0; x.p()];
        let mut coef = Vec::with_capacity(alphas.len());
        for &alpha in alphas {
            problem.alpha = alpha;
            beta = problem.solve(beta, options)?;
            coef.push(beta.clone());
        }
        Ok(Self { covariates: x.names().to_vec(), alphas: alphas.to_vec(), coef, l1_ratio: options.l1_ratio })
    }

    /// Linear predictor of one subject under the coefficients of penalty index `k`.
    pub fn risk_score(&self, k: usize, row: &[f64]) -> f64 {
        self.coef[k].iter().zip(row).map(|(b, x)| b * x).sum()
    }
}

/// Cross-validated partial-likelihood deviance along a path.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossValidation {
    /// Penalties.
    pub alphas: Vec<f64>,
    /// Mean cross-validated deviance per event, per penalty.
    pub cvm: Vec<f64>,
    /// Its standard error.
    pub cvsd: Vec<f64>,
    /// Index of the smallest mean deviance (lambda_min).
    pub index_min: usize,
    /// Index of the largest penalty within one standard error of the minimum (lambda_1se).
    pub index_1se: usize,
    /// The path refitted on all subjects.
    pub fit: ElasticNetCox,
}

impl CrossValidation {
    /// lambda_min.
    pub fn alpha_min(&self) -> f64 {
        self.alphas[self.index_min]
    }
    /// lambda_1se.
    pub fn alpha_1se(&self) -> f64 {
        self.alphas[self.index_1se]
    }
}

/// K-fold cross-validation of the path (alphas decreasing), folds drawn from `seed`. The deviance
/// of fold k is glmnet's grouped partial likelihood, -2 (ℓ_all(β₋ₖ) - ℓ₋ₖ(β₋ₖ)), per event of the
/// fold; folds are combined weighted by their events.
pub fn cross_validate(
    x: &Covariates,
    data: &SurvivalData,
    alphas: &[f64],
    options: &PenaltyOptions,
    folds: usize,
    seed: u64,
) -> Result<CrossValidation> {
    check(x, data)?;
    if alphas.is_empty() {
        return Err(SurvivalError::InvalidArgument("no penalty to cross-validate".into()));
    }
    if folds < 2 || folds > x.n() {
        return Err(SurvivalError::InvalidArgument(format!("{folds} folds for {} subjects", x.n())));
    }
    let mut perm: Vec<usize> = (0..x.n()).collect();
    perm.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut fold_of = vec![0; x.n()];
    for (pos, &i) in perm.iter().enumerate() {
        fold_of[i] = pos % folds;
    }
    let full = SortedDesign::new(x, data, None);
    let full_groups = full.tie_groups();
    let per_fold: Vec<Result<(f64, Vec<f64>)>> = (0..folds)
        .into_par_iter()
        .map(|k| {
            let train: Vec<usize> = (0..x.n()).filter(|&i| fold_of[i] != k).collect();
            let held_events = (0..x.n()).filter(|&i| fold_of[i] == k && data.event()[i]).count() as f64;
            let (xt, dt) = (x.select(&train), data.select(&train));
            // a covariate constant within this fold's training part (a rare feature all zero
            // there) carries no information in it: the fold's path is fitted without it and
            // gives it 0, as glmnet does, instead of failing the whole cross-validation
            let varying: Vec<usize> = constant_columns(&xt).iter().enumerate().filter(|(_, c)| !**c).map(|(j, _)| j).collect();
            let coef: Vec<Vec<f64>> = if varying.len() == xt.p() {
                ElasticNetCox::path(&xt, &dt, alphas, options)?.coef
            } else if varying.is_empty() {
                vec![vec![0.0; xt.p()]; alphas.len()]
            } else {
                let path = ElasticNetCox::path(&xt.select_columns(&varying), &dt, alphas, options)?;
                path.coef
                    .iter()
                    .map(|b| {
                        let mut full = vec![0.0; xt.p()];
                        varying.iter().zip(b).for_each(|(&j, &v)| full[j] = v);
                        full
                    })
                    .collect()
            };
            let td = SortedDesign::new(&xt, &dt, None);
            let tg = td.tie_groups();
            let dev = coef
                .iter()
                .map(|b| {
                    let all = evaluate(&full, &full_groups, b, Ties::Breslow, false).loglik;
                    let own = evaluate(&td, &tg, b, Ties::Breslow, false).loglik;
                    -2.0 * (all - own) / held_events.max(1.0)
                })
                .collect();
            Ok((held_events, dev))
        })
        .collect();
    let per_fold: Vec<(f64, Vec<f64>)> = per_fold.into_iter().collect::<Result<_>>()?;
    let total: f64 = per_fold.iter().map(|(w, _)| w).sum();
    let (mut cvm, mut cvsd) = (Vec::new(), Vec::new());
    for a in 0..alphas.len() {
        let m = per_fold.iter().map(|(w, d)| w * d[a]).sum::<f64>() / total;
        let v = per_fold.iter().map(|(w, d)| w * (d[a] - m).powi(2)).sum::<f64>() / total / (folds as f64 - 1.0);
        cvm.push(m);
        cvsd.push(v.sqrt());
    }
    let index_min = (0..cvm.len()).min_by(|&a, &b| cvm[a].total_cmp(&cvm[b])).unwrap_or(0);
    let bound = cvm[index_min] + cvsd[index_min];
    let index_1se = (0..cvm.len()).filter(|&a| cvm[a] <= bound).max_by(|&a, &b| alphas[a].total_cmp(&alphas[b])).unwrap_or(index_min);
    let fit = ElasticNetCox::path(x, data, alphas, options)?;
    Ok(CrossValidation { alphas: alphas.to_vec(), cvm, cvsd, index_min, index_1se, fit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cox::{CoxModel, CoxOptions};

    fn planted(n: usize) -> (Covariates, SurvivalData) {
        // three independent uniform covariates, only the first carries hazard (log HR 1.5)
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut cols = vec![Vec::new(), Vec::new(), Vec::new()];
        let (mut t, mut e) = (Vec::new(), Vec::new());
        for _ in 0..n {
            for c in cols.iter_mut() {
                c.push(rng.random::<f64>() * 2.0 - 1.0);
            }
            let u: f64 = rng.random::<f64>() * 0.999 + 0.0005;
            t.push(-u.ln() / (1.5 * cols[0].last().unwrap()).exp());
            e.push(rng.random::<f64>() < 0.8);
        }
        (Covariates::from_columns(vec!["x0".into(), "x1".into(), "x2".into()], &cols).unwrap(), SurvivalData::new(t, e).unwrap())
    }

    #[test]
    fn zero_penalty_is_the_breslow_cox_fit_and_alpha_max_zeroes_everything() {
        let (x, d) = planted(200);
        let path = ElasticNetCox::path(&x, &d, &[alpha_max(&x, &d, 1.0).unwrap() * 1.0001, 0.0], &PenaltyOptions::default()).unwrap();
        assert!(path.coef[0].iter().all(|&b| b == 0.0), "{:?}", path.coef[0]);
        let cox = CoxModel::fit(&x, &d, &CoxOptions { ties: Ties::Breslow, ..Default::default() }).unwrap();
        for j in 0..3 {
            assert!((path.coef[1][j] - cox.coef[j]).abs() < 1e-8, "{j}: {} vs {}", path.coef[1][j], cox.coef[j]);
        }
    }

    #[test]
    fn cross_validation_keeps_the_planted_covariate() {
        let (x, d) = planted(300);
        let alphas = alpha_path(&x, &d, 1.0, 30, Some(0.01)).unwrap();
        let cv = cross_validate(&x, &d, &alphas, &PenaltyOptions::default(), 5, 7).unwrap();
        let chosen = &cv.fit.coef[cv.index_1se];
        assert!(chosen[0] > 0.5, "{chosen:?}");
        assert!(cv.alpha_1se() >= cv.alpha_min());
        // same seed, same folds, same answer, whatever the number of threads
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = pool.install(|| cross_validate(&x, &d, &alphas, &PenaltyOptions::default(), 5, 7).unwrap());
        assert_eq!(cv.cvm, again.cvm);
        assert_eq!(cv.fit.coef, again.fit.coef);
        // the two noise covariates leave the model before the planted one as the penalty grows
        let first_nonzero = |j: usize| cv.fit.coef.iter().position(|b| b[j] != 0.0).unwrap_or(usize::MAX);
        assert!(first_nonzero(0) < first_nonzero(1) && first_nonzero(0) < first_nonzero(2));
    }

    #[test]
    fn constant_covariates_are_refused() {
        let (x, d) = planted(50);
        let cols = vec![x.column(0), vec![1.0; 50]];
        let xc = Covariates::from_columns(vec!["x0".into(), "one".into()], &cols).unwrap();
        let err = ElasticNetCox::path(&xc, &d, &[0.1], &PenaltyOptions::default()).unwrap_err();
        assert!(matches!(&err, SurvivalError::ConstantCovariate { name } if name == "one"), "{err}");
    }

    #[test]
    fn a_covariate_constant_within_one_fold_does_not_fail_the_cross_validation() {
        // non-zero for one subject only: the training part of the fold that holds it out sees a
        // column of zeros (a deep feature that fires for one patient)
        let (x, d) = planted(300);
        let mut rare = vec![0.0; 300];
        rare[17] = 2.0;
        let xr = Covariates::from_columns(
            vec!["x0".into(), "x1".into(), "x2".into(), "rare".into()],
            &[x.column(0), x.column(1), x.column(2), rare],
        )
        .unwrap();
        let alphas = alpha_path(&xr, &d, 1.0, 30, Some(0.01)).unwrap();
        let cv = cross_validate(&xr, &d, &alphas, &PenaltyOptions::default(), 5, 7).unwrap();
        assert!(cv.cvm.iter().all(|m| m.is_finite()), "{:?}", cv.cvm);
        assert!(cv.fit.coef[cv.index_1se][0] > 0.5, "{:?}", cv.fit.coef[cv.index_1se]);
    }
}
