//! The pull loop: register, lease what fits the free slots, run each lease's executor on a
//! blocking thread, write its files under `cache/<stage>/<key>/attempt-<n>/`, and hand the attempt
//! in with the next lease request, which the coordinator commits first (`finished.rs`). A heartbeat
//! task renews the leases on its own timer, whatever the executors are doing; a lease the
//! coordinator no longer recognises is abandoned (its files are never committed). On shutdown
//! (SIGTERM) the worker stops leasing (a lease request in flight is still awaited, and what it
//! brings given back), lets running tasks finish for a while, hands in what finished, then gives
//! the rest back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use object_store::ObjectStore;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use tacefusion_proto::PROTOCOL_VERSION;
use tacefusion_proto::store::open_store;
use tacefusion_proto::v1 as pb;
use tokio::sync::{Mutex, Notify};
use tonic::Code;
use tracing::Instrument;

use crate::checkpoints::StoreCheckpoints;
pub use crate::client::{CallHeaders, Client, ClientTls, connect};
use crate::executor::{Device, ExecError, execute};
use crate::finished::{Finished, record};
use crate::inputs::read_inputs;

/// How to run a worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Coordinator URL (`http://host:port`, or `https://` with `ca`).
    pub coordinator: String,
    /// Bearer token.
    pub token: Option<String>,
    /// TLS towards the coordinator (`https://` URLs).
    pub tls: ClientTls,
    /// Unique id (host and process by default).
    pub worker_id: String,
    /// CPU slots (tasks at once, weighted by their slots).
    pub slots: u32,
    /// GPUs.
    pub gpus: u32,
    /// Names of the GPUs.
    pub gpu_names: Vec<String>,
    /// Memory, bytes (informational).
    pub memory_bytes: u64,
    /// Pause between empty lease requests.
    pub poll: Duration,
    /// How long running tasks may finish after a shutdown request before they are given back.
    pub drain_timeout: Duration,
    /// How long to keep trying when the coordinator is unreachable.
    pub connect_timeout: Duration,
}

/// What a worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Tasks committed.
    pub committed: u64,
    /// Tasks failed (reported).
    pub failed: u64,
    /// Commits the coordinator refused (lease lost).
    pub refused: u64,
    /// Leases given back when draining.
    pub given_back: u64,
}

/// Why the worker stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The coordinator refused or could not be reached.
    #[error("coordinator {url}: {detail}")]
    Coordinator {
        /// Its URL.
        url: String,
        /// What happened.
        detail: String,
    },
    /// The object store is unusable.
    #[error("object store {url}: {detail}")]
    Store {
        /// Its URL.
        url: String,
        /// Why.
        detail: String,
    },
}

/// A lease being worked on.
struct Active {
    attempt: u32,
    cpu: u32,
    gpus: u32,
    /// The CUDA devices given to the task.
    devices: Vec<usize>,
    lost: Arc<AtomicBool>,
}

struct Worker {
    config: WorkerConfig,
    client: Client,
    store: Arc<dyn ObjectStore>,
    active: Mutex<HashMap<String, Active>>,
    /// Attempts written and not yet handed in.
    finished: Finished,
    done: Notify,
    report: Mutex<WorkerReport>,
}

async fn register(client: &mut Client, config: &WorkerConfig) -> Result<pb::RegisterWorkerResponse, WorkerError> {
    let request = pb::RegisterWorkerRequest {
        worker_id: config.worker_id.clone(),
        protocol_version: PROTOCOL_VERSION,
        resources: Some(pb::Resources {
            cpu_slots: config.slots,
            gpus: config.gpus,
            memory_bytes: config.memory_bytes,
            gpu_names: config.gpu_names.clone(),
        }),
    };
    client
        .register_worker(request)
        .await
        .map(|r| r.into_inner())
        .map_err(|s| WorkerError::Coordinator { url: config.coordinator.clone(), detail: format!("{:?}: {}", s.code(), s.message()) })
}

