//! The `tacefusion stats` command line, driven as a user drives it: JSON output against the
//! lifelines references, and bad input rejected with the file, line and column named.

#![allow(missing_docs)]

use std::path::PathBuf;
use std::process::Command;

fn shared(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/survival").join(path).to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion")).args(args).output().expect("binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(args: &[&str]) -> serde_json::Value {
    let (ok, stdout, stderr) = run(args);
    assert!(ok, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn reference(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(shared(&format!("references/{name}"))).unwrap()).unwrap()
}

#[test]
fn cox_json_matches_lifelines() {
    let rossi = shared("rossi.csv");
    let out = json(&[
        "stats",
        "cox",
        "--csv",
        &rossi,
        "--time",
        "week",
        "--event",
        "arrest",
        "--covariates",
        "fin,age,race,wexp,mar,paro,prio",
        "--json",
    ]);
    let want = reference("rossi_cox_efron.json");
    for name in ["fin", "age", "race", "wexp", "mar", "paro", "prio"] {
        for key in ["coef", "se"] {
            let (a, b) = (out[key][name].as_f64().unwrap(), want[key][name].as_f64().unwrap());
            assert!((a - b).abs() < 1e-6 * b.abs(), "{key} {name}: {a} vs {b}");
        }
        let hr = out["hazard_ratio"][name].as_f64().unwrap();
        assert!((hr - want["coef"][name].as_f64().unwrap().exp()).abs() < 1e-6 * hr);
        assert!(out["p"][name].as_f64().unwrap() > 0.0);
    }
    assert!((out["loglik"].as_f64().unwrap() - want["loglik"].as_f64().unwrap()).abs() < 1e-6 * 660.0);
    assert!((out["concordance"].as_f64().unwrap() - want["concordance"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!((out["n"].as_u64(), out["events"].as_u64()), (Some(432), Some(114)));
    // R's printed global tests for this model (Fox & Weisberg): LR 33.27, Wald 32.11, score 33.53
    for (key, want) in [("likelihood_ratio_test", 33.27), ("wald_test", 32.11), ("score_test", 33.53)] {
        let got = out[key]["statistic"].as_f64().unwrap();
        assert!((got - want).abs() < 0.005, "{key}: {got} vs R {want}");
    }
}

#[test]
fn km_logrank_and_cindex_json() {
    let rossi = shared("rossi.csv");
    let km = json(&["stats", "km", "--csv", &rossi, "--time", "week", "--event", "arrest", "--json"]);
    let want = reference("rossi_km.json");
    for key in ["time", "survival", "ci_lower", "ci_upper"] {
        let (a, b) = (km[key].as_array().unwrap(), want[key].as_array().unwrap());
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9, "{key}");
        }
    }
    assert_eq!(km["at_risk"][0].as_f64(), Some(432.0));
    let by_group = json(&["stats", "km", "--csv", &rossi, "--time", "week", "--event", "arrest", "--group", "fin", "--json"]);
    assert_eq!(by_group["groups"].as_object().unwrap().len(), 2);
    let lr = json(&["stats", "logrank", "--csv", &rossi, "--time", "week", "--event", "arrest", "--group", "fin", "--json"]);
    let want = reference("rossi_logrank_fin.json");
    assert!((lr["chi2"].as_f64().unwrap() - want["chi2"].as_f64().unwrap()).abs() < 1e-8);
    assert!((lr["p"].as_f64().unwrap() - want["p"].as_f64().unwrap()).abs() < 1e-10);
    assert_eq!(lr["df"].as_u64(), Some(1));

    // GBSG2 with the reference's linear predictor as the risk column: scikit-survival's C and counts
    let metrics = reference("gbsg2_metrics.json");
    let risk = metrics["risk"].as_array().unwrap();
    let table = std::fs::read_to_string(shared("gbsg2.csv")).unwrap();
    let mut csv = String::from("time,cens,risk\n");
    for (line, r) in table.lines().skip(1).zip(risk) {
        let cells: Vec<&str> = line.split(',').collect();
        csv += &format!("{},{},{}\n", cells[8], cells[9], r.as_f64().unwrap());
    }
    let path = std::env::temp_dir().join(format!("tacefusion-cli-gbsg2-{}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    let c = json(&["stats", "cindex", "--csv", &path.to_string_lossy(), "--time", "time", "--event", "cens", "--risk", "risk", "--json"]);
    assert_eq!(c["harrell"].as_f64(), metrics["harrell_c"].as_f64());
    let counts: Vec<u64> = ["concordant", "discordant", "tied_risk", "tied_time"].iter().map(|k| c[*k].as_u64().unwrap()).collect();
    let want: Vec<u64> = metrics["harrell_counts"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(counts, want);
}

#[test]
fn group_labels_spelled_differently_stay_apart() {
    // "1" and "1.0" are two spellings: two groups, each with its rows, and no panic
    let path = std::env::temp_dir().join(format!("tacefusion-cli-labels-{}.csv", std::process::id()));
    std::fs::write(&path, "t,e,g\n1,1,1\n2,1,1.0\n3,0,1\n4,1,2\n5,1,1.0\n6,0,2\n").unwrap();
    let p = path.to_string_lossy();
    let lr = json(&["stats", "logrank", "--csv", &p, "--time", "t", "--event", "e", "--group", "g", "--json"]);
    assert_eq!(lr["df"].as_u64(), Some(2));
    let km = json(&["stats", "km", "--csv", &p, "--time", "t", "--event", "e", "--group", "g", "--json"]);
    let groups = km["groups"].as_object().unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups["1.0"]["at_risk"][0].as_f64(), Some(2.0));
}

#[test]
fn bad_input_names_the_row_and_column() {
    let dir = std::env::temp_dir().join(format!("tacefusion-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // (file content, extra args, text the error must contain)
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("t,e,x\n1,1,2\n-2,0,3\n", &[], &["line 3", "\"t\"", "negative"]),
        ("t,e,x\n1,1,2\n2,2,3\n", &[], &["line 3", "\"e\"", "0 or 1"]),
        ("t,e,x\n1,1,2\n2,0,abc\n", &[], &["line 3", "\"x\"", "abc"]),
        ("t,e,x\n1,1,2\n2,0,NA\n", &[], &["line 3", "\"x\"", "--drop-missing"]),
        ("t,e,x\n", &[], &["no data rows"]),
        ("t,e,y\n1,1,2\n", &[], &["no column \"x\""]),
    ];
    for (k, (content, extra, needles)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{k}.csv"));
        std::fs::write(&path, content).unwrap();
        let p = path.to_string_lossy();
        let mut args = vec!["stats", "cindex", "--csv", &p, "--time", "t", "--event", "e", "--risk", "x"];
        args.extend_from_slice(extra);
        let (ok, _, stderr) = run(&args);
        assert!(!ok, "case {k} should fail");
        assert!(stderr.contains(&*p), "case {k}: {stderr}");
        for n in *needles {
            assert!(stderr.contains(n), "case {k}: {stderr:?} lacks {n:?}");
        }
    }
    // the missing value is dropped and counted on request
    let path = dir.join("na.csv");
    std::fs::write(&path, "t,e,x\n1,1,2\n2,0,NA\n3,1,1\n").unwrap();
    let out = json(&[
        "stats",
        "cindex",
        "--csv",
        &path.to_string_lossy(),
        "--time",
        "t",
        "--event",
        "e",
        "--risk",
        "x",
        "--drop-missing",
        "--json",
    ]);
    assert_eq!((out["n"].as_u64(), out["dropped_missing"].as_u64()), (Some(2), Some(1)));
}
