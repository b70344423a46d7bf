//! The service, black-box: each test starts the service with a fresh database, talks HTTP,
//! and checks the answers and what was stored (through the read API).

use std::time::Duration;

use cimetrics_api::service::{Settings, Spawned, spawn};

use crate::support::*;

#[test]
fn a_ci_upload_is_stored_once_and_read_back_as_json_charts_badges_and_dashboard() {
    for (backend, svc) in services(|_| {}) {
        assert_eq!(get(&svc, "/healthz").status, 200, "{backend}");
        assert_eq!(get(&svc, "/readyz").status, 200, "{backend}");
        let token = project(&svc, "shop");
        let junit = sample("pytest-rerunfailures.xml");
        let path = "/api/v1/projects/shop/builds/101/reports?commit=abc123&branch=main&name=junit.xml&finished_at=2026-11-02T10:00:00Z";
        let first = post(&svc, path, Some(&token), &[], &junit);
        assert_eq!(first.status, 201, "{backend}: {}", first.text());
        let j = first.json();
        assert_eq!(j["format"], "junit", "{backend}");
        assert_eq!(j["tests"]["total"], 4, "{backend}");
        assert_eq!(j["tests"]["flaky"], 2, "{backend}");
        assert_eq!(j["tests"]["failed"], 1, "{backend}");
        assert_eq!(first.replayed.as_deref(), Some("false"));

        // The CI retries the same upload (gzipped this time: the digest is of the bytes as
        // sent, so gzip it the same way both times).
        let again = post(&svc, path, Some(&token), &[], &junit);
        assert_eq!(
            again.status, first.status,
            "{backend}: a retry answers the same"
        );
        assert_eq!(
            again.body, first.body,
            "{backend}: a retry answers the same"
        );
        assert_eq!(again.replayed.as_deref(), Some("true"));

        let cov = gzip(&sample("coverage-py-cobertura.xml"));
        let c = post(
            &svc,
            "/api/v1/projects/shop/builds/102/reports?commit=def456&branch=main&name=coverage.xml&finished_at=2026-11-03T10:00:00Z",
            Some(&token),
            &[("content-encoding", "gzip")],
            &cov,
        );
        assert_eq!(c.status, 201, "{backend}: {}", c.text());
        assert_eq!(c.json()["format"], "cobertura");

        let stored = builds(&svc, "shop");
        assert_eq!(
            stored.len(),
            2,
            "{backend}: one build per upload, the retry adds none"
        );
        let b101 = stored.iter().find(|b| b["id"] == "101").expect("build 101");
        assert_eq!(
            b101["tests"],
            serde_json::json!({"total": 4, "passed": 3, "failed": 1, "errored": 0,
                "skipped": 0, "flaky": 2, "pass_rate": 0.75}),
            "{backend}"
        );
        assert_eq!(
            b101["status"], "failed",
            "{backend}: derived from the failed test"
        );

        let detail = get(&svc, "/api/v1/projects/shop/builds/101").json();
        let tests = detail["tests"].as_array().expect("tests");
        assert_eq!(tests.len(), 4);
        assert_eq!(tests[0]["status"], "failed", "{backend}: failures first");
        assert!(
            tests[0]["test"]["id"]
                .as_str()
                .is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())),
            "{backend}: a test's id is 16 hex digits: {}",
            tests[0]
        );

        let trend = get(
            &svc,
            "/api/v1/projects/shop/trends?metric=pass_rate&window=day&from=2026-11-01&to=2026-11-03",
        );
        assert_eq!(trend.status, 200, "{}", trend.text());
        let rows = trend.json()["points"].as_array().cloned().expect("points");
        assert_eq!(rows.len(), 3, "{backend}: three days, one of them empty");
        assert!(
            rows[0]["value"].is_null(),
            "{backend}: an empty day is null, not 0"
        );
        assert_eq!(rows[1]["value"], 0.75, "{backend}: 3 passed of 4 run");
        assert_eq!(rows[1]["window_start"], "2026-11-02", "{backend}");
        let csv = answer(
            agent()
                .get(&format!(
                    "{}/api/v1/projects/shop/trends?metric=coverage&window=day",
                    svc.url()
                ))
                .header("Accept", "text/csv")
                .call(),
        );
        assert!(csv.content_type.starts_with("text/csv"), "{backend}");
        assert!(
            csv.text().starts_with("window_start,"),
            "{backend}: {}",
            csv.text()
        );

        let svg = get(
            &svc,
            "/api/v1/projects/shop/charts/coverage.svg?window=day&theme=dark",
        );
        assert_eq!(svg.status, 200, "{}", svg.text());
        assert_eq!(svg.content_type, "image/svg+xml");
        assert_eq!(svg_root(&svg.body), "svg");
        let png = get(
            &svc,
            "/api/v1/projects/shop/charts/success_rate.png?width=640&height=320",
        );
        assert_eq!(png.status, 200, "{}", png.text());
        assert_eq!(png_size(&png.body), (640, 320));
        for badge in ["coverage", "success_rate", "quality"] {
            let b = get(&svc, &format!("/api/v1/projects/shop/badges/{badge}.svg"));
            assert_eq!(b.status, 200, "{badge}: {}", b.text());
            assert_eq!(svg_root(&b.body), "svg");
        }
        let cov_badge = get(&svc, "/api/v1/projects/shop/badges/coverage.svg").text();
        let expected = c.json()["coverage"]["lines_covered"].as_f64().unwrap()
            / c.json()["coverage"]["lines_valid"].as_f64().unwrap()
            * 100.0;
        assert!(
            cov_badge.contains(&format!("{expected:.1}%")),
            "{backend}: {cov_badge}"
        );

        let flaky = get(&svc, "/api/v1/projects/shop/tests/flaky").json();
        let names: Vec<&str> = flaky["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .filter_map(|r| r["test"]["name"].as_str())
            .collect();
        assert!(
            names.contains(&"test_flaky_passes_on_second_attempt"),
            "{backend}: {flaky}"
        );
        assert_eq!(get(&svc, "/api/v1/projects/shop/tests/slowest").status, 200);
        assert_eq!(
            get(&svc, "/api/v1/projects/shop/tests/failing?branch=main").status,
            200
        );
        let files = get(&svc, "/api/v1/projects/shop/coverage/files").json();
        let files = files["files"].as_array().cloned().unwrap_or_default();
        assert!(!files.is_empty(), "{backend}: the coverage report's files");
        let covered: u64 = files
            .iter()
            .filter_map(|f| f["lines_covered"].as_u64())
            .sum();
        assert_eq!(
            Some(covered),
            c.json()["coverage"]["lines_covered"].as_u64(),
            "{backend}"
        );
        let score = get(&svc, "/api/v1/projects/shop/score").json();
        assert!(
            score["components"].as_array().is_some_and(|c| c.len() == 6),
            "{score}"
        );
        // No code-quality report: its component has no value and no weight.
        assert_eq!(score["components"][5]["name"], "code_quality", "{score}");
        assert_eq!(score["components"][5]["weight"], 0.0, "{score}");
        let openapi = get(&svc, "/api/v1/openapi.json").json();
        assert!(openapi["paths"]["/api/v1/projects/{project}/trends"].is_object());

        let page = get(&svc, "/projects/shop");
        assert_eq!(page.status, 200);
        let html = page.text();
        assert!(html.contains("<h1>shop</h1>"), "{backend}");
        assert!(
            html.contains("/api/v1/projects/shop/charts/coverage.svg"),
            "{backend}"
        );
        assert!(
            html.contains("test_flaky_passes_on_second_attempt"),
            "{backend}: the flaky table"
        );
        assert!(get(&svc, "/").text().contains("/projects/shop"));
        let metrics = get(&svc, "/metrics").text();
        assert!(
            metrics.contains("cimetrics_uploads_total 2"),
            "{backend}: {metrics}"
        );
        assert!(
            metrics.contains("cimetrics_uploads_replayed_total 1"),
            "{backend}: {metrics}"
        );
        let count = |m: &str| -> u64 {
            m.lines()
                .find_map(|l| l.strip_prefix("cimetrics_request_duration_seconds_count "))
                .and_then(|v| v.parse().ok())
                .expect("a request count")
        };
        let inf = metrics
            .lines()
            .find_map(|l| l.strip_prefix("cimetrics_request_duration_seconds_bucket{le=\"+Inf\"} "))
            .and_then(|v| v.parse::<u64>().ok())
            .expect("a +Inf bucket");
        assert_eq!(inf, count(&metrics), "{backend}: +Inf holds every request");
        assert!(count(&metrics) > 20, "{backend}: {metrics}");
        svc.stop();
    }
}

