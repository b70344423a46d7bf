//! Reading: JSON (and CSV for the tabular answers) under `/api/v1/projects/{project}/`.
//!
//! Tabular answers come as `{"project", ..., "rows": [{column: value}, ...]}`, or as CSV
//! with `Accept: text/csv` or `?format=csv`. Times in query parameters are RFC 3339 or ms;
//! `from`/`to` of trends are local dates (`YYYY-MM-DD`) in `tz`.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_metrics::polars::prelude::DataFrame;
use cimetrics_metrics::{FlakyConfig, ScoreWeights, SlowestBy, Table, Value, Window, WindowSpec};
use serde::Deserialize;

use super::{Problem, Shared, analytics, auth};
use crate::queries::{self, Metric};
use crate::store::{Project, TestName};

/// Whether the client asked for CSV.
fn wants_csv(req: &HttpRequest, format: Option<&str>) -> bool {
    if req.path().ends_with(".csv") {
        return true;
    }
    match format {
        Some(f) => f.eq_ignore_ascii_case("csv"),
        None => req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/csv")),
    }
}

/// A table as JSON (with `meta` beside the rows) or CSV.
fn tabular(
    req: &HttpRequest,
    format: Option<&str>,
    table: &Table,
    meta: serde_json::Value,
) -> HttpResponse {
    if wants_csv(req, format) {
        return HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(table.to_csv());
    }
    let mut body = match meta {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    body.insert(
        "rows".into(),
        serde_json::to_value(table).unwrap_or(serde_json::Value::Null),
    );
    HttpResponse::Ok().json(body)
}

/// Adds the identity columns (`suite`, `classname`, `name`, `file`) of each row's `test_id`.
pub(crate) fn with_test_names(table: &mut Table, names: &[TestName]) {
    let by_id: HashMap<i64, &TestName> = names.iter().map(|n| (n.id, n)).collect();
    let Some(col) = table.columns.iter().position(|c| c == "test_id") else {
        return;
    };
    for c in ["suite", "classname", "name", "file"] {
        table.columns.push(c.into());
    }
    for row in &mut table.rows {
        let name = match row.get(col) {
            Some(Value::Int(id)) => by_id.get(id).copied(),
            _ => None,
        };
        let text =
            |f: fn(&TestName) -> &str| name.map_or(Value::Null, |n| Value::Str(f(n).to_owned()));
        row.push(text(|n| &n.suite));
        row.push(text(|n| &n.classname));
        row.push(text(|n| &n.name));
        row.push(text(|n| &n.file));
    }
}

/// A per-test frame as a table with each test's identity beside its `test_id`.
async fn named_tests(state: &Shared, project_id: i64, frame: &DataFrame) -> Result<Table, Problem> {
    let names = state.store.test_names(project_id, &test_ids(frame)).await?;
    let mut table = Table::from_frame(frame)?;
    with_test_names(&mut table, &names);
    Ok(table)
}

fn test_ids(frame: &DataFrame) -> Vec<i64> {
    frame
        .column(cimetrics_metrics::schema::TEST_ID)
        .ok()
        .and_then(|c| c.i64().ok().cloned())
        .map(|ca| (0..ca.len()).filter_map(|i| ca.get(i)).collect())
        .unwrap_or_default()
}

async fn readable(state: &Shared, req: &HttpRequest, name: &str) -> Result<Project, Problem> {
    let project = auth::project(state, name).await?;
    auth::reader(state, req, &project).await?;
    Ok(project)
}

/// `GET /readyz`: 200 when the database answers.
pub(crate) async fn ready(state: Shared) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().body("ready\n"),
        Err(e) => HttpResponse::ServiceUnavailable().body(format!("database: {e}\n")),
    }
}

