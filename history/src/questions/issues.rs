//! Code quality: a build's issues, new and fixed against the previous build of its branch,
//! ratings and score.

use std::collections::HashSet;

use cimetrics_metrics::quality::{IssueFacts, SEVERITIES, new_and_fixed};

use super::{History, Result};
use crate::Error;
use crate::answers::{
    CategoryTotals, CodeQualityComponent, CodeQualityScore, IssueList, IssueRow, IssuesSummary,
    QualityRatings, SeverityTotals,
};
use crate::store::{IssueBuild, Project, StoredIssue};

/// The most issues one page holds.
pub const MAX_ISSUES_PAGE: u64 = 1000;

/// What `GET .../issues` filters by.
#[derive(Debug, Clone, Default)]
pub struct IssuesParams {
    /// The CI's build id (default: the latest complete build with a code-quality report).
    pub build: Option<String>,
    /// The branch of the default build.
    pub branch: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only this file.
    pub path: Option<String>,
    /// `new`, `open` (new ones included) or `fixed`; default `open`.
    pub status: Option<String>,
    /// Rows to skip.
    pub offset: u64,
    /// Page size (default 100, at most [`MAX_ISSUES_PAGE`]).
    pub limit: Option<u64>,
}

/// A build with issues and its issues, and the build it compares with and its issues.
pub(super) struct Compared {
    pub(super) build: IssueBuild,
    pub(super) previous: Option<IssueBuild>,
    pub(super) issues: Vec<StoredIssue>,
    pub(super) previous_issues: Vec<StoredIssue>,
}

fn open(issues: &[StoredIssue]) -> impl Iterator<Item = &StoredIssue> {
    issues.iter().filter(|i| !i.suppressed)
}

impl History {
    /// The build to answer about (`build`, else the latest complete one with a code-quality
    /// report, of `branch` if given) and the previous one with a code-quality report on its
    /// branch, each with its issues; `None` when there is no such build.
    pub(super) async fn issue_builds(
        &self,
        project: &Project,
        build: Option<&str>,
        branch: Option<&str>,
    ) -> Result<Option<Compared>> {
        // The builds with a code-quality report: complete ones, so one list per snapshot.
        let snapshot = self.snapshot(project).await?;
        let builds = snapshot
            .once("issue builds".into(), async {
                Ok(self.store.issue_builds(project.id).await?)
            })
            .await?;
        let at = match build {
            Some(id) => match builds.iter().position(|b| b.ci_build_id == id) {
                Some(i) => i,
                None => {
                    // A build without code-quality reports, or none at all.
                    self.store
                        .build(project.id, id)
                        .await?
                        .ok_or_else(|| Error::NotFound(format!("no build {id:?}")))?;
                    return Ok(None);
                }
            },
            None => match builds
                .iter()
                .rposition(|b| branch.is_none_or(|br| b.branch == br))
            {
                Some(i) => i,
                None => return Ok(None),
            },
        };
        let this = builds[at].clone();
        let previous = builds[..at]
            .iter()
            .rev()
            .find(|b| b.branch == this.branch)
            .cloned();
        let issues = self.store.build_issues(this.id).await?;
        let previous_issues = match &previous {
            Some(p) => self.store.build_issues(p.id).await?,
            None => Vec::new(),
        };
        Ok(Some(Compared {
            build: this,
            previous,
            issues,
            previous_issues,
        }))
    }

    /// A build's code quality ([`cimetrics_metrics::quality`]): open and suppressed issues,
    /// new and fixed against the previous build with a code-quality report on its branch
    /// ([`new_and_fixed`]), ratings, debt and density over the build's coverage lines, and
    /// the code-quality score.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the store fails.
    pub async fn issues_summary(
        &self,
        project: &Project,
        build: Option<&str>,
        branch: Option<&str>,
    ) -> Result<IssuesSummary> {
        let Some(c) = self.issue_builds(project, build, branch).await? else {
            return Ok(IssuesSummary {
                project: project.name.clone(),
                build: build.map(str::to_owned),
                previous_build: None,
                open: 0,
                suppressed: 0,
                new: 0,
                fixed: 0,
                by_severity: SeverityTotals::default(),
                by_category: CategoryTotals::default(),
                rules: 0,
                files: 0,
                lines: None,
                density_per_kloc: None,
                debt_minutes: 0,
                debt_ratio: None,
                ratings: None,
                code_quality: None,
            });
        };
        let snapshot = self.snapshot(project).await?;
        // The lines the build states, else its coverage's.
        let lines = c
            .build
            .loc
            .or_else(|| {
                snapshot
                    .summaries
                    .iter()
                    .find(|s| s.build.build_id == c.build.id)
                    .and_then(|s| s.coverage.as_ref())
                    .map(|cov| cov.lines_valid)
            })
            .filter(|l| *l > 0);
        let mut facts = IssueFacts {
            lines,
            ..IssueFacts::default()
        };
        let mut by_category = CategoryTotals::default();
        let (mut rules, mut files) = (HashSet::new(), HashSet::new());
        for i in open(&c.issues) {
            let effort = i.effort_minutes.and_then(|m| u64::try_from(m).ok());
            facts.add(i.severity, &i.category, effort);
            match i.category.as_str() {
                "bug" => by_category.bug += 1,
                "vulnerability" => by_category.vulnerability += 1,
                _ => by_category.code_smell += 1,
            }
            rules.insert(i.rule.as_str());
            files.insert(i.path.trim_start_matches("./"));
        }
        let (new, fixed) = new_and_fixed(
            open(&c.issues).map(|i| i.fingerprint.as_str()),
            open(&c.previous_issues).map(|i| i.fingerprint.as_str()),
        );
        let r = facts.ratings();
        let s = facts.by_severity;
        Ok(IssuesSummary {
            project: project.name.clone(),
            build: Some(c.build.ci_build_id.clone()),
            previous_build: c.previous.as_ref().map(|p| p.ci_build_id.clone()),
            open: s.iter().sum(),
            suppressed: c.issues.iter().filter(|i| i.suppressed).count() as u64,
            new: if c.previous.is_some() {
                new.len() as u64
            } else {
                0
            },
            fixed: fixed.len() as u64,
            by_severity: SeverityTotals {
                blocker: s[0],
                critical: s[1],
                major: s[2],
                minor: s[3],
                info: s[4],
            },
            by_category,
            rules: rules.len() as u64,
            files: files.len() as u64,
            lines,
            density_per_kloc: r.density_per_kloc,
            debt_minutes: facts.remediation_minutes,
            debt_ratio: r.debt_ratio,
            ratings: Some(QualityRatings {
                reliability: r.reliability.to_string(),
                security: r.security.to_string(),
                maintainability: r.maintainability.map(|m| m.to_string()),
            }),
            code_quality: Some(CodeQualityScore {
                version: r.code_quality.version,
                score: r.code_quality.score,
                formula: "100 × Σ wᵢ·value(ratingᵢ) / Σ wᵢ; reliability 0.3, security 0.3, \
                          maintainability 0.4 (left out without lines); A 1, B 0.75, C 0.5, \
                          D 0.25, E 0"
                    .into(),
                components: r
                    .code_quality
                    .components
                    .iter()
                    .map(|c| CodeQualityComponent {
                        name: c.name.to_owned(),
                        rating: c.rating.map(|r| r.to_string()),
                        weight: c.weight,
                        points: c.points,
                    })
                    .collect(),
            }),
        })
    }