#[test]
fn every_writing_route_wants_the_right_token() {
    for (backend, svc) in services(|_| {}) {
        let shop = project(&svc, "shop");
        let other = project(&svc, "other");
        let junit = sample("jest-junit.xml");
        let url = "/api/v1/projects/shop/builds/1/reports";
        assert_eq!(
            post(&svc, url, None, &[], &junit).status,
            401,
            "{backend}: no token"
        );
        assert_eq!(
            post(&svc, url, Some("nope"), &[], &junit).status,
            401,
            "{backend}: unknown token"
        );
        assert_eq!(
            post(&svc, url, Some(&other), &[], &junit).status,
            403,
            "{backend}: another project's token"
        );
        let put = |token: Option<&str>| {
            let mut r = agent().put(&format!("{}/api/v1/projects/shop/builds/1", svc.url()));
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            answer(
                r.header("content-type", "application/json")
                    .send(b"{\"branch\": \"main\"}".as_slice()),
            )
            .status
        };
        assert_eq!(put(None), 401, "{backend}");
        assert_eq!(put(Some(&other)), 403, "{backend}");
        assert_eq!(
            post(
                &svc,
                "/api/v1/projects/shop/builds/1/finalize",
                Some(&other),
                &[],
                b""
            )
            .status,
            403
        );
        assert_eq!(
            post(
                &svc,
                "/api/v1/projects",
                Some(&shop),
                &[("content-type", "application/json")],
                b"{\"name\":\"x\"}"
            )
            .status,
            403,
            "{backend}: an upload token cannot create projects"
        );
        assert!(builds(&svc, "shop").is_empty(), "{backend}: nothing stored");

        // A revoked token stops working.
        let revoke = post(
            &svc,
            "/api/v1/tokens/revoke",
            Some(ADMIN),
            &[("content-type", "application/json")],
            format!("{{\"token\": \"{shop}\"}}").as_bytes(),
        );
        assert_eq!(revoke.status, 204, "{}", revoke.text());
        assert_eq!(
            post(&svc, url, Some(&shop), &[], &junit).status,
            401,
            "{backend}: revoked"
        );
        assert_eq!(get(&svc, "/api/v1/projects/nope/builds").status, 404);
        svc.stop();
    }
}

