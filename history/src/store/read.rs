//! Reading history back as rows for the metrics, and pruning raw results into rollups.

use cimetrics_metrics::schema::{self, BuildRow, CoverageRow, ResultRow};
use futures_util::TryStreamExt;
use sqlx::{AssertSqlSafe, Row};

use super::ingest::{ERRORED, FAILED, PASSED, SKIPPED};
use super::{Error, Result, Store};

/// One raw result as [`Store::results_of_builds`] reads it: the metrics' row (its `duration_s`
/// left `None`), the duration as stored, and the build's finish time.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResult {
    /// The result, without its duration.
    pub row: ResultRow,
    /// Its duration in microseconds, as stored.
    pub duration_us: Option<i64>,
    /// Its build's finish time (ms).
    pub finished_at_ms: i64,
}

/// A stored build with its totals.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BuildInfo {
    /// Database id.
    pub id: i64,
    /// The CI's build id.
    pub ci_build_id: String,
    /// The CI's number.
    pub number: Option<i64>,
    /// Commit.
    pub commit: String,
    /// Branch.
    pub branch: String,
    /// `passed`, `failed`, `cancelled`, or `None` until complete.
    pub status: Option<String>,
    /// `ci` when the CI stated the status, `tests` when it was derived from the tests.
    pub status_source: Option<String>,
    /// Start, ms.
    pub started_at: Option<i64>,
    /// End, ms.
    pub finished_at: Option<i64>,
    /// Wall time, ms.
    pub duration_ms: Option<i64>,
    /// CI provider.
    pub ci_provider: Option<String>,
    /// CI link.
    pub ci_url: Option<String>,
    /// Expected shards.
    pub expected_shards: i64,
    /// Distinct shards with at least one upload.
    pub received_shards: i64,
    /// All shards in (or finalized).
    pub complete: bool,
    /// Tests: total, passed, failed, errored, skipped, flaky (None without a test report).
    pub tests: Option<[i64; 6]>,
    /// Coverage: lines valid, covered, branches valid, covered (None without coverage).
    pub coverage: Option<[i64; 4]>,
}

/// A test's identity as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestName {
    /// Database id (the metrics' `test_id`).
    pub id: i64,
    /// Suite.
    pub suite: String,
    /// Class name.
    pub classname: String,
    /// Name (with its parameters).
    pub name: String,
    /// File.
    pub file: String,
    /// Name without parameters.
    pub base_name: String,
    /// The identity hash ([`super::test_key_hash`]).
    pub key_hash: i64,
}

/// The complete builds of a period with their results and coverage, as the metrics' rows.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Builds (complete only).
    pub builds: Vec<BuildRow>,
    /// Their test results (not the pruned ones).
    pub results: Vec<ResultRow>,
    /// Their coverage totals (builds with coverage only).
    pub coverage: Vec<CoverageRow>,
}

/// A complete build with its stored totals ([`Store::build_summaries`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSummary {
    /// The CI's build id.
    pub ci_build_id: String,
    /// The history sequence number it took when it (last) completed or changed.
    pub history_seq: i64,
    /// The build as the metrics see it.
    pub build: BuildRow,
    /// Its test counts: total, passed, failed, errored, skipped, flaky (None without tests).
    pub tests: Option<[u64; 6]>,
    /// Its coverage totals (None without coverage).
    pub coverage: Option<CoverageRow>,
}

/// One test's result in one build, with its identity ([`Store::build_results`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BuildTestResult {
    /// Suite.
    pub suite: String,
    /// Class name.
    pub classname: String,
    /// Name.
    pub name: String,
    /// File.
    pub file: String,
    /// `passed`, `failed`, `errored` or `skipped`.
    pub status: &'static str,
    /// Passed after a failed attempt.
    pub flaky: bool,
    /// Attempts.
    pub attempts: i64,
    /// Time, seconds.
    pub duration_s: Option<f64>,
    /// The identity hash ([`super::test_key_hash`]).
    pub key_hash: i64,
    /// The failure's message, for a failed or errored test.
    pub message: Option<String>,
}

