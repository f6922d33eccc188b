//! Ingest of a clinical table: one row per check with the kind and field it must report, values
//! converted from each declared unit, duplicates, several problems in a row, file-level errors.

use super::*;
use std::io::Write;

use crate::units::AfpUnit;

const HEADER: &str = "patient_id,centre,os_months,death,age,sex,aetiology,albumin,bilirubin,afp,inr,ascites,encephalopathy,\
                      ecog,tumour_number,largest_diameter,pvtt,extrahepatic_spread";
const GOOD: &str = "P0001,A,12.5,1,61,M,HBV,39.0,15.0,120.0,1.10,none,none,0,2,4.5,0,0";
/// `GOOD` in g/dL, mg/dL and mm.
const GOOD_US: &str = "P0001,A,12.5,1,61,M,HBV,3.90,0.9,120.0,1.10,none,none,0,2,45,0,0";

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tacefusion-core-clinical-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    path
}

fn units(text: &str) -> ClinicalUnits {
    let u: Vec<&str> = text.split(' ').collect();
    ClinicalUnits {
        albumin: u[0].parse().unwrap(),
        bilirubin: u[1].parse().unwrap(),
        diameter: u[2].parse().unwrap(),
        afp: Default::default(),
    }
}

/// A good row with one cell replaced, as patient P0002.
fn row_with(good: &str, column: &str, value: &str) -> String {
    let k = CLINICAL_COLUMNS.iter().position(|&c| c == column).unwrap();
    let mut cells: Vec<&str> = good.split(',').collect();
    cells[0] = "P0002";
    cells[k] = value;
    cells.join(",")
}

