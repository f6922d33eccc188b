//! A worker told to stop while its lease request is in flight gives back the leases the answer
//! brings, so that another worker gets the task at once (they used to be dropped with the call and
//! left to expire, the job waiting a whole lease on them).

use std::time::{Duration, Instant};

use tacefusion_coordinator::scheduler::TaskStatus;
use tacefusion_coordinator::service::now_ms;
use tacefusion_coordinator::task::FailureKind;
use tacefusion_worker::pull::{ClientTls, WorkerConfig, run};

use crate::harness::scratch;
use crate::in_process::InProcess;

#[test]
fn a_worker_stopped_mid_lease_request_gives_the_leases_back() {
    let dir = scratch("drain");
    // server calls blocked on the held scheduler lock occupy runtime threads: leave some free
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(8).enable_all().build().unwrap();
    runtime.block_on(async {
        let mut c = InProcess::start(&dir, "job-drain").await;
        let config = WorkerConfig {
            coordinator: c.url.clone(),
            token: None,
            tls: ClientTls::default(),
            worker_id: "drainer".into(),
            slots: 1,
            gpus: 0,
            gpu_names: vec![],
            memory_bytes: 0,
            poll: Duration::from_millis(50),
            drain_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
        };
        // the task is out of reach (leased by `w`) while the worker starts: its requests come back empty
        let held_by_w = c.client.lease_tasks(InProcess::ask(vec![])).await.unwrap().into_inner().leases.remove(0);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let worker = tokio::spawn(run(config, async move {
            let _ = stopped.await;
        }));
        let start = Instant::now();
        while !c.shared.scheduler.lock().unwrap().knows("drainer") {
            assert!(start.elapsed() < Duration::from_secs(30), "the worker never registered");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // hold the scheduler, `w` giving the task back meanwhile: the worker's next lease request
        // waits in the coordinator, and will be answered with the task
        let (locked, is_locked) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let shared = c.shared.clone();
        let job = c.job.clone();
        let holder = std::thread::spawn(move || {
            let mut s = shared.scheduler.lock().unwrap();
            let i = s.index(&job, "noop/0").unwrap();
            s.fail(i, "w", held_by_w.attempt, FailureKind::GivenBack, "test", now_ms()).unwrap();
            let (_, ended) = shared.persist(&mut s);
            assert!(ended.is_empty());
            locked.send(()).unwrap();
            released.recv().unwrap();
        });
        is_locked.recv().unwrap();
        // While the lock is held a runtime thread waits on it, and Tokio's timers may not be turned
        // (the driver is taken by a thread that parks, and a blocked one never does): these waits are
        // the thread's own, or this future would wait for ever on a timer that never fires.
        std::thread::sleep(Duration::from_millis(300));
        // the stop comes while the request is in flight; then the coordinator answers it with a lease
        stop.send(()).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        release.send(()).unwrap();
        holder.join().unwrap();
        let report = worker.await.unwrap().unwrap();
        assert_eq!(report.given_back, 1, "{report:?}");
        assert!(matches!(c.status(), TaskStatus::Ready { .. }), "left {:?}", c.status());
        // another worker gets it now, not a lease later
        let leases = c.client.lease_tasks(InProcess::ask(vec![])).await.unwrap().into_inner().leases;
        assert_eq!(leases.len(), 1, "{leases:?}");
        // attempts: 1 given back by `w`, 2 by the worker, 3 now
        assert_eq!(leases[0].attempt, 3);
    });
}
