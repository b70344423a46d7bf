//! Probes a client could send to hurt the service, with or without a token; each answer is
//! checked, and the service keeps answering.

use crate::support::*;

#[test]
fn a_trend_of_more_windows_than_max_windows_is_refused_and_names_the_limit() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let a = post(
            &svc,
            "/api/v1/projects/shop/builds/1/reports?finished_at=2026-11-02T10:00:00Z",
            Some(&token),
            &[],
            &sample("ant-junit4.xml"),
        );
        assert_eq!(a.status, 201, "{}", a.text());
        // 10,000 years of days: 3.65 million windows (285 MB of JSON before the bound).
        for path in [
            "/api/v1/projects/shop/trends?from=0000-01-01&to=9999-12-31&window=day",
            "/api/v1/projects/shop/charts/success_rate.svg?from=0000-01-01&to=9999-12-31&window=day",
        ] {
            let t = get(&svc, path);
            assert_eq!(t.status, 400, "{backend}: {path}: {}", t.text());
            assert!(
                t.content_type.starts_with("application/problem+json")
                    && t.text().contains("max_windows (3700)"),
                "{backend}: {}",
                t.text()
            );
        }
        // Ten years of days is still answered.
        let t = get(
            &svc,
            "/api/v1/projects/shop/trends?from=2017-01-01&to=2026-12-31&window=day",
        );
        assert_eq!(t.status, 200, "{backend}");
        assert_eq!(t.json()["points"].as_array().map(Vec::len), Some(3652));
        assert_eq!(get(&svc, "/healthz").status, 200);
        svc.stop();
    }
}

#[test]
fn build_times_outside_1970_to_2100_are_refused_and_nothing_is_stored() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        for (query, field) in [
            ("finished_at=0000-01-01T00:00:00Z", "finished_at"),
            ("finished_at=9223372036854775807", "finished_at"),
            ("started_at=2100-01-01T00:00:00Z", "started_at"),
            ("duration_seconds=-5", "duration"),
        ] {
            let a = post(
                &svc,
                &format!("/api/v1/projects/shop/builds/1/reports?{query}"),
                Some(&token),
                &[],
                &sample("ant-junit4.xml"),
            );
            assert_eq!(a.status, 400, "{backend}: {query}: {}", a.text());
            assert!(a.text().contains(field), "{backend}: {}", a.text());
        }
        assert!(builds(&svc, "shop").is_empty(), "{backend}: nothing stored");
        // Every zone's trend still answers (a far timestamp used to panic inside polars).
        let t = get(
            &svc,
            "/api/v1/projects/shop/trends?tz=Europe/Berlin&window=day",
        );
        assert_eq!(t.status, 200, "{backend}: {}", t.text());
        svc.stop();
    }
}

#[test]
fn a_new_admin_token_retires_the_earlier_ones_and_a_short_one_is_refused() {
    let dir = temp_dir("cimetrics-admin-");
    let start = |token: &str| {
        cimetrics_api::service::spawn(cimetrics_api::service::Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: dir.clone(),
            admin_token: Some(token.into()),
            workers: 1,
            ..Default::default()
        })
    };
    let first = "first-admin-token-of-32-characters!";
    let second = "second-admin-token-of-32-characters";
    let create = |svc: &cimetrics_api::service::Spawned, token: &str, name: &str| {
        post(
            svc,
            "/api/v1/projects",
            Some(token),
            &[("content-type", "application/json")],
            format!("{{\"name\": \"{name}\"}}").as_bytes(),
        )
        .status
    };
    let svc = start(first).expect("starts");
    assert_eq!(create(&svc, first, "a"), 201);
    svc.stop();
    // The operator changes the setting: the first token stops working.
    let svc = start(second).expect("starts");
    assert_eq!(create(&svc, second, "b"), 201);
    assert_eq!(
        create(&svc, first, "c"),
        401,
        "the earlier admin token is revoked"
    );
    svc.stop();
    // Going back to the first: it was revoked, and stays so (the log says it).
    let svc = start(first).expect("starts");
    assert_eq!(create(&svc, first, "d"), 401);
    assert_eq!(create(&svc, second, "e"), 401, "the second is retired too");
    svc.stop();
    let short = start("short-token");
    assert!(
        short
            .err()
            .is_some_and(|e| e.to_string().contains("at least 32 characters")),
        "a short admin token is refused"
    );
}

