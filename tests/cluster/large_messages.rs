//! Messages over gRPC's default 4 MiB limit go through: the lease of a fan-in task over 60,000
//! inputs (~6 MB of input manifests: a cohort of that many patients) and a completion listing
//! 60,000 files. Under the default limit the worker could not decode such a lease: the task was
//! leased again and again until its attempts ran out.

use tacefusion_coordinator::task::{Manifest, manifest_path};

use crate::harness::scratch;
use crate::in_process::{InProcess, noop};

#[test]
fn a_fan_in_over_60000_inputs_is_leased_and_committed() {
    let dir = scratch("large-messages");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let n = 60_000;
        let inputs: Vec<String> = (1..=n).map(|i| format!("{i:064x}")).collect();
        let ids: Vec<String> = (0..n).map(|i| format!("noop/in-{i}")).collect();
        let mut plan = vec![noop("noop/0", format!("{:064x}", 0), ids.clone())];
        plan.extend(ids.iter().zip(&inputs).map(|(id, key)| noop(id, key.clone(), vec![])));
        // the inputs committed by an earlier job
        let committed = |key: &str| {
            (key != format!("{:064x}", 0)).then(|| Manifest {
                task_id: String::new(),
                stage: "noop".into(),
                key: key.into(),
                attempt: 1,
                worker: "earlier".into(),
                files: vec![],
                committed_unix_ms: 0,
            })
        };
        let mut c = InProcess::start_with(&dir, "job-large", plan, committed).await;

        let lease = c.client.lease_tasks(InProcess::ask(vec![])).await.expect("a lease over 4 MiB").into_inner().leases.remove(0);
        let task = lease.task.clone().unwrap();
        assert_eq!(task.task_id, "job-large/noop/0");
        assert_eq!(task.input_manifests.len(), n);
        assert_eq!(task.input_manifests[0], manifest_path("noop", &inputs[0]));

        let finished = c.write(lease, "patients.parquet", n);
        let answer = c.client.lease_tasks(InProcess::ask(vec![finished])).await.expect("a completion over 4 MiB").into_inner();
        assert!(answer.completions[0].accepted, "{:?}", answer.completions);
        let manifest = std::fs::read(c.store.join(manifest_path("noop", &c.key))).unwrap();
        let manifest: Manifest = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest.files.len(), n);
    });
}
