//! The deployment files: the Slurm scripts parse (`bash -n`) and use only the command line that
//! exists (every `tacefusion` subcommand and flag they pass is accepted by `--help`); the images
//! run as non-root and the CUDA one is built with `--features cuda`; the Helm chart passes
//! `helm lint` and renders with GPU workers, the study Job and the CronJob (when `helm` is on the
//! PATH); without helm, helm's own linter from the helm library (`tests/setup/helm.sh`, which
//! `.ci/run` runs) lints the chart as given and with every optional part on.

use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tacefusion")).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn slurm_scripts_parse_and_use_flags_that_exist() {
    let dir = deploy().join("slurm");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    scripts.sort();
    assert!(scripts.len() >= 4, "{scripts:?}");
    for s in scripts.iter().filter(|s| s.extension().is_some_and(|e| e == "sbatch")) {
        let out = Command::new("bash").arg("-n").arg(s).output().unwrap();
        assert!(out.status.success(), "{}: {}", s.display(), String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(s).unwrap();
        assert!(text.contains("#SBATCH --requeue"), "{}: requeued on preemption", s.display());
    }
    // every `"$BIN" <command> ... --flag` and `tacefusion <command> ... --flag`
    for s in &scripts {
        let text = std::fs::read_to_string(s).unwrap().replace("\\\n", " ");
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some(at) = words.iter().position(|w| *w == "\"$BIN\"" || *w == "tacefusion") else { continue };
            let Some(command) = words.get(at + 1) else { continue };
            let usage = help(&[command]);
            for flag in words[at + 2..].iter().filter(|w| w.starts_with("--")) {
                let flag = flag.split('=').next().unwrap();
                assert!(usage.contains(flag), "{}: `tacefusion {command}` has no {flag}", s.display());
            }
        }
    }
}

#[test]
fn images_run_as_non_root_and_the_gpu_one_has_cuda() {
    for (file, cuda) in [("Dockerfile.cpu", false), ("Dockerfile.cuda", true)] {
        let text = std::fs::read_to_string(deploy().join("docker").join(file)).unwrap();
        assert!(text.matches("FROM ").count() >= 2, "{file}: multi-stage");
        assert!(text.contains("USER 10001"), "{file}: non-root");
        assert_eq!(text.contains("--features cuda"), cuda, "{file}");
        if cuda {
            assert!(text.contains("-runtime-"), "{file}: the CUDA runtime image (NVRTC)");
        }
    }
}

#[test]
fn the_helm_chart_lints_and_renders() {
    if Command::new("helm").arg("version").output().is_err() {
        let dir = std::env::var_os("TACEFUSION_HELM_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/tacefusion-helm")));
        if !dir.is_some_and(|d| d.join("libhelm_sdkpy.so").exists()) {
            assert!(std::env::var_os("TACEFUSION_REQUIRE_HELM_LINT").is_none(), "the helm library is required here (tests/setup/helm.sh)");
            eprintln!("SKIPPED: no helm and no helm library (bash tests/setup/helm.sh)");
            return;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/setup/helm_lint.py");
        let out = Command::new("python3").arg(script).arg(deploy().join("helm/tacefusion")).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "helm lint: {text}");
        return;
    }
    let chart = deploy().join("helm/tacefusion");
    let lint = Command::new("helm").arg("lint").arg(&chart).output().unwrap();
    assert!(lint.status.success(), "{}", String::from_utf8_lossy(&lint.stdout));
    let out = Command::new("helm")
        .args(["template", "t"])
        .arg(&chart)
        .args([
            "--set",
            "workers.gpu.replicas=2",
            "--set",
            "studyJob.enabled=true",
            "--set",
            "reanalysis.enabled=true",
            "--set",
            "tlsSecret=tls",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for kind in [
        "kind: Deployment",
        "kind: Service",
        "kind: PersistentVolumeClaim",
        "kind: Job",
        "kind: CronJob",
        "nvidia.com/gpu: 1",
        "path: /readyz",
        "completionMode: Indexed",
    ] {
        assert!(text.contains(kind), "rendered chart lacks {kind}");
    }
}
