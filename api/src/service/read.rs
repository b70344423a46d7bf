//! Reading: JSON (and CSV for the answers with rows) under `/api/v1/projects/{project}/`.
//!
//! Every handler asks one question of [`cimetrics_history::History`] and writes its typed
//! answer: as JSON, or, for answers with rows, as CSV (`Accept: text/csv`, `?format=csv` or
//! a `.csv` suffix) written from the same rows. Times in query parameters are RFC 3339, a
//! date, or ms; `from`/`to` of trends are local dates (`YYYY-MM-DD`) in `tz`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use cimetrics_history::answers::{
    BuildDetail, BuildList, Comparison, CoverageFiles, CoveragePackages, FailingTests, FlakyTests,
    Gate, IssueList, IssuesSummary, Mttr, ProjectList, ProjectRef, QualityScore, Regressions,
    SlowestTests, TestHistory, Trend, TrendAnswer,
};
use cimetrics_history::questions::{
    BuildsParams, FailingParams, FlakyParams, GateParams, IssuesParams, MTTR_DAYS, Metric,
    RegressionParams, SCORE_DAYS, SlowestParams, TrendParams,
};
use cimetrics_history::store::Project;
use cimetrics_history::{History, csv};
use cimetrics_metrics::{FlakyConfig, GateConfig, SlowestBy, Window};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

use super::{Problem, Shared, analytics, auth};

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

/// An answer as JSON, or its rows as CSV when asked.
fn respond<T: Serialize, R: Serialize>(
    req: &HttpRequest,
    format: Option<&str>,
    answer: &T,
    rows: impl FnOnce(&T) -> &[R],
) -> HttpResponse {
    if wants_csv(req, format) {
        return HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv::write(rows(answer)));
    }
    HttpResponse::Ok().json(answer)
}

async fn readable(state: &Shared, req: &HttpRequest, name: &str) -> Result<Project, Problem> {
    let project = auth::project(state, name).await?;
    auth::reader(state, req, &project).await?;
    Ok(project)
}

/// Asks the history a question on the analytics runtime.
async fn ask<T, F>(
    state: &Shared,
    f: impl FnOnce(std::sync::Arc<History>) -> F + Send + 'static,
) -> Result<T, Problem>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, cimetrics_history::Error>> + Send + 'static,
{
    analytics(state, move |state| async move {
        Ok(f(state.history.clone()).await?)
    })
    .await
}

/// Up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Ready: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "`ready`", body = String, content_type = "text/plain"),
        (status = 503, description = "The database does not answer", body = String, content_type = "text/plain")))]
pub(crate) async fn ready(state: Shared) -> HttpResponse {
    match state.history.store().ping().await {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database does not answer");
            HttpResponse::ServiceUnavailable()
                .content_type("text/plain")
                .body("database unavailable\n")
        }
    }
}

/// Prometheus metrics: requests, latency, uploads, replays, parse errors.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain")))]
pub(crate) async fn prometheus(state: Shared) -> HttpResponse {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &state.stats;
    let mut body = format!(
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

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub(crate) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::openapi::document())
}

/// The projects this reader may see.
#[utoipa::path(get, path = "/api/v1/projects", tag = "read",
    responses((status = 200, description = "The public projects", body = ProjectList)))]
pub(crate) async fn projects(state: Shared) -> Result<HttpResponse, Problem> {
    let projects = state.history.store().projects().await?;
    let projects = projects
        .into_iter()
        .filter(|p| p.public_read.unwrap_or(state.settings.public_read))
        .map(|p| ProjectRef { name: p.name })
        .collect();
    Ok(HttpResponse::Ok().json(ProjectList { projects }))
}

/// Query of `GET .../builds`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct BuildsQuery {
    /// Only this branch.
    branch: Option<String>,
    /// Finished at or after (RFC 3339, a date, or ms).
    from: Option<String>,
    /// Finished before (RFC 3339, a date, or ms).
    to: Option<String>,
    /// Page size, 1–1000 (default 50).
    limit: Option<u32>,
    /// Builds to skip.
    offset: Option<u32>,
    /// `csv` for CSV.
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

