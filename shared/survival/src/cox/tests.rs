//! Unit tests of the Cox fit: derivatives against finite differences, the closed form of the null
//! log-likelihood, and each kind of design that must be refused.

use super::*;

fn small() -> (Covariates, SurvivalData) {
    let t = vec![5.0, 3.0, 3.0, 8.0, 2.0, 9.0, 4.0, 6.0, 6.0, 1.0, 7.0, 10.0];
    let e = vec![true, true, true, false, true, true, false, true, true, true, false, true];
    let a = vec![0.5, 1.2, -0.3, 0.1, 2.0, -1.0, 0.7, 0.0, 0.4, 1.5, -0.6, -1.2];
    let b = vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    (Covariates::from_columns(vec!["a".into(), "b".into()], &[a, b]).unwrap(), SurvivalData::new(t, e).unwrap())
}

#[test]
fn derivatives_match_finite_differences() {
    let (x, d) = small();
    for ties in [Ties::Efron, Ties::Breslow] {
        let design = SortedDesign::new(&x, &d, None);
        let groups = design.tie_groups();
        let beta = [0.3, -0.4];
        let at = |b: &[f64]| evaluate(&design, &groups, b, ties, false).loglik;
        let full = evaluate(&design, &groups, &beta, ties, true);
        let h = 1e-5;
        for j in 0..2 {
            let mut up = beta;
            let mut down = beta;
            up[j] += h;
            down[j] -= h;
            let numeric = (at(&up) - at(&down)) / (2.0 * h);
            assert!((numeric - full.gradient[j]).abs() < 1e-7, "{ties:?} gradient {j}");
            let g_up = evaluate(&design, &groups, &up, ties, true).gradient;
            let g_down = evaluate(&design, &groups, &down, ties, true).gradient;
            for k in 0..2 {
                let numeric = -(g_up[k] - g_down[k]) / (2.0 * h);
                assert!((numeric - full.information.get(j, k)).abs() < 1e-6, "{ties:?} information {j},{k}");
            }
        }
    }
}

#[test]
fn null_loglik_has_its_closed_form() {
    // Breslow at beta = 0: -Σ_events log(risk set size) per distinct time, times deaths
    let (x, d) = small();
    let m = CoxModel::fit(&x, &d, &CoxOptions { ties: Ties::Breslow, ..Default::default() }).unwrap();
    let mut want = 0.0;
    for i in 0..d.len() {
        if d.event()[i] {
            let at_risk = d.time().iter().filter(|&&t| t >= d.time()[i]).count() as f64;
            want -= at_risk.ln();
        }
    }
    assert!((m.loglik_null - want).abs() < 1e-12);
    assert!(m.loglik >= m.loglik_null);
    // at the optimum the score is zero: refitting from the estimate moves nothing
    let design = SortedDesign::new(&x, &d, None);
    let g = evaluate(&design, &design.tie_groups(), &m.coef, Ties::Breslow, true).gradient;
    assert!(g.iter().all(|v| v.abs() < 1e-9), "{g:?}");
}

#[test]
fn one_stratum_is_no_strata_and_ties_only_matter_when_there_are_ties() {
    let (x, d) = small();
    let plain = CoxModel::fit(&x, &d, &CoxOptions::default()).unwrap();
    let one = CoxModel::fit(&x, &d, &CoxOptions { strata: Some(vec![3; 12]), ..Default::default() }).unwrap();
    for j in 0..2 {
        assert!((plain.coef[j] - one.coef[j]).abs() < 1e-12);
    }
    let untied: Vec<f64> = d.time().iter().enumerate().map(|(i, t)| t + i as f64 * 1e-3).collect();
    let d2 = SurvivalData::new(untied, d.event().to_vec()).unwrap();
    let e = CoxModel::fit(&x, &d2, &CoxOptions::default()).unwrap();
    let b = CoxModel::fit(&x, &d2, &CoxOptions { ties: Ties::Breslow, ..Default::default() }).unwrap();
    assert!((e.coef[0] - b.coef[0]).abs() < 1e-12 && (e.loglik - b.loglik).abs() < 1e-12);
}

/// (what, covariate names, columns, outcomes)
type Case = (&'static str, Vec<String>, Vec<Vec<f64>>, SurvivalData);

#[test]
fn refuses_designs_without_a_finite_estimate() {
    let (x, d) = small();
    let a = x.column(0);
    let cases: Vec<Case> = vec![
        ("constant", vec!["a".into(), "k".into()], vec![a.clone(), vec![2.0; 12]], d.clone()),
        ("singular", vec!["a".into(), "twice_a".into()], vec![a.clone(), a.iter().map(|v| 2.0 * v + 1.0).collect()], d.clone()),
        (
            "monotone",
            vec!["sep".into()],
            // the subject with the highest value dies first in every risk set
            vec![d.time().iter().map(|t| -t).collect()],
            SurvivalData::new(d.time().to_vec(), vec![true; 12]).unwrap(),
        ),
        ("no events", vec!["a".into()], vec![a.clone()], SurvivalData::new(d.time().to_vec(), vec![false; 12]).unwrap()),
    ];
    for (what, names, cols, data) in cases {
        let x = Covariates::from_columns(names, &cols).unwrap();
        let err = CoxModel::fit(&x, &data, &CoxOptions::default()).unwrap_err();
        let ok = match what {
            "constant" => matches!(&err, SurvivalError::ConstantCovariate { name } if name == "k"),
            "singular" => matches!(&err, SurvivalError::SingularDesign { name } if name == "twice_a"),
            "monotone" => matches!(&err, SurvivalError::MonotoneLikelihood { name, .. } if name == "sep"),
            "no events" => matches!(err, SurvivalError::NoEvents { .. }),
            _ => unreachable!(),
        };
        assert!(ok, "{what}: {err}");
    }
}

#[test]
fn predicted_survival_decreases_and_follows_the_risk() {
    let (x, d) = small();
    let m = CoxModel::fit(&x, &d, &CoxOptions::default()).unwrap();
    let hi = [2.0, 1.0];
    let lo = [-1.0, 0.0];
    let mut prev = 1.0;
    for t in [0.5, 2.0, 4.0, 6.0, 9.0, 11.0] {
        let s = m.survival_at(&lo, 0, t, Interpolation::Step).unwrap();
        assert!(s <= prev + 1e-15);
        prev = s;
        let worse = m.survival_at(&hi, 0, t, Interpolation::Step).unwrap();
        assert!((m.risk_score(&hi) > m.risk_score(&lo)) == (worse <= s));
    }
}