#[test]
fn every_error_is_problem_json_without_echo_and_answers_carry_security_headers() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        // A query that does not parse, with markup in it: a problem document, no echo.
        let q = get(
            &svc,
            "/api/v1/projects/shop/tests/flaky?days=%3Cscript%3Ealert(1)%3C/script%3E",
        );
        assert_eq!(q.status, 400, "{backend}");
        assert!(
            q.content_type.starts_with("application/problem+json"),
            "{backend}"
        );
        assert!(
            !q.text().contains("script"),
            "{backend}: echoed: {}",
            q.text()
        );
        let unknown = get(&svc, "/api/v1/projects/shop/builds?bogus=1");
        assert_eq!(unknown.status, 400);
        assert!(
            unknown.text().contains("bogus"),
            "names the field: {}",
            unknown.text()
        );
        // A JSON body that is not JSON, and one over 64 KiB.
        let bad = post(
            &svc,
            "/api/v1/projects",
            Some(ADMIN),
            &[("content-type", "application/json")],
            b"{\"name\": <b>",
        );
        assert_eq!(bad.status, 400, "{backend}: {}", bad.text());
        assert!(bad.content_type.starts_with("application/problem+json"));
        assert!(!bad.text().contains("<b>"), "{}", bad.text());
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(100_000));
        let big = post(
            &svc,
            "/api/v1/projects",
            Some(ADMIN),
            &[("content-type", "application/json")],
            huge.as_bytes(),
        );
        assert_eq!(big.status, 413, "{backend}: {}", big.text());
        assert!(big.content_type.starts_with("application/problem+json"));
        // No such route.
        let none = get(&svc, "/api/v2/nothing");
        assert_eq!(none.status, 404);
        assert!(none.content_type.starts_with("application/problem+json"));

        // Headers: HTML pages may not be framed; a badge may; nothing is sniffed; an answer
        // to a request with a token is private.
        let headers = |path: &str, token: Option<&str>| {
            let mut r = agent().get(&format!("{}{path}", svc.url()));
            if let Some(t) = token {
                r = r.header("Authorization", &format!("Bearer {t}"));
            }
            let r = r.call().expect("answers");
            let h = |k: &str| {
                r.headers()
                    .get(k)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned()
            };
            (
                h("content-security-policy"),
                h("x-content-type-options"),
                h("cache-control"),
            )
        };
        let (csp, nosniff, _) = headers("/projects/shop", None);
        assert!(csp.contains("frame-ancestors 'none'"), "{backend}: {csp}");
        assert_eq!(nosniff, "nosniff");
        let (csp, nosniff, _) = headers("/api/v1/projects/shop/badges/coverage.svg", None);
        assert!(
            !csp.contains("frame-ancestors") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert_eq!(nosniff, "nosniff");
        let (_, _, cache) = headers("/api/v1/projects/shop/builds", Some(&token));
        assert_eq!(cache, "private, no-store", "{backend}");
        svc.stop();
    }
}

#[test]
fn a_restart_removes_spool_files_a_crash_left_and_the_data_stays_private() {
    let dir = temp_dir("cimetrics-spool-");
    std::fs::create_dir_all(dir.join("spool")).unwrap();
    let left = dir.join("spool/upload-0123456789abcdef.part");
    std::fs::write(&left, b"half a report").unwrap();
    let keep = dir.join("spool/notes.txt");
    std::fs::write(&keep, b"not ours").unwrap();
    let svc = cimetrics_api::service::spawn(cimetrics_api::service::Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        admin_token: Some(ADMIN.into()),
        workers: 1,
        ..Default::default()
    })
    .expect("starts");
    assert!(!left.exists(), "the crash's spool file is gone");
    assert!(keep.exists(), "only upload spool files are removed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("cimetrics.db")), 0o600);
    }
    svc.stop();
}

/// A writing route checks the token before it reads the body: a client that sends a
/// `Content-Length` and then stalls, without a token, is answered 401 at once, and with a
/// token it is cut after the body timeout. (1,100 such connections once held every file
/// descriptor.)
#[test]
fn a_stalled_json_body_holds_nothing_without_a_token_and_times_out_with_one() {
    use std::io::{Read, Write};
    for (backend, svc) in services(|s| s.body_timeout_seconds = 3) {
        let send = |token: Option<&str>| {
            let mut conn = std::net::TcpStream::connect(svc.addr).expect("connects");
            conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
            write!(
                conn,
                "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
            )
            .unwrap();
            let started = std::time::Instant::now();
            let mut answer = [0u8; 12];
            conn.read_exact(&mut answer).expect("an answer");
            (
                String::from_utf8_lossy(&answer).into_owned(),
                started.elapsed(),
            )
        };
        // Not a speed check: the 401 comes before the 3 s a body read would wait, so the
        // body was never waited for.
        let (status, took) = send(None);
        assert_eq!(status, "HTTP/1.1 401", "{backend}");
        assert!(
            took < std::time::Duration::from_secs(3),
            "{backend}: {took:?}"
        );
        let (status, _) = send(Some(ADMIN));
        assert_eq!(
            status, "HTTP/1.1 408",
            "{backend}: cut after the body timeout"
        );
        assert_eq!(get(&svc, "/healthz").status, 200);
        svc.stop();
    }
}