/// How long a lease request in flight when the shutdown comes may still be answered: its leases are
/// then given back.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// Runs a worker until `shutdown` resolves (then drains) or the coordinator is gone for good.
pub async fn run(config: WorkerConfig, shutdown: impl std::future::Future<Output = ()> + Send) -> Result<WorkerReport, WorkerError> {
    let mut client = connect(&config.coordinator, config.token.clone(), &config.tls, config.connect_timeout).await?;
    let registered = register(&mut client, &config).await?;
    if registered.store_url.starts_with("memory://") {
        // a memory store lives in one process: this worker's would be empty and its outputs invisible
        return Err(WorkerError::Store {
            url: registered.store_url,
            detail: "a coordinator with a memory:// store serves no workers".into(),
        });
    }
    let store = open_store(&registered.store_url).map_err(|e| WorkerError::Store { url: e.url, detail: e.detail })?.store;
    tracing::info!(worker = %config.worker_id, coordinator = %config.coordinator, slots = config.slots, gpus = config.gpus, "registered");
    let worker = Arc::new(Worker {
        config,
        client,
        store,
        active: Mutex::new(HashMap::new()),
        finished: Finished::default(),
        done: Notify::new(),
        report: Mutex::new(Default::default()),
    });
    let _heartbeat = AbortOnDrop(tokio::spawn(heartbeats(worker.clone(), Duration::from_millis(registered.heartbeat_interval_ms.max(10)))));
    tokio::pin!(shutdown);
    let mut unreachable_since: Option<tokio::time::Instant> = None;
    // when the shutdown came, if it came while a lease request was in flight (the drain counts from it)
    let mut stop_asked: Option<tokio::time::Instant> = None;
    loop {
        let (free_cpu, free_gpus) = {
            let active = worker.active.lock().await;
            let used_cpu: u32 = active.values().map(|a| a.cpu).sum();
            let used_gpus: u32 = active.values().map(|a| a.gpus).sum();
            (worker.config.slots.saturating_sub(used_cpu), worker.config.gpus.saturating_sub(used_gpus))
        };
        if free_cpu == 0 {
            tokio::select! {
                _ = worker.done.notified() => continue,
                _ = &mut shutdown => break,
            }
        }
        let completed = worker.finished.take().await;
        let request = pb::LeaseTasksRequest {
            worker_id: worker.config.worker_id.clone(),
            free_cpu_slots: free_cpu,
            free_gpus,
            max_tasks: free_cpu,
            completed: completed.clone(),
        };
        let mut client = worker.client.clone();
        let mut call = Box::pin(client.lease_tasks(request));
        let (result, stopping) = tokio::select! {
            r = &mut call => (r, false),
            _ = &mut shutdown => {
                // the coordinator may have granted leases already: wait for its answer (a while) to
                // give them back, instead of leaving them to expire with the job waiting on them
                stop_asked = Some(tokio::time::Instant::now());
                match tokio::time::timeout(worker.config.drain_timeout.min(ANSWER_WAIT), call).await {
                    Ok(r) => (r, true),
                    Err(_) => {
                        // whether the coordinator took them or not, they are handed in again on the way out
                        worker.finished.put_back(completed).await;
                        break;
                    }
                }
            }
        };
        if result.is_err() {
            worker.finished.put_back(completed.clone()).await;
        }
        if stopping {
            if let Ok(r) = result {
                let r = r.into_inner();
                record(&mut *worker.report.lock().await, &completed, &r.completions);
                for lease in r.leases {
                    if let Some(task) = lease.task {
                        give_back(&worker, task.task_id, lease.attempt).await;
                    }
                }
            }
            break;
        }
        let pause = match result {
            Ok(r) => {
                unreachable_since = None;
                let r = r.into_inner();
                record(&mut *worker.report.lock().await, &completed, &r.completions);
                let leases = r.leases;
                let empty = leases.is_empty();
                for lease in leases {
                    start(&worker, lease).await;
                }
                if empty { worker.config.poll } else { Duration::ZERO }
            }
            Err(s) if s.code() == Code::FailedPrecondition => {
                // the coordinator restarted and forgot us: join again
                let mut client = worker.client.clone();
                register(&mut client, &worker.config).await?;
                Duration::ZERO
            }
            Err(s) => {
                let since = *unreachable_since.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() > worker.config.connect_timeout {
                    return Err(WorkerError::Coordinator {
                        url: worker.config.coordinator.clone(),
                        detail: format!("gone: {}", s.message()),
                    });
                }
                Duration::from_millis(200)
            }
        };
        if !pause.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = worker.done.notified() => {}
                _ = &mut shutdown => break,
            }
        }
    }
    drain(&worker, stop_asked.unwrap_or_else(tokio::time::Instant::now) + worker.config.drain_timeout).await;
    let report = worker.report.lock().await.clone();
    Ok(report)
}