    /// A page of a build's issues, filtered: its open issues (`status=open`, each marked
    /// `new` or `open`), only the new ones, or the previous build's issues it fixed.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; [`Error::Invalid`] for an unknown status,
    /// severity or category, or a page over [`MAX_ISSUES_PAGE`]; the store fails.
    pub async fn issues(&self, project: &Project, params: &IssuesParams) -> Result<IssueList> {
        let status = params.status.as_deref().unwrap_or("open");
        if !matches!(status, "open" | "new" | "fixed") {
            return Err(Error::Invalid(format!(
                "status {status:?} is not new, open or fixed"
            )));
        }
        if let Some(s) = &params.severity
            && !SEVERITIES.contains(&s.as_str())
        {
            return Err(Error::Invalid(format!(
                "severity {s:?} is not one of {}",
                SEVERITIES.join(", ")
            )));
        }
        if let Some(c) = &params.category
            && !matches!(c.as_str(), "bug" | "vulnerability" | "code_smell")
        {
            return Err(Error::Invalid(format!(
                "category {c:?} is not bug, vulnerability or code_smell"
            )));
        }
        let limit = params.limit.unwrap_or(100);
        if limit == 0 || limit > MAX_ISSUES_PAGE {
            return Err(Error::Invalid(format!(
                "limit {limit} is not from 1 to {MAX_ISSUES_PAGE}"
            )));
        }
        let compared = self
            .issue_builds(project, params.build.as_deref(), params.branch.as_deref())
            .await?;
        let Some(c) = compared else {
            return Ok(IssueList {
                project: project.name.clone(),
                build: params.build.clone(),
                previous_build: None,
                total: 0,
                offset: params.offset,
                limit,
                issues: Vec::new(),
            });
        };
        let before: HashSet<&str> = open(&c.previous_issues)
            .map(|i| i.fingerprint.as_str())
            .collect();
        let now: HashSet<&str> = open(&c.issues).map(|i| i.fingerprint.as_str()).collect();
        let had_previous = c.previous.is_some();
        let rows: Vec<(&StoredIssue, &str)> = match status {
            "fixed" => open(&c.previous_issues)
                .filter(|i| !now.contains(i.fingerprint.as_str()))
                .map(|i| (i, "fixed"))
                .collect(),
            _ => open(&c.issues)
                .map(|i| {
                    let new = had_previous && !before.contains(i.fingerprint.as_str());
                    (i, if new { "new" } else { "open" })
                })
                .filter(|(_, s)| status == "open" || *s == "new")
                .collect(),
        };
        let matches = |i: &StoredIssue| {
            params
                .severity
                .as_deref()
                .is_none_or(|s| SEVERITIES[i.severity] == s)
                && params.category.as_deref().is_none_or(|c| i.category == c)
                && params.rule.as_deref().is_none_or(|r| i.rule == r)
                && params
                    .path
                    .as_deref()
                    .is_none_or(|p| i.path.trim_start_matches("./") == p.trim_start_matches("./"))
        };
        let rows: Vec<(&StoredIssue, &str)> =
            rows.into_iter().filter(|(i, _)| matches(i)).collect();
        let total = rows.len() as u64;
        let page = rows
            .into_iter()
            .skip(usize::try_from(params.offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .map(|(i, status)| IssueRow {
                fingerprint: i.fingerprint.clone(),
                status: status.to_owned(),
                tool: i.tool.clone(),
                rule: i.rule.clone(),
                severity: SEVERITIES[i.severity].to_owned(),
                category: i.category.clone(),
                message: i.message.clone(),
                path: i.path.clone(),
                line: i.line,
                column: i.column,
            })
            .collect();
        Ok(IssueList {
            project: project.name.clone(),
            build: Some(c.build.ci_build_id),
            previous_build: c.previous.map(|p| p.ci_build_id),
            total,
            offset: params.offset,
            limit,
            issues: page,
        })
    }
}
