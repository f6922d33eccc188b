//! The Cox partial log-likelihood with its gradient and information matrix, for Breslow and Efron
//! handling of tied event times, with strata.
//!
//! Subjects are held sorted by (stratum, time) with centred covariates, so one backward pass
//! accumulates the risk-set sums Σ w, Σ w x and Σ w x xᵀ in O(n p²).

use crate::data::{Covariates, SurvivalData};
use crate::linalg::SquareMatrix;

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ties {
    /// Efron's approximation (lifelines' and R's default).
    #[default]
    Efron,
    /// Breslow's approximation (scikit-survival's and glmnet's).
    Breslow,
}

/// Subjects sorted by (stratum, time) with centred covariates.
#[derive(Debug, Clone)]
pub(crate) struct SortedDesign {
    pub n: usize,
    pub p: usize,
    /// Row-major, centred by `means`.
    pub x: Vec<f64>,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    pub stratum: Vec<i64>,
    pub means: Vec<f64>,
}

impl SortedDesign {
    pub fn new(x: &Covariates, data: &SurvivalData, strata: Option<&[i64]>) -> Self {
        let (n, p) = (x.n(), x.p());
        let (means, _) = x.means_and_sds();
        let stratum_of = |i: usize| strata.map_or(0, |s| s[i]);
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| stratum_of(a).cmp(&stratum_of(b)).then(data.time()[a].total_cmp(&data.time()[b])));
        let mut xs = Vec::with_capacity(n * p);
        for &i in &order {
            xs.extend(x.row(i).iter().zip(&means).map(|(v, m)| v - m));
        }
        Self {
            n,
            p,
            x: xs,
            time: order.iter().map(|&i| data.time()[i]).collect(),
            event: order.iter().map(|&i| data.event()[i]).collect(),
            stratum: order.iter().map(|&i| stratum_of(i)).collect(),
            means,
        }
    }

    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// Centred linear predictors x·β in sorted order.
    pub fn linear_predictors(&self, beta: &[f64]) -> Vec<f64> {
        (0..self.n).map(|i| self.row(i).iter().zip(beta).map(|(a, b)| a * b).sum()).collect()
    }

    /// Ranges [start, end) of rows sharing stratum and time, in sorted order.
    pub fn tie_groups(&self) -> Vec<(usize, usize)> {
        let mut groups = Vec::new();
        let mut start = 0;
        while start < self.n {
            let mut end = start + 1;
            while end < self.n && self.time[end] == self.time[start] && self.stratum[end] == self.stratum[start] {
                end += 1;
            }
            groups.push((start, end));
            start = end;
        }
        groups
    }
}

/// Log-likelihood and, when asked, its first and second derivatives.
#[derive(Debug, Clone)]
pub(crate) struct Derivatives {
    pub loglik: f64,
    pub gradient: Vec<f64>,
    /// Observed information: minus the Hessian.
    pub information: SquareMatrix,
}

/// Evaluates the partial log-likelihood at `beta`; derivatives only when `derivatives` is true
/// (the gradient and information are then left empty/zero otherwise).
pub(crate) fn evaluate(design: &SortedDesign, groups: &[(usize, usize)], beta: &[f64], ties: Ties, derivatives: bool) -> Derivatives {
    let p = design.p;
    let eta = design.linear_predictors(beta);
    let shift = eta.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = eta.iter().map(|e| (e - shift).exp()).collect();

    let mut loglik = 0.0;
    let mut gradient = vec![0.0; if derivatives { p } else { 0 }];
    let mut information = SquareMatrix::zeros(if derivatives { p } else { 0 });
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut s2 = vec![0.0; if derivatives { p * p } else { 0 }];
    let mut d1 = vec![0.0; p];
    let mut d2 = vec![0.0; if derivatives { p * p } else { 0 }];
    let mut a = vec![0.0; p];
    let mut current_stratum = None;

    for &(start, end) in groups.iter().rev() {
        if current_stratum != Some(design.stratum[start]) {
            current_stratum = Some(design.stratum[start]);
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
            s2.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut deaths = 0usize;
        let mut d0 = 0.0;
        if derivatives {
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
        }
        for i in start..end {
            let wi = w[i];
            let xi = design.row(i);
            s0 += wi;
            if derivatives {
                accumulate(&mut s1, &mut s2, wi, xi);
            }
            if design.event[i] {
                deaths += 1;
                d0 += wi;
                loglik += eta[i];
                if derivatives {
                    accumulate(&mut d1, &mut d2, wi, xi);
                    for (g, x) in gradient.iter_mut().zip(xi) {
                        *g += x;
                    }
                }
            }
        }
        if deaths == 0 {
            continue;
        }
        let d = deaths as f64;
        for l in 0..deaths {
            let frac = match ties {
                Ties::Efron => l as f64 / d,
                Ties::Breslow => 0.0,
            };
            let phi = s0 - frac * d0;
            loglik -= phi.ln() + shift;
            if !derivatives {
                continue;
            }
            for j in 0..p {
                a[j] = (s1[j] - frac * d1[j]) / phi;
                gradient[j] -= a[j];
            }
            for j in 0..p {
                for k in j..p {
                    let m = (s2[j * p + k] - frac * d2[j * p + k]) / phi - a[j] * a[k];
                    information.add(j, k, m);
                }
            }
        }
    }
    if derivatives {
        information.symmetrize_from_upper();
    }
    Derivatives { loglik, gradient, information }
}

/// Adds w·x to s1 and w·x xᵀ (upper triangle) to s2.
#[inline]
fn accumulate(s1: &mut [f64], s2: &mut [f64], w: f64, x: &[f64]) {
    let p = x.len();
    for j in 0..p {
        let wx = w * x[j];
        s1[j] += wx;
        let row = &mut s2[j * p..(j + 1) * p];
        for k in j..p {
            row[k] += wx * x[k];
        }
    }
}
