//! ssGSEA and GSVA against gseapy 1.3.1 on the fixture of `../shared/data/omics` (2000 genes x 20
//! samples, 4 sets of 50 genes): ES and NES within 1e-6, GSVA within 1e-4.

mod common;

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

/// gseapy itself (the peers' environment, `../shared/peers/install.sh`) on a matrix with many tied
/// values: ties are ordered as gseapy orders them (the later gene first), in ssGSEA and GSVA.
#[test]
fn tied_values_are_ordered_as_gseapy_orders_them() {
    let Some(python) = common::peer_python() else { return };
    let dir = std::env::temp_dir().join(format!("tacefusion-gseapy-ties-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // 300 genes x 6 samples, values on a 0.5 grid: many ties in every sample
    let mut text = String::from("gene\tS0\tS1\tS2\tS3\tS4\tS5\n");
    for g in 0..300 {
        text.push_str(&format!("G{g}"));
        for s in 0..6 {
            text.push_str(&format!("\t{}", ((g * 7 + s * 13 + g * s) % 17) as f64 * 0.5));
        }
        text.push('\n');
    }
    let sets = "A\t-\t".to_string()
        + &(0..40).step_by(2).chain(100..120).map(|g| format!("G{g}")).collect::<Vec<_>>().join("\t")
        + "\nB\t-\t"
        + &(50..90).map(|g| format!("G{g}")).collect::<Vec<_>>().join("\t")
        + "\n";
    let (expr_file, gmt_file) = (dir.join("expr.tsv"), dir.join("sets.gmt"));
    std::fs::write(&expr_file, text).unwrap();
    std::fs::write(&gmt_file, sets).unwrap();
    let script = format!(
        "import gseapy, pandas as pd\nx = pd.read_csv({e:?}, sep='\\t', index_col=0)\n\
         s = gseapy.ssgsea(data=x, gene_sets={g:?}, outdir=None, sample_norm_method='rank', threads=1, min_size=5).res2d\n\
         s[['Name', 'Term', 'ES']].to_csv({o1:?}, sep='\\t', index=False)\n\
         v = gseapy.gsva(data=x, gene_sets={g:?}, outdir=None, threads=1, min_size=5).res2d\n\
         v[['Name', 'Term', 'ES']].to_csv({o2:?}, sep='\\t', index=False)\n",
        e = expr_file.to_str().unwrap(),
        g = gmt_file.to_str().unwrap(),
        o1 = dir.join("ss.tsv").to_str().unwrap(),
        o2 = dir.join("gv.tsv").to_str().unwrap(),
    );
    let out = std::process::Command::new(&python).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let expr = Expression::read(&expr_file, Scale::Log2).unwrap();
    let sets = match_sets(&read_gmt(&gmt_file).unwrap(), &expr.genes);
    for (file, scores, tolerance) in [("ss.tsv", ssgsea(&expr, &sets, 0.25).unwrap(), 1e-6), ("gv.tsv", gsva(&expr, &sets).unwrap(), 1e-4)]
    {
        let got = ours(&scores);
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let want: f64 = f[2].parse().unwrap();
            let have = got[&(f[0].to_string(), f[1].to_string())];
            assert!((have - want).abs() < tolerance, "{file} {} {}: {have} vs gseapy {want}", f[0], f[1]);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
