//! `tacefusion`: the command line of the tacefusion study system.
//!
//! Today it offers `stats` (survival statistics on a CSV file), `synth` (the synthetic study),
//! `radiomics` (features of an image and mask, or the radiomics stage of a whole study) and the
//! cluster (`run`, `coordinator`, `worker`, `submit`, `status`, `cancel`, `query`); `demo` and
//! `report` arrive with their issues.

mod cluster;
mod input;
mod jobs;
mod radiomics;
mod radiomics_study;
mod stats;
mod synth;

use clap::{Parser, Subcommand};

/// Multimodal survival models for HCC treated by TACE.
#[derive(Debug, Parser)]
#[command(name = "tacefusion", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Survival statistics on a CSV file (Cox, Kaplan-Meier, log-rank, C-index).
    #[command(subcommand)]
    Stats(stats::StatsCommand),
    /// Write the synthetic multi-centre study (study.toml, clinical tables, CT, omics, truth).
    Synth(synth::SynthArgs),
    /// Radiomic features of an image and mask, named as pyradiomics names them.
    Radiomics(radiomics::RadiomicsArgs),
    /// Run a study on a coordinator and N workers in this process (gRPC over loopback).
    Run(cluster::RunArgs),
    /// Serve the coordinator (planner, scheduler, durable state, results).
    Coordinator(cluster::CoordinatorArgs),
    /// Pull and run tasks from a coordinator.
    Worker(cluster::WorkerArgs),
    /// Submit a study to a coordinator; prints the job id.
    Submit(jobs::SubmitArgs),
    /// Status of a job.
    Status(jobs::StatusArgs),
    /// Cancel a job.
    Cancel(jobs::CancelArgs),
    /// SQL over the results of a job (DataFusion over its Parquet tables).
    Query(jobs::QueryArgs),
}

/// Runs an async command on a multi-threaded runtime, with logs (RUST_LOG) on stderr.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .try_init();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(f)
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
        Command::Synth(args) => synth::run(args),
        Command::Radiomics(args) => radiomics::run(args),
        Command::Run(args) => block_on(cluster::run(args)),
        Command::Coordinator(args) => block_on(cluster::coordinator(args)),
        Command::Worker(args) => block_on(cluster::worker(args)),
        Command::Submit(args) => block_on(jobs::submit(args)),
        Command::Status(args) => block_on(jobs::status(args)),
        Command::Cancel(args) => block_on(jobs::cancel(args)),
        Command::Query(args) => block_on(jobs::query(args)),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
