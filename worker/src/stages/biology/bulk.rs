//! The bulk cohort: every expression sample of a grouped patient; counts become log2(CPM + 1) and
//! TPM log2(TPM + 1) for the statistics and GSVA (ssGSEA ranks each sample's values, so it sees
//! them as given).

use std::path::Path;

use rayon::prelude::*;
use tacefusion_omics::markers::{estimate_sets, immune_sets, immune_sets_from, with_estimate_score};
use tacefusion_omics::{Expression, GeneSet, MatchedSet, Scale, SetScores, gsva, match_sets, read_gmt, ssgsea};

use super::{Comparison, Groups, compare, group_name, parquet, with_comparisons};
use crate::executor::{ExecError, OutputFile, text};
use crate::stages::Exclusions;
use crate::tables::{Column, ReadTable, Table};

/// Reads an expression matrix: TSV or CSV, or a Parquet table (a text column of genes, a numeric
/// column per sample), by the extension.
pub fn read_expression(path: &Path, scale: Scale) -> Result<Expression, ExecError> {
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    if !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        return Expression::read(path, scale).map_err(|e| bad(&e));
    }
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| bad(&format!("{source}: {e}")))?;
    let table = ReadTable::read(&source, bytes.into())?;
    let mut genes = None;
    let mut samples = Vec::new();
    for (name, column) in table.columns {
        match column {
            Column::Text(v) if genes.is_none() => genes = Some(v),
            Column::Float(v) => samples.push((name, v)),
            Column::Int(v) => samples.push((name, v.into_iter().map(|x| x as f64).collect())),
            _ => return Err(bad(&format!("{source}: column {name} is neither the genes (text) nor a sample (numbers)"))),
        }
    }
    let genes = genes.ok_or_else(|| bad(&format!("{source}: no text column of gene names")))?;
    Expression::from_columns(genes, samples, scale, &source).map_err(|e| bad(&e))
}

/// The matrix the statistics use: log2(CPM + 1) of counts, log2(x + 1) of TPM, log2 as given.
fn log2_for_statistics(e: &Expression) -> Expression {
    match e.scale {
        Scale::Counts => {
            let (g, s) = (e.genes.len(), e.samples.len());
            let totals: Vec<f64> = (0..s).map(|j| (0..g).map(|i| e.get(i, j)).sum()).collect();
            let values =
                (0..g * s).map(|k| (k / s, k % s)).map(|(i, j)| (e.get(i, j) * 1e6 / totals[j].max(f64::MIN_POSITIVE) + 1.0).log2());
            Expression { values: values.collect(), scale: Scale::Log2, ..e.clone() }
        }
        _ => e.log2(),
    }
}

/// One collection of sets scored by one method, long: (collection, method, set, patient, group, score).
struct Scored {
    collection: &'static str,
    method: &'static str,
    scores: SetScores,
}

pub(super) fn run(spec: &serde_json::Value, cohort: &str, groups: &Groups) -> Result<Vec<OutputFile>, ExecError> {
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    let omics = super::settings(spec)?;
    let scale = Scale::from_name(spec["scale"].as_str().unwrap_or("log2")).map_err(|e| bad(&e))?;
    let path = text(spec, "expression")?;
    let all = read_expression(Path::new(path), scale)?;
    // samples of grouped patients; the others listed
    let mut ex = Exclusions::of("biology");
    let mut keep = Vec::new();
    for (j, s) in all.samples.iter().enumerate() {
        match groups.of.get(s) {
            Some(_) => keep.push(j),
            None => ex.add(cohort, s, path, s, "no_fusion_score", format!("sample {s}: no {} score, so in neither group", groups.model)),
        }
    }
    for id in groups.ids.iter().filter(|id| !all.samples.contains(id)) {
        ex.add(
            cohort,
            id,
            path,
            "samples",
            "no_expression",
            format!("patient {id} has a {} score but no column in the expression", groups.model),
        );
    }
    let columns = keep.iter().map(|&j| (all.samples[j].clone(), (0..all.genes.len()).map(|g| all.get(g, j)).collect())).collect();
    let expr = Expression::from_columns(all.genes.clone(), columns, scale, path).map_err(|e| bad(&e))?;
    let high: Vec<bool> = expr.samples.iter().map(|s| groups.of[s].1).collect();
    if !high.iter().any(|h| *h) || high.iter().all(|h| *h) {
        return Err(bad(&format!("cohort {cohort}: {} samples with a score, not in two groups", expr.samples.len())));
    }

    let (min_size, max_size) = (omics.min_size, omics.max_size);
    let hallmark_file = text(spec, "gene_sets")?;
    let hallmark = read_gmt(hallmark_file).map_err(|e| bad(&e))?;
    let immune = match spec.get("immune_sets").and_then(|v| v.as_str()) {
        Some(p) => immune_sets_from(Path::new(p)).map_err(|e| bad(&e))?,
        None => immune_sets(),
    };
    let mut coverage = Coverage::default();
    let pathway = coverage.usable("hallmark", &hallmark, &expr.genes, min_size, max_size);
    // marker lists are short: every set with a gene in the data
    let immune = coverage.usable("immune", &immune, &expr.genes, 1, max_size);
    // ESTIMATE's signatures are long: the Hallmark size bounds
    let estimate = coverage.usable("estimate", &estimate_sets(), &expr.genes, min_size, max_size);
    if pathway.is_empty() {
        return Err(bad(&format!("{hallmark_file}: no gene set has between {min_size} and {max_size} genes in {path}")));
    }
    let stats = log2_for_statistics(&expr);
    let scored = score_sets(&expr, &stats, &pathway, &immune, &estimate).map_err(|e| bad(&e))?;
    let mut out = vec![
        pathway_scores(cohort, &scored, &high)?,
        pathway_comparison(cohort, &scored, &high)?,
        differential_expression(cohort, &stats, &high)?,
        parquet("gene_set_coverage", coverage.table(cohort))?,
    ];
    out.extend(ex.file()?);
    Ok(out)
}

