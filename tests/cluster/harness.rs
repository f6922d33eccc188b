//! Processes and files for the cluster tests: a small synthetic study (original features only, to
//! keep runs short), coordinator and worker processes on free loopback ports, the client commands,
//! and the result tables as sorted CSV text.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const TABLES: [(&str, &str); 30] = [
    ("patients", "SELECT * FROM patients ORDER BY cohort, patient_id"),
    ("exclusions", "SELECT * FROM exclusions ORDER BY cohort, patient_id, stage, field, reason"),
    ("radiomic_features", "SELECT * FROM radiomic_features ORDER BY cohort, patient_id, phase, feature"),
    ("predictions", "SELECT * FROM predictions ORDER BY cohort, model, patient_id"),
    ("metrics", "SELECT * FROM metrics ORDER BY cohort, model, metric"),
    ("km_curves", "SELECT * FROM km_curves ORDER BY cohort, model, \"group\", time"),
    ("crops", "SELECT * FROM crops ORDER BY cohort, patient_id, phase"),
    ("cv_runs", "SELECT * FROM cv_runs ORDER BY run"),
    ("training_history", "SELECT * FROM training_history ORDER BY run, epoch"),
    ("deep_selection", "SELECT * FROM deep_selection ORDER BY config"),
    ("held_out_risks", "SELECT * FROM held_out_risks ORDER BY fold, config, seed, patient_id"),
    ("deep_cross_fitted", "SELECT * FROM deep_cross_fitted ORDER BY patient_id"),
    ("deep_features", "SELECT * FROM deep_features ORDER BY cohort, patient_id, feature"),
    ("model_coefficients", "SELECT * FROM model_coefficients ORDER BY model, term"),
    ("fusion_choice", "SELECT * FROM fusion_choice ORDER BY model"),
    ("nomogram", "SELECT * FROM nomogram ORDER BY variable, value"),
    ("calibration", "SELECT * FROM calibration ORDER BY cohort, model, grouping, \"group\""),
    ("decision_curves", "SELECT * FROM decision_curves ORDER BY cohort, model, threshold"),
    ("bootstrap_replicates", "SELECT * FROM bootstrap_replicates ORDER BY cohort, model, statistic, replicate"),
    ("roc_curves", "SELECT * FROM roc_curves ORDER BY cohort, model, months, fpr, tpr, threshold"),
    ("fusion_groups", "SELECT * FROM fusion_groups ORDER BY cohort, patient_id"),
    ("pathway_scores", "SELECT * FROM pathway_scores ORDER BY cohort, collection, method, gene_set, patient_id"),
    ("pathway_comparison", "SELECT * FROM pathway_comparison ORDER BY cohort, collection, method, gene_set"),
    ("differential_expression", "SELECT * FROM differential_expression ORDER BY cohort, gene"),
    ("gene_set_coverage", "SELECT * FROM gene_set_coverage ORDER BY cohort, collection, gene_set"),
    ("cell_scores", "SELECT * FROM cell_scores ORDER BY cohort, barcode"),
    ("cell_type_scores", "SELECT * FROM cell_type_scores ORDER BY cohort, score, cell_type, patient_id"),
    ("cell_type_comparison", "SELECT * FROM cell_type_comparison ORDER BY cohort, score, cell_type"),
    ("cell_score_genes", "SELECT * FROM cell_score_genes ORDER BY cohort, score"),
    ("biomarker_comparison", "SELECT * FROM biomarker_comparison ORDER BY cohort, biomarker"),
];

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tacefusion")
}

