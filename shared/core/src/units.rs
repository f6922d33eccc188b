//! Clinical quantities with their unit spelled out, so that g/dL and g/L are never confused.
//!
//! Each quantity is stored in one canonical unit (albumin g/L, bilirubin umol/L, length cm) and can
//! only be built by naming the unit of the number handed in.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A unit name that is not known, or a value that is not a finite non-negative number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// The unit string matches none of the spellings of this quantity.
    #[error("unknown unit {unit:?} for {quantity} (expected one of {expected})")]
    UnknownUnit {
        /// Quantity being parsed, e.g. "albumin".
        quantity: &'static str,
        /// The spelling that was given.
        unit: String,
        /// The accepted spellings.
        expected: &'static str,
    },
    /// Negative, NaN or infinite measurement.
    #[error("{quantity} must be a finite non-negative number, got {value}")]
    InvalidValue {
        /// Quantity being built.
        quantity: &'static str,
        /// The offending number.
        value: f64,
    },
}

fn check(quantity: &'static str, value: f64) -> Result<f64, UnitError> {
    if value.is_finite() && value >= 0.0 { Ok(value) } else { Err(UnitError::InvalidValue { quantity, value }) }
}

/// Units serum albumin is reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlbuminUnit {
    /// grams per litre (the canonical unit; HAP and ALBI are defined in it)
    #[serde(rename = "g/L")]
    GramsPerLitre,
    /// grams per decilitre (common in US and some Asian records): 1 g/dL = 10 g/L
    #[serde(rename = "g/dL")]
    GramsPerDecilitre,
}

impl FromStr for AlbuminUnit {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        match s.trim() {
            "g/L" | "g/l" => Ok(Self::GramsPerLitre),
            "g/dL" | "g/dl" => Ok(Self::GramsPerDecilitre),
            other => Err(UnitError::UnknownUnit { quantity: "albumin", unit: other.to_string(), expected: "g/L, g/dL" }),
        }
    }
}

/// Serum albumin, held in g/L. Built only through a constructor that names the unit (no
/// `Deserialize`: a bare number carries no unit).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Albumin(f64);

impl Albumin {
    /// Albumin from a value in the given unit.
    pub fn new(value: f64, unit: AlbuminUnit) -> Result<Self, UnitError> {
        let v = check("albumin", value)?;
        Ok(Self(match unit {
            AlbuminUnit::GramsPerLitre => v,
            AlbuminUnit::GramsPerDecilitre => v * 10.0,
        }))
    }
    /// Albumin from g/L.
    pub fn g_per_l(value: f64) -> Result<Self, UnitError> {
        Self::new(value, AlbuminUnit::GramsPerLitre)
    }
    /// The value in g/L.
    pub fn as_g_per_l(self) -> f64 {
        self.0
    }
}

/// Units total bilirubin is reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BilirubinUnit {
    /// micromoles per litre (the canonical unit)
    #[serde(rename = "umol/L")]
    MicromolesPerLitre,
    /// milligrams per decilitre: 1 mg/dL = 17.1 umol/L (molar mass 584.7 g/mol)
    #[serde(rename = "mg/dL")]
    MilligramsPerDecilitre,
}

/// umol/L in one mg/dL of bilirubin.
pub const BILIRUBIN_UMOL_PER_MG_DL: f64 = 17.1;

impl FromStr for BilirubinUnit {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        match s.trim() {
            "umol/L" | "umol/l" | "µmol/L" | "μmol/L" => Ok(Self::MicromolesPerLitre),
            "mg/dL" | "mg/dl" => Ok(Self::MilligramsPerDecilitre),
            other => Err(UnitError::UnknownUnit { quantity: "bilirubin", unit: other.to_string(), expected: "umol/L, mg/dL" }),
        }
    }
}

/// Total bilirubin, held in umol/L (constructors name the unit).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Bilirubin(f64);

impl Bilirubin {
    /// Bilirubin from a value in the given unit.
    pub fn new(value: f64, unit: BilirubinUnit) -> Result<Self, UnitError> {
        let v = check("bilirubin", value)?;
        Ok(Self(match unit {
            BilirubinUnit::MicromolesPerLitre => v,
            BilirubinUnit::MilligramsPerDecilitre => v * BILIRUBIN_UMOL_PER_MG_DL,
        }))
    }
    /// Bilirubin from umol/L.
    pub fn umol_per_l(value: f64) -> Result<Self, UnitError> {
        Self::new(value, BilirubinUnit::MicromolesPerLitre)
    }
    /// The value in umol/L.
    pub fn as_umol_per_l(self) -> f64 {
        self.0
    }
    /// The value in mg/dL (a value read in mg/dL comes back as written: 3.0 stays 3.0).
    pub fn as_mg_per_dl(self) -> f64 {
        self.0 / BILIRUBIN_UMOL_PER_MG_DL
    }
}

