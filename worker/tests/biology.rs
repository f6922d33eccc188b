//! The biology stage on small planted data: a pathway raised in the high group is found in bulk
//! (ssGSEA, GSVA, differential expression) with its unmatched genes reported; single cells read from
//! h5ad and from a 10x MTX folder give the same scores, with hypoxia raised and cytotoxicity lowered
//! where they were planted; a bad biomarker value is listed and the rest compared.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tacefusion_worker::executor::{Device, InputFile};
use tacefusion_worker::stages::biology;
use tacefusion_worker::tables::{Column, Table, read_parquet};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tacefusion-biology-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The fusion task's outputs for `cohort`: `lfm` chosen, scores as given.
fn fusion_inputs(cohort: &str, scores: &[(String, f64)]) -> Vec<InputFile> {
    let n = scores.len();
    let t = Table::default()
        .with("cohort", Column::Text(vec![cohort.into(); 2 * n]))
        .with("patient_id", Column::Text(scores.iter().chain(scores).map(|s| s.0.clone()).collect()))
        .with("model", Column::Text((0..2 * n).map(|i| if i < n { "lfm" } else { "efm" }.to_string()).collect()))
        .with("group", Column::Text(vec![String::new(); 2 * n]))
        // the other fusion ranks the patients the other way: only the chosen one may be used
        .with("risk", Column::Float(scores.iter().map(|s| s.1).chain(scores.iter().map(|s| -s.1)).collect()));
    vec![
        InputFile { path: "cache/fusion/k/attempt-1/predictions.parquet".into(), bytes: Bytes::from(t.to_parquet().unwrap()) },
        InputFile { path: "cache/fusion/f/attempt-1/models.json".into(), bytes: Bytes::from_static(br#"{"chosen":"lfm"}"#) },
    ]
}

/// An output table's columns, by its file name.
fn table(out: &[(String, Vec<u8>)], name: &str) -> Vec<(String, Column)> {
    let file = out.iter().find(|f| f.0 == format!("{name}.parquet")).unwrap_or_else(|| panic!("no {name}"));
    read_parquet(Bytes::from(file.1.clone())).unwrap()
}

fn texts<'a>(t: &'a [(String, Column)], name: &str) -> &'a [String] {
    match &t.iter().find(|c| c.0 == name).unwrap().1 {
        Column::Text(v) => v,
        other => panic!("{name}: {other:?}"),
    }
}

fn floats<'a>(t: &'a [(String, Column)], name: &str) -> &'a [f64] {
    match &t.iter().find(|c| c.0 == name).unwrap().1 {
        Column::Float(v) => v,
        other => panic!("{name}: {other:?}"),
    }
}

fn spec(kind: &str, files: &[(&str, &Path)]) -> serde_json::Value {
    let mut s = serde_json::json!({
        "kind": kind, "cohort": "c", "scale": "log2", "seed": 3,
        "omics": serde_json::to_value(tacefusion_core::study::OmicsSettings::default()).unwrap(),
    });
    for (k, p) in files {
        s[*k] = serde_json::json!(p);
    }
    s
}

