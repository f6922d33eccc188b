//! A restarted coordinator writes the result index only of the jobs that ended without one (just
//! before a crash); a job's index written when it ended is left as it is (it used to be written
//! again for every ended job at every start-up).

use std::path::Path;
use std::time::{Duration, Instant};

use tacefusion_coordinator::server::open;
use tacefusion_proto::v1 as pb;

use crate::harness::scratch;
use crate::in_process::{InProcess, config};

/// Opens the coordinator on `dir`'s state in a runtime of its own, and answers the job's state
/// as clients see it; the runtime (and with it the coordinator and its state file) is gone after.
fn restart(dir: &Path, job: &str) -> i32 {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let shared = open(&config(dir)).await.unwrap();
        let s = shared.scheduler.lock().unwrap();
        shared.job_status(&s, job).unwrap().state
    })
}

#[test]
fn a_restart_writes_only_the_missing_result_indexes() {
    let dir = scratch("restart-index");
    let index = dir.join("store/jobs/restart-index/job.json");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut c = InProcess::start(&dir, "restart-index").await;
        let finished = c.lease_and_write("patients.parquet", 1).await;
        let answer = c.client.lease_tasks(InProcess::ask(vec![finished])).await.unwrap().into_inner();
        assert!(answer.completions[0].accepted, "{:?}", answer.completions);
        let start = Instant::now();
        while !index.exists() {
            assert!(start.elapsed() < Duration::from_secs(60), "no index was written");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    // the coordinator's tasks, and its hold on the state file, end with its runtime
    drop(runtime);
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(written["state"], "Succeeded", "{written}");

    // an index already there is kept: the start-up does not write it again
    let mut marked = written.clone();
    marked["message"] = "marked by the test".into();
    std::fs::write(&index, serde_json::to_vec(&marked).unwrap()).unwrap();
    assert_eq!(restart(&dir, "restart-index"), pb::JobState::Succeeded as i32, "the job is seen ended");
    let kept: serde_json::Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(kept, marked, "the index was written again at start-up");

    // a missing index (the job ended just before a crash) is written before the job is seen ended
    std::fs::remove_file(&index).unwrap();
    assert_eq!(restart(&dir, "restart-index"), pb::JobState::Succeeded as i32, "the job is seen ended");
    let rewritten: serde_json::Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(rewritten, written, "the index written again differs from the one written when the job ended");
}
