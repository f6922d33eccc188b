//! Seeded, deterministic bootstrap: percentile confidence intervals for any statistic, and the
//! paired bootstrap comparison of two risk scores' Harrell's C on the same patients.
//!
//! Replicate r draws its resample from a ChaCha8 stream (seed, r), so results do not depend on the
//! number of threads; replicates run in parallel with rayon and are reduced in replicate order.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::concordance::harrell_c;
use crate::cutpoint::quantile;
use crate::data::SurvivalData;
use crate::error::{Result, SurvivalError};
use crate::special::{normal_quantile, normal_two_sided_p};

/// A point estimate with its bootstrap percentile interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapInterval {
    /// Statistic on the original sample.
    pub estimate: f64,
    /// Lower percentile bound.
    pub lower: f64,
    /// Upper percentile bound.
    pub upper: f64,
    /// Standard deviation of the replicates.
    pub se: f64,
    /// Confidence level.
    pub level: f64,
    /// Replicates where the statistic was defined.
    pub replicates: usize,
    /// Replicates skipped because the statistic was undefined there (e.g. no event drawn).
    pub skipped: usize,
}

/// The resample of replicate `r`: n indices drawn with replacement.
pub fn resample(n: usize, seed: u64, r: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(r);
    (0..n).map(|_| rng.random_range(0..n)).collect()
}

/// The statistic on the resamples of replicates `replicates` (a range of replicate numbers), in
/// order: the replicates of one bootstrap can be computed in pieces (by separate tasks) and
/// summarised together with [`interval_from_replicates`], giving what one call would.
pub fn replicate_values<F>(n: usize, seed: u64, replicates: std::ops::Range<u64>, statistic: &F) -> Vec<Option<f64>>
where
    F: Fn(&[usize]) -> Option<f64> + Sync,
{
    replicates.into_par_iter().map(|r| statistic(&resample(n, seed, r))).collect()
}

/// Percentile interval from the statistic on the sample (`estimate`) and on every replicate, in
/// replicate order (`None` where it was undefined).
pub fn interval_from_replicates(estimate: f64, values: &[Option<f64>], level: f64) -> Result<BootstrapInterval> {
    if !(level > 0.0 && level < 1.0) {
        return Err(SurvivalError::InvalidArgument(format!("confidence level {level}")));
    }
    summarise(estimate, values, level)
}

fn summarise(estimate: f64, values: &[Option<f64>], level: f64) -> Result<BootstrapInterval> {
    let ok: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if ok.len() < 2 {
        return Err(SurvivalError::InvalidArgument(format!("only {} bootstrap replicates gave a value", ok.len())));
    }
    let mean = ok.iter().sum::<f64>() / ok.len() as f64;
    let se = (ok.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (ok.len() as f64 - 1.0)).sqrt();
    let alpha = (1.0 - level) / 2.0;
    Ok(BootstrapInterval {
        estimate,
        lower: quantile(&ok, alpha),
        upper: quantile(&ok, 1.0 - alpha),
        se,
        level,
        replicates: ok.len(),
        skipped: values.len() - ok.len(),
    })
}

/// Percentile interval of `statistic`, a function of the resampled subject indices (`None` where it
/// is undefined). `statistic` on the identity sample gives the estimate.
pub fn percentile_interval<F>(n: usize, replicates: usize, seed: u64, level: f64, statistic: F) -> Result<BootstrapInterval>
where
    F: Fn(&[usize]) -> Option<f64> + Sync,
{
    if !(level > 0.0 && level < 1.0) || n == 0 || replicates < 2 {
        return Err(SurvivalError::InvalidArgument(format!("bootstrap of {n} subjects, {replicates} replicates, level {level}")));
    }
    let identity: Vec<usize> = (0..n).collect();
    let estimate = statistic(&identity).ok_or_else(|| SurvivalError::InvalidArgument("statistic undefined on the sample".into()))?;
    summarise(estimate, &replicate_values(n, seed, 0..replicates as u64, &statistic), level)
}

/// Paired comparison of two risk scores' Harrell's C on the same subjects.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedConcordance {
    /// C of the first score.
    pub c_first: f64,
    /// C of the second score.
    pub c_second: f64,
    /// c_first - c_second with its percentile interval and bootstrap standard error.
    pub difference: BootstrapInterval,
    /// difference / se.
    pub z: f64,
    /// Two-sided p-value of z.
    pub p: f64,
}