/// Units serum alpha-fetoprotein is reported in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum AfpUnit {
    /// nanograms per millilitre (the canonical unit; the HAP and six-and-twelve thresholds use it)
    #[default]
    #[serde(rename = "ng/mL")]
    NanogramsPerMillilitre,
    /// international units per millilitre: 1 IU/mL = 1.21 ng/mL (WHO standard 72/225)
    #[serde(rename = "IU/mL")]
    InternationalUnitsPerMillilitre,
}

/// ng/mL in one IU/mL of alpha-fetoprotein.
pub const AFP_NG_ML_PER_IU_ML: f64 = 1.21;

impl AfpUnit {
    /// `value` in this unit, in ng/mL.
    pub fn to_ng_per_ml(self, value: f64) -> f64 {
        match self {
            Self::NanogramsPerMillilitre => value,
            Self::InternationalUnitsPerMillilitre => value * AFP_NG_ML_PER_IU_ML,
        }
    }

    /// True for ng/mL (the default, left out when a study is written back).
    pub fn is_default(&self) -> bool {
        *self == Self::NanogramsPerMillilitre
    }
}

/// Units of a length (tumour diameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LengthUnit {
    /// centimetres (the canonical unit; the TACE scores are defined in cm)
    #[serde(rename = "cm")]
    Centimetre,
    /// millimetres
    #[serde(rename = "mm")]
    Millimetre,
}

impl FromStr for LengthUnit {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        match s.trim() {
            "cm" => Ok(Self::Centimetre),
            "mm" => Ok(Self::Millimetre),
            other => Err(UnitError::UnknownUnit { quantity: "length", unit: other.to_string(), expected: "cm, mm" }),
        }
    }
}

/// A length, held in cm (constructors name the unit).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
pub struct Length(f64);

impl Length {
    /// A length from a value in the given unit.
    pub fn new(value: f64, unit: LengthUnit) -> Result<Self, UnitError> {
        let v = check("length", value)?;
        Ok(Self(match unit {
            LengthUnit::Centimetre => v,
            LengthUnit::Millimetre => v / 10.0,
        }))
    }
    /// A length from cm.
    pub fn cm(value: f64) -> Result<Self, UnitError> {
        Self::new(value, LengthUnit::Centimetre)
    }
    /// The value in cm.
    pub fn as_cm(self) -> f64 {
        self.0
    }
}

impl fmt::Display for AlbuminUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::GramsPerLitre => "g/L",
            Self::GramsPerDecilitre => "g/dL",
        })
    }
}
impl fmt::Display for BilirubinUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MicromolesPerLitre => "umol/L",
            Self::MilligramsPerDecilitre => "mg/dL",
        })
    }
}
impl fmt::Display for LengthUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Centimetre => "cm",
            Self::Millimetre => "mm",
        })
    }
}
impl fmt::Display for Albumin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g/L", self.0)
    }
}
impl fmt::Display for Bilirubin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} umol/L", self.0)
    }
}
impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cm", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_to_canonical_units() {
        let cases: &[(f64, f64, f64)] = &[
            // (value, expected in canonical for the "other" unit, in canonical for the canonical unit)
            (3.5, 35.0, 3.5),
            (0.0, 0.0, 0.0),
        ];
        for &(v, other, same) in cases {
            assert_eq!(Albumin::new(v, AlbuminUnit::GramsPerDecilitre).unwrap().as_g_per_l(), other);
            assert_eq!(Albumin::new(v, AlbuminUnit::GramsPerLitre).unwrap().as_g_per_l(), same);
        }
        let b = Bilirubin::new(1.0, BilirubinUnit::MilligramsPerDecilitre).unwrap();
        assert!((b.as_umol_per_l() - 17.1).abs() < 1e-12);
        assert!((Length::new(72.0, LengthUnit::Millimetre).unwrap().as_cm() - 7.2).abs() < 1e-12);
        assert!((AfpUnit::InternationalUnitsPerMillilitre.to_ng_per_ml(400.0) - 484.0).abs() < 1e-12);
        assert_eq!(AfpUnit::NanogramsPerMillilitre.to_ng_per_ml(400.0), 400.0);
    }

    #[test]
    fn unit_spellings_and_bad_values() {
        assert_eq!("g/dL".parse::<AlbuminUnit>().unwrap(), AlbuminUnit::GramsPerDecilitre);
        assert_eq!("mg/dL".parse::<BilirubinUnit>().unwrap(), BilirubinUnit::MilligramsPerDecilitre);
        assert_eq!("mm".parse::<LengthUnit>().unwrap(), LengthUnit::Millimetre);
        let err = "mg/L".parse::<AlbuminUnit>().unwrap_err();
        assert!(err.to_string().contains("albumin"), "{err}");
        assert!(Albumin::g_per_l(-1.0).is_err());
        assert!(Bilirubin::umol_per_l(f64::NAN).is_err());
    }
}
