//! Writing: build metadata and reports from CI jobs.
//!
//! `POST /api/v1/projects/{project}/builds/{build}/reports?shard=N&shards=M&name=F&commit=..`
//! takes one report as the raw body (any format cimetrics reads, detected from the content;
//! gzip as `Content-Encoding: gzip` or as gzip bytes). The body is streamed to a spool file
//! (memory stays flat whatever its size), with its digest computed on the way; a body over
//! `max_upload_bytes` is refused with 413 as soon as it passes the limit, a body that stalls
//! longer than `body_timeout_seconds` is cut (408). The file is then parsed on the blocking
//! pool (gzip undone by a bounded decoder: 413 past `max_decompressed_bytes`) and stored in
//! one transaction. The same report sent again answers the same and stores nothing.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use cimetrics_history::answers::{Build, CoverageSummary, TestTotals};
use cimetrics_history::store::{
    Batch, BuildMeta, Project, UploadContent, UploadMeta, UploadOutcome,
};

use super::{Problem, Shared, Stats, auth, blocking};

/// Build metadata as query parameters of an upload (all optional), or as the JSON body of
/// `PUT .../builds/{build}`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// 1-based shard number (default 1).
    shard: Option<u32>,
    /// How many shards the build has.
    shards: Option<u32>,
    /// The report's name within its shard (default: `report`).
    name: Option<String>,
    /// The CI's build number.
    number: Option<i64>,
    /// Commit SHA.
    commit: Option<String>,
    /// Branch.
    branch: Option<String>,
    /// `passed`, `failed` or `cancelled` (else derived from the tests). A status finishes
    /// the build.
    status: Option<String>,
    /// The build is over: it finishes with this report (or, on `PUT`, now).
    finish: Option<bool>,
    /// RFC 3339 or ms since the epoch.
    started_at: Option<String>,
    /// RFC 3339 or ms since the epoch.
    finished_at: Option<String>,
    /// Wall time, seconds.
    duration_seconds: Option<f64>,
    /// `github`, `gitlab`, `jenkins`, ...
    ci_provider: Option<String>,
    /// A link to the build.
    ci_url: Option<String>,
    /// The report's format, instead of detecting it (the only way to send `lint-text`:
    /// flake8, ruff concise and mypy output cannot be told from other text).
    format: Option<String>,
    /// The tool of a code-quality report that does not name its own (lint text, Checkstyle).
    tool: Option<String>,
    /// Lines of code, for the build's code-quality ratings (else its coverage's lines).
    loc: Option<u64>,
    /// Refuse the report (400, `bad-report`) when reading it gives any warning (an odd value kept or
    /// dropped, declared totals that disagree), instead of storing it with its warnings.
    strict: Option<bool>,
}

/// A time given as ms since the epoch or RFC 3339.
pub(crate) fn time_ms(field: &str, value: Option<&str>) -> Result<Option<i64>, Problem> {
    let Some(v) = value else { return Ok(None) };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|e| Problem::bad_request(format!("{field}: {v:?} is not RFC 3339 ({e})")))
}

fn check_status(status: Option<&str>) -> Result<(), Problem> {
    match status {
        None | Some("passed" | "failed" | "cancelled") => Ok(()),
        Some(other) => Err(Problem::bad_request(format!(
            "status {other:?} is not passed, failed or cancelled"
        ))),
    }
}

impl UploadQuery {
    fn meta(&self, id: &str) -> Result<BuildMeta, Problem> {
        check_status(self.status.as_deref())?;
        Ok(BuildMeta {
            id: id.to_owned(),
            number: self.number,
            commit: self.commit.clone(),
            branch: self.branch.clone(),
            status: self.status.clone(),
            started_at: time_ms("started_at", self.started_at.as_deref())?,
            finished_at: time_ms("finished_at", self.finished_at.as_deref())?,
            duration_ms: self.duration_seconds.map(|s| (s * 1000.0).round() as i64),
            ci_provider: self.ci_provider.clone(),
            ci_url: self.ci_url.clone(),
            shards: self.shards,
            finish: self.finish.unwrap_or(false) || self.status.is_some(),
            loc: self.loc,
        })
    }
}

/// Removes the spool file however the request ends.
struct Spooled(PathBuf);