#[test]
fn identifiers_are_bounded_and_plain_and_long_test_names_are_cut_with_a_warning() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        for name in ["../etc", "a b", "-x", "é", &"p".repeat(101)] {
            let a = post(
                &svc,
                "/api/v1/projects",
                Some(ADMIN),
                &[("content-type", "application/json")],
                serde_json::json!({ "name": name }).to_string().as_bytes(),
            );
            assert_eq!(a.status, 400, "{backend}: project {name:?}: {}", a.text());
        }
        let long = "b".repeat(256);
        for (query, field) in [
            (format!("branch={long}"), "branch"),
            ("commit=abc%0Adef".to_owned(), "commit"),
            (format!("name={long}"), "report name"),
        ] {
            let a = post(
                &svc,
                &format!("/api/v1/projects/shop/builds/1/reports?{query}"),
                Some(&token),
                &[],
                &sample("ant-junit4.xml"),
            );
            assert_eq!(a.status, 400, "{backend}: {query}: {}", a.text());
            assert!(a.text().contains(field), "{backend}: {}", a.text());
        }
        assert!(builds(&svc, "shop").is_empty(), "{backend}: nothing stored");
        // A test name of 5,000 bytes is kept cut to 2,048, with a warning.
        let name = "n".repeat(5000);
        let report = format!(
            "<testsuite name=\"s\"><testcase classname=\"C\" name=\"{name}\"/></testsuite>"
        );
        let a = post(
            &svc,
            "/api/v1/projects/shop/builds/1/reports",
            Some(&token),
            &[],
            report.as_bytes(),
        );
        assert_eq!(a.status, 201, "{backend}: {}", a.text());
        assert!(
            a.text().contains("over 2048 bytes"),
            "{backend}: {}",
            a.text()
        );
        let detail = get(&svc, "/api/v1/projects/shop/builds/1").json();
        assert_eq!(
            detail["tests"][0]["test"]["name"].as_str().map(str::len),
            Some(2048),
            "{backend}"
        );
        svc.stop();
    }
}

/// A retry is known by the report, not by how it was packed: the same file gzipped (as the
/// CLI sends it), then plain (as `curl` would), then gzipped without `Content-Encoding`, is
/// one upload and two replays, not conflicts.
#[test]
fn the_same_report_gzipped_or_plain_is_a_replay_not_a_conflict() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let report = sample("jest-junit.xml");
        let packed = gzip(&report);
        let url = "/api/v1/projects/shop/builds/1/reports?name=junit.xml";
        let first = post(
            &svc,
            url,
            Some(&token),
            &[("content-encoding", "gzip")],
            &packed,
        );
        assert_eq!(first.status, 201, "{backend}: {}", first.text());
        assert_eq!(first.replayed.as_deref(), Some("false"));
        for (headers, how) in [
            (&[][..], "plain"),
            (&[][..], "gzip bytes without Content-Encoding"),
        ] {
            let body = if how == "plain" { &report } else { &packed };
            let again = post(&svc, url, Some(&token), headers, body);
            assert_eq!(again.status, 201, "{backend}: {how}: {}", again.text());
            assert_eq!(again.replayed.as_deref(), Some("true"), "{backend}: {how}");
            assert_eq!(
                again.json(),
                first.json(),
                "{backend}: {how}: answered the same"
            );
        }
        svc.stop();
    }
}

