//! What the gRPC calls share: the scheduler behind a mutex, the durable state with its group-commit
//! persister (every change is queued under the scheduler lock, saved in one transaction with the
//! changes of all calls of that moment, and a call answers only once its ticket is saved), the object
//! store, the watchers' change counter and the metrics; the jobs that ended are settled here (their
//! result index written before clients see them end).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use object_store::ObjectStore;
use tacefusion_proto::v1 as pb;
use tokio::sync::watch;
use tonic::Status;

use crate::metrics::Counters;
use crate::planner::DigestCache;
use crate::results::{finalize_job, has_index};
use crate::scheduler::{JobEntry, JobState, Scheduler, TaskEntry, TaskStatus};
use crate::state::DurableState;

/// What the service shares between calls.
pub struct Shared {
    /// The scheduler (short critical sections, never held across an await).
    pub scheduler: Mutex<Scheduler>,
    /// Durable state.
    pub state: DurableState,
    /// The object store of the outputs.
    pub store: Arc<dyn ObjectStore>,
    /// Its URL, as told to workers.
    pub store_url: String,
    /// Input digests, remembered across submissions.
    pub digests: Mutex<DigestCache>,
    /// Bumped at every change, for `WatchJob`.
    pub changes: watch::Sender<u64>,
    /// Changes waiting to be saved, with the ticket of the last one.
    pub pending: Mutex<Pending>,
    /// The last ticket saved durably (or the error that stopped saving).
    pub durable: watch::Sender<Result<u64, String>>,
    /// Wakes the persister.
    pub wake: tokio::sync::Notify,
    /// Counters for the metrics endpoint.
    pub metrics: Mutex<Counters>,
    /// Held shared by every commit, and every job's ending, running on its own task (it outlives a
    /// dropped call); taken exclusively when the server stops, to let them end (their job's index
    /// written) first.
    pub commits: Arc<tokio::sync::RwLock<()>>,
    /// Jobs that ended whose result index is not written yet: reported as still running, so that a
    /// client who sees a job end can query its results at once.
    pub indexing: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("store_url", &self.store_url).finish()
    }
}

/// Changes not yet saved (group commit: one transaction for all the calls of a moment).
#[derive(Debug, Default)]
pub struct Pending {
    /// Ticket of the last change queued.
    pub ticket: u64,
    /// Jobs changed.
    pub jobs: Vec<JobEntry>,
    /// Tasks changed: (job, number in the job, entry).
    pub tasks: Vec<(String, usize, TaskEntry)>,
}

impl Shared {
    /// Queues what the scheduler changed for the persister (call under the scheduler lock, so that
    /// changes queue in the order they happened) and wakes the watchers. Returns the ticket to wait
    /// for with [`Shared::durable`] before answering, and the jobs that ended.
    #[must_use = "wait for the ticket, and settle the jobs that ended (Shared::settle)"]
    pub fn persist(&self, scheduler: &mut Scheduler) -> (u64, Vec<JobEntry>) {
        let (tasks, jobs) = scheduler.take_changes();
        let mut pending = self.pending.lock().expect("pending lock");
        if tasks.is_empty() && jobs.is_empty() {
            return (pending.ticket, Vec::new());
        }
        for (i, entry) in tasks {
            let first = scheduler.job(&entry.job).map(|j| j.tasks.start).unwrap_or(i);
            pending.tasks.push((entry.job.clone(), i - first, entry));
        }
        let ended: Vec<JobEntry> = jobs.iter().filter(|j| j.state != JobState::Running).cloned().collect();
        if !ended.is_empty() {
            // running to clients until [`Shared::finalize`] has written their index
            self.indexing.lock().expect("indexing lock").extend(ended.iter().map(|j| j.id.clone()));
        }
        for job in jobs {
            // the latest state of a job replaces one still waiting to be saved
            match pending.jobs.iter_mut().find(|j| j.id == job.id) {
                Some(waiting) => *waiting = job,
                None => pending.jobs.push(job),
            }
        }
        pending.ticket += 1;
        let ticket = pending.ticket;
        drop(pending);
        self.wake.notify_one();
        self.changes.send_modify(|v| *v += 1);
        (ticket, ended)
    }

    /// Waits until the changes up to `ticket` are saved durably.
    pub async fn durable(&self, ticket: u64) -> Result<(), Status> {
        let mut rx = self.durable.subscribe();
        let outcome =
            rx.wait_for(|d| !matches!(d, Ok(t) if *t < ticket)).await.map_err(|_| Status::unavailable("the state store stopped"))?;
        match &*outcome {
            Ok(_) => Ok(()),
            Err(e) => Err(Status::unavailable(format!("state store: {e}"))),
        }
    }

    /// Saves queued changes, one transaction per batch, until the process ends.
    pub async fn persister(self: Arc<Self>) {
        loop {
            self.wake.notified().await;
            loop {
                let (ticket, jobs, tasks) = {
                    let mut p = self.pending.lock().expect("pending lock");
                    (p.ticket, std::mem::take(&mut p.jobs), std::mem::take(&mut p.tasks))
                };
                if jobs.is_empty() && tasks.is_empty() {
                    break;
                }
                let shared = self.clone();
                let saved = tokio::task::spawn_blocking(move || shared.state.save(&jobs, &tasks)).await;
                match saved {
                    Ok(Ok(())) => {
                        let _ = self.durable.send_replace(Ok(ticket));
                    }
                    Ok(Err(e)) => {
                        tracing::error!("saving state: {e}");
                        let _ = self.durable.send_replace(Err(e.to_string()));
                    }
                    Err(e) => {
                        let _ = self.durable.send_replace(Err(e.to_string()));
                    }
                }
            }
        }
    }

