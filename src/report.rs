//! `tacefusion report`: a job's results as one self-contained HTML file (`shared/report` draws it;
//! this file runs its queries with DataFusion over the committed Parquet).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use datafusion::arrow::array::{Array, Float64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use tacefusion_coordinator::results::{job_index, session};
use tacefusion_proto::store::{local_path, open_store};
use tacefusion_report::{Cell, Frame, RunFacts, Source, render};

/// Arguments of `tacefusion report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results: the `--out` folder of `run`, or the `--store` URL of a coordinator.
    #[arg(long)]
    results: String,
    /// The job to report (default: the latest finished one).
    #[arg(long)]
    job: Option<String>,
    /// The study file: its settings go into the report, and a synthetic study's planted truth
    /// (`truth/effects.json` beside it) is shown next to the findings.
    #[arg(long)]
    study: Option<PathBuf>,
    /// The HTML file to write.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `report`.
pub async fn report(args: ReportArgs) -> Result<()> {
    write_report(&args.results, args.job.as_deref(), args.study.as_deref(), &args.out).await?;
    println!("{}", args.out.display());
    Ok(())
}

/// Writes the report of `job` (the latest when None) of `results` to `out`.
pub async fn write_report(results: &str, job: Option<&str>, study: Option<&Path>, out: &Path) -> Result<()> {
    if let Some(folder) = local_path(results) {
        anyhow::ensure!(Path::new(folder).is_dir(), "{results}: no such results folder");
    }
    let opened = open_store(results)?;
    let index = job_index(opened.store.as_ref(), job).await?;
    let (bucket, prefix) = opened.bucket;
    let ctx = session(bucket, &prefix, &index).await?;
    let mut facts = RunFacts {
        version: env!("CARGO_PKG_VERSION").into(),
        job: index.job_id.clone(),
        study: index.study.clone(),
        state: format!("{:?}", index.state) + &if index.message.is_empty() { String::new() } else { format!(": {}", index.message) },
        study_toml: None,
        stages: index
            .stages
            .iter()
            .map(|s| {
                let wall =
                    if s.first_commit_unix_ms > 0 { (s.last_commit_unix_ms - s.first_commit_unix_ms) as f64 / 1000.0 } else { f64::NAN };
                (s.stage.clone(), s.tasks, s.committed, s.failed, s.retries, wall)
            })
            .collect(),
        planted: None,
    };
    if let Some(study) = study {
        facts.study_toml = Some(std::fs::read_to_string(study).with_context(|| format!("reading {}", study.display()))?);
        let truth = study.parent().unwrap_or(Path::new(".")).join("truth/effects.json");
        if let Ok(text) = std::fs::read_to_string(&truth) {
            facts.planted = Some(serde_json::from_str(&text).with_context(|| format!("reading {}", truth.display()))?);
        }
    }
    let handle = tokio::runtime::Handle::current();
    // the report reads rows synchronously: its queries run on this runtime from a blocking thread
    let html = tokio::task::spawn_blocking(move || render(&Queries { ctx, handle }, &facts)).await?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(out, html).with_context(|| format!("writing {}", out.display()))
}

/// DataFusion over the job's tables.
struct Queries {
    ctx: SessionContext,
    handle: tokio::runtime::Handle,
}

impl Source for Queries {
    fn query(&self, sql: &str) -> Result<Frame, String> {
        let batches = self.handle.block_on(async {
            let df = self.ctx.sql(sql).await.map_err(|e| e.to_string())?;
            df.collect().await.map_err(|e| e.to_string())
        })?;
        frame(&batches).map_err(|e| e.to_string())
    }
}

/// Rows of record batches: numbers as numbers, everything else as text.
fn frame(batches: &[RecordBatch]) -> Result<Frame, datafusion::arrow::error::ArrowError> {
    let mut f = Frame::default();
    for b in batches {
        if f.columns.is_empty() {
            f.columns = b.schema().fields().iter().map(|x| x.name().clone()).collect();
        }
        let columns: Vec<Box<dyn Fn(usize) -> Cell>> = b
            .columns()
            .iter()
            .map(|c| -> Result<Box<dyn Fn(usize) -> Cell>, datafusion::arrow::error::ArrowError> {
                if c.data_type().is_numeric() {
                    let v = cast(c, &DataType::Float64)?;
                    let v = v.as_any().downcast_ref::<Float64Array>().expect("cast to Float64").clone();
                    Ok(Box::new(move |r| if v.is_null(r) { Cell::Null } else { Cell::Num(v.value(r)) }))
                } else {
                    let v = cast(c, &DataType::Utf8)?;
                    let v = v.as_any().downcast_ref::<StringArray>().expect("cast to Utf8").clone();
                    Ok(Box::new(move |r| if v.is_null(r) { Cell::Null } else { Cell::Text(v.value(r).to_string()) }))
                }
            })
            .collect::<Result<_, _>>()?;
        for r in 0..b.num_rows() {
            f.rows.push(columns.iter().map(|c| c(r)).collect());
        }
    }
    Ok(f)
}
