//! Clinical prognostic scores of HCC treated by TACE, computed from findings whose units are part of
//! their type (albumin g/L, bilirubin umol/L, diameter cm), so a value in g/dL or mm cannot slip in.
//!
//! Definitions (thresholds are the published ones; see `docs/clinical-scores.md`):
//! - HAP (Kadalayil et al., Ann Oncol 2013): one point each for albumin < 36 g/L, bilirubin
//!   > 17 umol/L, AFP > 400 ng/mL, largest tumour > 7 cm; A/B/C/D = 0/1/2/>2.
//! - mHAP-II (Park et al., Liver Int 2016): HAP plus one point for two or more tumours;
//!   A/B/C/D = 0/1/2/>=3.
//! - six-and-twelve (Wang et al., J Hepatol 2019): largest diameter (cm) + number: <= 6, (6, 12], > 12.
//! - seven-eleven (Wang et al., 2021): the same sum: <= 7, (7, 11], > 11.
//! - up-to-seven (Mazzaferro et al., Lancet Oncol 2009): within when the sum is <= 7.
//! - tumour burden score (Sasaki et al., Br J Surg 2018): sqrt(diameter² + number²).
//! - ALBI (Johnson et al., J Clin Oncol 2015): 0.66 log10(bilirubin umol/L) - 0.085 albumin g/L;
//!   grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3.
//! - Child-Pugh: bilirubin (<2, 2-3, >3 mg/dL as Pugh wrote it, 34.2 and 51.3 umol/L), albumin (>35, 28-35, <28 g/L), INR
//!   (<1.7, 1.7-2.3, >2.3), ascites and encephalopathy (none, mild, severe); A 5-6, B 7-9, C 10-15.
//! - BCLC 2022 (Reig et al., J Hepatol 2022), from the same findings.

use serde::Serialize;
use tacefusion_core::{Albumin, Bilirubin, ClinicalRecord, Length};

/// The Child-Pugh gradings live with the clinical table in `tacefusion-core`; re-exported so that
/// `tacefusion_survival::clinical::{Ascites, Encephalopathy}` keeps naming them.
pub use tacefusion_core::clinical::{Ascites, Encephalopathy};

/// What the scores need of one patient, units fixed by the types.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicalFindings {
    /// Serum albumin.
    pub albumin: Albumin,
    /// Total bilirubin.
    pub bilirubin: Bilirubin,
    /// Alpha-fetoprotein, ng/mL.
    pub afp_ng_ml: f64,
    /// International normalised ratio.
    pub inr: f64,
    /// Ascites.
    pub ascites: Ascites,
    /// Encephalopathy.
    pub encephalopathy: Encephalopathy,
    /// ECOG performance status 0-4.
    pub ecog: u8,
    /// Number of tumours.
    pub tumour_number: u32,
    /// Diameter of the largest tumour.
    pub largest_diameter: Length,
    /// Portal vein tumour thrombus (macrovascular invasion).
    pub portal_vein_thrombus: bool,
    /// Extrahepatic spread.
    pub extrahepatic_spread: bool,
}

impl From<&ClinicalRecord> for ClinicalFindings {
    /// The findings of an ingested patient (units already canonical in the record's types).
    fn from(r: &ClinicalRecord) -> Self {
        Self {
            albumin: r.albumin,
            bilirubin: r.bilirubin,
            afp_ng_ml: r.afp_ng_ml,
            inr: r.inr,
            ascites: r.ascites,
            encephalopathy: r.encephalopathy,
            ecog: r.ecog,
            tumour_number: r.tumour_number,
            largest_diameter: r.largest_diameter,
            portal_vein_thrombus: r.pvtt,
            extrahepatic_spread: r.extrahepatic_spread,
        }
    }
}

/// A points-based score with its class letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Graded {
    /// Points.
    pub points: u32,
    /// Class: 'A', 'B', 'C' or 'D'.
    pub class: char,
}

/// Three ordered groups of a sum-based criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Stratum {
    /// lowest burden
    Low,
    /// middle
    Intermediate,
    /// highest burden
    High,
}

/// A continuous score and its grade.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlbiScore {
    /// The ALBI score.
    pub score: f64,
    /// Grade 1, 2 or 3.
    pub grade: u8,
}

/// BCLC stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum BclcStage {
    /// very early
    Zero,
    /// early
    A,
    /// intermediate
    B,
    /// advanced
    C,
    /// terminal
    D,
}

fn hap_points(f: &ClinicalFindings) -> u32 {
    (f.albumin.as_g_per_l() < 36.0) as u32
        + (f.bilirubin.as_umol_per_l() > 17.0) as u32
        + (f.afp_ng_ml > 400.0) as u32
        + (f.largest_diameter.as_cm() > 7.0) as u32
}