    /// Waits until the changes up to `ticket` are saved, then writes the index of the jobs that
    /// ended, on a task of its own when there are any: a caller who hangs up meanwhile cannot leave
    /// a job unindexed (and seen running for ever). For calls not already on a task of their own.
    pub async fn settle(self: &Arc<Self>, ticket: u64, ended: Vec<JobEntry>) -> Result<(), Status> {
        if ended.is_empty() {
            return self.durable(ticket).await;
        }
        let shared = self.clone();
        self.detached(async move { shared.end_jobs(ticket, ended).await }).await
    }

    /// Runs `work` on a Tokio task of its own, holding a share of [`Shared::commits`]: once begun
    /// it ends even when the caller goes away, and the server waits for it before it stops. No
    /// await comes before the spawn (a call dropped there would lose the work); while the server
    /// stops (its exclusive hold), the task runs without a share.
    pub async fn detached<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = Result<T, Status>> + Send + 'static,
    ) -> Result<T, Status> {
        let running = self.commits.clone().try_read_owned().ok();
        let task = tokio::spawn(async move {
            let outcome = work.await;
            drop(running);
            outcome
        });
        task.await.map_err(|e| Status::internal(format!("a task of the coordinator ended abnormally: {e}")))?
    }

    /// [`Shared::settle`] on the caller's task: waits for `ticket`, then writes the indexes (also
    /// when saving failed: the jobs must not stay unindexed; that error is returned).
    pub async fn end_jobs(self: &Arc<Self>, ticket: u64, ended: Vec<JobEntry>) -> Result<(), Status> {
        let saved = self.durable(ticket).await;
        self.finalize(ended).await;
        saved
    }

    /// Writes the result index of jobs that ended (outside the scheduler lock); only then do
    /// clients see them ended.
    pub async fn finalize(self: &Arc<Self>, ended: Vec<JobEntry>) {
        for job in ended {
            let snapshot = {
                let s = self.scheduler.lock().expect("scheduler lock");
                job.tasks.clone().map(|i| s.task(i).clone()).collect::<Vec<_>>()
            };
            if let Err(e) = finalize_job(self.store.as_ref(), &job, &snapshot).await {
                tracing::error!(job = %job.id, error = %e, "writing the job's result index failed");
            }
            // ended for clients now (also when the index could not be written: said in the log)
            self.indexing.lock().expect("indexing lock").remove(&job.id);
            self.changes.send_modify(|v| *v += 1);
        }
    }

    /// At start-up: writes the index of the jobs that ended without one (those that ended just
    /// before a crash); the others keep theirs, written when they ended. Looks for up to 32 at a
    /// time.
    pub async fn finalize_unindexed(self: &Arc<Self>, ended: Vec<JobEntry>) {
        use futures::StreamExt;
        let store = self.store.clone();
        let found: Vec<(JobEntry, bool)> = futures::stream::iter(ended)
            .map(|job| {
                let store = store.clone();
                async move {
                    let indexed = has_index(store.as_ref(), &job.id).await;
                    (job, indexed)
                }
            })
            .buffered(32)
            .collect()
            .await;
        let mut missing = Vec::new();
        for (job, indexed) in found {
            if indexed {
                self.indexing.lock().expect("indexing lock").remove(&job.id);
            } else {
                missing.push(job);
            }
        }
        if !missing.is_empty() {
            tracing::info!(jobs = missing.len(), "writing the missing result indexes of ended jobs");
        }
        self.finalize(missing).await;
        self.changes.send_modify(|v| *v += 1);
    }

    /// The status of job `id` as clients see it: a job whose index is still being written is
    /// running.
    pub fn job_status(&self, s: &Scheduler, id: &str) -> Option<pb::JobStatus> {
        let mut status = progress(s, s.job(id)?);
        if status.state != pb::JobState::Running as i32 && self.indexing.lock().expect("indexing lock").contains(id) {
            status.state = pb::JobState::Running as i32;
        }
        Some(status)
    }
}

/// The protocol's view of a job, as the scheduler has it.
fn progress(s: &Scheduler, job: &JobEntry) -> pb::JobStatus {
    let mut stages: Vec<pb::StageProgress> = Vec::new();
    let mut failed = Vec::new();
    for i in job.tasks.clone() {
        let e = s.task(i);
        let name = e.task.stage.name();
        let p = match stages.iter_mut().position(|p| p.stage == name) {
            Some(n) => &mut stages[n],
            None => {
                stages.push(pb::StageProgress { stage: name.into(), ..Default::default() });
                stages.last_mut().expect("pushed")
            }
        };
        p.total += 1;
        match &e.status {
            TaskStatus::Committed => p.committed += 1,
            TaskStatus::Leased { .. } | TaskStatus::Committing { .. } => p.running += 1,
            TaskStatus::Failed { reason } => {
                p.failed += 1;
                failed.push(pb::FailedTask { task_id: e.task.id.clone(), stage: name.into(), reason: reason.clone() });
            }
            _ => {}
        }
    }
    let state = match job.state {
        JobState::Running => pb::JobState::Running,
        JobState::Succeeded => pb::JobState::Succeeded,
        JobState::SucceededWithFailures => pb::JobState::SucceededWithFailures,
        JobState::Failed => pb::JobState::Failed,
        JobState::Cancelled => pb::JobState::Cancelled,
    };
    pb::JobStatus { job_id: job.id.clone(), state: state as i32, stages, failed, message: job.message.clone(), attempts: job.attempts }
}
