//! The commit protocol's side of the scheduler: only the holder of a task's current lease may
//! begin a commit, which freezes the task until the manifest exists (committed) or could not be
//! created (back to the queue); a completion sent again is recognised by its attempt.

use super::{LeaseError, Scheduler, TaskStatus};
use crate::task::Manifest;

impl Scheduler {
    /// Whether `worker` holds the lease of attempt `attempt`, unexpired at `now`.
    pub(super) fn check_holder(&self, i: usize, worker: &str, attempt: u32, now: u64) -> Result<(), LeaseError> {
        let e = &self.tasks[i];
        let holds =
            e.attempt == attempt && matches!(&e.status, TaskStatus::Leased { worker: w, deadline } if w == worker && *deadline >= now);
        if holds {
            Ok(())
        } else {
            let current = match &e.status {
                TaskStatus::Leased { worker, .. } => format!("attempt {} leased to {worker}", e.attempt),
                other => format!("{other:?}"),
            };
            Err(LeaseError::NotHolder { task: e.task.id.clone(), attempt, worker: worker.to_string(), current })
        }
    }

    /// Whether this attempt of `worker` committed the task (its completion sent again, after a call
    /// whose answer was lost): its manifest is the task's, or its commit found another attempt's.
    pub fn committed_by(&self, i: usize, worker: &str, attempt: u32) -> bool {
        let e = &self.tasks[i];
        let by = |w: &str, a: u32| a == attempt && w == worker;
        e.status == TaskStatus::Committed
            && (e.manifest.as_ref().is_some_and(|m| by(&m.worker, m.attempt)) || e.committer.as_ref().is_some_and(|(w, a)| by(w, *a)))
    }

    /// Whether this attempt of `worker` is committing now (frozen between `begin_commit` and its end).
    pub fn committing(&self, i: usize, worker: &str, attempt: u32) -> bool {
        let e = &self.tasks[i];
        e.attempt == attempt && matches!(&e.status, TaskStatus::Committing { worker: w } if w == worker)
    }

    /// The holder of the current lease asks to commit: the task is frozen until `finish_commit` or
    /// `abort_commit`. Refused for anyone else (a zombie attempt whose lease expired).
    pub fn begin_commit(&mut self, i: usize, worker: &str, attempt: u32, now: u64) -> Result<(), LeaseError> {
        self.check_holder(i, worker, attempt, now)?;
        self.tasks[i].status = TaskStatus::Committing { worker: worker.to_string() };
        Ok(())
    }

    /// The manifest exists (this attempt's, or one committed before for the same key): the task is
    /// committed and the tasks waiting on it may become ready.
    pub fn finish_commit(&mut self, i: usize, manifest: Manifest) {
        self.leased.remove(&i);
        if let TaskStatus::Committing { worker } = &self.tasks[i].status {
            self.tasks[i].committer = Some((worker.clone(), self.tasks[i].attempt));
        }
        self.mark_committed(i, manifest);
    }

    /// Creating the manifest failed (store unavailable): the task goes back to the queue.
    pub fn abort_commit(&mut self, i: usize, reason: &str, now: u64) {
        self.leased.remove(&i);
        self.retry_or_fail(i, reason, now);
    }
}
