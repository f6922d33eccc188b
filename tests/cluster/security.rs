//! TLS as operators deploy it: certificates made by `openssl` (a CA, the coordinator's certificate
//! for 127.0.0.1, a client certificate from the CA and a self-signed impostor), the coordinator
//! requiring client certificates; a job runs over mutual TLS and every other way in is refused.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// ca.pem, server.pem/.key (127.0.0.1), client.pem/.key (from the CA), rogue.pem/.key (self-signed).
fn certificates(dir: &Path) {
    let days = ["-days", "2"];
    openssl(
        dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=tacefusion test CA"],
    );
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for (name, ext) in [("server", "server.ext"), ("client", "client.ext")] {
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &csr, "-subj", &format!("/CN={name}")]);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-extfile",
                ext,
                days[0],
                days[1],
            ],
        );
    }
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rogue.key",
            "-out",
            "rogue.pem",
            "-subj",
            "/CN=client",
            days[0],
            days[1],
        ],
    );
}

#[test]
fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    let dir = scratch("tls");
    certificates(&dir);
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let port = free_port();
    let c = start_coordinator(&dir, port, &["--tls-cert", &p("server.pem"), "--tls-key", &p("server.key"), "--client-ca", &p("ca.pem")]);
    let url = format!("https://127.0.0.1:{port}");
    let client = ["--ca", &p("ca.pem"), "--tls-cert", &p("client.pem"), "--tls-key", &p("client.key")].map(String::from);
    let rogue = ["--ca", &p("ca.pem"), "--tls-cert", &p("rogue.pem"), "--tls-key", &p("rogue.key")].map(String::from);
    let status = |url: &str, extra: &[String]| {
        let mut args = vec!["status", "job-000001", "--coordinator", url];
        args.extend(extra.iter().map(String::as_str));
        let out = tacefusion(&args);
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // with the CA's client certificate the call gets through (to "unknown job")
    let (_, err) = status(&url, &client);
    assert!(err.contains("unknown job"), "{err}");
    for (what, url, extra) in [
        ("no client certificate", url.as_str(), &client[..2]),
        ("a self-signed client certificate", url.as_str(), &rogue[..]),
        ("plain HTTP/2 without TLS", c.url.as_str(), &[][..]),
    ] {
        let (ok, err) = status(url, extra);
        assert!(!ok && !err.contains("unknown job"), "{what} was let in: {err}");
    }
    // TLS options with an http:// URL would send the token in clear: refused before connecting
    let (passed, err) = status(&c.url, &client);
    assert!(!passed && err.contains("need an https:// URL"), "{err}");
    // a whole job over mutual TLS
    let study = small_study(&dir);
    let mut submit = vec!["submit", study.to_str().unwrap(), "--coordinator", &url];
    submit.extend(client.iter().map(String::as_str));
    let job = ok(&submit).trim().to_string();
    let _worker = start_worker(&url, &client.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    let end = wait_job_with(&url, &job, Duration::from_secs(240), &client);
    assert_eq!(end["state"], "succeeded_with_failures", "{end}");
    assert!(metric(c.metrics, "tacefusion_commits_total") > 0);
}