#[test]
fn bad_truncated_oversized_and_bomb_uploads_are_refused_and_store_nothing() {
    for (backend, svc) in services(|s| {
        s.max_upload_bytes = 200_000;
        s.max_decompressed_bytes = 1_000_000;
    }) {
        let token = project(&svc, "shop");
        let url = "/api/v1/projects/shop/builds/7/reports";

        let truncated = b"<?xml version=\"1.0\"?>\n<testsuite name=\"s\" tests=\"1\">\n  <testcase name=\"a\" classname=\"c\" time=\"0.1\">\n";
        let a = post(&svc, url, Some(&token), &[], truncated);
        assert_eq!(a.status, 400, "{backend}: {}", a.text());
        assert!(a.content_type.starts_with("application/problem+json"));
        let p = a.json();
        assert!(
            p["position"]["line"].as_u64().is_some_and(|l| l >= 3),
            "{backend}: {p}"
        );
        assert!(
            p["detail"].as_str().is_some_and(|d| d.contains("line")),
            "{backend}: {p}"
        );

        let json = post(&svc, url, Some(&token), &[], b"{\"tests\": []}");
        assert_eq!(json.status, 415, "{backend}: {}", json.text());

        let big = vec![b' '; 300_000];
        assert_eq!(
            post(&svc, url, Some(&token), &[], &big).status,
            413,
            "{backend}: too large"
        );

        // 50 MB of one repeated testcase, gzipped to ~100 kB: inflates past the 1 MB bound.
        let mut xml = String::from("<testsuite name=\"bomb\">");
        let case = "<testcase name=\"a\" classname=\"c\"/>";
        while xml.len() < 50_000_000 {
            xml.push_str(case);
        }
        xml.push_str("</testsuite>");
        let bomb = gzip(xml.as_bytes());
        assert!(
            bomb.len() < 200_000,
            "the bomb fits the body limit: {}",
            bomb.len()
        );
        let b = post(
            &svc,
            url,
            Some(&token),
            &[("content-encoding", "gzip")],
            &bomb,
        );
        assert_eq!(b.status, 413, "{backend}: {}", b.text());
        // The same bomb without `Content-Encoding`: the reader unpacks it, within the same
        // max_decompressed_bytes (it went up to the reader's own 8 GiB before).
        let b = post(&svc, url, Some(&token), &[], &bomb);
        assert_eq!(b.status, 413, "{backend}: {}", b.text());
        assert!(b.text().contains("limit"), "{backend}: {}", b.text());
        assert_eq!(
            post(&svc, url, Some(&token), &[("content-encoding", "br")], b"x").status,
            415
        );
        assert!(
            builds(&svc, "shop").is_empty(),
            "{backend}: nothing stored after refusals"
        );

        // Another report under the same (build, shard, name): a conflict, the first kept.
        let ok = post(
            &svc,
            &format!("{url}?name=r.xml"),
            Some(&token),
            &[],
            &sample("jest-junit.xml"),
        );
        assert_eq!(ok.status, 201, "{}", ok.text());
        let conflict = post(
            &svc,
            &format!("{url}?name=r.xml"),
            Some(&token),
            &[],
            &sample("ant-junit4.xml"),
        );
        assert_eq!(conflict.status, 409, "{backend}: {}", conflict.text());
        let stored = builds(&svc, "shop");
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0]["tests"]["total"],
            ok.json()["tests"]["total"],
            "{backend}: the first report kept"
        );
        svc.stop();
    }
}

