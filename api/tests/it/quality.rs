//! Code quality end to end: lint reports uploaded, then a build's issues, new and fixed,
//! ratings and score read back, worked by hand, on SQLite and PostgreSQL.

use serde_json::{Value, json};

use crate::support::{get, post, project, services};

/// A SARIF log of one run of `tool` with the given results.
fn sarif(results: Value) -> Vec<u8> {
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "demo", "rules": [
                {"id": "R1", "defaultConfiguration": {"level": "error"}},
                {"id": "SEC1", "properties": {"tags": ["security"], "security-severity": "7.5"}},
                {"id": "R2"},
                {"id": "R3"}
            ]}},
            "results": results
        }]
    })
    .to_string()
    .into_bytes()
}

fn result(rule: &str, level: Option<&str>, path: &str, line: u32, message: &str) -> Value {
    let mut r = json!({
        "ruleId": rule,
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": path},
            "region": {"startLine": line, "startColumn": 1}
        }}]
    });
    if let Some(level) = level {
        r["level"] = json!(level);
    }
    r
}

#[test]
fn a_builds_issues_new_and_fixed_ratings_and_score_are_worked_by_hand() {
    // Build 1: A (R1 error → major code smell), B (SEC1, security-severity 7.5 → critical
    // vulnerability), C (R2 warning → minor).
    let first = sarif(json!([
        result("R1", None, "a.py", 10, "x is bad"),
        result("SEC1", Some("warning"), "b.py", 3, "a hard-coded password"),
        result(
            "R2",
            Some("warning"),
            "a.py",
            20,
            "line too long (120 > 100)"
        ),
    ]));
    // Build 2: A moved to line 12 (same issue), C fixed, D new (R3 note → info), B stays, E
    // suppressed in the source.
    let mut suppressed = result("R2", Some("warning"), "c.py", 1, "suppressed one");
    suppressed["suppressions"] = json!([{"kind": "inSource"}]);
    let second = sarif(json!([
        result("R1", None, "a.py", 12, "x is bad"),
        result("SEC1", Some("warning"), "b.py", 3, "a hard-coded password"),
        result("R3", Some("note"), "c.py", 7, "consider this"),
        suppressed,
    ]));
    // 100 measured lines in build 2: what the ratings count.
    let mut lcov = String::from("SF:a.py\n");
    for l in 1..=100 {
        lcov.push_str(&format!("DA:{l},1\n"));
    }
    lcov.push_str("end_of_record\n");

    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "lint");
        for (build, name, body, day) in [
            ("1", "demo.sarif", first.clone(), "01"),
            ("2", "demo.sarif", second.clone(), "02"),
            ("2", "lcov.info", lcov.clone().into_bytes(), "02"),
        ] {
            let url = format!(
                "/api/v1/projects/lint/builds/{build}/reports?branch=main&name={name}&finish=true&finished_at=2026-11-{day}T10:00:00Z"
            );
            let a = post(&svc, &url, Some(&token), &[], &body);
            assert_eq!(a.status, 201, "{backend}: {}", a.text());
            if name == "demo.sarif" {
                assert_eq!(a.json()["format"], "sarif", "{backend}");
            }
        }

        let s = get(&svc, "/api/v1/projects/lint/issues/summary").json();
        assert_eq!(s["build"], "2", "{backend}: {s}");
        assert_eq!(s["previous_build"], "1", "{backend}: {s}");
        assert_eq!(
            (&s["open"], &s["suppressed"], &s["new"], &s["fixed"]),
            (&json!(3), &json!(1), &json!(1), &json!(1)),
            "{backend}: {s}"
        );
        assert_eq!(
            s["by_severity"],
            json!({"blocker": 0, "critical": 1, "major": 1, "minor": 0, "info": 1}),
            "{backend}"
        );
        assert_eq!(
            s["by_category"],
            json!({"bug": 0, "vulnerability": 1, "code_smell": 2}),
            "{backend}"
        );
        // No bug: reliability A. Worst vulnerability critical: security D. Debt: major 10 +
        // critical 30 + info 0 = 40 minutes over 30 × 100: 1.3% → maintainability A.
        assert_eq!(
            s["ratings"],
            json!({"reliability": "A", "security": "D", "maintainability": "A"}),
            "{backend}"
        );
        assert_eq!(s["lines"], 100, "{backend}");
        assert_eq!(s["debt_minutes"], 40, "{backend}");
        assert_eq!(s["density_per_kloc"], 30.0, "{backend}");
        // 0.3 × 1 + 0.3 × 0.25 + 0.4 × 1 = 0.775.
        assert_eq!(s["code_quality"]["score"], 77.5, "{backend}: {s}");
        assert_eq!(s["code_quality"]["version"], 1, "{backend}");

        // The open issues, worst first; A is open (it moved), D is new.
        let open = get(&svc, "/api/v1/projects/lint/issues").json();
        assert_eq!(open["total"], 3, "{backend}: {open}");
        let seen: Vec<(String, String, String)> = open["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["rule"].as_str().unwrap().to_owned(),
                    i["severity"].as_str().unwrap().to_owned(),
                    i["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want = [
            ("SEC1", "critical", "open"),
            ("R1", "major", "open"),
            ("R3", "info", "new"),
        ];
        let want: Vec<(String, String, String)> = want
            .iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect();
        assert_eq!(seen, want, "{backend}");
        assert_eq!(
            open["issues"][1]["line"], 12,
            "{backend}: the issue moved with its code"
        );

        let new = get(&svc, "/api/v1/projects/lint/issues?status=new").json();
        assert_eq!(new["total"], 1, "{backend}: {new}");
        assert_eq!(new["issues"][0]["rule"], "R3");
        let fixed = get(&svc, "/api/v1/projects/lint/issues?status=fixed").json();
        assert_eq!(fixed["total"], 1, "{backend}: {fixed}");
        assert_eq!(fixed["issues"][0]["rule"], "R2");
        assert_eq!(fixed["issues"][0]["status"], "fixed");
        let vulns = get(&svc, "/api/v1/projects/lint/issues?category=vulnerability").json();
        assert_eq!(vulns["total"], 1, "{backend}");
        let page = get(&svc, "/api/v1/projects/lint/issues?limit=1&offset=1").json();
        assert_eq!(
            (&page["total"], &page["issues"][0]["rule"]),
            (&json!(3), &json!("R1"))
        );
        let of_a = get(&svc, "/api/v1/projects/lint/issues?path=./a.py").json();
        assert_eq!(
            of_a["total"], 1,
            "{backend}: a path written two ways is one file"
        );

        // Build 1 on its own: three open, nothing to compare with.
        let one = get(&svc, "/api/v1/projects/lint/issues/summary?build=1").json();
        assert_eq!(
            (&one["open"], &one["new"]),
            (&json!(3), &json!(0)),
            "{backend}: {one}"
        );
        assert!(
            one["ratings"]["maintainability"].is_null(),
            "{backend}: no lines in build 1"
        );

        let csv = get(&svc, "/api/v1/projects/lint/issues.csv");
        assert!(csv.content_type.starts_with("text/csv"), "{backend}");
        assert_eq!(csv.text().lines().count(), 4, "{backend}: {}", csv.text());

        // The gate's code-quality conditions judge build 2 against build 1.
        let conditions = "new_issues == 0; new_critical == 0; issues_critical == 0; \
            security_rating <= A; maintainability_rating <= B; code_quality >= 80";
        let gate = get(
            &svc,
            &format!(
                "/api/v1/projects/lint/gate?conditions={}",
                conditions
                    .replace(' ', "%20")
                    .replace(';', "%3B")
                    .replace('<', "%3C")
                    .replace('=', "%3D")
                    .replace('>', "%3E")
            ),
        );
        assert_eq!(gate.status, 200, "{backend}: {}", gate.text());
        let gate = gate.json();
        let verdicts: Vec<(String, bool)> = gate["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["condition"].as_str().unwrap().to_owned(),
                    c["passed"].as_bool().unwrap(),
                )
            })
            .collect();
        let want = [
            ("new_issues == 0", false),
            ("new_critical == 0", true),
            ("issues_critical == 0", false),
            ("security_rating <= A", false),
            ("maintainability_rating <= B", true),
            ("code_quality >= 80", false),
        ];
        let want: Vec<(String, bool)> = want.iter().map(|(c, p)| (c.to_string(), *p)).collect();
        assert_eq!(verdicts, want, "{backend}: {gate}");
        assert_eq!(gate["facts"]["security_rating"], 4.0, "{backend}: D is 4");
        assert_eq!(gate["facts"]["code_quality"], 77.5, "{backend}");

        // The quality score, version 2, counts the latest build's code quality.
        let score = get(&svc, "/api/v1/projects/lint/score").json();
        assert_eq!(score["version"], 2, "{backend}: {score}");
        let component = score["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "code_quality")
            .cloned()
            .unwrap_or_default();
        assert_eq!(component["value"], 77.5, "{backend}: {score}");
        assert_eq!(component["normalized"], 0.775, "{backend}: {score}");

        // The dashboard's code-quality card and the latest build's issues.
        let page = get(&svc, "/projects/lint").text();
        assert!(
            page.contains("reliability A · security D · maintainability A"),
            "{backend}: {page}"
        );
        assert!(
            page.contains("3 open: 0 blocker, 1 critical, 1 major, 0 minor, 1 info"),
            "{backend}"
        );
        assert!(page.contains("1 new, 1 fixed since 1"), "{backend}");
        assert!(page.contains("<td>a hard-coded password</td>"), "{backend}");

        let bad = get(&svc, "/api/v1/projects/lint/issues?status=closed");
        assert_eq!(bad.status, 400, "{backend}: {}", bad.text());
        assert!(bad.text().contains("closed"), "{backend}");
        let unknown = get(&svc, "/api/v1/projects/lint/issues/summary?build=9");
        assert_eq!(unknown.status, 404, "{backend}");
        svc.stop();
    }
}

