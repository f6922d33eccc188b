//! The scheduler's rules, each on a small plan with the clock driven by hand.

use super::*;
use crate::task::Stage;

fn task(id: &str, deps: &[&str], gpus: u32) -> PlannedTask {
    PlannedTask {
        id: id.into(),
        stage: Stage::Radiomics,
        key: format!("key-{id}"),
        spec: "null".into(),
        deps: deps.iter().map(|d| d.to_string()).collect(),
        cpu_slots: 1,
        gpus,
        partial_inputs: false,
    }
}

fn manifest(s: &Scheduler, i: usize, worker: &str) -> Manifest {
    let e = s.task(i);
    Manifest {
        task_id: e.task.id.clone(),
        stage: "radiomics".into(),
        key: e.task.key.clone(),
        attempt: e.attempt,
        worker: worker.into(),
        files: vec![],
        committed_unix_ms: 0,
    }
}

/// ingest -> a, b -> evaluate
fn diamond() -> Vec<PlannedTask> {
    vec![task("ingest", &[], 0), task("a", &["ingest"], 0), task("b", &["ingest"], 0), task("evaluate", &["a", "b"], 0)]
}

fn config() -> SchedulerConfig {
    SchedulerConfig { lease_ms: 100, max_attempts: 3, backoff_base_ms: 10, backoff_max_ms: 40, worker_grace_ms: 1000 }
}

fn commit(s: &mut Scheduler, g: &Granted, worker: &str, now: u64) {
    s.begin_commit(g.index, worker, g.attempt, now).unwrap();
    let m = manifest(s, g.index, worker);
    s.finish_commit(g.index, m);
}

#[test]
fn tasks_run_after_their_inputs_and_the_job_succeeds() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", diamond(), |_| None, |_| None);
    let ids = |s: &Scheduler, g: &[Granted]| g.iter().map(|g| s.task(g.index).task.id.clone()).collect::<Vec<_>>();
    let g = s.lease("w", 8, 0, 8, 0);
    assert_eq!(ids(&s, &g), ["ingest"]);
    commit(&mut s, &g[0], "w", 1);
    let g = s.lease("w", 8, 0, 8, 2);
    assert_eq!(ids(&s, &g), ["a", "b"]);
    assert!(s.lease("w", 8, 0, 8, 2).is_empty(), "evaluate waits for a and b");
    commit(&mut s, &g[0], "w", 3);
    commit(&mut s, &g[1], "w", 3);
    let g = s.lease("w", 8, 0, 8, 4);
    assert_eq!(ids(&s, &g), ["evaluate"]);
    assert_eq!(s.job("j").unwrap().state, JobState::Running);
    commit(&mut s, &g[0], "w", 5);
    assert_eq!(s.job("j").unwrap().state, JobState::Succeeded);
    assert_eq!(s.job("j").unwrap().attempts, 4);
}

#[test]
fn leases_fit_the_free_resources() {
    // (free cpu, free gpus, max) -> tasks leased, for a queue of cpu, gpu, cpu, gpu tasks
    let cases: [(u32, u32, usize, &[&str]); 4] =
        [(4, 0, 8, &["c1", "c2"]), (4, 1, 8, &["g1", "c1", "c2"]), (1, 2, 8, &["g1"]), (8, 2, 3, &["g1", "g2", "c1"])];
    for (cpu, gpus, max, want) in cases {
        let mut s = Scheduler::new(config());
        s.register("w", 0);
        s.submit("j", "study", vec![task("c1", &[], 0), task("g1", &[], 1), task("c2", &[], 0), task("g2", &[], 1)], |_| None, |_| None);
        let got: Vec<String> = s.lease("w", cpu, gpus, max, 0).iter().map(|g| s.task(g.index).task.id.clone()).collect();
        assert_eq!(got, want, "cpu {cpu} gpus {gpus} max {max}");
    }
}

