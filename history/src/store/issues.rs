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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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

/// A build's open issues in figures, for trends ([`Store::issue_totals`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IssueTotals {
    /// The build.
    pub build: IssueBuild,
    /// Open issues by severity, worst first.
    pub by_severity: [u64; 5],
    /// The worst severity of an open bug, and of an open vulnerability.
    pub worst_bug: Option<usize>,
    /// See `worst_bug`.
    pub worst_vulnerability: Option<usize>,
    /// Remediation minutes (the tool's, else the default of the severity).
    pub debt_minutes: u64,
}

impl Store {
    /// Every complete build with a code-quality report, oldest first, with its open issues
    /// counted in one grouped query.
    ///
    /// # Errors
    /// The database fails.
    pub async fn issue_totals(&self, project_id: i64) -> Result<Vec<IssueTotals>> {
        let builds = self.issue_builds(project_id).await?;
        if builds.is_empty() {
            return Ok(Vec::new());
        }
        let minutes = cimetrics_metrics::quality::DEFAULT_REMEDIATION_MINUTES
            .iter()
            .enumerate()
            .map(|(s, m)| format!("WHEN {s} THEN {m}"))
            .collect::<Vec<_>>()
            .join(" ");
        let severities = (0..5)
            .map(|s| format!("CAST(COALESCE(SUM(CASE WHEN suppressed = 0 AND severity = {s} THEN 1 ELSE 0 END), 0) AS BIGINT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT i.build_id, {severities}, \
             MIN(CASE WHEN suppressed = 0 AND category = 'bug' THEN severity END), \
             MIN(CASE WHEN suppressed = 0 AND category = 'vulnerability' THEN severity END), \
             CAST(COALESCE(SUM(CASE WHEN suppressed = 0 THEN COALESCE(effort_minutes, \
                 CASE severity {minutes} ELSE 0 END) ELSE 0 END), 0) AS BIGINT) \
             FROM issues i JOIN builds b ON b.id = i.build_id \
             WHERE b.project_id = $1 GROUP BY i.build_id"
        )))
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_build: std::collections::HashMap<i64, IssueTotals> = Default::default();
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        let severity = |v: Option<i64>| v.and_then(|s| usize::try_from(s).ok()).map(|s| s.min(4));
        for r in &rows {
            let id: i64 = r.try_get(0)?;
            let mut counts = [0u64; 5];
            for (i, c) in counts.iter_mut().enumerate() {
                *c = u(r.try_get(1 + i)?);
            }
            by_build.insert(
                id,
                IssueTotals {
                    build: IssueBuild {
                        id,
                        ci_build_id: String::new(),
                        branch: String::new(),
                        loc: None,
                    },
                    by_severity: counts,
                    worst_bug: severity(r.try_get(6)?),
                    worst_vulnerability: severity(r.try_get(7)?),
                    debt_minutes: u(r.try_get(8)?),
                },
            );
        }
        Ok(builds
            .into_iter()
            .map(|b| {
                let mut t = by_build.remove(&b.id).unwrap_or(IssueTotals {
                    build: b.clone(),
                    by_severity: [0; 5],
                    worst_bug: None,
                    worst_vulnerability: None,
                    debt_minutes: 0,
                });
                t.build = b;
                t
            })
            .collect())
    }

    /// For each of `builds` (oldest first, as [`Store::issue_builds`] lists them), its open
    /// issues not open in the previous one on its branch; a branch's first has none.
    ///
    /// # Errors
    /// The database fails.
    pub async fn new_issue_counts(
        &self,
        builds: &[IssueBuild],
    ) -> Result<std::collections::HashMap<i64, u64>> {
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        for (i, b) in builds.iter().enumerate() {
            if let Some(p) = builds[..i].iter().rev().find(|p| p.branch == b.branch) {
                pairs.push((b.id, p.id));
            }
        }
        let mut new = std::collections::HashMap::new();
        for chunk in pairs.chunks(200) {
            let values = chunk
                .iter()
                .map(|(b, p)| format!("({b}, {p})"))
                .collect::<Vec<_>>()
                .join(", ");
            let rows = sqlx::query(AssertSqlSafe(format!(
                "WITH prev (b, p) AS (VALUES {values}) \
                 SELECT prev.b, CAST(COUNT(*) AS BIGINT) FROM prev \
                 JOIN issues i ON i.build_id = prev.b AND i.suppressed = 0 \
                 WHERE NOT EXISTS (SELECT 1 FROM issues j WHERE j.build_id = prev.p \
                 AND j.fingerprint = i.fingerprint AND j.suppressed = 0) GROUP BY prev.b"
            )))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                let n: i64 = r.try_get(1)?;
                new.insert(r.try_get(0)?, u64::try_from(n).unwrap_or(0));
            }
        }
        Ok(new)
    }
}
