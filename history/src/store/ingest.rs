//! One upload, stored in one transaction.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use cimetrics_ingest::{
    Content, CoverageReport, CoverageTotals, Format, IssueCounts, IssueReport, Report, Severity,
    Status, TestCase, TestCounts,
};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Row};

use super::lines::{self, Line};
use super::{Error, KnownTests, Result, Store, now_ms};

/// What an upload holds, for [`Store::ingest_from`].
pub enum UploadContent<'a> {
    /// A whole parsed report.
    Report(&'a Report),
    /// A whole parsed report, with what storing it needs worked out beforehand
    /// ([`Prepared::of`] it).
    Prepared(&'a Report, Prepared),
    /// A test report as batches of merged tests (each test once), with its counts and
    /// warnings known from a first pass.
    TestBatches {
        /// The report's format (a test format).
        format: Format,
        /// The report's counts.
        counts: TestCounts,
        /// The report's warnings.
        warnings: Vec<String>,
        /// The batches, then [`Batch::Done`].
        batches: tokio::sync::mpsc::Receiver<Batch>,
    },
}

/// What storing a report needs besides the database, worked out from the report alone:
/// its tests' identity hashes, one merged result each and their failure messages, or its
/// files' packed per-line coverage. A bulk load works it out on the threads that parse, so
/// the one writer only stores (`cimetrics import`).
pub struct Prepared {
    tests: Option<TestRows>,
    files: Option<FileRows>,
}

impl Prepared {
    /// The rows of `report` (nothing to work out for an issue report).
    pub fn of(report: &Report) -> Prepared {
        match &report.content {
            Content::Tests(tests) => Prepared {
                tests: Some(test_rows(&tests.tests)),
                files: None,
            },
            Content::Coverage(coverage) => Prepared {
                tests: None,
                files: Some(file_rows(coverage)),
            },
            Content::Issues(_) => Prepared {
                tests: None,
                files: None,
            },
        }
    }
}

/// One message of a streamed test report.
#[derive(Debug)]
pub enum Batch {
    /// Merged tests.
    Tests(Vec<TestCase>),
    /// The last batch was sent.
    Done,
    /// Reading failed (nothing is stored).
    Failed(String),
}

/// What a CI job says about its build. Fields left `None` keep what is stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildMeta {
    /// The CI's own build id, unique per project.
    pub id: String,
    /// The CI's build number.
    pub number: Option<i64>,
    /// Commit SHA.
    pub commit: Option<String>,
    /// Branch.
    pub branch: Option<String>,
    /// `passed`, `failed` or `cancelled`; when absent, derived from the tests at completion
    /// (failed if any test failed or errored).
    pub status: Option<String>,
    /// Start, ms since the epoch.
    pub started_at: Option<i64>,
    /// End, ms since the epoch; when absent, the time the build completed here.
    pub finished_at: Option<i64>,
    /// Wall time, ms; when absent, `finished_at - started_at` if both are known.
    pub duration_ms: Option<i64>,
    /// `github`, `gitlab`, `jenkins`, ...
    pub ci_provider: Option<String>,
    /// Link to the build.
    pub ci_url: Option<String>,
    /// How many shards the build uploads (1 when absent).
    pub shards: Option<u32>,
    /// The CI says the build is over: it finishes now (with or without all its shards).
    #[serde(default)]
    pub finish: bool,
    /// The lines of code the build's code-quality ratings count (else its coverage's).
    #[serde(default)]
    pub loc: Option<u64>,
}

/// The earliest time a build may carry: 1970-01-01T00:00:00Z.
pub const EARLIEST_MS: i64 = 0;
/// The time no build may reach: 2100-01-01T00:00:00Z.
pub const LATEST_MS: i64 = 4_102_444_800_000;

impl BuildMeta {
    /// Refuses what no real build has: an empty id, 0 shards, a time outside 1970–2100, a
    /// negative duration or one over a hundred years.
    ///
    /// # Errors
    /// [`Error::Invalid`], naming the field.
    pub fn check(&self) -> Result<()> {
        if self.id.trim().is_empty() {
            return Err(Error::Invalid("a build needs an id".into()));
        }
        let fields = [
            ("build id", Some(self.id.as_str()), 255),
            ("commit", self.commit.as_deref(), 255),
            ("branch", self.branch.as_deref(), 255),
            ("ci_provider", self.ci_provider.as_deref(), 64),
            ("ci_url", self.ci_url.as_deref(), 2048),
        ];
        for (name, value, max) in fields {
            if let Some(v) = value {
                identifier(name, v, max)?;
            }
        }
        if let Some(0) = self.shards {
            return Err(Error::Invalid("a build has at least 1 shard".into()));
        }
        for (name, t) in [
            ("started_at", self.started_at),
            ("finished_at", self.finished_at),
        ] {
            if let Some(t) = t
                && !(EARLIEST_MS..LATEST_MS).contains(&t)
            {
                return Err(Error::Invalid(format!(
                    "{name}: {t} ms is not a time between 1970 and 2100"
                )));
            }
        }
        if let Some(d) = self.duration_ms
            && !(0..=100 * 366 * 86_400_000).contains(&d)
        {
            return Err(Error::Invalid(format!(
                "duration: {d} ms is not between 0 and a hundred years"
            )));
        }
        Ok(())
    }
}

/// Refuses an identifier longer than `max` bytes or holding a control character other than
/// a tab.
///
/// # Errors
/// [`Error::Invalid`], naming the field.
pub fn identifier(name: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(Error::Invalid(format!(
            "{name}: {} bytes, at most {max}",
            value.len()
        )));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(Error::Invalid(format!(
            "{name}: control characters are not allowed"
        )));
    }
    Ok(())
}

/// Which report of the build this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadMeta {
    /// 1-based shard number.
    pub shard: u32,
    /// The report's name within the shard (its file name); a shard may send several reports.
    pub name: String,
    /// Content digest ([`digest`] of the bytes as received).
    pub digest: String,
    /// Size in bytes as received.
    pub size: u64,
}

