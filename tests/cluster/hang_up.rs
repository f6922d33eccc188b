//! A commit whose caller hangs up mid-call still ends: the coordinator finishes it on its own task
//! (a dropped call used to leave the task frozen in `Committing`, and its job waiting forever: a
//! worker killed while its lease request carried finished attempts); the same attempt sent again
//! meanwhile waits for it and is answered as committed.

use std::time::{Duration, Instant};

use tacefusion_coordinator::scheduler::{SchedulerConfig, TaskStatus};
use tacefusion_coordinator::server::{CoordinatorConfig, open, serve};
use tacefusion_coordinator::task::{PlannedTask, Stage, attempt_dir};
use tacefusion_proto::PROTOCOL_VERSION;
use tacefusion_proto::v1 as pb;
use tacefusion_worker::pull::{ClientTls, connect};

use crate::harness::scratch;

#[test]
fn a_commit_whose_caller_hangs_up_still_ends() {
    let dir = scratch("hang-up");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let store = dir.join("store");
        let config = CoordinatorConfig {
            state_dir: dir.join("state"),
            store: store.to_string_lossy().into_owned(),
            token: None,
            tls: None,
            scheduler: SchedulerConfig::default(),
        };
        let shared = open(&config).await.unwrap();
        let key = format!("{:064x}", 7);
        let plan = vec![PlannedTask {
            id: "noop/0".into(),
            stage: Stage::Noop,
            key: key.clone(),
            spec: "null".into(),
            deps: vec![],
            cpu_slots: 1,
            gpus: 0,
            partial_inputs: false,
        }];
        let ticket = {
            let mut s = shared.scheduler.lock().unwrap();
            s.submit("job-hang-up", "test", plan, |_| None, |_| None);
            shared.persist(&mut s).0
        };
        shared.durable(ticket).await.unwrap();
        let status = || {
            let s = shared.scheduler.lock().unwrap();
            s.task(s.index("job-hang-up", "noop/0").unwrap()).status.clone()
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = shared.clone();
        tokio::spawn(async move { serve(&config, server, listener, std::future::pending()).await });

        let mut client = connect(&url, None, &ClientTls::default(), Duration::from_secs(10)).await.unwrap();
        let register = pb::RegisterWorkerRequest { worker_id: "w".into(), protocol_version: PROTOCOL_VERSION, resources: None };
        client.register_worker(register).await.unwrap();
        let ask = |completed| pb::LeaseTasksRequest { worker_id: "w".into(), free_cpu_slots: 1, free_gpus: 0, max_tasks: 1, completed };
        let lease = client.lease_tasks(ask(vec![])).await.unwrap().into_inner().leases.remove(0);
        // one output file listed 20,000 times: checking their sizes keeps the commit busy a while
        let path = format!("{}/out.bin", attempt_dir("noop", &key, lease.attempt));
        std::fs::create_dir_all(store.join(&path).parent().unwrap()).unwrap();
        std::fs::write(store.join(&path), b"abc").unwrap();
        let files = (0..20_000).map(|_| pb::OutputFile { path: path.clone(), bytes: 3, sha256: String::new() }).collect();
        let finished = pb::CompleteTaskRequest {
            worker_id: "w".into(),
            task_id: lease.task.unwrap().task_id,
            attempt: lease.attempt,
            manifest: Some(pb::Manifest { files, ..Default::default() }),
            traceparent: String::new(),
        };
        let mut call = Box::pin(client.lease_tasks(ask(vec![finished.clone()])));
        // hang up once the coordinator has begun the commit
        let start = Instant::now();
        while !matches!(status(), TaskStatus::Committing { .. }) {
            tokio::select! {
                r = &mut call => panic!("the commit ended before the caller could hang up: {r:?}"),
                _ = tokio::time::sleep(Duration::from_micros(200)) => {}
            }
            assert!(start.elapsed() < Duration::from_secs(30), "the commit never began: {:?}", status());
        }
        drop(call);
        drop(client);
        // the worker sends it again (its call failed): answered once the first commit has ended
        let mut again = connect(&url, None, &ClientTls::default(), Duration::from_secs(10)).await.unwrap();
        let answer = again.lease_tasks(ask(vec![finished])).await.unwrap().into_inner();
        assert!(answer.completions[0].accepted, "{:?}", answer.completions);
        assert_eq!(status(), TaskStatus::Committed);
        // the commit ended (committed), the task is not left frozen
        let start = Instant::now();
        while status() != TaskStatus::Committed {
            assert!(start.elapsed() < Duration::from_secs(60), "left in {:?} after its caller hung up", status());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(store.join(format!("cache/noop/{key}/manifest.json")).exists());
    });
}