#[test]
fn bulk_finds_the_raised_pathway_and_reports_unmatched_genes() {
    let dir = scratch("bulk");
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    // 12 patients, fusion score = their index: the 6 above the median have genes G0-G14 raised;
    // sample X has no score
    let scores: Vec<(String, f64)> = (0..12).map(|i| (format!("P{i:02}"), i as f64)).collect();
    let genes: Vec<String> = (0..300).map(|g| format!("G{g}")).collect();
    let mut tsv = format!("gene\t{}\tX\n", scores.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("\t"));
    for (g, name) in genes.iter().enumerate() {
        let row: Vec<String> =
            (0..12).map(|i| 5.0 + rng.random::<f64>() + if g < 15 && i >= 6 { 2.0 } else { 0.0 }).map(|v| format!("{v:.4}")).collect();
        tsv += &format!("{name}\t{}\t1.0\n", row.join("\t"));
    }
    let (expr, gmt) = (dir.join("expr.tsv"), dir.join("sets.gmt"));
    std::fs::write(&expr, tsv).unwrap();
    let (up, other) = (genes[..15].join("\t"), genes[20..35].join("\t"));
    std::fs::write(&gmt, format!("UP\t-\t{up}\tABSENT1\nOTHER\t-\t{other}\n")).unwrap();
    let out =
        biology::run(&spec("bulk", &[("expression", &expr), ("gene_sets", &gmt)]), &fusion_inputs("c", &scores), Device::Cpu).unwrap();

    let cmp = table(&out, "pathway_comparison");
    let (sets, methods, diff, q) =
        (texts(&cmp, "gene_set"), texts(&cmp, "method"), floats(&cmp, "difference"), floats(&cmp, "mann_whitney_fdr"));
    for method in ["ssgsea", "gsva"] {
        let at = |s: &str| (0..sets.len()).find(|&k| sets[k] == s && methods[k] == method).unwrap();
        let (u, o) = (at("UP"), at("OTHER"));
        assert!(diff[u] > 0.0 && q[u] < 0.05, "{method}: UP {} q {}", diff[u], q[u]);
        // ranks within a sample: raising UP lowers every other gene a little, OTHER too
        assert!(diff[o].abs() < diff[u].abs() / 3.0, "{method}: OTHER {} against UP {}", diff[o], diff[u]);
    }
    let de = table(&out, "differential_expression");
    let (fc, gq) = (floats(&de, "log2_fold_change"), floats(&de, "mann_whitney_fdr"));
    assert!((0..15).all(|g| fc[g] > 1.5 && gq[g] < 0.05), "{:?}", &fc[..15]);
    assert!((20..300).all(|g| fc[g].abs() < 1.0));
    let cov = table(&out, "gene_set_coverage");
    let row = texts(&cov, "gene_set").iter().position(|s| s == "UP").unwrap();
    assert_eq!(texts(&cov, "unmatched_genes")[row], "ABSENT1");
    let ex = table(&out, "exclusions");
    assert_eq!(texts(&ex, "patient_id"), ["X"]);
    assert_eq!(texts(&ex, "kind"), ["no_fusion_score"]);
    let groups = table(&out, "fusion_groups");
    assert_eq!(texts(&groups, "group").iter().filter(|g| *g == "high").count(), 6);
}