/// What each set matched in the data, and whether it was scored.
#[derive(Default)]
struct Coverage {
    rows: Vec<(&'static str, String, usize, usize, String, bool)>,
}

impl Coverage {
    fn usable(&mut self, collection: &'static str, sets: &[GeneSet], genes: &[String], min: usize, max: usize) -> Vec<MatchedSet> {
        let mut kept = Vec::new();
        for m in match_sets(sets, genes) {
            let (n, scored) = (m.indices.len(), m.within(min, max, genes.len()));
            self.rows.push((collection, m.name.clone(), n + m.unmatched.len(), n, m.unmatched.join(","), scored));
            if scored {
                kept.push(m);
            }
        }
        kept
    }

    fn table(&self, cohort: &str) -> Table {
        let r = &self.rows;
        Table::default()
            .with("cohort", Column::Text(vec![cohort.to_string(); r.len()]))
            .with("collection", Column::Text(r.iter().map(|x| x.0.to_string()).collect()))
            .with("gene_set", Column::Text(r.iter().map(|x| x.1.clone()).collect()))
            .with("genes", Column::Int(r.iter().map(|x| x.2 as i64).collect()))
            .with("matched", Column::Int(r.iter().map(|x| x.3 as i64).collect()))
            .with("unmatched", Column::Int(r.iter().map(|x| (x.2 - x.3) as i64).collect()))
            .with("unmatched_genes", Column::Text(r.iter().map(|x| x.4.clone()).collect()))
            .with("scored", Column::Bool(r.iter().map(|x| x.5).collect()))
    }
}

/// Scores of the Hallmark sets (ssGSEA and GSVA), the immune cell types and ESTIMATE's signatures
/// (ssGSEA). ssGSEA ranks each sample's values, so it scores the expression as given; GSVA's
/// kernel estimate works on the values' scale, so it scores `stats` (log2), the scale its Gaussian
/// kernel is meant for, whatever the file's scale.
fn score_sets(
    expr: &Expression,
    stats: &Expression,
    pathway: &[MatchedSet],
    immune: &[MatchedSet],
    estimate: &[MatchedSet],
) -> Result<Vec<Scored>, tacefusion_omics::OmicsError> {
    let mut scored = vec![
        Scored { collection: "hallmark", method: "ssgsea", scores: ssgsea(expr, pathway, 0.25)?.normalized_by_range() },
        Scored { collection: "hallmark", method: "gsva", scores: gsva(stats, pathway)? },
    ];
    if !immune.is_empty() {
        scored.push(Scored { collection: "immune", method: "ssgsea", scores: ssgsea(expr, immune, 0.25)?.normalized_by_range() });
    }
    if !estimate.is_empty() {
        // raw enrichment, as ESTIMATE reports its stromal, immune and ESTIMATE scores
        scored.push(Scored { collection: "estimate", method: "ssgsea", scores: with_estimate_score(ssgsea(expr, estimate, 0.25)?) });
    }
    Ok(scored)
}

fn pathway_scores(cohort: &str, scored: &[Scored], high: &[bool]) -> Result<OutputFile, ExecError> {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let mut values = Vec::new();
    for s in scored {
        for (k, set) in s.scores.sets.iter().enumerate() {
            for (j, sample) in s.scores.samples.iter().enumerate() {
                rows.push([s.collection.into(), s.method.into(), set.clone(), sample.clone(), group_name(high[j]).into()]);
                values.push(s.scores.get(k, j));
            }
        }
    }
    let col = |k: usize| Column::Text(rows.iter().map(|r| r[k].clone()).collect());
    let t = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); rows.len()]))
        .with("collection", col(0))
        .with("method", col(1))
        .with("gene_set", col(2))
        .with("patient_id", col(3))
        .with("group", col(4))
        .with("score", Column::Float(values));
    parquet("pathway_scores", t)
}