#[test]
fn lint_text_is_read_when_named_with_its_tool_and_the_lines_stated() {
    let flake8 = crate::support::sample("flake8.txt");
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "py");
        let url = "/api/v1/projects/py/builds/1/reports?branch=main&finish=true";
        // Text is not detected: without the format it is refused, and nothing is stored.
        let refused = post(&svc, url, Some(&token), &[], &flake8);
        assert_eq!(refused.status, 415, "{backend}: {}", refused.text());
        let a = post(
            &svc,
            &format!("{url}&format=lint-text&tool=flake8&loc=500"),
            Some(&token),
            &[],
            &flake8,
        );
        assert_eq!(a.status, 201, "{backend}: {}", a.text());
        assert_eq!(a.json()["format"], "lint-text", "{backend}");
        // flake8 --count: 5 (samples/generated/logs); lint text is minor.
        let s = get(&svc, "/api/v1/projects/py/issues/summary").json();
        assert_eq!(
            (&s["open"], &s["by_severity"]["minor"]),
            (&json!(5), &json!(5)),
            "{backend}: {s}"
        );
        assert_eq!(s["lines"], 500, "{backend}: the lines the upload stated");
        // 5 minor × 5 minutes over 30 × 500: 0.17% → A; density 5 / 500 × 1,000.
        assert_eq!(s["ratings"]["maintainability"], "A", "{backend}");
        assert_eq!(s["density_per_kloc"], 10.0, "{backend}");
        let list = get(&svc, "/api/v1/projects/py/issues").json();
        assert_eq!(list["issues"][0]["tool"], "flake8", "{backend}: {list}");
        let bad = post(
            &svc,
            &format!("{url}&format=nope"),
            Some(&token),
            &[],
            &flake8,
        );
        assert_eq!(bad.status, 400, "{backend}: {}", bad.text());
        svc.stop();
    }
}