impl Drop for Spooled {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Counts an upload in flight for `/metrics` while it lives.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn new(stats: &'a Stats) -> Self {
        Stats::add(&stats.uploads_in_flight, 1);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0
            .uploads_in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A reader that fails once more than `limit` bytes came out of it: the bound on what a
/// gzip body may inflate to.
struct Bounded<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "the report inflates past the {} byte limit (max_decompressed_bytes)",
                self.limit
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Tests per batch of a streamed report.
const BATCH: usize = 1000;

/// The spool file as the report's bytes: gunzipped (within `limit`) when sent gzipped.
fn open_spool(
    path: &std::path::Path,
    gzip: bool,
    limit: u64,
) -> Result<Box<dyn Read + Send>, Problem> {
    let file = std::fs::File::open(path).map_err(|e| Problem::internal(format!("spool: {e}")))?;
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    Ok(if gzip {
        Box::new(Bounded {
            inner: flate2::read::MultiGzDecoder::new(reader),
            left: limit,
            limit,
        })
    } else {
        Box::new(reader)
    })
}

fn spool_name(state: &Shared) -> PathBuf {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    state.spool.join(format!("upload-{name}.part"))
}

/// `POST .../builds/{build}/reports`: one report.
/// One report as the raw body (any format cimetrics reads, detected from the content).
#[utoipa::path(post, path = "/api/v1/projects/{project}/builds/{build}/reports", tag = "write",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id"), UploadQuery),
    request_body(content = String, content_type = "application/octet-stream",
        description = "The report, as the tool wrote it (gzip accepted)"),
    responses((status = 201, description = "Stored (or already stored: X-Cimetrics-Replayed)", body = Uploaded),
        (status = 400, description = "The report could not be read", body = super::ProblemDetails),
        (status = 409, description = "Another report under this build, shard and name", body = super::ProblemDetails),
        (status = 413, description = "Over the limits", body = super::ProblemDetails),
        (status = 415, description = "Not a format cimetrics reads", body = super::ProblemDetails)))]
