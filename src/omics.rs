//! `tacefusion omics`: pathway scores of bulk expression (`ssgsea`, `gsva`, as gseapy computes
//! them) and scanpy's `score-genes` on single cells (h5ad or a 10x MTX folder).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tacefusion_omics::cells::{CellSource, Normalized};
use tacefusion_omics::h5ad::H5ad;
use tacefusion_omics::mtx::Mtx;
use tacefusion_omics::score_genes::{ScoreGenesOptions, score_genes};
use tacefusion_omics::{Expression, MatchedSet, Scale, SetScores, gsva, match_sets, read_gmt, ssgsea};

/// The omics commands.
#[derive(Debug, Subcommand)]
pub enum OmicsCommand {
    /// Single-sample GSEA of every gene set in every sample (sets x samples TSV).
    Ssgsea(SsgseaArgs),
    /// GSVA (Gaussian kernel) of every gene set in every sample (sets x samples TSV), on the values as
    /// given: give it log-scale values (the study's biology stage takes log2(CPM + 1) of counts).
    Gsva(SetArgs),
    /// scanpy's score_genes: one score per cell, in file order.
    ScoreGenes(ScoreArgs),
}

/// Arguments of `ssgsea` and `gsva`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// Expression, genes x samples: TSV, CSV, or Parquet (a text column of genes, a numeric column
    /// per sample), by the extension.
    #[arg(long)]
    expr: PathBuf,
    /// What the expression values are: counts, tpm or log2 (scores use them as they are).
    #[arg(long, default_value = "log2")]
    scale: String,
    /// Gene sets (GMT).
    #[arg(long)]
    gmt: PathBuf,
    /// Sets with fewer genes in the data are left out (gseapy's min_size).
    #[arg(long, default_value_t = 15)]
    min_size: usize,
    /// Sets with more genes in the data are left out (gseapy's max_size).
    #[arg(long, default_value_t = 500)]
    max_size: usize,
    /// Output TSV.
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `ssgsea`: those of every set score, its weight and normalisation.
#[derive(Debug, Args)]
pub struct SsgseaArgs {
    #[command(flatten)]
    sets: SetArgs,
    /// Weight (alpha) of the ranks in the running sum.
    #[arg(long, default_value_t = 0.25)]
    weight: f64,
    /// Divide every score by the range of all scores (gseapy's NES).
    #[arg(long)]
    normalize: bool,
}

/// Arguments of `score-genes`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// AnnData file.
    #[arg(long, conflicts_with = "mtx")]
    h5ad: Option<PathBuf>,
    /// 10x MTX folder (counts: normalised to 10,000 per cell and log1p-transformed).
    #[arg(long)]
    mtx: Option<PathBuf>,
    /// Score `.raw` of the h5ad file.
    #[arg(long)]
    use_raw: bool,
    /// The matrix holds counts: normalise (10,000 per cell) and log1p first (MTX always does).
    #[arg(long)]
    counts: bool,
    /// Genes, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    genes: Vec<String>,
    /// Control genes per expression bin.
    #[arg(long, default_value_t = 50)]
    ctrl_size: usize,
    /// Expression bins.
    #[arg(long, default_value_t = 25)]
    n_bins: usize,
    /// Seed of the control draw.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output TSV (one score per line).
    #[arg(long)]
    out: PathBuf,
}

/// Reads the expression (TSV, CSV or Parquet, by the extension), as the bulk biology stage does.
fn read_expression(path: &Path, scale: &str) -> Result<Expression> {
    Ok(tacefusion_worker::stages::biology::read_expression(path, Scale::from_name(scale)?)?)
}

/// The sets to score: matched, sized, and what was left out said on stderr.
fn sets(args: &SetArgs, expr: &Expression) -> Result<Vec<MatchedSet>> {
    let all = match_sets(&read_gmt(&args.gmt)?, &expr.genes);
    let mut kept = Vec::new();
    for s in all {
        let n = s.indices.len();
        let absent = if s.unmatched.is_empty() { String::new() } else { format!(", {} absent from the data", s.unmatched.len()) };
        if !s.within(args.min_size, args.max_size, expr.genes.len()) {
            eprintln!(
                "omics: {}: left out, {n} genes in the data{absent} (sizes {}..={} are scored)",
                s.name, args.min_size, args.max_size
            );
        } else {
            if !absent.is_empty() {
                eprintln!("omics: {}: {n} genes in the data{absent}", s.name);
            }
            kept.push(s);
        }
    }
    if kept.is_empty() {
        bail!("{}: no gene set has between {} and {} genes in {}", args.gmt.display(), args.min_size, args.max_size, args.expr.display());
    }
    Ok(kept)
}

fn write_scores(scores: &SetScores, out: &PathBuf) -> Result<()> {
    let mut text = String::from("set");
    scores.samples.iter().for_each(|s| write!(text, "\t{s}").expect("string"));
    text.push('\n');
    for (k, set) in scores.sets.iter().enumerate() {
        text.push_str(set);
        (0..scores.samples.len()).for_each(|j| write!(text, "\t{}", scores.get(k, j)).expect("string"));
        text.push('\n');
    }
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))
}

/// Runs an omics command.
pub fn run(command: OmicsCommand) -> Result<()> {
    match command {
        OmicsCommand::Ssgsea(SsgseaArgs { sets: args, weight, normalize }) => {
            let expr = read_expression(&args.expr, &args.scale)?;
            let scores = ssgsea(&expr, &sets(&args, &expr)?, weight)?;
            write_scores(&if normalize { scores.normalized_by_range() } else { scores }, &args.out)
        }
        OmicsCommand::Gsva(args) => {
            let expr = read_expression(&args.expr, &args.scale)?;
            write_scores(&gsva(&expr, &sets(&args, &expr)?)?, &args.out)
        }
        OmicsCommand::ScoreGenes(args) => {
            let options = ScoreGenesOptions { ctrl_size: args.ctrl_size, n_bins: args.n_bins, seed: args.seed, ..Default::default() };
            let scored = match (&args.h5ad, &args.mtx) {
                (Some(path), None) => {
                    let file = H5ad::open(path)?;
                    let cells = file.cells(args.use_raw)?;
                    if args.counts {
                        score_genes(&Normalized { source: cells, target_sum: 1e4 }, &args.genes, &options)?
                    } else {
                        score_genes(&cells, &args.genes, &options)?
                    }
                }
                (None, Some(dir)) => {
                    let m = Mtx::read(dir)?;
                    let n = m.matrix.n_cells();
                    let s = score_genes(&Normalized { source: m.matrix, target_sum: 1e4 }, &args.genes, &options)?;
                    debug_assert_eq!(s.scores.len(), n);
                    s
                }
                _ => bail!("give --h5ad FILE or --mtx DIR"),
            };
            if !scored.absent.is_empty() {
                eprintln!("omics: genes not in the data, left out: {}", scored.absent.join(","));
            }
            eprintln!("omics: {} genes scored against {} control genes", scored.used.len(), scored.control.len());
            let text: String = scored.scores.iter().map(|s| format!("{s}\n")).collect();
            std::fs::write(&args.out, text).with_context(|| format!("writing {}", args.out.display()))
        }
    }
}
