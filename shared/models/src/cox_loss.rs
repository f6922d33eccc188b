//! The negative Cox partial log-likelihood of a batch of risk scores, Breslow or Efron ties, as a
//! differentiable tensor expression.
//!
//! Times and events are data, not parameters, so the risk-set structure is built on the host, in
//! the batch's own row order: each event row gets the mask of the patients still at risk at its
//! time and the mask of the events tied with it. Each risk-set sum is a shifted log-sum-exp
//! (the row's own maximum is subtracted before `exp`), so a batch whose scores span hundreds of
//! units neither overflows nor loses its small terms. The loss is divided by the number of events,
//! so its scale does not depend on the batch size.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};
pub use tacefusion_survival::Ties;

/// Why a batch has no partial likelihood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoxLossError {
    /// Times, events and scores differ in length.
    #[error("cox loss: {scores} risk scores for {times} times and {events} event flags")]
    Length {
        /// Risk scores.
        scores: usize,
        /// Times.
        times: usize,
        /// Event flags.
        events: usize,
    },
    /// No event in the batch: the partial likelihood is empty.
    #[error("cox loss: the batch of {n} patients has no event")]
    NoEvents {
        /// Patients in the batch.
        n: usize,
    },
    /// A time is negative or not finite.
    #[error("cox loss: time {time} of batch row {row} is not a finite non-negative number")]
    BadTime {
        /// Row in the batch.
        row: usize,
        /// The value.
        time: f64,
    },
}

/// The host-side structure of one batch: which patients are at risk at each event and which events
/// are tied, in the batch's own row order.
#[derive(Debug, Clone)]
pub struct RiskSets {
    n: usize,
    /// Row of each event.
    events: Vec<i64>,
    /// `events.len() x n`: patient j is NOT at risk at event i (masked out).
    outside: Vec<bool>,
    /// `events.len() x n`: patient j is an event tied with event i (itself included).
    tied: Vec<f32>,
    /// Efron's fraction l / d of the i-th event among its d tied events (0 for Breslow).
    fraction: Vec<f32>,
}

impl RiskSets {
    /// The risk sets of a batch.
    pub fn new(time: &[f64], event: &[bool], ties: Ties) -> Result<Self, CoxLossError> {
        let n = time.len();
        if event.len() != n {
            return Err(CoxLossError::Length { scores: n, times: n, events: event.len() });
        }
        if let Some((row, &time)) = time.iter().enumerate().find(|(_, t)| !(t.is_finite() && **t >= 0.0)) {
            return Err(CoxLossError::BadTime { row, time });
        }
        let events: Vec<usize> = (0..n).filter(|&i| event[i]).collect();
        if events.is_empty() {
            return Err(CoxLossError::NoEvents { n });
        }
        let e = events.len();
        let mut outside = vec![false; e * n];
        let mut tied = vec![0f32; e * n];
        let mut fraction = vec![0f32; e];
        for (r, &i) in events.iter().enumerate() {
            let mut rank = 0usize; // events tied with i that come before it
            let mut count = 0usize;
            for j in 0..n {
                outside[r * n + j] = time[j] < time[i];
                if event[j] && time[j] == time[i] {
                    tied[r * n + j] = 1.0;
                    count += 1;
                    if j < i {
                        rank += 1;
                    }
                }
            }
            if ties == Ties::Efron {
                fraction[r] = rank as f32 / count as f32;
            }
        }
        Ok(Self { n, events: events.iter().map(|&i| i as i64).collect(), outside, tied, fraction })
    }

    /// Number of events.
    pub fn n_events(&self) -> usize {
        self.events.len()
    }
}

