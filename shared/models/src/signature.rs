//! A survival signature from many candidate features (the Rad-score from radiomic features, the
//! early-fusion model from deep + radiomic features): every feature z-scored with the training
//! cohort's mean and SD, univariable Cox screening (Wald p below a threshold), a redundancy filter
//! (of two features with |Spearman| above 0.9 the one with the smaller univariable p stays), then
//! LASSO-Cox over a penalty path with k-fold cross-validation at lambda_1se (glmnet's rule; lambda_min
//! when the 1-SE model is empty). The signature is the linear predictor of the kept features.
//!
//! Screening before the redundancy filter gives the same kept set as the other order (a screened
//! feature can only be removed by a stronger, hence also screened, one) and avoids a correlation
//! matrix over thousands of features. The redundancy filter walks the `max_screened` strongest in
//! p order and stops when it has kept one per two events: that cap counts kept features.

use serde::{Deserialize, Serialize};
use tacefusion_survival::penalized::{PenaltyOptions, alpha_path, cross_validate};
use tacefusion_survival::ranks::average_ranks;
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, SurvivalData};

/// How a signature is built.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureSettings {
    /// Univariable Cox p below which a feature passes screening.
    pub screening_p: f64,
    /// At most this many screened features (the smallest p) enter the redundancy filter.
    pub max_screened: usize,
    /// |Spearman| above which two features are redundant.
    pub redundancy: f64,
    /// Cross-validation folds of the LASSO.
    pub folds: usize,
    /// Penalties on the path.
    pub n_alphas: usize,
    /// Seed of the cross-validation folds.
    pub seed: u64,
}

impl Default for SignatureSettings {
    fn default() -> Self {
        Self { screening_p: 0.05, max_screened: 200, redundancy: 0.9, folds: 5, n_alphas: 50, seed: 1 }
    }
}

/// Why no signature could be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SignatureError {
    /// Rows and outcomes or names and columns disagree.
    #[error("signature data: {0}")]
    Shape(String),
    /// No feature passed screening.
    #[error("no feature of {candidates} has a univariable Cox p below {threshold}")]
    NothingScreened {
        /// Candidate features.
        candidates: usize,
        /// The threshold.
        threshold: f64,
    },
    /// The penalised fit failed.
    #[error("LASSO-Cox: {0}")]
    Lasso(String),
}

/// How many features each step kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectionCounts {
    /// Candidates with a finite, non-constant training column.
    pub candidates: usize,
    /// Passing univariable screening.
    pub screened: usize,
    /// Left after the redundancy filter.
    pub non_redundant: usize,
    /// Non-zero at the chosen penalty.
    pub selected: usize,
}

/// A fitted signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// Kept features, in the candidates' order.
    pub features: Vec<String>,
    /// Their training means (the z-score's centre).
    pub means: Vec<f64>,
    /// Their training SDs.
    pub sds: Vec<f64>,
    /// Coefficients per SD.
    pub coef: Vec<f64>,
    /// The chosen penalty.
    pub alpha: f64,
    /// True when it is lambda_1se (false: lambda_min, the 1-SE model being empty).
    pub one_se: bool,
    /// The steps' counts.
    pub counts: SelectionCounts,
}

/// Mean and sample SD.
fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (m, (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt())
}

/// Spearman's correlation of two columns given as ranks.
fn rank_correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, sa) = mean_sd(a);
    let (mb, sb) = mean_sd(b);
    let cov = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum::<f64>() / (a.len() as f64 - 1.0);
    cov / (sa * sb)
}