/// Waits for running tasks up to `deadline` (the drain timeout after the shutdown), hands in what
/// finished, then gives the rest back.
async fn drain(worker: &Arc<Worker>, deadline: tokio::time::Instant) {
    while !worker.active.lock().await.is_empty() {
        if tokio::time::timeout_at(deadline, worker.done.notified()).await.is_err() {
            break;
        }
    }
    hand_in(worker).await;
    let left: Vec<(String, u32)> = worker.active.lock().await.iter().map(|(id, a)| (id.clone(), a.attempt)).collect();
    for (task_id, attempt) in left {
        if let Some(a) = worker.active.lock().await.get(&task_id) {
            a.lost.store(true, Ordering::SeqCst);
        }
        give_back(worker, task_id, attempt).await;
    }
    // a task that finished while the others were given back
    hand_in(worker).await;
}

/// Gives a lease back (a draining worker): the task is leased again at once, without waiting for
/// the lease to expire or counting a failed attempt.
async fn give_back(worker: &Arc<Worker>, task_id: String, attempt: u32) {
    let request = pb::FailTaskRequest {
        worker_id: worker.config.worker_id.clone(),
        task_id,
        attempt,
        kind: pb::FailureKind::GivenBack as i32,
        message: "worker draining".into(),
    };
    if worker.client.clone().fail_task(request).await.is_ok() {
        worker.report.lock().await.given_back += 1;
    }
}

/// Hands in the finished attempts, one CompleteTask call each (no more leases are asked for).
async fn hand_in(worker: &Arc<Worker>) {
    for request in worker.finished.take().await {
        let sent = [request.clone()];
        match worker.client.clone().complete_task(request).await {
            Ok(answer) => record(&mut *worker.report.lock().await, &sent, &[answer.into_inner()]),
            Err(s) => tracing::warn!(task = %sent[0].task_id, "commit failed: {}", s.message()),
        }
    }
}

/// Aborts the heartbeat task however `run` ends: a worker that returns with an error must not
/// keep renewing leases it will never hand in.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the leases every `every`; marks lost the ones the coordinator no longer recognises.
async fn heartbeats(worker: Arc<Worker>, every: Duration) {
    if std::env::var_os("TACEFUSION_TEST_NO_HEARTBEAT").is_some() {
        // fault injection for the zombie test: a worker that goes silent while it works
        return;
    }
    let mut interval = tokio::time::interval(every);
    loop {
        interval.tick().await;
        let mut leases: Vec<pb::LeaseRef> =
            worker.active.lock().await.iter().map(|(id, a)| pb::LeaseRef { task_id: id.clone(), attempt: a.attempt }).collect();
        leases.extend(worker.finished.leases().await);
        let request = pb::HeartbeatRequest { worker_id: worker.config.worker_id.clone(), leases };
        let Ok(response) = worker.client.clone().heartbeat(request).await else { continue };
        let response = response.into_inner();
        if response.unknown_worker {
            let mut client = worker.client.clone();
            let _ = register(&mut client, &worker.config).await;
        }
        let active = worker.active.lock().await;
        for state in response.leases.iter().filter(|s| !s.valid) {
            if let Some(a) = active.get(&state.task_id)
                && a.attempt == state.attempt
            {
                tracing::warn!(task = %state.task_id, attempt = state.attempt, "lease lost: the attempt is abandoned");
                a.lost.store(true, Ordering::SeqCst);
            }
            if worker.finished.forget(&state.task_id, state.attempt).await {
                tracing::warn!(task = %state.task_id, attempt = state.attempt, "lease lost before the attempt was handed in");
                worker.report.lock().await.refused += 1;
            }
        }
    }
}