/// Builds, newest first (running ones too).
#[utoipa::path(get, path = "/api/v1/projects/{project}/builds", tag = "read",
    params(("project" = String, Path, description = "Project name"), BuildsQuery),
    responses((status = 200, description = "A page of builds", body = BuildList,
        content_type = "application/json"),
        (status = 404, description = "No such project", body = super::ProblemDetails)))]
pub(crate) async fn builds(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<BuildsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let params = BuildsParams {
        branch: q.branch.clone(),
        from_ms: time_param("from", q.from.as_deref())?,
        to_ms: time_param("to", q.to.as_deref())?,
        limit: q.limit.unwrap_or(50).clamp(1, 1000),
        offset: q.offset.unwrap_or(0),
    };
    let answer = ask(
        &state,
        move |h| async move { h.builds(&project, &params).await },
    )
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.builds))
}

/// A build, its tests (failures first) and its files' coverage.
#[utoipa::path(get, path = "/api/v1/projects/{project}/builds/{build}", tag = "read",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id")),
    responses((status = 200, description = "The build", body = BuildDetail),
        (status = 404, description = "No such project or build", body = super::ProblemDetails)))]
pub(crate) async fn build(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (name, build) = path.into_inner();
    let project = readable(&state, &req, &name).await?;
    let answer = ask(
        &state,
        move |h| async move { h.build(&project, &build).await },
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Query of the trend, chart and badge routes.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TrendQuery {
    /// `success_rate` (default), `pass_rate`, `coverage`, `branch_coverage`, `duration`,
    /// `quality`.
    pub(crate) metric: Option<String>,
    /// `day`, `week` (default) or `month`.
    pub(crate) window: Option<String>,
    /// IANA time zone windows begin in (default UTC).
    pub(crate) tz: Option<String>,
    /// Only this branch.
    pub(crate) branch: Option<String>,
    /// First local date, `YYYY-MM-DD`.
    pub(crate) from: Option<chrono::NaiveDate>,
    /// Last local date, `YYYY-MM-DD`.
    pub(crate) to: Option<chrono::NaiveDate>,
    /// `csv` for CSV.
    pub(crate) format: Option<String>,
    /// Chart width, pixels.
    pub(crate) width: Option<u32>,
    /// Chart height, pixels.
    pub(crate) height: Option<u32>,
    /// `dark` for a dark chart.
    pub(crate) theme: Option<String>,
    /// With `metric=success_rate`: one point per finished build, over it and the N−1
    /// finished builds before it, instead of windows.
    pub(crate) rolling: Option<u32>,
}

impl TrendQuery {
    /// The question, for `metric`.
    pub(crate) fn params(&self, metric: Metric) -> Result<TrendParams, Problem> {
        let window: Window = self
            .window
            .as_deref()
            .unwrap_or("week")
            .parse()
            .map_err(|e: cimetrics_metrics::Error| Problem::bad_request(e.to_string()))?;
        Ok(TrendParams {
            metric,
            window,
            time_zone: self.tz.clone().unwrap_or_else(|| "UTC".into()),
            branch: self.branch.clone(),
            from: self.from,
            to: self.to,
        })
    }
}

/// A metric's trend.
pub(crate) async fn trend(
    state: &Shared,
    project: Project,
    params: TrendParams,
) -> Result<Trend, Problem> {
    ask(
        state,
        move |h| async move { h.trend(&project, &params).await },
    )
    .await
}

/// A metric per window (every window of the range; empty ones null), or with `rolling=N`
/// the success rate per finished build over the last N.
#[utoipa::path(get, path = "/api/v1/projects/{project}/trends", tag = "read",
    params(("project" = String, Path, description = "Project name"), TrendQuery),
    responses((status = 200, description = "The series", body = TrendAnswer,
        content_type = "application/json"),
        (status = 400, description = "Unknown metric, window or time zone", body = super::ProblemDetails)))]
