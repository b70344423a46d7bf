//! Questions about builds: the list, one build, its files' coverage, the current values,
//! the quality score.

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{CoverageRow, coverage_frame};
use cimetrics_metrics::{FlakyConfig, ScoreWeights, Table};

use super::{History, Result, builds_of, float, in_period, int, last_days, summaries_in};
use crate::Error;
use crate::answers::{
    Build, BuildDetail, BuildList, BuildTest, Ci, Comparison, CoverageComparison, CoverageFiles,
    CoveragePackages, CoverageSummary, Current, FileCoverage, Mttr, PackageCoverage, QualityScore,
    ScoreComponent, Shards, Streak, TestChange, TestRef, TestTotals, time,
};
use crate::cache::Snapshot;
use crate::store::{BuildInfo, BuildSummary, Project};

/// What [`History::builds`] is asked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildsParams {
    /// Only this branch.
    pub branch: Option<String>,
    /// Finished at or after (ms).
    pub from_ms: Option<i64>,
    /// Finished before (ms).
    pub to_ms: Option<i64>,
    /// Page size (1..=1000).
    pub limit: u32,
    /// Builds skipped.
    pub offset: u32,
}

/// The complete build on `branch` that comes last before `(finished_at, id)` among those
/// `with` accepts (e.g. the ones with coverage).
pub(crate) fn previous_on_branch<'a>(
    snapshot: &'a Snapshot,
    branch: &str,
    before: (i64, i64),
    with: impl Fn(&BuildSummary) -> bool,
) -> Option<&'a BuildSummary> {
    snapshot.summaries.iter().rev().find(|s| {
        with(s) && s.build.branch == branch && (s.build.finished_at_ms, s.build.build_id) < before
    })
}

/// The complete build with coverage on `branch` that comes last before `(finished_at, id)`.
pub(crate) fn previous_with_coverage<'a>(
    snapshot: &'a Snapshot,
    branch: &str,
    before: (i64, i64),
) -> Option<&'a BuildSummary> {
    previous_on_branch(snapshot, branch, before, |s| s.coverage.is_some())
}

/// Where a build sorts among complete builds: its finish time (or the end of time while it
/// runs), then its id.
pub(crate) fn position(info: &BuildInfo) -> (i64, i64) {
    (info.finished_at.unwrap_or(i64::MAX), info.id)
}

fn line_rate(c: &CoverageRow) -> Option<f64> {
    cimetrics_metrics::ratio(c.lines_covered, c.lines_valid)
}

/// A stored build as answered, its coverage compared with the previous complete build with
/// coverage on its branch.
pub(crate) fn build_answer(info: &BuildInfo, snapshot: &Snapshot) -> Build {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    let coverage = info.coverage.map(|c| {
        let mut summary = CoverageSummary::from_totals(c.map(u));
        if let Some(previous) = previous_with_coverage(snapshot, &info.branch, position(info)) {
            let before = previous.coverage.as_ref().and_then(line_rate);
            summary.delta_pp = cimetrics_metrics::delta_pp(summary.line_rate, before);
            summary.previous_build = Some(previous.ci_build_id.clone());
        }
        summary
    });
    let status = match (&info.status, info.complete) {
        (Some(s), true) => s.clone(),
        _ => "running".to_owned(),
    };
    Build {
        id: info.ci_build_id.clone(),
        number: info.number,
        branch: info.branch.clone(),
        commit: info.commit.clone(),
        status,
        status_source: if info.complete {
            info.status_source.clone()
        } else {
            None
        },
        started_at: info.started_at.and_then(time),
        finished_at: info.finished_at.and_then(time),
        duration_seconds: info.duration_ms.map(|ms| ms as f64 / 1000.0),
        complete: info.complete,
        shards: Shards {
            expected: u32::try_from(info.expected_shards).unwrap_or(u32::MAX),
            received: u32::try_from(info.received_shards).unwrap_or(u32::MAX),
        },
        ci: Ci {
            provider: info.ci_provider.clone(),
            url: info.ci_url.clone(),
        },
        tests: info.tests.map(|t| TestTotals::from_counts(t.map(u))),
        coverage,
    }
}

