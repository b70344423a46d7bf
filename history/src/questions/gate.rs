//! The quality gate: one judgement ([`judge`]) for a stored build ([`History::gate`]), for
//! reports checked against the history before they are stored ([`History::gate_reports`]),
//! and for reports alone ([`gate_without_history`]).

use std::collections::HashSet;

use cimetrics_ingest::{Content, Report, Status};
use cimetrics_metrics::{FlakyConfig, GateConfig};

use super::builds::{position, previous_on_branch, previous_with_coverage};
use super::tests::FlakyParams;
use super::{History, Result, test_id};
use crate::Error;
use crate::answers::{self, Gate, GateCondition, TestRef};
use crate::cache::Snapshot;
use crate::store::{BuildSummary, Project, StoredIssue, test_key_hash};

/// What [`History::gate`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct GateParams {
    /// The CI's build id (default: the latest complete build, of `branch` if given).
    pub build: Option<String>,
    /// The branch of the default build.
    pub branch: Option<String>,
    /// The conditions.
    pub config: GateConfig,
    /// With `flaky_excluded`: the tests flaky over this many days before the latest build.
    pub flaky_days: u32,
}

impl Default for GateParams {
    fn default() -> Self {
        GateParams {
            build: None,
            branch: None,
            config: GateConfig::default(),
            flaky_days: 30,
        }
    }
}

/// What a gate judges: the counts, coverage totals and failing tests of one build or of a
/// set of reports.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFacts {
    /// Test counts (total, passed, failed, errored, skipped, flaky), if there were tests.
    pub tests: Option<[u64; 6]>,
    /// Coverage (lines valid, covered, branches valid, covered), if there was coverage.
    pub coverage: Option<[u64; 4]>,
    /// The failing tests, each with whether it errored (else it failed).
    pub failing: Vec<(TestRef, bool)>,
    /// The open code-quality issues, if there was a code-quality report.
    pub issues: Option<Vec<OpenIssue>>,
    /// The lines of code the ratings count (else the coverage's lines).
    pub loc: Option<u64>,
}

/// A build's open issues, the lines it states, and the previous build's open fingerprints.
type IssuesCompared = (
    Option<Vec<OpenIssue>>,
    Option<u64>,
    Option<(String, HashSet<String>)>,
);

/// An open code-quality issue, as the gate needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenIssue {
    /// Identity across builds.
    pub fingerprint: String,
    /// 0 blocker … 4 info.
    pub severity: usize,
    /// `bug`, `vulnerability` or `code_smell`.
    pub category: String,
    /// The tool's remediation estimate, minutes.
    pub effort_minutes: Option<u64>,
}

impl ReportFacts {
    /// Adds a parsed report (tests or coverage) to the facts.
    pub fn add(&mut self, report: &Report) {
        match &report.content {
            Content::Tests(t) => {
                let c = &t.counts;
                let sum = self.tests.get_or_insert([0; 6]);
                for (s, n) in sum
                    .iter_mut()
                    .zip([c.total, c.passed, c.failed, c.errored, c.skipped, c.flaky])
                {
                    *s += n;
                }
                for case in &t.tests {
                    let status = case.outcome.status();
                    if matches!(status, Status::Failed | Status::Errored) {
                        let id = &case.id;
                        self.failing.push((
                            TestRef {
                                id: test_id(test_key_hash(case)),
                                suite: id.suite.to_string(),
                                classname: id.classname.as_deref().unwrap_or_default().to_owned(),
                                name: id.name.clone(),
                                file: id.file.clone().unwrap_or_default(),
                            },
                            status == Status::Errored,
                        ));
                    }
                }
            }
            Content::Issues(i) => {
                let open = self.issues.get_or_insert_with(Vec::new);
                open.extend(i.issues.iter().filter(|i| !i.suppressed).map(|i| {
                    OpenIssue {
                        fingerprint: i.fingerprint.clone(),
                        severity: cimetrics_ingest::Severity::ALL
                            .iter()
                            .position(|s| *s == i.severity)
                            .unwrap_or(4),
                        category: i.category.name().to_owned(),
                        effort_minutes: i.effort_minutes.map(u64::from),
                    }
                }));
            }
            Content::Coverage(c) => {
                let t = &c.totals;
                let sum = self.coverage.get_or_insert([0; 4]);
                for (s, n) in sum.iter_mut().zip([
                    t.lines_valid,
                    t.lines_covered,
                    t.branches_valid,
                    t.branches_covered,
                ]) {
                    *s += n;
                }
            }
        }
    }
}