#[test]
fn an_expired_lease_is_reassigned_and_the_zombie_cannot_commit() {
    let mut s = Scheduler::new(config());
    s.register("old", 0);
    s.register("new", 0);
    s.submit("j", "study", vec![task("t", &[], 0)], |_| None, |_| None);
    let first = s.lease("old", 1, 0, 1, 0).remove(0);
    assert_eq!(first.attempt, 1);
    // heartbeats renew the lease past its first deadline
    assert_eq!(s.heartbeat("old", &[(first.index, 1)], 90), vec![(true, 190)]);
    s.tick(150);
    assert!(matches!(s.task(first.index).status, TaskStatus::Leased { .. }));
    // then the worker goes silent
    s.tick(191);
    assert!(matches!(s.task(first.index).status, TaskStatus::Ready { .. }));
    let second = s.lease("new", 1, 0, 1, 300).remove(0);
    assert_eq!((second.index, second.attempt), (first.index, 2));
    // the zombie's heartbeat and commit are refused; the current holder commits
    assert_eq!(s.heartbeat("old", &[(first.index, 1)], 301), vec![(false, 0)]);
    assert!(matches!(s.begin_commit(first.index, "old", 1, 301), Err(LeaseError::NotHolder { .. })));
    assert!(s.begin_commit(first.index, "old", 2, 301).is_err(), "the attempt number is not enough: the worker must hold it");
    assert!(!s.committed_by(first.index, "new", 2), "not before it commits");
    s.begin_commit(second.index, "new", 2, 302).unwrap();
    assert!(s.committing(first.index, "new", 2) && !s.committing(first.index, "old", 1) && !s.committing(first.index, "new", 1));
    let m = manifest(&s, second.index, "new");
    s.finish_commit(second.index, m);
    assert!(!s.committing(first.index, "new", 2));
    assert_eq!(s.task(first.index).manifest.as_ref().unwrap().attempt, 2);
    // the holder's completion sent again is recognised; the zombie's is not
    assert!(s.committed_by(first.index, "new", 2));
    assert!(!s.committed_by(first.index, "old", 1) && !s.committed_by(first.index, "old", 2));
    assert_eq!(s.job("j").unwrap().state, JobState::Succeeded);
}

#[test]
fn a_commit_that_finds_another_attempts_manifest_is_recognised_when_sent_again() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", vec![task("t", &[], 0)], |_| None, |_| None);
    let lease = s.lease("w", 1, 0, 1, 0).remove(0);
    s.begin_commit(lease.index, "w", 1, 1).unwrap();
    // the manifest already there (an earlier coordinator's attempt created it before a crash)
    let mut earlier = manifest(&s, lease.index, "gone");
    earlier.attempt = 7;
    s.finish_commit(lease.index, earlier);
    assert_eq!(s.task(lease.index).manifest.as_ref().unwrap().worker, "gone");
    assert!(s.committed_by(lease.index, "w", 1), "the holder's completion sent again is answered committed");
    assert!(!s.committed_by(lease.index, "w", 2) && !s.committed_by(lease.index, "other", 1));
}

#[test]
fn retryable_failures_back_off_then_fail_the_task_and_its_dependants_only() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", diamond(), |_| None, |_| None);
    let g = s.lease("w", 8, 0, 8, 0);
    commit(&mut s, &g[0], "w", 0);
    let g = s.lease("w", 8, 0, 8, 0);
    let (a, b) = (g[0].clone(), g[1].clone());
    commit(&mut s, &b, "w", 1);
    // a fails 3 times: retries after 10 and 20 ms, then fails for good
    let mut now = 1;
    let mut attempt = a.attempt;
    for (n, delay) in [10u64, 20].into_iter().enumerate() {
        s.fail(a.index, "w", attempt, FailureKind::Retryable, "disk hiccup", now).unwrap();
        assert!(s.lease("w", 8, 0, 8, now + delay - 1).is_empty(), "retry {n} waits its backoff");
        let again = s.lease("w", 8, 0, 8, now + delay);
        assert_eq!(again.len(), 1);
        attempt = again[0].attempt;
        now += delay;
    }
    s.fail(a.index, "w", attempt, FailureKind::Retryable, "disk hiccup", now).unwrap();
    assert!(matches!(&s.task(a.index).status, TaskStatus::Failed { reason } if reason.contains("3 failed attempts")));
    let evaluate = s.index("j", "evaluate").unwrap();
    assert!(matches!(&s.task(evaluate).status, TaskStatus::Failed { reason } if reason.contains("input a failed")));
    assert_eq!(s.job("j").unwrap().state, JobState::SucceededWithFailures);
}