fn file_answers(table: &Table) -> Vec<FileCoverage> {
    let u = |i, c| int(table, i, c).map_or(0, |v| v.max(0) as u64);
    (0..table.rows.len())
        .map(|i| FileCoverage {
            path: super::text(table, i, "path"),
            lines_valid: u(i, "lines_valid"),
            lines_covered: u(i, "lines_covered"),
            line_rate: float(table, i, "line_rate"),
            branches_valid: u(i, "branches_valid"),
            branches_covered: u(i, "branches_covered"),
            branch_rate: float(table, i, "branch_rate"),
            previous_line_rate: float(table, i, "previous_line_rate"),
            line_delta_pp: float(table, i, "line_delta_pp"),
        })
        .collect()
}

impl History {
    /// A page of builds, newest first (running ones included, as `running`).
    ///
    /// # Errors
    /// The store fails.
    pub async fn builds(&self, project: &Project, params: &BuildsParams) -> Result<BuildList> {
        let snapshot = self.snapshot(project).await?;
        let limit = params.limit.clamp(1, 1000);
        let infos = self
            .store
            .builds(
                project.id,
                params.branch.as_deref(),
                params.from_ms,
                params.to_ms,
                i64::from(limit),
                i64::from(params.offset),
            )
            .await?;
        Ok(BuildList {
            project: project.name.clone(),
            limit,
            offset: params.offset,
            builds: infos.iter().map(|b| build_answer(b, &snapshot)).collect(),
        })
    }

    /// A build by its CI id.
    ///
    /// # Errors
    /// [`Error::NotFound`]; the store fails.
    pub(crate) async fn build_info(&self, project: &Project, id: &str) -> Result<BuildInfo> {
        self.store
            .build(project.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no build {id:?} in {:?}", project.name)))
    }

    /// One build as answered (its status and totals), without its tests.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the store fails.
    pub async fn build_of(&self, project: &Project, id: &str) -> Result<Build> {
        let snapshot = self.snapshot(project).await?;
        let info = self.build_info(project, id).await?;
        Ok(build_answer(&info, &snapshot))
    }

    /// One build with its tests (failed and errored first) and its files' coverage compared
    /// with the previous build with coverage on its branch.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the store fails.
    pub async fn build(&self, project: &Project, id: &str) -> Result<BuildDetail> {
        let snapshot = self.snapshot(project).await?;
        let info = self.build_info(project, id).await?;
        let build = build_answer(&info, &snapshot);
        let tests = self
            .store
            .build_results(info.id)
            .await?
            .into_iter()
            .map(|r| BuildTest {
                test: TestRef::from(&r),
                status: r.status.to_owned(),
                flaky: r.flaky,
                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                duration_s: r.duration_s,
                message: r.message,
            })
            .collect();
        let coverage_files = self.file_coverage(&snapshot, &info).await?.1;
        Ok(BuildDetail {
            project: project.name.clone(),
            build,
            tests,
            coverage_files,
        })
    }

    /// A build's files with their change since the previous build with coverage on its
    /// branch ([`cimetrics_metrics::coverage_per_file`]); returns that build's CI id too.
    async fn file_coverage(
        &self,
        snapshot: &Snapshot,
        info: &BuildInfo,
    ) -> Result<(Option<String>, Vec<FileCoverage>)> {
        let (previous, files) = self.files_with_previous(snapshot, info).await?;
        let frame = cimetrics_metrics::coverage_per_file(
            files.lazy(),
            info.id,
            previous.map(|p| p.build.build_id),
        )?;
        Ok((
            previous.map(|p| p.ci_build_id.clone()),
            file_answers(&Table::from_frame(&frame)?),
        ))
    }

    /// The previous complete build with coverage on a build's branch, and the file coverage
    /// frame of both (one read).
    async fn files_with_previous<'a>(
        &self,
        snapshot: &'a Snapshot,
        info: &BuildInfo,
    ) -> Result<(Option<&'a BuildSummary>, DataFrame)> {
        let previous = previous_with_coverage(snapshot, &info.branch, position(info));
        let mut ids = vec![info.id];
        ids.extend(previous.map(|p| p.build.build_id));
        let rows = self.store.file_coverage(&ids).await?;
        Ok((previous, coverage_frame(&rows, true)?))
    }

    /// The build a coverage question is about: `build`, else the latest complete build with
    /// coverage (of `branch` if given); `None` when no build has coverage.
    async fn coverage_build(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        build: Option<&str>,
        branch: Option<&str>,
    ) -> Result<Option<BuildInfo>> {
        let id = match build {
            Some(id) => Some(id.to_owned()),
            None => snapshot
                .summaries
                .iter()
                .rev()
                .find(|s| s.coverage.is_some() && branch.is_none_or(|b| s.build.branch == b))
                .map(|s| s.ci_build_id.clone()),
        };
        match id {
            Some(id) => Ok(Some(self.build_info(project, &id).await?)),
            None => Ok(None),
        }
    }

