//! Questions about builds: the list, one build, its files' coverage, the current values,
//! the quality score.

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{CoverageRow, coverage_frame};
use cimetrics_metrics::{FlakyConfig, ScoreWeights, Table};

use super::{History, Result, builds_of, float, in_period, int, last_days, summaries_in, test_id};
use crate::Error;
use crate::answers::{
    Build, BuildDetail, BuildList, BuildTest, Ci, CoverageFiles, CoverageSummary, Current,
    FileCoverage, QualityScore, ScoreComponent, Shards, TestRef, TestTotals, time,
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

/// The complete build with coverage on `branch` that comes last before `(finished_at, id)`.
pub(crate) fn previous_with_coverage<'a>(
    snapshot: &'a Snapshot,
    branch: &str,
    before: (i64, i64),
) -> Option<&'a BuildSummary> {
    snapshot.summaries.iter().rev().find(|s| {
        s.coverage.is_some()
            && s.build.branch == branch
            && (s.build.finished_at_ms, s.build.build_id) < before
    })
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
                test: TestRef {
                    id: test_id(r.key_hash),
                    suite: r.suite,
                    classname: r.classname,
                    name: r.name,
                    file: r.file,
                },
                status: r.status.to_owned(),
                flaky: r.flaky,
                attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
                duration_s: r.duration_s,
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
        let previous = previous_with_coverage(snapshot, &info.branch, position(info));
        let mut ids = vec![info.id];
        ids.extend(previous.map(|p| p.build.build_id));
        let rows = self.store.file_coverage(&ids).await?;
        let frame = cimetrics_metrics::coverage_per_file(
            coverage_frame(&rows, true)?.lazy(),
            info.id,
            previous.map(|p| p.build.build_id),
        )?;
        Ok((
            previous.map(|p| p.ci_build_id.clone()),
            file_answers(&Table::from_frame(&frame)?),
        ))
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
        let id = match build {
            Some(id) => Some(id.to_owned()),
            None => snapshot
                .summaries
                .iter()
                .rev()
                .find(|s| s.coverage.is_some() && branch.is_none_or(|b| s.build.branch == b))
                .map(|s| s.ci_build_id.clone()),
        };
        let Some(id) = id else {
            return Ok(CoverageFiles {
                project: project.name.clone(),
                build: None,
                previous_build: None,
                files: Vec::new(),
            });
        };
        let info = self.build_info(project, &id).await?;
        let (previous_build, files) = self.file_coverage(&snapshot, &info).await?;
        Ok(CoverageFiles {
            project: project.name.clone(),
            build: Some(id),
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
                let results = self.results(&snapshot, project, period).await?;
                let inputs = cimetrics_metrics::score_inputs(
                    in_period(builds_of(&snapshot, branch), period),
                    results.lazy(),
                    snapshot.coverage.clone().lazy(),
                    &FlakyConfig::default(),
                )?;
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
}
