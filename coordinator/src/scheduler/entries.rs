//! What the scheduler keeps: its settings, tasks with their status, jobs with their state, and the
//! leases and refusals it answers with.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::task::{Manifest, PlannedTask};

/// Timing and budgets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchedulerConfig {
    /// How long a lease lasts without a heartbeat, ms.
    pub lease_ms: u64,
    /// Attempts of a task that end in a retryable failure or a lost lease before it fails.
    pub max_attempts: u32,
    /// First retry delay, ms; doubled at each retry up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    /// Longest retry delay, ms.
    pub backoff_max_ms: u64,
    /// How long a job with pending tasks waits once its last worker is gone, ms.
    pub worker_grace_ms: u64,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self { lease_ms: 30_000, max_attempts: 4, backoff_base_ms: 1_000, backoff_max_ms: 60_000, worker_grace_ms: 300_000 }
    }
}

/// Where a task is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskStatus {
    /// Some of its inputs are not committed yet.
    Waiting,
    /// May be leased from `not_before` (ms) on.
    Ready {
        /// Backoff end, ms.
        not_before: u64,
    },
    /// Leased to `worker` until `deadline` (ms), unless renewed.
    Leased {
        /// Holder.
        worker: String,
        /// Expiry, ms.
        deadline: u64,
    },
    /// Its holder asked to commit; the manifest is being created.
    Committing {
        /// Holder.
        worker: String,
    },
    /// Done: its manifest exists.
    Committed,
    /// Failed for good.
    Failed {
        /// Why.
        reason: String,
    },
    /// Its job was cancelled.
    Cancelled,
}

impl TaskStatus {
    /// Committed, failed or cancelled.
    pub fn is_terminal(&self) -> bool {
        matches!(self, TaskStatus::Committed | TaskStatus::Failed { .. } | TaskStatus::Cancelled)
    }
}

/// A task with its scheduling state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEntry {
    /// Its job.
    pub job: String,
    /// What to run.
    pub task: PlannedTask,
    /// Where it is.
    pub status: TaskStatus,
    /// Last attempt number issued (0: never leased).
    pub attempt: u32,
    /// Attempts that failed retryably or lost their lease.
    pub failures: u32,
    /// The manifest, once committed.
    pub manifest: Option<Manifest>,
    /// The attempt (worker, attempt number) whose commit marked it committed; its manifest is
    /// another attempt's when that one had created it first.
    #[serde(default)]
    pub committer: Option<(String, u32)>,
}

/// State of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Tasks are pending.
    Running,
    /// Every task committed.
    Succeeded,
    /// Every task ended; some failed (listed), the rest committed.
    SucceededWithFailures,
    /// The job failed as a whole (no worker left).
    Failed,
    /// Cancelled by a client.
    Cancelled,
}

/// A job: its tasks (indices into the scheduler's table) and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEntry {
    /// Id.
    pub id: String,
    /// Name of the study.
    pub study: String,
    /// Task indices: a job's tasks are contiguous in the scheduler's table. Not saved (the task
    /// records are, by number in the job), so that saving a job costs the same for any size.
    #[serde(skip)]
    pub tasks: Range<usize>,
    /// Tasks before this index are known to have ended (ended tasks never reopen), so that
    /// checking whether the job ended costs O(1) amortised per task instead of O(tasks).
    #[serde(skip)]
    pub(super) settled: usize,
    /// State.
    pub state: JobState,
    /// Why it failed or was cancelled.
    pub message: String,
    /// Attempts leased for it.
    pub attempts: u32,
    /// W3C traceparent of its submission (empty when not traced): its tasks' spans join that trace.
    #[serde(default)]
    pub traceparent: String,
}

/// A lease handed to a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct Granted {
    /// Task index.
    pub index: usize,
    /// Attempt number.
    pub attempt: u32,
    /// Expiry, ms.
    pub deadline: u64,
}

/// Why a worker's request about a lease is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// No such task.
    #[error("unknown task {0}")]
    UnknownTask(String),
    /// The caller does not hold the current lease of the task (expired, reassigned, cancelled).
    #[error("task {task}: attempt {attempt} of worker {worker} does not hold the current lease ({current})")]
    NotHolder {
        /// Task id.
        task: String,
        /// The caller's attempt.
        attempt: u32,
        /// The caller.
        worker: String,
        /// What the task is doing now.
        current: String,
    },
}
