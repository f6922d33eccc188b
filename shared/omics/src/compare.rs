//! Two-group comparisons as the biology reports them: the Mann-Whitney U test (Wilcoxon rank-sum,
//! normal approximation with the tie correction and a continuity correction, two-sided, as
//! `scipy.stats.mannwhitneyu(method="asymptotic")`; exact for small groups without ties, as scipy's
//! default `method="auto"` chooses), Welch's t-test (t distribution with
//! Welch-Satterthwaite degrees of freedom), the rank-biserial effect size and Benjamini-Hochberg
//! adjusted p-values. (The log2 fold change of differential expression is the difference of the
//! groups' means on the log2 scale.)

use tacefusion_survival::ranks::average_ranks;
use tacefusion_survival::special::{ln_gamma, normal_sf};

use crate::OmicsError;

/// The Mann-Whitney U test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// U of the first group (pairs where a > b, ties counting one half).
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Rank-biserial correlation, 2 U / (n_a n_b) - 1: positive when `a` tends to be larger.
    pub rank_biserial: f64,
}

/// Welch's t-test of `a` against `b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// t statistic (positive when `a`'s mean is larger).
    pub t: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

fn check(a: &[f64], b: &[f64], least: usize) -> Result<(), OmicsError> {
    if a.len() < least || b.len() < least {
        return Err(OmicsError::Invalid(format!("groups of {} and {} values: at least {least} each", a.len(), b.len())));
    }
    if a.iter().chain(b).any(|v| !v.is_finite()) {
        return Err(OmicsError::Invalid("a value is not a finite number".into()));
    }
    Ok(())
}

/// Mann-Whitney U, two-sided, normal approximation with tie and continuity corrections.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Result<MannWhitney, OmicsError> {
    check(a, b, 1)?;
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let all: Vec<f64> = a.iter().chain(b).copied().collect();
    let ranks = average_ranks(&all);
    let u = ranks[..a.len()].iter().sum::<f64>() - n1 * (n1 + 1.0) / 2.0;
    // tie term: sum over groups of tied values of t^3 - t
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let n = n1 + n2;
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))).sqrt();
    let big = u.max(n1 * n2 - u);
    let p = if sigma > 0.0 { (2.0 * normal_sf((big - n1 * n2 / 2.0 - 0.5) / sigma)).min(1.0) } else { 1.0 };
    Ok(MannWhitney { u, p, rank_biserial: 2.0 * u / (n1 * n2) - 1.0 })
}

/// Mann-Whitney U as scipy's default (`method="auto"`) computes it: the exact null distribution
/// when a group has at most 8 values and no value is tied, else [`mann_whitney`]. Patient-level
/// tests of a few patients per group (the single-cell cohort) need the exact p.
pub fn mann_whitney_auto(a: &[f64], b: &[f64]) -> Result<MannWhitney, OmicsError> {
    let asymptotic = mann_whitney(a, b)?;
    let mut all: Vec<f64> = a.iter().chain(b).copied().collect();
    all.sort_by(f64::total_cmp);
    let tied = all.windows(2).any(|w| w[0] == w[1]);
    if tied || (a.len() > 8 && b.len() > 8) {
        return Ok(asymptotic);
    }
    let (m, n) = (a.len(), b.len());
    let big = asymptotic.u.max((m * n) as f64 - asymptotic.u).round() as usize;
    // the null distribution of U is the same for (m, n) and (n, m): count over the smaller group
    let p = (2.0 * exact_u_sf(m.min(n), m.max(n), big)).clamp(0.0, 1.0);
    Ok(MannWhitney { p, ..asymptotic })
}

/// P(U >= u) under the null for groups of `m` and `n` values without ties: the counts of U are the
/// coefficients of the Gaussian binomial [m + n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i).
fn exact_u_sf(m: usize, n: usize, u: usize) -> f64 {
    let degree = m * n;
    let mut c = vec![0.0f64; degree + 1];
    c[0] = 1.0;
    for i in 1..=m {
        // times (1 - q^(n+i)), then divided by (1 - q^i) (a running sum with stride i)
        for k in (n + i..=degree).rev() {
            c[k] -= c[k - n - i];
        }
        for k in i..=degree {
            c[k] += c[k - i];
        }
    }
    let total: f64 = c.iter().sum();
    c[u.min(degree + 1)..].iter().sum::<f64>() / total
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz).
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // the fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(1.0 - x, b, a);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..500 {
        let m = m as f64;
        for numerator in
            [m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)), -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0))]
        {
            d = 1.0 + numerator * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + numerator / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-16 {
            break;
        }
    }
    front * f / a
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_two_sided_p(t: f64, df: f64) -> f64 {
    incomplete_beta(df / (df + t * t), df / 2.0, 0.5)
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0))
}