/// One run of one test ([`Store::test_runs`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TestRunRow {
    /// The build (database id).
    pub build_id: i64,
    /// `passed`, `failed`, `errored` or `skipped`.
    pub status: &'static str,
    /// Passed after a failed attempt.
    pub flaky: bool,
    /// Attempts.
    pub attempts: u32,
    /// Time, seconds.
    pub duration_s: Option<f64>,
    /// The failure's message.
    pub message: Option<String>,
}

/// What [`Store::prune`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneStats {
    /// Builds whose raw results were rolled up and deleted.
    pub builds: u64,
    /// Raw results deleted.
    pub results: u64,
}

pub(super) fn status_name(code: i64) -> &'static str {
    match code {
        PASSED => schema::PASSED,
        FAILED => schema::FAILED,
        ERRORED => schema::ERRORED,
        _ => schema::SKIPPED,
    }
}

const BUILD_COLUMNS: &str = "b.id, b.ci_build_id, b.number, b.commit_sha, b.branch, b.status, \
    b.started_at, b.finished_at, b.duration_ms, b.ci_provider, b.ci_url, b.expected_shards, \
    b.complete, t.has_tests, t.tests_total, t.passed, t.failed, t.errored, t.skipped, t.flaky, \
    t.has_coverage, t.lines_valid, t.lines_covered, t.branches_valid, t.branches_covered, \
    b.status_source, (SELECT COUNT(DISTINCT u.shard) FROM uploads u WHERE u.build_id = b.id)";

fn build_info(r: &sqlx::any::AnyRow) -> Result<BuildInfo> {
    let has_tests: Option<i64> = r.try_get(13)?;
    let has_coverage: Option<i64> = r.try_get(20)?;
    let get = |i| r.try_get::<Option<i64>, _>(i).map(|v| v.unwrap_or(0));
    Ok(BuildInfo {
        id: r.try_get(0)?,
        ci_build_id: r.try_get(1)?,
        number: r.try_get(2)?,
        commit: r.try_get(3)?,
        branch: r.try_get(4)?,
        status: r.try_get(5)?,
        status_source: r.try_get(25)?,
        started_at: r.try_get(6)?,
        finished_at: r.try_get(7)?,
        duration_ms: r.try_get(8)?,
        ci_provider: r.try_get(9)?,
        ci_url: r.try_get(10)?,
        expected_shards: r.try_get(11)?,
        received_shards: r.try_get(26)?,
        complete: r.try_get::<i64, _>(12)? != 0,
        tests: match has_tests {
            Some(1) => Some([get(14)?, get(15)?, get(16)?, get(17)?, get(18)?, get(19)?]),
            _ => None,
        },
        coverage: match has_coverage {
            Some(1) => Some([get(21)?, get(22)?, get(23)?, get(24)?]),
            _ => None,
        },
    })
}