pub(crate) async fn report(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<UploadQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (project_name, build_id) = path.into_inner();
    let project = auth::project(&state, &project_name).await?;
    let token = auth::writer(&state, &req, &project).await?;
    let _slot = auth::UploadSlot::take(&state, token)?;
    let meta = query.meta(&build_id)?;
    let shard = query.shard.unwrap_or(1);
    let name = query.name.clone().unwrap_or_else(|| "report".into());
    let gzip = match req
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("" | "identity") => false,
        Some("gzip" | "x-gzip") => true,
        Some(other) => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-encoding",
                "Unsupported content encoding",
                format!("Content-Encoding {other:?}: send the report as is or gzip"),
            ));
        }
    };
    let _in_flight = InFlight::new(&state.stats);
    let max = state.settings.max_upload_bytes;
    if let Some(len) = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        && len > max
    {
        return Err(Problem::too_large(format!(
            "the body is {len} bytes; this server takes up to {max} (max_upload_bytes)"
        )));
    }

    // Stream the body to the spool file, hashing as it goes.
    let spooled = Spooled(spool_name(&state));
    let mut file =
        std::fs::File::create(&spooled.0).map_err(|e| Problem::internal(format!("spool: {e}")))?;
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut size = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(2);
    let stall = Duration::from_secs(state.settings.body_timeout_seconds.max(1));
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs(state.settings.upload_deadline_seconds.max(1));
    loop {
        if tokio::time::Instant::now() >= deadline {
            return Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "upload-deadline",
                "The upload took too long",
                format!(
                    "the body did not arrive whole within {} s (upload_deadline_seconds)",
                    state.settings.upload_deadline_seconds
                ),
            ));
        }
        let wait = stall.min(deadline - tokio::time::Instant::now());
        let chunk = match tokio::time::timeout(wait, payload.next()).await {
            // Cut by the deadline, not by a stall: the loop's check answers.
            Err(_) if tokio::time::Instant::now() >= deadline => continue,
            Err(_) => {
                return Err(Problem::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body-timeout",
                    "The body stalled",
                    format!("no bytes for {} s after {size} bytes", stall.as_secs()),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(Problem::bad_request(format!("body: {e}"))),
            Ok(Some(Ok(chunk))) => chunk,
        };
        size += chunk.len() as u64;
        if size > max {
            return Err(Problem::too_large(format!(
                "the body passed {max} bytes (max_upload_bytes)"
            )));
        }
        hasher.update(&chunk);
        if head.len() < 2 {
            head.extend(chunk.iter().take(2 - head.len()));
        }
        // Writing to the page cache: short, but still off the executor's hot path in bulk.
        file.write_all(&chunk)
            .map_err(|e| Problem::internal(format!("spool: {e}")))?;
    }
    drop(file);
    if size == 0 {
        return Err(Problem::bad_request(
            "the body is empty: send the report file as the body",
        ));
    }
    // A retry is known by the report, not by how it was packed: a gzipped body (with or
    // without `Content-Encoding`) is digested, and measured, as decoded, within the limit.
    let path = spooled.0.clone();
    let limit = state.settings.max_decompressed_bytes;
    let packed = gzip || head == [0x1f, 0x8b];
    let (digest, decoded) = if packed {
        let path = path.clone();
        blocking(move || {
            let mut reader = open_spool(&path, true, limit)?;
            let mut hasher = xxhash_rust::xxh3::Xxh3::new();
            let mut buf = vec![0u8; 1 << 16];
            let mut decoded = 0u64;
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.to_string().contains("max_decompressed_bytes") => {
                        return Err(Problem::too_large(e.to_string()));
                    }
                    Err(_) => return Err(Problem::bad_request("the body is not valid gzip")),
                };
                hasher.update(&buf[..n]);
                decoded += n as u64;
            }
            Ok((format!("{:032x}", hasher.digest128()), decoded))
        })
        .await?
    } else {
        (format!("{:032x}", hasher.digest128()), size)
    };
    let upload = UploadMeta {
        shard,
        name,
        digest,
        size: decoded,
    };

    // Parse on the blocking pool: a whole report, or (test reports larger than
    // `stream_above_bytes` decoded) two passes over the spool file with the merged tests
    // stored in batches as the second pass reads them.
    let stats = state.clone();
    let report_error = move |e: cimetrics_ingest::Error| {
        Stats::add(&stats.stats.parse_errors, 1);
        if e.to_string().contains("max_decompressed_bytes") {
            Problem::too_large(e.to_string())
        } else {
            Problem::from_report(&e)
        }
    };
    // The store keeps outcomes, attempts, times and failure messages, never other texts.
    // The decoded size is bounded however the body was packed: gzip bytes sent without
    // `Content-Encoding` are unpacked by the reader, within the same limit.
    let mut options = cimetrics_ingest::Options {
        outcomes_only: true,
        ..cimetrics_ingest::Options::default()
    };
    options.limits.max_input_bytes = limit;
    options.strict = query.strict.unwrap_or(false);
    options.format = match query.format.as_deref() {
        None => None,
        Some(name) => Some(cimetrics_ingest::Format::from_name(name).ok_or_else(|| {
            Problem::bad_request(format!(
                "format {name:?} is not a format this service reads"
            ))
        })?),
    };
    let tool = query.tool.clone();
    options.limits.max_testcases = state.settings.max_tests_per_report;
    options.limits.max_attempts_per_test = state.settings.max_attempts_per_test;
    let plan = if decoded > state.settings.stream_above_bytes {
        let (path, on_error) = (path.clone(), report_error.clone());
        blocking(move || {
            cimetrics_ingest::plan_tests(open_spool(&path, gzip, limit)?, &options)
                .map_err(on_error)
        })
        .await?
    } else {
        None
    };
    let outcome = match plan {
        Some(plan) => {
            let (tx, batches) = tokio::sync::mpsc::channel(2);
            let counts = plan.counts();
            let format = plan.format();
            let warnings = plan.warnings().to_vec();
            let producer = tokio::task::spawn_blocking(move || {
                let run = || -> Result<(), String> {
                    let reader = open_spool(&path, gzip, limit).map_err(|p| p.detail.clone())?;
                    let mut merged = plan.replay(reader).map_err(|e| e.to_string())?;
                    let mut batch = Vec::with_capacity(BATCH);
                    while let Some(test) = merged.next_test().map_err(|e| e.to_string())? {
                        batch.push(test);
                        if batch.len() == BATCH
                            && tx
                                .blocking_send(Batch::Tests(std::mem::take(&mut batch)))
                                .is_err()
                        {
                            return Ok(()); // the store gave up (a conflict, a replay)
                        }
                    }
                    if !batch.is_empty() && tx.blocking_send(Batch::Tests(batch)).is_err() {
                        return Ok(());
                    }
                    let _ = tx.blocking_send(Batch::Done);
                    Ok(())
                };
                if let Err(e) = run() {
                    let _ = tx.blocking_send(Batch::Failed(e));
                }
            });
            let outcome = state
                .history
                .store()
                .ingest_from(
                    project.id,
                    &meta,
                    &upload,
                    UploadContent::TestBatches {
                        format,
                        counts,
                        warnings,
                        batches,
                    },
                )
                .await;
            let _ = producer.await;
            outcome?
        }
        None => {
            let mut report = blocking(move || {
                cimetrics_ingest::parse_with(open_spool(&path, gzip, limit)?, &options)
                    .map_err(report_error)
            })
            .await?;
            if let (Some(tool), cimetrics_ingest::Content::Issues(issues)) =
                (&tool, &mut report.content)
            {
                issues.name_tool(tool);
            }
            state
                .history
                .store()
                .ingest(project.id, &meta, &upload, &report)
                .await?
        }
    };
    drop(spooled);
    Stats::add(
        if outcome.replayed {
            &state.stats.uploads_replayed
        } else {
            &state.stats.uploads
        },
        1,
    );
    Ok(answer(&project.name, &build_id, &upload, &outcome))
}