#[test]
fn bad_input_is_not_retried_and_given_back_leases_keep_their_budget() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", vec![task("bad", &[], 0), task("after", &["bad"], 0), task("ok", &[], 0)], |_| None, |_| None);
    let g = s.lease("w", 8, 0, 8, 0);
    s.fail(g[0].index, "w", g[0].attempt, FailureKind::BadInput, "empty mask in m.nii.gz", 1).unwrap();
    for _ in 0..5 {
        s.fail(g[1].index, "w", s.task(g[1].index).attempt, FailureKind::GivenBack, "draining", 1).unwrap();
        let again = s.lease("w", 8, 0, 8, 1);
        assert_eq!(again.len(), 1, "given back: leasable at once");
    }
    assert_eq!(s.task(g[1].index).failures, 0);
    let current = Granted { index: g[1].index, attempt: s.task(g[1].index).attempt, deadline: 0 };
    commit(&mut s, &current, "w", 2);
    let after = s.index("j", "after").unwrap();
    assert!(matches!(&s.task(after).status, TaskStatus::Failed { reason } if reason.contains("empty mask")));
    assert_eq!(s.task(g[0].index).attempt, 1);
    assert_eq!(s.job("j").unwrap().state, JobState::SucceededWithFailures);
}

#[test]
fn a_fan_in_with_partial_inputs_runs_without_the_failed_ones_also_after_a_restart() {
    // p1, p2, p3 per patient -> model (partial inputs) -> report (needs the model)
    let mut plan = vec![task("p1", &[], 0), task("p2", &[], 0), task("p3", &[], 0), task("model", &["p1", "p2", "p3"], 0)];
    plan[3].partial_inputs = true;
    plan.push(task("report", &["model"], 0));
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", plan, |_| None, |_| None);
    let g = s.lease("w", 8, 0, 8, 0);
    assert_eq!(g.len(), 3);
    commit(&mut s, &g[0], "w", 1);
    s.fail(g[1].index, "w", g[1].attempt, FailureKind::BadInput, "empty mask", 1).unwrap();
    let model = s.index("j", "model").unwrap();
    assert_eq!(s.task(model).status, TaskStatus::Waiting, "p3 has not settled");
    // the coordinator restarts here: the saved entries come back with their states
    let job = s.job("j").unwrap().clone();
    let entries: Vec<TaskEntry> = job.tasks.clone().map(|i| s.task(i).clone()).collect();
    let mut s = Scheduler::new(config());
    s.register("w", 2);
    s.restore(job, entries);
    let model = s.index("j", "model").unwrap();
    assert_eq!(s.task(model).status, TaskStatus::Waiting, "still waiting for p3 after the restart");
    let g = s.lease("w", 8, 0, 8, 3);
    assert_eq!(g.iter().map(|g| s.task(g.index).task.id.as_str()).collect::<Vec<_>>(), ["p3"]);
    s.fail(g[0].index, "w", g[0].attempt, FailureKind::BadInput, "unreadable image", 4).unwrap();
    let g = s.lease("w", 8, 0, 8, 5);
    assert_eq!(g.len(), 1, "the model runs on p1 alone");
    assert_eq!(g[0].index, model);
    commit(&mut s, &g[0], "w", 6);
    let g = s.lease("w", 8, 0, 8, 7);
    commit(&mut s, &g[0], "w", 8);
    assert_eq!(s.job("j").unwrap().state, JobState::SucceededWithFailures);
    // without partial inputs the same failure fails the fan-in
    let mut strict = Scheduler::new(config());
    strict.register("w", 0);
    strict.submit("k", "study", vec![task("p1", &[], 0), task("model", &["p1"], 0)], |_| None, |_| None);
    let g = strict.lease("w", 8, 0, 8, 0);
    strict.fail(g[0].index, "w", g[0].attempt, FailureKind::BadInput, "empty mask", 1).unwrap();
    assert!(matches!(&strict.task(strict.index("k", "model").unwrap()).status, TaskStatus::Failed { .. }));
}

