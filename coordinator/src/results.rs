//! Results: when a job ends, its index `jobs/<job>/job.json` lists, per table, the Parquet files of
//! its committed manifests (a file `patients.parquet` belongs to table `patients`), and the failed
//! tasks are written as `jobs/<job>/failures/exclusions.parquet`, so that `exclusions` lists both the
//! rows ingest excluded and the tasks that failed on bad input. `session` registers those files as
//! DataFusion tables; only files a manifest lists are ever read.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::prelude::SessionContext;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use crate::scheduler::{JobEntry, JobState, TaskEntry, TaskStatus};

/// Columns of the `exclusions` table (all text), shared with the ingest executor.
pub const EXCLUSION_COLUMNS: [&str; 7] = ["cohort", "patient_id", "stage", "file", "field", "kind", "reason"];

/// Why results could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The object store failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// DataFusion failed.
    #[error("query engine: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow or Parquet failed.
    #[error("writing Parquet: {0}")]
    Parquet(String),
    /// No finished job in the results folder.
    #[error("{0}")]
    NoJob(String),
    /// A job index is unreadable.
    #[error("{path}: {detail}")]
    Index {
        /// Its path.
        path: String,
        /// Why.
        detail: String,
    },
}

/// The index of a job's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobIndex {
    /// Job id.
    pub job_id: String,
    /// Study name.
    pub study: String,
    /// Final state.
    pub state: JobState,
    /// Why it failed or was cancelled.
    pub message: String,
    /// Table name -> Parquet files (object-store paths), in plan order.
    pub tables: BTreeMap<String, Vec<String>>,
    /// What ran, per stage in pipeline order (indexes written before it was kept have none).
    #[serde(default)]
    pub stages: Vec<StageFacts>,
}

/// The run facts of one stage of a job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageFacts {
    /// Stage name.
    pub stage: String,
    /// Its tasks in the job.
    pub tasks: u64,
    /// Committed (by this job or found committed by an earlier one).
    pub committed: u64,
    /// Failed (listed in `exclusions`).
    pub failed: u64,
    /// Attempts that failed retryably or lost their lease.
    pub retries: u64,
    /// First and last commit of its tasks (Unix ms; 0 when unknown): its wall time is the span.
    pub first_commit_unix_ms: u64,
    /// See `first_commit_unix_ms`.
    pub last_commit_unix_ms: u64,
}

/// The `exclusions` schema.
pub fn exclusion_schema() -> Arc<Schema> {
    Arc::new(Schema::new(EXCLUSION_COLUMNS.iter().map(|c| Field::new(*c, DataType::Utf8, false)).collect::<Vec<_>>()))
}

fn spec_text(e: &TaskEntry, field: &str) -> String {
    let spec: serde_json::Value = serde_json::from_str(&e.task.spec).unwrap_or_default();
    spec.get(field).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default()
}

/// The spec's `files` list (the inputs of a task that reads several), space-separated.
fn spec_files(e: &TaskEntry) -> String {
    let spec: serde_json::Value = serde_json::from_str(&e.task.spec).unwrap_or_default();
    spec.get("files")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|f| f.as_str()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Writes a job's failures and index (overwriting an earlier index of the same job).
pub async fn finalize_job(store: &dyn ObjectStore, job: &JobEntry, tasks: &[TaskEntry]) -> Result<JobIndex, ResultsError> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures: Vec<[String; 7]> = Vec::new();
    let mut facts: BTreeMap<crate::task::Stage, StageFacts> = BTreeMap::new();
    for e in tasks {
        let f = facts.entry(e.task.stage).or_insert_with(|| StageFacts { stage: e.task.stage.name().into(), ..Default::default() });
        f.tasks += 1;
        f.retries += e.failures as u64;
        match &e.status {
            TaskStatus::Committed => f.committed += 1,
            TaskStatus::Failed { .. } => f.failed += 1,
            _ => {}
        }
        // the span of this job's own commits (a task found committed by an earlier job was never
        // leased here: attempt 0)
        if let Some(at) = e.manifest.as_ref().filter(|_| e.attempt > 0).map(|m| m.committed_unix_ms).filter(|&t| t > 0) {
            f.first_commit_unix_ms = if f.first_commit_unix_ms == 0 { at } else { f.first_commit_unix_ms.min(at) };
            f.last_commit_unix_ms = f.last_commit_unix_ms.max(at);
        }
        match (&e.status, &e.manifest) {
            (TaskStatus::Committed, Some(m)) => {
                for f in &m.files {
                    let name = f.path.rsplit('/').next().unwrap_or(&f.path);
                    if let Some(table) = name.strip_suffix(".parquet") {
                        tables.entry(table.to_string()).or_default().push(f.path.clone());
                    }
                }
            }
            (TaskStatus::Failed { reason }, _) => {
                let file = [spec_text(e, "image"), spec_text(e, "mask"), spec_text(e, "clinical"), spec_files(e)]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                failures.push([
                    spec_text(e, "cohort"),
                    spec_text(e, "patient_id"),
                    e.task.stage.name().to_string(),
                    file,
                    spec_text(e, "phase"),
                    "task_failed".into(),
                    reason.clone(),
                ]);
            }
            _ => {}
        }
    }
    if !failures.is_empty() {
        let columns: Vec<ArrayRef> =
            (0..7).map(|c| Arc::new(StringArray::from(failures.iter().map(|r| r[c].as_str()).collect::<Vec<_>>())) as ArrayRef).collect();
        let batch = RecordBatch::try_new(exclusion_schema(), columns).map_err(|e| ResultsError::Parquet(e.to_string()))?;
        let mut bytes = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut bytes, exclusion_schema(), None).map_err(|e| ResultsError::Parquet(e.to_string()))?;
        writer.write(&batch).map_err(|e| ResultsError::Parquet(e.to_string()))?;
        writer.close().map_err(|e| ResultsError::Parquet(e.to_string()))?;
        let path = format!("jobs/{}/failures/exclusions.parquet", job.id);
        store.put(&StorePath::from(path.as_str()), PutPayload::from(bytes)).await?;
        tables.entry("exclusions".into()).or_default().push(path);
    }
    let index = JobIndex {
        job_id: job.id.clone(),
        study: job.study.clone(),
        state: job.state,
        message: job.message.clone(),
        tables,
        stages: facts.into_values().collect(),
    };
    let bytes = serde_json::to_vec_pretty(&index).map_err(|e| ResultsError::Parquet(e.to_string()))?;
    store.put(&StorePath::from(format!("jobs/{}/job.json", job.id)), PutPayload::from(bytes)).await?;
    Ok(index)
}

