//! One row of a clinical table read field by field: each cell parsed, checked against its codes or
//! its plausible range in the declared unit, and every problem kept with its field and reason.

use std::fmt;
use std::ops::RangeInclusive;

use super::{
    AGE_YEARS, ALBUMIN_G_L, Aetiology, Ascites, BILIRUBIN_UMOL_L, CLINICAL_COLUMNS, ClinicalRecord, DIAMETER_CM, Encephalopathy,
    ExclusionKind, INR, MAX_OS_MONTHS, Sex,
};
use crate::study::ClinicalUnits;
use crate::table::{MISSING_SPELLINGS, Table};
use crate::units::{Albumin, AlbuminUnit, Bilirubin, BilirubinUnit, Length, LengthUnit};

/// The cells of one row, read field by field; each problem found is kept.
pub(super) struct Row<'a> {
    pub(super) table: &'a Table,
    pub(super) columns: &'a [usize; CLINICAL_COLUMNS.len()],
    pub(super) row: usize,
    pub(super) units: &'a ClinicalUnits,
    pub(super) problems: Vec<(ExclusionKind, &'static str, String)>,
}

impl<'a> Row<'a> {
    pub(super) fn problem(&mut self, kind: ExclusionKind, field: &'static str, reason: String) {
        self.problems.push((kind, field, reason));
    }

    /// The trimmed text of a cell, `None` (and a problem of `missing`) when it is one of the missing
    /// spellings.
    fn text(&mut self, field: &'static str, missing: ExclusionKind) -> Option<&'a str> {
        let table: &'a Table = self.table;
        let k = CLINICAL_COLUMNS.iter().position(|&c| c == field).expect("a clinical column");
        let text = table.cell(self.row, self.columns[k]).trim();
        if MISSING_SPELLINGS.contains(&text) {
            self.problem(missing, field, format!("no value ({text:?})"));
            return None;
        }
        Some(text)
    }

    fn number(&mut self, field: &'static str) -> Option<f64> {
        let text = self.text(field, ExclusionKind::MissingValue)?;
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Some(v),
            _ => {
                let reason = format!("{text:?} is not a number");
                self.problem(ExclusionKind::InvalidValue, field, reason);
                None
            }
        }
    }

    fn non_negative(&mut self, field: &'static str) -> Option<f64> {
        let v = self.number(field)?;
        if v < 0.0 {
            self.problem(ExclusionKind::InvalidValue, field, format!("{v} is negative"));
            return None;
        }
        Some(v)
    }

    /// A whole number in `range`.
    fn integer(&mut self, field: &'static str, range: RangeInclusive<u32>) -> Option<u32> {
        let v = self.number(field)?;
        if v.fract() != 0.0 || !(*range.start() as f64..=*range.end() as f64).contains(&v) {
            let reason = match range.end() {
                &u32::MAX => format!("{v} is not a whole number of at least {}", range.start()),
                end => format!("{v} is not a whole number from {} to {end}", range.start()),
            };
            self.problem(ExclusionKind::InvalidValue, field, reason);
            return None;
        }
        Some(v as u32)
    }

    fn within(&mut self, field: &'static str, v: f64, range: RangeInclusive<f64>, hint: &str) -> Option<f64> {
        if range.contains(&v) {
            return Some(v);
        }
        let reason = format!("{v} is outside the plausible {}-{}{hint}", range.start(), range.end());
        self.problem(ExclusionKind::ImplausibleValue, field, reason);
        None
    }

