//! `cimetrics upload` against a running service (the binary and the service together).

use crate::repo;
use crate::support::*;

#[test]
fn cimetrics_upload_from_a_github_actions_job_lands_a_build_the_dashboard_shows() {
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "shop");
        let samples = repo().join("samples/generated");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cimetrics"))
            .args(["upload", "--server", &svc.url(), "--project", "shop"])
            .arg(samples.join("pytest-rerunfailures.xml"))
            .arg(samples.join("coverage-py-cobertura.xml"))
            .env_remove("GITLAB_CI")
            .env_remove("JENKINS_URL")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_RUN_ID", "777")
            .env("GITHUB_RUN_ATTEMPT", "1")
            .env("GITHUB_RUN_NUMBER", "42")
            .env("GITHUB_SHA", "cafebabe00112233445566778899aabbccddeeff")
            .env("GITHUB_REF_NAME", "main")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "acme/shop")
            .env("CIMETRICS_TOKEN", &token)
            .output()
            .expect("run cimetrics upload");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{backend}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("build 777 shard 1"), "{backend}: {stdout}");
        assert!(
            stdout.contains("4 tests: 3 passed (2 flaky), 1 failed"),
            "{backend}: {stdout}"
        );

        let build = get(&svc, "/api/v1/projects/shop/builds/777").json();
        let b = &build["build"];
        assert_eq!(
            b["commit"], "cafebabe00112233445566778899aabbccddeeff",
            "{backend}"
        );
        assert_eq!(b["branch"], "main");
        assert_eq!(b["number"], 42);
        assert_eq!(b["ci"]["provider"], "github-actions");
        assert_eq!(
            b["ci"]["url"],
            "https://github.com/acme/shop/actions/runs/777"
        );
        assert_eq!(b["tests"]["total"], 4);
        assert!(
            b["coverage"]["lines_valid"].as_u64().is_some_and(|v| v > 0),
            "{backend}: {build}"
        );

        let html = get(&svc, "/projects/shop").text();
        assert!(
            html.contains(
                "#<a href=\"/projects/shop/builds/777\">777</a> · main · <code>cafebabe00</code>"
            ),
            "{backend}: the latest build card"
        );
        let svg = get(&svc, "/api/v1/projects/shop/charts/coverage.svg").text();
        assert!(
            svg.contains("<circle"),
            "{backend}: the build is a point on the coverage chart"
        );
        svc.stop();
    }
}