/// The digest that identifies an upload's content: xxh3-128 of the bytes, in hex.
pub fn digest(bytes: &[u8]) -> String {
    format!("{:032x}", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// What an upload held, as answered to the client (and answered again on a retry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadSummary {
    /// Detected format.
    pub format: Format,
    /// Test counts, for test reports.
    pub tests: Option<TestCounts>,
    /// Coverage totals, for coverage reports.
    pub coverage: Option<CoverageTotals>,
    /// Issue counts, for code-quality reports.
    #[serde(default)]
    pub issues: Option<IssueCounts>,
    /// Parser warnings.
    pub warnings: Vec<String>,
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOutcome {
    /// The stored build.
    pub build_id: i64,
    /// The stored upload.
    pub upload_id: i64,
    /// True when this exact upload had been stored before and nothing changed.
    pub replayed: bool,
    /// True when the build has finished (its metrics count).
    pub complete: bool,
    /// What the report held.
    pub summary: UploadSummary,
}

/// Status codes in `test_results.status`.
pub(crate) const PASSED: i64 = 0;
pub(crate) const FAILED: i64 = 1;
pub(crate) const ERRORED: i64 = 2;
pub(crate) const SKIPPED: i64 = 3;

fn status_code(s: Status) -> i64 {
    match s {
        Status::Passed => PASSED,
        Status::Failed => FAILED,
        Status::Errored => ERRORED,
        Status::Skipped => SKIPPED,
    }
}

/// One test's result in a build: (status code, flaky, attempts, duration µs).
type Merged = (i64, bool, i64, Option<i64>);

/// Rows per multi-row statement (well under both backends' bind limits).
const CHUNK: usize = 500;

/// `($1, $2, ...), (...)` for `rows` rows of `width` values, numbered from `first`; on
/// SQLite `(?, ?, ...)` (the binds come in the same order). sqlx names each SQLite
/// parameter by asking SQLite for its name, a linear search over the statement's named
/// parameters: with `$N` a 3,500-parameter insert costs millions of steps (it was 77% of an
/// import's time); anonymous `?` parameters have no name to search.
fn values(sqlite: bool, rows: usize, width: usize, first: usize) -> String {
    let mut s = String::with_capacity(rows * (width * 6 + 4));
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ", (" });
        push_placeholders(&mut s, sqlite, width, first + r * width);
        s.push(')');
    }
    s
}

/// `$first, $first+1, ...` (`?, ?, ...` on SQLite): `count` parameters, appended to `s`.
fn push_placeholders(s: &mut String, sqlite: bool, count: usize, first: usize) {
    use std::fmt::Write;
    for i in 0..count {
        if i > 0 {
            s.push_str(", ");
        }
        if sqlite {
            s.push('?');
        } else {
            // Writing to a String cannot fail.
            let _ = write!(s, "${}", first + i);
        }
    }
}

/// Whether a connection talks to SQLite (see [`values`]).
pub(super) fn is_sqlite(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("sqlite")
}

/// One test as stored: identity hash and the columns of `tests`.
struct TestKey {
    hash: i64,
    suite: String,
    classname: String,
    name: String,
    file: String,
    base_name: String,
    params: Option<String>,
}

/// The identity hash under which a test is stored (xxh3-64 of suite, classname, name with
/// its invocation number, and file, each followed by a 0xff byte). Hashed piece by piece,
/// without building the texts: an import hashes every result it stores.
pub fn test_key_hash(case: &TestCase) -> i64 {
    let id = &case.id;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(id.suite.as_bytes());
    h.update(&[0xff]);
    h.update(id.classname.as_deref().unwrap_or_default().as_bytes());
    h.update(&[0xff]);
    h.update(id.name.as_bytes());
    if id.invocation > 0 {
        h.update(format!(" #{}", id.invocation + 1).as_bytes());
    }
    h.update(&[0xff]);
    h.update(id.file.as_deref().unwrap_or_default().as_bytes());
    h.update(&[0xff]);
    h.digest() as i64
}

/// The columns of `tests` for a test not stored yet.
fn test_key(case: &TestCase, hash: i64) -> TestKey {
    let id = &case.id;
    let name = if id.invocation > 0 {
        format!("{} #{}", id.name, id.invocation + 1)
    } else {
        id.name.clone()
    };
    let (base, params) = id.split_parameters();
    // The identity is hashed whole; what is kept to show is cut to NAME_BYTES.
    TestKey {
        hash,
        suite: cut(&id.suite),
        classname: cut(id.classname.as_deref().unwrap_or_default()),
        name: cut(&name),
        file: cut(id.file.as_deref().unwrap_or_default()),
        base_name: cut(base),
        params: params.map(cut),
    }
}

/// How much of a test's suite, class name, name or file is kept (the identity hash covers
/// it all).
pub const NAME_BYTES: usize = 2048;