/// Whether job `job` has a result index in `store` (a store error counts as "no": the index is
/// then written again, and that write reports the error).
pub async fn has_index(store: &dyn ObjectStore, job: &str) -> bool {
    store.head(&StorePath::from(format!("jobs/{job}/job.json"))).await.is_ok()
}

/// The index of job `job`, or of the latest finished job in `store` (job ids are zero-padded, so
/// the latest sorts last).
pub async fn job_index(store: &dyn ObjectStore, job: Option<&str>) -> Result<JobIndex, ResultsError> {
    // Ok(None): the job has no index (yet: it is still running)
    let read = async |id: &str| -> Result<Option<JobIndex>, ResultsError> {
        let path = format!("jobs/{id}/job.json");
        let index_err = |detail: String| ResultsError::Index { path: path.clone(), detail };
        let bytes = match store.get(&StorePath::from(path.as_str())).await {
            Ok(found) => found.bytes().await?,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(index_err(e.to_string())),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| index_err(e.to_string()))
    };
    if let Some(id) = job {
        return read(id).await?.ok_or_else(|| ResultsError::NoJob(format!("job {id} has no results (unknown, or not finished)")));
    }
    let listing = store.list_with_delimiter(Some(&StorePath::from("jobs"))).await?;
    let mut ids: Vec<String> = listing.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect();
    ids.sort();
    while let Some(id) = ids.pop() {
        if let Some(index) = read(&id).await? {
            return Ok(index);
        }
    }
    Err(ResultsError::NoJob("no finished job in these results".into()))
}

/// A DataFusion session with the tables of a job's index, read from the files under `prefix` in
/// `bucket` (any kind of store: local, S3, GCS, Azure), registered under a URL of its own.
/// `exclusions` always exists (empty when nothing was excluded).
pub async fn session(bucket: Arc<dyn ObjectStore>, prefix: &str, index: &JobIndex) -> Result<SessionContext, ResultsError> {
    const BASE: &str = "tacefusion-results://store/";
    let ctx = SessionContext::new();
    let base = url::Url::parse(BASE).map_err(|e| ResultsError::NoJob(e.to_string()))?;
    ctx.register_object_store(&base, bucket);
    let prefix = if prefix.is_empty() { String::new() } else { format!("{}/", prefix.trim_end_matches('/')) };
    for (name, files) in &index.tables {
        let urls = files.iter().map(|f| ListingTableUrl::parse(format!("{BASE}{prefix}{f}"))).collect::<Result<Vec<_>, _>>()?;
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls).with_listing_options(options).infer_schema(&ctx.state()).await?;
        ctx.register_table(name.as_str(), Arc::new(ListingTable::try_new(config)?))?;
    }
    if !index.tables.contains_key("exclusions") {
        let empty = MemTable::try_new(exclusion_schema(), vec![vec![]])?;
        ctx.register_table("exclusions", Arc::new(empty))?;
    }
    Ok(ctx)
}
