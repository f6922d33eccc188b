//! The `synth` command line as a user drives it: run from another folder than the repository root
//! it still finds the Hallmark gene sets (beside the checkout it was built from), and a gene-set
//! file that is not there is an error that names it and the option to pass.

#![allow(missing_docs)]

use std::process::Command;

#[test]
fn gene_sets_are_found_from_any_folder_and_a_missing_file_is_named() {
    let dir = std::env::temp_dir().join(format!("tacefusion-synth-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let synth = |extra: &[&str], out: &str| {
        Command::new(env!("CARGO_BIN_EXE_tacefusion"))
            .current_dir(&dir)
            .args(["synth", "--preset", "small", "--seed", "5", "--out", out])
            .args(extra)
            .output()
            .expect("binary runs")
    };
    let missing = dir.join("no-such.gmt");
    let out = synth(&["--gene-sets", missing.to_str().unwrap()], "a");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("no-such.gmt") && stderr.contains("--gene-sets"), "{stderr}");
    assert!(!dir.join("a").exists(), "nothing written");

    // the working directory has no ../shared/data: the checkout's is used
    let out = synth(&[], "b");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let copied = std::fs::read_to_string(dir.join("b/omics/gene_sets.gmt")).unwrap();
    assert!(copied.lines().any(|l| l.starts_with("HALLMARK_HYPOXIA\t")), "the Hallmark sets were copied");
    let _ = std::fs::remove_dir_all(&dir);
}