#[test]
fn the_estimate_stromal_score_finds_raised_stromal_genes() {
    use tacefusion_omics::markers::{ESTIMATE_IMMUNE, ESTIMATE_SCORE, ESTIMATE_STROMAL, estimate_sets};
    let dir = scratch("estimate");
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // 16 patients; the 8 above the median have the first 40 stromal genes raised; 40 immune genes
    // and 200 others unchanged
    let estimate = estimate_sets();
    let scores: Vec<(String, f64)> = (0..16).map(|i| (format!("P{i:02}"), i as f64)).collect();
    let mut genes: Vec<(String, bool)> = estimate[0].genes[..40].iter().map(|g| (g.clone(), true)).collect();
    genes.extend(estimate[1].genes[..40].iter().map(|g| (g.clone(), false)));
    genes.extend((0..200).map(|g| (format!("G{g}"), false)));
    let mut tsv = format!("gene\t{}\n", scores.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("\t"));
    for (name, raised) in &genes {
        let row: Vec<String> =
            (0..16).map(|i| 5.0 + rng.random::<f64>() + if *raised && i >= 8 { 1.5 } else { 0.0 }).map(|v| format!("{v:.4}")).collect();
        tsv += &format!("{name}\t{}\n", row.join("\t"));
    }
    let (expr, gmt) = (dir.join("expr.tsv"), dir.join("sets.gmt"));
    std::fs::write(&expr, tsv).unwrap();
    std::fs::write(&gmt, format!("OTHER\t-\t{}\n", (0..20).map(|g| format!("G{g}")).collect::<Vec<_>>().join("\t"))).unwrap();
    let out =
        biology::run(&spec("bulk", &[("expression", &expr), ("gene_sets", &gmt)]), &fusion_inputs("c", &scores), Device::Cpu).unwrap();

    let cmp = table(&out, "pathway_comparison");
    let (sets, collections, diff, q) =
        (texts(&cmp, "gene_set"), texts(&cmp, "collection"), floats(&cmp, "difference"), floats(&cmp, "mann_whitney_fdr"));
    let at = |s: &str| (0..sets.len()).find(|&k| sets[k] == s && collections[k] == "estimate").unwrap();
    let (stromal, immune) = (at(ESTIMATE_STROMAL), at(ESTIMATE_IMMUNE));
    assert!(diff[stromal] > 0.0 && q[stromal] < 0.05, "stromal {} q {}", diff[stromal], q[stromal]);
    assert!(diff[immune].abs() < diff[stromal].abs() / 2.0, "immune {} stromal {}", diff[immune], diff[stromal]);
    // per patient, the ESTIMATE score is the sum of the two raw scores
    let ps = table(&out, "pathway_scores");
    let (set, coll, patient, score) = (texts(&ps, "gene_set"), texts(&ps, "collection"), texts(&ps, "patient_id"), floats(&ps, "score"));
    let of = |name: &str, p: &str| {
        (0..set.len()).find(|&k| coll[k] == "estimate" && set[k] == name && patient[k] == p).map(|k| score[k]).unwrap()
    };
    for (p, _) in &scores {
        assert!((of(ESTIMATE_SCORE, p) - of(ESTIMATE_STROMAL, p) - of(ESTIMATE_IMMUNE, p)).abs() < 1e-12, "{p}");
    }
    // the signatures' other genes are listed as unmatched
    let cov = table(&out, "gene_set_coverage");
    let row = texts(&cov, "gene_set").iter().position(|s| s == ESTIMATE_STROMAL).unwrap();
    assert_eq!(texts(&cov, "unmatched_genes")[row].split(',').count(), 101);
}

/// A Poisson draw by inversion.
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    let (mut k, mut prob, u) = (0u32, (-mean).exp(), rng.random::<f64>());
    let mut cdf = prob;
    while u > cdf && k < 500 {
        k += 1;
        prob *= mean / k as f64;
        cdf += prob;
    }
    k
}