/// The builds a judgement compares with.
struct Compared<'a> {
    /// The previous complete build with tests on the branch, and its failing tests' ids.
    tests: Option<(&'a BuildSummary, HashSet<String>)>,
    /// The previous complete build with coverage on the branch.
    coverage: Option<&'a BuildSummary>,
    /// The previous complete build with a code-quality report on the branch, and its open
    /// issues' fingerprints.
    issues: Option<(String, HashSet<String>)>,
}

/// **The gate**, the one place it is judged. The facts are the subject's own
/// ([`cimetrics_metrics::GateFacts::of_build`]); `coverage_delta` compares its line rate with
/// the previous complete build with coverage on its branch ([`cimetrics_metrics::delta_pp`]),
/// `new_failures` counts its failing tests that did not fail in the previous complete build
/// with tests on its branch; with `flaky_excluded`, the `*_excluding_flaky` facts leave out
/// the tests in `flaky`. Then [`cimetrics_metrics::gate::evaluate`].
fn judge(
    subject: &ReportFacts,
    compared: &Compared<'_>,
    flaky: &HashSet<String>,
    config: &GateConfig,
) -> Result<(
    cimetrics_metrics::GateResult,
    cimetrics_metrics::GateFacts,
    Vec<TestRef>,
)> {
    let mut facts = cimetrics_metrics::GateFacts::of_build(subject.tests, subject.coverage);
    if let Some(previous) = compared.coverage {
        let rate = |c: Option<[u64; 4]>| c.and_then(|c| cimetrics_metrics::ratio(c[1], c[0]));
        let before = previous
            .coverage
            .as_ref()
            .and_then(|c| cimetrics_metrics::ratio(c.lines_covered, c.lines_valid));
        facts.coverage_delta = cimetrics_metrics::delta_pp(rate(subject.coverage), before);
    }
    let excluded: Vec<TestRef> = subject
        .failing
        .iter()
        .filter(|(t, _)| flaky.contains(&t.id))
        .map(|(t, _)| t.clone())
        .collect();
    if subject.tests.is_some() {
        let real = |errored: bool| {
            subject
                .failing
                .iter()
                .filter(|(t, e)| *e == errored && !flaky.contains(&t.id))
                .count() as f64
        };
        facts.failed_excluding_flaky = Some(real(false));
        facts.errored_excluding_flaky = Some(real(true));
        if let Some((_, before)) = &compared.tests {
            let new: Vec<&TestRef> = subject
                .failing
                .iter()
                .map(|(t, _)| t)
                .filter(|t| !before.contains(&t.id))
                .collect();
            facts.new_failures = Some(new.len() as f64);
            facts.new_failures_excluding_flaky =
                Some(new.iter().filter(|t| !flaky.contains(&t.id)).count() as f64);
        }
    }
    if let Some(issues) = &subject.issues {
        let lines = subject.loc.or(subject.coverage.map(|c| c[0]));
        issue_facts(&mut facts, issues, lines, compared.issues.as_ref());
    }
    let result = cimetrics_metrics::gate::evaluate(config, &facts)?;
    Ok((result, facts, excluded))
}

/// The code-quality facts of open issues ([`cimetrics_metrics::quality`]): counts, ratings
/// over the subject's coverage lines, the score, and what is new against `before`.
fn issue_facts(
    facts: &mut cimetrics_metrics::GateFacts,
    issues: &[OpenIssue],
    lines: Option<u64>,
    before: Option<&(String, HashSet<String>)>,
) {
    use cimetrics_metrics::gate::rating_number;
    use cimetrics_metrics::quality::IssueFacts;
    let mut q = IssueFacts {
        lines: lines.filter(|l| *l > 0),
        ..IssueFacts::default()
    };
    for i in issues {
        q.add(i.severity, &i.category, i.effort_minutes);
    }
    let r = q.ratings();
    facts.issues = Some(issues.len() as f64);
    facts.issues_critical = Some(q.by_severity[1] as f64);
    facts.reliability_rating = rating_number(r.reliability);
    facts.security_rating = rating_number(r.security);
    facts.maintainability_rating = r.maintainability.and_then(rating_number);
    facts.code_quality = Some(r.code_quality.score);
    if let Some((_, before)) = before {
        let new: Vec<&OpenIssue> = issues
            .iter()
            .filter(|i| !before.contains(&i.fingerprint))
            .collect();
        let of = |severity: usize| new.iter().filter(|i| i.severity == severity).count() as f64;
        facts.new_issues = Some(new.len() as f64);
        facts.new_blocker = Some(of(0));
        facts.new_critical = Some(of(1));
    }
}

