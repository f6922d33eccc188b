//! Committing a finished attempt: the lease check, the files' sizes, the manifest created if absent
//! (`PutMode::Create`), the scheduler's state saved; on a Tokio task of its own, so that a caller who
//! hangs up mid-call cannot leave the task frozen in `Committing`.

use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tacefusion_proto::v1 as pb;
use tonic::Status;
use tracing::Instrument;

use crate::service::{CoordinatorService, committed_manifest, now_ms, split_id};
use crate::task::{Manifest, OutputFile, attempt_dir, manifest_path};

/// How long a completion sent again waits for the same attempt's first one, still committing.
const COMMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

impl CoordinatorService {
    /// Commits one finished attempt (a CompleteTask call, or one carried by a LeaseTasks call), in a
    /// `commit` span that is the child of the attempt's task span when the worker sent its context
    /// (without one, a debug span: not exported, as the calls without context). The commit runs on
    /// its own Tokio task: once begun it ends (committed or put back) even when the caller goes away
    /// mid-call, which would otherwise drop it and leave the task frozen in `Committing`.
    pub(crate) async fn complete(&self, r: pb::CompleteTaskRequest) -> Result<pb::CompleteTaskResponse, Status> {
        let span = if r.traceparent.is_empty() {
            tracing::debug_span!("commit", task = %r.task_id, attempt = r.attempt)
        } else {
            let span = tracing::info_span!("commit", task = %r.task_id, attempt = r.attempt);
            tacefusion_proto::trace::adopt_traceparent(&span, &r.traceparent);
            span
        };
        let service = self.clone();
        self.shared.detached(async move { service.complete_in_span(r).await }.instrument(span)).await
    }

    async fn complete_in_span(&self, r: pb::CompleteTaskRequest) -> Result<pb::CompleteTaskResponse, Status> {
        let (job, task) = split_id(&r.task_id)?;
        let deadline = tokio::time::Instant::now() + COMMIT_WAIT;
        // subscribed before the first look: a change after it wakes the wait below
        let mut changes = self.shared.changes.subscribe();
        let (i, stage, key) = loop {
            {
                let mut s = self.shared.scheduler.lock().expect("scheduler lock");
                let i = s.index(job, task).ok_or_else(|| Status::not_found(format!("unknown task {}", r.task_id)))?;
                if s.committed_by(i, &r.worker_id, r.attempt) {
                    // sent again: the first one committed it
                    return Ok(pb::CompleteTaskResponse { accepted: true, reason: "already committed by this attempt".into() });
                }
                // sent again while the first one still commits (its call was dropped): wait for it
                let first_still_committing = s.committing(i, &r.worker_id, r.attempt) && tokio::time::Instant::now() < deadline;
                if !first_still_committing {
                    if let Err(e) = s.begin_commit(i, &r.worker_id, r.attempt, now_ms()) {
                        self.shared.metrics.lock().expect("metrics lock").refused_commits += 1;
                        tracing::warn!(task = %r.task_id, worker = %r.worker_id, attempt = r.attempt, "commit refused: {e}");
                        return Ok(pb::CompleteTaskResponse { accepted: false, reason: e.to_string() });
                    }
                    let e = s.task(i);
                    break (i, e.task.stage.name().to_string(), e.task.key.clone());
                }
            }
            // the first commit's end is a state change
            let _ = tokio::time::timeout_at(deadline, changes.changed()).await;
        };
        let outcome = self.commit(&r, task, &stage, &key).await;
        if outcome.is_ok() {
            // counted before the job can end: a client that sees the job finished reads every commit
            self.shared.metrics.lock().expect("metrics lock").commits += 1;
        }
        let (ticket, ended) = {
            let mut s = self.shared.scheduler.lock().expect("scheduler lock");
            match &outcome {
                Ok(manifest) => s.finish_commit(i, manifest.clone()),
                Err(reason) => s.abort_commit(i, reason, now_ms()),
            }
            self.shared.persist(&mut s)
        };
        // already on a task of its own
        self.shared.end_jobs(ticket, ended).await?;
        match outcome {
            Ok(_) => Ok(pb::CompleteTaskResponse { accepted: true, reason: String::new() }),
            Err(reason) => Ok(pb::CompleteTaskResponse { accepted: false, reason }),
        }
    }

    /// Checks the files of a manifest and creates it in the store (first one wins).
    async fn commit(&self, r: &pb::CompleteTaskRequest, task: &str, stage: &str, key: &str) -> Result<Manifest, String> {
        let store = self.shared.store.as_ref();
        let dir = attempt_dir(stage, key, r.attempt);
        let sent = r.manifest.clone().unwrap_or_default();
        let mut files = Vec::with_capacity(sent.files.len());
        for f in &sent.files {
            if !f.path.starts_with(&format!("{dir}/")) {
                return Err(format!("output {} is outside the attempt's folder {dir}", f.path));
            }
            let meta = store.head(&StorePath::from(f.path.as_str())).await.map_err(|e| format!("output {}: {e}", f.path))?;
            if meta.size != f.bytes {
                return Err(format!("output {}: {} bytes in the store, {} in the manifest", f.path, meta.size, f.bytes));
            }
            files.push(OutputFile { path: f.path.clone(), bytes: f.bytes, sha256: f.sha256.clone() });
        }
        let manifest = Manifest {
            task_id: task.to_string(),
            stage: stage.into(),
            key: key.into(),
            attempt: r.attempt,
            worker: r.worker_id.clone(),
            files,
            committed_unix_ms: now_ms(),
        };
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
        let path = StorePath::from(manifest_path(stage, key));
        let opts = PutOptions { mode: PutMode::Create, ..Default::default() };
        match store.put_opts(&path, PutPayload::from(bytes), opts).await {
            Ok(_) => Ok(manifest),
            Err(object_store::Error::AlreadyExists { .. }) => {
                // another attempt (or an earlier job) committed this key first: its outputs stand
                committed_manifest(store, stage, key).await.ok_or_else(|| format!("{path} exists but cannot be read"))
            }
            Err(e) => Err(format!("creating {path}: {e}")),
        }
    }
}
