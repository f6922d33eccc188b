//! Faults: a worker killed mid-task, the coordinator killed mid-job and restarted on its state, a
//! zombie attempt committing after its lease was reassigned, and a worker with a wrong token.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::harness::*;

/// The reference tables of the study, from `run --workers 2`.
fn reference(dir: &std::path::Path, study: &std::path::Path) -> Vec<(String, String)> {
    let out = dir.join("reference");
    let job = ok(&["run", study.to_str().unwrap(), "--workers", "2", "--out", out.to_str().unwrap()]);
    tables(out.to_str().unwrap(), Some(job.trim()), &[])
}

#[test]
fn a_killed_worker_loses_nothing_and_nothing_commits_twice() {
    let dir = scratch("kill-worker");
    let study = small_study(&dir);
    let want = reference(&dir, &study);
    // 3 s leases: heartbeats (every second) get through while training tasks load both cores
    let c = start_coordinator(&dir, free_port(), &["--lease-ms", "3000"]);
    let mut victim = start_worker(&c.url, &["--slots", "2"], &[]);
    let job = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    // kill it while it holds leases, after some commits
    wait_until(Duration::from_secs(120), || metric(c.metrics, "tacefusion_commits_total") >= 20);
    victim.kill9();
    let _rest: Vec<Proc> = (0..2).map(|_| start_worker(&c.url, &[], &[])).collect();
    let end = wait_job(&c.url, &job, Duration::from_secs(300));
    assert_eq!(end["state"], "succeeded_with_failures", "{end}");
    assert_same(&want, &tables(c.store.to_str().unwrap(), Some(&job), &[]));
    // one manifest per task, and the coordinator accepted exactly one commit per committed task
    let committed: u64 = end["stages"].as_array().unwrap().iter().map(|s| s["committed"].as_u64().unwrap()).sum();
    assert_eq!(manifests(&c.store).len() as u64, committed, "manifests listed vs committed tasks");
    // (604 vs 605 here, in CI, was the last commit counted after the job had ended: fixed in
    // complete_task, which now counts it before the job can end)
    assert_eq!(metric(c.metrics, "tacefusion_commits_total"), committed, "commits counted vs committed tasks");
}

#[test]
fn a_restarted_coordinator_resumes_without_rerunning_committed_tasks() {
    let dir = scratch("kill-coordinator");
    let study = small_study(&dir);
    let want = reference(&dir, &study);
    let port = free_port();
    let mut c = start_coordinator(&dir, port, &[]);
    let _workers: Vec<Proc> = (0..2).map(|_| start_worker(&c.url, &[], &[])).collect();
    let job = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    wait_until(Duration::from_secs(120), || metric(c.metrics, "tacefusion_commits_total") >= 30);
    c.proc.kill9();
    let before: BTreeMap<String, u64> = manifests(&c.store).into_iter().collect();
    assert!(before.len() >= 30);
    // same port and state directory: the workers find it again and register anew
    let c = start_coordinator(&dir, port, &[]);
    let end = wait_job(&c.url, &job, Duration::from_secs(300));
    assert_eq!(end["state"], "succeeded_with_failures", "{end}");
    assert_same(&want, &tables(c.store.to_str().unwrap(), Some(&job), &[]));
    let after: BTreeMap<String, u64> = manifests(&c.store).into_iter().collect();
    let mut reran = 0;
    for (key, attempt) in &before {
        assert_eq!(after[key], *attempt, "{key}: its manifest changed");
        // no attempt after the committed one was started for it after the restart
        if last_attempt(&c.store, key) > *attempt {
            reran += 1;
        }
    }
    assert_eq!(reran, 0, "{reran} committed tasks ran again after the restart");
}

#[test]
fn a_zombie_attempt_cannot_commit_and_its_files_are_never_read() {
    let dir = scratch("zombie");
    let study = small_study(&dir);
    let want = reference(&dir, &study);
    // leases of 3 s: short enough for the zombie's to expire, long enough that the honest workers'
    // heartbeats (every second) get through while training tasks load every core
    let c = start_coordinator(&dir, free_port(), &["--lease-ms", "3000"]);
    // a worker that never heartbeats and commits late: every lease it takes expires and is reassigned
    let zombie =
        start_worker(&c.url, &["--slots", "1"], &[("TACEFUSION_TEST_NO_HEARTBEAT", "1"), ("TACEFUSION_TEST_COMMIT_DELAY_MS", "4500")]);
    let job = ok(&["submit", study.to_str().unwrap(), "--coordinator", &c.url]).trim().to_string();
    wait_until(Duration::from_secs(60), || metric(c.metrics, "tacefusion_leases_total") >= 1);
    let _honest: Vec<Proc> = (0..2).map(|_| start_worker(&c.url, &[], &[])).collect();
    let end = wait_job(&c.url, &job, Duration::from_secs(300));
    drop(zombie);
    assert!(metric(c.metrics, "tacefusion_refused_commits_total") >= 1, "the zombie's commit was refused");
    assert_same(&want, &tables(c.store.to_str().unwrap(), Some(&job), &[]));
    // no manifest lists a file of an attempt other than its own, and the index lists only manifests' files
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(c.store.join(format!("jobs/{job}/job.json"))).unwrap()).unwrap();
    let listed: Vec<String> = index["tables"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()))
        .collect();
    for (key, attempt) in manifests(&c.store) {
        let prefix = format!("cache/{key}/");
        for path in listed.iter().filter(|p| p.starts_with(&prefix)) {
            assert!(path.starts_with(&format!("{prefix}attempt-{attempt}/")), "{path} is not the committed attempt's");
        }
    }
    assert_ne!(end["state"], "failed", "{end}");
}

#[test]
fn a_wrong_token_is_refused() {
    let dir = scratch("token");
    std::fs::write(dir.join("token"), "s3cret\n").unwrap();
    std::fs::write(dir.join("wrong"), "guess\n").unwrap();
    let c = start_coordinator(&dir, free_port(), &["--token-file", dir.join("token").to_str().unwrap()]);
    let out = tacefusion(&["status", "job-000001", "--coordinator", &c.url, "--token-file", dir.join("wrong").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong token"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = tacefusion(&["worker", "--coordinator", &c.url, "--token-file", dir.join("wrong").to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong token"));
    // the right token gets as far as "unknown job"
    let out = tacefusion(&["status", "job-000001", "--coordinator", &c.url, "--token-file", dir.join("token").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown job"), "{}", String::from_utf8_lossy(&out.stderr));
}