fn answer(
    project: Option<&Project>,
    build: Option<String>,
    compared_with: Option<String>,
    (result, facts, excluded): (
        cimetrics_metrics::GateResult,
        cimetrics_metrics::GateFacts,
        Vec<TestRef>,
    ),
    config: &GateConfig,
) -> Gate {
    Gate {
        project: project.map(|p| p.name.clone()),
        build,
        compared_with,
        passed: result.passed,
        conditions: result
            .conditions
            .into_iter()
            .map(|c| GateCondition {
                condition: c.condition,
                actual: c.actual,
                passed: c.passed,
                reason: c.reason,
            })
            .collect(),
        facts: answers::GateFacts {
            coverage: facts.coverage,
            branch_coverage: facts.branch_coverage,
            coverage_delta: facts.coverage_delta,
            total: facts.total,
            passed: facts.passed,
            failed: facts.failed,
            errored: facts.errored,
            skipped: facts.skipped,
            flaky: facts.flaky,
            pass_rate: facts.pass_rate,
            new_failures: facts.new_failures,
            failed_excluding_flaky: facts.failed_excluding_flaky,
            errored_excluding_flaky: facts.errored_excluding_flaky,
            new_failures_excluding_flaky: facts.new_failures_excluding_flaky,
            issues: facts.issues,
            issues_critical: facts.issues_critical,
            new_issues: facts.new_issues,
            new_blocker: facts.new_blocker,
            new_critical: facts.new_critical,
            reliability_rating: facts.reliability_rating,
            security_rating: facts.security_rating,
            maintainability_rating: facts.maintainability_rating,
            code_quality: facts.code_quality,
        },
        flaky_excluded: if config.flaky_excluded {
            excluded
        } else {
            Vec::new()
        },
    }
}

/// Reports judged on their own: no comparison, no flaky tests known.
///
/// # Errors
/// A condition that does not parse.
pub fn gate_without_history(reports: &ReportFacts, config: &GateConfig) -> Result<Gate> {
    let compared = Compared {
        tests: None,
        coverage: None,
        issues: None,
    };
    let judged = judge(reports, &compared, &HashSet::new(), config)?;
    Ok(answer(None, None, None, judged, config))
}

impl History {
    /// The ids of the tests any flaky definition flags over the last `days` days before the
    /// latest build (every branch).
    async fn flaky_ids(&self, project: &Project, days: u32) -> Result<HashSet<String>> {
        let params = FlakyParams {
            branch: None,
            days,
            limit: u32::MAX,
            config: FlakyConfig::default(),
        };
        Ok(self
            .flaky(project, &params)
            .await?
            .tests
            .into_iter()
            .map(|t| t.test.id)
            .collect())
    }

    /// A stored build's failing tests, each with whether it errored.
    async fn failing_of(&self, build_id: i64) -> Result<Vec<(TestRef, bool)>> {
        Ok(self
            .store
            .build_results(build_id)
            .await?
            .into_iter()
            .filter(|r| r.status == "failed" || r.status == "errored")
            .map(|r| (TestRef::from(&r), r.status == "errored"))
            .collect())
    }