/// Negative partial log-likelihood divided by the number of events, of `risk` (one score per
/// patient, shape `[n]`).
pub fn cox_loss<B: Backend>(risk: Tensor<B, 1>, sets: &RiskSets) -> Result<Tensor<B, 1>, CoxLossError> {
    let n = sets.n;
    let [scores] = risk.dims();
    if scores != n {
        return Err(CoxLossError::Length { scores, times: n, events: n });
    }
    let device = risk.device();
    let e = sets.n_events();
    let outside = Tensor::<B, 2, Bool>::from_data(TensorData::new(sets.outside.clone(), [e, n]), &device);
    let tied = Tensor::<B, 2>::from_data(TensorData::new(sets.tied.clone(), [e, n]), &device);
    let fraction = Tensor::<B, 2>::from_data(TensorData::new(sets.fraction.clone(), [e, 1]), &device);
    let event_rows = Tensor::<B, 1, Int>::from_data(TensorData::new(sets.events.clone(), [e]), &device);

    // a finite fill, so that exp(fill - shift) is an exact 0 with a zero gradient
    let rows = risk.clone().reshape([1, n]).expand([e, n]).mask_fill(outside, -1.0e30);
    let shift = rows.clone().max_dim(1).detach();
    let weights = (rows - shift.clone()).exp();
    let at_risk = weights.clone().sum_dim(1);
    let tied_sum = (weights * tied).sum_dim(1);
    let log_denominator = (at_risk - fraction * tied_sum).log() + shift;
    let log_likelihood = risk.select(0, event_rows).sum() - log_denominator.sum();
    Ok(log_likelihood.neg() / e as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    type B = burn_flex::Flex;

    fn loss(risk: &[f32], time: &[f64], event: &[bool], ties: Ties) -> f32 {
        let device = Default::default();
        let sets = RiskSets::new(time, event, ties).unwrap();
        let r = Tensor::<B, 1>::from_data(TensorData::new(risk.to_vec(), [risk.len()]), &device);
        cox_loss(r, &sets).unwrap().into_scalar()
    }

    #[test]
    fn hand_computed_values() {
        // times 1, 2, 2, 3 with events at 1 and the tie at 2; risks 0, 1, 2, 3
        let (time, event) = ([1.0, 2.0, 2.0, 3.0], [true, true, true, false]);
        let r = [0f32, 1.0, 2.0, 3.0];
        let e: Vec<f64> = r.iter().map(|&x| (x as f64).exp()).collect();
        let all: f64 = e.iter().sum();
        let later = e[1] + e[2] + e[3];
        let breslow = -(0.0 + 1.0 + 2.0 - all.ln() - 2.0 * later.ln()) / 3.0;
        let efron = -(0.0 + 1.0 + 2.0 - all.ln() - later.ln() - (later - 0.5 * (e[1] + e[2])).ln()) / 3.0;
        for (ties, want) in [(Ties::Breslow, breslow), (Ties::Efron, efron)] {
            let got = loss(&r, &time, &event, ties);
            assert!((got as f64 - want).abs() < 1e-6, "{ties:?}: {got} vs {want}");
        }
    }

    #[test]
    fn large_scores_stay_finite_and_shift_invariant() {
        let (time, event) = ([4.0, 1.0, 3.0, 2.0, 5.0], [true, true, false, true, true]);
        let small = [0.5f32, -1.0, 2.0, 0.0, 1.5];
        let base = loss(&small, &time, &event, Ties::Efron);
        let shifted: Vec<f32> = small.iter().map(|x| x + 500.0).collect();
        let far = loss(&shifted, &time, &event, Ties::Efron);
        assert!(far.is_finite());
        assert!((far - base).abs() < 1e-4, "{far} vs {base}");
        // one patient far below the rest: its term vanishes without underflowing the others
        let spread = [0.5f32, -400.0, 2.0, 0.0, 1.5];
        assert!(loss(&spread, &time, &event, Ties::Efron).is_finite());
    }

    #[test]
    fn bad_batches_are_refused() {
        assert_eq!(RiskSets::new(&[1.0, 2.0], &[false, false], Ties::Efron).unwrap_err(), CoxLossError::NoEvents { n: 2 });
        assert!(matches!(RiskSets::new(&[1.0, f64::NAN], &[true, true], Ties::Efron), Err(CoxLossError::BadTime { row: 1, .. })));
        assert!(matches!(RiskSets::new(&[1.0], &[true, true], Ties::Efron), Err(CoxLossError::Length { .. })));
    }
}
