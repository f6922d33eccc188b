//! The client commands: `submit`, `status`, `cancel` (gRPC to a coordinator) and `query` (SQL over
//! a results folder with DataFusion, no coordinator needed).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tacefusion_coordinator::results::{job_index, session};
use tacefusion_proto::store::{local_path, open_store};
use tacefusion_proto::v1 as pb;

use crate::cluster::{CoordinatorAddress, follow, submit_file};
use crate::progress::bars;

/// Arguments of `tacefusion submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The study file.
    study: PathBuf,
    /// Validate this model bundle (a file the coordinator and workers can read) on the study's
    /// cohorts instead of training.
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    address: CoordinatorAddress,
}

/// Arguments of `tacefusion status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The job id.
    job: String,
    #[command(flatten)]
    address: CoordinatorAddress,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    /// Follow the job until it ends.
    #[arg(long)]
    watch: bool,
}

/// Arguments of `tacefusion cancel`.
#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job id.
    job: String,
    #[command(flatten)]
    address: CoordinatorAddress,
}

/// Arguments of `tacefusion query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The results: the `--out` folder of `run`, or the `--store` URL of a coordinator.
    #[arg(long)]
    results: String,
    /// The job whose results to read (default: the latest finished one).
    #[arg(long)]
    job: Option<String>,
    /// The SQL query over the result tables (patients, exclusions, radiomic_features, predictions,
    /// metrics, km_curves, calibration, decision_curves, model_coefficients, nomogram, ...; every
    /// table is listed in docs/user-guide.md).
    sql: String,
    /// Print JSON rows.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV.
    #[arg(long)]
    csv: bool,
}

fn state_name(state: i32) -> String {
    pb::JobState::try_from(state).map(|s| s.as_str_name().to_lowercase()).unwrap_or_else(|_| format!("state {state}"))
}

fn status_json(s: &pb::JobStatus) -> serde_json::Value {
    serde_json::json!({
        "job_id": s.job_id,
        "state": state_name(s.state),
        "message": s.message,
        "attempts": s.attempts,
        "stages": s.stages.iter().map(|p| serde_json::json!({
            "stage": p.stage, "total": p.total, "committed": p.committed, "running": p.running, "failed": p.failed,
        })).collect::<Vec<_>>(),
        "failed": s.failed.iter().map(|f| serde_json::json!({ "task_id": f.task_id, "stage": f.stage, "reason": f.reason })).collect::<Vec<_>>(),
    })
}

/// Runs `submit`: prints the job id.
pub async fn submit(args: SubmitArgs) -> Result<()> {
    let mut client = args.address.client().await?;
    let r = submit_file(&mut client, &args.study, args.model.as_deref()).await?;
    eprintln!("{} tasks, {} already committed", r.tasks, r.already_committed);
    println!("{}", r.job_id);
    Ok(())
}

/// Runs `status`.
pub async fn status(args: StatusArgs) -> Result<()> {
    let mut client = args.address.client().await?;
    let s = if args.watch {
        follow(&mut client, &args.job).await?
    } else {
        client.get_job(pb::GetJobRequest { job_id: args.job.clone() }).await.map_err(|s| anyhow::anyhow!("{}", s.message()))?.into_inner()
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status_json(&s))?);
    } else {
        println!("{} {}", s.job_id, state_name(s.state));
        for line in bars(&s) {
            println!("  {line}");
        }
        for f in &s.failed {
            println!("  failed {}: {}", f.task_id, f.reason);
        }
        if !s.message.is_empty() {
            println!("  {}", s.message);
        }
    }
    Ok(())
}

/// Runs `cancel`.
pub async fn cancel(args: CancelArgs) -> Result<()> {
    let mut client = args.address.client().await?;
    let s =
        client.cancel_job(pb::CancelJobRequest { job_id: args.job }).await.map_err(|s| anyhow::anyhow!("{}", s.message()))?.into_inner();
    println!("{} {}", s.job_id, state_name(s.state));
    Ok(())
}

/// Runs `query`.
pub async fn query(args: QueryArgs) -> Result<()> {
    if let Some(folder) = local_path(&args.results) {
        anyhow::ensure!(std::path::Path::new(folder).is_dir(), "{}: no such results folder", args.results);
    }
    let opened = open_store(&args.results)?;
    let index = job_index(opened.store.as_ref(), args.job.as_deref()).await?;
    let (bucket, prefix) = opened.bucket;
    let ctx = session(bucket, &prefix, &index).await?;
    // queries only: no COPY or INSERT (a file written where the query runs), no CREATE, no SET
    let read_only = datafusion::prelude::SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
    let batches = ctx.sql_with_options(&args.sql, read_only).await?.collect().await?;
    let mut out = Vec::new();
    if args.json {
        let mut writer = datafusion::arrow::json::ArrayWriter::new(&mut out);
        for b in &batches {
            writer.write(b)?;
        }
        writer.finish()?;
        out.push(b'\n');
    } else if args.csv {
        let mut writer = datafusion::arrow::csv::Writer::new(&mut out);
        for b in &batches {
            writer.write(b)?;
        }
    } else {
        out = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string().into_bytes();
        out.push(b'\n');
    }
    use std::io::Write as _;
    std::io::stdout().write_all(&out)?;
    Ok(())
}