pub(crate) async fn trends(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TrendQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let metric: Metric = q.metric.as_deref().unwrap_or("success_rate").parse()?;
    if let Some(n) = q.rolling {
        if metric != Metric::SuccessRate {
            return Err(Problem::bad_request(
                "rolling=N is for metric=success_rate (one point per finished build)",
            ));
        }
        let branch = q.branch.clone();
        let answer = ask(&state, move |h| async move {
            h.rolling_success(&project, n.clamp(1, 10_000), branch.as_deref())
                .await
        })
        .await?;
        return Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.points));
    }
    let answer = trend(&state, project, q.params(metric)?).await?;
    if wants_csv(&req, q.format.as_deref()) {
        return Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.points));
    }
    Ok(HttpResponse::Ok().json(TrendAnswer::Windows(answer)))
}

/// Query of the test routes.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TestsQuery {
    /// Days back from the latest build.
    days: Option<u32>,
    /// Only this branch (failing: the branch, default the latest build's).
    branch: Option<String>,
    /// At most this many tests (default 50).
    limit: Option<u32>,
    /// Slowest: `p95` (default) or `p50`.
    by: Option<String>,
    /// `csv` for CSV.
    format: Option<String>,
}

/// Flaky tests under three definitions, each with its evidence.
#[utoipa::path(get, path = "/api/v1/projects/{project}/tests/flaky", tag = "read",
    params(("project" = String, Path, description = "Project name"), TestsQuery),
    responses((status = 200, description = "Flaky tests, highest flake rate first", body = FlakyTests,
        content_type = "application/json")))]
pub(crate) async fn flaky(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let params = FlakyParams {
        branch: q.branch.clone(),
        days: q.days.unwrap_or(FlakyParams::default().days).clamp(1, 3660),
        limit: q
            .limit
            .unwrap_or(FlakyParams::default().limit)
            .clamp(1, 10_000),
        config: FlakyConfig::default(),
    };
    let answer = ask(
        &state,
        move |h| async move { h.flaky(&project, &params).await },
    )
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.tests))
}

/// The slowest tests by p50 or p95.
#[utoipa::path(get, path = "/api/v1/projects/{project}/tests/slowest", tag = "read",
    params(("project" = String, Path, description = "Project name"), TestsQuery),
    responses((status = 200, description = "Slowest first", body = SlowestTests,
        content_type = "application/json")))]
pub(crate) async fn slowest(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let by = match q.by.as_deref().unwrap_or("p95") {
        "p95" => SlowestBy::P95,
        "p50" => SlowestBy::P50,
        other => return Err(Problem::bad_request(format!("by={other:?}: p50 or p95"))),
    };
    let params = SlowestParams {
        branch: q.branch.clone(),
        days: q
            .days
            .unwrap_or(SlowestParams::default().days)
            .clamp(1, 3660),
        by,
        limit: q
            .limit
            .unwrap_or(SlowestParams::default().limit)
            .clamp(1, 10_000),
    };
    let answer = ask(&state, move |h| async move {
        h.slowest(&project, &params).await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.tests))
}

/// Tests failing on a branch now, with the start of each failure streak.
#[utoipa::path(get, path = "/api/v1/projects/{project}/tests/failing", tag = "read",
    params(("project" = String, Path, description = "Project name"), TestsQuery),
    responses((status = 200, description = "Failing tests", body = FailingTests,
        content_type = "application/json")))]
pub(crate) async fn failing(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<TestsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let params = FailingParams {
        branch: q.branch.clone(),
        days: q
            .days
            .unwrap_or(FailingParams::default().days)
            .clamp(1, 3660),
    };
    let answer = ask(&state, move |h| async move {
        h.failing(&project, &params).await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.tests))
}

/// Query of `GET .../coverage/files`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FilesQuery {
    /// The CI's build id (default: the latest complete build with coverage).
    build: Option<String>,
    /// The branch of the default build.
    branch: Option<String>,
    /// `csv` for CSV.
    format: Option<String>,
}

/// A build's files with their coverage and its change since the previous build.
#[utoipa::path(get, path = "/api/v1/projects/{project}/coverage/files", tag = "read",
    params(("project" = String, Path, description = "Project name"), FilesQuery),
    responses((status = 200, description = "Files by path", body = CoverageFiles,
        content_type = "application/json"),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn coverage_files(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<FilesQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let (build, branch) = (q.build.clone(), q.branch.clone());
    let answer = ask(&state, move |h| async move {
        h.coverage_files(&project, build.as_deref(), branch.as_deref())
            .await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.files))
}

/// Query of `GET .../issues/summary`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct IssuesSummaryQuery {
    /// The CI's build id (default: the latest complete build with a code-quality report).
    build: Option<String>,
    /// The branch of the default build.
    branch: Option<String>,
}

