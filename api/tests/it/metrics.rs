//! Every metric the library computes, served: on one small history whose expected values
//! are worked out by hand below.
//!
//! Builds b1–b6 finish on 2–7 November 2026 at 10:00Z, one a day; b1–b5 on `main`, b6 on
//! `feature`, each its own commit. Status comes from the tests:
//!
//! | build | t_a            | t_b   | t_c    | status | coverage (src/a/x.py, src/b/y.py) |
//! |-------|----------------|-------|--------|--------|-----------------------------------|
//! | b1    | pass           | 1.0 s |        | passed | x 1/2, y 1/1 (2 of 3)             |
//! | b2    | fail "boom 2"  | 1.0 s |        | failed |                                   |
//! | b3    | fail "boom 3"  | 1.0 s |        | failed |                                   |
//! | b4    | pass           | 3.0 s |        | passed | x 2/2, y 0/1 (2 of 3)             |
//! | b5    | fail "boom 5"  | 3.0 s |        | failed |                                   |
//! | b6    | pass           | 3.0 s | fail   | failed |                                   |

use serde_json::{Value, json};

use crate::support::*;

fn junit(a_fails: Option<&str>, b_time: &str, with_c: bool) -> Vec<u8> {
    let a = match a_fails {
        Some(m) => format!(
            "<testcase classname=\"T\" name=\"t_a\"><failure message=\"{m}\">trace</failure></testcase>"
        ),
        None => "<testcase classname=\"T\" name=\"t_a\"/>".into(),
    };
    let c = if with_c {
        "<testcase classname=\"T\" name=\"t_c\"><error/></testcase>"
    } else {
        ""
    };
    format!(
        "<testsuite name=\"s\">{a}<testcase classname=\"T\" name=\"t_b\" time=\"{b_time}\"/>{c}</testsuite>"
    )
    .into_bytes()
}

fn lcov(x: [u32; 2], y: u32) -> Vec<u8> {
    format!(
        "SF:src/a/x.py\nDA:1,{}\nDA:2,{}\nend_of_record\nSF:src/b/y.py\nDA:1,{y}\nend_of_record\n",
        x[0], x[1]
    )
    .into_bytes()
}

fn history(svc: &cimetrics_api::service::Spawned) {
    let token = project(svc, "shop");
    // (id, branch, t_a's failure, t_b's time, with t_c, coverage)
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
        bool,
        Option<Vec<u8>>,
    );
    let builds: [Row; 6] = [
        ("b1", "main", None, "1.0", false, Some(lcov([1, 0], 1))),
        ("b2", "main", Some("boom 2"), "1.0", false, None),
        ("b3", "main", Some("boom 3"), "1.0", false, None),
        ("b4", "main", None, "3.0", false, Some(lcov([1, 1], 0))),
        ("b5", "main", Some("boom 5"), "3.0", false, None),
        ("b6", "feature", None, "3.0", true, None),
    ];
    for (i, (id, branch, a_fails, b_time, with_c, cov)) in builds.into_iter().enumerate() {
        let url = |name: &str, last: bool| {
            format!(
                "/api/v1/projects/shop/builds/{id}/reports?branch={branch}&commit=c{id}&name={name}&finished_at=2026-11-0{}T10:00:00Z&finish={last}",
                i + 2
            )
        };
        if let Some(cov) = cov {
            let a = post(svc, &url("lcov.info", false), Some(&token), &[], &cov);
            assert_eq!(a.status, 201, "{}", a.text());
        }
        let a = post(
            svc,
            &url("junit.xml", true),
            Some(&token),
            &[],
            &junit(a_fails, b_time, with_c),
        );
        assert_eq!(a.status, 201, "{}", a.text());
    }
}

