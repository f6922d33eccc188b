//! The fusion stage's scoring: each model scores whom it can, the rest listed once; the deep score
//! on the kept training scale; cross-fitted scores standardised per fold.

use super::*;
use serde_json::json;

/// A signature of one feature, coefficient 1 per unit.
fn one_feature(name: &str) -> serde_json::Value {
    json!({ "features": [name], "means": [0.0], "sds": [1.0], "coef": [1.0], "alpha": 0.1, "one_se": true,
            "counts": { "candidates": 1, "screened": 1, "non_redundant": 1, "selected": 1 } })
}

#[test]
fn each_model_scores_whom_it_can_and_lists_whom_it_cannot() {
    let dir = std::env::temp_dir().join(format!("tacefusion-fusion-score-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("v.csv");
    let header = "patient_id,centre,os_months,death,age,sex,aetiology,albumin,bilirubin,afp,inr,ascites,encephalopathy,\
                  ecog,tumour_number,largest_diameter,pvtt,extrahepatic_spread\n";
    let rows: String =
        ["P1", "P2", "P3", "P4"].iter().map(|p| format!("{p},B,12.5,1,61,M,HBV,39.0,15.0,120.0,1.10,none,none,0,2,4.5,0,0\n")).collect();
    std::fs::write(&csv, format!("{header}{rows}")).unwrap();
    let ingest = crate::stages::ingest::run(&json!({ "cohort": "v", "role": "external_validation", "clinical": csv, "units": { "albumin": "g/L", "bilirubin": "umol/L", "diameter": "cm" } })).unwrap();
    let patients = ingest.into_iter().find(|f| f.0 == "patients.parquet").unwrap();
    let inputs = [InputFile { path: "cache/ingest/k/attempt-1/patients.parquet".into(), bytes: patients.1.into() }];
    let models: FittedModels = serde_json::from_value(json!({
        "radscore": one_feature("arterial:a"), "efm": one_feature("arterial:b"),
        "lfm": { "deep": 1.0, "radiomic": 1.0 }, "chosen": "lfm",
        "crm": { "terms": [{ "name": FUSION_TERM, "coef": 1.0, "se": 0.1, "p": 0.01, "mean": 0.0, "range": [-3.0, 3.0] }],
                 "screened": [], "cutpoints": [-1.0, 1.0], "baseline": [] },
    }))
    .unwrap();
    // P1 has everything; P2 a NaN early-fusion-only feature; P3 a NaN deep score; P4 no deep
    // score at all (its scoring failed, listed there)
    let cases = [("P1", Some(0.5), 2.0), ("P2", Some(0.5), f64::NAN), ("P3", Some(f64::NAN), 2.0), ("P4", None, 2.0)];
    let feats: BTreeMap<(String, String), Features> = cases
        .into_iter()
        .map(|(id, deep, b)| {
            let values = HashMap::from([("arterial:a".to_string(), 1.0), ("arterial:b".to_string(), b)]);
            (("v".to_string(), id.to_string()), Features { deep, cross_fitted: None, values })
        })
        .collect();
    let (pred, risk, ex) = score_cohorts(&models, &["v".into()], &inputs, &feats).unwrap();
    let got: Vec<(String, String, f64)> = pred.iter().zip(&risk).map(|(p, r)| (p[1].clone(), p[2].clone(), *r)).collect();
    let want = [
        ("P1", "radiomic", 1.0),
        ("P1", "efm", 2.0),
        ("P1", "lfm", 1.5),
        ("P1", "crm", 1.5),
        ("P2", "radiomic", 1.0),
        ("P2", "lfm", 1.5),
        ("P2", "crm", 1.5),
        ("P3", "radiomic", 1.0),
        ("P3", "efm", 2.0),
        ("P4", "radiomic", 1.0),
        ("P4", "efm", 2.0),
    ];
    assert_eq!(got, want.map(|(p, m, r)| (p.to_string(), m.to_string(), r)));
    assert_eq!(pred.iter().find(|p| p[2] == "crm").map(|p| p[3].as_str()), Some("high"));
    let listed: Vec<(String, String, String)> = ex.rows.iter().map(|r| (r[1].clone(), r[4].clone(), r[6].clone())).collect();
    let want = [
        ("P2", "efm", "not scored by efm: arterial:b is NaN"),
        ("P3", "lfm,crm", "not scored by lfm: the deep score is NaN; crm: the deep score is NaN"),
    ];
    assert_eq!(listed, want.map(|(p, m, r)| (p.to_string(), m.to_string(), r.to_string())));
    // the deep score enters the late fusion on the training scale kept with the models
    let scaled = FittedModels { deep_scale: DeepScale { mean: 0.5, sd: 2.0 }, ..models.clone() };
    let (pred, risk, _) = score_cohorts(&scaled, &["v".into()], &inputs, &feats).unwrap();
    let p1_lfm = pred.iter().zip(&risk).find(|(p, _)| p[1] == "P1" && p[2] == "lfm").map(|(_, r)| *r);
    assert_eq!(p1_lfm, Some(1.0), "(0.5 - 0.5) / 2 + 1");
    // the training cohort's cross-fitted deep scores are kept beside the final network's, each
    // fold network's standardised over the patients it held out
    let table = |name: &str, risks: &[(&str, i64, f64)]| {
        let t = Table::default()
            .with("cohort", Column::Text(vec!["t".into(); risks.len()]))
            .with("patient_id", Column::Text(risks.iter().map(|r| r.0.to_string()).collect()))
            .with("model", Column::Text(vec!["deep".into(); risks.len()]))
            .with("fold", Column::Int(risks.iter().map(|r| r.1).collect()))
            .with("risk", Column::Float(risks.iter().map(|r| r.2).collect()));
        InputFile { path: format!("cache/x/k/attempt-1/{name}.parquet"), bytes: t.to_parquet().unwrap().into() }
    };
    let crossed = table("deep_cross_fitted", &[("P1", 0, 1.0), ("P2", 0, 3.0), ("P3", 1, 10.0), ("P4", 1, 30.0)]);
    let read = features(&[crossed, table("predictions", &[("P1", 0, 9.0)])]).unwrap();
    let z = std::f64::consts::FRAC_1_SQRT_2;
    for (id, deep, crossed) in [("P1", Some(9.0), -z), ("P2", None, z), ("P3", None, -z), ("P4", None, z)] {
        let f = &read[&("t".to_string(), id.to_string())];
        assert_eq!(f.deep, deep, "{id}");
        assert!((f.cross_fitted.unwrap() - crossed).abs() < 1e-12, "{id}: {:?}", f.cross_fitted);
    }
    // a patients table that cannot be read is an error naming the cohort, not an empty result
    let broken = [InputFile { path: "cache/ingest/k/attempt-1/patients.parquet".into(), bytes: bytes::Bytes::from_static(b"not parquet") }];
    let e = score_cohorts(&models, &["v".into()], &broken, &feats).unwrap_err().to_string();
    assert!(e.contains("cohort v") || e.contains("patients.parquet"), "{e}");
}

#[test]
fn a_network_whose_scores_do_not_spread_is_only_centred() {
    let cases: [(&[f64], f64, f64); 5] = [
        (&[1.0, 3.0], 2.0, std::f64::consts::SQRT_2),
        (&[1.0, 3.0, f64::NAN], 2.0, std::f64::consts::SQRT_2),
        (&[2.0], 2.0, 1.0),
        (&[3.0, 3.0, 3.0], 3.0, 1.0),
        (&[], 0.0, 1.0),
    ];
    for (scores, mean, sd) in cases {
        let s = DeepScale::of(scores.iter().copied());
        assert!((s.mean - mean).abs() < 1e-12 && (s.sd - sd).abs() < 1e-12, "{scores:?}: {s:?}");
    }
}