    /// What a subject on `branch`, sorting at `before`, is compared with.
    async fn compared<'a>(
        &self,
        snapshot: &'a Snapshot,
        branch: &str,
        before: (i64, i64),
    ) -> Result<Compared<'a>> {
        let tests = match previous_on_branch(snapshot, branch, before, |s| s.tests.is_some()) {
            Some(s) => {
                let ids = self
                    .failing_of(s.build.build_id)
                    .await?
                    .into_iter()
                    .map(|(t, _)| t.id)
                    .collect();
                Some((s, ids))
            }
            None => None,
        };
        Ok(Compared {
            tests,
            coverage: previous_with_coverage(snapshot, branch, before),
            issues: None,
        })
    }

    /// The open issues of a stored build (`None` without a code-quality report), the lines it
    /// states, and the open fingerprints of the build it compares with
    /// ([`History::issue_builds`]). For reports not stored (`build` `None`), only the latter:
    /// the latest complete build with a code-quality report on `branch`.
    async fn issues_compared(
        &self,
        project: &Project,
        branch: &str,
        build: Option<&str>,
    ) -> Result<IssuesCompared> {
        let fingerprints = |issues: Vec<StoredIssue>| -> HashSet<String> {
            issues
                .into_iter()
                .filter(|i| !i.suppressed)
                .map(|i| i.fingerprint)
                .collect()
        };
        let Some(build) = build else {
            let latest = self.issue_builds(project, None, Some(branch)).await?;
            return Ok((
                None,
                None,
                latest.map(|c| (c.build.ci_build_id, fingerprints(c.issues))),
            ));
        };
        let Some(c) = self.issue_builds(project, Some(build), None).await? else {
            return Ok((None, None, None));
        };
        let subject = c
            .issues
            .into_iter()
            .filter(|i| !i.suppressed)
            .map(|i| OpenIssue {
                fingerprint: i.fingerprint,
                severity: i.severity,
                category: i.category,
                effort_minutes: i.effort_minutes.and_then(|m| u64::try_from(m).ok()),
            })
            .collect();
        let previous = c
            .previous
            .map(|p| (p.ci_build_id, fingerprints(c.previous_issues)));
        Ok((Some(subject), c.build.loc, previous))
    }

    /// A stored build against the gate (default: the latest complete build, of `branch` if
    /// given), compared with the previous complete builds of its branch however far back.
    ///
    /// # Errors
    /// [`Error::NotFound`] without such a build; a condition that does not parse; the store
    /// fails.
    pub async fn gate(&self, project: &Project, params: &GateParams) -> Result<Gate> {
        let snapshot = self.snapshot(project).await?;
        let id = match &params.build {
            Some(id) => id.clone(),
            None => snapshot
                .summaries
                .iter()
                .rev()
                .find(|s| params.branch.as_deref().is_none_or(|b| s.build.branch == b))
                .map(|s| s.ci_build_id.clone())
                .ok_or_else(|| Error::NotFound("no complete build yet".into()))?,
        };
        // A complete build's verdict holds as long as the snapshot: it is worked out once.
        if snapshot.summaries.iter().any(|s| s.ci_build_id == id) {
            let key = format!("gate of {id:?}: {params:?}");
            let gate = snapshot
                .once(key, self.gate_of(project, &snapshot, id, params))
                .await?;
            return Ok((*gate).clone());
        }
        self.gate_of(project, &snapshot, id, params).await
    }

    /// [`History::gate`] of the build with CI id `id`.
    async fn gate_of(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        id: String,
        params: &GateParams,
    ) -> Result<Gate> {
        let info = self.build_info(project, &id).await?;
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        let (issues, loc, previous_issues) = self
            .issues_compared(project, &info.branch, Some(&info.ci_build_id))
            .await?;
        let subject = ReportFacts {
            tests: info.tests.map(|t| t.map(u)),
            coverage: info.coverage.map(|c| c.map(u)),
            failing: self.failing_of(info.id).await?,
            issues,
            loc,
        };
        let mut compared = self
            .compared(snapshot, &info.branch, position(&info))
            .await?;
        compared.issues = previous_issues;
        let flaky = if params.config.flaky_excluded {
            self.flaky_ids(project, params.flaky_days).await?
        } else {
            HashSet::new()
        };
        let judged = judge(&subject, &compared, &flaky, &params.config)?;
        let compared_with = compared.tests.as_ref().map(|(s, _)| s.ci_build_id.clone());
        Ok(answer(
            Some(project),
            Some(id),
            compared_with,
            judged,
            &params.config,
        ))
    }

    /// Reports not stored (a CI step before upload) against the gate, compared with the
    /// latest complete builds of `branch`.
    ///
    /// # Errors
    /// A condition that does not parse; the store fails.
    pub async fn gate_reports(
        &self,
        project: &Project,
        branch: &str,
        reports: &ReportFacts,
        config: &GateConfig,
        flaky_days: u32,
    ) -> Result<Gate> {
        let snapshot = self.snapshot(project).await?;
        let mut compared = self
            .compared(&snapshot, branch, (i64::MAX, i64::MAX))
            .await?;
        compared.issues = self.issues_compared(project, branch, None).await?.2;
        let flaky = if config.flaky_excluded {
            self.flaky_ids(project, flaky_days).await?
        } else {
            HashSet::new()
        };
        let judged = judge(reports, &compared, &flaky, config)?;
        let compared_with = compared.tests.as_ref().map(|(s, _)| s.ci_build_id.clone());
        Ok(answer(Some(project), None, compared_with, judged, config))
    }
}
