//! ssGSEA and GSVA against gseapy 1.3.1 on the fixture of `../shared/data/omics` (2000 genes x 20
//! samples, 4 sets of 50 genes): ES and NES within 1e-6, GSVA within 1e-4.

use std::collections::HashMap;
use std::path::PathBuf;

use tacefusion_omics::{Expression, Scale, SetScores, gsva, match_sets, read_gmt, ssgsea};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/omics").join(name)
}

/// gseapy's long table: (sample, set) -> the named columns.
fn reference(name: &str, columns: &[&str]) -> HashMap<(String, String), Vec<f64>> {
    let text = std::fs::read_to_string(data(name)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let at: Vec<usize> = columns.iter().map(|c| header.iter().position(|h| h == c).unwrap()).collect();
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_string(), f[1].to_string()), at.iter().map(|&k| f[k].parse().unwrap()).collect())
        })
        .collect()
}

fn ours(scores: &SetScores) -> HashMap<(String, String), f64> {
    let mut out = HashMap::new();
    for (k, set) in scores.sets.iter().enumerate() {
        for (s, sample) in scores.samples.iter().enumerate() {
            out.insert((sample.clone(), set.clone()), scores.get(k, s));
        }
    }
    out
}

fn fixture() -> (Expression, Vec<tacefusion_omics::MatchedSet>) {
    let expr = Expression::read(data("ssgsea_fixture_expr.tsv"), Scale::Log2).unwrap();
    let sets = match_sets(&read_gmt(data("ssgsea_fixture_sets.gmt")).unwrap(), &expr.genes);
    assert!(sets.iter().all(|s| s.unmatched.is_empty() && s.indices.len() == 50));
    (expr, sets)
}

#[test]
fn ssgsea_es_and_nes_match_gseapy() {
    let (expr, sets) = fixture();
    let es = ssgsea(&expr, &sets, 0.25).unwrap();
    let (es_map, nes_map) = (ours(&es), ours(&es.normalized_by_range()));
    let want = reference("ssgsea_fixture_gseapy_ssgsea.tsv", &["ES", "NES"]);
    assert_eq!(want.len(), 80);
    for (key, v) in &want {
        let (e, n) = (es_map[key], nes_map[key]);
        assert!((e - v[0]).abs() < 1e-6, "{key:?}: ES {e} vs gseapy {}", v[0]);
        assert!((n - v[1]).abs() < 1e-6, "{key:?}: NES {n} vs gseapy {}", v[1]);
    }
}

#[test]
fn gsva_matches_gseapy() {
    let (expr, sets) = fixture();
    let got = ours(&gsva(&expr, &sets).unwrap());
    let want = reference("ssgsea_fixture_gseapy_gsva.tsv", &["ES"]);
    assert_eq!(want.len(), 80);
    let worst = want.iter().map(|(k, v)| (got[k] - v[0]).abs()).fold(0.0, f64::max);
    assert!(worst < 1e-4, "largest difference from gseapy {worst}");
}
