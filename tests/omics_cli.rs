//! `tacefusion omics` as a user runs it: ssGSEA (NES) and score_genes against gseapy's and
//! scanpy's numbers in `../shared/data`, and bad input named.

#![allow(missing_docs)]

use std::path::PathBuf;
use std::process::Command;

fn shared(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(path).to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion")).args(args).output().expect("binary runs");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tacefusion-omics-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn ssgsea_nes_from_the_command_line_is_gseapys() {
    let out = scratch("ssgsea").join("nes.tsv");
    let (ok, stderr) = run(&[
        "omics",
        "ssgsea",
        "--expr",
        &shared("omics/ssgsea_fixture_expr.tsv"),
        "--gmt",
        &shared("omics/ssgsea_fixture_sets.gmt"),
        "--normalize",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    let text = std::fs::read_to_string(&out).unwrap();
    let samples: Vec<&str> = text.lines().next().unwrap().split('\t').skip(1).collect();
    let ours: Vec<(String, String, f64)> = text
        .lines()
        .skip(1)
        .flat_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let set = f[0].to_string();
            samples.iter().zip(&f[1..]).map(move |(s, v)| (s.to_string(), set.clone(), v.parse().unwrap())).collect::<Vec<_>>()
        })
        .collect();
    let reference = std::fs::read_to_string(shared("omics/ssgsea_fixture_gseapy_ssgsea.tsv")).unwrap();
    for line in reference.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let nes: f64 = f[3].parse().unwrap();
        let got = ours.iter().find(|o| o.0 == f[0] && o.1 == f[1]).unwrap().2;
        assert!((got - nes).abs() < 1e-6, "{} {}: {got} vs gseapy {nes}", f[0], f[1]);
    }
}

#[test]
fn gsva_refuses_the_options_only_ssgsea_has() {
    // --weight and --normalize were accepted by gsva and changed nothing
    let out = scratch("gsva").join("scores.tsv");
    let common = ["omics", "gsva", "--expr", &shared("omics/ssgsea_fixture_expr.tsv"), "--gmt", &shared("omics/ssgsea_fixture_sets.gmt")];
    for extra in [["--normalize", ""], ["--weight", "1"]] {
        let args: Vec<&str> =
            common.iter().copied().chain(extra.into_iter().filter(|a| !a.is_empty())).chain(["--out", out.to_str().unwrap()]).collect();
        let (ok, stderr) = run(&args);
        assert!(!ok && stderr.contains(extra[0]), "{extra:?}: {stderr}");
    }
}

#[test]
fn score_genes_from_the_command_line_is_scanpys() {
    let out = scratch("score").join("scores.tsv");
    let genes = "GZMB,PRF1,NKG7,GNLY,GZMA,GZMK,GZMH,CST7,CTSW,CD8A,KLRB1,CCL5,KLRD1";
    let h5ad = shared("singlecell/pbmc68k_reduced_modern.h5ad");
    let (ok, stderr) = run(&[
        "omics",
        "score-genes",
        "--h5ad",
        &h5ad,
        "--use-raw",
        "--genes",
        genes,
        "--ctrl-size",
        "100000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("not in the data, left out: KLRD1"), "{stderr}");
    let got: Vec<f64> = std::fs::read_to_string(&out).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    let want: Vec<f64> = std::fs::read_to_string(shared("singlecell/pbmc68k_cyto_score_scanpy.tsv"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6));
}

#[test]
fn bad_input_is_named() {
    let out = scratch("bad").join("x.tsv");
    let out = out.to_str().unwrap();
    let h5ad = shared("singlecell/pbmc68k_reduced_modern.h5ad");
    for (args, words) in [
        (vec!["omics", "score-genes", "--h5ad", &h5ad, "--use-raw", "--genes", "NOT1,NOT2", "--out", out], vec!["NOT1", "NOT2"]),
        (vec!["omics", "score-genes", "--h5ad", "/nonexistent.h5ad", "--genes", "A", "--out", out], vec!["/nonexistent.h5ad"]),
        (
            vec!["omics", "gsva", "--expr", &shared("omics/ssgsea_fixture_expr.tsv"), "--gmt", "/nonexistent.gmt", "--out", out],
            vec!["/nonexistent.gmt"],
        ),
    ] {
        let (ok, stderr) = run(&args);
        assert!(!ok, "{args:?} succeeded");
        assert!(words.iter().all(|w| stderr.contains(w)), "{args:?}: {stderr}");
    }
}

#[test]
fn a_parquet_matrix_scores_as_its_tsv() {
    use tacefusion_worker::tables::{Column, Table};
    let dir = scratch("parquet");
    let text = std::fs::read_to_string(shared("omics/ssgsea_fixture_expr.tsv")).unwrap();
    let mut lines = text.lines();
    let samples: Vec<String> = lines.next().unwrap().split('\t').skip(1).map(str::to_string).collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split('\t').collect()).collect();
    let mut table = Table::default().with("gene", Column::Text(rows.iter().map(|r| r[0].to_string()).collect()));
    for (s, name) in samples.iter().enumerate() {
        table = table.with(name, Column::Float(rows.iter().map(|r| r[s + 1].parse().unwrap()).collect()));
    }
    let parquet = dir.join("expr.parquet");
    std::fs::write(&parquet, table.to_parquet().unwrap()).unwrap();
    let gmt = shared("omics/ssgsea_fixture_sets.gmt");
    let (a, b) = (dir.join("from_tsv.tsv"), dir.join("from_parquet.tsv"));
    for (expr, out) in [(shared("omics/ssgsea_fixture_expr.tsv"), &a), (parquet.to_string_lossy().into_owned(), &b)] {
        let (ok, stderr) = run(&["omics", "gsva", "--expr", &expr, "--gmt", &gmt, "--out", out.to_str().unwrap()]);
        assert!(ok, "{stderr}");
    }
    assert_eq!(std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap());
}