/// Starts one lease on its own task.
async fn start(worker: &Arc<Worker>, lease: pb::Lease) {
    let Some(task) = lease.task else { return };
    let lost = Arc::new(AtomicBool::new(false));
    let device = {
        let mut active = worker.active.lock().await;
        // the GPUs no running task holds (the coordinator leased within the free count)
        let devices: Vec<usize> =
            (0..worker.config.gpus as usize).filter(|d| !active.values().any(|a| a.devices.contains(d))).take(task.gpus as usize).collect();
        // None: the task needs a GPU and none is free (its attempt fails, retryably)
        let device = if task.gpus == 0 { Some(Device::Cpu) } else { devices.first().map(|&d| Device::Cuda(d)) };
        active.insert(
            task.task_id.clone(),
            Active { attempt: lease.attempt, cpu: task.cpu_slots, gpus: task.gpus, devices, lost: lost.clone() },
        );
        device
    };
    let worker = worker.clone();
    // the task's span joins the trace of its job's submission
    let span = tracing::info_span!("task", task = %task.task_id, stage = %task.stage, attempt = lease.attempt, key = %task.key);
    tacefusion_proto::trace::adopt_traceparent(&span, &lease.traceparent);
    let work = async move {
        let task_id = task.task_id.clone();
        let outcome = run_task(&worker, &task, lease.attempt, lost, device).await;
        let mut client = worker.client.clone();
        let worker_id = worker.config.worker_id.clone();
        match outcome {
            Ok(Some(manifest)) => {
                if let Some(ms) = std::env::var("TACEFUSION_TEST_COMMIT_DELAY_MS").ok().and_then(|v| v.parse::<u64>().ok()) {
                    // fault injection for the zombie test: the commit arrives late
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                // handed in by the next lease request, which the slot freed now makes at once
                let traceparent = tacefusion_proto::trace::traceparent(&tracing::Span::current());
                let request = pb::CompleteTaskRequest {
                    worker_id,
                    task_id: task_id.clone(),
                    attempt: lease.attempt,
                    manifest: Some(manifest),
                    traceparent,
                };
                worker.finished.push(request).await;
            }
            Ok(None) => {}
            Err(e) => {
                let kind = match e {
                    ExecError::BadInput(_) => pb::FailureKind::BadInput,
                    ExecError::Retryable(_) => pb::FailureKind::Retryable,
                };
                tracing::warn!(task = %task_id, attempt = lease.attempt, ?kind, "task failed: {e}");
                let request = pb::FailTaskRequest {
                    worker_id,
                    task_id: task_id.clone(),
                    attempt: lease.attempt,
                    kind: kind as i32,
                    message: e.to_string(),
                };
                if client.fail_task(request).await.is_ok() {
                    worker.report.lock().await.failed += 1;
                }
            }
        }
        {
            // only this attempt's entry: a newer attempt of the same task may hold it now
            let mut active = worker.active.lock().await;
            if active.get(&task_id).is_some_and(|a| a.attempt == lease.attempt) {
                active.remove(&task_id);
            }
        }
        worker.done.notify_one();
    };
    tokio::spawn(work.instrument(span));
}

/// Reads the inputs, runs the executor and writes the outputs; the manifest to commit, or None when
/// the lease was lost meanwhile.
async fn run_task(
    worker: &Arc<Worker>,
    task: &pb::Task,
    attempt: u32,
    lost: Arc<AtomicBool>,
    device: Option<Device>,
) -> Result<Option<pb::Manifest>, ExecError> {
    let device =
        device.ok_or_else(|| ExecError::retryable(format!("{} needs {} GPU(s) and this worker has none free", task.task_id, task.gpus)))?;
    let store = worker.store.clone();
    let inputs = read_inputs(&store, &task.input_manifests).await?;
    let spec: serde_json::Value = serde_json::from_str(&task.spec).map_err(|e| ExecError::BadInput(format!("task spec: {e}")))?;
    let stage = task.stage.clone();
    let checkpoints = StoreCheckpoints::new(store.clone(), &task.stage, &task.key, tokio::runtime::Handle::current(), lost.clone());
    let outputs = tokio::task::spawn_blocking(move || execute(&stage, &spec, &inputs, &checkpoints, device))
        .await
        .map_err(|e| ExecError::Retryable(format!("the executor panicked: {e}")))??;
    if lost.load(Ordering::SeqCst) {
        return Ok(None);
    }
    let dir = format!("cache/{}/{}/attempt-{attempt}", task.stage, task.key);
    let mut files = Vec::with_capacity(outputs.len());
    for (name, bytes) in outputs {
        let path = format!("{dir}/{name}");
        let sha256 = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        let size = bytes.len() as u64;
        store.put(&StorePath::from(path.as_str()), PutPayload::from(bytes)).await.map_err(ExecError::retryable)?;
        files.push(pb::OutputFile { path, bytes: size, sha256 });
    }
    Ok(Some(pb::Manifest {
        task_id: task.task_id.clone(),
        stage: task.stage.clone(),
        key: task.key.clone(),
        attempt,
        files,
        path: String::new(),
    }))
}
