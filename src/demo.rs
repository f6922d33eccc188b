//! `tacefusion demo`: the whole study on the built-in synthetic cohort: writes the `paper` study,
//! runs it with an embedded coordinator and one worker per core, and writes the report.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use tacefusion_synth::{Preset, SynthOptions, generate};

/// Arguments of `tacefusion demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the study, the results and the report go.
    #[arg(long, default_value = "tacefusion-demo")]
    out: PathBuf,
    /// Seed of the synthetic study.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Workers (default: one per core).
    #[arg(long)]
    workers: Option<u32>,
    /// Hallmark gene sets (GMT; default: the reference data beside the repository).
    #[arg(long)]
    gene_sets: Option<PathBuf>,
}

/// Runs `demo`.
pub async fn demo(args: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let study_dir = args.out.join("study");
    let results = args.out.join("results");
    let report = args.out.join("report.html");
    let study_file = study_dir.join("study.toml");
    if study_file.exists() {
        eprintln!("demo: the study is already in {} (delete the folder to write it again)", study_dir.display());
    } else {
        eprintln!("demo: writing the synthetic `paper` study (seed {}) to {}", args.seed, study_dir.display());
        let options = SynthOptions {
            preset: Preset::Paper,
            seed: args.seed,
            out: study_dir.clone(),
            defects_per_kind: 1,
            gene_sets: crate::synth::gene_sets(args.gene_sets.clone())?,
        };
        tokio::task::spawn_blocking(move || generate(&options, &|line| eprintln!("synth: {line}")))
            .await?
            .with_context(|| format!("writing the synthetic study to {}", study_dir.display()))?;
    }
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32));
    eprintln!("demo: running it with {workers} workers (results in {})", results.display());
    crate::cluster::run_job(&study_file, workers, &results, None).await?;
    let results_url = results.to_string_lossy().into_owned();
    crate::report::write_report(&results_url, None, Some(&study_file), &report).await?;
    eprintln!("demo: done in {:.1} min", start.elapsed().as_secs_f64() / 60.0);
    eprintln!("demo: results: tacefusion query --results {} \"SELECT * FROM metrics\"", results.display());
    println!("{}", report.display());
    eprintln!("demo: report: {} (open it in a browser)", report.display());
    Ok(())
}