#[test]
fn rolling_success_mttr_test_history_regressions_packages_and_compare_answer_by_hand() {
    for (backend, svc) in services(|s| s.build_close_after_seconds = 600) {
        history(&svc);
        let day = |d: u32| format!("2026-11-0{d}T10:00:00Z");

        // Rolling over 2 finished builds of main: b1 1/1, b2 1/2, b3 0/2, b4 1/2, b5 1/2.
        let r = get(
            &svc,
            "/api/v1/projects/shop/trends?metric=success_rate&rolling=2&branch=main",
        )
        .json();
        let points = r["points"].as_array().expect("points");
        let got: Vec<(String, u64, u64, f64)> = points
            .iter()
            .map(|p| {
                (
                    p["build"].as_str().unwrap().to_owned(),
                    p["builds"].as_u64().unwrap(),
                    p["successful"].as_u64().unwrap(),
                    p["success_rate"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("b1".into(), 1, 1, 1.0),
                ("b2".into(), 2, 1, 0.5),
                ("b3".into(), 2, 0, 0.0),
                ("b4".into(), 2, 1, 0.5),
                ("b5".into(), 2, 1, 0.5)
            ],
            "{backend}: {r}"
        );
        assert_eq!(points[0]["finished_at"], day(2));

        // MTTR on main: b2 failed (3 Nov), b3 failed, b4 passed (5 Nov): 2 days = 172,800 s;
        // b5 opens a streak that is still open.
        let m = get(&svc, "/api/v1/projects/shop/mttr?branch=main").json();
        assert_eq!(m["mttr_seconds"], 172_800.0, "{backend}: {m}");
        assert_eq!(
            m["streaks"][0],
            json!({"branch": "main", "first_failed": "b2", "failed_builds": ["b2", "b3"],
                "failed_at": day(3), "recovered_by": "b4", "recovered_at": day(5),
                "seconds": 172_800.0}),
            "{backend}"
        );
        assert_eq!(m["open_streak"]["first_failed"], "b5", "{backend}: {m}");
        assert_eq!(m["open_streak"]["recovered_by"], Value::Null);
        // Every branch: feature's first build b6 failed (open); the latest build is on
        // feature, so that is the open streak; the mean is still main's one recovery.
        let all = get(&svc, "/api/v1/projects/shop/mttr").json();
        assert_eq!(
            all["streaks"].as_array().map(Vec::len),
            Some(3),
            "{backend}: {all}"
        );
        assert_eq!(all["mttr_seconds"], 172_800.0);
        assert_eq!(all["open_streak"]["first_failed"], "b6");

        // t_a's history: newest first, with the messages; 3 passes of 6 runs; on main it
        // goes P F F P F: 3 flips of 4 (0.75 >= 0.2, >= 2 flips): flip-flaky.
        let detail = get(&svc, "/api/v1/projects/shop/builds/b5").json();
        let t_a = detail["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["test"]["name"] == "t_a")
            .expect("t_a")
            .clone();
        assert_eq!(
            t_a["message"], "boom 5",
            "{backend}: the build shows the message"
        );
        let id = t_a["test"]["id"].as_str().unwrap();
        let h = get(&svc, &format!("/api/v1/projects/shop/tests/{id}")).json();
        let runs = h["runs"].as_array().expect("runs");
        let builds: Vec<&str> = runs.iter().filter_map(|r| r["build"].as_str()).collect();
        assert_eq!(
            builds,
            ["b6", "b5", "b4", "b3", "b2", "b1"],
            "{backend}: {h}"
        );
        assert_eq!(runs[1]["message"], "boom 5");
        assert_eq!(runs[1]["status"], "failed");
        assert_eq!(runs[0]["branch"], "feature");
        assert_eq!(runs[2]["message"], Value::Null, "{backend}: b4 passed");
        assert_eq!(
            (&h["pass_rate"], &h["failure_rate"]),
            (&json!(0.5), &json!(0.5))
        );
        assert_eq!(
            h["flaky"],
            json!({"same_commit": false, "pass_on_retry": false, "flip_rate": true}),
            "{backend}"
        );
        assert_eq!(
            get(&svc, "/api/v1/projects/shop/tests/0000000000000000").status,
            404,
            "{backend}: an unknown test"
        );

        // Regressions: recent = the last 2 days before b6 (from 5 Nov 10:00): b4, b5, b6 at
        // 3.0 s against b1, b2, b3 at 1.0 s: +200%. t_a has no times.
        let g = get(
            &svc,
            "/api/v1/projects/shop/tests/regressions?recent_days=2",
        )
        .json();
        let tests = g["tests"].as_array().expect("tests");
        assert_eq!(tests.len(), 1, "{backend}: {g}");
        assert_eq!(tests[0]["test"]["name"], "t_b");
        assert_eq!(
            (
                &tests[0]["earlier_p50_s"],
                &tests[0]["recent_p50_s"],
                &tests[0]["increase_pct"]
            ),
            (&json!(1.0), &json!(3.0), &json!(200.0))
        );

        // Packages of b4 (the latest with coverage) against b1: src/a 1/2 -> 2/2 (+50 pp),
        // src/b 1/1 -> 0/1 (-100 pp).
        let p = get(&svc, "/api/v1/projects/shop/coverage/packages").json();
        assert_eq!(
            (&p["build"], &p["previous_build"]),
            (&json!("b4"), &json!("b1")),
            "{backend}: {p}"
        );
        let pk = p["packages"].as_array().expect("packages");
        let got: Vec<(&str, f64, f64)> = pk
            .iter()
            .map(|k| {
                (
                    k["package"].as_str().unwrap(),
                    k["line_rate"].as_f64().unwrap(),
                    k["line_delta_pp"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("src/a", 1.0, 50.0), ("src/b", 0.0, -100.0)],
            "{backend}"
        );

        // Compare feature's latest (b6) with b1: t_c added and newly failing (errored).
        let c = get(
            &svc,
            "/api/v1/projects/shop/compare?base=b1&head=branch:feature",
        )
        .json();
        assert_eq!(
            (&c["base"]["id"], &c["head"]["id"]),
            (&json!("b1"), &json!("b6")),
            "{backend}: {c}"
        );
        let names = |k: &str| -> Vec<String> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    format!(
                        "{} {}->{}",
                        t["test"]["name"].as_str().unwrap(),
                        t["base"],
                        t["head"]
                    )
                })
                .collect()
        };
        assert_eq!(names("newly_failing"), ["t_c null->\"errored\""]);
        assert_eq!(names("added"), ["t_c null->\"errored\""]);
        assert!(names("fixed").is_empty() && names("removed").is_empty());
        assert_eq!(
            c["coverage"]["delta_pp"],
            Value::Null,
            "{backend}: b6 has no coverage"
        );
        // b3 -> b4 fixed t_a; coverage b1 -> b4 is 2 of 3 both: 0 pp.
        let c = get(&svc, "/api/v1/projects/shop/compare?base=b3&head=b4").json();
        let fixed: Vec<&str> = c["fixed"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["test"]["name"].as_str())
            .collect();
        assert_eq!(fixed, ["t_a"], "{backend}: {c}");
        let c = get(&svc, "/api/v1/projects/shop/compare?base=b1&head=b4").json();
        assert_eq!(c["coverage"]["delta_pp"], 0.0, "{backend}: {c}");
        let x = c["coverage"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "src/a/x.py")
            .cloned()
            .unwrap();
        assert_eq!(x["line_delta_pp"], 50.0);
        assert_eq!(
            get(
                &svc,
                "/api/v1/projects/shop/compare?base=b1&head=branch:nope"
            )
            .status,
            404
        );
        svc.stop();
    }
}

#[test]
fn the_dashboard_links_each_test_and_build_to_its_page() {
    let (backend, svc) = services(|s| s.build_close_after_seconds = 600).remove(0);
    history(&svc);
    let h = get(&svc, "/api/v1/projects/shop/tests/flaky").json();
    let t_a = h["tests"][0]["test"]["id"]
        .as_str()
        .expect("t_a is flaky")
        .to_owned();
    let page = get(&svc, "/projects/shop");
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains(&format!("href=\"/projects/shop/tests/{t_a}\">t_a</a>")),
        "{backend}: the flaky table links t_a: {html}"
    );
    assert!(
        html.contains("href=\"/projects/shop/builds/b6\">b6</a>"),
        "{backend}: the latest and recent builds link to their pages"
    );
    let build = get(&svc, "/projects/shop/builds/b5");
    assert_eq!(build.status, 200);
    let html = build.text();
    assert!(
        html.contains("boom 5") && html.contains("from its tests"),
        "{html}"
    );
    assert!(
        html.contains(&format!("/projects/shop/tests/{t_a}")),
        "{html}"
    );
    let test = get(&svc, &format!("/projects/shop/tests/{t_a}"));
    assert_eq!(test.status, 200);
    let html = test.text();
    assert!(
        html.contains("href=\"/projects/shop/builds/b5\">b5</a>") && html.contains("boom 5"),
        "{html}"
    );
    assert!(html.contains("flips on a branch: yes"), "{html}");
    assert_eq!(get(&svc, "/projects/shop/builds/nope").status, 404);
    svc.stop();
}

/// The quality trend covers the whole history, not only the cached days: with one day of
/// raw results cached, September and October are still scored (their results come from the
/// store), each window with its components, and a window is scored again when one of its
/// builds changes.
///
/// One build a month, two tests each; no coverage, so the weights of success (0.25), pass
/// rate (0.25) and flakiness (0.15) scale up to 100:
/// - Sep, Nov: passed, 2/2 tests, nothing flaky: 100.
/// - Oct: failed, 1/2 tests: (0.25·0 + 0.25·0.5 + 0.15·1) / 0.65 · 100 = 42.3.
/// - Then a late report for September's build in which `t2` fails: beside its pass in the
///   first report that is a flaky pass (the merge rule), so the build still passes with 2/2
///   tests, but 1 of its 2 tests is flaky (share 0.5, flakiness max(0, 1 − 10·0.5) = 0):
///   (0.25·1 + 0.25·1 + 0.15·0) / 0.65 · 100 = 76.9.
#[test]
fn the_quality_trend_scores_every_window_of_the_history_with_its_components() {
    for (backend, svc) in services(|s| s.cache_results_days = 1) {
        let token = project(&svc, "shop");
        let report = |t2_fails: bool| {
            let t2 = if t2_fails {
                "<testcase classname=\"T\" name=\"t2\"><failure/></testcase>"
            } else {
                "<testcase classname=\"T\" name=\"t2\"/>"
            };
            format!("<testsuite name=\"s\"><testcase classname=\"T\" name=\"t1\"/>{t2}</testsuite>")
                .into_bytes()
        };
        let up = |id: &str, month: &str, name: &str, t2_fails: bool| {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{id}/reports?branch=main&commit=c{id}&name={name}&finished_at=2026-{month}-10T10:00:00Z"
                ),
                Some(&token),
                &[],
                &report(t2_fails),
            );
            assert_eq!(a.status, 201, "{}", a.text());
        };
        up("sep", "09", "a.xml", false);
        up("oct", "10", "a.xml", true);
        up("nov", "11", "a.xml", false);
        let trend = || {
            get(
                &svc,
                "/api/v1/projects/shop/trends?metric=quality&window=month",
            )
            .json()["points"]
                .as_array()
                .cloned()
                .expect("points")
        };
        let scores = |points: &[Value]| -> Vec<Option<f64>> {
            points.iter().map(|p| p["value"].as_f64()).collect()
        };
        let points = trend();
        assert_eq!(
            scores(&points),
            [Some(100.0), Some(42.3), Some(100.0)],
            "{backend}"
        );
        let oct: Vec<(String, Value)> = points[1]["components"]
            .as_array()
            .expect("components")
            .iter()
            .map(|c| (c["name"].as_str().unwrap().to_owned(), c["points"].clone()))
            .collect();
        assert_eq!(oct[0], ("success_rate".into(), json!(0.0)), "{backend}");
        assert!((oct[1].1.as_f64().unwrap() - 0.25 / 0.65 * 50.0).abs() < 1e-9);
        assert!(
            (oct[2].1.as_f64().unwrap() - 0.15 / 0.65 * 100.0).abs() < 1e-9,
            "{backend}: flakiness needs October's results"
        );
        assert_eq!(oct[3], ("coverage".into(), Value::Null));
        assert_eq!(trend(), points, "{backend}: asked again, the same");
        // September's build takes a late failing report: its window is scored again.
        up("sep", "09", "b.xml", true);
        assert_eq!(
            scores(&trend()),
            [Some(76.9), Some(42.3), Some(100.0)],
            "{backend}"
        );
        svc.stop();
    }
}
