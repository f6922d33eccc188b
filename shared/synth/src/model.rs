//! The generative model of one patient: latent tumour biology, clinical findings with realistic
//! distributions and correlations, and overall survival from a Weibull proportional-hazards model
//! with administrative censoring and loss to follow-up. `docs/synthetic-study.md` writes it out.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Poisson};
use serde::Serialize;

/// The planted effects: coefficients of the log hazard and of the clinical findings on the latents.
/// Written to `truth/effects.json` so that what the pipeline finds can be set against them.
#[derive(Debug, Clone, Serialize)]
pub struct Effects {
    /// Log-hazard per SD of the hypoxia/aggressiveness latent h.
    pub hazard_h: f64,
    /// Log-hazard per SD of the spatial latent s (satellite nodules: outside the mask).
    pub hazard_spatial: f64,
    /// Log-hazard per SD of the texture latent t (heterogeneous arterial enhancement).
    pub hazard_texture: f64,
    /// Log-hazard per SD of liver dysfunction L.
    pub hazard_liver: f64,
    /// Log-hazard of portal vein tumour thrombus.
    pub hazard_pvtt: f64,
    /// Log-hazard of extrahepatic spread.
    pub hazard_extrahepatic: f64,
    /// Log-hazard per ECOG point.
    pub hazard_ecog: f64,
    /// Log-hazard per log(cm) of the largest diameter beyond what h explains.
    pub hazard_log_diameter: f64,
    /// Correlation of s and t with h.
    pub latent_correlation: f64,
    /// Weibull shape.
    pub weibull_shape: f64,
    /// Median overall survival at zero log hazard, months.
    pub median_os_months: f64,
    /// Accrual period, months (administrative censoring between follow_up_min and that plus accrual).
    pub accrual_months: f64,
    /// Minimum follow-up at the data cut, months.
    pub follow_up_min_months: f64,
    /// Rate of loss to follow-up, per month.
    pub loss_rate_per_month: f64,
}

impl Default for Effects {
    fn default() -> Self {
        Self {
            hazard_h: 0.55,
            hazard_spatial: 0.35,
            hazard_texture: 0.30,
            hazard_liver: 0.75,
            hazard_pvtt: 0.55,
            hazard_extrahepatic: 0.45,
            hazard_ecog: 0.30,
            hazard_log_diameter: 0.25,
            latent_correlation: 0.5,
            weibull_shape: 1.3,
            median_os_months: 26.0,
            accrual_months: 60.0,
            follow_up_min_months: 24.0,
            loss_rate_per_month: 0.006,
        }
    }
}

/// Latent variables of a patient (each standard normal).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Latent {
    /// Tumour hypoxia / aggressiveness.
    pub h: f64,
    /// Spatial sign: satellite nodules around the tumour.
    pub spatial: f64,
    /// Textural sign: heterogeneity of arterial enhancement.
    pub texture: f64,
    /// Liver dysfunction.
    pub liver: f64,
}

/// Aetiology of the liver disease.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Aetiology {
    /// hepatitis B
    #[serde(rename = "HBV")]
    Hbv,
    /// hepatitis C
    #[serde(rename = "HCV")]
    Hcv,
    /// alcohol, MASLD, other
    #[serde(rename = "other")]
    Other,
}

/// One patient's clinical row in canonical units (albumin g/L, bilirubin umol/L, diameter cm).
#[derive(Debug, Clone, Serialize)]
pub struct Clinical {
    /// Age, years.
    pub age: f64,
    /// "M" or "F".
    pub sex: &'static str,
    /// Aetiology.
    pub aetiology: Aetiology,
    /// Albumin, g/L.
    pub albumin_g_l: f64,
    /// Total bilirubin, umol/L.
    pub bilirubin_umol_l: f64,
    /// AFP, ng/mL.
    pub afp_ng_ml: f64,
    /// INR.
    pub inr: f64,
    /// 0 none, 1 mild, 2 moderate-severe.
    pub ascites: u8,
    /// 0 none, 1 grade I-II, 2 grade III-IV.
    pub encephalopathy: u8,
    /// ECOG 0-2.
    pub ecog: u8,
    /// Number of tumours.
    pub tumour_number: u32,
    /// Largest diameter, cm.
    pub diameter_cm: f64,
    /// Portal vein tumour thrombus.
    pub pvtt: bool,
    /// Extrahepatic spread.
    pub extrahepatic: bool,
}