#[test]
fn the_code_quality_trends_chart_and_badge_follow_the_builds() {
    let first = sarif(json!([
        result("R1", None, "a.py", 10, "x is bad"),
        result("R2", Some("warning"), "a.py", 20, "long"),
    ]));
    let second = sarif(json!([
        result("R1", None, "a.py", 10, "x is bad"),
        result("R3", Some("note"), "c.py", 7, "consider this"),
        result("SEC1", Some("warning"), "b.py", 3, "a hard-coded password"),
    ]));
    for (backend, svc) in services(|_| {}) {
        let token = project(&svc, "trend");
        for (build, body, day) in [("1", &first, "01"), ("2", &second, "02")] {
            let url = format!(
                "/api/v1/projects/trend/builds/{build}/reports?branch=main&finish=true&loc=1000&finished_at=2026-11-{day}T10:00:00Z"
            );
            assert_eq!(
                post(&svc, &url, Some(&token), &[], body).status,
                201,
                "{backend}"
            );
        }
        let trend = |metric: &str| {
            let t = get(
                &svc,
                &format!("/api/v1/projects/trend/trends?metric={metric}&window=day"),
            );
            assert_eq!(t.status, 200, "{backend} {metric}: {}", t.text());
            let t = t.json();
            let values: Vec<Value> = t["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["value"].clone())
                .collect();
            (t["unit"].as_str().unwrap().to_owned(), values)
        };
        // Day 1: 2 open; day 2: 3 open, of which R3 and SEC1 are new.
        assert_eq!(
            trend("issues"),
            ("count".into(), vec![json!(2.0), json!(3.0)]),
            "{backend}"
        );
        assert_eq!(
            trend("new_issues").1,
            vec![json!(0.0), json!(2.0)],
            "{backend}"
        );
        // Day 1: no bug, no vulnerability, debt 15 min over 30,000: A A A → 100. Day 2: the
        // critical vulnerability makes security D: 0.3 + 0.075 + 0.4 → 77.5.
        assert_eq!(
            trend("code_quality"),
            ("points".into(), vec![json!(100.0), json!(77.5)])
        );
        assert_eq!(
            trend("maintainability_rating").1,
            vec![json!(1.0), json!(1.0)]
        );
        // By severity: day 1 R1 (error by its rule → major) and R2 (warning → minor); day 2
        // R1, R3 (note → info) and SEC1 (security-severity 7.5 → critical).
        let issues = get(
            &svc,
            "/api/v1/projects/trend/trends?metric=issues&window=day",
        )
        .json();
        let severities: Vec<&Value> = issues["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| &p["by_severity"])
            .collect();
        assert_eq!(
            severities,
            [
                &json!({"blocker": 0, "critical": 0, "major": 1, "minor": 1, "info": 0}),
                &json!({"blocker": 0, "critical": 1, "major": 1, "minor": 0, "info": 1}),
            ],
            "{backend}"
        );
        let chart = get(&svc, "/api/v1/projects/trend/charts/issues.svg?window=day");
        assert_eq!(chart.status, 200, "{backend}: {}", chart.text());
        assert!(chart.content_type.starts_with("image/svg+xml"), "{backend}");
        // Stacked bars: a rectangle per severity a day has, and one in the legend.
        let svg = chart.text();
        let rects = |rgb: &str| svg.matches(&format!("fill=\"#{rgb}\"")).count();
        assert_eq!(
            [
                rects("82141E"),
                rects("D62728"),
                rects("FF7F0E"),
                rects("F0C83C"),
                rects("969696")
            ],
            [1, 2, 3, 2, 2],
            "{backend}: blocker, critical, major, minor, info"
        );
        let png = get(
            &svc,
            "/api/v1/projects/trend/charts/code_quality.png?window=day",
        );
        assert_eq!(png.status, 200, "{backend}");
        assert!(png.content_type.starts_with("image/png"), "{backend}");
        assert!(png.body.starts_with(b"\x89PNG"), "{backend}");
        let badge = get(&svc, "/api/v1/projects/trend/badges/code_quality.svg");
        assert_eq!(badge.status, 200, "{backend}");
        assert!(
            badge.text().contains("78 (3 issues)"),
            "{backend}: {}",
            badge.text()
        );
        svc.stop();
    }
}
