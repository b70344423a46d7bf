//! The OpenAPI document cannot drift: every operation it documents is called on a small
//! history, and each live answer is validated against the schema the document gives for its
//! status (JSON Schema 2020-12, `$ref`s resolved inside the document).

use serde_json::{Value, json};

use crate::support::*;

/// Validates `body` against `schema`, whose `$ref`s point into `doc`'s components.
fn validate(doc: &Value, schema: &Value, body: &Value) -> Result<(), String> {
    let mut root = schema.clone();
    if let Some(map) = root.as_object_mut() {
        map.insert("components".into(), doc["components"].clone());
    }
    let validator = jsonschema::validator_for(&root).map_err(|e| format!("schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// What to send to one documented operation: the path with its parameters filled, the
/// token, and the body.
fn request(
    method: &str,
    path: &str,
    admin: &str,
    upload: &str,
    spare: &str,
    test: &str,
) -> (String, String, Vec<u8>) {
    let fill = |p: &str| {
        p.replace("{project}", "shop")
            .replace("{build}", "2")
            .replace("{chart}", "coverage.svg")
            .replace("{badge}", "coverage.svg")
            .replace("{test}", test)
    };
    let (url, token, body): (String, &str, Vec<u8>) = match (method, path) {
        ("post", "/api/v1/projects") => (fill(path), admin, br#"{"name": "shop"}"#.to_vec()),
        ("post", "/api/v1/projects/{project}/tokens") => {
            (fill(path), admin, br#"{"kind": "read"}"#.to_vec())
        }
        ("put", "/api/v1/projects/{project}/settings") => {
            (fill(path), admin, br#"{"public_read": true}"#.to_vec())
        }
        ("post", "/api/v1/tokens/revoke") => (
            fill(path),
            admin,
            format!("{{\"token\": \"{spare}\"}}").into_bytes(),
        ),
        ("put", "/api/v1/projects/{project}/builds/{build}") => (
            fill(path),
            upload,
            br#"{"branch": "main", "commit": "c2", "ci_url": "https://ci.example/2"}"#.to_vec(),
        ),
        ("post", "/api/v1/projects/{project}/builds/{build}/reports") => (
            "/api/v1/projects/shop/builds/3/reports?branch=main&commit=c3&finished_at=2026-11-04T10:00:00Z".into(),
            upload,
            sample("jest-junit.xml"),
        ),
        ("post", "/api/v1/projects/{project}/builds/{build}/finalize") => {
            (fill(path), upload, Vec::new())
        }
        ("get", "/api/v1/projects/{project}/gate") => (
            format!("{}?conditions=coverage%20%3E%3D%2050;new_failures%20%3D%3D%200&flaky_excluded=true", fill(path)),
            "",
            Vec::new(),
        ),
        ("delete", "/api/v1/projects/{project}/builds/{build}") => {
            ("/api/v1/projects/shop/builds/1".into(), admin, Vec::new())
        }
        ("delete", "/api/v1/projects/{project}") => (fill(path), admin, Vec::new()),
        ("get", "/api/v1/projects/{project}/compare") => {
            (format!("{}?base=1&head=branch:main", fill(path)), "", Vec::new())
        }
        ("get", "/api/v1/projects/{project}/trends") => {
            (format!("{}?metric=pass_rate&window=day", fill(path)), "", Vec::new())
        }
        ("get", _) => (fill(path), "", Vec::new()),
        _ => panic!("{method} {path} is documented but this test does not know how to call it"),
    };
    (url, token.to_owned(), body)
}

/// Every route `service::routes` serves (method and path).
const SERVED: [&str; 43] = [
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /",
    "GET /projects/{project}",
    "GET /projects/{project}/builds/{build}",
    "GET /projects/{project}/tests/{test}",
    "GET /api/v1/openapi.json",
    "GET /api/v1/projects",
    "POST /api/v1/projects",
    "POST /api/v1/projects/{project}/tokens",
    "PUT /api/v1/projects/{project}/settings",
    "POST /api/v1/tokens/revoke",
    "DELETE /api/v1/projects/{project}/builds/{build}",
    "DELETE /api/v1/projects/{project}",
    "GET /api/v1/projects/{project}/builds",
    "GET /api/v1/projects/{project}/builds/{build}",
    "PUT /api/v1/projects/{project}/builds/{build}",
    "POST /api/v1/projects/{project}/builds/{build}/reports",
    "POST /api/v1/projects/{project}/builds/{build}/finalize",
    "GET /api/v1/projects/{project}/trends",
    "GET /api/v1/projects/{project}/tests/flaky",
    "GET /api/v1/projects/{project}/tests/slowest",
    "GET /api/v1/projects/{project}/tests/failing",
    "GET /api/v1/projects/{project}/coverage/files",
    "GET /api/v1/projects/{project}/score",
    "GET /api/v1/projects/{project}/charts/{chart}",
    "GET /api/v1/projects/{project}/badges/{badge}",
    "GET /api/v1/projects/{project}/gate",
    "GET /api/v1/projects/{project}/mttr",
    "GET /api/v1/projects/{project}/compare",
    "GET /api/v1/projects/{project}/tests/regressions",
    "GET /api/v1/projects/{project}/coverage/packages",
    "GET /api/v1/projects/{project}/tests/{test}",
    "GET /api/v1/projects/{project}/builds.csv",
    "GET /api/v1/projects/{project}/trends.csv",
    "GET /api/v1/projects/{project}/tests/flaky.csv",
    "GET /api/v1/projects/{project}/tests/slowest.csv",
    "GET /api/v1/projects/{project}/tests/failing.csv",
    "GET /api/v1/projects/{project}/coverage/files.csv",
    "GET /api/v1/projects/{project}/issues",
    "GET /api/v1/projects/{project}/issues/summary",
    "GET /api/v1/projects/{project}/issues.csv",
];

#[test]
fn every_documented_route_answers_what_the_document_says() {
    for (backend, svc) in services(|_| {}) {
        let upload = project(&svc, "shop");
        // A small history: build 1 passes with coverage, build 2 fails a test with less
        // coverage, both on main (so every question has something to answer).
        for (build, report, day) in [
            ("1", "coverage-py-cobertura.xml", "02"),
            ("1", "ant-junit4.xml", "02"),
            ("2", "pytest-rerunfailures.xml", "03"),
            ("2", "gcovr-cobertura.xml", "03"),
            ("2", "ruff.sarif", "03"),
        ] {
            let a = post(
                &svc,
                &format!(
                    "/api/v1/projects/shop/builds/{build}/reports?branch=main&commit=c{build}&name={report}&shards=1&finished_at=2026-11-{day}T10:00:00Z"
                ),
                Some(&upload),
                &[],
                &sample(report),
            );
            assert_eq!(a.status, 201, "{backend}: {}", a.text());
        }
        // A token for the revoke route to revoke.
        let spare = post(
            &svc,
            "/api/v1/projects/shop/tokens",
            Some(ADMIN),
            &[("content-type", "application/json")],
            br#"{"kind": "read"}"#,
        );
        assert_eq!(spare.status, 201, "{backend}: {}", spare.text());
        let spare = spare.json()["token"].as_str().expect("token").to_owned();
        let test = get(&svc, "/api/v1/projects/shop/builds/2").json()["tests"][0]["test"]["id"]
            .as_str()
            .expect("a test id")
            .to_owned();
        let doc = get(&svc, "/api/v1/openapi.json").json();
        let paths = doc["paths"].as_object().expect("paths");
        let mut documented_routes = Vec::new();
        // Every operation, the deletions last (the build's, then the project's).
        let mut ops: Vec<(&String, &String, &Value)> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .expect("path item")
                    .iter()
                    .map(move |(method, op)| (path, method, op))
            })
            .collect();
        ops.sort_by_key(|(path, method, _)| (*method == "delete", !path.contains("{build}")));
        {
            for (path, method, op) in ops {
                let (url, token, body) = request(method, path, ADMIN, &upload, &spare, &test);
                let full = format!("{}{url}", svc.url());
                let auth = format!("Bearer {token}");
                let a = match method.as_str() {
                    "get" => answer(agent().get(&full).call()),
                    "delete" => answer(agent().delete(&full).header("authorization", &auth).call()),
                    "post" | "put" => {
                        let mut req = if method == "post" {
                            agent().post(&full)
                        } else {
                            agent().put(&full)
                        };
                        req = req.header("content-type", "application/json");
                        if !token.is_empty() {
                            req = req.header("authorization", &auth);
                        }
                        answer(req.send(&body[..]))
                    }
                    other => panic!("{backend}: {other} {path}: not a method this service has"),
                };
                assert!(
                    (200..300).contains(&a.status),
                    "{backend}: {method} {url}: {} {}",
                    a.status,
                    a.text()
                );
                let documented = &op["responses"][a.status.to_string()];
                assert!(
                    documented.is_object(),
                    "{backend}: {method} {path} answered {}, which the document does not list",
                    a.status
                );
                let content = documented["content"].as_object();
                if let Some(schema) =
                    documented["content"]["application/json"]["schema"].as_object()
                {
                    let schema = Value::Object(schema.clone());
                    let live = a.json();
                    validate(&doc, &schema, &live)
                        .unwrap_or_else(|e| panic!("{backend}: {method} {path}: {e}\n{live:#}"));
                } else if let Some(types) = content {
                    assert!(
                        types.keys().any(|t| a.content_type.starts_with(t.as_str())),
                        "{backend}: {method} {path} answered {}, documented {:?}",
                        a.content_type,
                        types.keys().collect::<Vec<_>>()
                    );
                } else {
                    assert!(
                        a.body.is_empty(),
                        "{backend}: {method} {path} answered a body the document does not describe"
                    );
                }
                documented_routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
        documented_routes.sort();
        let mut served: Vec<String> = SERVED.iter().map(|r| (*r).to_owned()).collect();
        served.sort();
        assert_eq!(
            documented_routes, served,
            "{backend}: every route the service serves is documented, and only those"
        );
        svc.stop();
    }
}

#[test]
fn a_problem_answer_matches_the_problem_schema_and_keeps_internals_out() {
    let (_, svc) = services(|_| {}).remove(0);
    let doc = get(&svc, "/api/v1/openapi.json").json();
    let schema = json!({"$ref": "#/components/schemas/ProblemDetails"});
    let missing = get(&svc, "/api/v1/projects/nope/builds");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["code"], "not-found");
    validate(&doc, &schema, &missing.json()).expect("a problem document");
    let upload = project(&svc, "shop");
    let bad = post(
        &svc,
        "/api/v1/projects/shop/builds/1/reports",
        Some(&upload),
        &[],
        b"<testsuite><testcase name=\"a\"></testsuite>",
    );
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert_eq!(bad.json()["code"], "bad-report");
    validate(&doc, &schema, &bad.json()).expect("a problem document with a position");
    // A validator that accepts anything would pass the test above: this body must fail.
    assert!(validate(&doc, &schema, &json!({"status": "four hundred"})).is_err());
    svc.stop();
}