    /// The files of a build (default: the latest complete build with coverage, of `branch`
    /// if given) with their change since the previous build with coverage on its branch.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the store fails.
    pub async fn coverage_files(
        &self,
        project: &Project,
        build: Option<&str>,
        branch: Option<&str>,
    ) -> Result<CoverageFiles> {
        let snapshot = self.snapshot(project).await?;
        let Some(info) = self
            .coverage_build(project, &snapshot, build, branch)
            .await?
        else {
            return Ok(CoverageFiles {
                project: project.name.clone(),
                build: None,
                previous_build: None,
                files: Vec::new(),
            });
        };
        let (previous_build, files) = self.file_coverage(&snapshot, &info).await?;
        Ok(CoverageFiles {
            project: project.name.clone(),
            build: Some(info.ci_build_id),
            previous_build,
            files,
        })
    }

    /// The values badges and the dashboard show: over the last `days` days of builds (of
    /// `branch`), the success rate ([`cimetrics_metrics::success_rate_of`]), the pass rate
    /// of their summed test totals ([`cimetrics_metrics::pass_rate_of`]) and the median
    /// build time ([`cimetrics_metrics::median`]); the line and branch rate of the latest
    /// build with coverage, at any age.
    ///
    /// # Errors
    /// The store fails.
    pub async fn current(
        &self,
        project: &Project,
        branch: Option<&str>,
        days: u32,
    ) -> Result<Current> {
        let snapshot = self.snapshot(project).await?;
        let period: Vec<&BuildSummary> = summaries_in(&snapshot, branch, days).collect();
        let mut counts = [0u64; 6];
        for t in period.iter().filter_map(|s| s.tests) {
            for (sum, n) in counts.iter_mut().zip(t) {
                *sum += n;
            }
        }
        let latest = snapshot
            .summaries
            .iter()
            .rev()
            .filter(|s| branch.is_none_or(|b| s.build.branch == b))
            .find_map(|s| s.coverage.as_ref());
        Ok(Current {
            success_rate: cimetrics_metrics::success_rate_of(
                period.iter().map(|s| s.build.status.as_str()),
            ),
            pass_rate: TestTotals::from_counts(counts).pass_rate,
            line_rate: latest.and_then(line_rate),
            branch_rate: latest
                .and_then(|c| cimetrics_metrics::ratio(c.branches_covered, c.branches_valid)),
            median_duration_s: cimetrics_metrics::median(
                period.iter().filter_map(|s| s.build.duration_s),
            ),
        })
    }

    /// The quality score over the last `days` days up to the latest build
    /// ([`cimetrics_metrics::score`] of [`cimetrics_metrics::score_inputs`], default weights
    /// and flaky thresholds).
    ///
    /// # Errors
    /// The store fails.
    pub async fn score(
        &self,
        project: &Project,
        branch: Option<&str>,
        days: u32,
    ) -> Result<QualityScore> {
        let snapshot = self.snapshot(project).await?;
        let weights = ScoreWeights::default();
        let score = match last_days(&snapshot, days) {
            None => cimetrics_metrics::score(&Default::default(), &weights),
            Some(period) => {
                let key = format!("score inputs over {days} days of {branch:?}");
                let inputs = snapshot
                    .once(key, self.score_inputs(project, &snapshot, branch, period))
                    .await?;
                cimetrics_metrics::score(&inputs, &weights)
            }
        };
        Ok(QualityScore {
            project: project.name.clone(),
            days,
            branch: branch.map(str::to_owned),
            version: score.version,
            score: score.score,
            grade: score.grade.map(String::from),
            components: score
                .components
                .into_iter()
                .map(|c| ScoreComponent {
                    name: c.name.into(),
                    value: c.value,
                    normalized: c.normalized,
                    weight: c.weight,
                    points: c.points,
                    formula: c.formula.into(),
                })
                .collect(),
        })
    }

