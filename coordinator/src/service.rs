//! The gRPC service: the protocol of `proto/tacefusion.proto` over the scheduler, the durable state
//! and the object store. Errors are mapped to status codes here, once: a protocol mismatch is
//! FAILED_PRECONDITION, an unknown job or task NOT_FOUND, a refused lease FAILED_PRECONDITION, a bad
//! study INVALID_ARGUMENT, a store or state failure UNAVAILABLE / INTERNAL.
//!
//! Commit: the worker writes its files under `cache/<stage>/<key>/attempt-<n>/` and sends the
//! manifest; the coordinator checks that the caller holds the current lease (and freezes the task),
//! checks the files, and creates `cache/<stage>/<key>/manifest.json` with a create-if-absent put. The
//! first manifest wins; an attempt whose lease was lost is refused and its files are never listed,
//! so never read (`commit.rs`). Finished attempts usually arrive inside the worker's next
//! LeaseTasks call and are committed before it is given new leases.

use std::collections::HashMap;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::{Stream, StreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tacefusion_core::Study;
use tacefusion_proto::PROTOCOL_VERSION;
use tacefusion_proto::v1 as pb;
use tacefusion_proto::v1::coordinator_server::Coordinator;
use tonic::{Request, Response, Status};

use crate::planner::{plan, plan_validation};
use crate::scheduler::{JobEntry, TaskStatus};
use crate::shared::Shared;
use crate::task::{FailureKind, Manifest, manifest_path};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct CoordinatorService {
    pub(crate) shared: Arc<Shared>,
}

impl CoordinatorService {
    /// A service over shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

fn global_id(job: &str, task: &str) -> String {
    format!("{job}/{task}")
}

/// (job, task id) of a global task id.
pub(crate) fn split_id(id: &str) -> Result<(&str, &str), Status> {
    id.split_once('/').ok_or_else(|| Status::invalid_argument(format!("task id {id:?} is not <job>/<task>")))
}

/// Object-store path of the record of a key that failed on bad input.
pub fn failure_path(stage: &str, key: &str) -> String {
    format!("cache/{stage}/{key}/failure.json")
}

/// The reason a key failed on bad input, if it did.
pub async fn known_failure(store: &dyn ObjectStore, stage: &str, key: &str) -> Option<String> {
    let bytes = store.get(&StorePath::from(failure_path(stage, key))).await.ok()?.bytes().await.ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("reason").and_then(|r| r.as_str()).map(str::to_string)
}

/// The answer to a worker the coordinator does not know (it restarted): register again.
fn unregistered(worker: &str) -> Status {
    Status::failed_precondition(format!("worker {worker} is not registered (register again)"))
}

/// Reads a committed manifest, if the key has one.
pub async fn committed_manifest(store: &dyn ObjectStore, stage: &str, key: &str) -> Option<Manifest> {
    let bytes = store.get(&StorePath::from(manifest_path(stage, key))).await.ok()?.bytes().await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::JobStatus, Status>> + Send>>;

#[tonic::async_trait]
impl Coordinator for CoordinatorService {
    async fn register_worker(&self, request: Request<pb::RegisterWorkerRequest>) -> Result<Response<pb::RegisterWorkerResponse>, Status> {
        let r = request.into_inner();
        if r.protocol_version != PROTOCOL_VERSION {
            return Err(Status::failed_precondition(format!(
                "protocol version mismatch: worker {} speaks {}, this coordinator speaks {PROTOCOL_VERSION}",
                r.worker_id, r.protocol_version
            )));
        }
        if r.worker_id.is_empty() {
            return Err(Status::invalid_argument("worker_id is empty"));
        }
        let lease_ms = {
            let mut s = self.shared.scheduler.lock().expect("scheduler lock");
            s.register(&r.worker_id, now_ms());
            s.config().lease_ms
        };
        let res = r.resources.unwrap_or_default();
        tracing::info!(worker = %r.worker_id, cpu_slots = res.cpu_slots, gpus = res.gpus, "worker registered");
        Ok(Response::new(pb::RegisterWorkerResponse {
            protocol_version: PROTOCOL_VERSION,
            heartbeat_interval_ms: (lease_ms / 4).max(1),
            lease_duration_ms: lease_ms,
            store_url: self.shared.store_url.clone(),
        }))
    }

    async fn lease_tasks(&self, request: Request<pb::LeaseTasksRequest>) -> Result<Response<pb::LeaseTasksResponse>, Status> {
        let started = std::time::Instant::now();
        let mut r = request.into_inner();
        if !self.shared.scheduler.lock().expect("scheduler lock").knows(&r.worker_id) {
            // before any completion is taken: the worker registers again and sends them again
            return Err(unregistered(&r.worker_id));
        }
        // the attempts the worker finished since its last call, committed side by side (their state
        // changes share the group commit) before their slots are leased again
        let worker = r.worker_id.clone();
        let completions = futures::future::join_all(std::mem::take(&mut r.completed).into_iter().map(|c| {
            let worker = &worker;
            async move {
                let task_id = c.task_id.clone();
                if c.worker_id != *worker {
                    let reason = format!("a completion of worker {} in a call of worker {worker}", c.worker_id);
                    return pb::CompleteTaskResponse { accepted: false, reason };
                }
                self.complete(c).await.unwrap_or_else(|status| {
                    tracing::warn!(task = %task_id, worker = %worker, "commit failed: {}", status.message());
                    pb::CompleteTaskResponse { accepted: false, reason: status.message().to_string() }
                })
            }
        }))
        .await;
        let (leases, ticket, ended) = self.grant(&r)?;
        if !ended.is_empty() {
            // leasing ends no job, but a job that ended must not stay unindexed (seen running)
            self.shared.settle(ticket, ended).await?;
        }
        if !leases.is_empty() {
            // the attempt numbers are saved before anyone writes into their folders
            self.shared.durable(ticket).await?;
            let mut m = self.shared.metrics.lock().expect("metrics lock");
            m.leases += leases.len() as u64;
            m.retries += leases.iter().filter(|l| l.attempt > 1).count() as u64;
            m.lease_latency.observe(started.elapsed().as_secs_f64());
        }
        Ok(Response::new(pb::LeaseTasksResponse { leases, drain: false, completions }))
    }

    async fn heartbeat(&self, request: Request<pb::HeartbeatRequest>) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let r = request.into_inner();
        let mut s = self.shared.scheduler.lock().expect("scheduler lock");
        if !s.knows(&r.worker_id) {
            return Ok(Response::new(pb::HeartbeatResponse { leases: vec![], drain: false, unknown_worker: true }));
        }
        let refs: Vec<(Option<usize>, u32)> =
            r.leases.iter().map(|l| (split_id(&l.task_id).ok().and_then(|(job, task)| s.index(job, task)), l.attempt)).collect();
        let known: Vec<(usize, u32)> = refs.iter().filter_map(|(i, a)| i.map(|i| (i, *a))).collect();
        let mut answers = s.heartbeat(&r.worker_id, &known, now_ms()).into_iter();
        let leases = r
            .leases
            .iter()
            .zip(&refs)
            .map(|(l, (i, _))| {
                let (valid, deadline) = if i.is_some() { answers.next().expect("one answer per known lease") } else { (false, 0) };
                pb::LeaseState { task_id: l.task_id.clone(), attempt: l.attempt, valid, deadline_unix_ms: deadline }
            })
            .collect();
        Ok(Response::new(pb::HeartbeatResponse { leases, drain: false, unknown_worker: false }))
    }

    async fn complete_task(&self, request: Request<pb::CompleteTaskRequest>) -> Result<Response<pb::CompleteTaskResponse>, Status> {
        self.complete(request.into_inner()).await.map(Response::new)
    }

    async fn fail_task(&self, request: Request<pb::FailTaskRequest>) -> Result<Response<pb::FailTaskResponse>, Status> {
        let r = request.into_inner();
        let (job, task) = split_id(&r.task_id)?;
        let kind = match pb::FailureKind::try_from(r.kind) {
            Ok(pb::FailureKind::BadInput) => FailureKind::BadInput,
            Ok(pb::FailureKind::GivenBack) => FailureKind::GivenBack,
            _ => FailureKind::Retryable,
        };
        let (ticket, ended, stage, key) = {
            let mut s = self.shared.scheduler.lock().expect("scheduler lock");
            let i = s.index(job, task).ok_or_else(|| Status::not_found(format!("unknown task {}", r.task_id)))?;
            s.fail(i, &r.worker_id, r.attempt, kind, &r.message, now_ms()).map_err(|e| Status::failed_precondition(e.to_string()))?;
            *self.shared.metrics.lock().expect("metrics lock").failures.entry(format!("{kind:?}")).or_default() += 1;
            let (ticket, ended) = self.shared.persist(&mut s);
            (ticket, ended, s.task(i).task.stage.name(), s.task(i).task.key.clone())
        };
        if kind == FailureKind::BadInput {
            // the same inputs fail the same way: a resubmission does not run the task again
            let record = serde_json::json!({ "task_id": r.task_id, "attempt": r.attempt, "reason": r.message });
            let path = StorePath::from(failure_path(stage, &key));
            if let Err(e) = self.shared.store.put(&path, PutPayload::from(record.to_string().into_bytes())).await {
                tracing::warn!(task = %r.task_id, "recording the failure: {e}");
            }
        }
        self.shared.settle(ticket, ended).await?;
        Ok(Response::new(pb::FailTaskResponse {}))
    }

    async fn submit_study(&self, request: Request<pb::SubmitStudyRequest>) -> Result<Response<pb::SubmitStudyResponse>, Status> {
        let r = request.into_inner();
        let path = PathBuf::from(&r.study_path);
        let study = Study::parse(&r.study_toml, &path).map_err(|e| Status::invalid_argument(e.to_string()))?;
        let shared = self.shared.clone();
        let bundle = (!r.model_bundle.is_empty()).then(|| PathBuf::from(&r.model_bundle));
        let (study, tasks) = tokio::task::spawn_blocking(move || {
            let mut digests = shared.digests.lock().expect("digest lock");
            match &bundle {
                Some(b) => plan_validation(&study, &path, &mut digests, b),
                None => plan(&study, &path, &mut digests),
            }
            .map(|t| (study, t))
        })
        .await
        .map_err(|e| Status::internal(e.to_string()))?
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
        // keys committed by earlier jobs, or by an earlier coordinator on the same store
        let store = self.shared.store.clone();
        let wanted: Vec<(crate::task::Stage, String)> = tasks.iter().map(|t| (t.stage, t.key.clone())).collect();
        let known: Vec<(String, Option<Manifest>, Option<String>)> = futures::stream::iter(wanted)
            .map(move |(stage, key)| {
                let store = store.clone();
                async move {
                    let manifest = committed_manifest(store.as_ref(), stage.name(), &key).await;
                    let failure = if manifest.is_none() { known_failure(store.as_ref(), stage.name(), &key).await } else { None };
                    (key, manifest, failure)
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
        let found: HashMap<String, Manifest> = known.iter().filter_map(|(k, m, _)| m.clone().map(|m| (k.clone(), m))).collect();
        let failed: HashMap<String, String> = known.into_iter().filter_map(|(k, _, f)| f.map(|f| (k, f))).collect();
        let number = self.shared.state.next_job_number().map_err(|e| Status::unavailable(e.to_string()))?;
        let id = format!("job-{number:06}");
        let n = tasks.len() as u32;
        let (ticket, ended) = {
            let mut s = self.shared.scheduler.lock().expect("scheduler lock");
            s.submit(&id, &study.study.name, tasks, |k| found.get(k).cloned(), |k| failed.get(k).cloned());
            s.set_traceparent(&id, tacefusion_proto::trace::traceparent(&tracing::Span::current()));
            self.shared.persist(&mut s)
        };
        self.shared.settle(ticket, ended).await?;
        tracing::info!(job = %id, tasks = n, already_committed = found.len(), "study submitted");
        Ok(Response::new(pb::SubmitStudyResponse { job_id: id, tasks: n, already_committed: found.len() as u32 }))
    }

    async fn get_job(&self, request: Request<pb::GetJobRequest>) -> Result<Response<pb::JobStatus>, Status> {
        let id = request.into_inner().job_id;
        let s = self.shared.scheduler.lock().expect("scheduler lock");
        let status = self.shared.job_status(&s, &id).ok_or_else(|| Status::not_found(format!("unknown job {id}")))?;
        Ok(Response::new(status))
    }

    type WatchJobStream = WatchStream;

    async fn watch_job(&self, request: Request<pb::GetJobRequest>) -> Result<Response<Self::WatchJobStream>, Status> {
        let id = request.into_inner().job_id;
        let shared = self.shared.clone();
        let status = move || {
            let s = shared.scheduler.lock().expect("scheduler lock");
            shared.job_status(&s, &id).ok_or_else(|| Status::not_found(format!("unknown job {id}")))
        };
        let first = status()?;
        let changes = self.shared.changes.subscribe();
        let stream = async_stream(first, move |last: pb::JobStatus| {
            let status = status.clone();
            let mut changes = changes.clone();
            async move {
                if last.state != pb::JobState::Running as i32 {
                    return None;
                }
                loop {
                    if changes.changed().await.is_err() {
                        return None;
                    }
                    // a status costs O(tasks of the job): coalesce the changes of 100 ms into one
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    match status() {
                        Ok(next) if next != last => return Some(Ok(next)),
                        Ok(_) => continue,
                        Err(e) => return Some(Err(e)),
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn cancel_job(&self, request: Request<pb::CancelJobRequest>) -> Result<Response<pb::JobStatus>, Status> {
        let id = request.into_inner().job_id;
        let (ticket, ended) = {
            let mut s = self.shared.scheduler.lock().expect("scheduler lock");
            s.cancel(&id).ok_or_else(|| Status::not_found(format!("unknown job {id}")))?;
            self.shared.persist(&mut s)
        };
        self.shared.settle(ticket, ended).await?;
        let s = self.shared.scheduler.lock().expect("scheduler lock");
        Ok(Response::new(self.shared.job_status(&s, &id).expect("job exists")))
    }
}

/// A stream that yields `first`, then each value `next(previous)` gives, until it gives None.
fn async_stream<F, Fut>(first: pb::JobStatus, next: F) -> impl Stream<Item = Result<pb::JobStatus, Status>> + Send
where
    F: Fn(pb::JobStatus) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<Result<pb::JobStatus, Status>>> + Send,
{
    futures::stream::unfold((Some(Ok(first)), None::<pb::JobStatus>, next), |(pending, last, next)| async move {
        if let Some(item) = pending {
            let last = item.as_ref().ok().cloned();
            return Some((item, (None, last, next)));
        }
        let last = last?;
        let item = next(last).await?;
        let last = item.as_ref().ok().cloned();
        Some((item, (None, last, next)))
    })
}

impl CoordinatorService {
    /// Leases for a worker under the scheduler lock, the ticket to wait for before answering, and the
    /// jobs that ended (none: leasing ends no job).
    fn grant(&self, r: &pb::LeaseTasksRequest) -> Result<(Vec<pb::Lease>, u64, Vec<JobEntry>), Status> {
        let mut s = self.shared.scheduler.lock().expect("scheduler lock");
        if !s.knows(&r.worker_id) {
            return Err(unregistered(&r.worker_id));
        }
        let granted = s.lease(&r.worker_id, r.free_cpu_slots, r.free_gpus, r.max_tasks as usize, now_ms());
        let leases: Vec<pb::Lease> = granted
            .iter()
            .map(|g| {
                let e = s.task(g.index);
                let inputs = e
                    .task
                    .deps
                    .iter()
                    .filter_map(|d| s.index(&e.job, d))
                    // a task with partial inputs gets those that committed
                    .filter(|&d| s.task(d).status == TaskStatus::Committed)
                    .map(|d| manifest_path(s.task(d).task.stage.name(), &s.task(d).task.key))
                    .collect();
                pb::Lease {
                    task: Some(pb::Task {
                        task_id: global_id(&e.job, &e.task.id),
                        job_id: e.job.clone(),
                        stage: e.task.stage.name().into(),
                        key: e.task.key.clone(),
                        spec: e.task.spec.clone(),
                        cpu_slots: e.task.cpu_slots,
                        gpus: e.task.gpus,
                        input_manifests: inputs,
                    }),
                    attempt: g.attempt,
                    deadline_unix_ms: g.deadline,
                    traceparent: s.job(&e.job).map(|j| j.traceparent.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let (ticket, ended) = self.shared.persist(&mut s);
        Ok((leases, ticket, ended))
    }
}
