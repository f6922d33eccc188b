//! The coordinator's durable state in an embedded store (redb, one file in the state directory):
//! jobs, their tasks with status and attempt numbers, and the job counter. Every change the
//! scheduler makes is saved in one transaction before the call that made it answers, so a
//! `kill -9` loses no commit and no attempt number; a restart reloads every job.

use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::scheduler::{JobEntry, TaskEntry};

/// Job id -> job (JSON).
const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
/// `<job id>/<task number, 8 digits>` -> task (JSON).
const TASKS: TableDefinition<&str, &[u8]> = TableDefinition::new("tasks");
/// Counters.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store failed.
    #[error("state store {path}: {detail}")]
    Store {
        /// The database file.
        path: String,
        /// What failed.
        detail: String,
    },
    /// A record could not be decoded.
    #[error("state store {path}: record {key} is unreadable: {detail}")]
    Record {
        /// The database file.
        path: String,
        /// Its key.
        key: String,
        /// Why.
        detail: String,
    },
}

/// The durable state.
pub struct DurableState {
    db: Database,
    path: String,
}

impl std::fmt::Debug for DurableState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableState").field("path", &self.path).finish()
    }
}

fn task_key(job: &str, number: usize) -> String {
    format!("{job}/{number:08}")
}

impl DurableState {
    /// Opens (or creates) `dir/state.redb`.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let path = dir.join("state.redb");
        let shown = path.display().to_string();
        let store = |e: &dyn std::fmt::Display| StateError::Store { path: shown.clone(), detail: e.to_string() };
        std::fs::create_dir_all(dir).map_err(|e| store(&e))?;
        let db = Database::create(&path).map_err(|e| store(&e))?;
        let state = Self { db, path: shown.clone() };
        // make the tables exist so that reads of a new store succeed
        state.write(|_, _, _| Ok(()))?;
        Ok(state)
    }

    /// A record, or an error naming its key.
    fn decode<T: serde::de::DeserializeOwned>(&self, key: &str, bytes: &[u8]) -> Result<T, StateError> {
        serde_json::from_slice(bytes).map_err(|e| StateError::Record {
            path: self.path.clone(),
            key: key.to_string(),
            detail: e.to_string(),
        })
    }

    fn err(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Store { path: self.path.clone(), detail: e.to_string() }
    }

    fn write(
        &self,
        f: impl FnOnce(&mut redb::Table<&str, &[u8]>, &mut redb::Table<&str, &[u8]>, &mut redb::Table<&str, u64>) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(|e| self.err(e))?;
            let mut tasks = txn.open_table(TASKS).map_err(|e| self.err(e))?;
            let mut meta = txn.open_table(META).map_err(|e| self.err(e))?;
            f(&mut jobs, &mut tasks, &mut meta)?;
        }
        txn.commit().map_err(|e| self.err(e))
    }

    /// A new job number, durably counted (job ids never repeat across restarts).
    pub fn next_job_number(&self) -> Result<u64, StateError> {
        let mut n = 0;
        self.write(|_, _, meta| {
            n = meta.get("jobs").map_err(|e| self.err(e))?.map(|v| v.value()).unwrap_or(0) + 1;
            meta.insert("jobs", n).map_err(|e| self.err(e))?;
            Ok(())
        })?;
        Ok(n)
    }

    /// Saves changed jobs and tasks (task = (job id, number in the job, entry)) in one transaction.
    pub fn save(&self, jobs: &[JobEntry], tasks: &[(String, usize, TaskEntry)]) -> Result<(), StateError> {
        if jobs.is_empty() && tasks.is_empty() {
            return Ok(());
        }
        self.write(|job_table, task_table, _| {
            for job in jobs {
                let bytes = serde_json::to_vec(job).map_err(|e| self.err(e))?;
                job_table.insert(job.id.as_str(), bytes.as_slice()).map_err(|e| self.err(e))?;
            }
            for (job, number, entry) in tasks {
                let bytes = serde_json::to_vec(entry).map_err(|e| self.err(e))?;
                task_table.insert(task_key(job, *number).as_str(), bytes.as_slice()).map_err(|e| self.err(e))?;
            }
            Ok(())
        })
    }

    /// Holds the store's write transaction until the hold is dropped: every save waits meanwhile,
    /// as behind a stalled disk, and nothing is written by the hold. For tests of what may happen
    /// while a save is pending.
    pub fn hold_saves(&self) -> Result<SaveHold, StateError> {
        Ok(SaveHold(Some(self.db.begin_write().map_err(|e| self.err(e))?)))
    }

    /// Every job with its tasks in plan order.
    pub fn load(&self) -> Result<Vec<(JobEntry, Vec<TaskEntry>)>, StateError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let jobs = txn.open_table(JOBS).map_err(|e| self.err(e))?;
        let tasks = txn.open_table(TASKS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in jobs.iter().map_err(|e| self.err(e))? {
            let (k, v) = item.map_err(|e| self.err(e))?;
            let id = k.value().to_string();
            let job: JobEntry = self.decode(&id, v.value())?;
            let (lo, hi) = (format!("{id}/"), format!("{id}0"));
            let mut entries = Vec::new();
            for item in tasks.range(lo.as_str()..hi.as_str()).map_err(|e| self.err(e))? {
                let (k, v) = item.map_err(|e| self.err(e))?;
                entries.push(self.decode::<TaskEntry>(k.value(), v.value())?);
            }
            out.push((job, entries));
        }
        Ok(out)
    }
}