    /// The score inputs of `period` on `branch` ([`cimetrics_metrics::score_inputs`]), with
    /// the code-quality score of the period's latest build with a code-quality report.
    async fn score_inputs(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        branch: Option<&str>,
        period: (i64, i64),
    ) -> Result<cimetrics_metrics::ScoreInputs> {
        let results = self.results(snapshot, project, period).await?;
        let mut inputs = cimetrics_metrics::score_inputs(
            in_period(builds_of(snapshot, branch), period),
            results.lazy(),
            snapshot.coverage.clone().lazy(),
            &FlakyConfig::default(),
        )?;
        // The code-quality score of the period's latest build with a code-quality
        // report on the branch (version 2).
        inputs.code_quality = self
            .code_quality_of_builds(project, snapshot, super::Metric::CodeQuality)
            .await?
            .into_iter()
            .filter_map(|(id, q)| {
                let s = snapshot.summary(id)?;
                let at = s.build.finished_at_ms;
                (at >= period.0 && at < period.1 && branch.is_none_or(|b| s.build.branch == b))
                    .then_some(q)
            })
            .next_back();
        Ok(inputs)
    }
}

/// What [`History::compare`] compares: a build's CI id, or `branch:NAME` for that branch's
/// latest finished build.
fn resolve(snapshot: &Snapshot, which: &str) -> Result<String> {
    match which.strip_prefix("branch:") {
        Some(branch) => snapshot
            .summaries
            .iter()
            .rev()
            .find(|s| s.build.branch == branch)
            .map(|s| s.ci_build_id.clone())
            .ok_or_else(|| Error::NotFound(format!("no finished build on branch {branch:?}"))),
        None => Ok(which.to_owned()),
    }
}

impl History {
    /// Failure streaks and MTTR over the streaks that began in the last `days` days
    /// ([`cimetrics_metrics::failure_streaks`], [`cimetrics_metrics::mean`]), each branch on
    /// its own.
    ///
    /// # Errors
    /// The store fails.
    pub async fn mttr(&self, project: &Project, branch: Option<&str>, days: u32) -> Result<Mttr> {
        let snapshot = self.snapshot(project).await?;
        let mut streaks = Vec::new();
        if let Some(period) = last_days(&snapshot, days) {
            let frame = cimetrics_metrics::failure_streaks(builds_of(&snapshot, branch))?;
            let table = Table::from_frame(&frame)?;
            for i in 0..table.rows.len() {
                let failed_at = int(&table, i, "failed_at").unwrap_or(i64::MIN);
                if !(period.0..period.1).contains(&failed_at) {
                    continue;
                }
                let id = |c: &str| int(&table, i, c).map(|b| snapshot.ci_id(b));
                streaks.push(Streak {
                    branch: super::text(&table, i, "branch"),
                    first_failed: id("first_failed").unwrap_or_default(),
                    failed_builds: super::ints(table.get(i, "failed_builds"))
                        .into_iter()
                        .map(|b| snapshot.ci_id(b))
                        .collect(),
                    failed_at: time(failed_at),
                    recovered_by: id("recovered_by"),
                    recovered_at: int(&table, i, "recovered_at").and_then(time),
                    seconds: float(&table, i, "recovery_s"),
                });
            }
        }
        let branch_now = branch
            .map(str::to_owned)
            .or_else(|| snapshot.summaries.last().map(|s| s.build.branch.clone()));
        let open_streak = streaks
            .iter()
            .rev()
            .find(|s| s.recovered_by.is_none() && Some(&s.branch) == branch_now.as_ref())
            .cloned();
        Ok(Mttr {
            project: project.name.clone(),
            branch: branch.map(str::to_owned),
            days,
            mttr_seconds: cimetrics_metrics::mean(streaks.iter().filter_map(|s| s.seconds)),
            streaks,
            open_streak,
        })
    }