#[test]
fn an_admin_deletes_a_build_planted_in_the_history_and_then_the_project() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        for (id, day) in [("good", "02"), ("planted", "03")] {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{id}/reports?branch=main&finished_at=2026-11-{day}T10:00:00Z"
                ),
                Some(&token),
                &[],
                &sample("ant-junit4.xml"),
            );
            assert_eq!(a.status, 201, "{}", a.text());
        }
        let trend =
            || get(&svc, "/api/v1/projects/shop/trends?window=day").json()["points"].clone();
        assert_eq!(trend().as_array().map(Vec::len), Some(2), "{backend}");
        let delete = |path: &str, token: &str| {
            answer(
                agent()
                    .delete(&format!("{}{path}", svc.url()))
                    .header("authorization", &format!("Bearer {token}"))
                    .call(),
            )
            .status
        };
        assert_eq!(
            delete("/api/v1/projects/shop/builds/planted", &token),
            403,
            "{backend}: admin only"
        );
        assert_eq!(
            delete("/api/v1/projects/shop/builds/planted", ADMIN),
            204,
            "{backend}"
        );
        assert_eq!(delete("/api/v1/projects/shop/builds/planted", ADMIN), 404);
        let ids: Vec<String> = builds(&svc, "shop")
            .iter()
            .filter_map(|b| b["id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(ids, ["good"], "{backend}");
        assert_eq!(
            trend().as_array().map(Vec::len),
            Some(1),
            "{backend}: the cache follows"
        );
        assert_eq!(delete("/api/v1/projects/shop", ADMIN), 204, "{backend}");
        assert_eq!(get(&svc, "/api/v1/projects/shop/builds").status, 404);
        svc.stop();
    }
}

/// An upload has an overall deadline however steadily it trickles, and one token may have
/// only so many uploads in progress: past that, 429 with Retry-After.
#[test]
fn a_trickling_upload_meets_its_deadline_and_a_token_gets_few_uploads_at_once() {
    use std::io::{Read, Write};
    for (backend, svc) in services(|s| {
        s.upload_deadline_seconds = 2;
        s.body_timeout_seconds = 10;
        s.max_uploads_per_token = 1;
    }) {
        let token = project(&svc, "shop");
        // One upload that sends a byte every 300 ms: never stalled, but past the deadline.
        let slow = std::thread::scope(|s| {
            let trickle = s.spawn(|| {
                let mut conn = std::net::TcpStream::connect(svc.addr).expect("connects");
                conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                    .unwrap();
                write!(
                    conn,
                    "POST /api/v1/projects/shop/builds/1/reports HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n"
                )
                .unwrap();
                for _ in 0..20 {
                    if conn.write_all(b" ").is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(300));
                }
                let mut answer = [0u8; 12];
                conn.read_exact(&mut answer).expect("an answer");
                String::from_utf8_lossy(&answer).into_owned()
            });
            // Meanwhile the same token's second upload is turned away.
            std::thread::sleep(std::time::Duration::from_millis(500));
            let second = post(
                &svc,
                "/api/v1/projects/shop/builds/2/reports",
                Some(&token),
                &[],
                &sample("ant-junit4.xml"),
            );
            assert_eq!(second.status, 429, "{backend}: {}", second.text());
            assert!(second.content_type.starts_with("application/problem+json"));
            trickle.join().expect("the trickle")
        });
        assert_eq!(slow, "HTTP/1.1 408", "{backend}: the deadline");
        // The slot is free again.
        let third = post(
            &svc,
            "/api/v1/projects/shop/builds/3/reports",
            Some(&token),
            &[],
            &sample("ant-junit4.xml"),
        );
        assert_eq!(third.status, 201, "{backend}: {}", third.text());
        svc.stop();
    }
}

/// A small gzip of 200,000 identical testcases (each a new invocation, held in memory)
/// is refused at max_tests_per_report, on the in-memory and the two-pass path alike.
#[test]
fn a_compressed_flood_of_testcases_is_refused_at_max_tests_per_report() {
    let mut xml = String::from("<testsuite name=\"flood\">");
    for _ in 0..200_000 {
        xml.push_str("<testcase name=\"a\"/>");
    }
    xml.push_str("</testsuite>");
    let flood = gzip(xml.as_bytes());
    assert!(flood.len() < 100_000, "{} bytes", flood.len());
    for stream_above in [u64::MAX, 1000] {
        for (backend, svc) in services(|s| {
            s.max_tests_per_report = 1000;
            s.stream_above_bytes = stream_above;
        }) {
            let token = project(&svc, "shop");
            let a = post(
                &svc,
                "/api/v1/projects/shop/builds/1/reports",
                Some(&token),
                &[("content-encoding", "gzip")],
                &flood,
            );
            assert_eq!(
                a.status,
                413,
                "{backend}, stream above {stream_above}: {}",
                a.text()
            );
            assert!(a.text().contains("max_testcases"), "{}", a.text());
            assert!(builds(&svc, "shop").is_empty(), "{backend}: nothing stored");
            svc.stop();
        }
    }
}
