//! The clinical-radiologic model: a multivariable Cox model of the fusion score with the clinical
//! variables chosen on the training cohort (univariable screening at p < 0.05, then backward
//! elimination of the clinical terms with Wald p above 0.05; the fusion score always stays), its
//! linear predictor split into low / intermediate / high risk by two cut-points maximising the
//! three-group log-rank statistic on training, and a nomogram. Everything needed to score a new
//! patient is in [`Crm`], which serialises into the model bundle.

use serde::{Deserialize, Serialize};
use tacefusion_survival::cutpoint::{assign_groups, two_cutpoints};
use tacefusion_survival::{Covariates, CoxModel, CoxOptions, Interpolation, SurvivalData};

/// Name of the fusion score's term.
pub const FUSION_TERM: &str = "fusion_score";

/// How the model is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmSettings {
    /// Univariable p below which a clinical variable is considered.
    pub screening_p: f64,
    /// Multivariable Wald p above which a clinical term is removed.
    pub keep_p: f64,
    /// Smallest share of training patients in each risk group.
    pub minprop: f64,
    /// Times of the nomogram's survival axes, months.
    pub nomogram_months: Vec<f64>,
}

impl Default for CrmSettings {
    fn default() -> Self {
        Self { screening_p: 0.05, keep_p: 0.05, minprop: 0.1, nomogram_months: vec![12.0, 24.0, 36.0] }
    }
}

/// Why the model could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CrmError {
    /// Columns and outcomes disagree.
    #[error("clinical-radiologic model: {0}")]
    Shape(String),
    /// A Cox fit or the cut-points failed.
    #[error("clinical-radiologic model: {0}")]
    Fit(String),
}

/// One term of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// Variable.
    pub name: String,
    /// Log hazard ratio per unit.
    pub coef: f64,
    /// Its standard error.
    pub se: f64,
    /// Wald p.
    pub p: f64,
    /// Training mean (the linear predictor is centred there).
    pub mean: f64,
    /// Training range, for the nomogram's axes.
    pub range: [f64; 2],
}

/// A fitted clinical-radiologic model with its risk groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crm {
    /// The terms, fusion score first.
    pub terms: Vec<Term>,
    /// Clinical variables screened in (univariable p) before elimination, with their p.
    pub screened: Vec<(String, f64)>,
    /// Cut-points of the linear predictor: low <= first < intermediate <= second < high.
    pub cutpoints: [f64; 2],
    /// Baseline cumulative hazard at the nomogram times (at the training means).
    pub baseline: Vec<(f64, f64)>,
}

/// A row of the nomogram: a variable's value and its points, or (`variable` = "total") total
/// points with the linear predictor and predicted survival at each nomogram time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NomogramRow {
    /// Variable, or "total".
    pub variable: String,
    /// The variable's value (total points for "total").
    pub value: f64,
    /// Points (the linear predictor for "total").
    pub points: f64,
    /// Survival at the nomogram times (empty for variables).
    pub survival: Vec<f64>,
}

fn cox(names: &[String], columns: &[Vec<f64>], data: &SurvivalData) -> Result<CoxModel, CrmError> {
    let x = Covariates::from_columns(names.to_vec(), columns).map_err(|e| CrmError::Fit(e.to_string()))?;
    CoxModel::fit(&x, data, &CoxOptions::default()).map_err(|e| CrmError::Fit(e.to_string()))
}

impl Crm {
    /// Fits the model on the training cohort: `fusion` score and `clinical` candidates per patient.
    pub fn fit(fusion: &[f64], clinical: &[(String, Vec<f64>)], data: &SurvivalData, settings: &CrmSettings) -> Result<Self, CrmError> {
        if fusion.len() != data.len() || clinical.iter().any(|(_, v)| v.len() != data.len()) {
            return Err(CrmError::Shape("every column needs one value per training patient".into()));
        }
        let mut screened = Vec::new();
        for (name, values) in clinical {
            if let Ok(m) = cox(std::slice::from_ref(name), std::slice::from_ref(values), data)
                && m.p[0] < settings.screening_p
            {
                screened.push((name.clone(), m.p[0]));
            }
        }
        let mut kept: Vec<usize> = (0..clinical.len()).filter(|&k| screened.iter().any(|(n, _)| *n == clinical[k].0)).collect();
        let model = loop {
            let mut names = vec![FUSION_TERM.to_string()];
            let mut columns = vec![fusion.to_vec()];
            for &k in &kept {
                names.push(clinical[k].0.clone());
                columns.push(clinical[k].1.clone());
            }
            let m = cox(&names, &columns, data)?;
            // the weakest clinical term above the threshold goes; the fusion score stays
            let worst = (1..m.p.len()).filter(|&t| m.p[t] > settings.keep_p).max_by(|&a, &b| m.p[a].total_cmp(&m.p[b]));
            match worst {
                Some(t) => {
                    kept.remove(t - 1);
                }
                None => break (m, columns),
            }
        };
        let (m, columns) = model;
        let terms: Vec<Term> = (0..m.coef.len())
            .map(|t| {
                let (lo, hi) = columns[t].iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
                Term { name: m.covariates[t].clone(), coef: m.coef[t], se: m.se[t], p: m.p[t], mean: m.means[t], range: [lo, hi] }
            })
            .collect();
        let lp: Vec<f64> =
            (0..data.len()).map(|i| terms.iter().enumerate().map(|(t, term)| term.coef * (columns[t][i] - term.mean)).sum()).collect();
        let cuts = two_cutpoints(data, &lp, settings.minprop, 200).map_err(|e| CrmError::Fit(format!("cut-points: {e}")))?;
        let base = &m.baseline[0];
        let baseline = settings.nomogram_months.iter().map(|&t| (t, base.at(t, Interpolation::Step))).collect();
        Ok(Self { terms, screened, cutpoints: [cuts.first, cuts.second], baseline })
    }