#[test]
fn the_shards_of_one_build_uploaded_at_once_make_one_complete_build() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let files = [
            "jest-junit.xml",
            "ant-junit4.xml",
            "gotestsum-junit.xml",
            "nextest-junit.xml",
        ];
        let totals: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = files
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let (svc, token) = (&svc, &token);
                    s.spawn(move || {
                        let a = post(
                            svc,
                            &format!("/api/v1/projects/shop/builds/9/reports?shard={}&shards=4&branch=main", i + 1),
                            Some(token),
                            &[],
                            &sample(f),
                        );
                        assert_eq!(a.status, 201, "{}", a.text());
                        a.json()["tests"]["total"].as_u64().expect("total")
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("upload thread"))
                .collect()
        });
        let stored = builds(&svc, "shop");
        assert_eq!(stored.len(), 1, "{backend}");
        assert_eq!(stored[0]["complete"], true, "{backend}: all 4 shards in");
        assert_eq!(
            stored[0]["tests"]["total"].as_u64(),
            Some(totals.iter().sum()),
            "{backend}"
        );
        svc.stop();
    }
}

#[test]
fn two_instances_over_one_postgres_give_the_same_answers() {
    let Ok(url) = std::env::var("CIMETRICS_TEST_DATABASE_URL") else {
        eprintln!("CIMETRICS_TEST_DATABASE_URL is not set: two-instance test skipped");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let db = rt
        .block_on(cimetrics_history::store::fresh_postgres_database(
            &url,
            "cimetrics_two",
        ))
        .expect("database");
    let start = |n: u32| {
        spawn(Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: temp_dir(&format!("cimetrics-two-{n}-")),
            database_url: Some(db.clone()),
            admin_token: Some(ADMIN.into()),
            workers: 1,
            build_close_after_seconds: 0,
            ..Settings::default()
        })
        .expect("start")
    };
    let (a, b) = (start(1), start(2));
    let token = project(&a, "shop");
    let trend = |svc: &Spawned| {
        get(
            svc,
            "/api/v1/projects/shop/trends?metric=pass_rate&window=day",
        )
        .json()["points"]
            .clone()
    };
    // B reads first (caching the empty history), then A stores: B must see it.
    assert_eq!(trend(&b), serde_json::json!([]));
    let up = post(
        &a,
        "/api/v1/projects/shop/builds/1/reports?finished_at=2026-11-02T10:00:00Z",
        Some(&token),
        &[],
        &sample("pytest-rerunfailures.xml"),
    );
    assert_eq!(up.status, 201, "{}", up.text());
    assert_eq!(trend(&a), trend(&b));
    assert_eq!(trend(&b)[0]["value"], 0.75);
    // The token made through A works on B.
    let again = post(
        &b,
        "/api/v1/projects/shop/builds/1/reports?finished_at=2026-11-02T10:00:00Z",
        Some(&token),
        &[],
        &sample("pytest-rerunfailures.xml"),
    );
    assert_eq!(again.status, 201);
    assert_eq!(again.replayed.as_deref(), Some("true"));
    a.stop();
    b.stop();
}