pub fn tacefusion(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

pub fn ok(args: &[&str]) -> String {
    let out = tacefusion(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tacefusion-cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The small synthetic study, original image features only.
pub fn small_study(dir: &Path) -> PathBuf {
    let root = dir.join("study");
    ok(&["synth", "--preset", "small", "--seed", "11", "--out", root.to_str().unwrap()]);
    let file = root.join("study.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace("log_sigmas_mm = [2.0, 4.0]", "log_sigmas_mm = []").replace("wavelet = true", "wavelet = false");
    assert!(edited.contains("log_sigmas_mm = []") && edited.contains("wavelet = false"), "the synthetic study's settings changed");
    std::fs::write(&file, edited).unwrap();
    file
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// `kill -9`.
    pub fn kill9(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

/// A coordinator process and where it listens.
pub struct Coordinator {
    pub proc: Proc,
    pub url: String,
    pub metrics: u16,
    pub store: PathBuf,
}

pub fn start_coordinator(dir: &Path, port: u16, extra: &[&str]) -> Coordinator {
    start_coordinator_with(dir, port, extra, &[])
}

/// A coordinator with environment variables; its store is `dir/store` unless `extra` names one.
pub fn start_coordinator_with(dir: &Path, port: u16, extra: &[&str], env: &[(&str, &str)]) -> Coordinator {
    let (store, state) = (dir.join("store"), dir.join("state"));
    let metrics = free_port();
    let mut cmd = Command::new(bin());
    cmd.envs(env.iter().copied()).args(["coordinator", "--listen", &format!("127.0.0.1:{port}"), "--state", state.to_str().unwrap()]);
    if !extra.contains(&"--store") {
        cmd.args(["--store", store.to_str().unwrap()]);
    }
    let child = cmd
        .args(["--metrics", &format!("127.0.0.1:{metrics}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log("coordinator"))
        .spawn()
        .unwrap();
    let c = Coordinator { proc: Proc(child), url: format!("http://127.0.0.1:{port}"), metrics, store };
    wait_until(Duration::from_secs(20), || http(c.metrics, "/readyz").is_some_and(|b| b.contains("ok")));
    c
}

pub fn start_worker(url: &str, extra: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut cmd = Command::new(bin());
    cmd.args(["worker", "--coordinator", url]).args(extra).stdout(Stdio::null()).stderr(log("worker"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    Proc(cmd.spawn().unwrap())
}

/// Where a process's log goes: nowhere, or a new file in `TACEFUSION_TEST_LOG_DIR` when it is set
/// (to read what the processes of a failing test said).
fn log(process: &str) -> Stdio {
    let Some(dir) = std::env::var_os("TACEFUSION_TEST_LOG_DIR") else { return Stdio::null() };
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path = Path::new(&dir).join(format!("{process}-{}-{n}.log", std::process::id()));
    std::fs::File::create(&path).map(Stdio::from).unwrap_or_else(|_| Stdio::null())
}

/// GET `path` on the metrics port.
pub fn http(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

/// A counter of the coordinator's metrics.
pub fn metric(port: u16, name: &str) -> u64 {
    let text = http(port, "/metrics").unwrap_or_default();
    text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).map(|v| v.trim().parse().unwrap()).unwrap_or(0)
}

pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "condition not met within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for a job to end; returns its final status.
pub fn wait_job(url: &str, job: &str, limit: Duration) -> serde_json::Value {
    wait_job_with(url, job, limit, &[])
}

/// Waits for a job to end, with more arguments for `status` (TLS, token).
pub fn wait_job_with(url: &str, job: &str, limit: Duration, extra: &[String]) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    wait_until(limit, || {
        let mut args = vec!["status", job, "--coordinator", url, "--json"];
        args.extend(extra.iter().map(String::as_str));
        let out = tacefusion(&args);
        if !out.status.success() {
            return false;
        }
        last = serde_json::from_slice(&out.stdout).unwrap();
        last["state"] != "running"
    });
    last
}

/// Every result table of a job as sorted CSV (`results`: a folder or a store URL, read with `env`).
pub fn tables(results: &str, job: Option<&str>, env: &[(&str, &str)]) -> Vec<(String, String)> {
    TABLES
        .iter()
        .map(|(name, sql)| {
            let mut args = vec!["query", "--results", results, "--csv", sql];
            if let Some(j) = job {
                args.extend(["--job", j]);
            }
            let out = Command::new(bin()).args(&args).envs(env.iter().copied()).output().unwrap();
            assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            (name.to_string(), String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .collect()
}

/// Committed manifests under a store: (stage/key, attempt).
pub fn manifests(store: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let cache = store.join("cache");
    for stage in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
        for key in std::fs::read_dir(stage.path()).unwrap().flatten() {
            let m = key.path().join("manifest.json");
            if let Ok(text) = std::fs::read_to_string(&m) {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                out.push((
                    format!("{}/{}", stage.file_name().to_string_lossy(), key.file_name().to_string_lossy()),
                    v["attempt"].as_u64().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// The highest attempt number among the attempt folders of one stage/key.
pub fn last_attempt(store: &Path, stage_key: &str) -> u64 {
    std::fs::read_dir(store.join("cache").join(stage_key))
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().strip_prefix("attempt-").and_then(|n| n.parse().ok()))
        .max()
        .unwrap_or(0)
}

/// The same tables, row for row (and none of them empty).
pub fn assert_same(want: &[(String, String)], got: &[(String, String)]) {
    assert_eq!(want.len(), got.len());
    for ((name, a), (_, b)) in want.iter().zip(got) {
        assert!(a.lines().count() > 1, "table {name} is empty");
        assert!(a == b, "table {name} differs from the reference run");
    }
}
