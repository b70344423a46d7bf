//! `cimetrics summary` as a CI step runs it: exit codes, JSON shape, stdin.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn cimetrics() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cimetrics"))
}

const JUNIT: &str = r#"<testsuite name="s">
  <testcase classname="C" name="a" time="1.5"/>
  <testcase classname="C" name="b" time="0.5"><failure message="boom"/></testcase>
  <testcase classname="C" name="c"><flakyFailure message="once"/></testcase>
</testsuite>"#;

fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("cimetrics-cli")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[test]
fn summary_json_has_the_documented_shape_and_merges_files() {
    let junit = temp_file("a.xml", JUNIT.as_bytes());
    let lcov = temp_file(
        "b.info",
        b"SF:x.c\nDA:1,1\nDA:2,0\nBRDA:1,0,0,1\nBRDA:1,0,1,-\nend_of_record\n",
    );
    let out = cimetrics()
        .args(["summary", "--json"])
        .arg(&junit)
        .arg(&lcov)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f0 = &v["files"][0];
    assert_eq!(f0["format"], "junit");
    assert_eq!(
        f0["tests"],
        serde_json::json!({"total": 3, "passed": 2, "failed": 1, "errored": 0, "skipped": 0,
                           "flaky": 1, "duration_seconds": 2.0})
    );
    assert!(f0["error"].is_null());
    assert!(f0.get("coverage").is_none());
    let f1 = &v["files"][1];
    assert_eq!(f1["format"], "lcov");
    assert_eq!(
        f1["coverage"],
        serde_json::json!({"lines_valid": 2, "lines_covered": 1, "line_rate": 0.5,
                           "branches_valid": 2, "branches_covered": 1, "branch_rate": 0.5})
    );
    assert_eq!(v["tests"]["total"], 3);
    assert_eq!(v["coverage"]["lines_valid"], 2);
}

#[test]
fn a_bad_file_gets_a_positioned_error_and_the_others_are_still_reported() {
    let good = temp_file("good.xml", JUNIT.as_bytes());
    let bad = temp_file(
        "bad.xml",
        b"<testsuites>\n  <testsuite name=\"s\">\n    <testcase name=\"x\" name=\"y\"/>\n",
    );
    let out = cimetrics()
        .args(["summary", "--json"])
        .arg(&bad)
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = &v["files"][0]["error"];
    assert_eq!(err["line"], 3);
    assert_eq!(err["column"], 5);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("testsuites/testsuite[1]/testcase[1]/@name"),
        "{err}"
    );
    assert_eq!(v["files"][1]["tests"]["total"], 3);
}

#[test]
fn stdin_is_read_with_a_dash_and_gzip_is_detected() {
    let gz = flate2_free_gzip(JUNIT.as_bytes());
    let mut child = cimetrics()
        .args(["summary", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"][0]["tests"]["flaky"], 1);
}

/// A gzip member with stored (uncompressed) deflate blocks, so the test needs no compressor.
fn flate2_free_gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let chunks: Vec<&[u8]> = data.chunks(65535).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn usage_errors_exit_with_2() {
    let out = cimetrics().arg("summary").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = cimetrics()
        .args(["summary", "--nope", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_missing_file_is_an_error_entry_not_a_crash() {
    let out = cimetrics()
        .args(["summary", "--json", "/nonexistent/report.xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["files"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read error")
    );
}

#[test]
fn summary_json_reads_the_dotnet_and_sonarqube_formats_with_the_same_shape() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let trx = samples.join("fixtures/trx/dotnet-trx.trx");
    let nunit = samples.join("fixtures/nunit/dotnet-nunit.xml");
    let sonar = samples.join("generated/gcovr-sonarqube.xml");
    for f in [&trx, &nunit, &sonar] {
        assert!(f.exists(), "{} is missing", f.display());
    }
    let out = cimetrics()
        .args(["summary", "--json"])
        .args([&trx, &nunit, &sonar])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The counts each file declares (TRX <Counters>, NUnit <test-run>) and gcovr's own summary.
    assert_eq!(v["files"][0]["format"], "trx");
    assert_eq!(v["files"][0]["tests"]["total"], 11, "{}", v["files"][0]);
    assert_eq!(v["files"][1]["format"], "nunit");
    assert_eq!(v["files"][1]["tests"]["errored"], 2, "{}", v["files"][1]);
    assert_eq!(v["files"][2]["format"], "sonarqube-coverage");
    assert_eq!(
        v["files"][2]["coverage"]["lines_valid"], 21,
        "{}",
        v["files"][2]
    );
    assert_eq!(v["files"][2]["coverage"]["branches_covered"], 7);
}

#[test]
fn summary_strict_fails_on_a_warning_that_plain_summary_reports() {
    let odd = temp_file(
        "odd.xml",
        b"<testsuite name=\"s\"><testcase name=\"a\" time=\"1,5\"/></testsuite>",
    );
    let plain = cimetrics()
        .args(["summary", "--json"])
        .arg(&odd)
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(
        v["files"][0]["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("time=\"1,5\"")),
        "{v}"
    );
    let strict = cimetrics()
        .args(["summary", "--json", "--strict"])
        .arg(&odd)
        .output()
        .unwrap();
    assert_ne!(strict.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&strict.stdout).unwrap();
    assert!(
        v["files"][0]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("refused in strict mode")),
        "{v}"
    );
}

#[test]
fn summary_counts_code_quality_issues_by_severity_and_reads_lint_text_when_named() {
    let generated = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/generated");
    let pylint = generated.join("pylint.json2");
    let flake8 = generated.join("flake8.txt");
    let out = cimetrics()
        .args(["summary", "--json"])
        .arg(&pylint)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // pylint's own lines: 11 messages (1 error, 6 warnings, 3 conventions, 1 refactor),
    // rated 5.59/10 (samples/generated/logs).
    let i = &v["files"][0]["issues"];
    assert_eq!(v["files"][0]["format"], "pylint-json2");
    assert_eq!(i["total"], 11, "{i}");
    assert_eq!(
        i["by_severity"],
        serde_json::json!({"blocker": 0, "critical": 1, "major": 6, "minor": 4, "info": 0})
    );
    assert_eq!(i["by_category"]["bug"], 1, "{i}");
    assert_eq!(i["tool"], "pylint");
    assert_eq!(i["tool_score"], 5.59);
    assert!(v["files"][0].get("tests").is_none());

    // Text is not detected: without --format it is an error, with it flake8's 5 findings.
    let refused = cimetrics()
        .args(["summary", "--json"])
        .arg(&flake8)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let out = cimetrics()
        .args([
            "summary",
            "--json",
            "--format",
            "lint-text",
            "--tool",
            "flake8",
        ])
        .arg(&flake8)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let i = &v["files"][0]["issues"];
    assert_eq!(
        (i["total"].as_u64(), i["by_severity"]["minor"].as_u64()),
        (Some(5), Some(5))
    );
    assert_eq!(i["tool"], "flake8");
    assert_eq!(i["files"], 1, "{i}");

    let text = cimetrics().args(["summary"]).arg(&pylint).output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "11 issues: 0 blocker, 1 critical, 6 major, 4 minor, 0 info; pylint scores 5.59"
        ),
        "{text}"
    );
    assert!(text.contains("top rules: "), "{text}");
}