fn class_of(points: u32) -> char {
    match points {
        0 => 'A',
        1 => 'B',
        2 => 'C',
        _ => 'D',
    }
}

/// HAP score.
pub fn hap(f: &ClinicalFindings) -> Graded {
    let points = hap_points(f);
    Graded { points, class: class_of(points) }
}

/// mHAP-II score.
pub fn mhap2(f: &ClinicalFindings) -> Graded {
    let points = hap_points(f) + (f.tumour_number >= 2) as u32;
    Graded { points, class: class_of(points) }
}

/// Largest diameter (cm) + number of tumours, the sum behind six-and-twelve, seven-eleven and up-to-seven.
pub fn size_plus_number(f: &ClinicalFindings) -> f64 {
    f.largest_diameter.as_cm() + f.tumour_number as f64
}

fn three_way(sum: f64, low: f64, high: f64) -> Stratum {
    if sum <= low {
        Stratum::Low
    } else if sum <= high {
        Stratum::Intermediate
    } else {
        Stratum::High
    }
}

/// Six-and-twelve: <= 6 low, (6, 12] intermediate, > 12 high.
pub fn six_and_twelve(f: &ClinicalFindings) -> Stratum {
    three_way(size_plus_number(f), 6.0, 12.0)
}

/// Seven-eleven: <= 7, (7, 11], > 11.
pub fn seven_eleven(f: &ClinicalFindings) -> Stratum {
    three_way(size_plus_number(f), 7.0, 11.0)
}

/// Up-to-seven: true when within the criterion (sum <= 7).
pub fn within_up_to_seven(f: &ClinicalFindings) -> bool {
    size_plus_number(f) <= 7.0
}

/// Tumour burden score sqrt(d² + n²), d in cm.
pub fn tumour_burden_score(f: &ClinicalFindings) -> f64 {
    f.largest_diameter.as_cm().hypot(f.tumour_number as f64)
}

/// ALBI score and grade.
pub fn albi(albumin: Albumin, bilirubin: Bilirubin) -> AlbiScore {
    let score = 0.66 * bilirubin.as_umol_per_l().log10() - 0.085 * albumin.as_g_per_l();
    let grade = if score <= -2.60 {
        1
    } else if score <= -1.39 {
        2
    } else {
        3
    };
    AlbiScore { score, grade }
}

/// Child-Pugh points and class.
pub fn child_pugh(f: &ClinicalFindings) -> Graded {
    // Pugh's cut-offs are 2 and 3 mg/dL; compared in mg/dL so that 3.0 mg/dL is not pushed over
    // 3 by the conversion (3 x 17.1 is 51.300000000000004 in f64). The rounded umol/L table (34,
    // 50) would give 2 points at 1.99 mg/dL and 3 at 2.95.
    let bil = f.bilirubin.as_mg_per_dl();
    let alb = f.albumin.as_g_per_l();
    let points = [
        if bil < 2.0 {
            1
        } else if bil <= 3.0 {
            2
        } else {
            3
        },
        if alb > 35.0 {
            1
        } else if alb >= 28.0 {
            2
        } else {
            3
        },
        if f.inr < 1.7 {
            1
        } else if f.inr <= 2.3 {
            2
        } else {
            3
        },
        match f.ascites {
            Ascites::None => 1,
            Ascites::Mild => 2,
            Ascites::ModerateSevere => 3,
        },
        match f.encephalopathy {
            Encephalopathy::None => 1,
            Encephalopathy::Grade1To2 => 2,
            Encephalopathy::Grade3To4 => 3,
        },
    ]
    .iter()
    .sum();
    let class = match points {
        0..=6 => 'A',
        7..=9 => 'B',
        _ => 'C',
    };
    Graded { points, class }
}

