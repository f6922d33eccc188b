//! An S3 object store (moto's S3-compatible server on loopback, installed by
//! `tests/setup/moto.sh`): a coordinator and a worker process whose only shared storage is the
//! bucket, credentials from the AWS_* environment; the job's tables, read back with `query --results
//! s3://...`, equal those of `run --workers 1` on a local folder row for row.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

fn moto_server() -> Option<PathBuf> {
    let path = std::env::var_os("TACEFUSION_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/tacefusion/moto/bin/moto_server"));
    path.exists().then_some(path)
}

/// Creates a bucket with a plain PUT (moto's server does not check signatures).
fn create_bucket(port: u16, bucket: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let request = format!("PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200")
}

#[test]
fn a_job_on_an_s3_bucket_gives_the_tables_of_a_local_run() {
    let Some(moto) = moto_server() else {
        // CI installs moto and sets TACEFUSION_REQUIRE_MOTO=1, so that a missing server fails there
        assert!(std::env::var_os("TACEFUSION_REQUIRE_MOTO").is_none(), "moto_server not found but TACEFUSION_REQUIRE_MOTO is set");
        eprintln!("SKIPPED: moto_server not found (run tests/setup/moto.sh); the S3 store is untested here");
        return;
    };
    let dir = scratch("s3");
    let port = free_port();
    let _moto = Proc(
        Command::new(moto).args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(),
    );
    wait_until(Duration::from_secs(30), || create_bucket(port, "tacefusion"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let env = [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test-key"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret"),
        ("AWS_REGION", "us-east-1"),
    ];
    let store = "s3://tacefusion/site-a/results";
    let study = small_study(&dir);
    let single = dir.join("single");
    let job = ok(&["run", study.to_str().unwrap(), "--workers", "1", "--out", single.to_str().unwrap()]);
    let want = tables(single.to_str().unwrap(), Some(job.trim()), &[]);

    let c = start_coordinator_with(&dir, free_port(), &["--store", store], &env);
    let _worker = start_worker(&c.url, &[], &env);
    let out = Command::new(bin()).args(["submit", study.to_str().unwrap(), "--coordinator", &c.url]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let end = wait_job(&c.url, &job, Duration::from_secs(240));
    assert_eq!(end["state"], "succeeded_with_failures", "{end}");
    assert!(!c.store.join("cache").exists(), "the coordinator wrote outputs to a local folder");
    assert_same(&want, &tables(store, Some(&job), &env));
    assert_commits_are_create_if_absent(&endpoint);
}

/// The commit's create-if-absent put is enforced by the server: a second manifest for a committed
/// key is refused, so a zombie's commit could not replace the first one even without the lease check.
fn assert_commits_are_create_if_absent(endpoint: &str) {
    use futures::TryStreamExt;
    use object_store::aws::AmazonS3Builder;
    use object_store::path::Path as StorePath;
    use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let s3 = AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_allow_http(true)
            .with_bucket_name("tacefusion")
            .with_region("us-east-1")
            .with_access_key_id("test-key")
            .with_secret_access_key("test-secret")
            .build()
            .unwrap();
        let objects: Vec<_> = s3.list(Some(&StorePath::from("site-a/results/cache/ingest"))).try_collect().await.unwrap();
        let manifest =
            objects.iter().find(|o| o.location.as_ref().ends_with("/manifest.json")).expect("a committed manifest").location.clone();
        let second = s3.put_opts(&manifest, PutPayload::from_static(b"{}"), PutOptions::from(PutMode::Create)).await;
        assert!(matches!(second, Err(object_store::Error::AlreadyExists { .. })), "a second manifest was accepted: {second:?}");
    });
}
