//! `tacefusion`: the command line of the tacefusion study system.
//!
//! Today it offers `stats` (survival statistics on a CSV file), `synth` (the synthetic study),
//! `radiomics` (features of an image and mask, or the radiomics stage of a whole study), `omics`
//! (ssGSEA, GSVA and score_genes) and the
//! cluster (`run`, `coordinator`, `worker`, `submit`, `status`, `cancel`, `query`); `demo` and
//! `report` arrive with their issues.

mod cluster;
mod demo;
mod input;
mod jobs;
mod omics;
mod progress;
mod radiomics;
mod radiomics_study;
mod report;
mod stats;
mod synth;
mod telemetry;

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
    /// Pathway and gene-set scores: ssGSEA and GSVA of bulk expression, score_genes of single cells.
    #[command(subcommand)]
    Omics(omics::OmicsCommand),
    /// Run a study on a coordinator and N workers in this process (gRPC over loopback).
    Run(cluster::RunArgs),
    /// Score a new site's cohorts with a trained study's model bundle, unchanged, and evaluate them.
    Validate(cluster::ValidateArgs),
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
    /// The study report of a job: one self-contained HTML file (tables and figures).
    Report(report::ReportArgs),
    /// The whole study on the built-in synthetic cohort: writes it, runs it, writes the report.
    Demo(demo::DemoArgs),
}

/// Runs an async command on a multi-threaded runtime, with logs (RUST_LOG) on stderr and traces
/// exported as the `service` when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
fn block_on<F: std::future::Future<Output = anyhow::Result<()>>>(service: &str, f: F) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let telemetry = runtime.block_on(async { telemetry::init(service) })?;
    let result = runtime.block_on(f);
    // the runtime still runs: the exporter's connection needs it
    telemetry.shutdown();
    result
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
        Command::Synth(args) => synth::run(args),
        Command::Radiomics(args) => radiomics::run(args),
        Command::Omics(cmd) => omics::run(cmd),
        Command::Run(args) => block_on("tacefusion-run", cluster::run(args)),
        Command::Validate(args) => block_on("tacefusion-validate", cluster::validate(args)),
        Command::Coordinator(args) => block_on("tacefusion-coordinator", cluster::coordinator(args)),
        Command::Worker(args) => block_on("tacefusion-worker", cluster::worker(args)),
        Command::Submit(args) => block_on("tacefusion-client", jobs::submit(args)),
        Command::Status(args) => block_on("tacefusion-client", jobs::status(args)),
        Command::Cancel(args) => block_on("tacefusion-client", jobs::cancel(args)),
        Command::Query(args) => block_on("tacefusion-client", jobs::query(args)),
        Command::Report(args) => block_on("tacefusion-client", report::report(args)),
        Command::Demo(args) => block_on("tacefusion-run", demo::demo(args)),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
