//! The scheduler: jobs of planned tasks, leases with deadlines renewed by heartbeats, expiry and
//! retries with backoff, resource matching, failure propagation, cancellation, and the job states.
//!
//! It is a synchronous state machine with the clock passed in (milliseconds), so every rule is
//! tested without a network or a timer; the gRPC service holds it behind a mutex and persists what
//! it changes (`take_changes`). A commit has two steps: `begin_commit` checks that the caller holds
//! the current lease and freezes the task (`Committing`, no expiry), the service creates the manifest
//! in the object store (create-if-absent), then `finish_commit` or `abort_commit`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::task::{FailureKind, Manifest, PlannedTask};

mod commits;
mod entries;
pub use entries::{Granted, JobEntry, JobState, LeaseError, SchedulerConfig, TaskEntry, TaskStatus};

/// A registered worker.
#[derive(Debug, Clone, PartialEq)]
struct Worker {
    last_seen: u64,
}

/// The scheduler.
#[derive(Debug)]
pub struct Scheduler {
    config: SchedulerConfig,
    tasks: Vec<TaskEntry>,
    jobs: BTreeMap<String, JobEntry>,
    /// (job, task id) -> index.
    by_id: HashMap<(String, String), usize>,
    /// Indices of the tasks that wait on each task.
    dependants: Vec<Vec<usize>>,
    /// Inputs not yet committed, per task.
    deps_left: Vec<usize>,
    /// Ready tasks by resource class: CPU-only, then those needing a GPU, in submission order.
    ready_cpu: VecDeque<usize>,
    ready_gpu: VecDeque<usize>,
    /// Ready tasks in backoff: (not_before, index).
    delayed: BTreeSet<(u64, usize)>,
    /// Leased or committing tasks.
    leased: BTreeSet<usize>,
    workers: HashMap<String, Worker>,
    /// When the last worker went away (ms), while none is registered.
    no_worker_since: Option<u64>,
    /// Tasks and jobs changed since the last `take_changes`.
    changed_tasks: BTreeSet<usize>,
    changed_jobs: BTreeSet<String>,
}