/// `GET /metrics`: Prometheus text.
pub(crate) async fn prometheus(state: Shared) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &state.stats;
    let body = format!(
        "# TYPE cimetrics_requests_total counter\ncimetrics_requests_total {}\n\
         # TYPE cimetrics_request_seconds_total counter\ncimetrics_request_seconds_total {:.6}\n\
         # TYPE cimetrics_uploads_total counter\ncimetrics_uploads_total {}\n\
         # TYPE cimetrics_uploads_replayed_total counter\ncimetrics_uploads_replayed_total {}\n\
         # TYPE cimetrics_parse_errors_total counter\ncimetrics_parse_errors_total {}\n\
         # TYPE cimetrics_uploads_in_flight gauge\ncimetrics_uploads_in_flight {}\n",
        s.requests.load(Relaxed),
        s.request_micros.load(Relaxed) as f64 / 1e6,
        s.uploads.load(Relaxed),
        s.uploads_replayed.load(Relaxed),
        s.parse_errors.load(Relaxed),
        s.uploads_in_flight.load(Relaxed),
    );
    // The latency histogram (cumulative buckets, as Prometheus wants them).
    let mut body = body;
    body.push_str("# TYPE cimetrics_request_duration_seconds histogram\n");
    let mut cumulative = 0;
    for (i, bucket) in s.latency_buckets.iter().enumerate() {
        cumulative += bucket.load(Relaxed);
        let le = super::LATENCY_BUCKETS
            .get(i)
            .map_or("+Inf".to_owned(), |b| b.to_string());
        body.push_str(&format!(
            "cimetrics_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}\n"
        ));
    }
    body.push_str(&format!(
        "cimetrics_request_duration_seconds_sum {:.6}\ncimetrics_request_duration_seconds_count {cumulative}\n",
        s.request_micros.load(Relaxed) as f64 / 1e6
    ));
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(body)
}

/// `GET /api/v1/openapi.json`.
pub(crate) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("openapi.json"))
}

/// `GET /api/v1/projects`.
pub(crate) async fn projects(state: Shared) -> Result<HttpResponse, Problem> {
    let projects = state.store.projects().await?;
    let names: Vec<_> = projects
        .iter()
        .filter(|p| p.public_read.unwrap_or(state.settings.public_read))
        .map(|p| serde_json::json!({"name": p.name, "id": p.id}))
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "projects": names })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildsQuery {
    branch: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
    format: Option<String>,
}

fn time_param(name: &str, v: Option<&str>) -> Result<Option<i64>, Problem> {
    // A date (midnight UTC), or what an upload's times may be (ms, RFC 3339).
    if let Some(d) = v.and_then(|v| v.parse::<chrono::NaiveDate>().ok()) {
        return Ok(Some(
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis()),
        ));
    }
    super::upload::time_ms(name, v).map_err(|_| {
        Problem::bad_request(format!(
            "{name}: {:?} is not RFC 3339, a date or ms since the epoch",
            v.unwrap_or_default()
        ))
    })
}

/// `GET .../builds?branch=&from=&to=&limit=&offset=`: newest first.
pub(crate) async fn builds(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<BuildsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let offset = q.offset.unwrap_or(0).max(0);
    let builds = state
        .store
        .builds(
            project.id,
            q.branch.as_deref(),
            time_param("from", q.from.as_deref())?,
            time_param("to", q.to.as_deref())?,
            limit,
            offset,
        )
        .await?;
    if wants_csv(&req, q.format.as_deref()) {
        let mut out = String::from(
            "id,number,commit,branch,status,finished_at,duration_ms,complete,tests,passed,failed,errored,skipped,flaky,lines_valid,lines_covered\n",
        );
        for b in &builds {
            let t = b.tests.unwrap_or_default();
            let c = b.coverage.unwrap_or_default();
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                csv_cell(&b.ci_build_id),
                b.number.map(|n| n.to_string()).unwrap_or_default(),
                csv_cell(&b.commit),
                csv_cell(&b.branch),
                b.status.clone().unwrap_or_default(),
                b.finished_at.map(|n| n.to_string()).unwrap_or_default(),
                b.duration_ms.map(|n| n.to_string()).unwrap_or_default(),
                b.complete,
                t[0],
                t[1],
                t[2],
                t[3],
                t[4],
                t[5],
                c[0],
                c[1]
            ));
        }
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(out));
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "project": project.name,
        "limit": limit,
        "offset": offset,
        "builds": builds,
    })))
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// `GET .../builds/{build}`: the build, its tests (failed first) and its file coverage.
pub(crate) async fn build(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (name, build) = path.into_inner();
    let project = readable(&state, &req, &name).await?;
    let info = state
        .store
        .build(project.id, &build)
        .await?
        .ok_or_else(|| Problem::not_found(format!("no build {build:?} in {name:?}")))?;
    let tests = state.store.build_results(info.id).await?;
    let files = state.store.file_coverage(&[info.id]).await?;
    let files: Vec<_> = files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": f.path,
                "lines_valid": f.lines_valid,
                "lines_covered": f.lines_covered,
                "branches_valid": f.branches_valid,
                "branches_covered": f.branches_covered,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "project": project.name,
        "build": info,
        "tests": tests,
        "coverage_files": files,
    })))
}