#[test]
fn single_cells_from_h5ad_and_mtx_agree_and_show_the_planted_scores() {
    let dir = scratch("cells");
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let hypoxia: Vec<String> = (0..10).map(|g| format!("HYP{g}")).collect();
    let cytotoxic = ["GZMA", "GZMB", "GZMH", "GZMK", "PRF1", "GNLY", "NKG7", "IFNG"];
    let genes: Vec<String> =
        hypoxia.iter().cloned().chain(cytotoxic.iter().map(|s| s.to_string())).chain((0..200).map(|g| format!("B{g}"))).collect();
    let types = ["CD8+ cytotoxic T", "malignant hepatocyte"];
    // 6 patients, P0-P2 high (hypoxia x3 in every cell type, CD8 cytotoxicity a third), 40 cells each
    let (mut indptr, mut indices, mut counts) = (vec![0u64], Vec::new(), Vec::new());
    let (mut barcodes, mut patients, mut cell_types) = (Vec::new(), Vec::new(), Vec::new());
    for p in 0..6 {
        for c in 0..40 {
            let t = c % 2;
            for g in 0..genes.len() {
                let mut mean = 1.0 + (g % 7) as f64 * 0.3;
                if g < 10 && p < 3 {
                    mean *= 3.0;
                }
                if (10..18).contains(&g) && t == 0 {
                    mean *= if p < 3 { 2.0 } else { 6.0 };
                }
                let k = poisson(&mut rng, mean);
                if k > 0 {
                    indices.push(g as u32);
                    counts.push(k);
                }
            }
            indptr.push(indices.len() as u64);
            barcodes.push(format!("P{p}_{c:03}"));
            patients.push(format!("P{p}"));
            // one cell without a cell type: in no comparison, and listed
            cell_types.push(if p == 5 && c == 39 { "" } else { types[t] });
        }
    }
    let labels: Vec<&str> = patients.iter().map(String::as_str).collect();
    let obs = [
        tacefusion_synth::h5ad::Categorical::from_labels("patient", &labels),
        tacefusion_synth::h5ad::Categorical::from_labels("cell_type", &cell_types),
    ];
    let (h5ad, mtx, cells, gmt) = (dir.join("cells.h5ad"), dir.join("mtx"), dir.join("cells.csv"), dir.join("sets.gmt"));
    let csr = tacefusion_synth::h5ad::Csr { indptr: &indptr, indices: &indices, counts: &counts };
    tacefusion_synth::h5ad::write_h5ad(&h5ad, &csr, &barcodes, &genes, &obs).unwrap();
    tacefusion_synth::tables::write_mtx(&mtx, &genes, &barcodes, &indptr, &indices, &counts).unwrap();
    let mut csv = String::from("barcode,patient,cell_type\n");
    for i in 0..barcodes.len() {
        csv += &format!("{},{},{}\n", barcodes[i], patients[i], cell_types[i]);
    }
    std::fs::write(&cells, csv).unwrap();
    std::fs::write(&gmt, format!("HALLMARK_HYPOXIA\t-\t{}\n", hypoxia.join("\t"))).unwrap();
    let scores: Vec<(String, f64)> = (0..6).map(|p| (format!("P{p}"), 10.0 - p as f64)).collect();
    let inputs = fusion_inputs("c", &scores);
    let from_h5ad = biology::run(&spec("singlecell", &[("h5ad", &h5ad), ("gene_sets", &gmt)]), &inputs, Device::Cpu).unwrap();
    let from_mtx =
        biology::run(&spec("singlecell", &[("mtx", &mtx), ("cells", &cells), ("gene_sets", &gmt)]), &inputs, Device::Cpu).unwrap();
    for name in ["cell_scores", "cell_type_scores", "cell_type_comparison"] {
        assert_eq!(table(&from_h5ad, name), table(&from_mtx, name), "{name}: h5ad and MTX differ");
    }
    let cmp = table(&from_h5ad, "cell_type_comparison");
    let (score, ty, diff, p) = (texts(&cmp, "score"), texts(&cmp, "cell_type"), floats(&cmp, "difference"), floats(&cmp, "mann_whitney_p"));
    assert_eq!(score.len(), 3, "hypoxia in both cell types, cytotoxicity in the cytotoxic type only");
    for k in 0..score.len() {
        // 3 against 3 patients, completely separated: the exact p is 2 / C(6, 3)
        let planted = if score[k] == "hypoxia" { diff[k] > 0.0 } else { ty[k] == "CD8+ cytotoxic T" && diff[k] < 0.0 };
        assert!(planted && (p[k] - 0.1).abs() < 1e-12, "{} of {}: {} p {}", score[k], ty[k], diff[k], p[k]);
    }
    // a barcode listed again with other labels in the cell table is an error naming both lines
    let twice = dir.join("twice.csv");
    std::fs::write(&twice, format!("{}{},P9,NK\n", std::fs::read_to_string(&cells).unwrap(), barcodes[0])).unwrap();
    let e = biology::run(&spec("singlecell", &[("mtx", &mtx), ("cells", &twice), ("gene_sets", &gmt)]), &inputs, Device::Cpu)
        .unwrap_err()
        .to_string();
    assert!(e.contains("twice.csv") && e.contains("barcode P0_000 is on lines 2 and 242"), "{e}");
    // the default cytotoxic types are CD8+ cytotoxic T and NK: no cell is NK, which is listed
    let ex = table(&from_h5ad, "exclusions");
    let (kind, field, reason) = (texts(&ex, "kind"), texts(&ex, "field"), texts(&ex, "reason"));
    assert_eq!(kind, ["no_cell_label", "no_cell_type"], "{reason:?}");
    assert_eq!(field, ["cell_type", "cytotoxic_cell_types"]);
    assert!(reason[0].starts_with("1 cells have no cell_type label"), "{}", reason[0]);
    assert!(reason[1].contains("\"NK\"") && reason[1].contains("labels here: CD8+ cytotoxic T, malignant hepatocyte"), "{}", reason[1]);
}