    fn code<T: Copy>(&mut self, field: &'static str, codes: &[(&'static str, T)], kind: ExclusionKind) -> Option<T> {
        let text = self.text(field, ExclusionKind::MissingValue)?;
        if let Some(&(_, v)) = codes.iter().find(|(c, _)| c.eq_ignore_ascii_case(text)) {
            return Some(v);
        }
        let expected = codes.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
        self.problem(kind, field, format!("{text:?} is not one of {expected}"));
        None
    }

    fn flag(&mut self, field: &'static str, kind: ExclusionKind) -> Option<bool> {
        self.code(field, &[("0", false), ("1", true)], kind)
    }

    /// A measurement in the cohort's declared unit, converted to the canonical unit and checked
    /// against `range`; outside it but inside when read in the other unit, a unit mistake.
    fn measurement<U: Copy + PartialEq + fmt::Display>(
        &mut self,
        field: &'static str,
        declared: U,
        units: [U; 2],
        canonical: impl Fn(f64, U) -> f64,
        range: RangeInclusive<f64>,
        unit_kind: ExclusionKind,
    ) -> Option<f64> {
        let v = self.non_negative(field)?;
        let c = canonical(v, declared);
        let canonical_unit = units[0];
        if range.contains(&c) {
            return Some(c);
        }
        let plausible = format!("{}-{} {canonical_unit}", range.start(), range.end());
        let other = units.into_iter().find(|&u| u != declared).expect("two units");
        let as_other = canonical(v, other);
        if range.contains(&as_other) {
            let reason = format!(
                "{v} {declared} is outside the plausible {plausible}; read as {other} it is {} {canonical_unit}: \
                 the value looks recorded in {other} while the cohort declares {declared}",
                rounded(as_other)
            );
            self.problem(unit_kind, field, reason);
        } else {
            let reason = format!("{v} {declared} is outside the plausible {plausible}, read in {declared} or in {other}");
            self.problem(ExclusionKind::ImplausibleValue, field, reason);
        }
        None
    }

    /// Reads every field; `Some` only when no field had a problem.
    pub(super) fn record(&mut self) -> Option<ClinicalRecord> {
        let patient_id = self.text("patient_id", ExclusionKind::MissingValue).map(str::to_string);
        let centre = self.text("centre", ExclusionKind::MissingValue).map(str::to_string);
        let os_months = self.survival_time();
        let death = self.flag("death", ExclusionKind::InvalidDeath);
        let age = self.number("age").and_then(|v| {
            let hint = if (1900.0..=2100.0).contains(&v) { " years: a year of birth?" } else { " years" };
            self.within("age", v, AGE_YEARS, hint)
        });
        let sex = self.code("sex", &Sex::CODES, ExclusionKind::InvalidValue);
        let aetiology = self.code("aetiology", &Aetiology::CODES, ExclusionKind::InvalidValue);
        let units = *self.units;
        let albumin = self.measurement(
            "albumin",
            units.albumin,
            [AlbuminUnit::GramsPerLitre, AlbuminUnit::GramsPerDecilitre],
            |v, u| Albumin::new(v, u).map_or(f64::NAN, Albumin::as_g_per_l),
            ALBUMIN_G_L,
            ExclusionKind::AlbuminUnit,
        );
        let bilirubin = self.measurement(
            "bilirubin",
            units.bilirubin,
            [BilirubinUnit::MicromolesPerLitre, BilirubinUnit::MilligramsPerDecilitre],
            |v, u| Bilirubin::new(v, u).map_or(f64::NAN, Bilirubin::as_umol_per_l),
            BILIRUBIN_UMOL_L,
            ExclusionKind::BilirubinUnit,
        );
        let afp = self.non_negative("afp").map(|v| units.afp.to_ng_per_ml(v));
        let inr = self.number("inr").and_then(|v| self.within("inr", v, INR, ""));
        let ascites = self.code("ascites", &Ascites::CODES, ExclusionKind::InvalidValue);
        let encephalopathy = self.code("encephalopathy", &Encephalopathy::CODES, ExclusionKind::InvalidValue);
        let ecog = self.integer("ecog", 0..=4);
        let tumour_number = self.integer("tumour_number", 1..=u32::MAX);
        let diameter = self.measurement(
            "largest_diameter",
            units.diameter,
            [LengthUnit::Centimetre, LengthUnit::Millimetre],
            |v, u| Length::new(v, u).map_or(f64::NAN, Length::as_cm),
            DIAMETER_CM,
            ExclusionKind::DiameterUnit,
        );
        let pvtt = self.flag("pvtt", ExclusionKind::InvalidValue);
        let extrahepatic_spread = self.flag("extrahepatic_spread", ExclusionKind::InvalidValue);
        Some(ClinicalRecord {
            patient_id: patient_id?,
            line: self.table.line_of(self.row),
            centre: centre?,
            os_months: os_months?,
            death: death?,
            age: age?,
            sex: sex?,
            aetiology: aetiology?,
            albumin: Albumin::g_per_l(albumin?).ok()?,
            bilirubin: Bilirubin::umol_per_l(bilirubin?).ok()?,
            afp_ng_ml: afp?,
            inr: inr?,
            ascites: ascites?,
            encephalopathy: encephalopathy?,
            ecog: ecog? as u8,
            tumour_number: tumour_number?,
            largest_diameter: Length::cm(diameter?).ok()?,
            pvtt: pvtt?,
            extrahepatic_spread: extrahepatic_spread?,
        })
    }

    fn survival_time(&mut self) -> Option<f64> {
        self.text("os_months", ExclusionKind::MissingSurvivalTime)?;
        let v = self.number("os_months")?;
        if v < 0.0 {
            self.problem(ExclusionKind::NegativeSurvivalTime, "os_months", format!("{v} months is negative"));
            return None;
        }
        self.within("os_months", v, 0.0..=MAX_OS_MONTHS, " months (40 years): days or weeks written as months?")
    }
}

/// A converted value for a message: at most 6 decimals, trailing zeros dropped (13.68, not
/// 13.680000000000001).
fn rounded(x: f64) -> String {
    let text = format!("{x:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