#[test]
fn a_private_project_is_read_with_its_own_tokens_only() {
    for (backend, svc) in services(|_| {}) {
        let upload = project(&svc, "secret");
        let other = project(&svc, "open");
        let set = |public: &str| {
            answer(
                agent()
                    .put(&format!("{}/api/v1/projects/secret/settings", svc.url()))
                    .header("Authorization", &format!("Bearer {ADMIN}"))
                    .header("content-type", "application/json")
                    .send(format!("{{\"public_read\": {public}}}").as_bytes()),
            )
        };
        assert_eq!(set("false").status, 200, "{backend}");
        let read_token = post(
            &svc,
            "/api/v1/projects/secret/tokens",
            Some(ADMIN),
            &[("content-type", "application/json")],
            b"{\"kind\": \"read\"}",
        )
        .json()["token"]
            .as_str()
            .expect("a read token")
            .to_owned();
        let read = |token: Option<&str>| {
            let mut r = agent().get(&format!("{}/api/v1/projects/secret/builds", svc.url()));
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            answer(r.call()).status
        };
        assert_eq!(read(None), 401, "{backend}: private");
        assert_eq!(
            read(Some(&other)),
            403,
            "{backend}: another project's token"
        );
        assert_eq!(read(Some(&read_token)), 200, "{backend}: its read token");
        assert_eq!(read(Some(&upload)), 200, "{backend}: its upload token");
        assert_eq!(
            get(&svc, "/api/v1/projects/secret/charts/coverage.svg").status,
            401
        );
        let listed = get(&svc, "/api/v1/projects").json();
        assert_eq!(
            listed["projects"].as_array().map(Vec::len),
            Some(1),
            "{backend}: {listed}"
        );
        // A read token cannot write.
        let w = post(
            &svc,
            "/api/v1/projects/secret/builds/1/reports",
            Some(&read_token),
            &[],
            &sample("jest-junit.xml"),
        );
        assert_eq!(w.status, 403, "{backend}");
        assert_eq!(set("null").status, 200);
        assert_eq!(
            read(None),
            200,
            "{backend}: back to the server's default (public)"
        );
        svc.stop();
    }
}

#[test]
fn a_body_that_stalls_is_cut_and_stores_nothing() {
    use std::io::{Read, Write as _};
    for (backend, svc) in services(|s| s.body_timeout_seconds = 1) {
        let token = project(&svc, "shop");
        let mut conn = std::net::TcpStream::connect(svc.addr).expect("connect");
        write!(
            conn,
            "POST /api/v1/projects/shop/builds/1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 100000\r\n\r\n<testsuite name=\"s\">"
        )
        .expect("send the head");
        conn.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let started = std::time::Instant::now();
        let mut answer = String::new();
        let _ = conn.read_to_string(&mut answer);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{backend}: cut, not left hanging"
        );
        assert!(answer.starts_with("HTTP/1.1 408"), "{backend}: {answer}");
        assert!(builds(&svc, "shop").is_empty(), "{backend}");
        svc.stop();
    }
}

#[path = "../../../benches/support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