/// See [`DurableState::hold_saves`].
pub struct SaveHold(Option<redb::WriteTransaction>);

impl Drop for SaveHold {
    fn drop(&mut self) {
        if let Some(txn) = self.0.take() {
            let _ = txn.abort();
        }
    }
}

impl std::fmt::Debug for SaveHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SaveHold")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::{JobState, Scheduler, SchedulerConfig};
    use crate::task::{PlannedTask, Stage};

    #[test]
    fn jobs_and_tasks_survive_a_reopen() {
        let dir = std::env::temp_dir().join(format!("tacefusion-state-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let plan: Vec<PlannedTask> = (0..3)
            .map(|n| PlannedTask {
                id: format!("t{n}"),
                stage: Stage::Ingest,
                key: format!("k{n}"),
                spec: serde_json::json!({ "n": n }).to_string(),
                deps: if n == 2 { vec!["t0".into(), "t1".into()] } else { vec![] },
                cpu_slots: 1,
                gpus: 0,
                partial_inputs: false,
            })
            .collect();
        {
            let state = DurableState::open(&dir).unwrap();
            assert_eq!(state.next_job_number().unwrap(), 1);
            let mut s = Scheduler::new(SchedulerConfig::default());
            s.register("w", 0);
            s.submit("job-1", "study", plan.clone(), |_| None, |_| None);
            s.lease("w", 4, 0, 4, 0);
            let (tasks, jobs) = s.take_changes();
            let first = jobs[0].tasks.start;
            let tasks: Vec<_> = tasks.into_iter().map(|(i, e)| (e.job.clone(), i - first, e)).collect();
            state.save(&jobs, &tasks).unwrap();
        }
        let state = DurableState::open(&dir).unwrap();
        assert_eq!(state.next_job_number().unwrap(), 2, "job numbers never repeat");
        let loaded = state.load().unwrap();
        assert_eq!(loaded.len(), 1);
        let (job, entries) = &loaded[0];
        assert_eq!((job.id.as_str(), job.state, job.attempts), ("job-1", JobState::Running, 2));
        let ids: Vec<&str> = entries.iter().map(|e| e.task.id.as_str()).collect();
        assert_eq!(ids, ["t0", "t1", "t2"]);
        assert_eq!(entries[0].attempt, 1);
        assert_eq!(entries[2].task.spec, serde_json::json!({ "n": 2 }).to_string());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
