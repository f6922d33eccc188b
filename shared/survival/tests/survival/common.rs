//! Loading the reference data sets of `../shared/data/survival` for the agreement tests.

use std::path::PathBuf;

use tacefusion_core::Table;
use tacefusion_survival::{Covariates, SurvivalData};

/// `../shared/data/survival` seen from the repository root.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/survival")
}

pub fn reference(name: &str) -> serde_json::Value {
    let path = data_dir().join("references").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// Relative difference, with an absolute floor for values near zero.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

pub struct Rossi {
    pub data: SurvivalData,
    pub x: Covariates,
    pub fin: Vec<i64>,
}

pub const ROSSI_COVARIATES: [&str; 7] = ["fin", "age", "race", "wexp", "mar", "paro", "prio"];

pub fn rossi() -> Rossi {
    let t = Table::from_csv_path(data_dir().join("rossi.csv")).unwrap();
    let col = |c: &str| t.numeric_column(c).unwrap().into_iter().map(Option::unwrap).collect::<Vec<f64>>();
    let data = SurvivalData::new(col("week"), col("arrest").iter().map(|&e| e == 1.0).collect()).unwrap();
    let cols: Vec<Vec<f64>> = ROSSI_COVARIATES.iter().map(|c| col(c)).collect();
    let x = Covariates::from_columns(ROSSI_COVARIATES.iter().map(|s| s.to_string()).collect(), &cols).unwrap();
    let fin = col("fin").iter().map(|&v| v as i64).collect();
    Rossi { data, x, fin }
}

pub struct Gbsg2 {
    pub data: SurvivalData,
    pub x: Covariates,
    pub tgrade: Vec<i64>,
}

pub const GBSG2_COVARIATES: [&str; 8] = ["horTh", "age", "menostat", "tsize", "tgrade", "pnodes", "progrec", "estrec"];

/// GBSG2 with the reference's encoding: horTh yes=1, menostat Post=1, tgrade I/II/III = 1/2/3.
pub fn gbsg2() -> Gbsg2 {
    let t = Table::from_csv_path(data_dir().join("gbsg2.csv")).unwrap();
    let num = |c: &str| t.numeric_column(c).unwrap().into_iter().map(Option::unwrap).collect::<Vec<f64>>();
    let coded = |c: &str, f: &dyn Fn(&str) -> f64| t.text_column(c).unwrap().into_iter().map(f).collect::<Vec<f64>>();
    let cols: Vec<Vec<f64>> = GBSG2_COVARIATES
        .iter()
        .map(|&c| match c {
            "horTh" => coded(c, &|s| (s == "yes") as u8 as f64),
            "menostat" => coded(c, &|s| (s == "Post") as u8 as f64),
            "tgrade" => coded(c, &|s| match s {
                "I" => 1.0,
                "II" => 2.0,
                "III" => 3.0,
                other => panic!("tgrade {other}"),
            }),
            _ => num(c),
        })
        .collect();
    let tgrade = cols[4].iter().map(|&v| v as i64).collect();
    let x = Covariates::from_columns(GBSG2_COVARIATES.iter().map(|s| s.to_string()).collect(), &cols).unwrap();
    let data = SurvivalData::new(num("time"), num("cens").iter().map(|&e| e == 1.0).collect()).unwrap();
    Gbsg2 { data, x, tgrade }
}