/// (suite, classname, name, status, flaky, attempts) of every stored test of a build, sorted.
fn stored_tests(
    svc: &Spawned,
    project: &str,
    build: &str,
) -> Vec<(String, String, String, String, bool, i64)> {
    let detail = get(svc, &format!("/api/v1/projects/{project}/builds/{build}")).json();
    let mut out: Vec<_> = detail["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| {
            (
                t["test"]["suite"].as_str().unwrap_or_default().to_owned(),
                t["test"]["classname"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                t["test"]["name"].as_str().unwrap_or_default().to_owned(),
                t["status"].as_str().unwrap_or_default().to_owned(),
                t["flaky"].as_bool().unwrap_or_default(),
                t["attempts"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_large_report_read_in_two_passes_is_stored_as_the_whole_report_would_be() {
    // Each report goes to two builds: one service streams everything (threshold 0), the
    // other never does; what they store must be the same.
    let surefire = generator::junit_surefire(2_000_000);
    let reports: Vec<(&str, Vec<u8>)> = vec![
        ("surefire.xml", surefire.clone()),
        ("pytest.xml", sample("pytest-rerunfailures.xml")),
        ("nextest.xml", sample("nextest-junit.xml")),
        ("coverage.xml", sample("coverage-py-cobertura.xml")),
    ];
    let streaming = services(|s| s.stream_above_bytes = 0);
    let whole = services(|s| s.stream_above_bytes = u64::MAX);
    for ((backend, s), (_, w)) in streaming.into_iter().zip(whole) {
        let (ts, tw) = (project(&s, "shop"), project(&w, "shop"));
        for (i, (name, bytes)) in reports.iter().enumerate() {
            let path = format!("/api/v1/projects/shop/builds/{i}/reports?name={name}");
            let a = post(&s, &path, Some(&ts), &[], bytes);
            let b = post(&w, &path, Some(&tw), &[], bytes);
            assert_eq!(a.status, 201, "{backend} {name}: {}", a.text());
            assert_eq!(a.body, b.body, "{backend} {name}: the same answer");
            assert_eq!(
                stored_tests(&s, "shop", &i.to_string()),
                stored_tests(&w, "shop", &i.to_string()),
                "{backend} {name}: the same tests stored"
            );
        }
        let big = stored_tests(&s, "shop", "0");
        assert!(big.len() > 5_000, "{backend}: {} tests", big.len());
        assert!(big.iter().any(|t| t.4), "{backend}: flaky tests among them");
        // Gzipped, and a retry: answered the same, stored once.
        let gz = gzip(&surefire);
        let first = post(
            &s,
            "/api/v1/projects/shop/builds/gz/reports",
            Some(&ts),
            &[("content-encoding", "gzip")],
            &gz,
        );
        let again = post(
            &s,
            "/api/v1/projects/shop/builds/gz/reports",
            Some(&ts),
            &[("content-encoding", "gzip")],
            &gz,
        );
        assert_eq!(first.status, 201, "{}", first.text());
        assert_eq!(first.body, again.body);
        assert_eq!(stored_tests(&s, "shop", "gz"), big, "{backend}");
        // A report broken near its end: 400 with its position, and nothing stored.
        let mut broken = surefire.clone();
        broken.truncate(broken.len() - 40);
        let bad = post(
            &s,
            "/api/v1/projects/shop/builds/bad/reports",
            Some(&ts),
            &[],
            &broken,
        );
        assert_eq!(bad.status, 400, "{backend}: {}", bad.text());
        assert!(
            bad.json()["position"]["line"]
                .as_u64()
                .is_some_and(|l| l > 1000),
            "{}",
            bad.text()
        );
        assert_eq!(
            get(&s, "/api/v1/projects/shop/builds/bad").status,
            404,
            "{backend}: no build"
        );
        s.stop();
        w.stop();
    }
}

#[test]
fn the_gate_compares_a_build_with_the_previous_one_of_its_branch_and_csv_comes_by_suffix() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let junit = |cases: &[(&str, bool)]| {
            let mut x = String::from("<testsuite name=\"s\">");
            for (name, ok) in cases {
                if *ok {
                    x.push_str(&format!("<testcase classname=\"C\" name=\"{name}\"/>"));
                } else {
                    x.push_str(&format!(
                        "<testcase classname=\"C\" name=\"{name}\"><failure/></testcase>"
                    ));
                }
            }
            x.push_str("</testsuite>");
            x.into_bytes()
        };
        let lcov = |hit: u32| {
            format!("SF:a.rs\nDA:1,1\nDA:2,{hit}\nDA:3,0\nDA:4,1\nend_of_record\n").into_bytes()
        };
        let send = |build: &str, at: &str, name: &str, body: &[u8]| {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{build}/reports?branch=main&name={name}&finished_at={at}"
                ),
                Some(&token),
                &[],
                body,
            );
            assert_eq!(a.status, 201, "{}", a.text());
        };
        // Build 1: a fails, coverage 3/4. Build 2: a and b fail (b is new), coverage 2/4.
        send(
            "1",
            "2026-11-01T10:00:00Z",
            "j.xml",
            &junit(&[("a", false), ("b", true)]),
        );
        send("1", "2026-11-01T10:00:00Z", "c.info", &lcov(1));
        send(
            "2",
            "2026-11-02T10:00:00Z",
            "j.xml",
            &junit(&[("a", false), ("b", false)]),
        );
        send("2", "2026-11-02T10:00:00Z", "c.info", &lcov(0));

        let g = get(
            &svc,
            "/api/v1/projects/shop/gate?conditions=new_failures%20%3D%3D%200;coverage_delta%20%3E%3D%20-10;coverage%20%3E%3D%2050",
        );
        assert_eq!(g.status, 200, "{}", g.text());
        let g = g.json();
        assert_eq!(g["build"], "2", "{backend}: the latest build");
        assert_eq!(g["compared_with"], "1");
        assert_eq!(
            g["facts"]["new_failures"], 1.0,
            "{backend}: b is new, a is not"
        );
        assert_eq!(
            g["facts"]["coverage_delta"], -25.0,
            "{backend}: 50% after 75%"
        );
        let passed: Vec<bool> = g["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["passed"].as_bool().unwrap())
            .collect();
        assert_eq!(passed, [false, false, true], "{backend}: {g}");
        assert_eq!(g["passed"], false);
        let first = get(&svc, "/api/v1/projects/shop/gate?build=1").json();
        assert_eq!(first["compared_with"], serde_json::Value::Null);
        assert_eq!(
            first["passed"], false,
            "{backend}: failed == 0 does not hold"
        );

        let csv = get(&svc, "/api/v1/projects/shop/builds.csv");
        assert!(csv.content_type.starts_with("text/csv"), "{backend}");
        assert_eq!(
            csv.text().lines().count(),
            3,
            "{backend}: header and two builds"
        );
        let trend = get(
            &svc,
            "/api/v1/projects/shop/trends.csv?metric=coverage&window=day",
        );
        assert!(
            trend.text().starts_with("window_start,"),
            "{}",
            trend.text()
        );
        svc.stop();
    }
}

#[test]
fn every_read_route_answers_on_an_empty_project_and_on_one_without_coverage() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let routes = [
            "/api/v1/projects/shop/builds",
            "/api/v1/projects/shop/trends?metric=quality&window=day",
            "/api/v1/projects/shop/trends?metric=duration",
            "/api/v1/projects/shop/tests/flaky",
            "/api/v1/projects/shop/tests/slowest",
            "/api/v1/projects/shop/tests/failing",
            "/api/v1/projects/shop/coverage/files",
            "/api/v1/projects/shop/score",
            "/api/v1/projects/shop/charts/quality.svg",
            "/api/v1/projects/shop/charts/coverage.png",
            "/api/v1/projects/shop/badges/coverage.svg",
            "/api/v1/projects/shop/badges/quality.svg",
            "/projects/shop",
        ];
        for route in routes {
            let a = get(&svc, route);
            assert_eq!(a.status, 200, "{backend} {route} (empty): {}", a.text());
        }
        assert_eq!(
            get(&svc, "/api/v1/projects/shop/gate").status,
            404,
            "no build to gate"
        );
        // Tests only, no coverage: still no errors; quality per day has a score.
        let up = post(
            &svc,
            "/api/v1/projects/shop/builds/1/reports?finished_at=2026-11-02T10:00:00Z",
            Some(&token),
            &[],
            &sample("jest-junit.xml"),
        );
        assert_eq!(up.status, 201);
        for route in routes {
            let a = get(&svc, route);
            assert_eq!(
                a.status,
                200,
                "{backend} {route} (no coverage): {}",
                a.text()
            );
        }
        let q = get(
            &svc,
            "/api/v1/projects/shop/trends?metric=quality&window=day",
        )
        .json();
        assert!(q["points"][0]["value"].as_f64().is_some(), "{backend}: {q}");
        assert!(
            get(&svc, "/api/v1/projects/shop/badges/coverage.svg")
                .text()
                .contains("unknown")
        );
        svc.stop();
    }
}

