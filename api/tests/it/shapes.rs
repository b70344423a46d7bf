//! The public JSON shapes: named fields, RFC 3339 times, builds named by the CI's build id,
//! tests as `{id, suite, classname, name, file}`, evidence that lists CI build ids, and no
//! internal row id anywhere.
//!
//! The history: three builds on `main`, CI ids 101–103 (the database's row ids are 1–3, so a
//! leaked row id cannot pass for a CI id). 101 and 102 build the same commit, and tests `t1`
//! and `t2` swap outcomes between them (flaky on the same commit); in 103 both fail. 101 and
//! 103 carry coverage, 102 none.

use serde_json::{Value, json};

use crate::support::*;

fn junit(t1_fails: bool, t2_fails: bool) -> Vec<u8> {
    let case = |name: &str, fails: bool, time: &str| {
        if fails {
            format!(
                "<testcase classname=\"pkg.C\" name=\"{name}\" time=\"{time}\"><failure message=\"boom\"/></testcase>"
            )
        } else {
            format!("<testcase classname=\"pkg.C\" name=\"{name}\" time=\"{time}\"/>")
        }
    };
    format!(
        "<testsuite name=\"suite\">{}{}</testsuite>",
        case("t1", t1_fails, "0.5"),
        case("t2", t2_fails, "1.5")
    )
    .into_bytes()
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

fn sorted(mut k: Vec<&str>) -> Vec<&str> {
    k.sort_unstable();
    k
}

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok())
}

/// Every member anywhere in `v` that looks like a row id: a key ending in `_id`, or an
/// `id` whose value is a number.
fn row_ids<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k.ends_with("_id") || (k == "id" && x.is_number()) {
                    out.push(k);
                }
                row_ids(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| row_ids(x, out)),
        _ => {}
    }
}

const TEST_KEYS: [&str; 5] = ["classname", "file", "id", "name", "suite"];