/// A build's code quality: open issues by severity and category, new and fixed against the
/// previous build of its branch, ratings A–E and the code-quality score.
#[utoipa::path(get, path = "/api/v1/projects/{project}/issues/summary", tag = "read",
    params(("project" = String, Path, description = "Project name"), IssuesSummaryQuery),
    responses((status = 200, description = "The build's code quality", body = IssuesSummary,
        content_type = "application/json"),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn issues_summary(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<IssuesSummaryQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let (build, branch) = (q.build.clone(), q.branch.clone());
    let answer = ask(&state, move |h| async move {
        h.issues_summary(&project, build.as_deref(), branch.as_deref())
            .await
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Query of `GET .../issues`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct IssuesQuery {
    /// The CI's build id (default: the latest complete build with a code-quality report).
    build: Option<String>,
    /// The branch of the default build.
    branch: Option<String>,
    /// `blocker`, `critical`, `major`, `minor` or `info`.
    severity: Option<String>,
    /// `bug`, `vulnerability` or `code_smell`.
    category: Option<String>,
    /// A rule id.
    rule: Option<String>,
    /// A file.
    path: Option<String>,
    /// `open` (default; new ones included), `new`, or `fixed` (the previous build's issues
    /// that are gone).
    status: Option<String>,
    /// Rows to skip (default 0).
    offset: Option<u64>,
    /// Page size (default 100, at most 1,000).
    limit: Option<u64>,
    /// `csv` for CSV.
    format: Option<String>,
}

/// A page of a build's issues, filtered by severity, category, rule, file and status.
#[utoipa::path(get, path = "/api/v1/projects/{project}/issues", tag = "read",
    params(("project" = String, Path, description = "Project name"), IssuesQuery),
    responses((status = 200, description = "Issues, worst first", body = IssueList,
        content_type = "application/json"),
        (status = 400, description = "A filter that is not one of its values", body = super::ProblemDetails),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn issues(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<IssuesQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let params = IssuesParams {
        build: q.build.clone(),
        branch: q.branch.clone(),
        severity: q.severity.clone(),
        category: q.category.clone(),
        rule: q.rule.clone(),
        path: q.path.clone(),
        status: q.status.clone(),
        offset: q.offset.unwrap_or(0),
        limit: q.limit,
    };
    let answer = ask(
        &state,
        move |h| async move { h.issues(&project, &params).await },
    )
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.issues))
}

/// Query of `GET .../score`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ScoreQuery {
    /// Days back from the latest build (default 30).
    days: Option<u32>,
    /// Only this branch.
    branch: Option<String>,
}

/// The quality score with each component's points.
#[utoipa::path(get, path = "/api/v1/projects/{project}/score", tag = "read",
    params(("project" = String, Path, description = "Project name"), ScoreQuery),
    responses((status = 200, description = "The score", body = QualityScore)))]
pub(crate) async fn score(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ScoreQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let days = q.days.unwrap_or(SCORE_DAYS).clamp(1, 3660);
    let answer = score_of(&state, project, q.branch.clone(), days).await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The quality score over the last `days` days.
pub(crate) async fn score_of(
    state: &Shared,
    project: Project,
    branch: Option<String>,
    days: u32,
) -> Result<QualityScore, Problem> {
    ask(state, move |h| async move {
        h.score(&project, branch.as_deref(), days).await
    })
    .await
}

/// Query of `GET .../gate`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct GateQuery {
    /// The CI's build id (default: the latest complete build, of `branch` if given).
    build: Option<String>,
    /// The branch of the default build.
    branch: Option<String>,
    /// Conditions separated by `;`, e.g. `coverage >= 80; failed == 0` (default:
    /// `failed == 0; errored == 0`).
    conditions: Option<String>,
    /// A condition without data fails instead of passing.
    fail_when_missing: Option<bool>,
    /// Failures of tests flaky in the last 30 days do not count.
    flaky_excluded: Option<bool>,
}