/// A question has one answer however it is asked: `cimetrics trends --json` over the
/// service's own database gives the very trend answers `GET .../trends` gives.
#[test]
fn the_cli_and_the_api_give_the_same_trends() {
    use cimetrics_api::service::{Settings, spawn};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let svc = spawn(Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        admin_token: Some(ADMIN.into()),
        workers: 1,
        build_close_after_seconds: 0,
        ..Settings::default()
    })
    .expect("the service starts");
    let token = project(&svc, "shop");
    for (build, report, day) in [
        ("1", "pytest-rerunfailures.xml", "02"),
        ("1", "coverage-py-cobertura.xml", "02"),
        ("2", "ant-junit4.xml", "04"),
        ("2", "gcovr-cobertura.xml", "04"),
    ] {
        let a = post(
            &svc,
            &format!(
                "/api/v1/projects/shop/builds/{build}/reports?branch=main&name={report}&started_at=2026-11-{day}T09:50:00Z&finished_at=2026-11-{day}T10:00:00Z"
            ),
            Some(&token),
            &[],
            &sample(report),
        );
        assert_eq!(a.status, 201, "{}", a.text());
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cimetrics"))
        .args(["trends", "--json", "--window", "day", "--project", "shop"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run cimetrics trends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    for metric in [
        "success_rate",
        "pass_rate",
        "coverage",
        "branch_coverage",
        "duration",
    ] {
        let http = get(
            &svc,
            &format!("/api/v1/projects/shop/trends?metric={metric}&window=day"),
        )
        .json();
        assert_eq!(
            http["points"].as_array().map(Vec::len),
            Some(3),
            "{metric}: {http}"
        );
        assert_eq!(cli["series"][metric], http, "{metric}");
    }
    svc.stop();
}

/// `cimetrics upload --finish pass.xml fail.xml`: one build judged on both reports. The
/// server waits 600 s for more reports by default, so without `--finish` the build is still
/// running (and not counted); with it, it is failed (test `b` failed) and the success rate
/// is 0 of 1.
#[test]
fn cimetrics_upload_of_a_pass_and_a_fail_gives_a_failed_build_the_success_rate_counts() {
    let (_, svc) = services(|s| s.build_close_after_seconds = 600).remove(0);
    let token = project(&svc, "st");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pass = dir.path().join("pass.xml");
    let fail = dir.path().join("fail.xml");
    std::fs::write(
        &pass,
        r#"<testsuite name="unit"><testcase classname="A" name="a"/></testsuite>"#,
    )
    .unwrap();
    std::fs::write(
        &fail,
        r#"<testsuite name="it"><testcase classname="B" name="b"><failure/></testcase></testsuite>"#,
    )
    .unwrap();
    let upload = |build: &str, extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cimetrics"))
            .args([
                "upload",
                "--server",
                &svc.url(),
                "--project",
                "st",
                "--token",
                &token,
            ])
            .args(["--build", build, "--branch", "main"])
            .args(extra)
            .arg(&pass)
            .arg(&fail)
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITLAB_CI")
            .env_remove("JENKINS_URL")
            .output()
            .expect("run cimetrics upload");
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    upload("1", &[]);
    let b = get(&svc, "/api/v1/projects/st/builds/1").json();
    assert_eq!(b["build"]["status"], "running", "{b}");
    let out = upload("2", &["--finish"]);
    assert!(
        out.contains("build 2 finished: failed (from its tests)"),
        "{out}"
    );
    let b = get(&svc, "/api/v1/projects/st/builds/2").json();
    assert_eq!(b["build"]["status"], "failed", "{b}");
    assert_eq!(b["build"]["tests"]["failed"], 1);
    let t = get(
        &svc,
        "/api/v1/projects/st/trends?metric=success_rate&window=month",
    )
    .json();
    assert_eq!(t["points"][0]["value"], 0.0, "{t}");
    assert_eq!(t["points"][0]["builds"], 1, "{t}: build 1 still runs");
    svc.stop();
}

/// `cimetrics flaky|slowest|failing|mttr|compare|score|issues` give the service's answers,
/// from the service's database (`--data-dir`) and from the server (`--server`), as JSON, CSV
/// and a table. The history: b1 passes t_a, b2 fails it, b3 passes it (main, one commit
/// each); b4 has a flake8 report of two issues.
#[test]
fn the_question_commands_answer_as_the_api_does_from_a_database_or_a_server() {
    use cimetrics_api::service::{Settings, spawn};
    let dir = tempfile::tempdir().expect("a temporary directory");
    let svc = spawn(Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        admin_token: Some(ADMIN.into()),
        workers: 1,
        build_close_after_seconds: 0,
        ..Settings::default()
    })
    .expect("the service starts");
    let token = project(&svc, "shop");
    for (i, fails) in [false, true, false].into_iter().enumerate() {
        let case = if fails {
            r#"<testcase classname="T" name="t_a" time="0.5"><failure message="no"/></testcase>"#
        } else {
            r#"<testcase classname="T" name="t_a" time="0.5"/>"#
        };
        let a = post(
            &svc,
            &format!(
                "/api/v1/projects/shop/builds/b{}/reports?branch=main&commit=c{i}&finished_at=2026-11-0{}T10:00:00Z",
                i + 1,
                i + 2
            ),
            Some(&token),
            &[],
            format!("<testsuite name=\"s\">{case}</testsuite>").as_bytes(),
        );
        assert_eq!(a.status, 201, "{}", a.text());
    }
    let lint = post(
        &svc,
        "/api/v1/projects/shop/builds/b4/reports?branch=main&commit=c3&finished_at=2026-11-05T10:00:00Z&format=lint-text&tool=flake8",
        Some(&token),
        &[],
        b"app/a.py:3:1: F401 'os' imported but unused\napp/b.py:10:80: E501 line too long (88 > 79 characters)\n",
    );
    assert_eq!(lint.status, 201, "{}", lint.text());
    let cli = |args: &[&str]| -> String {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cimetrics"))
            .args(args)
            .env_remove("CIMETRICS_SERVER")
            .output()
            .expect("run cimetrics");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let data = dir.path().to_str().unwrap().to_owned();
    let url = svc.url();
    for (command, extra, route) in [
        ("flaky", vec![], "tests/flaky?limit=50"),
        ("slowest", vec![], "tests/slowest?by=p95&limit=50"),
        (
            "failing",
            vec!["--branch", "main"],
            "tests/failing?branch=main",
        ),
        ("mttr", vec![], "mttr"),
        (
            "compare",
            vec!["--base", "b2", "--head", "b3"],
            "compare?base=b2&head=b3",
        ),
        ("score", vec![], "score"),
        (
            "issues",
            vec!["--severity", "minor"],
            "issues?severity=minor&status=open&limit=50",
        ),
    ] {
        let http = get(&svc, &format!("/api/v1/projects/shop/{route}")).json();
        let mut local = vec![command, "--json", "--project", "shop", "--data-dir", &data];
        local.extend(&extra);
        let local: serde_json::Value = serde_json::from_str(&cli(&local)).expect("JSON");
        assert_eq!(local, http, "{command}: from the database");
        let mut remote = vec![command, "--json", "--project", "shop", "--server", &url];
        remote.extend(&extra);
        let remote: serde_json::Value = serde_json::from_str(&cli(&remote)).expect("JSON");
        assert_eq!(remote, http, "{command}: from the server");
    }
    // t_a goes P F P on main: 2 flips of 2, flip-flaky; b2 failed and b3 recovered it a day
    // later: MTTR 86,400 s.
    let table = cli(&["flaky", "--project", "shop", "--data-dir", &data]);
    assert!(
        table.lines().nth(1).is_some_and(|l| l.starts_with("t_a")),
        "{table}"
    );
    assert!(table.contains("PFP"), "{table}");
    let csv = cli(&["mttr", "--csv", "--project", "shop", "--data-dir", &data]);
    assert!(
        csv.starts_with("branch,first_failed,failed_builds,"),
        "{csv}"
    );
    assert!(csv.contains("main,b2,b2,"), "{csv}");
    let mttr = cli(&["mttr", "--project", "shop", "--server", &url]);
    assert!(
        mttr.starts_with("MTTR 86400.000 s over 1 streak(s); open: -"),
        "{mttr}"
    );
    let compare = cli(&[
        "compare",
        "--base",
        "b2",
        "--head",
        "b3",
        "--project",
        "shop",
        "--data-dir",
        &data,
    ]);
    assert!(
        compare.starts_with("b2 (failed) -> b3 (passed): 0 newly failing, 1 fixed"),
        "{compare}"
    );
    let issues = cli(&["issues", "--project", "shop", "--server", &url]);
    let mut lines = issues.lines();
    assert_eq!(
        lines.next(),
        Some("build b4 (against -): 2 issue(s)"),
        "{issues}"
    );
    assert!(lines.nth(1).is_some_and(|l| l.contains("F401")), "{issues}");
    // `trends --metric issues`: the trend answer, and a line per day with its severities.
    let json = cli(&[
        "trends",
        "--json",
        "--metric",
        "issues",
        "--window",
        "day",
        "--project",
        "shop",
        "--data-dir",
        &data,
    ]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let http = get(
        &svc,
        "/api/v1/projects/shop/trends?metric=issues&window=day",
    )
    .json();
    assert_eq!(json["series"]["issues"], http);
    let table = cli(&[
        "trends",
        "--metric",
        "issues",
        "--window",
        "day",
        "--project",
        "shop",
        "--data-dir",
        &data,
    ]);
    let day = table
        .lines()
        .find(|l| l.starts_with("2026-11-05"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = day.split_whitespace().collect();
    // window, builds, value, blocker, critical, major, minor, info
    assert_eq!(
        cells,
        ["2026-11-05", "1", "2", "0", "0", "0", "2", "0"],
        "{table}"
    );
    svc.stop();
}
