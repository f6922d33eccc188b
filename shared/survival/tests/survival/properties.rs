//! Invariants: C is unchanged by increasing transforms of the risk and by row order; Cox
//! coefficients are unchanged by row order; a covariate multiplied by k gets its coefficient
//! divided by k. Each is checked on real data under several seeded permutations and factors.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, KaplanMeier, Ties, harrell_c};

use super::common::*;

fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    p.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    p
}

#[test]
fn concordance_is_invariant_to_increasing_transforms_and_row_order() {
    let g = gbsg2();
    let risk = numbers(&reference("gbsg2_metrics.json")["risk"]);
    let base = harrell_c(&g.data, &risk).unwrap();
    let transforms: [(&str, fn(f64) -> f64); 4] =
        [("5x+3", |x| 5.0 * x + 3.0), ("exp", f64::exp), ("x^3+x", |x| x * x * x + x), ("rank-like atan", |x| (10.0 * x).atan() * 100.0)];
    for (name, f) in transforms {
        let r: Vec<f64> = risk.iter().map(|&x| f(x)).collect();
        assert_eq!(harrell_c(&g.data, &r).unwrap(), base, "{name}");
    }
    for seed in 0..5 {
        let p = permutation(g.data.len(), seed);
        let r: Vec<f64> = p.iter().map(|&i| risk[i]).collect();
        assert_eq!(harrell_c(&g.data.select(&p), &r).unwrap(), base, "permutation {seed}");
    }
}

#[test]
fn cox_coefficients_are_invariant_to_row_order() {
    let r = rossi();
    for ties in [Ties::Efron, Ties::Breslow] {
        let opts = CoxOptions { ties, ..Default::default() };
        let base = CoxModel::fit(&r.x, &r.data, &opts).unwrap();
        for seed in 0..4 {
            let p = permutation(r.data.len(), seed);
            let m = CoxModel::fit(&r.x.select(&p), &r.data.select(&p), &opts).unwrap();
            for j in 0..base.coef.len() {
                assert!(rel(m.coef[j], base.coef[j]) < 1e-9, "{ties:?} seed {seed} {}", base.covariates[j]);
                assert!(rel(m.se[j], base.se[j]) < 1e-9);
            }
            assert!(rel(m.loglik, base.loglik) < 1e-12);
        }
    }
    let km = KaplanMeier::fit(&r.data);
    let p = permutation(r.data.len(), 9);
    assert_eq!(KaplanMeier::fit(&r.data.select(&p)), km);
}

#[test]
fn scaling_a_covariate_divides_its_coefficient() {
    let r = rossi();
    let base = CoxModel::fit(&r.x, &r.data, &CoxOptions::default()).unwrap();
    for (column, k) in [(1usize, 12.0), (6, 0.25), (1, -3.0), (0, 100.0)] {
        let cols: Vec<Vec<f64>> =
            (0..r.x.p()).map(|j| r.x.column(j).into_iter().map(|v| if j == column { v * k } else { v }).collect()).collect();
        let x = Covariates::from_columns(r.x.names().to_vec(), &cols).unwrap();
        let m = CoxModel::fit(&x, &r.data, &CoxOptions::default()).unwrap();
        for j in 0..base.coef.len() {
            let want = if j == column { base.coef[j] / k } else { base.coef[j] };
            assert!(rel(m.coef[j], want) < 1e-8, "column {column} x {k}: {} {} vs {want}", base.covariates[j], m.coef[j]);
        }
        assert!(rel(m.loglik, base.loglik) < 1e-12);
        assert!(rel(m.p[column], base.p[column]) < 1e-8);
    }
}

/// GBSG2 with every time moved by a distinct fraction of a day, so that no two times tie.
fn untied_gbsg2() -> Gbsg2 {
    let g = gbsg2();
    let t: Vec<f64> = g.data.time().iter().enumerate().map(|(i, t)| t + i as f64 * 1e-4).collect();
    Gbsg2 { data: tacefusion_survival::SurvivalData::new(t, g.data.event().to_vec()).unwrap(), ..g }
}

#[test]
fn trend_and_stratified_logrank_are_cox_score_tests_without_ties() {
    // Without tied times the log-rank statistic is the score test of a Cox model: the trend test
    // with scores w is the score test of the covariate w, the stratified test that of the group
    // indicator in a stratified model. Two independent computations of the same number.
    use tacefusion_survival::LogRankTest;
    let g = untied_gbsg2();
    for scores in [[1.0, 2.0, 3.0], [0.0, 1.0, 5.0]] {
        let trend = LogRankTest::trend(&g.data, &g.tgrade, Some(&scores), None).unwrap();
        let w: Vec<f64> = g.tgrade.iter().map(|&k| scores[(k - 1) as usize]).collect();
        let x = Covariates::from_columns(vec!["w".into()], &[w]).unwrap();
        let cox = CoxModel::fit(&x, &g.data, &CoxOptions { ties: Ties::Breslow, ..Default::default() }).unwrap();
        assert!(rel(trend.chi2, cox.score.statistic) < 1e-10, "{scores:?}: {} vs {}", trend.chi2, cox.score.statistic);
    }
    let hormone: Vec<i64> = g.x.column(0).iter().map(|&v| v as i64).collect();
    let menopause: Vec<i64> = g.x.column(2).iter().map(|&v| v as i64).collect();
    let stratified = LogRankTest::stratified(&g.data, &hormone, Some(&menopause)).unwrap();
    let x = Covariates::from_columns(vec!["horTh".into()], &[g.x.column(0)]).unwrap();
    let cox = CoxModel::fit(&x, &g.data, &CoxOptions { strata: Some(menopause), ..Default::default() }).unwrap();
    assert!(rel(stratified.chi2, cox.score.statistic) < 1e-10, "{} vs {}", stratified.chi2, cox.score.statistic);
    let plain = LogRankTest::new(&g.data, &hormone).unwrap();
    assert!((plain.chi2 - stratified.chi2).abs() > 1e-6, "strata must change the statistic");
}
