//! Attempts that finished and wait to be handed in: the next LeaseTasks call carries them (one call
//! per freed slot, not a CompleteTask call and then a LeaseTasks call), a failed call puts them
//! back for the next, and the heartbeats keep their leases alive until the coordinator has them.

use tacefusion_proto::v1 as pb;
use tokio::sync::Mutex;

use crate::pull::WorkerReport;

/// The queue of finished attempts.
#[derive(Default)]
pub(crate) struct Finished(Mutex<Vec<pb::CompleteTaskRequest>>);

impl Finished {
    /// Queues an attempt whose files are written.
    pub(crate) async fn push(&self, request: pb::CompleteTaskRequest) {
        self.0.lock().await.push(request);
    }

    /// Everything queued, for one call.
    pub(crate) async fn take(&self) -> Vec<pb::CompleteTaskRequest> {
        std::mem::take(&mut *self.0.lock().await)
    }

    /// Queues again, first, what a call that failed carried.
    pub(crate) async fn put_back(&self, mut sent: Vec<pb::CompleteTaskRequest>) {
        let mut queue = self.0.lock().await;
        sent.append(&mut queue);
        *queue = sent;
    }

    /// Drops a queued attempt whose lease the coordinator no longer recognises (it would be
    /// refused); whether it was queued.
    pub(crate) async fn forget(&self, task_id: &str, attempt: u32) -> bool {
        let mut queue = self.0.lock().await;
        let before = queue.len();
        queue.retain(|r| !(r.task_id == task_id && r.attempt == attempt));
        queue.len() < before
    }

    /// The leases of the queued attempts, which the heartbeats renew.
    pub(crate) async fn leases(&self) -> Vec<pb::LeaseRef> {
        self.0.lock().await.iter().map(|r| pb::LeaseRef { task_id: r.task_id.clone(), attempt: r.attempt }).collect()
    }
}

/// Counts the coordinator's answers to the attempts `sent` in the worker's report.
pub(crate) fn record(report: &mut WorkerReport, sent: &[pb::CompleteTaskRequest], answers: &[pb::CompleteTaskResponse]) {
    for (request, answer) in sent.iter().zip(answers) {
        if answer.accepted {
            report.committed += 1;
        } else {
            tracing::warn!(task = %request.task_id, attempt = request.attempt, "commit refused: {}", answer.reason);
            report.refused += 1;
        }
    }
    if answers.len() < sent.len() {
        // an older coordinator ignores the field: it cannot happen with the protocol version checked
        tracing::warn!(sent = sent.len(), answered = answers.len(), "the coordinator did not answer every completion");
    }
}