/// Splits values by group.
fn split(values: impl Iterator<Item = f64>, high: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let (mut h, mut l) = (Vec::new(), Vec::new());
    for (v, &is_high) in values.zip(high) {
        if is_high { h.push(v) } else { l.push(v) }
    }
    (h, l)
}

fn pathway_comparison(cohort: &str, scored: &[Scored], high: &[bool]) -> Result<OutputFile, ExecError> {
    let (mut labels, mut rows, mut family) = (Vec::new(), Vec::new(), Vec::new());
    for s in scored {
        for (k, set) in s.scores.sets.iter().enumerate() {
            let (h, l) = split((0..s.scores.samples.len()).map(|j| s.scores.get(k, j)), high);
            rows.push(compare(&h, &l));
            labels.push((s.collection, s.method, set.clone()));
            family.push(format!("{}/{}", s.collection, s.method));
        }
    }
    let t = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); rows.len()]))
        .with("collection", Column::Text(labels.iter().map(|l| l.0.to_string()).collect()))
        .with("method", Column::Text(labels.iter().map(|l| l.1.to_string()).collect()))
        .with("gene_set", Column::Text(labels.iter().map(|l| l.2.clone()).collect()));
    parquet("pathway_comparison", with_comparisons(t, &rows, &family))
}

fn differential_expression(cohort: &str, stats: &Expression, high: &[bool]) -> Result<OutputFile, ExecError> {
    let s = stats.samples.len();
    let rows: Vec<Comparison> = (0..stats.genes.len())
        .into_par_iter()
        .map(|g| split((0..s).map(|j| stats.get(g, j)), high))
        .map(|(h, l)| compare(&h, &l))
        .collect();
    let n = rows.len();
    let t = Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); n]))
        .with("gene", Column::Text(stats.genes.clone()))
        // the difference of log2 means is the log2 fold change
        .with("log2_fold_change", Column::Float(rows.iter().map(|r| r.mean_high - r.mean_low).collect()));
    parquet("differential_expression", with_comparisons(t, &rows, &vec![String::new(); n]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_log2_cpm_and_log2_stays() {
        let e = Expression::from_columns(
            vec!["A".into(), "B".into()],
            vec![("S1".into(), vec![1.0, 3.0]), ("S2".into(), vec![0.0, 10.0])],
            Scale::Counts,
            "t",
        )
        .unwrap();
        let l = log2_for_statistics(&e);
        for (g, s, want) in
            [(0, 0, (250_000.0f64 + 1.0).log2()), (1, 0, (750_000.0f64 + 1.0).log2()), (0, 1, 0.0), (1, 1, (1e6f64 + 1.0).log2())]
        {
            assert!((l.get(g, s) - want).abs() < 1e-9, "{g} {s}");
        }
        let log2 = Expression { scale: Scale::Log2, ..e.clone() };
        assert_eq!(log2_for_statistics(&log2).values, e.values);
    }

    #[test]
    fn counts_score_as_their_log2_cpm() {
        // 40 genes x 6 samples of counts with ties (zeros) and depths that differ tenfold
        let genes: Vec<String> = (0..40).map(|g| format!("G{g}")).collect();
        let columns = (0..6)
            .map(|s| (format!("S{s}"), (0..40).map(|g| (((g * 7 + s * 13) % 23) * (g % 5) * (1 + 9 * (s % 2))) as f64).collect()))
            .collect();
        let counts = Expression::from_columns(genes.clone(), columns, Scale::Counts, "t").unwrap();
        let log2 = log2_for_statistics(&counts);
        let set = |name: &str, pick: fn(usize) -> bool| GeneSet {
            name: name.into(),
            description: String::new(),
            genes: (0..40).filter(|&g| pick(g)).map(|g| format!("G{g}")).collect(),
        };
        let sets = match_sets(&[set("odd", |g| g % 2 == 1), set("low", |g| g < 15)], &genes);
        let from_counts = score_sets(&counts, &log2, &sets, &sets, &[]).unwrap();
        let from_log2 = score_sets(&log2, &log2_for_statistics(&log2), &sets, &sets, &[]).unwrap();
        for (a, b) in from_counts.iter().zip(&from_log2) {
            for (x, y) in a.scores.scores.iter().zip(&b.scores.scores) {
                assert!((x - y).abs() < 1e-12, "{} {}: {x} from counts vs {y} from log2 CPM", a.collection, a.method);
            }
        }
    }
}