#[test]
fn a_report_with_one_odd_value_is_stored_with_a_warning_and_refused_when_strict() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let report = b"<testsuite name=\"s\"><testcase name=\"a\" classname=\"c\" time=\"NaN\"/>\
            <testcase name=\"b\" classname=\"c\" time=\"1.5\"/></testsuite>";
        let strict = post(
            &svc,
            "/api/v1/projects/shop/builds/8/reports?strict=true",
            Some(&token),
            &[],
            report,
        );
        assert_eq!(strict.status, 400, "{backend}: {}", strict.text());
        let p = strict.json();
        assert!(
            p["detail"]
                .as_str()
                .is_some_and(|d| d.contains("refused in strict mode") && d.contains("NaN")),
            "{backend}: {p}"
        );
        assert_eq!(p["position"]["line"], 1, "{backend}: {p}");
        let builds = get(&svc, "/api/v1/projects/shop/builds");
        assert!(
            !builds.text().contains("\"8\""),
            "{backend}: {}",
            builds.text()
        );

        let kept = post(
            &svc,
            "/api/v1/projects/shop/builds/7/reports",
            Some(&token),
            &[],
            report,
        );
        assert_eq!(kept.status, 201, "{backend}: {}", kept.text());
        let body = kept.json();
        assert_eq!(body["tests"]["total"], 2, "{backend}: {body}");
        let warnings = body["warnings"].to_string();
        assert!(
            warnings.contains("1 test with a time that is not a number of seconds"),
            "{backend}: {warnings}"
        );
    }
}

