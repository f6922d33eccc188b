//! The coordinator alone: 64 simulated workers on loopback lease no-op tasks and commit them (an
//! empty manifest each, created in memory, then in a local folder), through the real gRPC service with its
//! durable state, as workers do: the finished attempts travel with the next lease request; leases per second and lease latency (p50, p99). Then the planner on a study of
//! 100,000 patients without images: time and peak memory.
//!
//! `cargo bench --bench scheduler` (goal: at least 10,000 tasks/s, p99 under 5 ms, planning in
//! seconds): the most tasks/s, then the latency at 10,000 tasks/s.

use std::time::{Duration, Instant};

use tacefusion_coordinator::metrics::Histogram;
use tacefusion_coordinator::planner::{DigestCache, plan};
use tacefusion_coordinator::scheduler::SchedulerConfig;
use tacefusion_coordinator::server::{CoordinatorConfig, open, serve};
use tacefusion_coordinator::task::{PlannedTask, Stage};
use tacefusion_core::Study;
use tacefusion_proto::PROTOCOL_VERSION;
use tacefusion_proto::v1 as pb;
use tacefusion_worker::pull::{ClientTls, connect};

const WORKERS: usize = 64;
const TASKS: usize = 40_000;

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

/// `store`: where the manifests go ("memory://": the scheduler and its durable state alone; a local
/// folder: plus a file created per commit). `rate`: None, every worker asks again as soon as it is
/// answered (the most the coordinator can serve; latency is then at least 64 / calls per second,
/// queueing included); Some(tasks/s), the workers together ask at that pace, each call at its
/// planned time, and its latency counts from that time (a late answer delays the next call but
/// not the clock it is measured by).
async fn scheduler_throughput(store: Option<&str>, rate: Option<f64>) {
    let dir = std::env::temp_dir().join(format!("tacefusion-bench-scheduler-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = CoordinatorConfig {
        state_dir: dir.join("state"),
        store: store.map(str::to_string).unwrap_or_else(|| dir.join("store").to_string_lossy().into_owned()),
        token: None,
        tls: None,
        scheduler: SchedulerConfig::default(),
    };
    let shared = open(&config).await.unwrap();
    let plan: Vec<PlannedTask> = (0..TASKS)
        .map(|n| PlannedTask {
            id: format!("noop/{n}"),
            stage: Stage::Noop,
            key: format!("{n:064x}"),
            spec: "null".into(),
            deps: vec![],
            cpu_slots: 1,
            gpus: 0,
            partial_inputs: false,
        })
        .collect();
    let ticket = {
        let mut s = shared.scheduler.lock().unwrap();
        s.submit("job-bench", "bench", plan, |_| None, |_| None);
        shared.persist(&mut s).0
    };
    shared.durable(ticket).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server_shared = shared.clone();
    tokio::spawn(async move { serve(&config, server_shared, listener, std::future::pending()).await });
    let start = Instant::now();
    let mut handles = Vec::new();
    for w in 0..WORKERS {
        let url = url.clone();
        handles.push(tokio::spawn(async move {
            let mut client = connect(&url, None, &ClientTls::default(), Duration::from_secs(10)).await.unwrap();
            let id = format!("bench-{w}");
            client
                .register_worker(pb::RegisterWorkerRequest { worker_id: id.clone(), protocol_version: PROTOCOL_VERSION, resources: None })
                .await
                .unwrap();
            let mut latencies = Vec::new();
            // as a worker does: the attempts finished since the last call travel with the next one
            let mut completed = Vec::new();
            // each worker's calls every `WORKERS * 4 / rate` seconds, the workers spread over one period
            let period = rate.map(|r| Duration::from_secs_f64(WORKERS as f64 * 4.0 / r));
            let mut planned = tokio::time::Instant::now() + period.map(|p| p * w as u32 / WORKERS as u32).unwrap_or_default();
            loop {
                let t = match period {
                    Some(p) => {
                        tokio::time::sleep_until(planned).await;
                        planned += p;
                        (planned - p).into_std()
                    }
                    None => Instant::now(),
                };
                let request = pb::LeaseTasksRequest {
                    worker_id: id.clone(),
                    free_cpu_slots: 4,
                    free_gpus: 0,
                    max_tasks: 4,
                    completed: std::mem::take(&mut completed),
                };
                let r = client.lease_tasks(request).await.unwrap().into_inner();
                latencies.push(t.elapsed());
                for c in &r.completions {
                    assert!(c.accepted, "{}", c.reason);
                }
                if r.leases.is_empty() {
                    return latencies;
                }
                completed = r
                    .leases
                    .into_iter()
                    .map(|l| pb::CompleteTaskRequest {
                        worker_id: id.clone(),
                        task_id: l.task.unwrap().task_id,
                        attempt: l.attempt,
                        manifest: Some(Default::default()),
                        traceparent: String::new(),
                    })
                    .collect();
            }
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let (committed, server) = {
        let m = shared.metrics.lock().unwrap();
        (m.commits, m.lease_latency.clone())
    };
    assert_eq!(committed as usize, TASKS);
    // the coordinator's own view: from a lease request's arrival to its answer, the state saved
    let bound = |q: f64| {
        let target = (server.count as f64 * q).ceil() as u64;
        let mut seen = 0;
        Histogram::BOUNDS
            .iter()
            .zip(&server.buckets)
            .find(|(_, n)| {
                seen += **n;
                seen >= target
            })
            .map(|(b, _)| format!("<= {} ms", b * 1e3))
            .unwrap_or_else(|| "> 1000 ms".into())
    };
    println!(
        "  coordinator side (lease request in, answer out): p50 {}, p99 {} ({} requests with leases)",
        bound(0.5),
        bound(0.99),
        server.count
    );
    println!(
        "scheduler, manifests in {}, {}: {TASKS} no-op tasks, {WORKERS} workers on loopback: {:.0} tasks/s (lease + commit, durable), lease latency p50 {:.2} ms, p99 {:.2} ms ({} lease calls)",
        if store.is_some() { "memory" } else { "a local folder" },
        rate.map(|r| format!("workers asking at {r:.0} tasks/s")).unwrap_or_else(|| "workers asking as fast as answered".into()),
        TASKS as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn planner_scale() {
    let dir = std::env::temp_dir().join(format!("tacefusion-bench-planner-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let mut csv = String::from("patient_id,os_months\n");
    for n in 0..100_000 {
        csv.push_str(&format!("P{n:06},{}\n", n % 90));
    }
    std::fs::write(dir.join("clinical.csv"), csv).unwrap();
    let toml = "[study]\nname = \"scale\"\n\n[[cohorts]]\nname = \"all\"\nrole = \"training\"\ncentre = \"A\"\nclinical = \"clinical.csv\"\n\n[cohorts.images]\nimage = \"images/{patient}/{phase}.nii.gz\"\nmask = \"images/{patient}/{phase}_mask.nii.gz\"\n";
    let file = dir.join("study.toml");
    std::fs::write(&file, toml).unwrap();
    let before = peak_rss_kib();
    let start = Instant::now();
    let study = Study::from_path(&file).unwrap();
    let tasks = plan(&study, &file, &mut DigestCache::default()).unwrap();
    println!(
        "planner: 100,000 patients x 2 phases (image files absent) -> {} tasks in {:.3} s; peak RSS {} MiB (was {} MiB)",
        tasks.len(),
        start.elapsed().as_secs_f64(),
        peak_rss_kib() / 1024,
        before / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    planner_scale();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    for store in [Some("memory://"), None] {
        runtime.block_on(scheduler_throughput(store, None));
        // the goal's pace: is a lease answered within 5 ms when 10,000 tasks/s are asked for?
        runtime.block_on(scheduler_throughput(store, Some(10_000.0)));
    }
}
