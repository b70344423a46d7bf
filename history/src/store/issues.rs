//! Reading the code-quality issues of builds.

use cimetrics_ingest::Format;
use sqlx::{AssertSqlSafe, Row};

use super::{Result, Store};

/// One stored issue of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIssue {
    /// Its identity across builds.
    pub fingerprint: String,
    /// The tool.
    pub tool: String,
    /// The rule.
    pub rule: String,
    /// 0 blocker … 4 info.
    pub severity: usize,
    /// `bug`, `vulnerability` or `code_smell`.
    pub category: String,
    /// The severity as the tool wrote it.
    pub native_severity: String,
    /// The message (its first 4 KiB).
    pub message: String,
    /// The file.
    pub path: String,
    /// Line and column.
    pub line: Option<i64>,
    /// See `line`.
    pub column: Option<i64>,
    /// The tool's remediation estimate.
    pub effort_minutes: Option<i64>,
    /// Suppressed in the source or absent from the baseline.
    pub suppressed: bool,
}

/// A complete build that has code-quality reports.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueBuild {
    /// Database id.
    pub id: i64,
    /// The CI's build id.
    pub ci_build_id: String,
    /// Branch.
    pub branch: String,
    /// The lines of code the build stated (`?loc=`).
    pub loc: Option<u64>,
}

/// `'sarif', 'codeclimate', ...`: the formats whose uploads make a build one with issues.
fn issue_formats() -> String {
    Format::ALL
        .iter()
        .filter(|f| f.is_issue_report())
        .map(|f| format!("'{}'", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The complete builds of a project that have a code-quality report, oldest first.
    ///
    /// # Errors
    /// The database fails.
    pub async fn issue_builds(&self, project_id: i64) -> Result<Vec<IssueBuild>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT b.id, b.ci_build_id, b.branch, b.loc FROM builds b \
             WHERE b.project_id = $1 AND b.complete = 1 AND b.finished_at IS NOT NULL \
             AND EXISTS (SELECT 1 FROM uploads u WHERE u.build_id = b.id AND u.format IN ({})) \
             ORDER BY b.finished_at, b.id",
            issue_formats()
        )))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(IssueBuild {
                    id: r.try_get(0)?,
                    ci_build_id: r.try_get(1)?,
                    branch: r.try_get(2)?,
                    loc: r
                        .try_get::<Option<i64>, _>(3)?
                        .and_then(|l| u64::try_from(l).ok()),
                })
            })
            .collect()
    }

    /// A build's issues, suppressed ones included, ordered by severity, path and line.
    ///
    /// # Errors
    /// The database fails.
    pub async fn build_issues(&self, build_id: i64) -> Result<Vec<StoredIssue>> {
        let rows = sqlx::query(
            "SELECT fingerprint, tool, rule, severity, category, native_severity, message, \
             path, line, col, effort_minutes, suppressed FROM issues WHERE build_id = $1 \
             ORDER BY severity, path, line, fingerprint",
        )
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredIssue {
                    fingerprint: r.try_get(0)?,
                    tool: r.try_get(1)?,
                    rule: r.try_get(2)?,
                    severity: usize::try_from(r.try_get::<i64, _>(3)?).unwrap_or(4).min(4),
                    category: r.try_get(4)?,
                    native_severity: r.try_get(5)?,
                    message: r.try_get(6)?,
                    path: r.try_get(7)?,
                    line: r.try_get(8)?,
                    column: r.try_get(9)?,
                    effort_minutes: r.try_get(10)?,
                    suppressed: r.try_get::<i64, _>(11)? != 0,
                })
            })
            .collect()
    }
}
