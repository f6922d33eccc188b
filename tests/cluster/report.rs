//! The report of a whole run: one HTML file with every section, no script and no external
//! resource, rendered by headless Chromium (Debian's, `tests/setup/chromium.sh`) with no console
//! message, and a screenshot saved beside it (`target/report-screenshot.png`).

use std::process::Command;

use crate::harness::*;

#[test]
fn the_report_renders_in_chromium_without_console_errors() {
    let dir = scratch("report");
    let study = small_study(&dir);
    let results = dir.join("results");
    ok(&["run", study.to_str().unwrap(), "--workers", "2", "--out", results.to_str().unwrap()]);
    let html = dir.join("report.html");
    ok(&["report", "--results", results.to_str().unwrap(), "--study", study.to_str().unwrap(), "--out", html.to_str().unwrap()]);
    let text = std::fs::read_to_string(&html).unwrap();
    for id in ["cohorts", "models", "figures", "biology", "planted", "run"] {
        assert!(text.contains(&format!("<section id=\"{id}\">")), "section {id} is missing");
    }
    // self-contained: no script, nothing fetched
    for banned in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(!text.contains(banned), "the report contains {banned}");
    }
    assert!(
        !text.contains("Not in these results"),
        "a section's table is missing: {}",
        &text[text.find("Not in these results").unwrap()..][..300]
    );
    assert!(text.contains("Stromal and immune scores"), "the ESTIMATE scores are reported");
    assert!(text.matches("<svg").count() >= 10, "figures: {}", text.matches("<svg").count());

    let chromium =
        ["chromium", "chromium-browser"].into_iter().find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    let Some(chromium) = chromium else {
        assert!(std::env::var_os("TACEFUSION_REQUIRE_CHROMIUM").is_none(), "chromium is required here (tests/setup/chromium.sh)");
        eprintln!("SKIPPED: no chromium (bash tests/setup/chromium.sh installs Debian's)");
        return;
    };
    let shot = dir.join("report.png");
    let profile = dir.join("chromium-profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--window-size=1400,3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {stderr}");
    let console: Vec<&str> =
        stderr.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Failed to load")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 50_000, "screenshot of {} bytes", png.len());
    let keep = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    std::fs::copy(&shot, &keep).unwrap();
    eprintln!("report screenshot: {}", keep.display());
}