    /// A build's packages (default: the latest complete build with coverage) with their
    /// change since the previous build with coverage on its branch
    /// ([`cimetrics_metrics::coverage_per_package`] of each, [`cimetrics_metrics::delta_pp`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build; the store fails.
    pub async fn coverage_packages(
        &self,
        project: &Project,
        build: Option<&str>,
        branch: Option<&str>,
    ) -> Result<CoveragePackages> {
        let snapshot = self.snapshot(project).await?;
        let Some(info) = self
            .coverage_build(project, &snapshot, build, branch)
            .await?
        else {
            return Ok(CoveragePackages {
                project: project.name.clone(),
                build: None,
                previous_build: None,
                packages: Vec::new(),
            });
        };
        let (previous_summary, frame) = self.files_with_previous(&snapshot, &info).await?;
        let previous = previous_summary.map(|p| p.build.build_id);
        let per = |build: i64| -> Result<Table> {
            Ok(Table::from_frame(
                &cimetrics_metrics::coverage_per_package(frame.clone().lazy(), build)?,
            )?)
        };
        let now = per(info.id)?;
        let before = match previous {
            Some(p) => Some(per(p)?),
            None => None,
        };
        let u = |t: &Table, i, c| int(t, i, c).map_or(0, |v| v.max(0) as u64);
        let packages = (0..now.rows.len())
            .map(|i| {
                let package = super::text(&now, i, "package");
                let line_rate = float(&now, i, "line_rate");
                let previous_line_rate = before.as_ref().and_then(|b| {
                    (0..b.rows.len())
                        .find(|&k| super::text(b, k, "package") == package)
                        .and_then(|k| float(b, k, "line_rate"))
                });
                PackageCoverage {
                    files: super::u32_of(int(&now, i, "files")),
                    lines_valid: u(&now, i, "lines_valid"),
                    lines_covered: u(&now, i, "lines_covered"),
                    line_rate,
                    branches_valid: u(&now, i, "branches_valid"),
                    branches_covered: u(&now, i, "branches_covered"),
                    branch_rate: float(&now, i, "branch_rate"),
                    previous_line_rate,
                    line_delta_pp: cimetrics_metrics::delta_pp(line_rate, previous_line_rate),
                    package,
                }
            })
            .collect();
        Ok(CoveragePackages {
            project: project.name.clone(),
            previous_build: previous_summary.map(|p| p.ci_build_id.clone()),
            build: Some(info.ci_build_id),
            packages,
        })
    }

    /// Two builds side by side: each one's totals, the tests newly failing (failing in head,
    /// not in base), fixed (failing in base, passing in head), added and removed, and head's
    /// coverage against base's, overall and per file. `base` and `head` are CI ids or
    /// `branch:NAME` (that branch's latest finished build).
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown build or a branch without builds; the store fails.
    pub async fn compare(&self, project: &Project, base: &str, head: &str) -> Result<Comparison> {
        let snapshot = self.snapshot(project).await?;
        let (base_id, head_id) = (resolve(&snapshot, base)?, resolve(&snapshot, head)?);
        let (base_info, head_info) = (
            self.build_info(project, &base_id).await?,
            self.build_info(project, &head_id).await?,
        );
        let outcomes = |rows: Vec<crate::store::BuildTestResult>| {
            rows.into_iter()
                .map(|r| {
                    let test = TestRef::from(&r);
                    (test.id.clone(), (test, r.status))
                })
                .collect::<std::collections::BTreeMap<String, (TestRef, &'static str)>>()
        };
        let before = outcomes(self.store.build_results(base_info.id).await?);
        let after = outcomes(self.store.build_results(head_info.id).await?);
        let failing = |s: &str| s == "failed" || s == "errored";
        let change = |test: &TestRef, b: Option<&str>, h: Option<&str>| TestChange {
            test: test.clone(),
            base: b.map(str::to_owned),
            head: h.map(str::to_owned),
        };
        let (mut newly_failing, mut fixed, mut added, mut removed) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (id, (test, h)) in &after {
            let b = before.get(id).map(|(_, s)| *s);
            if failing(h) && !b.is_some_and(failing) {
                newly_failing.push(change(test, b, Some(h)));
            }
            if b.is_some_and(failing) && *h == "passed" {
                fixed.push(change(test, b, Some(h)));
            }
            if b.is_none() {
                added.push(change(test, None, Some(h)));
            }
        }
        for (id, (test, b)) in &before {
            if !after.contains_key(id) {
                removed.push(change(test, Some(b), None));
            }
        }
        let rows = self
            .store
            .file_coverage(&[head_info.id, base_info.id])
            .await?;
        let frame = cimetrics_metrics::coverage_per_file(
            coverage_frame(&rows, true)?.lazy(),
            head_info.id,
            Some(base_info.id),
        )?;
        let (base, head) = (
            build_answer(&base_info, &snapshot),
            build_answer(&head_info, &snapshot),
        );
        let rate = |b: &Build| b.coverage.as_ref().and_then(|c| c.line_rate);
        Ok(Comparison {
            project: project.name.clone(),
            coverage: CoverageComparison {
                delta_pp: cimetrics_metrics::delta_pp(rate(&head), rate(&base)),
                files: file_answers(&Table::from_frame(&frame)?),
            },
            base,
            head,
            newly_failing,
            fixed,
            added,
            removed,
        })
    }
}