    /// Linear predictor of a patient from its values by name (the fusion score as [`FUSION_TERM`]);
    /// None when one is missing or not finite.
    pub fn linear_predictor(&self, value: impl Fn(&str) -> Option<f64>) -> Option<f64> {
        let mut lp = 0.0;
        for t in &self.terms {
            lp += t.coef * (value(&t.name).filter(|v| v.is_finite())? - t.mean);
        }
        Some(lp)
    }

    /// Risk group of a linear predictor: 0 low, 1 intermediate, 2 high.
    pub fn group(&self, lp: f64) -> i64 {
        assign_groups(&[lp], &self.cutpoints)[0]
    }

    /// Predicted survival at each nomogram time.
    pub fn survival(&self, lp: f64) -> Vec<f64> {
        self.baseline.iter().map(|&(_, h)| (-h * lp.exp()).exp()).collect()
    }

    /// The nomogram: each variable's axis at `steps` values over its training range (points: 100
    /// for the widest term's full range), then total points against linear predictor and survival.
    pub fn nomogram(&self, steps: usize) -> Vec<NomogramRow> {
        let steps = steps.max(2);
        let effect = |t: &Term| t.coef.abs() * (t.range[1] - t.range[0]);
        let widest = self.terms.iter().map(effect).fold(0.0, f64::max).max(1e-12);
        let mut rows = Vec::new();
        // the lowest-risk end of every axis scores 0
        let mut lp_at_zero = 0.0;
        for t in &self.terms {
            let low_end = if t.coef >= 0.0 { t.range[0] } else { t.range[1] };
            lp_at_zero += t.coef * (low_end - t.mean);
            for s in 0..steps {
                let v = t.range[0] + (t.range[1] - t.range[0]) * s as f64 / (steps - 1) as f64;
                rows.push(NomogramRow {
                    variable: t.name.clone(),
                    value: v,
                    points: 100.0 * t.coef * (v - low_end) / widest,
                    survival: vec![],
                });
            }
        }
        let max_total = 100.0 * self.terms.iter().map(effect).sum::<f64>() / widest;
        for s in 0..=10 {
            let total = max_total * s as f64 / 10.0;
            let lp = lp_at_zero + total * widest / 100.0;
            rows.push(NomogramRow { variable: "total".into(), value: total, points: lp, survival: self.survival(lp) });
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn keeps_the_clinical_variables_that_add_to_the_score_and_splits_three_groups() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let n = 400;
        let normal = |rng: &mut ChaCha8Rng| {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-12), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let (mut fusion, mut pvtt, mut noise, mut time, mut event) = (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let f = normal(&mut rng);
            let p = if rng.random_bool(0.25) { 1.0 } else { 0.0 };
            let t = -rng.random::<f64>().max(1e-12).ln() / (1.0 * f + 0.8 * p).exp() * 20.0;
            let c = 10.0 + 50.0 * rng.random::<f64>();
            fusion.push(f);
            pvtt.push(p);
            noise.push(normal(&mut rng));
            time.push(t.min(c));
            event.push(t <= c);
        }
        let data = SurvivalData::new(time, event).unwrap();
        let clinical = vec![("pvtt".to_string(), pvtt.clone()), ("noise".to_string(), noise.clone())];
        let crm = Crm::fit(&fusion, &clinical, &data, &CrmSettings::default()).unwrap();
        let names: Vec<&str> = crm.terms.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [FUSION_TERM, "pvtt"]);
        assert!((crm.terms[0].coef - 1.0).abs() < 0.25 && (crm.terms[1].coef - 0.8).abs() < 0.35, "{:?}", crm.terms);
        assert!(crm.cutpoints[0] < crm.cutpoints[1]);
        let groups: Vec<i64> = (0..n)
            .map(|i| crm.group(crm.linear_predictor(|name| if name == FUSION_TERM { Some(fusion[i]) } else { Some(pvtt[i]) }).unwrap()))
            .collect();
        for g in 0..3 {
            assert!(groups.iter().filter(|&&x| x == g).count() >= 40, "group {g} below minprop");
        }
        // nomogram: the widest term spans 0..100 points; total points map back to the predictor
        let nomo = crm.nomogram(5);
        let max_points = nomo.iter().filter(|r| r.variable != "total").map(|r| r.points).fold(f64::MIN, f64::max);
        assert!((max_points - 100.0).abs() < 1e-9);
        let totals: Vec<&NomogramRow> = nomo.iter().filter(|r| r.variable == "total").collect();
        assert!(totals.windows(2).all(|w| w[1].survival[1] <= w[0].survival[1]), "more points, lower survival");
    }
}