/// Query of the trend and chart routes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrendQuery {
    pub(crate) metric: Option<String>,
    pub(crate) window: Option<String>,
    pub(crate) tz: Option<String>,
    pub(crate) branch: Option<String>,
    pub(crate) from: Option<chrono::NaiveDate>,
    pub(crate) to: Option<chrono::NaiveDate>,
    pub(crate) format: Option<String>,
    pub(crate) width: Option<u32>,
    pub(crate) height: Option<u32>,
    pub(crate) theme: Option<String>,
}

impl TrendQuery {
    pub(crate) fn spec(&self) -> Result<WindowSpec, Problem> {
        let window: Window = self
            .window
            .as_deref()
            .unwrap_or("week")
            .parse()
            .map_err(|e: cimetrics_metrics::Error| Problem::bad_request(e.to_string()))?;
        let tz = self.tz.clone().unwrap_or_else(|| "UTC".into());
        Ok(WindowSpec::new(window)
            .in_zone(tz)
            .between(self.from, self.to))
    }
}

/// The trend series of a metric, as a table.
pub(crate) async fn trend_table(
    state: &Shared,
    project: &Project,
    metric: Metric,
    q: &TrendQuery,
) -> Result<Table, Problem> {
    let spec = q.spec()?;
    let (pid, branch) = (project.id, q.branch.clone());
    analytics(state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        let frame = queries::trend(&snapshot, metric, &spec, branch.as_deref())?;
        Ok(Table::from_frame(&frame)?)
    })
    .await
}

