//! A client that sees a job end can read its results at once: the coordinator reports the job as
//! running until the job's result index is written (it used to report the end first, and a query
//! made at that moment found no results).

use std::time::{Duration, Instant};

use futures::StreamExt;
use tacefusion_coordinator::scheduler::JobState;
use tacefusion_proto::v1 as pb;

use crate::harness::scratch;
use crate::in_process::InProcess;

#[test]
fn a_job_is_seen_ended_only_once_its_index_is_written() {
    let dir = scratch("job-end");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut c = InProcess::start(&dir, "job-end").await;
        // a table listed 30,000 times: a long index (~3 MB), written after the last commit
        let finished = c.lease_and_write("patients.parquet", 30_000).await;
        let index = c.store.join("jobs/job-end/job.json");
        let ask = || pb::GetJobRequest { job_id: "job-end".into() };

        // GetJob as often as it answers (the end used to be seen ~24,000 polls before the index), and
        // WatchJob, whose stream must end too, each looking for the index when it first sees the end
        let mut polling = c.client.clone();
        let polled_index = index.clone();
        let poller = tokio::spawn(async move {
            let start = Instant::now();
            let mut polls = 0u64;
            loop {
                let status = polling.get_job(ask()).await.unwrap().into_inner();
                polls += 1;
                if status.state != pb::JobState::Running as i32 {
                    return (status.state, polled_index.exists(), polls);
                }
                assert!(start.elapsed() < Duration::from_secs(120), "the job did not end: {status:?}");
            }
        });
        let mut stream = c.client.clone().watch_job(ask()).await.unwrap().into_inner();
        let watched_index = index.clone();
        let watcher = tokio::spawn(async move {
            let mut last = None;
            while let Some(status) = stream.next().await {
                let status = status.unwrap();
                if status.state != pb::JobState::Running as i32 {
                    return (status.state, watched_index.exists());
                }
                last = Some(status);
            }
            panic!("the stream closed while the job ran: {last:?}");
        });

        // saves stalled for 300 ms once the job has ended in the scheduler: the end waits for its
        // save, then its index, and is visible to neither client meanwhile (WatchJob's 100 ms of
        // coalescing catch the old order this way too)
        let stalled = c.shared.state.hold_saves().unwrap();
        let mut completing = c.client.clone();
        let completion = tokio::spawn(async move { completing.lease_tasks(InProcess::ask(vec![finished])).await });
        let start = Instant::now();
        while c.shared.scheduler.lock().unwrap().job("job-end").unwrap().state == JobState::Running {
            assert!(start.elapsed() < Duration::from_secs(120), "the commit did not end the job");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(stalled);
        let answer = completion.await.unwrap().unwrap().into_inner();
        assert!(answer.completions[0].accepted, "{:?}", answer.completions);
        let (state, index_was_there, polls) = poller.await.unwrap();
        assert_eq!(state, pb::JobState::Succeeded as i32);
        assert!(index_was_there, "GetJob said the job ended before its index was written (after {polls} polls)");
        let (state, index_was_there) = watcher.await.unwrap();
        assert_eq!(state, pb::JobState::Succeeded as i32);
        assert!(index_was_there, "WatchJob said the job ended before its index was written");
    });
}
