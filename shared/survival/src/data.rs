//! Right-censored survival outcomes, validated once, and the sort orders the estimators share.

use crate::error::{Result, SurvivalError};

/// Observed times and event indicators of n subjects (event = true: death or progression observed,
/// false: censored at that time).
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalData {
    time: Vec<f64>,
    event: Vec<bool>,
}

impl SurvivalData {
    /// Validates times (finite, non-negative) and lengths.
    pub fn new(time: Vec<f64>, event: Vec<bool>) -> Result<Self> {
        if time.is_empty() {
            return Err(SurvivalError::Empty);
        }
        if event.len() != time.len() {
            return Err(SurvivalError::LengthMismatch { what: "event", expected: time.len(), got: event.len() });
        }
        if let Some((index, &value)) = time.iter().enumerate().find(|(_, t)| !(t.is_finite() && **t >= 0.0)) {
            return Err(SurvivalError::InvalidTime { index, value });
        }
        Ok(Self { time, event })
    }

    /// Number of subjects.
    pub fn len(&self) -> usize {
        self.time.len()
    }
    /// True for no subject (construction rejects that; `select` with no index gives it).
    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
    /// Observed times.
    pub fn time(&self) -> &[f64] {
        &self.time
    }
    /// Event indicators.
    pub fn event(&self) -> &[bool] {
        &self.event
    }
    /// Number of events.
    pub fn n_events(&self) -> usize {
        self.event.iter().filter(|&&e| e).count()
    }

    /// The subjects at the given indices (repeats allowed, as in a bootstrap sample).
    pub fn select(&self, idx: &[usize]) -> Self {
        Self { time: idx.iter().map(|&i| self.time[i]).collect(), event: idx.iter().map(|&i| self.event[i]).collect() }
    }

    /// Indices sorted by increasing time (stable: ties keep input order).
    pub fn order_by_time(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.time[a].total_cmp(&self.time[b]));
        order
    }

    /// Checks that another per-subject input has one finite value per subject.
    pub fn check_per_subject(&self, what: &'static str, values: &[f64]) -> Result<()> {
        if values.len() != self.len() {
            return Err(SurvivalError::LengthMismatch { what, expected: self.len(), got: values.len() });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SurvivalError::NonFinite { what: what.to_string(), index, value });
        }
        Ok(())
    }
}

/// Checks a time point asked for (a horizon, a `t` of S(t)): finite and non-negative.
pub(crate) fn check_time_point(what: &str, t: f64) -> Result<()> {
    if t.is_finite() && t >= 0.0 {
        Ok(())
    } else {
        Err(SurvivalError::InvalidArgument(format!("{what} {t} is not a finite non-negative time")))
    }
}

/// One distinct time with the counts at it, as life tables list them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeCounts {
    /// The time.
    pub time: f64,
    /// Subjects still at risk just before it.
    pub at_risk: f64,
    /// Events at it.
    pub events: f64,
    /// Censorings at it.
    pub censored: f64,
}

/// Distinct observed times in increasing order with numbers at risk, events and censorings,
/// optionally weighted (a weight per subject).
pub fn life_table(data: &SurvivalData, weights: Option<&[f64]>) -> Vec<TimeCounts> {
    let order = data.order_by_time();
    let w = |i: usize| weights.map_or(1.0, |w| w[i]);
    let mut at_risk: f64 = (0..data.len()).map(w).sum();
    let mut out = Vec::new();
    let mut k = 0;
    while k < order.len() {
        let t = data.time()[order[k]];
        let (mut events, mut censored) = (0.0, 0.0);
        while k < order.len() && data.time()[order[k]] == t {
            let i = order[k];
            if data.event()[i] {
                events += w(i);
            } else {
                censored += w(i);
            }
            k += 1;
        }
        out.push(TimeCounts { time: t, at_risk, events, censored });
        at_risk -= events + censored;
    }
    out
}