enum Want {
    /// Included, with this value of the column in its canonical unit (g/L, umol/L, cm).
    Included(f64),
    /// Excluded with this kind, the reason containing the text.
    Excluded(ExclusionKind, &'static str),
}

fn canonical(record: &ClinicalRecord, column: &str) -> f64 {
    match column {
        "albumin" => record.albumin.as_g_per_l(),
        "bilirubin" => record.bilirubin.as_umol_per_l(),
        "largest_diameter" => record.largest_diameter.as_cm(),
        "os_months" => record.os_months,
        "age" => record.age,
        other => panic!("no canonical value for {other}"),
    }
}

#[test]
fn each_check_reports_its_kind_field_and_reason() {
    use ExclusionKind::*;
    use Want::*;
    const SI: &str = "g/L umol/L cm";
    const US: &str = "g/dL mg/dL mm";
    // (column, value, declared units, outcome)
    let cases: &[(&str, &str, &str, Want)] = &[
        ("albumin", "39.0", SI, Included(39.0)),
        ("albumin", "3.9", US, Included(39.0)),
        ("bilirubin", "15", US, Included(15.0 * 17.1)),
        ("largest_diameter", "45", US, Included(4.5)),
        ("os_months", "0", SI, Included(0.0)),
        ("os_months", "", SI, Excluded(MissingSurvivalTime, "no value")),
        ("os_months", "NA", SI, Excluded(MissingSurvivalTime, "no value")),
        ("os_months", "-3.2", SI, Excluded(NegativeSurvivalTime, "-3.2 months is negative")),
        ("os_months", "abc", SI, Excluded(InvalidValue, "\"abc\" is not a number")),
        ("os_months", "730", SI, Excluded(ImplausibleValue, "days or weeks")),
        ("death", "2", SI, Excluded(InvalidDeath, "\"2\" is not one of 0, 1")),
        ("death", "yes", SI, Excluded(InvalidDeath, "not one of 0, 1")),
        ("death", "", SI, Excluded(MissingValue, "no value")),
        // g/dL written where g/L is declared, and the reverse
        (
            "albumin",
            "3.9",
            SI,
            Excluded(AlbuminUnit, "read as g/dL it is 39 g/L: the value looks recorded in g/dL while the cohort declares g/L"),
        ),
        ("albumin", "39", US, Excluded(AlbuminUnit, "looks recorded in g/L while the cohort declares g/dL")),
        ("albumin", "0.3", SI, Excluded(ImplausibleValue, "outside the plausible 10-65 g/L, read in g/L or in g/dL")),
        ("albumin", "-1", SI, Excluded(InvalidValue, "negative")),
        ("albumin", "x", SI, Excluded(InvalidValue, "not a number")),
        ("bilirubin", "0.9", SI, Excluded(BilirubinUnit, "looks recorded in mg/dL while the cohort declares umol/L")),
        // 0.8 mg/dL x 17.1 is 13.680000000000001 in f64: written rounded
        ("bilirubin", "0.8", SI, Excluded(BilirubinUnit, "read as mg/dL it is 13.68 umol/L:")),
        ("bilirubin", "300", US, Excluded(BilirubinUnit, "looks recorded in umol/L while the cohort declares mg/dL")),
        ("bilirubin", "1200", SI, Excluded(ImplausibleValue, "2-850 umol/L")),
        ("largest_diameter", "45", SI, Excluded(DiameterUnit, "read as mm it is 4.5 cm")),
        ("largest_diameter", "4.5", US, Excluded(DiameterUnit, "looks recorded in cm while the cohort declares mm")),
        ("largest_diameter", "500", SI, Excluded(ImplausibleValue, "0.5-30 cm")),
        ("age", "1958", SI, Excluded(ImplausibleValue, "a year of birth?")),
        ("age", "", SI, Excluded(MissingValue, "no value")),
        ("sex", "X", SI, Excluded(InvalidValue, "not one of M, F")),
        ("aetiology", "NASH", SI, Excluded(InvalidValue, "not one of HBV, HCV, other")),
        ("ascites", "severe", SI, Excluded(InvalidValue, "none, mild, moderate_severe")),
        ("encephalopathy", "grade5", SI, Excluded(InvalidValue, "none, grade1_2, grade3_4")),
        ("ecog", "5", SI, Excluded(InvalidValue, "whole number from 0 to 4")),
        ("ecog", "1.5", SI, Excluded(InvalidValue, "whole number from 0 to 4")),
        ("tumour_number", "0", SI, Excluded(InvalidValue, "0 is not a whole number of at least 1")),
        ("pvtt", "2", SI, Excluded(InvalidValue, "not one of 0, 1")),
        ("extrahepatic_spread", "", SI, Excluded(MissingValue, "no value")),
        ("inr", "35", SI, Excluded(ImplausibleValue, "0.5-20")),
        ("afp", "-5", SI, Excluded(InvalidValue, "negative")),
        ("centre", "", SI, Excluded(MissingValue, "no value")),
        ("patient_id", "", SI, Excluded(MissingValue, "no value")),
        // a missing id spelled NA is no id: the exclusion's patient is empty, not "NA"
        ("patient_id", "NA", SI, Excluded(MissingValue, "no value")),
    ];
    for (i, (column, value, declared, want)) in cases.iter().enumerate() {
        let what = format!("{column} = {value:?} in {declared}");
        let good = if *declared == US { GOOD_US } else { GOOD };
        let path = write(&format!("case{i}.csv"), &format!("{HEADER}\n{good}\n{}\n", row_with(good, column, value)));
        let table = read_clinical(&path, "cohort_x", &units(declared)).unwrap();
        assert_eq!(table.rows, 2, "{what}");
        assert_eq!(table.records[0].patient_id, "P0001", "{what}: the good row is included");
        match want {
            Included(expected) => {
                assert!(table.exclusions.is_empty(), "{what}: {:?}", table.exclusions);
                let got = canonical(&table.records[1], column);
                assert!((got - expected).abs() < 1e-9, "{what}: {got} vs {expected}");
            }
            Excluded(kind, needle) => {
                assert_eq!(table.records.len(), 1, "{what}");
                assert_eq!(table.exclusions.len(), 1, "{what}: {:?}", table.exclusions);
                let e = &table.exclusions[0];
                let id = if *column == "patient_id" { "" } else { "P0002" };
                assert_eq!((e.kind, e.field.as_str(), e.line, e.patient_id.as_str()), (*kind, *column, 3, id), "{what}: {e}");
                assert_eq!((e.cohort.as_str(), e.file.as_path()), ("cohort_x", path.as_path()), "{what}");
                assert!(e.reason.contains(needle), "{what}: {:?} lacks {needle:?}", e.reason);
            }
        }
    }
}

#[test]
fn a_good_row_is_typed_and_converted() {
    let path = write("typed.csv", &format!("{HEADER}\nP0001,C,24.25,0,70,F,HCV,3.45,1.2,5000.5,1.32,mild,grade1_2,1,3,72,1,0\n"));
    let table = read_clinical(&path, "c", &units("g/dL mg/dL mm")).unwrap();
    let r = &table.records[0];
    assert_eq!((r.patient_id.as_str(), r.line, r.centre.as_str(), r.os_months, r.death, r.age), ("P0001", 2, "C", 24.25, false, 70.0));
    assert_eq!((r.sex, r.aetiology, r.ascites, r.encephalopathy), (Sex::Female, Aetiology::Hcv, Ascites::Mild, Encephalopathy::Grade1To2));
    assert_eq!((r.ecog, r.tumour_number, r.pvtt, r.extrahepatic_spread), (1, 3, true, false));
    assert_eq!((r.afp_ng_ml, r.inr), (5000.5, 1.32));
    assert!((r.albumin.as_g_per_l() - 34.5).abs() < 1e-12);
    assert!((r.bilirubin.as_umol_per_l() - 1.2 * 17.1).abs() < 1e-12);
    assert!((r.largest_diameter.as_cm() - 7.2).abs() < 1e-12);
    // the same row from a centre reporting AFP in IU/mL: 5000.5 IU/mL x 1.21
    let iu = ClinicalUnits { afp: AfpUnit::InternationalUnitsPerMillilitre, ..units("g/dL mg/dL mm") };
    let r = read_clinical(&path, "c", &iu).unwrap().records[0].clone();
    assert!((r.afp_ng_ml - 5000.5 * 1.21).abs() < 1e-9, "{}", r.afp_ng_ml);
}

#[test]
fn every_row_of_a_duplicated_id_is_excluded_and_names_the_lines() {
    let dup = row_with(GOOD, "age", "70").replace("P0002", "P0001");
    let text = format!("{HEADER}\n{GOOD}\n{}\n{dup}\n", row_with(GOOD, "age", "50"));
    let table = read_clinical(write("dup.csv", &text), "c", &ClinicalUnits::default()).unwrap();
    assert_eq!(table.records.iter().map(|r| r.patient_id.as_str()).collect::<Vec<_>>(), ["P0002"]);
    let got: Vec<_> = table.exclusions.iter().map(|e| (e.line, e.patient_id.as_str(), e.kind, e.field.as_str())).collect();
    let kind = ExclusionKind::DuplicatePatientId;
    assert_eq!(got, [(2, "P0001", kind, "patient_id"), (4, "P0001", kind, "patient_id")]);
    assert!(table.exclusions.iter().all(|e| e.reason.contains("lines 2, 4")), "{:?}", table.exclusions);
}

#[test]
fn a_row_with_several_problems_lists_each_and_counts_once() {
    let row = "P0001,A,-1,2,61,M,HBV,3.9,15.0,120.0,1.10,none,none,0,2,4.5,0,0";
    let table = read_clinical(write("several.csv", &format!("{HEADER}\n{row}\n{GOOD}\n")), "c", &ClinicalUnits::default()).unwrap();
    let kinds: Vec<_> = table.exclusions.iter().map(|e| e.kind).collect();
    use ExclusionKind::*;
    assert_eq!(kinds, [DuplicatePatientId, NegativeSurvivalTime, InvalidDeath, AlbuminUnit, DuplicatePatientId]);
    assert_eq!(table.excluded_lines().into_iter().collect::<Vec<_>>(), [2, 3]);
    assert!(table.records.is_empty());
    let shown = table.exclusions[2].to_string();
    for needle in ["several.csv", "line 2", "patient \"P0001\"", "field \"death\"", "invalid_death"] {
        assert!(shown.contains(needle), "{shown} lacks {needle}");
    }
}

#[test]
fn file_level_problems_are_errors() {
    let no_afp = HEADER.replace(",afp", "");
    let row = GOOD.replace(",120.0", "");
    let err = read_clinical(write("no_afp.csv", &format!("{no_afp}\n{row}\n")), "c", &ClinicalUnits::default()).unwrap_err();
    assert!(matches!(&err, TableError::MissingColumn { column, .. } if column == "afp"), "{err}");
    let err = read_clinical(write("ragged.csv", &format!("{HEADER}\n{GOOD},1\n")), "c", &ClinicalUnits::default()).unwrap_err();
    assert!(matches!(err, TableError::Read { .. }), "{err}");
    let err = read_clinical(std::env::temp_dir().join("tacefusion-no-such-dir/x.csv"), "c", &ClinicalUnits::default()).unwrap_err();
    assert!(matches!(err, TableError::Read { .. }), "{err}");
}

#[test]
fn stored_codes_are_the_clinical_tables_codes() {
    // what ingest writes (serde) must read back through the same codes the clinical table uses
    let name = |v: serde_json::Value| v.as_str().unwrap().to_string();
    for (code, value) in Ascites::CODES {
        assert_eq!(name(serde_json::to_value(value).unwrap()), code);
    }
    for (code, value) in Encephalopathy::CODES {
        assert_eq!(name(serde_json::to_value(value).unwrap()), code);
    }
    for (code, value) in Sex::CODES {
        assert_eq!(name(serde_json::to_value(value).unwrap()), code);
    }
}
