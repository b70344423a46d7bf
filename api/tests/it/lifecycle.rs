//! A build is judged on all its reports, and counts once it has finished.
//!
//! `pass.xml` holds one passing test (`a`), `fail.xml` one failing test (`b`). Every build
//! below is one shard on `main`; its expected status is worked out in each test's comments.

use serde_json::{Value, json};

use crate::support::*;

const PASS: &[u8] =
    br#"<testsuite name="unit"><testcase classname="pkg.A" name="a" time="0.1"/></testsuite>"#;
const FAIL: &[u8] = br#"<testsuite name="integration"><testcase classname="pkg.B" name="b" time="0.2"><failure message="boom"/></testcase></testsuite>"#;

fn upload(
    svc: &cimetrics_api::service::Spawned,
    token: &str,
    build: &str,
    query: &str,
    name: &str,
    body: &[u8],
) -> Value {
    let a = post(
        svc,
        &format!(
            "/api/v1/projects/shop/builds/{build}/reports?branch=main&name={name}&finished_at=2026-11-02T10:00:00Z{query}"
        ),
        Some(token),
        &[],
        body,
    );
    assert_eq!(a.status, 201, "{}", a.text());
    a.json()
}

fn build(svc: &cimetrics_api::service::Spawned, id: &str) -> Value {
    get(svc, &format!("/api/v1/projects/shop/builds/{id}")).json()["build"].clone()
}

/// The success rate over the whole history, as a trend of one window: (value, builds).
fn success(svc: &cimetrics_api::service::Spawned) -> (Value, Value) {
    let t = get(
        svc,
        "/api/v1/projects/shop/trends?metric=success_rate&window=month",
    )
    .json();
    let p = t["points"]
        .get(0)
        .cloned()
        .unwrap_or(json!({"value": null, "builds": 0}));
    (p["value"].clone(), p["builds"].clone())
}