/// Survival of a patient: the true event time, the censoring time and what is observed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Outcome {
    /// Log hazard (the oracle risk).
    pub log_hazard: f64,
    /// Time of death had there been no censoring, months.
    pub event_time: f64,
    /// Censoring time, months.
    pub censor_time: f64,
    /// Observed time, months.
    pub os_months: f64,
    /// Death observed.
    pub death: bool,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    Normal::new(0.0, 1.0).expect("valid").sample(rng)
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Draws the latents; `forced_h` plants h (single-cell patients chosen high or low).
pub fn draw_latent(rng: &mut ChaCha8Rng, effects: &Effects, forced_h: Option<f64>) -> Latent {
    let h = forced_h.unwrap_or_else(|| normal(rng));
    let r = effects.latent_correlation;
    let rest = (1.0 - r * r).sqrt();
    Latent { h, spatial: r * h + rest * normal(rng), texture: r * h + rest * normal(rng), liver: normal(rng) }
}

/// Draws the clinical findings given the latents.
pub fn draw_clinical(rng: &mut ChaCha8Rng, l: &Latent) -> Clinical {
    let z = |rng: &mut ChaCha8Rng| normal(rng);
    let diameter_cm = (4.5f64.ln() + 0.35 * l.h + 0.35 * z(rng)).exp().clamp(1.0, 18.0);
    let extra = Poisson::new(0.55 * (0.35 * l.h).exp()).expect("positive rate").sample(rng) as u32;
    let afp_ng_ml = 10f64.powf(1.9 + 0.6 * l.h + 0.8 * z(rng)).clamp(1.0, 1e5);
    let albumin_g_l = (39.0 - 4.0 * l.liver + 2.0 * z(rng)).clamp(20.0, 52.0);
    let bilirubin_umol_l = (2.6 + 0.35 * l.liver + 0.25 * z(rng)).exp().clamp(3.0, 150.0);
    let inr = (1.05 + 0.08 * l.liver + 0.06 * z(rng)).clamp(0.8, 3.0);
    let u: f64 = rng.random();
    let ascites = if l.liver > 2.3 && u < 0.6 {
        2
    } else if l.liver > 1.3 && u < 0.5 {
        1
    } else {
        0
    };
    let encephalopathy = if l.liver > 2.0 && rng.random::<f64>() < 0.3 { 1 } else { 0 };
    let u: f64 = rng.random();
    let ecog = if u < logistic(1.3 - 0.4 * l.h) {
        0
    } else if u < logistic(3.2 - 0.4 * l.h) {
        1
    } else {
        2
    };
    let pvtt = rng.random::<f64>() < logistic(-2.3 + 0.9 * l.h);
    let extrahepatic = rng.random::<f64>() < logistic(-3.2 + 0.7 * l.h);
    let age = (58.0 + 10.0 * z(rng)).clamp(25.0, 90.0).round();
    let sex = if rng.random::<f64>() < 0.85 { "M" } else { "F" };
    let u: f64 = rng.random();
    let aetiology = if u < 0.7 {
        Aetiology::Hbv
    } else if u < 0.8 {
        Aetiology::Hcv
    } else {
        Aetiology::Other
    };
    Clinical {
        age,
        sex,
        aetiology,
        albumin_g_l: (albumin_g_l * 10.0).round() / 10.0,
        bilirubin_umol_l: (bilirubin_umol_l * 10.0).round() / 10.0,
        afp_ng_ml: (afp_ng_ml * 10.0).round() / 10.0,
        inr: (inr * 100.0).round() / 100.0,
        ascites,
        encephalopathy,
        ecog,
        tumour_number: (1 + extra).min(8),
        diameter_cm: (diameter_cm * 10.0).round() / 10.0,
        pvtt,
        extrahepatic,
    }
}

/// The log hazard of a patient: the oracle risk score.
pub fn log_hazard(effects: &Effects, l: &Latent, c: &Clinical) -> f64 {
    effects.hazard_h * l.h
        + effects.hazard_spatial * l.spatial
        + effects.hazard_texture * l.texture
        + effects.hazard_liver * l.liver
        + effects.hazard_pvtt * c.pvtt as u8 as f64
        + effects.hazard_extrahepatic * c.extrahepatic as u8 as f64
        + effects.hazard_ecog * c.ecog as f64
        + effects.hazard_log_diameter * (c.diameter_cm / 4.5).ln()
}

/// Draws survival: Weibull PH event time, administrative censoring at the data cut, loss to follow-up.
pub fn draw_outcome(rng: &mut ChaCha8Rng, effects: &Effects, log_hazard: f64) -> Outcome {
    let k = effects.weibull_shape;
    let scale = effects.median_os_months / std::f64::consts::LN_2.powf(1.0 / k);
    let u: f64 = rng.random::<f64>().max(1e-300);
    let event_time = scale * (-u.ln() / log_hazard.exp()).powf(1.0 / k);
    let administrative = effects.follow_up_min_months + effects.accrual_months * rng.random::<f64>();
    let lost = -rng.random::<f64>().max(1e-300).ln() / effects.loss_rate_per_month;
    let censor_time = administrative.min(lost);
    let death = event_time <= censor_time;
    let os = if death { event_time } else { censor_time };
    Outcome { log_hazard, event_time, censor_time, os_months: ((os * 100.0).round() / 100.0).max(0.01), death }
}