impl Store {
    /// A test by its identity hash, with its runs in the complete builds finished at or
    /// after `from_ms` (raw results only: pruned ones are rolled up).
    ///
    /// # Errors
    /// The database fails.
    pub async fn test_runs(
        &self,
        project_id: i64,
        key_hash: i64,
        from_ms: i64,
    ) -> Result<Option<(TestName, Vec<TestRunRow>)>> {
        let Some(name) = sqlx::query(
            "SELECT id, suite, classname, name, file, base_name, key_hash FROM tests \
             WHERE project_id = $1 AND key_hash = $2",
        )
        .bind(project_id)
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let name = TestName {
            id: name.try_get(0)?,
            suite: name.try_get(1)?,
            classname: name.try_get(2)?,
            name: name.try_get(3)?,
            file: name.try_get(4)?,
            base_name: name.try_get(5)?,
            key_hash: name.try_get(6)?,
        };
        let rows = sqlx::query(
            "SELECT r.build_id, r.status, r.flaky, r.attempts, r.duration_us, m.message \
             FROM test_results r JOIN builds b ON b.id = r.build_id \
             LEFT JOIN test_messages m ON m.build_id = r.build_id AND m.test_id = r.test_id \
             WHERE r.test_id = $1 AND b.complete = 1 AND b.finished_at >= $2",
        )
        .bind(name.id)
        .bind(from_ms)
        .fetch_all(&self.pool)
        .await?;
        let runs = rows
            .iter()
            .map(|r| {
                Ok(TestRunRow {
                    build_id: r.try_get(0)?,
                    status: status_name(r.try_get(1)?),
                    flaky: r.try_get::<i64, _>(2)? != 0,
                    attempts: u32::try_from(r.try_get::<i64, _>(3)?).unwrap_or(u32::MAX),
                    duration_s: r.try_get::<Option<i64>, _>(4)?.map(|us| us as f64 / 1e6),
                    message: r.try_get(5)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((name, runs)))
    }

    /// The builds of a project, newest first (by finish time, then id), optionally on one
    /// branch and within `[from_ms, to_ms)`, paged.
    ///
    /// # Errors
    /// The database fails.
    pub async fn builds(
        &self,
        project_id: i64,
        branch: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<BuildInfo>> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds b LEFT JOIN build_totals t ON t.build_id = b.id \
             WHERE b.project_id = $1 AND ($2 IS NULL OR b.branch = $2) \
             AND ($3 IS NULL OR b.finished_at >= $3) AND ($4 IS NULL OR b.finished_at < $4) \
             ORDER BY b.finished_at DESC, b.id DESC LIMIT $5 OFFSET $6"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .bind(branch)
            .bind(from_ms)
            .bind(to_ms)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(build_info).collect()
    }

    /// One build by the CI's id.
    ///
    /// # Errors
    /// The database fails.
    pub async fn build(&self, project_id: i64, ci_build_id: &str) -> Result<Option<BuildInfo>> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds b LEFT JOIN build_totals t ON t.build_id = b.id \
             WHERE b.project_id = $1 AND b.ci_build_id = $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .bind(ci_build_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(build_info).transpose()
    }

    /// The complete builds finished in `[from_ms, to_ms)` (optionally on one branch), with
    /// their results and coverage totals.
    ///
    /// # Errors
    /// The database fails.
    pub async fn history(
        &self,
        project_id: i64,
        branch: Option<&str>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<History> {
        const FILTER: &str = "b.project_id = $1 AND b.complete = 1 AND b.finished_at IS NOT NULL \
            AND ($2 IS NULL OR b.branch = $2) AND ($3 IS NULL OR b.finished_at >= $3) \
            AND ($4 IS NULL OR b.finished_at < $4)";
        let bind = |sql: String| {
            sqlx::query(AssertSqlSafe(sql))
                .bind(project_id)
                .bind(branch.map(str::to_owned))
                .bind(from_ms)
                .bind(to_ms)
        };
        let mut history = History::default();
        for r in bind(format!(
            "SELECT b.id, b.branch, b.commit_sha, COALESCE(b.status, ''), b.finished_at, \
             b.duration_ms FROM builds b WHERE {FILTER}"
        ))
        .fetch_all(&self.pool)
        .await?
        {
            history.builds.push(BuildRow {
                build_id: r.try_get(0)?,
                branch: r.try_get(1)?,
                commit: r.try_get(2)?,
                status: r.try_get(3)?,
                finished_at_ms: r.try_get(4)?,
                duration_s: r.try_get::<Option<i64>, _>(5)?.map(|ms| ms as f64 / 1000.0),
            });
        }
        for r in bind(format!(
            "SELECT r.build_id, r.test_id, r.status, r.flaky, r.attempts, r.duration_us \
             FROM test_results r JOIN builds b ON b.id = r.build_id WHERE {FILTER}"
        ))
        .fetch_all(&self.pool)
        .await?
        {
            history.results.push(ResultRow {
                build_id: r.try_get(0)?,
                test_id: r.try_get(1)?,
                status: status_name(r.try_get(2)?),
                flaky: r.try_get::<i64, _>(3)? != 0,
                attempts: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(u32::MAX),
                duration_s: r.try_get::<Option<i64>, _>(5)?.map(|us| us as f64 / 1e6),
            });
        }
        for r in bind(format!(
            "SELECT t.build_id, t.lines_valid, t.lines_covered, t.branches_valid, \
             t.branches_covered FROM build_totals t JOIN builds b ON b.id = t.build_id \
             WHERE t.has_coverage = 1 AND {FILTER}"
        ))
        .fetch_all(&self.pool)
        .await?
        {
            let u = |i| {
                r.try_get::<i64, _>(i)
                    .map(|v| u64::try_from(v).unwrap_or(0))
            };
            history.coverage.push(CoverageRow {
                build_id: r.try_get(0)?,
                path: None,
                lines_valid: u(1)?,
                lines_covered: u(2)?,
                branches_valid: u(3)?,
                branches_covered: u(4)?,
            });
        }
        Ok(history)
    }

    /// Where a project's history stands: (history sequence, prune epoch). Both only grow;
    /// while they stay the same, so does every complete build and its results.
    ///
    /// # Errors
    /// The database fails, or no such project.
    pub async fn history_version(&self, project_id: i64) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT history_seq, prune_epoch FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::NotFound(format!("project {project_id}")))?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Every complete build of a project with its totals: one row per build, few columns,
    /// cheap to read in full (5,000 builds in a few milliseconds).
    ///
    /// # Errors
    /// The database fails.
    pub async fn build_summaries(&self, project_id: i64) -> Result<Vec<BuildSummary>> {
        let rows = sqlx::query(
            "SELECT b.id, b.branch, b.commit_sha, COALESCE(b.status, ''), b.finished_at, \
             b.duration_ms, t.has_tests, t.tests_total, t.passed, t.failed, t.errored, \
             t.skipped, t.flaky, t.has_coverage, t.lines_valid, t.lines_covered, \
             t.branches_valid, t.branches_covered, b.ci_build_id, b.history_seq \
             FROM builds b LEFT JOIN build_totals t ON t.build_id = b.id \
             WHERE b.project_id = $1 AND b.complete = 1 AND b.finished_at IS NOT NULL \
             ORDER BY b.finished_at, b.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let get = |i| r.try_get::<Option<i64>, _>(i).map(|v| v.unwrap_or(0));
                let u = |i| get(i).map(|v| u64::try_from(v).unwrap_or(0));
                let build_id = r.try_get(0)?;
                Ok(BuildSummary {
                    ci_build_id: r.try_get(18)?,
                    history_seq: r.try_get::<Option<i64>, _>(19)?.unwrap_or(0),
                    build: BuildRow {
                        build_id,
                        branch: r.try_get(1)?,
                        commit: r.try_get(2)?,
                        status: r.try_get(3)?,
                        finished_at_ms: r.try_get(4)?,
                        duration_s: r.try_get::<Option<i64>, _>(5)?.map(|ms| ms as f64 / 1000.0),
                    },
                    tests: match get(6)? {
                        1 => Some([u(7)?, u(8)?, u(9)?, u(10)?, u(11)?, u(12)?]),
                        _ => None,
                    },
                    coverage: match get(13)? {
                        1 => Some(CoverageRow {
                            build_id,
                            path: None,
                            lines_valid: u(14)?,
                            lines_covered: u(15)?,
                            branches_valid: u(16)?,
                            branches_covered: u(17)?,
                        }),
                        _ => None,
                    },
                })
            })
            .collect()
    }

    /// Each raw result of the project's complete builds whose history sequence is in
    /// `(after_seq, upto_seq]` and that finished in `[from_ms, to_ms)`, handed to `each` as
    /// it is read (nothing is collected here), build by build in no set order.
    ///
    /// # Errors
    /// The database fails.
    pub async fn results_of_builds(
        &self,
        project_id: i64,
        (after_seq, upto_seq): (i64, i64),
        (from_ms, to_ms): (i64, i64),
        mut each: impl FnMut(StoredResult),
    ) -> Result<()> {
        // One row per build, its results packed when it completed (`packs.rs`): a row per
        // result would cross from the database's thread one at a time, at several
        // microseconds each, and packing them here took the database 0.6 µs a result.
        let mut rows = sqlx::query(
            "SELECT b.id, b.finished_at, p.tests, p.codes, p.durations FROM builds b \
             JOIN result_packs p ON p.build_id = b.id \
             WHERE b.project_id = $1 AND b.complete = 1 AND b.history_seq > $2 \
             AND b.history_seq <= $3 AND b.finished_at >= $4 AND b.finished_at < $5",
        )
        .bind(project_id)
        .bind(after_seq)
        .bind(upto_seq)
        .bind(from_ms)
        .bind(to_ms)
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let texts: [Option<String>; 3] = [r.try_get(2)?, r.try_get(3)?, r.try_get(4)?];
            super::packs::unpack(r.try_get(0)?, r.try_get(1)?, &texts, &mut each)?;
        }
        Ok(())
    }

    /// A build's test results with their identities: failed and errored first, then
    /// skipped, then passed (flaky passes first), by suite and name.
    ///
    /// # Errors
    /// The database fails.
    pub async fn build_results(&self, build_id: i64) -> Result<Vec<BuildTestResult>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT t.suite, t.classname, t.name, t.file, r.status, r.flaky, r.attempts, \
             r.duration_us, t.key_hash, m.message FROM test_results r \
             JOIN tests t ON t.id = r.test_id \
             LEFT JOIN test_messages m ON m.build_id = r.build_id AND m.test_id = r.test_id \
             WHERE r.build_id = $1 ORDER BY CASE r.status WHEN {ERRORED} THEN 0 \
             WHEN {FAILED} THEN 1 WHEN {SKIPPED} THEN 2 ELSE 3 END, r.flaky DESC, \
             t.suite, t.classname, t.name"
        )))
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(BuildTestResult {
                    suite: r.try_get(0)?,
                    classname: r.try_get(1)?,
                    name: r.try_get(2)?,
                    file: r.try_get(3)?,
                    status: status_name(r.try_get(4)?),
                    flaky: r.try_get::<i64, _>(5)? != 0,
                    attempts: r.try_get(6)?,
                    duration_s: r.try_get::<Option<i64>, _>(7)?.map(|us| us as f64 / 1e6),
                    key_hash: r.try_get(8)?,
                    message: r.try_get(9)?,
                })
            })
            .collect()
    }

    /// The per-file coverage of some builds.
    ///
    /// # Errors
    /// The database fails.
    pub async fn file_coverage(&self, build_ids: &[i64]) -> Result<Vec<CoverageRow>> {
        let mut out = Vec::new();
        for &build_id in build_ids {
            for r in sqlx::query(
                "SELECT path, lines_valid, lines_covered, branches_valid, branches_covered \
                 FROM coverage_files WHERE build_id = $1",
            )
            .bind(build_id)
            .fetch_all(&self.pool)
            .await?
            {
                let u = |i| {
                    r.try_get::<i64, _>(i)
                        .map(|v| u64::try_from(v).unwrap_or(0))
                };
                out.push(CoverageRow {
                    build_id,
                    path: Some(r.try_get(0)?),
                    lines_valid: u(1)?,
                    lines_covered: u(2)?,
                    branches_valid: u(3)?,
                    branches_covered: u(4)?,
                });
            }
        }
        Ok(out)
    }

    /// The identities of some tests.
    ///
    /// # Errors
    /// The database fails.
    pub async fn test_names(&self, project_id: i64, ids: &[i64]) -> Result<Vec<TestName>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, suite, classname, name, file, base_name, key_hash FROM tests \
                 WHERE project_id = $1 AND id IN ({})",
                (0..chunk.len())
                    .map(|i| format!("${}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(project_id);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(TestName {
                    id: r.try_get(0)?,
                    suite: r.try_get(1)?,
                    classname: r.try_get(2)?,
                    name: r.try_get(3)?,
                    file: r.try_get(4)?,
                    base_name: r.try_get(5)?,
                    key_hash: r.try_get(6)?,
                });
            }
        }
        Ok(out)
    }

    /// Retention: rolls the raw results of complete builds finished before `before_ms` up
    /// into `test_daily` (per test, branch and UTC day: runs, passes, failures, flaky passes,
    /// skips, duration sum and max), then deletes those raw results and the per-line coverage
    /// kept for shard merging. Build totals and file totals stay. Running it twice adds
    /// nothing twice: the second run finds no raw results left.
    ///
    /// # Errors
    /// The database fails (and then nothing is pruned).
    pub async fn prune(&self, project_id: i64, before_ms: i64) -> Result<PruneStats> {
        let _guard = self.write_lock().await;
        let mut tx = self.pool.begin().await?;
        const OLD: &str = "SELECT id FROM builds WHERE project_id = $1 AND complete = 1 \
            AND finished_at < $2";
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO test_daily (project_id, test_id, branch, day, runs, passes, failures, \
             flaky_passes, skips, duration_sum_us, duration_max_us) \
             SELECT $1, r.test_id, b.branch, b.finished_at / 86400000, \
             CAST(SUM(CASE WHEN r.status <> {SKIPPED} THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN r.status = {PASSED} THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(CASE WHEN r.status IN ({FAILED}, {ERRORED}) THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(SUM(r.flaky) AS BIGINT), \
             CAST(SUM(CASE WHEN r.status = {SKIPPED} THEN 1 ELSE 0 END) AS BIGINT), \
             CAST(COALESCE(SUM(r.duration_us), 0) AS BIGINT), \
             CAST(COALESCE(MAX(r.duration_us), 0) AS BIGINT) \
             FROM test_results r JOIN builds b ON b.id = r.build_id \
             WHERE r.build_id IN ({OLD}) \
             GROUP BY r.test_id, b.branch, b.finished_at / 86400000 \
             ON CONFLICT (project_id, test_id, branch, day) DO UPDATE SET \
             runs = test_daily.runs + excluded.runs, passes = test_daily.passes + excluded.passes, \
             failures = test_daily.failures + excluded.failures, \
             flaky_passes = test_daily.flaky_passes + excluded.flaky_passes, \
             skips = test_daily.skips + excluded.skips, \
             duration_sum_us = test_daily.duration_sum_us + excluded.duration_sum_us, \
             duration_max_us = CASE WHEN test_daily.duration_max_us > excluded.duration_max_us \
             THEN test_daily.duration_max_us ELSE excluded.duration_max_us END"
        )))
        .bind(project_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        let builds: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT CAST(COUNT(DISTINCT build_id) AS BIGINT) FROM test_results \
             WHERE build_id IN ({OLD})"
        )))
        .bind(project_id)
        .bind(before_ms)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM result_packs WHERE build_id IN ({OLD})"
        )))
        .bind(project_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM test_messages WHERE build_id IN ({OLD})"
        )))
        .bind(project_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM test_results WHERE build_id IN ({OLD})"
        )))
        .bind(project_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE coverage_files SET lines = NULL WHERE build_id IN ({OLD})"
        )))
        .bind(project_id)
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
        if deleted.rows_affected() > 0 {
            sqlx::query("UPDATE projects SET prune_epoch = prune_epoch + 1 WHERE id = $1")
                .bind(project_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(PruneStats {
            builds: u64::try_from(builds).unwrap_or(0),
            results: deleted.rows_affected(),
        })
    }

    /// The identity hashes of the tests that failed or errored in a build.
    ///
    /// # Errors
    /// The database fails.
    pub async fn failing_test_hashes(&self, build_id: i64) -> Result<Vec<i64>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT t.key_hash FROM test_results r JOIN tests t ON t.id = r.test_id \
             WHERE r.build_id = $1 AND r.status IN ({FAILED}, {ERRORED})"
        )))
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The daily rollups of a project: (test_id, branch, day since the epoch, runs, passes,
    /// failures, flaky passes, skips, duration sum µs, duration max µs).
    ///
    /// # Errors
    /// The database fails.
    pub async fn daily_rollups(&self, project_id: i64) -> Result<Vec<(i64, String, [i64; 8])>> {
        let rows = sqlx::query(
            "SELECT test_id, branch, day, runs, passes, failures, flaky_passes, skips, \
             duration_sum_us, duration_max_us FROM test_daily WHERE project_id = $1 \
             ORDER BY test_id, branch, day",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let mut v = [0i64; 8];
                for (i, slot) in v.iter_mut().enumerate() {
                    *slot = r.try_get(i + 2)?;
                }
                Ok((r.try_get(0)?, r.try_get(1)?, v))
            })
            .collect()
    }
}
