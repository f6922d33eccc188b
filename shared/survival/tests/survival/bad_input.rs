//! Inputs outside a statistic's domain give the typed error that names them (or NaN where the
//! function returns a plain number), never a panic or a plausible-looking number.

use tacefusion_survival::bootstrap::paired_concordance;
use tacefusion_survival::calibration::calibration_by_quantile;
use tacefusion_survival::cutpoint::quantile;
use tacefusion_survival::decision_curve::net_benefit;
use tacefusion_survival::{Covariates, KaplanMeier, SurvivalData, SurvivalError, uno_c};

fn data() -> SurvivalData {
    SurvivalData::new(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![true, false, true, true, false, true]).unwrap()
}

/// The error's text, for errors compared by what they say.
fn said<T: std::fmt::Debug>(r: Result<T, SurvivalError>) -> String {
    r.expect_err("an error").to_string()
}

#[test]
fn time_points_and_arguments_outside_their_domain_are_named() {
    let d = data();
    let risk = [0.6, 0.5, 0.4, 0.3, 0.2, 0.1];
    let cases: Vec<(&str, String, &str)> = vec![
        ("uno_c tau NaN", said(uno_c(&d, &d, &risk, Some(f64::NAN))), "tau NaN is not a positive time"),
        ("uno_c tau 0", said(uno_c(&d, &d, &risk, Some(0.0))), "tau 0 is not a positive time"),
        (
            "calibration at NaN",
            said(calibration_by_quantile(&d, &[0.5; 6], 2, f64::NAN)),
            "calibration time NaN is not a finite non-negative time",
        ),
        ("net benefit at -1", said(net_benefit(&d, &risk, -1.0, &[0.2])), "decision-curve time -1 is not a finite non-negative time"),
        (
            "negative weight",
            said(KaplanMeier::fit_weighted(&d, Some(&[1.0, 1.0, -2.0, 1.0, 1.0, 1.0]), 0.95)),
            "subject 2: weight -2 is negative",
        ),
    ];
    for (case, got, want) in cases {
        assert!(got.contains(want), "{case}: {got:?} does not say {want:?}");
    }
}

#[test]
fn a_short_mean_or_sd_vector_is_a_length_error() {
    let x = Covariates::from_columns(vec!["a".into(), "b".into()], &[vec![1.0, 2.0], vec![3.0, 5.0]]).unwrap();
    assert_eq!(x.standardized(&[0.0], &[1.0, 1.0]).unwrap_err(), SurvivalError::LengthMismatch { what: "means", expected: 2, got: 1 });
    assert_eq!(x.standardized(&[0.0, 0.0], &[1.0]).unwrap_err(), SurvivalError::LengthMismatch { what: "sds", expected: 2, got: 1 });
    let z = x.standardized(&[1.0, 3.0], &[1.0, 2.0]).unwrap();
    assert_eq!((z.row(0), z.row(1)), (&[0.0, 0.0][..], &[1.0, 1.0][..]));
}

#[test]
fn plain_numbers_are_nan_outside_their_domain() {
    let km = KaplanMeier::fit(&data());
    assert!(km.survival_at(f64::NAN).is_nan());
    assert!(km.survival_with_ci_at(f64::NAN).0.is_nan());
    for prob in [-0.1, 1.5, f64::NAN] {
        assert!(quantile(&[1.0, 2.0, 3.0, 4.0], prob).is_nan(), "quantile at {prob}");
    }
    // the ends of the domain are the extremes
    assert_eq!((quantile(&[4.0, 1.0, 3.0], 0.0), quantile(&[4.0, 1.0, 3.0], 1.0)), (1.0, 4.0));
}

#[test]
fn a_paired_bootstrap_without_comparable_pairs_says_so() {
    // one event, at the last time: no earlier event to compare anyone with (it used to say "no events")
    let d = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![false, false, true]).unwrap();
    let got = paired_concordance(&d, &[0.1, 0.2, 0.3], &[0.3, 0.2, 0.1], 50, 1, 0.95).unwrap_err();
    assert_eq!(got, SurvivalError::NoComparablePairs { n: 3 });
}
