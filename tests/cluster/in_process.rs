//! A coordinator in this process (its scheduler and store in reach of the test) serving gRPC on a
//! loopback port, with a job of no-op tasks, and a worker's client registered to it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tacefusion_coordinator::scheduler::{SchedulerConfig, TaskStatus};
use tacefusion_coordinator::server::{CoordinatorConfig, open, serve};
use tacefusion_coordinator::shared::Shared;
use tacefusion_coordinator::task::{Manifest, PlannedTask, Stage};
use tacefusion_proto::PROTOCOL_VERSION;
use tacefusion_proto::v1 as pb;
use tacefusion_worker::pull::{Client, ClientTls, connect};

/// The coordinator, its store folder and the worker `w`'s client.
pub struct InProcess {
    pub shared: Arc<Shared>,
    pub store: PathBuf,
    pub url: String,
    pub client: Client,
    /// The job, and the key of its task `noop/0`.
    pub job: String,
    pub key: String,
}

impl InProcess {
    /// Starts the coordinator (call inside a Tokio runtime) with job `job` of one no-op task.
    pub async fn start(dir: &Path, job: &str) -> InProcess {
        Self::start_with(dir, job, vec![noop("noop/0", format!("{:064x}", 7), vec![])], |_| None).await
    }

    /// Starts the coordinator with job `job` of the tasks `plan` (the first is the one `key` names),
    /// those whose key `found` knows committed at submission (as by an earlier job).
    pub async fn start_with(dir: &Path, job: &str, plan: Vec<PlannedTask>, found: impl Fn(&str) -> Option<Manifest>) -> InProcess {
        let store = dir.join("store");
        let config = config(dir);
        let shared = open(&config).await.unwrap();
        let key = plan[0].key.clone();
        let (ticket, ended) = {
            let mut s = shared.scheduler.lock().unwrap();
            s.submit(job, "test", plan, found, |_| None);
            shared.persist(&mut s)
        };
        shared.settle(ticket, ended).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = shared.clone();
        tokio::spawn(async move { serve(&config, server, listener, std::future::pending()).await });
        let mut client = connect(&url, None, &ClientTls::default(), Duration::from_secs(10)).await.unwrap();
        let register = pb::RegisterWorkerRequest { worker_id: "w".into(), protocol_version: PROTOCOL_VERSION, resources: None };
        client.register_worker(register).await.unwrap();
        InProcess { shared, store, url, client, job: job.into(), key }
    }

    /// A lease request of worker `w` for one task, carrying `completed`.
    pub fn ask(completed: Vec<pb::CompleteTaskRequest>) -> pb::LeaseTasksRequest {
        pb::LeaseTasksRequest { worker_id: "w".into(), free_cpu_slots: 1, free_gpus: 0, max_tasks: 1, completed }
    }

    /// The state of task `noop/0` in the scheduler.
    pub fn status(&self) -> TaskStatus {
        let s = self.shared.scheduler.lock().unwrap();
        s.task(s.index(&self.job, "noop/0").unwrap()).status.clone()
    }

    /// Leases task `noop/0` and writes one output file `name` (3 bytes) in its attempt's folder;
    /// the completion lists it `copies` times (checking each keeps a commit busy, a long list makes
    /// a long index).
    pub async fn lease_and_write(&mut self, name: &str, copies: usize) -> pb::CompleteTaskRequest {
        let lease = self.client.lease_tasks(Self::ask(vec![])).await.unwrap().into_inner().leases.remove(0);
        self.write(lease, name, copies)
    }

    /// Writes one output file `name` (3 bytes) of `lease` (of task `noop/0`) and lists it `copies`
    /// times in the completion.
    pub fn write(&self, lease: pb::Lease, name: &str, copies: usize) -> pb::CompleteTaskRequest {
        let path = format!("{}/{name}", tacefusion_coordinator::task::attempt_dir("noop", &self.key, lease.attempt));
        std::fs::create_dir_all(self.store.join(&path).parent().unwrap()).unwrap();
        std::fs::write(self.store.join(&path), b"abc").unwrap();
        let files = (0..copies).map(|_| pb::OutputFile { path: path.clone(), bytes: 3, sha256: String::new() }).collect();
        pb::CompleteTaskRequest {
            worker_id: "w".into(),
            task_id: lease.task.unwrap().task_id,
            attempt: lease.attempt,
            manifest: Some(pb::Manifest { files, ..Default::default() }),
            traceparent: String::new(),
        }
    }
}

/// The configuration of the coordinator in `dir` (state in `dir/state`, store in `dir/store`).
pub fn config(dir: &Path) -> CoordinatorConfig {
    CoordinatorConfig {
        state_dir: dir.join("state"),
        store: dir.join("store").to_string_lossy().into_owned(),
        token: None,
        tls: None,
        scheduler: SchedulerConfig::default(),
    }
}

/// A no-op task.
pub fn noop(id: &str, key: String, deps: Vec<String>) -> PlannedTask {
    PlannedTask { id: id.into(), stage: Stage::Noop, key, spec: "null".into(), deps, cpu_slots: 1, gpus: 0, partial_inputs: false }
}