/// Named covariates of n subjects, stored row-major (one row per subject).
#[derive(Debug, Clone, PartialEq)]
pub struct Covariates {
    names: Vec<String>,
    n: usize,
    values: Vec<f64>,
}

impl Covariates {
    /// Builds the matrix from columns; every column must have n finite values.
    pub fn from_columns(names: Vec<String>, columns: &[Vec<f64>]) -> Result<Self> {
        if names.len() != columns.len() {
            return Err(SurvivalError::LengthMismatch { what: "covariate names", expected: columns.len(), got: names.len() });
        }
        if columns.is_empty() {
            return Err(SurvivalError::InvalidArgument("no covariate".into()));
        }
        let n = columns[0].len();
        if n == 0 {
            return Err(SurvivalError::Empty);
        }
        for (name, col) in names.iter().zip(columns) {
            if col.len() != n {
                return Err(SurvivalError::LengthMismatch { what: "covariate column", expected: n, got: col.len() });
            }
            if let Some((index, &value)) = col.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(SurvivalError::NonFinite { what: format!("covariate {name:?}"), index, value });
            }
        }
        let p = columns.len();
        let mut values = vec![0.0; n * p];
        for (j, col) in columns.iter().enumerate() {
            for (i, &v) in col.iter().enumerate() {
                values[i * p + j] = v;
            }
        }
        Ok(Self { names, n, values })
    }

    /// Covariate names.
    pub fn names(&self) -> &[String] {
        &self.names
    }
    /// Number of subjects.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Number of covariates.
    pub fn p(&self) -> usize {
        self.names.len()
    }
    /// Covariates of subject i.
    pub fn row(&self, i: usize) -> &[f64] {
        let p = self.p();
        &self.values[i * p..(i + 1) * p]
    }
    /// Column j as a vector.
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.n).map(|i| self.values[i * self.p() + j]).collect()
    }
    /// The subjects at the given indices.
    pub fn select(&self, idx: &[usize]) -> Self {
        let mut values = Vec::with_capacity(idx.len() * self.p());
        for &i in idx {
            values.extend_from_slice(self.row(i));
        }
        Self { names: self.names.clone(), n: idx.len(), values }
    }
    /// The covariates at the given column indices, in that order.
    pub fn select_columns(&self, columns: &[usize]) -> Self {
        let mut values = Vec::with_capacity(self.n * columns.len());
        for i in 0..self.n {
            let row = self.row(i);
            values.extend(columns.iter().map(|&j| row[j]));
        }
        Self { names: columns.iter().map(|&j| self.names[j].clone()).collect(), n: self.n, values }
    }
    /// Column means and population standard deviations.
    pub fn means_and_sds(&self) -> (Vec<f64>, Vec<f64>) {
        let p = self.p();
        let n = self.n as f64;
        let mut mean = vec![0.0; p];
        for i in 0..self.n {
            for (m, v) in mean.iter_mut().zip(self.row(i)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; p];
        for i in 0..self.n {
            for j in 0..p {
                let d = self.row(i)[j] - mean[j];
                var[j] += d * d;
            }
        }
        (mean, var.iter().map(|v| (v / n).sqrt()).collect())
    }
}

impl Covariates {
    /// (x - mean) / sd column by column, with the given statistics (for example those of a
    /// training cohort applied to a validation cohort). A zero sd leaves the column centred only.
    /// One mean and one sd per covariate (else `LengthMismatch`, named `means` or `sds`).
    pub fn standardized(&self, means: &[f64], sds: &[f64]) -> Result<Self> {
        let p = self.p();
        for (what, v) in [("means", means), ("sds", sds)] {
            if v.len() != p {
                return Err(SurvivalError::LengthMismatch { what, expected: p, got: v.len() });
            }
        }
        let mut values = self.values.clone();
        for row in values.chunks_mut(p) {
            for j in 0..p {
                let sd = if sds[j] > 0.0 { sds[j] } else { 1.0 };
                row[j] = (row[j] - means[j]) / sd;
            }
        }
        Ok(Self { names: self.names.clone(), n: self.n, values })
    }
}