/// Paired bootstrap of C(first) - C(second): both scores are evaluated on the same resample.
pub fn paired_concordance(
    data: &SurvivalData,
    first: &[f64],
    second: &[f64],
    replicates: usize,
    seed: u64,
    level: f64,
) -> Result<PairedConcordance> {
    data.check_per_subject("first risk", first)?;
    data.check_per_subject("second risk", second)?;
    let c = |d: &SurvivalData, r: &[f64]| harrell_c(d, r).ok().map(|c| c.c_index).filter(|v| v.is_finite());
    // the full sample's errors as they are (no events, no comparable pair)
    let c_first = harrell_c(data, first)?.c_index;
    let c_second = harrell_c(data, second)?.c_index;
    let pick = |r: &[f64], idx: &[usize]| idx.iter().map(|&i| r[i]).collect::<Vec<f64>>();
    let difference = percentile_interval(data.len(), replicates, seed, level, |idx| {
        let d = data.select(idx);
        Some(c(&d, &pick(first, idx))? - c(&d, &pick(second, idx))?)
    })?;
    Ok(PairedConcordance::from_difference(c_first, c_second, difference))
}

impl PairedConcordance {
    /// The test from the two C's on the sample and the bootstrap interval of their difference
    /// (z = difference / bootstrap se, two-sided normal p).
    pub fn from_difference(c_first: f64, c_second: f64, difference: BootstrapInterval) -> Self {
        let z = if difference.se > 0.0 {
            difference.estimate / difference.se
        } else if difference.estimate == 0.0 {
            0.0
        } else {
            f64::INFINITY.copysign(difference.estimate)
        };
        PairedConcordance { c_first, c_second, z, p: normal_two_sided_p(z), difference }
    }
}

/// Normal-approximation interval estimate ± z se, for reporting next to the percentile one.
pub fn normal_interval(estimate: f64, se: f64, level: f64) -> (f64, f64) {
    let z = normal_quantile(1.0 - (1.0 - level) / 2.0);
    (estimate - z * se, estimate + z * se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_whatever_the_threads() {
        let x: Vec<f64> = (0..50).map(|i| (i * 37 % 50) as f64).collect();
        let mean = |idx: &[usize]| Some(idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64);
        let a = percentile_interval(50, 400, 9, 0.95, mean).unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let b = pool.install(|| percentile_interval(50, 400, 9, 0.95, mean).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.estimate, 24.5);
        // the standard error of a mean of 50 draws from 0..49: sd / sqrt(50) = 14.43 / 7.07 = 2.04
        assert!((a.se - 2.04).abs() < 0.25, "{}", a.se);
        assert!(a.lower < 24.5 && 24.5 < a.upper);
        let other = percentile_interval(50, 400, 10, 0.95, mean).unwrap();
        assert_ne!(a.lower, other.lower);
    }

    #[test]
    fn replicates_computed_in_pieces_give_the_whole_interval() {
        let x: Vec<f64> = (0..30).map(|i| ((i * 13) % 30) as f64 * 0.5).collect();
        let mean = |idx: &[usize]| Some(idx.iter().map(|&i| x[i]).sum::<f64>() / idx.len() as f64);
        let whole = percentile_interval(30, 300, 4, 0.9, mean).unwrap();
        let mut pieces = Vec::new();
        for range in [0..120, 120..121, 121..300] {
            pieces.extend(replicate_values(30, 4, range, &mean));
        }
        assert_eq!(interval_from_replicates(whole.estimate, &pieces, 0.9).unwrap(), whole);
        assert!(interval_from_replicates(1.0, &pieces, 1.5).is_err());
    }

    #[test]
    fn a_score_compared_with_itself_differs_by_nothing() {
        let t: Vec<f64> = (1..=40).map(|i| i as f64).collect();
        let e: Vec<bool> = (0..40).map(|i| i % 3 != 0).collect();
        let d = SurvivalData::new(t, e).unwrap();
        let r: Vec<f64> = (0..40).map(|i| 40.0 - i as f64 + (i % 7) as f64 * 3.0).collect();
        let p = paired_concordance(&d, &r, &r, 200, 1, 0.95).unwrap();
        assert_eq!(p.difference.estimate, 0.0);
        assert_eq!(p.difference.lower, 0.0);
        assert_eq!(p.difference.upper, 0.0);
        let worse: Vec<f64> = r.iter().map(|v| -v).collect();
        let q = paired_concordance(&d, &r, &worse, 200, 1, 0.95).unwrap();
        assert!(q.difference.lower > 0.0 && q.p < 0.001, "{q:?}");
    }
}