#[test]
fn dotnet_sonarqube_and_json_coverage_reports_are_stored_under_their_own_format() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples");
    // (file, format, tests total or lines valid/covered) as the files declare or the tools
    // printed (samples/*.expected.json).
    let cases = [
        ("fixtures/trx/dotnet-trx.trx", "trx", "tests", 11, 5),
        ("fixtures/nunit/dotnet-nunit.xml", "nunit", "tests", 9, 3),
        (
            "fixtures/xunit/Microbenchmarks.Output.xml",
            "xunit",
            "tests",
            65,
            61,
        ),
        (
            "generated/coverage-py.json",
            "coveragepy-json",
            "coverage",
            26,
            22,
        ),
        (
            "generated/istanbul-coverage-final.json",
            "istanbul-json",
            "coverage",
            17,
            13,
        ),
        (
            "generated/cargo-llvm-cov.json",
            "llvm-cov-json",
            "coverage",
            41,
            35,
        ),
        (
            "generated/gcovr-sonarqube.xml",
            "sonarqube-coverage",
            "coverage",
            21,
            15,
        ),
    ];
    // Streamed in two passes (stream_above_bytes 0) and read whole: the same answers.
    for stream_above in [0, u64::MAX] {
        for (backend, svc) in services(|s| s.stream_above_bytes = stream_above) {
            let token = project(&svc, "net");
            for (i, (file, format, kind, total, good)) in cases.iter().enumerate() {
                let body = std::fs::read(samples.join(file)).expect(file);
                let url = format!("/api/v1/projects/net/builds/{i}/reports");
                for attempt in 0..2 {
                    let a = post(&svc, &url, Some(&token), &[], &body);
                    assert_eq!(a.status, 201, "{backend} {file} {attempt}: {}", a.text());
                    let v = a.json();
                    assert_eq!(v["format"], *format, "{backend} {file} {attempt}: {v}");
                    let (all, ok) = if *kind == "tests" {
                        (&v["tests"]["total"], &v["tests"]["passed"])
                    } else {
                        (
                            &v["coverage"]["lines_valid"],
                            &v["coverage"]["lines_covered"],
                        )
                    };
                    assert_eq!(
                        (all, ok),
                        (&(*total).into(), &(*good).into()),
                        "{backend} {file}: {v}"
                    );
                }
            }
        }
    }
}
