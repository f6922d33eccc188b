//! `tacefusion synth`: writes the synthetic study and says where it is.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use tacefusion_synth::{Preset, SynthOptions, default_gene_sets, generate};

/// Arguments of `tacefusion synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// `paper` (1349 TACE patients, the study's size) or `small` (about 150, for tests).
    #[arg(long, default_value = "paper")]
    preset: Preset,
    /// Master seed: the same preset and seed give byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Defective records of each kind to plant (listed in truth/defects.csv).
    #[arg(long, default_value_t = 1)]
    defects_per_kind: usize,
    /// Hallmark gene sets (GMT).
    #[arg(long)]
    gene_sets: Option<PathBuf>,
}

/// The gene sets asked for, or the default ones; a file that is not there is an error that says
/// what to do.
pub(crate) fn gene_sets(asked: Option<PathBuf>) -> Result<PathBuf> {
    let path = asked.unwrap_or_else(default_gene_sets);
    if !path.is_file() {
        bail!(
            "the Hallmark gene sets (GMT) are not at {}: run from the repository root (beside ../shared/data) or pass --gene-sets FILE",
            path.display()
        );
    }
    Ok(path)
}

/// Runs `synth`.
pub fn run(args: SynthArgs) -> Result<()> {
    let start = Instant::now();
    let gene_sets = gene_sets(args.gene_sets)?;
    let options =
        SynthOptions { preset: args.preset, seed: args.seed, out: args.out.clone(), defects_per_kind: args.defects_per_kind, gene_sets };
    let summary = generate(&options, &|line| eprintln!("synth: {line}"))
        .with_context(|| format!("writing the synthetic study to {}", args.out.display()))?;
    let rows: Vec<String> = summary.cohorts.iter().map(|(c, n)| format!("{c} {n}")).collect();
    println!("{}", summary.study_file.display());
    eprintln!(
        "synth: done in {:.1} s: {} ({} CT volumes, {} cells x {} genes, {} planted defects; truth in {})",
        start.elapsed().as_secs_f64(),
        rows.join(", "),
        summary.volumes,
        summary.cells,
        summary.genes,
        summary.defects,
        args.out.join("truth").display()
    );
    Ok(())
}
