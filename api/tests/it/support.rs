//! What the black-box service tests share: each test starts `cimetrics_api::service` on port
//! 0 with a fresh database (SQLite always; PostgreSQL too when `CIMETRICS_TEST_DATABASE_URL`
//! is set) and talks HTTP. The root package's tests include this file too (`#[path]`), for
//! the tests that run the `cimetrics` binary against a service.

use std::io::Write;
use std::time::Duration;

use cimetrics_api::service::{Settings, Spawned, spawn};

use crate::repo;

pub(crate) const ADMIN: &str = "test-admin-token-of-32-characters";

/// One service per backend this run can reach, with the backend's name.
pub(crate) fn services(tweak: impl Fn(&mut Settings)) -> Vec<(&'static str, Spawned)> {
    let mut out = Vec::new();
    let mut backends: Vec<(&'static str, Option<String>)> = vec![("sqlite", None)];
    match std::env::var("CIMETRICS_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let rt = tokio::runtime::Runtime::new().expect("runtime");
            let db = rt
                .block_on(cimetrics_history::store::fresh_postgres_database(
                    &url,
                    "cimetrics_svc",
                ))
                .expect("a fresh PostgreSQL database");
            backends.push(("postgres", Some(db)));
        }
        _ => eprintln!("CIMETRICS_TEST_DATABASE_URL is not set: PostgreSQL service tests skipped"),
    }
    for (name, url) in backends {
        let dir = temp_dir("cimetrics-svc");
        let mut settings = Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: dir,
            database_url: url,
            admin_token: Some(ADMIN.into()),
            workers: 2,
            // A build finishes with its last shard's first report (later ones recompute it);
            // the lifecycle tests set their own wait.
            build_close_after_seconds: 0,
            ..Settings::default()
        };
        tweak(&mut settings);
        out.push((name, spawn(settings).expect("the service starts")));
    }
    out
}

/// A new directory, named by tempfile and kept after the test (a service may still hold
/// files in it when the test ends).
pub(crate) fn temp_dir(prefix: &str) -> std::path::PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary directory")
        .keep()
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// (status, headers' replayed flag, body bytes).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) replayed: Option<String>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Answer {
    let mut r = r.expect("the request reaches the service");
    let header = |k: &str| {
        r.headers()
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header("content-type").unwrap_or_default();
    let replayed = header("x-cimetrics-replayed");
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("a body");
    Answer {
        status,
        content_type,
        replayed,
        body,
    }
}

pub(crate) fn get(svc: &Spawned, path: &str) -> Answer {
    answer(agent().get(&format!("{}{path}", svc.url())).call())
}

pub(crate) fn post(
    svc: &Spawned,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut req = agent().post(&format!("{}{path}", svc.url()));
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.send(body))
}

/// Creates a project, returns its upload token.
pub(crate) fn project(svc: &Spawned, name: &str) -> String {
    let a = post(
        svc,
        "/api/v1/projects",
        Some(ADMIN),
        &[("content-type", "application/json")],
        format!("{{\"name\": \"{name}\"}}").as_bytes(),
    );
    assert_eq!(a.status, 201, "{}", a.text());
    a.json()["upload_token"]
        .as_str()
        .expect("a token")
        .to_owned()
}

pub(crate) fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("samples/generated").join(name)).expect("sample")
}

pub(crate) fn builds(svc: &Spawned, project: &str) -> Vec<serde_json::Value> {
    let a = get(svc, &format!("/api/v1/projects/{project}/builds"));
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()["builds"].as_array().cloned().unwrap_or_default()
}

/// Parses an SVG as XML to its end; returns the root element's name.
pub(crate) fn svg_root(bytes: &[u8]) -> String {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut root = None;
    let mut depth = 0i64;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed SVG") {
            quick_xml::events::Event::Start(e) => {
                root.get_or_insert_with(|| e.name().into_inner().to_owned());
                depth += 1;
            }
            quick_xml::events::Event::Empty(e) => {
                root.get_or_insert_with(|| e.name().into_inner().to_owned());
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    assert_eq!(depth, 0, "every element closed");
    root.expect("a root element")
}

/// PNG signature and IHDR size.
pub(crate) fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 24, "a PNG of {} bytes", bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    (be(16), be(20))
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}