impl Scheduler {
    /// An empty scheduler.
    pub fn new(config: SchedulerConfig) -> Self {
        Self {
            config,
            tasks: Vec::new(),
            jobs: BTreeMap::new(),
            by_id: HashMap::new(),
            dependants: Vec::new(),
            deps_left: Vec::new(),
            ready_cpu: VecDeque::new(),
            ready_gpu: VecDeque::new(),
            delayed: BTreeSet::new(),
            leased: BTreeSet::new(),
            workers: HashMap::new(),
            no_worker_since: None,
            changed_tasks: BTreeSet::new(),
            changed_jobs: BTreeSet::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SchedulerConfig {
        &self.config
    }

    /// Adds a job. `committed(key)` gives the manifest of a key already committed (by an earlier job
    /// or an earlier life of the coordinator): such tasks start committed and never run.
    /// `failed(key)` gives the reason of a key that failed on bad input before (the same inputs fail
    /// the same way): such tasks start failed.
    pub fn submit(
        &mut self,
        id: &str,
        study: &str,
        plan: Vec<PlannedTask>,
        committed: impl Fn(&str) -> Option<Manifest>,
        failed: impl Fn(&str) -> Option<String>,
    ) -> &JobEntry {
        let entries = plan
            .into_iter()
            .map(|task| {
                let manifest = committed(&task.key);
                let status = match (&manifest, failed(&task.key)) {
                    (Some(_), _) => TaskStatus::Committed,
                    (None, Some(reason)) => TaskStatus::Failed { reason },
                    (None, None) => TaskStatus::Waiting,
                };
                TaskEntry { job: id.to_string(), task, status, attempt: 0, failures: 0, manifest, committer: None }
            })
            .collect();
        let job = JobEntry {
            id: id.to_string(),
            study: study.to_string(),
            tasks: 0..0,
            settled: 0,
            state: JobState::Running,
            message: String::new(),
            attempts: 0,
            traceparent: String::new(),
        };
        self.restore(job, entries)
    }

    /// Adds a job with its tasks as they were (after a restart): leases held then are lost, so
    /// leased and committing tasks are ready again, with their attempt numbers kept.
    pub fn restore(&mut self, mut job: JobEntry, entries: Vec<TaskEntry>) -> &JobEntry {
        let first = self.tasks.len();
        job.tasks = first..first + entries.len();
        job.settled = first;
        for (n, mut e) in entries.into_iter().enumerate() {
            if matches!(e.status, TaskStatus::Leased { .. } | TaskStatus::Committing { .. }) {
                e.status = TaskStatus::Waiting;
            }
            self.by_id.insert((job.id.clone(), e.task.id.clone()), first + n);
            self.tasks.push(e);
            self.dependants.push(Vec::new());
            self.deps_left.push(0);
        }
        for i in first..self.tasks.len() {
            let deps = self.tasks[i].task.deps.clone();
            for d in deps {
                // a dependency outside the plan is the planner's bug; treat it as failed
                match self.by_id.get(&(job.id.clone(), d.clone())) {
                    Some(&j) => {
                        self.dependants[j].push(i);
                        // a failed input is counted here and let go by `propagate_failure` below
                        if self.tasks[j].status != TaskStatus::Committed {
                            self.deps_left[i] += 1;
                        }
                    }
                    None => self.tasks[i].status = TaskStatus::Failed { reason: format!("unknown input task {d}") },
                }
            }
        }
        let id = job.id.clone();
        self.jobs.insert(id.clone(), job);
        self.changed_jobs.insert(id.clone());
        for i in first..self.tasks.len() {
            self.changed_tasks.insert(i);
            match &self.tasks[i].status {
                TaskStatus::Failed { reason } => {
                    let reason = reason.clone();
                    self.propagate_failure(i, &reason);
                }
                TaskStatus::Waiting if self.deps_left[i] == 0 => self.make_ready(i, 0),
                TaskStatus::Ready { not_before } => {
                    let t = *not_before;
                    self.make_ready(i, t)
                }
                _ => {}
            }
        }
        self.update_job_state(&id);
        &self.jobs[&id]
    }

    /// A worker joined (or rejoined).
    pub fn register(&mut self, worker: &str, now: u64) {
        self.workers.insert(worker.to_string(), Worker { last_seen: now });
        self.no_worker_since = None;
    }

    /// True when the worker is registered.
    pub fn knows(&self, worker: &str) -> bool {
        self.workers.contains_key(worker)
    }

    /// Number of registered workers.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }

    fn make_ready(&mut self, i: usize, not_before: u64) {
        self.tasks[i].status = TaskStatus::Ready { not_before };
        self.changed_tasks.insert(i);
        if not_before > 0 {
            self.delayed.insert((not_before, i));
        } else if self.tasks[i].task.gpus > 0 {
            self.ready_gpu.push_back(i);
        } else {
            self.ready_cpu.push_back(i);
        }
    }

    /// Moves tasks whose backoff ended to the ready queues.
    fn promote(&mut self, now: u64) {
        while let Some(&(t, i)) = self.delayed.first() {
            if t > now {
                break;
            }
            self.delayed.pop_first();
            if matches!(self.tasks[i].status, TaskStatus::Ready { .. }) {
                if self.tasks[i].task.gpus > 0 { self.ready_gpu.push_back(i) } else { self.ready_cpu.push_back(i) }
            }
        }
    }

    /// Up to `max` leases for `worker` that fit `free_cpu` slots and `free_gpus`; GPU tasks go only
    /// to a worker with a free GPU, and are offered first to one that has.
    pub fn lease(&mut self, worker: &str, mut free_cpu: u32, mut free_gpus: u32, max: usize, now: u64) -> Vec<Granted> {
        self.promote(now);
        if let Some(w) = self.workers.get_mut(worker) {
            w.last_seen = now;
        }
        let mut out = Vec::new();
        for gpu_queue in [true, false] {
            let mut skipped = Vec::new();
            loop {
                if out.len() >= max {
                    break;
                }
                let queue = if gpu_queue { &mut self.ready_gpu } else { &mut self.ready_cpu };
                let Some(i) = queue.pop_front() else { break };
                // stale entries (cancelled, failed meanwhile) are dropped
                if !matches!(self.tasks[i].status, TaskStatus::Ready { .. }) {
                    continue;
                }
                let t = &self.tasks[i].task;
                if t.cpu_slots > free_cpu || t.gpus > free_gpus {
                    skipped.push(i);
                    // nothing smaller can be assumed behind it; stop scanning a long queue
                    if skipped.len() >= 64 {
                        break;
                    }
                    continue;
                }
                free_cpu -= t.cpu_slots;
                free_gpus -= t.gpus;
                let e = &mut self.tasks[i];
                e.attempt += 1;
                let deadline = now + self.config.lease_ms;
                e.status = TaskStatus::Leased { worker: worker.to_string(), deadline };
                out.push(Granted { index: i, attempt: e.attempt, deadline });
                let job = e.job.clone();
                self.leased.insert(i);
                self.changed_tasks.insert(i);
                if let Some(j) = self.jobs.get_mut(&job) {
                    j.attempts += 1;
                    self.changed_jobs.insert(job);
                }
            }
            let queue = if gpu_queue { &mut self.ready_gpu } else { &mut self.ready_cpu };
            for i in skipped.into_iter().rev() {
                queue.push_front(i);
            }
        }
        out
    }

    /// Renews `worker`'s leases; for each (task index, attempt) says whether it still holds it and
    /// its new deadline.
    pub fn heartbeat(&mut self, worker: &str, leases: &[(usize, u32)], now: u64) -> Vec<(bool, u64)> {
        if let Some(w) = self.workers.get_mut(worker) {
            w.last_seen = now;
        }
        let lease_ms = self.config.lease_ms;
        leases
            .iter()
            .map(|&(i, attempt)| match self.tasks.get_mut(i) {
                Some(e) if e.attempt == attempt => match &mut e.status {
                    TaskStatus::Leased { worker: w, deadline } if w == worker && *deadline >= now => {
                        *deadline = now + lease_ms;
                        (true, *deadline)
                    }
                    TaskStatus::Committing { worker: w } if w == worker => (true, now + lease_ms),
                    _ => (false, 0),
                },
                _ => (false, 0),
            })
            .collect()
    }

    /// Index of a task of a job.
    pub fn index(&self, job: &str, task_id: &str) -> Option<usize> {
        self.by_id.get(&(job.to_string(), task_id.to_string())).copied()
    }

    /// A task.
    pub fn task(&self, i: usize) -> &TaskEntry {
        &self.tasks[i]
    }

    /// A job.
    pub fn job(&self, id: &str) -> Option<&JobEntry> {
        self.jobs.get(id)
    }

    /// Every job, by id.
    pub fn jobs(&self) -> impl Iterator<Item = &JobEntry> {
        self.jobs.values()
    }

    fn mark_committed(&mut self, i: usize, manifest: Manifest) {
        self.tasks[i].status = TaskStatus::Committed;
        self.tasks[i].manifest = Some(manifest);
        self.changed_tasks.insert(i);
        for d in self.dependants[i].clone() {
            self.deps_left[d] = self.deps_left[d].saturating_sub(1);
            if self.deps_left[d] == 0 && self.tasks[d].status == TaskStatus::Waiting {
                self.make_ready(d, 0);
            }
        }
        let job = self.tasks[i].job.clone();
        self.update_job_state(&job);
    }

    /// The holder reports a failed attempt.
    pub fn fail(&mut self, i: usize, worker: &str, attempt: u32, kind: FailureKind, message: &str, now: u64) -> Result<(), LeaseError> {
        self.check_holder(i, worker, attempt, now)?;
        self.leased.remove(&i);
        match kind {
            FailureKind::GivenBack => self.make_ready(i, 0),
            FailureKind::Retryable => self.retry_or_fail(i, message, now),
            FailureKind::BadInput => {
                self.tasks[i].status = TaskStatus::Failed { reason: message.to_string() };
                self.changed_tasks.insert(i);
                self.propagate_failure(i, message);
            }
        }
        let job = self.tasks[i].job.clone();
        self.update_job_state(&job);
        Ok(())
    }

    fn retry_or_fail(&mut self, i: usize, message: &str, now: u64) {
        let e = &mut self.tasks[i];
        e.failures += 1;
        if e.failures >= self.config.max_attempts {
            let reason = format!("gave up after {} failed attempts; last: {message}", e.failures);
            e.status = TaskStatus::Failed { reason: reason.clone() };
            self.changed_tasks.insert(i);
            self.propagate_failure(i, &reason);
        } else {
            let shift = (e.failures - 1).min(20);
            let delay = (self.config.backoff_base_ms << shift).min(self.config.backoff_max_ms);
            self.make_ready(i, now + delay.max(1));
        }
        let job = self.tasks[i].job.clone();
        self.update_job_state(&job);
    }

    /// Fails every task that needs `i`, transitively; a task that takes partial inputs goes on
    /// without it instead (and becomes ready when it was the last input it waited for).
    fn propagate_failure(&mut self, i: usize, reason: &str) {
        let mut stack = self.dependants[i].clone();
        let name = self.tasks[i].task.id.clone();
        while let Some(d) = stack.pop() {
            if self.tasks[d].status.is_terminal() {
                continue;
            }
            if self.tasks[d].task.partial_inputs {
                self.deps_left[d] = self.deps_left[d].saturating_sub(1);
                if self.deps_left[d] == 0 && self.tasks[d].status == TaskStatus::Waiting {
                    self.make_ready(d, 0);
                }
                continue;
            }
            self.tasks[d].status = TaskStatus::Failed { reason: format!("input {name} failed: {reason}") };
            self.changed_tasks.insert(d);
            stack.extend(self.dependants[d].iter().copied());
        }
    }

    /// Expires leases past their deadline (each counts as a failed attempt: a task that kills its
    /// workers ends), forgets workers silent for a lease period, and fails the running jobs once no
    /// worker has been left for the grace period.
    pub fn tick(&mut self, now: u64) {
        let expired: Vec<usize> = self
            .leased
            .iter()
            .copied()
            .filter(|&i| matches!(self.tasks[i].status, TaskStatus::Leased { deadline, .. } if deadline < now))
            .collect();
        for i in expired {
            self.leased.remove(&i);
            let worker = match &self.tasks[i].status {
                TaskStatus::Leased { worker, .. } => worker.clone(),
                _ => unreachable!(),
            };
            self.retry_or_fail(i, &format!("lease of attempt {} expired (worker {worker} lost)", self.tasks[i].attempt), now);
        }
        let lease_ms = self.config.lease_ms;
        let had = !self.workers.is_empty();
        self.workers.retain(|_, w| w.last_seen + lease_ms >= now);
        if had && self.workers.is_empty() {
            self.no_worker_since = Some(now);
        }
        if let Some(since) = self.no_worker_since
            && now >= since + self.config.worker_grace_ms
        {
            let running: Vec<String> = self.jobs.values().filter(|j| j.state == JobState::Running).map(|j| j.id.clone()).collect();
            for id in running {
                let message = format!("no worker for {} s: every worker left and none came back", self.config.worker_grace_ms / 1000);
                self.end_job(&id, JobState::Failed, &message);
            }
        }
    }

    /// Cancels a running job: its pending tasks end; leases held on them are no longer valid.
    pub fn cancel(&mut self, id: &str) -> Option<&JobEntry> {
        if self.jobs.get(id)?.state == JobState::Running {
            self.end_job(id, JobState::Cancelled, "cancelled by a client");
        }
        self.jobs.get(id)
    }

    fn end_job(&mut self, id: &str, state: JobState, message: &str) {
        let tasks = self.jobs[id].tasks.clone();
        for i in tasks {
            if !self.tasks[i].status.is_terminal() {
                self.tasks[i].status = TaskStatus::Cancelled;
                self.leased.remove(&i);
                self.changed_tasks.insert(i);
            }
        }
        let job = self.jobs.get_mut(id).expect("job exists");
        job.state = state;
        job.message = message.to_string();
        self.changed_jobs.insert(id.to_string());
    }

    fn update_job_state(&mut self, id: &str) {
        let Some(job) = self.jobs.get_mut(id) else { return };
        if job.state != JobState::Running {
            return;
        }
        while job.settled < job.tasks.end && self.tasks[job.settled].status.is_terminal() {
            job.settled += 1;
        }
        if job.settled < job.tasks.end {
            return;
        }
        let failed = job.tasks.clone().filter(|&i| matches!(self.tasks[i].status, TaskStatus::Failed { .. })).count();
        let job = self.jobs.get_mut(id).expect("job exists");
        job.state = if failed == 0 { JobState::Succeeded } else { JobState::SucceededWithFailures };
        if failed > 0 {
            job.message = format!("{failed} task(s) failed; the others committed");
        }
        self.changed_jobs.insert(id.to_string());
    }

    /// Remembers the trace a job belongs to.
    pub fn set_traceparent(&mut self, id: &str, traceparent: String) {
        if let Some(job) = self.jobs.get_mut(id) {
            job.traceparent = traceparent;
            self.changed_jobs.insert(id.to_string());
        }
    }

    /// Tasks and jobs changed since the last call, for the durable store.
    pub fn take_changes(&mut self) -> (Vec<(usize, TaskEntry)>, Vec<JobEntry>) {
        let tasks = std::mem::take(&mut self.changed_tasks).into_iter().map(|i| (i, self.tasks[i].clone())).collect();
        let jobs = std::mem::take(&mut self.changed_jobs).into_iter().filter_map(|id| self.jobs.get(&id).cloned()).collect();
        (tasks, jobs)
    }
}

#[cfg(test)]
mod tests;