/// BCLC 2022 stage: D for end-stage liver function (Child-Pugh C) or ECOG > 2; C for
/// macrovascular invasion, extrahepatic spread or ECOG 1-2; 0 for a single tumour <= 2 cm with
/// Child-Pugh A (very early stage asks for fully preserved function; Child-Pugh B is stage A at
/// best, as in BCLC 2018); A for a single tumour or up to three nodules <= 3 cm; B otherwise (multinodular).
pub fn bclc(f: &ClinicalFindings) -> BclcStage {
    let cp = child_pugh(f).class;
    let d = f.largest_diameter.as_cm();
    if cp == 'C' || f.ecog > 2 {
        BclcStage::D
    } else if f.portal_vein_thrombus || f.extrahepatic_spread || f.ecog >= 1 {
        BclcStage::C
    } else if f.tumour_number == 1 && d <= 2.0 && cp == 'A' {
        BclcStage::Zero
    } else if f.tumour_number == 1 || (f.tumour_number <= 3 && d <= 3.0) {
        BclcStage::A
    } else {
        BclcStage::B
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tacefusion_core::{AlbuminUnit, BilirubinUnit, LengthUnit};

    fn findings(alb: f64, bil: f64, afp: f64, n: u32, d: f64) -> ClinicalFindings {
        ClinicalFindings {
            albumin: Albumin::g_per_l(alb).unwrap(),
            bilirubin: Bilirubin::umol_per_l(bil).unwrap(),
            afp_ng_ml: afp,
            inr: 1.1,
            ascites: Ascites::None,
            encephalopathy: Encephalopathy::None,
            ecog: 0,
            tumour_number: n,
            largest_diameter: Length::cm(d).unwrap(),
            portal_vein_thrombus: false,
            extrahepatic_spread: false,
        }
    }

    #[test]
    fn hap_and_mhap2_test_vectors() {
        // (albumin g/L, bilirubin umol/L, AFP, number, diameter cm) -> HAP points/class, mHAP-II points/class
        let cases = [
            ((40.0, 10.0, 10.0, 1, 3.0), (0, 'A'), (0, 'A')),
            ((36.0, 17.0, 400.0, 1, 7.0), (0, 'A'), (0, 'A')), // every threshold is strict
            ((35.9, 10.0, 10.0, 2, 3.0), (1, 'B'), (2, 'C')),
            ((35.0, 18.0, 401.0, 3, 7.1), (4, 'D'), (5, 'D')),
            ((40.0, 18.0, 500.0, 1, 3.0), (2, 'C'), (2, 'C')),
            ((40.0, 18.0, 500.0, 2, 3.0), (2, 'C'), (3, 'D')),
        ];
        for ((alb, bil, afp, n, d), h, m) in cases {
            let f = findings(alb, bil, afp, n, d);
            assert_eq!((hap(&f).points, hap(&f).class), h, "HAP {alb} {bil} {afp} {n} {d}");
            assert_eq!((mhap2(&f).points, mhap2(&f).class), m, "mHAP-II {alb} {bil} {afp} {n} {d}");
        }
    }

    #[test]
    fn tumour_burden_criteria_test_vectors() {
        // (number, diameter cm) -> six-and-twelve, seven-eleven, up-to-seven, TBS
        let cases = [
            ((1, 5.0), Stratum::Low, Stratum::Low, true, 26.0_f64.sqrt()),
            ((2, 4.0), Stratum::Low, Stratum::Low, true, 20.0_f64.sqrt()),
            ((3, 4.0), Stratum::Intermediate, Stratum::Low, true, 5.0),
            ((3, 4.5), Stratum::Intermediate, Stratum::Intermediate, false, (20.25_f64 + 9.0).sqrt()),
            ((4, 8.0), Stratum::Intermediate, Stratum::High, false, 80.0_f64.sqrt()),
            ((5, 7.5), Stratum::High, Stratum::High, false, (56.25_f64 + 25.0).sqrt()),
        ];
        for ((n, d), six, seven, up, tbs) in cases {
            let f = findings(40.0, 10.0, 10.0, n, d);
            assert_eq!(six_and_twelve(&f), six, "{n} {d}");
            assert_eq!(seven_eleven(&f), seven, "{n} {d}");
            assert_eq!(within_up_to_seven(&f), up, "{n} {d}");
            assert!((tumour_burden_score(&f) - tbs).abs() < 1e-12);
        }
        // a diameter recorded in mm is the same tumour
        let mm = Length::new(45.0, LengthUnit::Millimetre).unwrap();
        let f = ClinicalFindings { largest_diameter: mm, ..findings(40.0, 10.0, 10.0, 3, 0.0) };
        assert_eq!(seven_eleven(&f), Stratum::Intermediate);
    }

    #[test]
    fn albi_test_vectors() {
        // (albumin g/L, bilirubin umol/L) -> score, grade (score = 0.66 log10(bil) - 0.085 alb)
        let cases = [
            (40.0, 17.0, 0.66 * 17.0_f64.log10() - 3.4, 2),
            (45.0, 10.0, 0.66 - 3.825, 1),
            (28.0, 50.0, 0.66 * 50.0_f64.log10() - 2.38, 3),
        ];
        for (alb, bil, score, grade) in cases {
            let a = albi(Albumin::g_per_l(alb).unwrap(), Bilirubin::umol_per_l(bil).unwrap());
            assert!((a.score - score).abs() < 1e-12);
            assert_eq!(a.grade, grade, "{alb} {bil}");
        }
        // 4.0 g/dL and 1.0 mg/dL are 40 g/L and 17.1 umol/L
        let a = albi(
            Albumin::new(4.0, AlbuminUnit::GramsPerDecilitre).unwrap(),
            Bilirubin::new(1.0, BilirubinUnit::MilligramsPerDecilitre).unwrap(),
        );
        assert!((a.score - (0.66 * 17.1_f64.log10() - 3.4)).abs() < 1e-12);
    }

    #[test]
    fn child_pugh_and_bclc_test_vectors() {
        let base = findings(40.0, 10.0, 10.0, 1, 1.8);
        assert_eq!(child_pugh(&base), Graded { points: 5, class: 'A' });
        assert_eq!(bclc(&base), BclcStage::Zero);
        let cases: Vec<(ClinicalFindings, u32, char, BclcStage)> = vec![
            (findings(40.0, 10.0, 10.0, 1, 6.0), 5, 'A', BclcStage::A),
            (findings(40.0, 10.0, 10.0, 3, 2.9), 5, 'A', BclcStage::A),
            (findings(40.0, 10.0, 10.0, 4, 2.9), 5, 'A', BclcStage::B),
            (findings(40.0, 10.0, 10.0, 2, 4.0), 5, 'A', BclcStage::B),
            (ClinicalFindings { portal_vein_thrombus: true, ..findings(40.0, 10.0, 10.0, 1, 5.0) }, 5, 'A', BclcStage::C),
            (ClinicalFindings { ecog: 1, ..findings(40.0, 10.0, 10.0, 1, 5.0) }, 5, 'A', BclcStage::C),
            (ClinicalFindings { ecog: 3, ..findings(40.0, 10.0, 10.0, 1, 5.0) }, 5, 'A', BclcStage::D),
            // bilirubin 40 (2), albumin 30 (2), INR 1.8 (2), mild ascites (2), no encephalopathy (1) = 9 B
            (ClinicalFindings { inr: 1.8, ascites: Ascites::Mild, ..findings(30.0, 40.0, 10.0, 1, 1.5) }, 9, 'B', BclcStage::A),
            // bilirubin 60, albumin 27, INR 2.5, severe ascites, grade III-IV encephalopathy: 3 x 5 = 15, C
            (
                ClinicalFindings {
                    inr: 2.5,
                    ascites: Ascites::ModerateSevere,
                    encephalopathy: Encephalopathy::Grade3To4,
                    ..findings(27.0, 60.0, 10.0, 1, 1.5)
                },
                15,
                'C',
                BclcStage::D,
            ),
        ];
        for (f, points, class, stage) in cases {
            assert_eq!(child_pugh(&f), Graded { points, class }, "{f:?}");
            assert_eq!(bclc(&f), stage, "{f:?}");
        }
    }

    #[test]
    fn child_pugh_boundaries_test_vectors() {
        // (bilirubin, its unit, albumin g/L, INR, Child-Pugh points): each threshold at, just
        // below and just above, the rest of the findings scoring 1 point each (5 in all)
        let (mg, umol) = (BilirubinUnit::MilligramsPerDecilitre, BilirubinUnit::MicromolesPerLitre);
        let cases = [
            (1.99, mg, 40.0, 1.1, 5),
            (2.0, mg, 40.0, 1.1, 6),
            (3.0, mg, 40.0, 1.1, 6),
            (3.01, mg, 40.0, 1.1, 7),
            // Pugh's 2 and 3 mg/dL are 34.2 and 51.3 umol/L (not the rounded 34 and 50)
            (34.0, umol, 40.0, 1.1, 5),
            (34.2, umol, 40.0, 1.1, 6),
            (51.3, umol, 40.0, 1.1, 6),
            (51.4, umol, 40.0, 1.1, 7),
            (10.0, umol, 35.1, 1.1, 5),
            (10.0, umol, 35.0, 1.1, 6),
            (10.0, umol, 28.0, 1.1, 6),
            (10.0, umol, 27.9, 1.1, 7),
            (10.0, umol, 40.0, 1.69, 5),
            (10.0, umol, 40.0, 1.7, 6),
            (10.0, umol, 40.0, 2.3, 6),
            (10.0, umol, 40.0, 2.31, 7),
        ];
        for (bil, unit, alb, inr, points) in cases {
            let f = ClinicalFindings { bilirubin: Bilirubin::new(bil, unit).unwrap(), inr, ..findings(alb, 10.0, 10.0, 1, 1.5) };
            assert_eq!(child_pugh(&f).points, points, "bilirubin {bil} {unit:?}, albumin {alb}, INR {inr}");
        }
        // a single tumour <= 2 cm in Child-Pugh B is stage A, not 0 (very early needs Child-Pugh A)
        let b = ClinicalFindings { inr: 1.8, ascites: Ascites::Mild, ..findings(30.0, 10.0, 10.0, 1, 1.5) };
        assert_eq!((child_pugh(&b).class, bclc(&b)), ('B', BclcStage::A));
    }
}