#[test]
fn answers_name_builds_by_ci_id_times_in_rfc3339_and_fields_by_name() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let up = |build: &str, commit: &str, day: &str, name: &str, body: &[u8]| {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{build}/reports?branch=main&commit={commit}&name={name}&finished_at=2026-11-{day}T10:00:00Z"
                ),
                Some(&token),
                &[],
                body,
            );
            assert_eq!(a.status, 201, "{backend}: {}", a.text());
            a.json()
        };
        up(
            "101",
            "abc",
            "02",
            "cov",
            &sample("coverage-py-cobertura.xml"),
        );
        let first = up("101", "abc", "02", "tests", &junit(false, true));
        assert_eq!(
            keys(&first),
            sorted(vec![
                "build", "coverage", "digest", "format", "name", "project", "shard", "size",
                "tests", "warnings"
            ]),
            "{backend}: the upload answer, without row ids: {first}"
        );
        // 102: the CI gives its metadata before the report, and its verdict after: "passed"
        // (its own call, which wins over the failed test inside).
        let put = |body: &[u8]| {
            answer(
                agent()
                    .put(&format!("{}/api/v1/projects/shop/builds/102", svc.url()))
                    .header("Authorization", &format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .send(body),
            )
        };
        let meta = put(br#"{"number": 7, "ci_provider": "github-actions",
            "ci_url": "https://ci.example/102", "started_at": "2026-11-03T09:58:00Z",
            "shards": 2}"#);
        assert_eq!(meta.status, 200, "{backend}: {}", meta.text());
        assert_eq!(meta.json()["status"], "running", "{backend}: no report yet");
        up("102", "abc", "03", "tests", &junit(true, false));
        let verdict = put(br#"{"status": "passed"}"#);
        assert_eq!(verdict.status, 200, "{backend}: {}", verdict.text());
        assert_eq!(
            (&verdict.json()["status"], &verdict.json()["status_source"]),
            (&json!("passed"), &json!("ci")),
            "{backend}: the CI's word finishes the build with one of two shards in"
        );
        up("103", "def", "04", "cov", &sample("gcovr-cobertura.xml"));
        up("103", "def", "04", "tests", &junit(true, true));

        // A build.
        let detail = get(&svc, "/api/v1/projects/shop/builds/102").json();
        let b = &detail["build"];
        assert_eq!(
            keys(b),
            sorted(vec![
                "ci",
                "commit",
                "complete",
                "coverage",
                "duration_seconds",
                "finished_at",
                "id",
                "number",
                "shards",
                "started_at",
                "status",
                "status_source",
                "tests",
                "branch"
            ]),
            "{backend}: {b}"
        );
        assert_eq!(b["id"], "102");
        assert_eq!(b["number"], 7);
        assert_eq!(b["status"], "passed");
        assert_eq!(b["status_source"], "ci", "{backend}: the CI said so");
        assert!(is_rfc3339_utc(&b["started_at"]), "{backend}: {b}");
        assert_eq!(b["finished_at"], "2026-11-03T10:00:00Z");
        assert_eq!(b["duration_seconds"], 120.0, "{backend}: 09:58 to 10:00");
        assert_eq!(b["shards"], json!({"expected": 2, "received": 1}));
        assert_eq!(
            b["ci"],
            json!({"provider": "github-actions", "url": "https://ci.example/102"})
        );
        assert_eq!(
            b["tests"],
            json!({"total": 2, "passed": 1, "failed": 1, "errored": 0, "skipped": 0,
                "flaky": 0, "pass_rate": 0.5})
        );
        assert!(b["coverage"].is_null(), "{backend}: 102 has no coverage");
        let t = &detail["tests"][0];
        assert_eq!(
            keys(t),
            sorted(vec![
                "attempts",
                "duration_s",
                "flaky",
                "message",
                "status",
                "test"
            ])
        );
        assert_eq!(t["message"], "boom", "{backend}: the failure's message");
        assert_eq!(keys(&t["test"]), TEST_KEYS.to_vec());
        assert_eq!(t["test"]["name"], "t1", "{backend}: the failure first");

        // Coverage against the previous complete build with coverage of the branch: 103 is
        // compared with 101, past 102 that has none.
        let builds = get(&svc, "/api/v1/projects/shop/builds").json();
        let list = builds["builds"].as_array().expect("builds");
        let ids: Vec<&str> = list.iter().filter_map(|b| b["id"].as_str()).collect();
        assert_eq!(ids, ["103", "102", "101"], "{backend}: newest first");
        let (b103, b101) = (&list[0], &list[2]);
        assert_eq!(b101["status_source"], "tests", "{backend}: derived");
        let c = &b103["coverage"];
        assert_eq!(
            keys(c),
            sorted(vec![
                "branch_rate",
                "branches_covered",
                "branches_valid",
                "delta_pp",
                "line_rate",
                "lines_covered",
                "lines_valid",
                "previous_build"
            ])
        );
        assert_eq!(c["previous_build"], "101", "{backend}");
        let rate =
            |c: &Value| c["lines_covered"].as_f64().unwrap() / c["lines_valid"].as_f64().unwrap();
        let expected = (rate(c) - rate(&b101["coverage"])) * 100.0;
        assert!(
            (c["delta_pp"].as_f64().unwrap() - expected).abs() < 1e-9,
            "{backend}: {c}"
        );
        assert!(
            b101["coverage"]["delta_pp"].is_null() && b101["coverage"]["previous_build"].is_null(),
            "{backend}: the branch's first build has no delta"
        );

        // Flaky: evidence in CI build ids, per commit.
        let flaky = get(&svc, "/api/v1/projects/shop/tests/flaky").json();
        let rows = flaky["tests"].as_array().expect("tests");
        assert_eq!(rows.len(), 2, "{backend}: {flaky}");
        let t1 = rows
            .iter()
            .find(|r| r["test"]["name"] == "t1")
            .expect("t1 is flaky");
        assert_eq!(
            keys(t1),
            sorted(vec![
                "failures",
                "flake_rate",
                "flip_rate",
                "pass_on_retry",
                "pass_rate",
                "passes",
                "runs",
                "same_commit",
                "test"
            ])
        );
        assert_eq!(keys(&t1["test"]), TEST_KEYS.to_vec());
        assert_eq!(
            t1["same_commit"],
            json!({"flaky": true, "commits": [{"commit": "abc", "failed_in": ["102"], "passed_in": ["101"]}]}),
            "{backend}"
        );
        assert_eq!(t1["pass_on_retry"], json!({"flaky": false, "builds": []}));
        assert_eq!(
            t1["flip_rate"],
            json!({"flaky": false, "branch": "main", "runs": ["101", "102", "103"],
                "sequence": "PFF", "flips": 1, "rate": 0.5}),
            "{backend}"
        );

        // Failing since, in CI build ids and RFC 3339.
        let failing = get(&svc, "/api/v1/projects/shop/tests/failing?branch=main").json();
        let rows = failing["tests"].as_array().expect("tests");
        let t1 = rows
            .iter()
            .find(|r| r["test"]["name"] == "t1")
            .expect("t1 fails");
        assert_eq!(
            keys(t1),
            sorted(vec![
                "failing_builds",
                "since",
                "since_build",
                "since_commit",
                "test"
            ])
        );
        assert_eq!(t1["since_build"], "102");
        assert_eq!(t1["since"], "2026-11-03T10:00:00Z");
        assert_eq!(t1["since_commit"], "abc");
        assert_eq!(t1["failing_builds"], json!(["102", "103"]));

        // Slowest, with a limit.
        let slowest = get(&svc, "/api/v1/projects/shop/tests/slowest?limit=1").json();
        let rows = slowest["tests"].as_array().expect("tests");
        assert_eq!(rows.len(), 1, "{backend}: the limit");
        assert_eq!(
            keys(&rows[0]),
            sorted(vec!["max_s", "p50_s", "p95_s", "runs", "test"])
        );
        assert_eq!(
            rows[0]["test"]["name"], "t2",
            "{backend}: 1.5 s beats 0.5 s"
        );
        assert_eq!(rows[0]["runs"], 3);

        // The gate on the latest build: compared with 102, the flaky tests left out on ask.
        let gate = get(
            &svc,
            "/api/v1/projects/shop/gate?conditions=new_failures%20%3D%3D%200;failed%20%3D%3D%200&flaky_excluded=true",
        )
        .json();
        assert_eq!(gate["build"], "103");
        assert_eq!(gate["compared_with"], "102", "{backend}: {gate}");
        assert_eq!(gate["facts"]["new_failures"], 1.0, "{backend}: t2 is new");
        assert_eq!(
            gate["facts"]["failed_excluding_flaky"], 0.0,
            "{backend}: {gate}"
        );
        assert_eq!(
            gate["passed"], true,
            "{backend}: both failures are known flaky"
        );
        let excluded: Vec<&str> = gate["flaky_excluded"]
            .as_array()
            .expect("flaky_excluded")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(sorted(excluded), ["t1", "t2"]);

        // No internal row id anywhere.
        for path in [
            "/api/v1/projects",
            "/api/v1/projects/shop/builds",
            "/api/v1/projects/shop/builds/103",
            "/api/v1/projects/shop/tests/flaky",
            "/api/v1/projects/shop/tests/failing",
            "/api/v1/projects/shop/tests/slowest",
            "/api/v1/projects/shop/coverage/files",
            "/api/v1/projects/shop/gate",
            "/api/v1/projects/shop/trends",
            "/api/v1/projects/shop/score",
        ] {
            let body = get(&svc, path).json();
            let mut found = Vec::new();
            row_ids(&body, &mut found);
            assert!(found.is_empty(), "{backend}: {path} has {found:?}: {body}");
        }
        svc.stop();
    }
}