/// `GET .../trends?metric=&window=&tz=&branch=&from=&to=`.
pub(crate) async fn trends(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TrendQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let metric: Metric = q
        .metric
        .as_deref()
        .unwrap_or("success_rate")
        .parse()
        .map_err(Problem::bad_request)?;
    let table = trend_table(&state, &project, metric, &q).await?;
    Ok(tabular(
        &req,
        q.format.as_deref(),
        &table,
        serde_json::json!({
            "project": project.name,
            "metric": metric.name(),
            "value_column": metric.value_column(),
            "window": q.window.as_deref().unwrap_or("week"),
            "time_zone": q.tz.as_deref().unwrap_or("UTC"),
            "branch": q.branch,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TestsQuery {
    days: Option<u32>,
    branch: Option<String>,
    limit: Option<u32>,
    by: Option<String>,
    format: Option<String>,
}

/// `GET .../tests/flaky?days=90&branch=&limit=50`: with each definition's verdict and
/// evidence.
pub(crate) async fn flaky(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let days = q.days.unwrap_or(90).clamp(1, 3660);
    let limit = q.limit.unwrap_or(50).clamp(1, 10_000);
    let config = FlakyConfig::default();
    let (pid, branch, cfg) = (project.id, q.branch.clone(), config.clone());
    let frame = analytics(&state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        Ok(queries::flaky(
            &state.store,
            &snapshot,
            pid,
            branch.as_deref(),
            days,
            &cfg,
            limit,
        )
        .await?)
    })
    .await?;
    let table = named_tests(&state, project.id, &frame).await?;
    Ok(tabular(
        &req,
        q.format.as_deref(),
        &table,
        serde_json::json!({
            "project": project.name,
            "days": days,
            "branch": q.branch,
            "definitions": {
                "same_commit": format!("passed and failed on the same commit, on at least {} commit(s)", config.same_commit_min_commits),
                "pass_on_retry": format!("passed after a failed attempt in one build, in at least {} build(s)", config.pass_on_retry_min_builds),
                "flip_rate": format!("over the last {} runs, flips/(runs-1) >= {} with at least {} flips", config.flip_runs, config.flip_rate_min, config.flip_min_flips),
                "flake_rate": "(flaky passes + failures on a commit that also passed) / runs",
            },
        }),
    ))
}

/// `GET .../tests/slowest?days=30&by=p95|p50&limit=50&branch=`.
pub(crate) async fn slowest(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let days = q.days.unwrap_or(30).clamp(1, 3660);
    let limit = q.limit.unwrap_or(50).clamp(1, 10_000);
    let by = match q.by.as_deref().unwrap_or("p95") {
        "p95" => SlowestBy::P95,
        "p50" => SlowestBy::P50,
        other => return Err(Problem::bad_request(format!("by={other:?}: p50 or p95"))),
    };
    let (pid, branch) = (project.id, q.branch.clone());
    let frame = analytics(&state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        Ok(queries::slowest(
            &state.store,
            &snapshot,
            pid,
            branch.as_deref(),
            days,
            by,
            limit,
        )
        .await?)
    })
    .await?;
    let table = named_tests(&state, project.id, &frame).await?;
    Ok(tabular(
        &req,
        q.format.as_deref(),
        &table,
        serde_json::json!({"project": project.name, "days": days, "by": q.by.as_deref().unwrap_or("p95")}),
    ))
}

/// `GET .../tests/failing?branch=main`: tests failing in the branch's latest build, with
/// the first build of their current failure streak.
pub(crate) async fn failing(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let days = q.days.unwrap_or(90).clamp(1, 3660);
    let (pid, asked) = (project.id, q.branch.clone());
    let (branch, frame) = analytics(&state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        let branch = match asked {
            Some(b) => b,
            None => queries::latest_branch(&snapshot)?.unwrap_or_else(|| "main".into()),
        };
        let frame = queries::failing(&state.store, &snapshot, pid, &branch, days).await?;
        Ok((branch, frame))
    })
    .await?;
    let table = named_tests(&state, project.id, &frame).await?;
    Ok(tabular(
        &req,
        q.format.as_deref(),
        &table,
        serde_json::json!({"project": project.name, "branch": branch, "days": days}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilesQuery {
    build: Option<String>,
    branch: Option<String>,
    format: Option<String>,
}

/// `GET .../coverage/files?build=&branch=`: per file of a build (default: the latest
/// complete build with coverage), with the change since the previous build of its branch.
pub(crate) async fn coverage_files(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<FilesQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let pid = project.id;
    let build_id = match &q.build {
        Some(b) => Some(
            state
                .store
                .build(pid, b)
                .await?
                .ok_or_else(|| Problem::not_found(format!("no build {b:?}")))?
                .id,
        ),
        None => {
            let branch = q.branch.clone();
            analytics(&state, move |state| async move {
                let snapshot = state.cache.snapshot(&state.store, pid).await?;
                Ok(queries::latest_with_coverage(&snapshot, branch.as_deref())?)
            })
            .await?
        }
    };
    let Some(build_id) = build_id else {
        return Ok(tabular(
            &req,
            q.format.as_deref(),
            &Table::default(),
            serde_json::json!({"project": project.name, "build": null}),
        ));
    };
    let (frame, previous) = analytics(&state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, pid).await?;
        let previous = queries::previous_on_branch(&snapshot, build_id)?;
        let mut ids = vec![build_id];
        ids.extend(previous);
        let rows = state.store.file_coverage(&ids).await?;
        Ok((queries::file_deltas(&rows, build_id, previous)?, previous))
    })
    .await?;
    let table = Table::from_frame(&frame)?;
    Ok(tabular(
        &req,
        q.format.as_deref(),
        &table,
        serde_json::json!({"project": project.name, "build_id": build_id, "previous_build_id": previous}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScoreQuery {
    days: Option<u32>,
    branch: Option<String>,
}

/// `GET .../score?days=30&branch=`: the quality score with each component's points.
pub(crate) async fn score(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ScoreQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let days = q.days.unwrap_or(30).clamp(1, 3660);
    let score = score_of(&state, project.id, q.branch.clone(), days).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "project": project.name,
        "days": days,
        "branch": q.branch,
        "score": score,
    })))
}

/// The quality score (default weights and flaky thresholds) over the last `days` days.
pub(crate) async fn score_of(
    state: &Shared,
    project_id: i64,
    branch: Option<String>,
    days: u32,
) -> Result<cimetrics_metrics::Score, Problem> {
    analytics(state, move |state| async move {
        let snapshot = state.cache.snapshot(&state.store, project_id).await?;
        Ok(queries::score(
            &state.store,
            &snapshot,
            project_id,
            branch.as_deref(),
            days,
            &ScoreWeights::default(),
            &FlakyConfig::default(),
        )
        .await?)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GateQuery {
    /// The CI's build id (default: the latest complete build, of `branch` if given).
    build: Option<String>,
    branch: Option<String>,
    /// Conditions separated by `;`, e.g. `coverage >= 80; failed == 0` (default:
    /// `failed == 0; errored == 0`).
    conditions: Option<String>,
    /// A condition without data fails instead of passing.
    fail_when_missing: Option<bool>,
}

/// `GET .../gate?build=&branch=&conditions=`: a build against quality-gate conditions, with
/// the reason for each. `coverage_delta` and `new_failures` compare with the previous
/// complete build of the same branch.
pub(crate) async fn gate(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<GateQuery>,
) -> Result<HttpResponse, Problem> {
    use cimetrics_metrics::GateConfig;
    let project = readable(&state, &req, &path).await?;
    let mut config = GateConfig::default();
    if let Some(c) = &q.conditions {
        config.conditions = c
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect();
    }
    config.fail_when_missing = q.fail_when_missing.unwrap_or(false);
    let build = match &q.build {
        Some(id) => state.store.build(project.id, id).await?,
        None => state
            .store
            .builds(project.id, q.branch.as_deref(), None, None, 20, 0)
            .await?
            .into_iter()
            .find(|b| b.complete),
    }
    .ok_or_else(|| Problem::not_found("no such build (or no complete build yet)"))?;
    let previous = match build.finished_at {
        Some(at) => state
            .store
            .builds(project.id, Some(&build.branch), None, Some(at), 20, 0)
            .await?
            .into_iter()
            .find(|b| b.complete && b.id != build.id),
        None => None,
    };
    let mut facts = build_facts(&build);
    if let Some(prev) = &previous {
        facts.coverage_delta = facts
            .coverage
            .zip(build_facts(prev).coverage)
            .map(|(a, b)| a - b);
        let before: std::collections::HashSet<i64> = state
            .store
            .failing_test_hashes(prev.id)
            .await?
            .into_iter()
            .collect();
        let now = state.store.failing_test_hashes(build.id).await?;
        facts.new_failures = Some(now.iter().filter(|h| !before.contains(h)).count() as f64);
    }
    let result = cimetrics_metrics::gate::evaluate(&config, &facts)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "project": project.name,
        "build": build.ci_build_id,
        "compared_with": previous.map(|p| p.ci_build_id),
        "passed": result.passed,
        "conditions": result.conditions,
        "facts": facts,
    })))
}

/// The gate facts a stored build gives on its own (its counts and coverage, rates in %);
/// the comparisons with another build (`coverage_delta`, `new_failures`) are the caller's.
pub(crate) fn build_facts(build: &crate::store::BuildInfo) -> cimetrics_metrics::GateFacts {
    let pct = |covered: i64, valid: i64| (valid > 0).then(|| covered as f64 / valid as f64 * 100.0);
    let t = build.tests;
    cimetrics_metrics::GateFacts {
        coverage: build.coverage.and_then(|c| pct(c[1], c[0])),
        branch_coverage: build.coverage.and_then(|c| pct(c[3], c[2])),
        total: t.map(|t| t[0] as f64),
        passed: t.map(|t| t[1] as f64),
        failed: t.map(|t| t[2] as f64),
        errored: t.map(|t| t[3] as f64),
        skipped: t.map(|t| t[4] as f64),
        flaky: t.map(|t| t[5] as f64),
        pass_rate: t.and_then(|t| pct(t[1], t[1] + t[2] + t[3])),
        ..Default::default()
    }
}