impl Signature {
    /// Builds the signature from `columns[j][i]` (feature j of training patient i) named `names`.
    pub fn fit(names: &[String], columns: &[Vec<f64>], data: &SurvivalData, settings: &SignatureSettings) -> Result<Self, SignatureError> {
        if names.len() != columns.len() {
            return Err(SignatureError::Shape(format!("{} names for {} columns", names.len(), columns.len())));
        }
        if let Some((j, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != data.len()) {
            return Err(SignatureError::Shape(format!("feature {} has {} values for {} patients", names[j], c.len(), data.len())));
        }
        // usable candidates, z-scored
        let mut cand: Vec<(usize, f64, f64, Vec<f64>)> = Vec::new();
        for (j, c) in columns.iter().enumerate() {
            if c.iter().all(|v| v.is_finite()) {
                let (m, s) = mean_sd(c);
                if s > 1e-12 * m.abs().max(1.0) {
                    cand.push((j, m, s, c.iter().map(|v| (v - m) / s).collect()));
                }
            }
        }
        let candidates = cand.len();
        // univariable screening
        let mut screened: Vec<(f64, usize)> = Vec::new();
        for (k, (j, _, _, z)) in cand.iter().enumerate() {
            let x = Covariates::from_columns(vec![names[*j].clone()], std::slice::from_ref(z))
                .map_err(|e| SignatureError::Shape(e.to_string()))?;
            if let Ok(m) = CoxModel::fit(&x, data, &CoxOptions::default())
                && m.p[0] < settings.screening_p
            {
                screened.push((m.p[0], k));
            }
        }
        if screened.is_empty() {
            return Err(SignatureError::NothingScreened { candidates, threshold: settings.screening_p });
        }
        screened.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let n_screened = screened.len();
        // redundancy over the `max_screened` strongest: strongest first, keep what is not too close
        // to a kept one, until one candidate per two events. That cap counts kept features, so
        // twenty near-copies of one strong feature do not crowd out a weaker, independent one.
        let cap = (data.n_events() / 2).max(2);
        let mut kept: Vec<(usize, Vec<f64>)> = Vec::new();
        for &(_, k) in screened.iter().take(settings.max_screened) {
            if kept.len() == cap {
                break;
            }
            let r = average_ranks(&cand[k].3);
            if kept.iter().all(|(_, rk)| rank_correlation(&r, rk).abs() <= settings.redundancy) {
                kept.push((k, r));
            }
        }
        let mut kept: Vec<usize> = kept.into_iter().map(|(k, _)| k).collect();
        kept.sort();
        let non_redundant = kept.len();
        // LASSO-Cox with cross-validation
        let x = Covariates::from_columns(
            kept.iter().map(|&k| names[cand[k].0].clone()).collect(),
            &kept.iter().map(|&k| cand[k].3.clone()).collect::<Vec<_>>(),
        )
        .map_err(|e| SignatureError::Shape(e.to_string()))?;
        let lasso = |e: tacefusion_survival::SurvivalError| SignatureError::Lasso(e.to_string());
        let alphas = alpha_path(&x, data, 1.0, settings.n_alphas.max(2), None).map_err(lasso)?;
        let cv = cross_validate(&x, data, &alphas, &PenaltyOptions::default(), settings.folds.clamp(2, data.len()), settings.seed)
            .map_err(lasso)?;
        let nonzero = |i: usize| cv.fit.coef[i].iter().any(|&b| b != 0.0);
        let (index, one_se) = if nonzero(cv.index_1se) { (cv.index_1se, true) } else { (cv.index_min, false) };
        if !nonzero(index) {
            return Err(SignatureError::Lasso(format!("every coefficient is zero at lambda_min ({} screened features)", non_redundant)));
        }
        let mut sig = Signature {
            features: vec![],
            means: vec![],
            sds: vec![],
            coef: vec![],
            alpha: cv.alphas[index],
            one_se,
            counts: SelectionCounts { candidates, screened: n_screened, non_redundant, selected: 0 },
        };
        for (pos, &k) in kept.iter().enumerate() {
            let b = cv.fit.coef[index][pos];
            if b != 0.0 {
                let (j, m, s, _) = &cand[k];
                sig.features.push(names[*j].clone());
                sig.means.push(*m);
                sig.sds.push(*s);
                sig.coef.push(b);
            }
        }
        sig.counts.selected = sig.features.len();
        Ok(sig)
    }

    /// The signature of one patient, from its features by name; None when one is missing or not
    /// finite (a texture feature of a tiny or uniform region can be NaN: such a patient is not
    /// scored, rather than given a NaN score, which a risk grouping would call low).
    pub fn score(&self, value: impl Fn(&str) -> Option<f64>) -> Option<f64> {
        let mut s = 0.0;
        for (k, f) in self.features.iter().enumerate() {
            s += self.coef[k] * (value(f).filter(|v| v.is_finite())? - self.means[k]) / self.sds[k];
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    #[test]
    fn finds_the_planted_features_and_drops_their_copies_and_the_noise() {
        // 300 patients; hazard from a (strong) and b (weaker); a2 = a + tiny noise (redundant);
        // 30 noise features; scaled by arbitrary units to check the z-scoring
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let n = 300;
        let (mut cols, mut names) = (vec![Vec::new(); 33], Vec::new());
        let (mut time, mut event) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let (a, b) = (normal(&mut rng), normal(&mut rng));
            cols[0].push(100.0 + 20.0 * a);
            cols[1].push(5.0 * b);
            cols[2].push(100.0 + 20.0 * a + 0.5 * normal(&mut rng));
            for c in cols.iter_mut().skip(3) {
                c.push(normal(&mut rng));
            }
            let t = -rng.random::<f64>().max(1e-12).ln() / (0.9 * a + 0.5 * b).exp() * 20.0;
            let c = 10.0 + 50.0 * rng.random::<f64>();
            time.push(t.min(c));
            event.push(t <= c);
        }
        names.extend(["a", "b", "a_copy"].map(String::from));
        names.extend((3..33).map(|k| format!("noise{k}")));
        let data = SurvivalData::new(time, event).unwrap();
        let sig = Signature::fit(&names, &cols, &data, &SignatureSettings::default()).unwrap();
        assert!(sig.features.contains(&"b".to_string()), "{sig:?}");
        let a_like = sig.features.iter().filter(|f| *f == "a" || *f == "a_copy").count();
        assert_eq!(a_like, 1, "one of the redundant pair: {sig:?}");
        assert!(sig.features.iter().filter(|f| f.starts_with("noise")).count() <= 1, "{sig:?}");
        assert!(sig.coef.iter().all(|&c| c > 0.0));
        // scoring uses the training scale: a patient at the means scores 0
        let at_means = sig.score(|f| sig.features.iter().position(|g| g == f).map(|k| sig.means[k]));
        assert_eq!(at_means, Some(0.0));
        assert_eq!(sig.score(|_| None), None);
        for bad in [f64::NAN, f64::INFINITY] {
            let one_bad = sig.score(|f| if f == sig.features[0] { Some(bad) } else { Some(1.0) });
            assert_eq!(one_bad, None, "a feature {bad} scores nothing");
        }
    }

    #[test]
    fn near_copies_of_a_strong_feature_do_not_use_up_the_cap() {
        // 60 patients, about 40 events: a cap of about 20. 25 near-copies of `a` (strong) rank
        // above `b` (weaker, independent); capping before the redundancy filter kept 20 copies
        // of `a`, of which one survived, and `b` never reached the LASSO
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let n = 60;
        let (mut cols, mut names) = (vec![Vec::new(); 26], Vec::new());
        let (mut time, mut event) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let (a, b) = (normal(&mut rng), normal(&mut rng));
            for c in cols.iter_mut().take(25) {
                c.push(a + 0.01 * normal(&mut rng));
            }
            cols[25].push(b);
            let t = -rng.random::<f64>().max(1e-12).ln() / (1.5 * a + 0.8 * b).exp() * 20.0;
            let c = 15.0 + 60.0 * rng.random::<f64>();
            time.push(t.min(c));
            event.push(t <= c);
        }
        names.extend((0..25).map(|k| format!("a{k}")));
        names.push("b".into());
        let data = SurvivalData::new(time, event).unwrap();
        let cap = data.n_events() / 2;
        assert!(cap < 25, "{cap}");
        let sig = Signature::fit(&names, &cols, &data, &SignatureSettings::default()).unwrap();
        assert_eq!(sig.counts.non_redundant, 2, "{sig:?}");
        assert!(sig.features.contains(&"b".to_string()), "{sig:?}");
    }

    #[test]
    fn no_signal_is_an_error_not_an_empty_signature() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let cols: Vec<Vec<f64>> = (0..5).map(|_| (0..80).map(|_| normal(&mut rng)).collect()).collect();
        let time: Vec<f64> = (0..80).map(|i| 1.0 + i as f64).collect();
        let data = SurvivalData::new(time, vec![true; 80]).unwrap();
        let names: Vec<String> = (0..5).map(|k| format!("f{k}")).collect();
        let settings = SignatureSettings { screening_p: 1e-6, ..Default::default() };
        assert!(matches!(Signature::fit(&names, &cols, &data, &settings), Err(SignatureError::NothingScreened { candidates: 5, .. })));
    }
}
