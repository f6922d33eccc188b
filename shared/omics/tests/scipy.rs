//! The group comparisons against scipy itself (the peers' environment, `../shared/peers/install.sh`;
//! skipped without it): Mann-Whitney U (asymptotic, tie and continuity corrected), Welch's t and
//! Benjamini-Hochberg on 40 pairs of groups of various sizes, many with tied values.

mod common;

use std::process::Command;

use tacefusion_omics::compare::{benjamini_hochberg, mann_whitney, mann_whitney_auto, welch};

#[test]
fn comparisons_match_scipy() {
    let Some(python) = common::peer_python() else { return };
    // 40 pairs: sizes 3..22, values on a coarse grid (ties) for even pairs
    let groups: Vec<(Vec<f64>, Vec<f64>)> = (0..40)
        .map(|k| {
            let (n1, n2) = (3 + k % 20, 4 + (k * 7) % 15);
            let grid = if k % 2 == 0 { 0.5 } else { 0.001 };
            let value = |i: usize, shift: f64| ((((i * 37 + k * 11) % 29) as f64 * 0.37 + shift) / grid).round() * grid;
            ((0..n1).map(|i| value(i, 0.0)).collect(), (0..n2).map(|i| value(i + 5, 0.4 * (k % 3) as f64)).collect())
        })
        .collect();
    let as_py = |v: &[f64]| format!("[{}]", v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(","));
    let pairs: Vec<String> = groups.iter().map(|(a, b)| format!("({}, {})", as_py(a), as_py(b))).collect();
    let script = format!(
        "from scipy import stats\npairs = [{}]\nps = []\nfor a, b in pairs:\n    u = stats.mannwhitneyu(a, b, alternative='two-sided', method='asymptotic', use_continuity=True)\n    t = stats.ttest_ind(a, b, equal_var=False)\n    ps.append(t.pvalue)\n    print(*(repr(float(x)) for x in (u.statistic, u.pvalue, t.statistic, t.pvalue)))\nprint(' '.join(repr(float(q)) for q in stats.false_discovery_control(ps)))\n",
        pairs.join(",")
    );
    let out = Command::new(&python).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Vec<f64>> = text.lines().map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect()).collect();
    let mut welch_p = Vec::new();
    for (k, (a, b)) in groups.iter().enumerate() {
        let (u, w) = (mann_whitney(a, b).unwrap(), welch(a, b).unwrap());
        let want = &lines[k];
        assert!((u.u - want[0]).abs() < 1e-9, "pair {k}: U {} vs scipy {}", u.u, want[0]);
        assert!((u.p - want[1]).abs() < 1e-12, "pair {k}: Mann-Whitney p {} vs scipy {}", u.p, want[1]);
        assert!((w.t - want[2]).abs() < 1e-10 * want[2].abs().max(1.0), "pair {k}: t {} vs scipy {}", w.t, want[2]);
        assert!((w.p - want[3]).abs() < 1e-10, "pair {k}: Welch p {} vs scipy {}", w.p, want[3]);
        welch_p.push(w.p);
    }
    for (q, want) in benjamini_hochberg(&welch_p).iter().zip(&lines[40]) {
        assert!((q - want).abs() < 1e-10, "BH {q} vs scipy {want}");
    }
}

#[test]
fn mann_whitney_auto_matches_scipys_default_method() {
    let Some(python) = common::peer_python() else { return };
    // small groups without ties (exact), with ties (asymptotic), and large groups (asymptotic)
    let groups: Vec<(Vec<f64>, Vec<f64>)> = (0..30)
        .map(|k| {
            let (n1, n2) = if k < 20 { (2 + k % 7, 3 + (k * 5) % 9) } else { (9 + k % 4, 10 + k % 3) };
            let grid = if k % 5 == 4 { 1.0 } else { 1e-6 };
            let value = |i: usize, shift: f64| ((((i * 53 + k * 17) % 31) as f64 * 0.41 + 0.013 * i as f64 + shift) / grid).round() * grid;
            ((0..n1).map(|i| value(i, 0.0)).collect(), (0..n2).map(|i| value(i + 3, 0.9 * (k % 3) as f64 + 0.0007)).collect())
        })
        .collect();
    let as_py = |v: &[f64]| format!("[{}]", v.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>().join(","));
    let pairs: Vec<String> = groups.iter().map(|(a, b)| format!("({}, {})", as_py(a), as_py(b))).collect();
    let script = format!(
        "from scipy import stats\nfor a, b in [{}]:\n    r = stats.mannwhitneyu(a, b, alternative='two-sided')\n    print(repr(float(r.statistic)), repr(float(r.pvalue)))\n",
        pairs.join(",")
    );
    let out = Command::new(&python).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    for (k, ((a, b), line)) in groups.iter().zip(text.lines()).enumerate() {
        let want: Vec<f64> = line.split_whitespace().map(|v| v.parse().unwrap()).collect();
        let got = mann_whitney_auto(a, b).unwrap();
        assert!((got.u - want[0]).abs() < 1e-9, "pair {k}: U {} vs scipy {}", got.u, want[0]);
        assert!((got.p - want[1]).abs() < 1e-12, "pair {k}: p {} vs scipy {} ({} vs {} values)", got.p, want[1], a.len(), b.len());
    }
}
