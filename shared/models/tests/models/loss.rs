//! The Cox loss and its gradient against `tacefusion_survival::cox::partial_log_likelihood`
//! (itself checked against lifelines and scikit-survival) on a small batch with tied times.

use burn::tensor::{Tensor, TensorData};
use tacefusion_models::{CpuTraining, RiskSets, Ties, cox_loss};
use tacefusion_survival::cox::partial_log_likelihood;
use tacefusion_survival::{Covariates, SurvivalData};

type B = CpuTraining;

/// A batch of 14 patients, 3 covariates, ties among events and between an event and censorings.
fn batch() -> (Vec<Vec<f64>>, Vec<f64>, Vec<bool>) {
    let time = vec![5.0, 8.0, 8.0, 3.0, 12.0, 8.0, 1.5, 20.0, 3.0, 9.5, 14.0, 3.0, 6.0, 11.0];
    let event = vec![true, true, true, false, false, true, true, false, true, true, true, true, false, true];
    let x = (0..time.len())
        .map(|i| {
            let f = i as f64;
            vec![(f * 0.7).sin() * 1.3, ((f * 1.9).cos() + 0.2) * 0.8, if i % 3 == 0 { 1.0 } else { 0.0 }]
        })
        .collect();
    (x, time, event)
}

#[test]
fn value_and_gradient_match_the_partial_likelihood() {
    let (x, time, event) = batch();
    let n = time.len();
    let data = SurvivalData::new(time.clone(), event.clone()).unwrap();
    let columns: Vec<Vec<f64>> = (0..3).map(|j| x.iter().map(|r| r[j]).collect()).collect();
    let covariates = Covariates::from_columns(vec!["a".into(), "b".into(), "c".into()], &columns).unwrap();
    let events = event.iter().filter(|&&e| e).count() as f64;
    let device = Default::default();
    let flat: Vec<f32> = x.iter().flatten().map(|&v| v as f32).collect();
    let design = Tensor::<B, 2>::from_data(TensorData::new(flat, [n, 3]), &device);
    // rows: (beta, ties)
    let cases: [([f64; 3], Ties); 4] = [
        ([0.0, 0.0, 0.0], Ties::Efron),
        ([0.3, -0.5, 0.8], Ties::Efron),
        ([0.3, -0.5, 0.8], Ties::Breslow),
        ([2.5, 1.5, -3.0], Ties::Efron),
    ];
    for (beta, ties) in cases {
        let (loglik, gradient) = partial_log_likelihood(&covariates, &data, &beta, ties).unwrap();
        let b = Tensor::<B, 1>::from_data(TensorData::new(beta.map(|v| v as f32).to_vec(), [3]), &device).require_grad();
        let risk = design.clone().matmul(b.clone().reshape([3, 1])).reshape([n]);
        let sets = RiskSets::new(&time, &event, ties).unwrap();
        let loss = cox_loss(risk, &sets).unwrap();
        let value = loss.clone().into_scalar() as f64;
        let grads = loss.backward();
        let g: Vec<f32> = b.grad(&grads).unwrap().into_data().to_vec().unwrap();
        let want = -loglik / events;
        assert!((value - want).abs() <= 1e-5 * want.abs().max(1.0), "{ties:?} {beta:?}: loss {value} vs {want}");
        for j in 0..3 {
            let want = -gradient[j] / events;
            assert!((g[j] as f64 - want).abs() <= 2e-5 * want.abs().max(1.0), "{ties:?} {beta:?}: d/d beta{j} {} vs {want}", g[j]);
        }
    }
}

#[test]
fn row_order_does_not_matter() {
    let (x, time, event) = batch();
    let n = time.len();
    let risk: Vec<f32> = x.iter().map(|r| (0.4 * r[0] - 0.9 * r[1] + 0.5 * r[2]) as f32).collect();
    let device = Default::default();
    let loss = |order: &[usize]| {
        let t: Vec<f64> = order.iter().map(|&i| time[i]).collect();
        let e: Vec<bool> = order.iter().map(|&i| event[i]).collect();
        let r: Vec<f32> = order.iter().map(|&i| risk[i]).collect();
        let sets = RiskSets::new(&t, &e, Ties::Efron).unwrap();
        cox_loss(Tensor::<B, 1>::from_data(TensorData::new(r, [n]), &device), &sets).unwrap().into_scalar()
    };
    let forward: Vec<usize> = (0..n).collect();
    let backward: Vec<usize> = (0..n).rev().collect();
    assert!((loss(&forward) - loss(&backward)).abs() < 1e-6);
}