#[test]
fn a_bad_biomarker_value_is_listed_and_the_rest_compared() {
    let dir = scratch("biomarker");
    let scores: Vec<(String, f64)> = (0..10).map(|i| (format!("B{i}"), i as f64)).collect();
    let mut csv = String::from("patient_id,marker_up,marker_flat\n");
    for i in 0..10 {
        let up = if i == 3 { "oops".to_string() } else { format!("{}", i * 2 + 1) };
        csv += &format!("B{i},{up},{}\n", [3, 1, 4, 1, 5, 9, 2, 6, 5, 3][i]);
    }
    let path = dir.join("b.csv");
    std::fs::write(&path, csv).unwrap();
    let out = biology::run(&spec("biomarker", &[("biomarkers", &path)]), &fusion_inputs("c", &scores), Device::Cpu).unwrap();
    let t = table(&out, "biomarker_comparison");
    assert_eq!(texts(&t, "biomarker"), ["marker_up", "marker_flat"]);
    assert_eq!(floats(&t, "spearman_rho")[0], 1.0, "the planted monotone biomarker");
    let ex = table(&out, "exclusions");
    assert_eq!(texts(&ex, "patient_id"), ["B3"]);
    assert_eq!(texts(&ex, "field"), ["marker_up"]);
    match &t.iter().find(|c| c.0 == "n_low").unwrap().1 {
        // B3 (low) is left out of marker_up only
        Column::Int(v) => assert_eq!(v, &[4, 5]),
        other => panic!("{other:?}"),
    }
}

/// The GPU half of the single-cell scoring: burn's CUDA backend gives the CPU's f64 scores within
/// 1e-5 on planted cells (`benches/gpu.sh` runs it on the GPU machine: build with
/// `--features cuda`, run with `--ignored`).
#[cfg(feature = "cuda")]
#[test]
#[ignore = "needs a CUDA device"]
fn cuda_scores_match_the_cpu() {
    use tacefusion_omics::cells::{CellMatrix, CsrChunk, Normalized};
    use tacefusion_omics::score_genes::{ScoreGenesOptions, score_genes};
    use tacefusion_omics::score_tensor::score_genes_on;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (cells, genes) = (20_000, 2_000);
    let names: Vec<String> = (0..genes).map(|g| format!("G{g}")).collect();
    let dense: Vec<f32> = (0..cells * genes).map(|k| poisson(&mut rng, 0.2 + (k % genes % 17) as f64 * 0.1) as f32).collect();
    let m = Normalized { source: CellMatrix { genes: names.clone(), csr: CsrChunk::from_dense(0, genes, &dense) }, target_sum: 1e4 };
    let set: Vec<String> = names[..200].to_vec();
    let options = ScoreGenesOptions::default();
    let cpu = score_genes(&m, &set, &options).unwrap();
    let gpu = score_genes_on::<tacefusion_models::GpuBackend>(&m, &set, &options, &tacefusion_models::gpu_device(0)).unwrap();
    let worst = cpu.scores.iter().zip(&gpu.scores).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    eprintln!("cuda vs cpu: {cells} cells, largest difference {worst:.2e}");
    assert!(worst < 1e-5, "largest difference {worst}");
}

/// A GPU worker offers the CUDA devices burn enumerates (the cluster issue's GPU check, run by
/// `benches/gpu.sh` on the GPU machine with the scoring check above).
#[cfg(feature = "cuda")]
#[test]
#[ignore = "needs a CUDA device"]
fn cuda_devices_are_offered() {
    let devices = tacefusion_worker::gpus::cuda_devices().unwrap();
    eprintln!("cuda devices offered: {devices:?}");
    assert!(!devices.is_empty() && devices[0] == "cuda:0", "{devices:?}");
}
