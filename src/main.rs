//! `tacefusion`: the command line of the tacefusion study system.
//!
//! Today it offers `stats` (survival statistics on a CSV file), `synth` (the synthetic study) and
//! `radiomics` (features of an image and mask, or the radiomics stage of a whole study); the other study commands (`demo`, `run`, `coordinator`, `worker`, `submit`, ...) arrive with their issues.

mod input;
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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
        Command::Synth(args) => synth::run(args),
        Command::Radiomics(args) => radiomics::run(args),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