impl GateQuery {
    fn params(&self) -> GateParams {
        let mut config = GateConfig::default();
        if let Some(c) = &self.conditions {
            config.conditions = c
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect();
        }
        config.fail_when_missing = self.fail_when_missing.unwrap_or(false);
        config.flaky_excluded = self.flaky_excluded.unwrap_or(false);
        GateParams {
            build: self.build.clone(),
            branch: self.branch.clone(),
            config,
            ..GateParams::default()
        }
    }
}

/// A build against quality-gate conditions, with the reason for each, compared with the
/// previous complete build of its branch.
#[utoipa::path(get, path = "/api/v1/projects/{project}/gate", tag = "read",
    params(("project" = String, Path, description = "Project name"), GateQuery),
    responses((status = 200, description = "The verdict", body = Gate),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn gate(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<GateQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let params = q.params();
    let answer = ask(
        &state,
        move |h| async move { h.gate(&project, &params).await },
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// Query of `GET .../mttr`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct MttrQuery {
    /// Only this branch (default: each branch on its own).
    branch: Option<String>,
    /// Streaks that began in this many days back from the latest build (default 90).
    days: Option<u32>,
    /// `csv` for the streaks as CSV.
    format: Option<String>,
}

/// Mean time to recovery, with each failure streak.
#[utoipa::path(get, path = "/api/v1/projects/{project}/mttr", tag = "read",
    params(("project" = String, Path, description = "Project name"), MttrQuery),
    responses((status = 200, description = "MTTR and the streaks", body = Mttr)))]
pub(crate) async fn mttr(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<MttrQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let (branch, days) = (q.branch.clone(), q.days.unwrap_or(MTTR_DAYS).clamp(1, 3660));
    let answer = ask(&state, move |h| async move {
        h.mttr(&project, branch.as_deref(), days).await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.streaks))
}

/// Query of `GET .../tests/{test}`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct TestQuery {
    /// Days back from the latest build (default 90).
    days: Option<u32>,
    /// `csv` for the runs as CSV.
    format: Option<String>,
}

/// One test's history: its runs, newest first, with its rates, times and flaky verdicts.
#[utoipa::path(get, path = "/api/v1/projects/{project}/tests/{test}", tag = "read",
    params(("project" = String, Path, description = "Project name"),
        ("test" = String, Path, description = "The test's id (16 hex digits)"), TestQuery),
    responses((status = 200, description = "The test's history", body = TestHistory),
        (status = 404, description = "No such test", body = super::ProblemDetails)))]
pub(crate) async fn test(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<TestQuery>,
) -> Result<HttpResponse, Problem> {
    let (name, test) = path.into_inner();
    let project = readable(&state, &req, &name).await?;
    let days = q.days.unwrap_or(90).clamp(1, 3660);
    let answer = ask(&state, move |h| async move {
        h.test_history(&project, &test, days).await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.runs))
}

/// Query of `GET .../tests/regressions`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct RegressionsQuery {
    /// Days back from the latest build (default 30).
    days: Option<u32>,
    /// The last this many days are recent (default 7).
    recent_days: Option<u32>,
    /// Smallest increase listed, percent (default 20).
    min_increase_pct: Option<f64>,
    /// Timed runs each side needs (default 3).
    min_runs: Option<u32>,
    /// Only this branch.
    branch: Option<String>,
    /// `csv` for CSV.
    format: Option<String>,
}

/// Tests whose recent median time grew.
#[utoipa::path(get, path = "/api/v1/projects/{project}/tests/regressions", tag = "read",
    params(("project" = String, Path, description = "Project name"), RegressionsQuery),
    responses((status = 200, description = "Largest increase first", body = Regressions)))]
pub(crate) async fn regressions(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<RegressionsQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let d = RegressionParams::default();
    let days = q.days.unwrap_or(d.days).clamp(1, 3660);
    let params = RegressionParams {
        branch: q.branch.clone(),
        days,
        recent_days: q.recent_days.unwrap_or(d.recent_days).clamp(1, days),
        min_increase_pct: q.min_increase_pct.unwrap_or(d.min_increase_pct).max(0.0),
        min_runs: q.min_runs.unwrap_or(d.min_runs).max(1),
    };
    let answer = ask(&state, move |h| async move {
        h.regressions(&project, &params).await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.tests))
}