fn finalize(svc: &cimetrics_api::service::Spawned, token: &str, id: &str) -> Value {
    let a = post(
        svc,
        &format!("/api/v1/projects/shop/builds/{id}/finalize"),
        Some(token),
        &[],
        b"",
    );
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

#[test]
fn a_build_waits_for_all_its_reports_and_fails_on_any_failure_in_either_order() {
    for (backend, svc) in services(|s| s.build_close_after_seconds = 600) {
        let token = project(&svc, "shop");
        // Build 1: pass.xml then fail.xml. Both in, the close-after wait (600 s) not over:
        // running, and no rate counts it.
        upload(&svc, &token, "1", "", "pass.xml", PASS);
        upload(&svc, &token, "1", "", "fail.xml", FAIL);
        let b = build(&svc, "1");
        assert_eq!(b["status"], "running", "{backend}: {b}");
        assert_eq!(b["tests"]["total"], 2, "{backend}: both reports' tests");
        assert_eq!(
            success(&svc),
            (Value::Null, json!(0)),
            "{backend}: not counted yet"
        );
        // The CI says it is over: b failed, so the build failed, by its tests.
        let b = finalize(&svc, &token, "1");
        assert_eq!(
            (&b["status"], &b["status_source"]),
            (&json!("failed"), &json!("tests")),
            "{backend}"
        );
        // 0 successful of 1 finished.
        assert_eq!(success(&svc), (json!(0.0), json!(1)), "{backend}");

        // Build 2: the reverse order gives the same verdict.
        upload(&svc, &token, "2", "", "fail.xml", FAIL);
        upload(&svc, &token, "2", "&finish=true", "pass.xml", PASS);
        let b = build(&svc, "2");
        assert_eq!(
            (&b["status"], &b["complete"]),
            (&json!("failed"), &json!(true)),
            "{backend}: {b}"
        );
        assert_eq!(success(&svc), (json!(0.0), json!(2)), "{backend}");

        // Build 3: the CI states "passed" with its last report: its word wins, and says so.
        upload(&svc, &token, "3", "", "fail.xml", FAIL);
        upload(&svc, &token, "3", "&status=passed", "pass.xml", PASS);
        let b = build(&svc, "3");
        assert_eq!(
            (&b["status"], &b["status_source"]),
            (&json!("passed"), &json!("ci")),
            "{backend}: {b}"
        );
        // 1 successful (3) of 3 finished.
        let (rate, n) = success(&svc);
        assert_eq!(n, 3, "{backend}");
        assert!(
            (rate.as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12,
            "{backend}: {rate}"
        );
        svc.stop();
    }
}

#[test]
fn a_report_after_the_build_finished_is_added_with_a_warning_and_recomputes_it() {
    // Without a wait, build 1 finishes with pass.xml (passed); fail.xml comes late.
    for (backend, svc) in services(|s| s.build_close_after_seconds = 0) {
        let token = project(&svc, "shop");
        upload(&svc, &token, "1", "", "pass.xml", PASS);
        assert_eq!(build(&svc, "1")["status"], "passed", "{backend}");
        assert_eq!(success(&svc), (json!(1.0), json!(1)), "{backend}");
        let late = upload(&svc, &token, "1", "", "fail.xml", FAIL);
        let warnings = late["warnings"].as_array().expect("warnings");
        assert!(
            warnings
                .iter()
                .any(|w| w.as_str().is_some_and(|w| w.contains("had finished"))),
            "{backend}: {late}"
        );
        let b = build(&svc, "1");
        assert_eq!(
            (&b["status"], &b["status_source"]),
            (&json!("failed"), &json!("tests")),
            "{backend}: {b}"
        );
        assert_eq!(b["tests"]["failed"], 1);
        assert_eq!(
            success(&svc),
            (json!(0.0), json!(1)),
            "{backend}: recomputed"
        );
        svc.stop();
    }
}

#[test]
fn a_sharded_build_counts_once_all_its_shards_are_in_and_an_idle_one_closes_by_itself() {
    for (backend, svc) in services(|s| s.build_close_after_seconds = 3) {
        let token = project(&svc, "shop");
        // Two shards: one in, so running however long it waits.
        upload(&svc, &token, "1", "&shard=1&shards=2", "pass.xml", PASS);
        std::thread::sleep(std::time::Duration::from_millis(3500));
        assert_eq!(
            build(&svc, "1")["status"],
            "running",
            "{backend}: shard 2 missing"
        );
        assert_eq!(success(&svc).1, json!(0), "{backend}");
        // Shard 2 in: still running until nothing has come for 3 s, then failed (b). (3 s, not
        // 1: on a busy 2-core machine a read right after the upload once came after 1 s.)
        upload(&svc, &token, "1", "&shard=2&shards=2", "fail.xml", FAIL);
        assert_eq!(
            build(&svc, "1")["status"],
            "running",
            "{backend}: within the wait"
        );
        std::thread::sleep(std::time::Duration::from_millis(3500));
        let b = build(&svc, "1");
        assert_eq!(
            (&b["status"], &b["complete"]),
            (&json!("failed"), &json!(true)),
            "{backend}: {b}"
        );
        assert_eq!(b["shards"], json!({"expected": 2, "received": 2}));
        assert_eq!(success(&svc), (json!(0.0), json!(1)), "{backend}");
        svc.stop();
    }
}

#[test]
fn two_instances_over_one_postgres_agree_on_a_recomputed_build() {
    let Ok(url) = std::env::var("CIMETRICS_TEST_DATABASE_URL") else {
        eprintln!("CIMETRICS_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let db = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(cimetrics_history::store::fresh_postgres_database(
            &url,
            "cimetrics_life",
        ))
        .expect("database");
    let start = |n: u32| {
        cimetrics_api::service::spawn(cimetrics_api::service::Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: temp_dir(&format!("cimetrics-life-{n}-")),
            database_url: Some(db.clone()),
            admin_token: Some(ADMIN.into()),
            workers: 1,
            build_close_after_seconds: 0,
            ..Default::default()
        })
        .expect("starts")
    };
    let (a, b) = (start(1), start(2));
    let token = project(&a, "shop");
    upload(&a, &token, "1", "", "pass.xml", PASS);
    // B caches build 1 as passed ...
    assert_eq!(success(&b), (json!(1.0), json!(1)));
    // ... A takes a late failing report: B sees the build failed at once.
    upload(&a, &token, "1", "", "fail.xml", FAIL);
    assert_eq!(success(&b), (json!(0.0), json!(1)));
    assert_eq!(build(&b, "1")["status"], "failed");
    a.stop();
    b.stop();
}