/// What an upload answers: the report as stored.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Uploaded {
    /// The project.
    project: String,
    /// The CI's build id.
    build: String,
    /// The shard.
    shard: u32,
    /// The report's name within its shard.
    name: String,
    /// The report's digest (xxh3-128 of its decoded bytes, hex): the same however it was
    /// packed, so a retry is known by it.
    digest: String,
    /// The report's size, decoded (bytes).
    size: u64,
    /// The detected format (`junit`, `trx`, `nunit`, `xunit`, `sonarqube-tests`, `cobertura`,
    /// `jacoco`, `lcov`, `clover`, `go`, `sonarqube-coverage`, `coveragepy-json`,
    /// `istanbul-json`, `llvm-cov-json`).
    format: String,
    /// The report's tests, for a test report.
    tests: Option<TestTotals>,
    /// The report's coverage, for a coverage report.
    coverage: Option<CoverageSummary>,
    /// Things that were odd but not wrong.
    warnings: Vec<String>,
}

/// The same answer for the first upload and for its retries (status and body); a retry is
/// told apart only by the `X-Cimetrics-Replayed` header.
fn answer(project: &str, build: &str, upload: &UploadMeta, o: &UploadOutcome) -> HttpResponse {
    let s = &o.summary;
    let format = serde_json::to_value(s.format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    HttpResponse::Created()
        .insert_header((
            "x-cimetrics-replayed",
            if o.replayed { "true" } else { "false" },
        ))
        .json(Uploaded {
            project: project.to_owned(),
            build: build.to_owned(),
            shard: upload.shard,
            name: upload.name.clone(),
            digest: upload.digest.clone(),
            size: upload.size,
            format,
            tests: s.tests.as_ref().map(|t| {
                TestTotals::from_counts([
                    t.total, t.passed, t.failed, t.errored, t.skipped, t.flaky,
                ])
            }),
            coverage: s.coverage.as_ref().map(|c| {
                CoverageSummary::from_totals([
                    c.lines_valid,
                    c.lines_covered,
                    c.branches_valid,
                    c.branches_covered,
                ])
            }),
            warnings: s.warnings.clone(),
        })
}

/// `PUT .../builds/{build}`: creates or updates a build's metadata (JSON: the fields of
/// [`BuildMeta`] but `id`, with times as ms or RFC 3339).
#[utoipa::path(put, path = "/api/v1/projects/{project}/builds/{build}", tag = "write",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id")),
    request_body = UploadQuery,
    responses((status = 200, description = "The build", body = Build)))]
pub(crate) async fn put_build(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, Problem> {
    let (project_name, build_id) = path.into_inner();
    let project = auth::project(&state, &project_name).await?;
    auth::writer(&state, &req, &project).await?;
    let body: UploadQuery = super::json_body(&state, payload).await?;
    if body.shard.is_some() || body.name.is_some() {
        return Err(Problem::bad_request(
            "shard and name belong to a report upload",
        ));
    }
    let meta = body.meta(&build_id)?;
    state
        .history
        .store()
        .upsert_build(project.id, &meta)
        .await?;
    Ok(HttpResponse::Ok().json(build_of(&state, project, build_id).await?))
}

/// `POST .../builds/{build}/finalize`: the build is complete even if shards are missing.
#[utoipa::path(post, path = "/api/v1/projects/{project}/builds/{build}/finalize", tag = "write",
    params(("project" = String, Path, description = "Project name"),
        ("build" = String, Path, description = "The CI's build id")),
    responses((status = 200, description = "The build, complete", body = Build)))]
pub(crate) async fn finalize(
    state: Shared,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, Problem> {
    let (project_name, build_id) = path.into_inner();
    let project = auth::project(&state, &project_name).await?;
    auth::writer(&state, &req, &project).await?;
    state
        .history
        .store()
        .finalize(project.id, &build_id)
        .await?;
    Ok(HttpResponse::Ok().json(build_of(&state, project, build_id).await?))
}

/// A build as answered.
async fn build_of(state: &Shared, project: Project, id: String) -> Result<Build, Problem> {
    super::analytics(state, move |state| async move {
        Ok(state.history.build_of(&project, &id).await?)
    })
    .await
}
