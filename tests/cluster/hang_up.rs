//! A commit whose caller hangs up mid-call still ends: the coordinator finishes it on its own task
//! (a dropped call used to leave the task frozen in `Committing`, and its job waiting forever: a
//! worker killed while its lease request carried finished attempts); the same attempt sent again
//! meanwhile waits for it and is answered as committed. A cancel (like any call that ends a job)
//! whose caller hangs up before the state is saved still ends the job with its result index.

use std::time::{Duration, Instant};

use tacefusion_coordinator::scheduler::{JobState, TaskStatus};
use tacefusion_proto::v1 as pb;
use tacefusion_worker::pull::{ClientTls, connect};

use crate::harness::scratch;
use crate::in_process::InProcess;

#[test]
fn a_commit_whose_caller_hangs_up_still_ends() {
    let dir = scratch("hang-up");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut c = InProcess::start(&dir, "job-hang-up").await;
        // one output file listed 20,000 times: checking their sizes keeps the commit busy a while
        let finished = c.lease_and_write("out.bin", 20_000).await;
        let mut client = c.client.clone();
        let mut call = Box::pin(client.lease_tasks(InProcess::ask(vec![finished.clone()])));
        // hang up once the coordinator has begun the commit
        let start = Instant::now();
        while !matches!(c.status(), TaskStatus::Committing { .. }) {
            tokio::select! {
                r = &mut call => panic!("the commit ended before the caller could hang up: {r:?}"),
                _ = tokio::time::sleep(Duration::from_micros(200)) => {}
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the commit never began: {:?}", c.status());
        }
        drop(call);
        drop(client);
        // the worker sends it again (its call failed): answered once the first commit has ended
        let mut again = connect(&c.url, None, &ClientTls::default(), Duration::from_secs(10)).await.unwrap();
        let answer = again.lease_tasks(InProcess::ask(vec![finished])).await.unwrap().into_inner();
        assert!(answer.completions[0].accepted, "{:?}", answer.completions);
        assert_eq!(c.status(), TaskStatus::Committed);
        assert!(c.store.join(format!("cache/noop/{}/manifest.json", c.key)).exists());
    });
}

#[test]
fn a_cancel_whose_caller_hangs_up_still_ends_its_job() {
    let dir = scratch("hang-up-cancel");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let c = InProcess::start(&dir, "job-cancel").await;
        let ask = || pb::GetJobRequest { job_id: "job-cancel".into() };
        // saves stalled: the cancel's handler waits for its save, after the job has ended
        let stalled = c.shared.state.hold_saves().unwrap();
        let mut client = c.client.clone();
        let mut call = Box::pin(client.cancel_job(pb::CancelJobRequest { job_id: "job-cancel".into() }));
        let start = Instant::now();
        let cancelled = || {
            let s = c.shared.scheduler.lock().unwrap();
            s.job("job-cancel").unwrap().state == JobState::Cancelled
        };
        while !cancelled() {
            tokio::select! {
                r = &mut call => panic!("the cancel was answered before its save: {r:?}"),
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the cancel never reached the scheduler");
        }
        // hang up while the handler waits, let the reset reach the server (which drops the handler),
        // then let the save go on: the job must still end, with its result index
        drop(call);
        drop(client);
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(stalled);
        let index = c.store.join("jobs/job-cancel/job.json");
        let mut client = c.client.clone();
        loop {
            let status = client.get_job(ask()).await.unwrap().into_inner();
            if status.state == pb::JobState::Cancelled as i32 {
                assert!(index.exists(), "the job was seen ended without its index");
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the cancelled job is still running: {status:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}