#[test]
fn committed_keys_are_not_run_again() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j1", "study", diamond(), |_| None, |_| None);
    let mut now = 0;
    while s.job("j1").unwrap().state == JobState::Running {
        for g in s.lease("w", 8, 0, 8, now) {
            commit(&mut s, &g, "w", now);
        }
        now += 1;
    }
    let done: HashMap<String, Manifest> = (0..4).map(|i| (s.task(i).task.key.clone(), s.task(i).manifest.clone().unwrap())).collect();
    // the same plan again: nothing to run; plus one new task: only it and what needs it run
    let mut plan = diamond();
    plan.push(task("c", &["ingest"], 0));
    plan[3].deps.push("c".into());
    plan[3].key = "key-evaluate-with-c".into();
    let job = s.submit("j2", "study", plan, |k| done.get(k).cloned(), |_| None);
    assert_eq!(job.state, JobState::Running);
    let leased: Vec<String> = s.lease("w", 8, 0, 8, now).iter().map(|g| s.task(g.index).task.id.clone()).collect();
    assert_eq!(leased, ["c"]);
    let same = s.submit("j3", "study", diamond(), |k| done.get(k).cloned(), |_| None);
    assert_eq!(same.state, JobState::Succeeded);
    assert_eq!(same.attempts, 0);
}

#[test]
fn cancelling_invalidates_leases() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", diamond(), |_| None, |_| None);
    let g = s.lease("w", 8, 0, 8, 0).remove(0);
    assert_eq!(s.cancel("j").unwrap().state, JobState::Cancelled);
    assert_eq!(s.heartbeat("w", &[(g.index, g.attempt)], 1), vec![(false, 0)]);
    assert!(s.begin_commit(g.index, "w", g.attempt, 1).is_err());
    assert!(s.lease("w", 8, 0, 8, 2).is_empty());
}

#[test]
fn a_job_whose_workers_are_gone_fails_after_the_grace_period() {
    let mut s = Scheduler::new(config());
    s.submit("j", "study", diamond(), |_| None, |_| None);
    // no worker yet: the job waits
    s.tick(5000);
    assert_eq!(s.job("j").unwrap().state, JobState::Running);
    s.register("w", 5000);
    s.lease("w", 8, 0, 8, 5000);
    s.tick(5101); // the worker is silent: its lease expires and it is forgotten
    assert_eq!(s.worker_count(), 0);
    s.tick(6000);
    assert_eq!(s.job("j").unwrap().state, JobState::Running);
    s.tick(6101);
    let job = s.job("j").unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert!(job.message.contains("no worker"), "{}", job.message);
}

#[test]
fn a_restored_job_resumes_with_new_attempt_numbers() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    s.submit("j", "study", diamond(), |_| None, |_| None);
    let g = s.lease("w", 8, 0, 8, 0);
    commit(&mut s, &g[0], "w", 0);
    let leased = s.lease("w", 8, 0, 8, 1);
    assert_eq!(leased.len(), 2);
    let job = s.job("j").unwrap().clone();
    let entries: Vec<TaskEntry> = job.tasks.clone().map(|i| s.task(i).clone()).collect();
    // a new coordinator life
    let mut r = Scheduler::new(config());
    r.restore(job, entries);
    r.register("w2", 10);
    let again = r.lease("w2", 8, 0, 8, 10);
    assert_eq!(again.len(), 2, "the leases of the old life are lost: both tasks are ready");
    assert!(again.iter().all(|g| g.attempt == 2));
    // a worker of the old life cannot commit
    assert!(r.begin_commit(again[0].index, "w", 1, 11).is_err());
    assert_eq!(r.task(r.index("j", "ingest").unwrap()).status, TaskStatus::Committed);
}

#[test]
fn a_key_known_to_fail_on_bad_input_starts_failed() {
    let mut s = Scheduler::new(config());
    s.register("w", 0);
    let job = s.submit("j", "study", diamond(), |_| None, |k| (k == "key-a").then(|| "empty mask".to_string()));
    assert_eq!(job.state, JobState::Running);
    let a = s.index("j", "a").unwrap();
    assert!(matches!(&s.task(a).status, TaskStatus::Failed { reason } if reason == "empty mask"));
    let evaluate = s.index("j", "evaluate").unwrap();
    assert!(matches!(&s.task(evaluate).status, TaskStatus::Failed { .. }), "its dependants fail with it");
    let g = s.lease("w", 8, 0, 8, 0);
    commit(&mut s, &g[0], "w", 0);
    let g = s.lease("w", 8, 0, 8, 1);
    assert_eq!(g.len(), 1, "only b runs");
    commit(&mut s, &g[0], "w", 1);
    assert_eq!(s.job("j").unwrap().state, JobState::SucceededWithFailures);
}