fn cut(text: &str) -> String {
    cut_to(text, NAME_BYTES)
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut_to(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Whether any of a test's names is longer than what is kept.
fn too_long(case: &TestCase) -> bool {
    let id = &case.id;
    [
        Some(&*id.suite),
        id.classname.as_deref(),
        Some(id.name.as_str()),
        id.file.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|t| t.len() > NAME_BYTES)
}

impl Store {
    /// Stores one parsed report as an upload of a build of a project, in one transaction:
    /// creates or updates the build with `build`'s metadata, refuses a conflicting upload,
    /// answers a repeated one as before, merges tests and coverage into the build, and marks
    /// the build complete when all its shards are in.
    ///
    /// # Errors
    /// [`Error::Conflict`] for another report under the same (build, shard, name), or a shard
    /// beyond a complete build's count; [`Error::Invalid`] for shard 0 or an empty build id;
    /// the database failing. Nothing is stored on any error.
    pub async fn ingest(
        &self,
        project_id: i64,
        build: &BuildMeta,
        upload: &UploadMeta,
        report: &Report,
    ) -> Result<UploadOutcome> {
        self.ingest_from(project_id, build, upload, UploadContent::Report(report))
            .await
    }

    /// [`Store::ingest`] from either a whole report or a stream of merged test batches (a
    /// report too large to hold: see `cimetrics_ingest::plan_tests`). The batches are stored
    /// inside the upload's one transaction as they arrive; an `Err` batch, or a sender that
    /// goes away before its last batch (`complete` false), stores nothing.
    ///
    /// # Errors
    /// As [`Store::ingest`], and [`Error::Invalid`] for a failed batch.
    pub async fn ingest_from(
        &self,
        project_id: i64,
        build: &BuildMeta,
        upload: &UploadMeta,
        content: UploadContent<'_>,
    ) -> Result<UploadOutcome> {
        build.check()?;
        identifier("report name", &upload.name, 255)?;
        if upload.shard == 0 {
            return Err(Error::Invalid("shards are numbered from 1".into()));
        }
        let mut summary = match &content {
            UploadContent::Report(report) | UploadContent::Prepared(report, _) => UploadSummary {
                format: report.format,
                tests: match &report.content {
                    Content::Tests(t) => Some(t.counts),
                    _ => None,
                },
                coverage: match &report.content {
                    Content::Coverage(c) => Some(c.totals),
                    _ => None,
                },
                issues: match &report.content {
                    Content::Issues(i) => Some(i.counts.clone()),
                    _ => None,
                },
                warnings: report.warnings.clone(),
            },
            UploadContent::TestBatches {
                format,
                counts,
                warnings,
                ..
            } => UploadSummary {
                format: *format,
                tests: Some(*counts),
                coverage: None,
                issues: None,
                warnings: warnings.clone(),
            },
        };
        // Worked out before taking the writer's lock.
        let (whole, batches) = match content {
            UploadContent::Report(report) => (Some((report, Prepared::of(report))), None),
            UploadContent::Prepared(report, prepared) => (Some((report, prepared)), None),
            UploadContent::TestBatches { batches, .. } => (None, Some(batches)),
        };
        let _guard = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        let (build_id, complete, expected) = upsert_build(&mut tx, project_id, build).await?;
        if i64::from(upload.shard) > expected {
            return Err(Error::Invalid(format!(
                "shard {} of a build of {expected} shards",
                upload.shard
            )));
        }

        // Seen before? Same digest: answer as before. Same place, other content: conflict.
        let previous = sqlx::query(
            "SELECT id, digest, summary, shard, name FROM uploads WHERE build_id = $1 \
             AND ((shard = $2 AND name = $3) OR digest = $4) ORDER BY id",
        )
        .bind(build_id)
        .bind(i64::from(upload.shard))
        .bind(upload.name.as_str())
        .bind(upload.digest.as_str())
        .fetch_all(&mut *tx)
        .await?;
        for row in &previous {
            let digest: String = row.try_get(1)?;
            if digest == upload.digest {
                let summary_json: String = row.try_get(2)?;
                let stored = serde_json::from_str(&summary_json).unwrap_or(summary.clone());
                tx.rollback().await?;
                return Ok(UploadOutcome {
                    build_id,
                    upload_id: row.try_get(0)?,
                    replayed: true,
                    complete,
                    summary: stored,
                });
            }
        }
        if !previous.is_empty() {
            return Err(Error::Conflict(format!(
                "shard {} of build {:?} already has a different report named {:?}",
                upload.shard, build.id, upload.name
            )));
        }
        if complete {
            summary.warnings.push(format!(
                "build {:?} had finished; this report was added to it and the build recomputed",
                build.id
            ));
        }

        if let Some((report, prepared)) = whole {
            match &report.content {
                Content::Tests(tests) => {
                    let long = tests.tests.iter().filter(|t| too_long(t)).count();
                    if long > 0 {
                        summary.warnings.push(format!(
                            "{long} test(s) with a name, class name, suite or file over \
                             {NAME_BYTES} bytes: kept cut to that (their identity stays whole)"
                        ));
                    }
                    let rows = prepared.tests.unwrap_or_else(|| test_rows(&tests.tests));
                    let known = self.test_ids.as_deref();
                    store_tests(&mut tx, project_id, build_id, &tests.tests, rows, known).await?;
                }
                Content::Coverage(coverage) => {
                    let files = prepared.files.unwrap_or_else(|| file_rows(coverage));
                    store_coverage(&mut tx, build_id, coverage, files).await?;
                }
                Content::Issues(issues) => store_issues(&mut tx, build_id, issues).await?,
            }
        }
        if let Some(mut batches) = batches {
            let mut finished = false;
            while let Some(batch) = batches.recv().await {
                match batch {
                    Batch::Tests(tests) => {
                        let rows = test_rows(&tests);
                        // No ids kept: a later batch reads back tests an earlier one inserted
                        // in this transaction.
                        store_tests(&mut tx, project_id, build_id, &tests, rows, None).await?;
                    }
                    Batch::Done => {
                        finished = true;
                        break;
                    }
                    Batch::Failed(e) => return Err(Error::Invalid(e)),
                }
            }
            if !finished {
                return Err(Error::Invalid("the report's stream ended early".into()));
            }
        }

        let summary_json = serde_json::to_string(&summary).unwrap_or_else(|_| "{}".into());
        let upload_id: i64 = sqlx::query_scalar(
            "INSERT INTO uploads (build_id, shard, name, format, digest, size, received_at, summary) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(build_id)
        .bind(i64::from(upload.shard))
        .bind(upload.name.as_str())
        .bind(summary.format.name())
        .bind(upload.digest.as_str())
        .bind(i64::try_from(upload.size).unwrap_or(i64::MAX))
        .bind(now_ms())
        .bind(summary_json)
        .fetch_one(&mut *tx)
        .await?;

        let shards: i64 =
            sqlx::query_scalar("SELECT COUNT(DISTINCT shard) FROM uploads WHERE build_id = $1")
                .bind(build_id)
                .fetch_one(&mut *tx)
                .await?;
        // Finished before (recomputed now), told to finish, or all shards in with no wait.
        let complete = complete || build.finish || (shards >= expected && self.close_after_ms == 0);
        // A running build's totals show as its reports arrive; a bulk load's builds are
        // totalled once, when they finish (`Store::finish`).
        if complete || !self.bulk_load {
            refresh_totals(&mut tx, build_id).await?;
        }
        if complete {
            mark_complete(&mut tx, build_id).await?;
        }
        tx.commit().await?;
        Ok(UploadOutcome {
            build_id,
            upload_id,
            replayed: false,
            complete,
            summary,
        })
    }

    /// Creates or updates a build with its metadata and finishes it (the CI said it is over),
    /// unless it had finished already and nothing changed since (so a re-run of an import
    /// bumps no history version). Returns its id.
    ///
    /// # Errors
    /// An empty build id, or the database fails.
    pub async fn finish(&self, project_id: i64, build: &BuildMeta) -> Result<i64> {
        build.check()?;
        let _guard = self.write_lock().await;
        let mut tx = self.begin_write().await?;
        let was: Option<i64> = sqlx::query_scalar(
            "SELECT complete FROM builds WHERE project_id = $1 AND ci_build_id = $2",
        )
        .bind(project_id)
        .bind(build.id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let (id, _, _) = upsert_build(&mut tx, project_id, build).await?;
        if was != Some(1) {
            refresh_totals(&mut tx, id).await?;
            mark_complete(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Finishes the project's builds that have all their shards and have had no report for
    /// `build_close_after` (see [`Store::with_build_close_after`]); returns how many. Cheap
    /// when there are none (one read of the open builds).
    ///
    /// # Errors
    /// The database fails.
    pub async fn close_idle_builds(&self, project_id: i64) -> Result<u64> {
        let idle_since = now_ms().saturating_sub(self.close_after_ms);
        let find = "SELECT b.id FROM builds b WHERE b.project_id = $1 AND b.complete = 0 \
             AND (SELECT COUNT(DISTINCT u.shard) FROM uploads u WHERE u.build_id = b.id) \
                 >= b.expected_shards \
             AND (SELECT MAX(u.received_at) FROM uploads u WHERE u.build_id = b.id) <= $2";
        let open: Vec<i64> = sqlx::query_scalar(find)
            .bind(project_id)
            .bind(idle_since)
            .fetch_all(&self.pool)
            .await?;
        if open.is_empty() {
            return Ok(0);
        }
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        // Read again under the lock: another writer may have finished or extended them.
        let open: Vec<i64> = sqlx::query_scalar(find)
            .bind(project_id)
            .bind(idle_since)
            .fetch_all(&mut *tx)
            .await?;
        for &id in &open {
            refresh_totals(&mut tx, id).await?;
            mark_complete(&mut tx, id).await?;
        }
        tx.commit().await?;
        Ok(open.len() as u64)
    }

    /// Marks a build complete even if shards are missing (CI said it is done).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the database failing.
    pub async fn finalize(&self, project_id: i64, ci_build_id: &str) -> Result<i64> {
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM builds WHERE project_id = $1 AND ci_build_id = $2")
                .bind(project_id)
                .bind(ci_build_id)
                .fetch_optional(&mut *tx)
                .await?;
        let id = id.ok_or_else(|| Error::NotFound(format!("build {ci_build_id:?}")))?;
        refresh_totals(&mut tx, id).await?;
        mark_complete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(id)
    }
}

impl Store {
    /// Creates a build or updates its metadata (fields left `None` keep what is stored), as
    /// a CI job does before or after its uploads. A status or `finish` finishes the build
    /// (the CI said so). A complete build that changes takes a new history sequence number,
    /// so every reader sees the change.
    ///
    /// # Errors
    /// An empty build id, or the database fails.
    pub async fn upsert_build(&self, project_id: i64, build: &BuildMeta) -> Result<i64> {
        build.check()?;
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        let (id, complete, _) = upsert_build(&mut tx, project_id, build).await?;
        if !complete && (build.finish || build.status.is_some()) {
            refresh_totals(&mut tx, id).await?;
            mark_complete(&mut tx, id).await?;
        } else if complete {
            let seq = next_history_seq(&mut tx, id).await?;
            sqlx::query("UPDATE builds SET history_seq = $2 WHERE id = $1")
                .bind(id)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// Creates or updates the build; returns (id, complete, expected shards).
async fn upsert_build(
    tx: &mut AnyConnection,
    project_id: i64,
    b: &BuildMeta,
) -> Result<(i64, bool, i64)> {
    let duration = b.duration_ms.or_else(|| {
        b.finished_at
            .zip(b.started_at)
            .map(|(f, s)| f.saturating_sub(s).max(0))
    });
    let row = sqlx::query(
        "INSERT INTO builds (project_id, ci_build_id, number, commit_sha, branch, status, \
         started_at, finished_at, duration_ms, ci_provider, ci_url, expected_shards, created_at, \
         status_source, loc) \
         VALUES ($1, $2, $3, COALESCE($4, ''), COALESCE($5, ''), $6, $7, $8, $9, $10, $11, \
         COALESCE($12, 1), $13, CASE WHEN $6 IS NULL THEN NULL ELSE 'ci' END, $14) \
         ON CONFLICT (project_id, ci_build_id) DO UPDATE SET \
         number = COALESCE($3, builds.number), \
         commit_sha = COALESCE($4, builds.commit_sha), \
         branch = COALESCE($5, builds.branch), \
         status = COALESCE($6, builds.status), \
         status_source = CASE WHEN $6 IS NULL THEN builds.status_source ELSE 'ci' END, \
         started_at = COALESCE($7, builds.started_at), \
         finished_at = COALESCE($8, builds.finished_at), \
         duration_ms = COALESCE($9, builds.duration_ms, \
             CASE WHEN COALESCE($8, builds.finished_at) >= COALESCE($7, builds.started_at) \
             THEN COALESCE($8, builds.finished_at) - COALESCE($7, builds.started_at) END), \
         ci_provider = COALESCE($10, builds.ci_provider), \
         ci_url = COALESCE($11, builds.ci_url), \
         expected_shards = COALESCE($12, builds.expected_shards), \
         loc = COALESCE($14, builds.loc) \
         RETURNING id, complete, expected_shards",
    )
    .bind(project_id)
    .bind(b.id.as_str())
    .bind(b.number)
    .bind(b.commit.as_deref())
    .bind(b.branch.as_deref())
    .bind(b.status.as_deref())
    .bind(b.started_at)
    .bind(b.finished_at)
    .bind(duration)
    .bind(b.ci_provider.as_deref())
    .bind(b.ci_url.as_deref())
    .bind(b.shards.map(i64::from))
    .bind(now_ms())
    .bind(b.loc.map(|l| i64::try_from(l).unwrap_or(i64::MAX)))
    .fetch_one(&mut *tx)
    .await?;
    Ok((
        row.try_get(0)?,
        row.try_get::<i64, _>(1)? != 0,
        row.try_get(2)?,
    ))
}

fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    values: Vec<Bind>,
) -> Query<'q, Any, AnyArguments> {
    for v in values {
        q = match v {
            Bind::I(i) => q.bind(i),
            Bind::OptI(i) => q.bind(i),
            Bind::S(s) => q.bind(s),
            Bind::OptS(s) => q.bind(s),
            Bind::B(b) => q.bind(b),
        };
    }
    q
}

enum Bind {
    I(i64),
    OptI(Option<i64>),
    S(String),
    OptS(Option<String>),
    B(Option<Vec<u8>>),
}

/// A report's tests as stored: one row per identity, and the failure messages.
struct TestRows {
    /// (identity hash, index of its first case, merged result), by hash (a stable order
    /// keeps concurrent shards from deadlocking on PostgreSQL).
    rows: Vec<(i64, usize, Merged)>,
    /// (identity hash, failure message): the first failing case's of each identity, by hash.
    messages: Vec<(i64, String)>,
}

/// One row per identity (a hash collision inside one report merges like shards do).
fn test_rows(tests: &[TestCase]) -> TestRows {
    let mut by_hash: HashMap<i64, (usize, Merged)> = HashMap::with_capacity(tests.len());
    let mut messages: Vec<(i64, String)> = Vec::new();
    for (i, case) in tests.iter().enumerate() {
        let result = (
            status_code(case.outcome.status()),
            case.outcome.is_flaky(),
            i64::from(case.attempts),
            case.duration_seconds.map(|s| (s * 1e6).round() as i64),
        );
        let hash = test_key_hash(case);
        match by_hash.entry(hash) {
            Entry::Occupied(mut e) => e.get_mut().1 = merge_results(e.get().1, result),
            Entry::Vacant(e) => {
                e.insert((i, result));
            }
        }
        if let Some(message) = failure_message(&case.outcome) {
            messages.push((hash, message));
        }
    }
    let mut rows: Vec<(i64, usize, Merged)> = by_hash
        .into_iter()
        .map(|(hash, (case, merged))| (hash, case, merged))
        .collect();
    rows.sort_by_key(|(hash, _, _)| *hash);
    // Stable: the first message of an identity stays.
    messages.sort_by_key(|(hash, _)| *hash);
    messages.dedup_by_key(|(hash, _)| *hash);
    TestRows { rows, messages }
}

async fn store_tests(
    tx: &mut AnyConnection,
    project_id: i64,
    build_id: i64,
    tests: &[TestCase],
    TestRows { rows, messages }: TestRows,
    known: Option<&KnownTests>,
) -> Result<()> {
    let sqlite = is_sqlite(tx);

    // Known tests first (in steady state, all of them): only new identities are inserted,
    // with their texts, which spares binding four strings per result. Ids already `known`
    // are not looked up again.
    let mut ids: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
    let mut hashes: Vec<i64> = Vec::with_capacity(rows.len());
    {
        let known = known.and_then(|k| k.lock().ok());
        for (hash, _, _) in &rows {
            match known.as_ref().and_then(|k| k.get(&(project_id, *hash))) {
                Some(&id) => {
                    ids.insert(*hash, id);
                }
                None => hashes.push(*hash),
            }
        }
    }
    select_test_ids(tx, sqlite, project_id, &hashes, &mut ids).await?;
    // Read before this transaction inserts any test: these are committed rows.
    if let Some(mut known) = known.and_then(|k| k.lock().ok()) {
        for hash in &hashes {
            if let Some(&id) = ids.get(hash) {
                known.insert((project_id, *hash), id);
            }
        }
    }
    let missing: Vec<TestKey> = rows
        .iter()
        .filter(|(hash, _, _)| !ids.contains_key(hash))
        .map(|&(hash, case, _)| test_key(&tests[case], hash))
        .collect();
    for chunk in missing.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO tests (project_id, key_hash, suite, classname, name, file, base_name, params) \
             VALUES {} ON CONFLICT (project_id, key_hash) DO NOTHING",
            values(sqlite, chunk.len(), 8, 1)
        );
        let mut binds = Vec::with_capacity(chunk.len() * 8);
        for k in chunk {
            binds.extend([
                Bind::I(project_id),
                Bind::I(k.hash),
                Bind::S(k.suite.clone()),
                Bind::S(k.classname.clone()),
                Bind::S(k.name.clone()),
                Bind::S(k.file.clone()),
                Bind::S(k.base_name.clone()),
                Bind::OptS(k.params.clone()),
            ]);
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .execute(&mut *tx)
            .await?;
        let hashes: Vec<i64> = chunk.iter().map(|k| k.hash).collect();
        select_test_ids(tx, sqlite, project_id, &hashes, &mut ids).await?;
    }

    // Merge into the build's results: skip < anything; a pass beside a failure is a flaky
    // pass; otherwise the worse of the two (errored > failed); attempts and times add up.
    let merge_sql = format!(
        "ON CONFLICT (build_id, test_id) DO UPDATE SET \
         status = CASE WHEN test_results.status = {S} THEN excluded.status \
                       WHEN excluded.status = {S} THEN test_results.status \
                       WHEN test_results.status = {P} OR excluded.status = {P} THEN {P} \
                       WHEN test_results.status > excluded.status THEN test_results.status \
                       ELSE excluded.status END, \
         flaky = CASE WHEN test_results.status <> {S} AND excluded.status <> {S} \
                       AND (test_results.status = {P}) <> (excluded.status = {P}) THEN 1 \
                      WHEN test_results.flaky = 1 OR excluded.flaky = 1 THEN 1 ELSE 0 END, \
         attempts = test_results.attempts + excluded.attempts, \
         duration_us = CASE WHEN test_results.duration_us IS NULL THEN excluded.duration_us \
                            WHEN excluded.duration_us IS NULL THEN test_results.duration_us \
                            ELSE test_results.duration_us + excluded.duration_us END",
        S = SKIPPED,
        P = PASSED
    );
    // The failure messages (the first report's, when shards both fail a test).
    let mut messages: Vec<(i64, String)> = messages
        .into_iter()
        .filter_map(|(hash, message)| Some((*ids.get(&hash)?, message)))
        .collect();
    for chunk in messages.chunks_mut(CHUNK) {
        let sql = format!(
            "INSERT INTO test_messages (build_id, test_id, message) VALUES {} \
             ON CONFLICT (build_id, test_id) DO NOTHING",
            values(sqlite, chunk.len(), 3, 1)
        );
        let mut binds = Vec::with_capacity(chunk.len() * 3);
        for (test_id, message) in chunk {
            binds.extend([
                Bind::I(build_id),
                Bind::I(*test_id),
                Bind::S(std::mem::take(message)),
            ]);
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .execute(&mut *tx)
            .await?;
    }

    // Each result under its test's id.
    let mut results: Vec<(i64, Merged)> = Vec::with_capacity(rows.len());
    for (hash, case, merged) in &rows {
        let Some(&test_id) = ids.get(hash) else {
            let name = &tests[*case].id.name;
            return Err(Error::Invalid(format!("test {name:?} was not stored")));
        };
        results.push((test_id, *merged));
    }
    if results.is_empty() {
        return Ok(());
    }
    if !sqlite {
        // PostgreSQL: every result in one statement, as three arrays the server unnests,
        // instead of six parameters a result that the driver encodes and the server plans
        // one by one. Status, flaky and attempts travel as one code, `status + 4 flaky +
        // 8 attempts` as in the packs (`packs.rs`): the server's array parsing was a tenth
        // of its time in an import, by the item.
        let mut columns: [ArrayText; 3] = std::array::from_fn(|_| ArrayText::new());
        for (test_id, (status, flaky, attempts, duration)) in &results {
            let [t, c, d] = &mut columns;
            t.number(test_id);
            c.number(status + 4 * i64::from(*flaky) + 8 * attempts);
            match duration {
                Some(us) => d.number(us),
                None => d.null(),
            }
        }
        let columns = columns.map(ArrayText::finish);
        let insert = "INSERT INTO test_results (build_id, test_id, status, flaky, attempts, \
             duration_us) \
             SELECT $1, t, c & 3, (c >> 2) & 1, c >> 3, d FROM unnest($2::text::bigint[], \
             $3::text::bigint[], $4::text::bigint[]) AS u(t, c, d)";
        let run = |sql: String| {
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(build_id);
            for column in &columns {
                query = query.bind(column.as_str());
            }
            query
        };
        // A plain INSERT first: shards run different tests, so a build's reports rarely
        // share one, and speculative insertion (`ON CONFLICT`) cost PostgreSQL a third of
        // the insert in psql (500 rows: 3.5–4.2 ms against 2.3 ms). A shared test makes it
        // fail whole, and the merge runs instead.
        sqlx::raw_sql("SAVEPOINT results").execute(&mut *tx).await?;
        match run(insert.to_owned()).execute(&mut *tx).await {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT results")
                    .execute(&mut *tx)
                    .await?;
                run(format!("{insert} {merge_sql}"))
                    .execute(&mut *tx)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        return Ok(());
    }
    for chunk in results.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO test_results (build_id, test_id, status, flaky, attempts, duration_us) \
             VALUES {} {merge_sql}",
            values(sqlite, chunk.len(), 6, 1)
        );
        let mut binds = Vec::with_capacity(chunk.len() * 6);
        for &(test_id, (status, flaky, attempts, duration)) in chunk {
            binds.extend([
                Bind::I(build_id),
                Bind::I(test_id),
                Bind::I(status),
                Bind::I(i64::from(flaky)),
                Bind::I(attempts),
                Bind::OptI(duration),
            ]);
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// How much of a failure's message is kept.
pub const MESSAGE_BYTES: usize = 4096;

/// A failed or errored test's message: its last failure's `message` (else the first line of
/// its text), cut to [`MESSAGE_BYTES`] on a character boundary.
fn failure_message(outcome: &cimetrics_ingest::Outcome) -> Option<String> {
    use cimetrics_ingest::Outcome;
    let failures = match outcome {
        Outcome::Failed { failures } | Outcome::Errored { failures } => failures,
        _ => return None,
    };
    let last = failures.last()?;
    let text = last
        .message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            last.details
                .as_deref()
                .and_then(|d| d.lines().find(|l| !l.trim().is_empty()))
        })?
        .trim();
    let mut end = text.len().min(MESSAGE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(text[..end].to_owned())
}

/// Adds the ids of the stored tests among `hashes` to `ids`: in one statement, the hashes
/// given as one JSON array and the ids coming back as one `hash:id,...` text (a row per test
/// would cross from the database's thread one at a time).
async fn select_test_ids(
    tx: &mut AnyConnection,
    sqlite: bool,
    project_id: i64,
    hashes: &[i64],
    ids: &mut HashMap<i64, i64>,
) -> Result<()> {
    if hashes.is_empty() {
        return Ok(());
    }
    let sql = if sqlite {
        "SELECT group_concat(key_hash || ':' || id) FROM tests \
         WHERE project_id = ? AND key_hash IN (SELECT value FROM json_each(?))"
    } else {
        "SELECT string_agg(key_hash::text || ':' || id::text, ',') FROM tests \
         WHERE project_id = $1 AND key_hash IN (SELECT json_array_elements_text($2::json)::bigint)"
    };
    let packed: Option<String> = sqlx::query_scalar(sql)
        .bind(project_id)
        // A list of integers always serialises.
        .bind(serde_json::to_string(hashes).unwrap_or_default())
        .fetch_one(&mut *tx)
        .await?;
    for pair in packed
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let parsed = pair
            .split_once(':')
            .and_then(|(h, id)| Some((h.parse().ok()?, id.parse().ok()?)));
        let Some((hash, id)) = parsed else {
            return Err(Error::Invalid(format!(
                "a test id pair {pair:?} does not read"
            )));
        };
        ids.insert(hash, id);
    }
    Ok(())
}

/// The same merge as the SQL above, for two results of one identity inside one report.
fn merge_results(a: Merged, b: Merged) -> Merged {
    let (status, flaky) = if a.0 == SKIPPED {
        (b.0, b.1)
    } else if b.0 == SKIPPED {
        (a.0, a.1)
    } else if (a.0 == PASSED) != (b.0 == PASSED) {
        (PASSED, true)
    } else {
        (a.0.max(b.0), a.1 || b.1)
    };
    let duration = match (a.3, b.3) {
        (Some(x), Some(y)) => Some(x + y),
        (x, y) => x.or(y),
    };
    (status, flaky, a.2 + b.2, duration)
}

/// A coverage report's files as stored when no earlier shard covered them: (packed lines,
/// declared totals), by file.
type FileRows = Vec<(Option<Vec<u8>>, [i64; 4])>;

fn file_rows(report: &CoverageReport) -> FileRows {
    report
        .files
        .iter()
        .map(|file| {
            let t = file.totals();
            let declared = [
                t.lines_valid,
                t.lines_covered,
                t.branches_valid,
                t.branches_covered,
            ]
            .map(|v| i64::try_from(v).unwrap_or(i64::MAX));
            let lines =
                (!file.lines.is_empty()).then(|| lines::encode(file.lines.iter().map(Line::from)));
            (lines, declared)
        })
        .collect()
}

/// How a file row that an earlier report of the build stored is replaced (its lines are
/// already merged with the new report's).
macro_rules! coverage_on_conflict {
    () => {
        "ON CONFLICT (build_id, path) DO UPDATE SET lines_valid = excluded.lines_valid, \
         lines_covered = excluded.lines_covered, branches_valid = excluded.branches_valid, \
         branches_covered = excluded.branches_covered, lines = excluded.lines"
    };
}

async fn store_coverage(
    tx: &mut AnyConnection,
    build_id: i64,
    report: &CoverageReport,
    mut files: FileRows,
) -> Result<()> {
    let sqlite = is_sqlite(tx);
    // What earlier shards stored for the files of this report.
    let mut stored: HashMap<String, (Option<Vec<Line>>, [i64; 4])> = HashMap::new();
    for row in sqlx::query(
        "SELECT path, lines, lines_valid, lines_covered, branches_valid, branches_covered \
         FROM coverage_files WHERE build_id = $1",
    )
    .bind(build_id)
    .fetch_all(&mut *tx)
    .await?
    {
        let blob: Option<Vec<u8>> = row.try_get(1)?;
        stored.insert(
            row.try_get(0)?,
            (
                blob.and_then(|b| lines::decode(&b)),
                [
                    row.try_get(2)?,
                    row.try_get(3)?,
                    row.try_get(4)?,
                    row.try_get(5)?,
                ],
            ),
        );
    }
    // Each file's row becomes what is stored: merged with an earlier shard's, or as is.
    for (file, (lines, totals)) in report.files.iter().zip(files.iter_mut()) {
        match stored.get(&file.path) {
            Some((Some(theirs), _)) if !file.lines.is_empty() || !theirs.is_empty() => {
                let mine: Vec<Line> = file.lines.iter().map(Line::from).collect();
                let merged = lines::merge(theirs, &mine);
                let t = lines::totals(&merged);
                *lines = Some(lines::encode(merged.into_iter()));
                *totals = [t.0, t.1, t.2, t.3].map(|v| v as i64);
            }
            // Declared totals only (no per-line data) on either side: the larger of each.
            Some((_, theirs)) => {
                *lines = None;
                *totals = std::array::from_fn(|i| theirs[i].max(totals[i]));
            }
            None => {}
        }
    }
    if !sqlite {
        // No file of this report stored yet (the common case: one coverage report a build):
        // nothing can conflict, since the build's row, locked since `upsert_build`, keeps
        // other writers of this build waiting.
        let upsert = report.files.iter().any(|f| stored.contains_key(&f.path));
        return store_files_postgres(tx, build_id, report, files, upsert).await;
    }
    for (paths, rows) in report
        .files
        .chunks(CHUNK / 2)
        .zip(files.chunks_mut(CHUNK / 2))
    {
        let sql = format!(
            "INSERT INTO coverage_files (build_id, path, lines_valid, lines_covered, \
             branches_valid, branches_covered, lines) VALUES {} {}",
            values(sqlite, rows.len(), 7, 1),
            coverage_on_conflict!()
        );
        let mut binds = Vec::with_capacity(rows.len() * 7);
        for (file, (lines, t)) in paths.iter().zip(rows) {
            binds.extend([
                Bind::I(build_id),
                Bind::S(file.path.clone()),
                Bind::I(t[0]),
                Bind::I(t[1]),
                Bind::I(t[2]),
                Bind::I(t[3]),
                Bind::B(lines.take()),
            ]);
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// [`store_coverage`]'s rows on PostgreSQL: all in one statement, as seven arrays the server
/// unnests (bound as their text: the Any driver binds no arrays), the packed lines in hex.
/// Bound as seven parameters a file, a year's 5 million files were most of a PostgreSQL
/// import; read from one JSON array (`json_to_recordset`), 1,000 files took 21 ms of the
/// server's time, against 12 ms as arrays (`benches/README.md`). Without `upsert`, a plain
/// `INSERT`: speculative insertion (`ON CONFLICT`) cost PostgreSQL a third of a results
/// insert in psql (500 rows: 3.5–4.2 ms against 2.3 ms).
async fn store_files_postgres(
    tx: &mut AnyConnection,
    build_id: i64,
    report: &CoverageReport,
    files: FileRows,
    upsert: bool,
) -> Result<()> {
    if files.is_empty() {
        return Ok(());
    }
    let mut paths = ArrayText::new();
    let mut numbers: [ArrayText; 4] = std::array::from_fn(|_| ArrayText::new());
    let mut lines = ArrayText::new();
    for (file, (packed, totals)) in report.files.iter().zip(&files) {
        paths.text(&file.path);
        for (column, value) in numbers.iter_mut().zip(totals) {
            column.number(value);
        }
        match packed {
            Some(bytes) => lines.bytes(bytes),
            None => lines.null(),
        }
    }
    macro_rules! insert {
        () => {
            "INSERT INTO coverage_files (build_id, path, lines_valid, lines_covered, \
             branches_valid, branches_covered, lines) \
             SELECT $1, p, lv, lc, bv, bc, l FROM unnest($2::text::text[], $3::text::bigint[], \
             $4::text::bigint[], $5::text::bigint[], $6::text::bigint[], $7::text::bytea[]) \
             AS u(p, lv, lc, bv, bc, l)"
        };
    }
    const INSERT: &str = insert!();
    const UPSERT: &str = concat!(insert!(), " ", coverage_on_conflict!());
    let mut query = sqlx::query(if upsert { UPSERT } else { INSERT })
        .bind(build_id)
        .bind(paths.finish());
    for column in numbers {
        query = query.bind(column.finish());
    }
    query.bind(lines.finish()).execute(&mut *tx).await?;
    Ok(())
}

/// The text form of a PostgreSQL array (`{1,NULL,"a b"}`), built item by item. The Any
/// driver binds no arrays, so the store binds their text and casts it (`$2::text::bigint[]`).
struct ArrayText(String);

impl ArrayText {
    fn new() -> ArrayText {
        ArrayText(String::from("{"))
    }

    fn separate(&mut self) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
    }

    fn number(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write;
        self.separate();
        // Writing to a String cannot fail.
        let _ = write!(self.0, "{value}");
    }

    fn null(&mut self) {
        self.separate();
        self.0.push_str("NULL");
    }

    /// A quoted element: inside the quotes, `"` and `\` are escaped with `\`, and everything
    /// else stands for itself.
    fn text(&mut self, text: &str) {
        self.separate();
        self.0.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                self.0.push('\\');
            }
            self.0.push(c);
        }
        self.0.push('"');
    }

    /// bytea's hex input, `\x...`, quoted (where `\\` is one `\`).
    fn bytes(&mut self, bytes: &[u8]) {
        self.separate();
        self.0.push_str("\"\\\\x");
        super::push_hex(&mut self.0, bytes);
        self.0.push('"');
    }

    fn finish(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// The longest message kept of an issue (bytes, cut at a character boundary).
const ISSUE_MESSAGE_BYTES: usize = 4096;

/// Stores a report's issues. An issue is one per build by its fingerprint: the same finding
/// in two reports of a build (two shards linting the same file) is stored once.
async fn store_issues(tx: &mut AnyConnection, build_id: i64, report: &IssueReport) -> Result<()> {
    let sqlite = is_sqlite(tx);
    const WIDTH: usize = 13;
    for chunk in report.issues.chunks(CHUNK / 4) {
        let sql = format!(
            "INSERT INTO issues (build_id, fingerprint, tool, rule, severity, category, \
             native_severity, message, path, line, col, effort_minutes, suppressed) VALUES {} \
             ON CONFLICT (build_id, fingerprint) DO NOTHING",
            values(sqlite, chunk.len(), WIDTH, 1)
        );
        let mut binds = Vec::with_capacity(chunk.len() * WIDTH);
        for i in chunk {
            binds.extend([
                Bind::I(build_id),
                Bind::S(i.fingerprint.clone()),
                Bind::S(cut(&i.tool)),
                Bind::S(cut(&i.rule)),
                Bind::I(severity_code(i.severity)),
                Bind::S(i.category.name().to_owned()),
                Bind::S(cut_to(&i.native_severity, 64)),
                Bind::S(cut_to(&i.message, ISSUE_MESSAGE_BYTES)),
                Bind::S(cut(&i.path)),
                Bind::OptI(i.line.map(i64::from)),
                Bind::OptI(i.column.map(i64::from)),
                Bind::OptI(i.effort_minutes.map(i64::from)),
                Bind::I(i64::from(i.suppressed)),
            ]);
        }
        bind_all(sqlx::query(AssertSqlSafe(sql)), binds)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// A severity as stored: 0 blocker … 4 info (worst first, so `MIN` is the worst).
fn severity_code(s: Severity) -> i64 {
    s.index() as i64
}

/// Recomputes `build_totals` of a build from its results and files.
async fn refresh_totals(tx: &mut AnyConnection, build_id: i64) -> Result<()> {
    let t = sqlx::query(AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = {PASSED} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = {FAILED} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = {ERRORED} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN status = {SKIPPED} THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(flaky), 0) AS BIGINT), \
         CAST(COALESCE(SUM(duration_us), 0) AS BIGINT) \
         FROM test_results WHERE build_id = $1"
    )))
    .bind(build_id)
    .fetch_one(&mut *tx)
    .await?;
    let tests: [i64; 7] = [
        t.try_get(0)?,
        t.try_get(1)?,
        t.try_get(2)?,
        t.try_get(3)?,
        t.try_get(4)?,
        t.try_get(5)?,
        t.try_get(6)?,
    ];
    let c = sqlx::query(
        "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(lines_valid), 0) AS BIGINT), \
         CAST(COALESCE(SUM(lines_covered), 0) AS BIGINT), \
         CAST(COALESCE(SUM(branches_valid), 0) AS BIGINT), \
         CAST(COALESCE(SUM(branches_covered), 0) AS BIGINT) \
         FROM coverage_files WHERE build_id = $1",
    )
    .bind(build_id)
    .fetch_one(&mut *tx)
    .await?;
    let cov: [i64; 5] = [
        c.try_get(0)?,
        c.try_get(1)?,
        c.try_get(2)?,
        c.try_get(3)?,
        c.try_get(4)?,
    ];
    let test_formats: Vec<String> = Format::ALL
        .iter()
        .filter(|f| f.is_test_report())
        .map(|f| format!("'{}'", f.name()))
        .collect();
    let has_tests: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM uploads WHERE build_id = $1 AND format IN ({})",
        test_formats.join(", ")
    )))
    .bind(build_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO build_totals (build_id, tests_total, passed, failed, errored, skipped, flaky, \
         test_duration_us, has_tests, lines_valid, lines_covered, branches_valid, \
         branches_covered, has_coverage) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (build_id) DO UPDATE SET tests_total = excluded.tests_total, \
         passed = excluded.passed, failed = excluded.failed, errored = excluded.errored, \
         skipped = excluded.skipped, flaky = excluded.flaky, \
         test_duration_us = excluded.test_duration_us, has_tests = excluded.has_tests, \
         lines_valid = excluded.lines_valid, lines_covered = excluded.lines_covered, \
         branches_valid = excluded.branches_valid, branches_covered = excluded.branches_covered, \
         has_coverage = excluded.has_coverage",
    )
    .bind(build_id)
    .bind(tests[0])
    .bind(tests[1])
    .bind(tests[2])
    .bind(tests[3])
    .bind(tests[4])
    .bind(tests[5])
    .bind(tests[6])
    .bind(i64::from(has_tests > 0 || tests[0] > 0))
    .bind(cov[1])
    .bind(cov[2])
    .bind(cov[3])
    .bind(cov[4])
    .bind(i64::from(cov[0] > 0))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Marks a build complete (again, after a late report): its status derived from all its
/// tests unless the CI stated one, its finish time its last report's arrival (or now) when
/// the CI gave none.
/// It takes the next history sequence number of its project (see the migrations), and its
/// results are packed for the cache's reads (`packs.rs`).
async fn mark_complete(tx: &mut AnyConnection, build_id: i64) -> Result<()> {
    let seq = next_history_seq(tx, build_id).await?;
    sqlx::query(
        "UPDATE builds SET complete = 1, history_seq = $3, \
         finished_at = COALESCE(finished_at, \
             (SELECT MAX(u.received_at) FROM uploads u WHERE u.build_id = builds.id), $2), \
         status_source = CASE WHEN status_source = 'ci' THEN 'ci' \
                              WHEN status IS NOT NULL AND status_source IS NULL THEN 'ci' \
                              ELSE 'tests' END, \
         status = CASE WHEN status_source = 'ci' \
                         OR (status IS NOT NULL AND status_source IS NULL) THEN status \
                  ELSE (SELECT CASE WHEN failed + errored > 0 THEN 'failed' \
                  ELSE 'passed' END FROM build_totals WHERE build_totals.build_id = builds.id) END \
         WHERE id = $1",
    )
    .bind(build_id)
    .bind(now_ms())
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    super::packs::write(tx, build_id).await
}

/// Bumps the project's history sequence (the row lock orders concurrent completions on
/// PostgreSQL; SQLite has one writer) and returns the new value.
pub(super) async fn next_history_seq(tx: &mut AnyConnection, build_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE projects SET history_seq = history_seq + 1 \
         WHERE id = (SELECT project_id FROM builds WHERE id = $1) RETURNING history_seq",
    )
    .bind(build_id)
    .fetch_one(&mut *tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash names every stored test, so it may not change across versions: it is xxh3-64
    /// of the texts joined, each ended by 0xff, a second invocation's name with " #2".
    #[test]
    fn a_test_identity_hashes_as_its_texts_joined() {
        let case = |classname: Option<&str>, file: Option<&str>, invocation| TestCase {
            id: cimetrics_ingest::TestId {
                suite: "suite".into(),
                classname: classname.map(Into::into),
                name: "adds[1-2]".into(),
                file: file.map(Into::into),
                invocation,
            },
            outcome: cimetrics_ingest::Outcome::Passed,
            attempts: 1,
            duration_seconds: None,
            line: None,
            system_out: None,
            system_err: None,
        };
        let xxh3 = |text: &[u8]| xxhash_rust::xxh3::xxh3_64(text) as i64;
        assert_eq!(
            test_key_hash(&case(Some("a.B"), Some("b.py"), 1)),
            xxh3(b"suite\xffa.B\xffadds[1-2] #2\xffb.py\xff")
        );
        assert_eq!(
            test_key_hash(&case(None, None, 0)),
            xxh3(b"suite\xff\xffadds[1-2]\xff\xff")
        );
        let key = test_key(&case(Some("a.B"), None, 1), 7);
        assert_eq!(
            (
                key.name.as_str(),
                key.base_name.as_str(),
                key.params.as_deref()
            ),
            ("adds[1-2] #2", "adds", Some("1-2"))
        );
    }

    #[test]
    fn array_text_quotes_what_postgresql_would_read_otherwise() {
        let mut a = ArrayText::new();
        a.number(7);
        a.null();
        a.text(r#"a"b\c,{d}"#);
        a.bytes(&[0x0a, 0xff]);
        assert_eq!(a.finish(), r#"{7,NULL,"a\"b\\c,{d}","\\x0aff"}"#);
        assert_eq!(ArrayText::new().finish(), "{}");
    }

    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(values(false, 2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values(false, 1, 2, 5), "($5, $6)");
        assert_eq!(values(true, 2, 2, 1), "(?, ?), (?, ?)");
    }

    #[test]
    fn a_pass_beside_a_failure_is_a_flaky_pass_and_skips_give_way() {
        let r = |s, f| (s, f, 1, Some(10));
        assert_eq!(
            merge_results(r(FAILED, false), r(PASSED, false)),
            (PASSED, true, 2, Some(20))
        );
        assert_eq!(merge_results(r(SKIPPED, false), r(FAILED, false)).0, FAILED);
        assert_eq!(
            merge_results(r(FAILED, false), r(ERRORED, false)).0,
            ERRORED
        );
        assert_eq!(
            merge_results(r(PASSED, true), r(PASSED, false)),
            (PASSED, true, 2, Some(20))
        );
    }
}