/// Welch's t-test, two-sided.
pub fn welch(a: &[f64], b: &[f64]) -> Result<Welch, OmicsError> {
    check(a, b, 2)?;
    let ((m1, v1), (m2, v2)) = (mean_var(a), mean_var(b));
    let (s1, s2) = (v1 / a.len() as f64, v2 / b.len() as f64);
    if s1 + s2 == 0.0 {
        return Err(OmicsError::Invalid("both groups are constant: no t statistic".into()));
    }
    let t = (m1 - m2) / (s1 + s2).sqrt();
    let df = (s1 + s2).powi(2) / (s1 * s1 / (a.len() as f64 - 1.0) + s2 * s2 / (b.len() as f64 - 1.0));
    Ok(Welch { t, df, p: t_two_sided_p(t, df) })
}

/// Benjamini-Hochberg adjusted p-values, in the order given (NaN stays NaN and is not counted).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&x, &y| p[x].total_cmp(&p[y]));
    let m = order.len() as f64;
    let mut q = vec![f64::NAN; p.len()];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p[i] * m / (rank + 1) as f64);
        q[i] = running;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exact_u_distribution_counts_every_arrangement() {
        // 2 and 2 values: the 6 arrangements give U = 0, 1, 2, 2, 3, 4
        for (u, want) in [(0, 6.0), (1, 5.0), (2, 4.0), (3, 2.0), (4, 1.0), (5, 0.0)] {
            assert!((exact_u_sf(2, 2, u) - want / 6.0).abs() < 1e-15, "U >= {u}");
        }
        // 4 vs 4, complete separation: two-sided p = 2 / C(8, 4) = 1 / 35
        let p = mann_whitney_auto(&[5.0, 6.0, 7.0, 8.0], &[1.0, 2.0, 3.0, 4.0]).unwrap().p;
        assert!((p - 1.0 / 35.0).abs() < 1e-15, "{p}");
    }

    #[test]
    fn the_incomplete_beta_meets_known_values() {
        // I_x(1, 1) = x; I_x(a, 1) = x^a; t with 1 df is Cauchy: P(|T| > 1) = 0.5
        assert!((incomplete_beta(0.3, 1.0, 1.0) - 0.3).abs() < 1e-14);
        assert!((incomplete_beta(0.6, 3.0, 1.0) - 0.216).abs() < 1e-14);
        assert!((t_two_sided_p(1.0, 1.0) - 0.5).abs() < 1e-12);
        // large df: the normal, P(|Z| > 1.96) = 0.0499958
        assert!((t_two_sided_p(1.959963984540054, 1e7) - 0.05).abs() < 1e-6);
    }

    #[test]
    fn tests_are_symmetric_and_identical_groups_show_nothing() {
        let (a, b) = ([1.0, 2.0, 2.0, 5.0, 7.0], [0.5, 1.0, 1.5, 2.0]);
        let (x, y) = (mann_whitney(&a, &b).unwrap(), mann_whitney(&b, &a).unwrap());
        assert_eq!(x.p, y.p);
        assert!((x.rank_biserial + y.rank_biserial).abs() < 1e-15);
        assert_eq!(x.u + y.u, 20.0);
        let (w, v) = (welch(&a, &b).unwrap(), welch(&b, &a).unwrap());
        assert_eq!((w.t, w.p), (-v.t, v.p));
        assert_eq!(mann_whitney(&a, &a).unwrap().p, 1.0);
        assert!(welch(&[1.0, 1.0], &[1.0, 1.0]).is_err());
    }

    #[test]
    fn benjamini_hochberg_by_hand() {
        // m = 4: sorted 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
        let q = benjamini_hochberg(&[0.03, 0.5, 0.01, f64::NAN, 0.02]);
        let want = [0.04, 0.5, 0.04, f64::NAN, 0.04];
        for (a, b) in q.iter().zip(want) {
            assert!((a - b).abs() < 1e-15 || (a.is_nan() && b.is_nan()), "{q:?}");
        }
    }
}
