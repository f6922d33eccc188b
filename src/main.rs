//! `tacefusion`: the command line of the tacefusion study system.
//!
//! Today it offers `stats`, survival statistics on a CSV file; the study commands (`demo`, `synth`,
//! `run`, `coordinator`, `worker`, `submit`, ...) arrive with their issues.

mod input;
mod stats;

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
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stats(cmd) => stats::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
