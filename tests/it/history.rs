//! `cimetrics import`, `trends` and `gate` on a small history written here: three builds on
//! main over two days (one sharded), checked against values worked out by hand.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn cimetrics() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cimetrics"))
}

fn junit(cases: &[(&str, bool)]) -> String {
    let mut s = String::from("<testsuite name=\"s\">");
    for (name, ok) in cases {
        if *ok {
            s.push_str(&format!(
                "<testcase classname=\"C\" name=\"{name}\" time=\"1\"/>"
            ));
        } else {
            s.push_str(&format!(
                "<testcase classname=\"C\" name=\"{name}\" time=\"1\"><failure/></testcase>"
            ));
        }
    }
    s + "</testsuite>"
}

fn lcov(covered: u32, of: u32) -> String {
    let mut s = String::from("SF:src/a.rs\n");
    for line in 1..=of {
        s.push_str(&format!("DA:{line},{}\n", u32::from(line <= covered)));
    }
    s + "end_of_record\n"
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A fresh folder under the temp dir, its own for each call (tests run in parallel).
fn fresh(name: &str) -> PathBuf {
    // An empty new folder (the commands create it again), named by tempfile.
    let dir = tempfile::Builder::new()
        .prefix(&format!("cimetrics-{name}-"))
        .tempdir()
        .expect("a temporary directory")
        .keep();
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Build 1 (Mon 2 Mar 10:00Z): passed, a ok, b ok, coverage 8/10.
/// Build 2 (Mon 2 Mar 12:00Z): two shards; shard 1 a ok, shard 2 b failed; status from tests.
/// Build 3 (Tue 3 Mar 09:00Z): passed, a ok, b ok, coverage 9/10.
fn history() -> PathBuf {
    let dir = fresh("history");
    let build = |n: u32, at: &str, shards: u32| {
        format!(
            r#"{{"id": "{n}", "branch": "main", "commit": "c{n}", "finished_at": "{at}", "shards": {shards}}}"#
        )
    };
    write(
        &dir.join("b1/build.json"),
        &build(1, "2026-03-02T10:00:00Z", 1),
    );
    write(
        &dir.join("b1/junit.xml"),
        &junit(&[("a", true), ("b", true)]),
    );
    write(&dir.join("b1/lcov.info"), &lcov(8, 10));
    write(
        &dir.join("b2/build.json"),
        &build(2, "2026-03-02T12:00:00Z", 2),
    );
    write(&dir.join("b2/junit.xml"), &junit(&[("a", true)]));
    write(&dir.join("b2/shard-2/junit.xml"), &junit(&[("b", false)]));
    write(
        &dir.join("b3/build.json"),
        &build(3, "2026-03-03T09:00:00Z", 1),
    );
    write(
        &dir.join("b3/junit.xml"),
        &junit(&[("a", true), ("b", true)]),
    );
    write(&dir.join("b3/lcov.info"), &lcov(9, 10));
    dir
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The databases a command test runs on: a fresh SQLite data dir, and a fresh PostgreSQL
/// database when `CIMETRICS_TEST_DATABASE_URL` is set. Each as its command-line arguments.
fn databases(name: &str) -> Vec<[String; 2]> {
    let data = fresh(&format!("{name}-data"));
    let mut out = vec![["--data-dir".to_owned(), data.display().to_string()]];
    if let Some(db) = crate::fresh_postgres(name) {
        out.push(["--database-url".to_owned(), db]);
    }
    out
}

/// On both backends (the import commits differently on PostgreSQL, see
/// `Store::for_bulk_load`).
#[test]
fn import_is_idempotent_and_trends_show_the_history() {
    for db in databases("import") {
        import_is_idempotent_and_trends_show_the_history_on(&db);
    }
}

fn import_is_idempotent_and_trends_show_the_history_on(db: &[String; 2]) {
    let reports = history();
    let import = || {
        run(cimetrics()
            .arg("import")
            .arg(&reports)
            .args(db)
            .arg("--quiet"))
    };
    let (code, out, err) = import();
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 builds: 6 reports stored, 0 already there, 0 failed"),
        "{out}"
    );
    let (code, out, err) = import();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("0 reports stored, 6 already there"), "{out}");

    let (code, out, err) = run(cimetrics()
        .args(["trends", "--json", "--window", "day"])
        .args(db));
    assert_eq!(code, 0, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    let series = &json["series"];
    // Day 1: builds 1 (passed) and 2 (failed: b failed in shard 2) -> 50%; day 2: 100%.
    let rates: Vec<&Value> = series["success_rate"]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["value"])
        .collect();
    assert_eq!(rates, [&Value::from(0.5), &Value::from(1.0)], "{out}");
    assert_eq!(
        series["success_rate"]["points"][0]["window_start"],
        "2026-03-02"
    );
    // Day 1 tests: a, b ok in build 1; a ok, b failed in build 2 -> 3 of 4 passed.
    assert_eq!(series["pass_rate"]["points"][0]["value"], 0.75, "{out}");
    // Coverage: day 1's last build with coverage is build 1 (80%); day 2 build 3 (90%).
    assert_eq!(series["coverage"]["points"][0]["value"], 0.8, "{out}");
    assert_eq!(series["coverage"]["points"][1]["value"], 0.9, "{out}");

    let (code, out, _) = run(cimetrics().args(["trends", "--window", "day"]).args(db));
    assert_eq!(code, 0);
    assert!(out.contains("2026-03-02") && out.contains("50.0%"), "{out}");
}

#[test]
fn gate_passes_or_fails_with_reasons_and_compares_with_history() {
    let reports = history();
    let data = fresh("gate-data");
    let (code, out, err) = run(cimetrics()
        .arg("import")
        .arg(&reports)
        .arg("--data-dir")
        .arg(&data)
        .arg("--quiet"));
    assert_eq!(code, 0, "{out}{err}");

    let dir = fresh("gate-files");
    let config = dir.join("gate.toml");
    write(
        &config,
        "conditions = [\"coverage >= 80\", \"coverage_delta >= -0.5\", \"failed == 0\", \"new_failures == 0\"]\n",
    );
    let good_tests = dir.join("ok.xml");
    write(&good_tests, &junit(&[("a", true), ("b", true)]));
    let cov = dir.join("cov.info");
    write(&cov, &lcov(9, 10));
    let (code, out, err) = run(cimetrics()
        .arg("gate")
        .arg(&good_tests)
        .arg(&cov)
        .arg("--config")
        .arg(&config)
        .args(["--branch", "main", "--data-dir"])
        .arg(&data));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("gate passed"), "{out}");

    // b fails (new against build 3), coverage drops to 85% (-5 pp against build 3's 90%).
    let bad_tests = dir.join("bad.xml");
    write(&bad_tests, &junit(&[("a", true), ("b", false)]));
    let low = dir.join("low.info");
    write(&low, &lcov(17, 20));
    let (code, out, err) = run(cimetrics()
        .args(["gate", "--json"])
        .arg(&bad_tests)
        .arg(&low)
        .arg("--config")
        .arg(&config)
        .args(["--branch", "main", "--data-dir"])
        .arg(&data));
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    let verdicts: Vec<bool> = json["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(verdicts, [true, false, false, false], "{out}");
    let delta = json["conditions"][1]["actual"].as_f64().unwrap();
    assert!((delta + 5.0).abs() < 1e-9, "{out}");
    assert_eq!(json["conditions"][3]["actual"], 1.0, "{out}");

    // A bad condition is a usage error.
    write(&config, "conditions = [\"speed > 3\"]\n");
    let (code, _, err) = run(cimetrics()
        .arg("gate")
        .arg(&good_tests)
        .arg("--config")
        .arg(&config));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown metric"), "{err}");
}