/// A build's packages (directories) with their coverage and its change.
#[utoipa::path(get, path = "/api/v1/projects/{project}/coverage/packages", tag = "read",
    params(("project" = String, Path, description = "Project name"), FilesQuery),
    responses((status = 200, description = "Packages by name", body = CoveragePackages),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn coverage_packages(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<FilesQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let (build, branch) = (q.build.clone(), q.branch.clone());
    let answer = ask(&state, move |h| async move {
        h.coverage_packages(&project, build.as_deref(), branch.as_deref())
            .await
    })
    .await?;
    Ok(respond(&req, q.format.as_deref(), &answer, |a| &a.packages))
}

/// Query of `GET .../compare`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct CompareQuery {
    /// The base build: a CI id, or `branch:NAME` for that branch's latest finished build.
    base: String,
    /// The head build, likewise.
    head: String,
}

/// Two builds side by side: totals, tests newly failing, fixed, added and removed, coverage.
#[utoipa::path(get, path = "/api/v1/projects/{project}/compare", tag = "read",
    params(("project" = String, Path, description = "Project name"), CompareQuery),
    responses((status = 200, description = "The comparison", body = Comparison),
        (status = 404, description = "No such build", body = super::ProblemDetails)))]
pub(crate) async fn compare(
    state: Shared,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<CompareQuery>,
) -> Result<HttpResponse, Problem> {
    let project = readable(&state, &req, &path).await?;
    let (base, head) = (q.base.clone(), q.head.clone());
    let answer = ask(&state, move |h| async move {
        h.compare(&project, &base, &head).await
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The CSV routes: the same answers' rows, by suffix.
pub(crate) mod csv_routes {
    use actix_web::{HttpRequest, HttpResponse, web};

    use super::{BuildsQuery, FilesQuery, IssuesQuery, Problem, Shared, TestsQuery, TrendQuery};

    /// Builds as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/builds.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), BuildsQuery),
        responses((status = 200, description = "One row per build", body = String, content_type = "text/csv")))]
    pub(crate) async fn builds(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<BuildsQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::builds(state, req, path, q).await
    }

    /// A trend as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/trends.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), TrendQuery),
        responses((status = 200, description = "One row per window", body = String, content_type = "text/csv")))]
    pub(crate) async fn trends(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<TrendQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::trends(state, req, path, q).await
    }

    /// Flaky tests as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/tests/flaky.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), TestsQuery),
        responses((status = 200, description = "One row per test", body = String, content_type = "text/csv")))]
    pub(crate) async fn flaky(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<TestsQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::flaky(state, req, path, q).await
    }

    /// The slowest tests as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/tests/slowest.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), TestsQuery),
        responses((status = 200, description = "One row per test", body = String, content_type = "text/csv")))]
    pub(crate) async fn slowest(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<TestsQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::slowest(state, req, path, q).await
    }

    /// Failing tests as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/tests/failing.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), TestsQuery),
        responses((status = 200, description = "One row per test", body = String, content_type = "text/csv")))]
    pub(crate) async fn failing(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<TestsQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::failing(state, req, path, q).await
    }

    /// A page of a build's issues as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/issues.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), IssuesQuery),
        responses((status = 200, description = "One row per issue", body = String, content_type = "text/csv")))]
    pub(crate) async fn issues(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<IssuesQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::issues(state, req, path, q).await
    }

    /// A build's files as CSV.
    #[utoipa::path(get, path = "/api/v1/projects/{project}/coverage/files.csv", tag = "csv",
        params(("project" = String, Path, description = "Project name"), FilesQuery),
        responses((status = 200, description = "One row per file", body = String, content_type = "text/csv")))]
    pub(crate) async fn coverage_files(
        state: Shared,
        req: HttpRequest,
        path: web::Path<String>,
        q: web::Query<FilesQuery>,
    ) -> Result<HttpResponse, Problem> {
        super::coverage_files(state, req, path, q).await
    }
}
