//! Questions about tests: flaky, slowest, failing now, duration regressions, one test's
//! history.

use std::sync::Arc;

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{ResultRow, TEST_ID, builds_frame, results_frame};
use cimetrics_metrics::{FlakyConfig, SlowestBy, Table, Value};

use super::{
    History, Result, boolean, builds_of, float, in_period, int, ints, last_days, text, u32_of,
};
use crate::Error;
use crate::answers::{
    CommitEvidence, FailingTest, FailingTests, FlakyDefinitions, FlakyTest, FlakyTests,
    FlakyVerdicts, FlipRate, PassOnRetry, Regression, Regressions, SameCommit, SlowTest,
    SlowestTests, TestHistory, TestRef, TestRun, time,
};
use crate::cache::Snapshot;
use crate::store::Project;

/// What [`History::flaky`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct FlakyParams {
    /// Only builds of this branch.
    pub branch: Option<String>,
    /// Days back from the latest build.
    pub days: u32,
    /// At most this many tests.
    pub limit: u32,
    /// The definitions' thresholds.
    pub config: FlakyConfig,
}

impl Default for FlakyParams {
    fn default() -> Self {
        FlakyParams {
            branch: None,
            days: 90,
            limit: 50,
            config: FlakyConfig::default(),
        }
    }
}

/// What [`History::slowest`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowestParams {
    /// Only builds of this branch.
    pub branch: Option<String>,
    /// Days back from the latest build.
    pub days: u32,
    /// Order by p50 or p95.
    pub by: SlowestBy,
    /// At most this many tests.
    pub limit: u32,
}

impl Default for SlowestParams {
    fn default() -> Self {
        SlowestParams {
            branch: None,
            days: 30,
            by: SlowestBy::P95,
            limit: 50,
        }
    }
}

/// What [`History::failing`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingParams {
    /// The branch (default: the latest build's).
    pub branch: Option<String>,
    /// Days back from the latest build.
    pub days: u32,
}

impl Default for FailingParams {
    fn default() -> Self {
        FailingParams {
            branch: None,
            days: 90,
        }
    }
}

impl History {
    /// A results metric over the last `days` days of `branch`: `f(results, builds)`, or the
    /// metric over nothing (its own empty output) when there is no history. Worked out once
    /// per snapshot for each `metric` (the metric's name and every parameter `f` uses),
    /// branch and days.
    async fn over_results(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        (branch, days): (Option<&str>, u32),
        metric: String,
        f: impl FnOnce(LazyFrame, LazyFrame) -> cimetrics_metrics::Result<DataFrame>,
    ) -> Result<Arc<Table>> {
        let key = format!("{metric} over {days} days of {branch:?}");
        snapshot
            .once(key, self.metric_table(project, snapshot, (branch, days), f))
            .await
    }

    /// [`History::over_results`], worked out.
    async fn metric_table(
        &self,
        project: &Project,
        snapshot: &Snapshot,
        (branch, days): (Option<&str>, u32),
        f: impl FnOnce(LazyFrame, LazyFrame) -> cimetrics_metrics::Result<DataFrame>,
    ) -> Result<Table> {
        let frame = match last_days(snapshot, days) {
            Some(period) => {
                let results = self.results(snapshot, project, period).await?;
                f(
                    results.lazy(),
                    in_period(builds_of(snapshot, branch), period),
                )?
            }
            None => f(results_frame(&[])?.lazy(), builds_frame(&[])?.lazy())?,
        };
        Ok(Table::from_frame(&frame)?)
    }

    /// Flaky tests over the last `days` days, under the three definitions of
    /// [`cimetrics_metrics::flaky_tests`], each with its evidence; the `limit` with the
    /// highest flake rate.
    ///
    /// # Errors
    /// The store fails.
    pub async fn flaky(&self, project: &Project, params: &FlakyParams) -> Result<FlakyTests> {
        let snapshot = self.snapshot(project).await?;
        let config = &params.config;
        let table = self
            .over_results(
                project,
                &snapshot,
                (params.branch.as_deref(), params.days),
                format!("flaky {config:?}"),
                |r, b| cimetrics_metrics::flaky_tests(r, b, config),
            )
            .await?;
        let names = self.test_refs(project, &table).await?;
        let ids =
            |v: Vec<i64>| -> Vec<String> { v.into_iter().map(|b| snapshot.ci_id(b)).collect() };
        let mut tests = Vec::new();
        for i in 0..table.rows.len().min(params.limit as usize) {
            let Some(test) = test_of(&table, i, &names) else {
                continue;
            };
            let commits = match table.get(i, "same_commit_commits") {
                Some(Value::List(c)) => c.clone(),
                _ => Vec::new(),
            };
            let nested = |column: &str| -> Vec<Vec<i64>> {
                match table.get(i, column) {
                    Some(Value::List(lists)) => lists.iter().map(|l| ints(Some(l))).collect(),
                    _ => Vec::new(),
                }
            };
            let (failed_in, passed_in) = (
                nested("same_commit_failed_in"),
                nested("same_commit_passed_in"),
            );
            let commits = commits
                .iter()
                .enumerate()
                .map(|(k, c)| CommitEvidence {
                    commit: c.to_csv(),
                    failed_in: ids(failed_in.get(k).cloned().unwrap_or_default()),
                    passed_in: ids(passed_in.get(k).cloned().unwrap_or_default()),
                })
                .collect();
            tests.push(FlakyTest {
                test,
                runs: u32_of(int(&table, i, "runs")),
                passes: u32_of(int(&table, i, "passes")),
                failures: u32_of(int(&table, i, "failures")),
                pass_rate: float(&table, i, "pass_rate"),
                flake_rate: float(&table, i, "flake_rate"),
                same_commit: SameCommit {
                    flaky: boolean(&table, i, "same_commit"),
                    commits,
                },
                pass_on_retry: PassOnRetry {
                    flaky: boolean(&table, i, "pass_on_retry"),
                    builds: ids(ints(table.get(i, "retry_builds"))),
                },
                flip_rate: FlipRate {
                    flaky: boolean(&table, i, "flip_rate_flaky"),
                    branch: match table.get(i, "flip_branch") {
                        Some(Value::Str(b)) => Some(b.clone()),
                        _ => None,
                    },
                    runs: ids(ints(table.get(i, "flip_builds"))),
                    sequence: text(&table, i, "flip_sequence"),
                    flips: u32_of(int(&table, i, "flips")),
                    rate: float(&table, i, "flip_rate"),
                },
            });
        }
        Ok(FlakyTests {
            project: project.name.clone(),
            days: params.days,
            branch: params.branch.clone(),
            definitions: definitions(config),
            tests,
        })
    }

    /// The `limit` slowest tests over the last `days` days by p50 or p95
    /// ([`cimetrics_metrics::slowest_tests`]).
    ///
    /// # Errors
    /// The store fails.
    pub async fn slowest(&self, project: &Project, params: &SlowestParams) -> Result<SlowestTests> {
        let snapshot = self.snapshot(project).await?;
        let (by, limit) = (params.by, params.limit);
        let table = self
            .over_results(
                project,
                &snapshot,
                (params.branch.as_deref(), params.days),
                format!("slowest {by:?} {limit}"),
                |r, b| cimetrics_metrics::slowest_tests(r, b, by, limit),
            )
            .await?;
        let names = self.test_refs(project, &table).await?;
        let tests = (0..table.rows.len())
            .filter_map(|i| {
                Some(SlowTest {
                    test: test_of(&table, i, &names)?,
                    runs: u32_of(int(&table, i, "runs")),
                    p50_s: float(&table, i, "p50_s"),
                    p95_s: float(&table, i, "p95_s"),
                    max_s: float(&table, i, "max_s"),
                })
            })
            .collect();
        Ok(SlowestTests {
            project: project.name.clone(),
            days: params.days,
            branch: params.branch.clone(),
            by: match by {
                SlowestBy::P50 => "p50",
                SlowestBy::P95 => "p95",
            }
            .into(),
            limit,
            tests,
        })
    }

    /// The tests whose latest run on the branch failed, each with the first build of its
    /// failure streak ([`cimetrics_metrics::failing_since`]), over the last `days` days.
    /// Without a branch, the latest build's.
    ///
    /// # Errors
    /// The store fails.
    pub async fn failing(&self, project: &Project, params: &FailingParams) -> Result<FailingTests> {
        let snapshot = self.snapshot(project).await?;
        let branch = match &params.branch {
            Some(b) => b.clone(),
            None => snapshot
                .summaries
                .last()
                .map_or_else(|| "main".to_owned(), |s| s.build.branch.clone()),
        };
        let table = self
            .over_results(
                project,
                &snapshot,
                (Some(&branch), params.days),
                "failing".into(),
                |r, b| cimetrics_metrics::failing_since(r, b, &branch),
            )
            .await?;
        let names = self.test_refs(project, &table).await?;
        let tests = (0..table.rows.len())
            .filter_map(|i| {
                let since = int(&table, i, "since_build_id")?;
                Some(FailingTest {
                    test: test_of(&table, i, &names)?,
                    since_build: snapshot.ci_id(since),
                    since: snapshot
                        .summary(since)
                        .and_then(|s| time(s.build.finished_at_ms)),
                    since_commit: text(&table, i, "since_commit"),
                    failing_builds: ints(table.get(i, "streak_builds"))
                        .into_iter()
                        .map(|b| snapshot.ci_id(b))
                        .collect(),
                })
            })
            .collect();
        Ok(FailingTests {
            project: project.name.clone(),
            branch,
            days: params.days,
            tests,
        })
    }
}

fn test_of(
    table: &Table,
    row: usize,
    names: &std::collections::HashMap<i64, TestRef>,
) -> Option<TestRef> {
    names.get(&int(table, row, TEST_ID)?).cloned()
}

/// The definitions in words, with the thresholds in force.
pub(crate) fn definitions(config: &FlakyConfig) -> FlakyDefinitions {
    FlakyDefinitions {
        same_commit: format!(
            "passed and failed on the same commit, on at least {} commit(s)",
            config.same_commit_min_commits
        ),
        pass_on_retry: format!(
            "passed after a failed attempt in one build, in at least {} build(s)",
            config.pass_on_retry_min_builds
        ),
        flip_rate: format!(
            "over the last {} runs, flips/(runs-1) >= {} with at least {} flips",
            config.flip_runs, config.flip_rate_min, config.flip_min_flips
        ),
        flake_rate: "(flaky passes + failures on a commit that also passed) / runs".into(),
    }
}

/// What [`History::regressions`] is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionParams {
    /// Only builds of this branch.
    pub branch: Option<String>,
    /// Days back from the latest build.
    pub days: u32,
    /// The last this many of them are "recent".
    pub recent_days: u32,
    /// Smallest increase listed, percent.
    pub min_increase_pct: f64,
    /// Timed runs each side needs.
    pub min_runs: u32,
}

impl Default for RegressionParams {
    fn default() -> Self {
        RegressionParams {
            branch: None,
            days: 30,
            recent_days: 7,
            min_increase_pct: 20.0,
            min_runs: 3,
        }
    }
}

impl History {
    /// Tests whose median time over the last `recent_days` is at least `min_increase_pct`
    /// above their median before, within the last `days`
    /// ([`cimetrics_metrics::duration_regressions`]).
    ///
    /// # Errors
    /// The store fails.
    pub async fn regressions(
        &self,
        project: &Project,
        params: &RegressionParams,
    ) -> Result<Regressions> {
        let snapshot = self.snapshot(project).await?;
        let split = snapshot.latest_ms.map_or(i64::MAX, |t| {
            t - i64::from(params.recent_days) * crate::cache::DAY_MS
        });
        let table = self
            .over_results(
                project,
                &snapshot,
                (params.branch.as_deref(), params.days),
                format!(
                    "regressions split {split} {} {}",
                    params.min_increase_pct, params.min_runs
                ),
                |r, b| {
                    cimetrics_metrics::duration_regressions(
                        r,
                        b,
                        split,
                        params.min_increase_pct,
                        params.min_runs,
                    )
                },
            )
            .await?;
        let names = self.test_refs(project, &table).await?;
        let tests = (0..table.rows.len())
            .filter_map(|i| {
                Some(Regression {
                    test: test_of(&table, i, &names)?,
                    earlier_runs: u32_of(int(&table, i, "earlier_runs")),
                    earlier_p50_s: float(&table, i, "earlier_p50_s"),
                    recent_runs: u32_of(int(&table, i, "recent_runs")),
                    recent_p50_s: float(&table, i, "recent_p50_s"),
                    increase_pct: float(&table, i, "increase_pct"),
                })
            })
            .collect();
        Ok(Regressions {
            project: project.name.clone(),
            days: params.days,
            recent_days: params.recent_days,
            min_increase_pct: params.min_increase_pct,
            min_runs: params.min_runs,
            branch: params.branch.clone(),
            tests,
        })
    }

    /// One test's runs over the last `days` days, newest first, with its pass and failure
    /// rates ([`cimetrics_metrics::failure_rate_per_test`]), p50/p95
    /// ([`cimetrics_metrics::slowest_tests`]) and the flaky definitions' verdicts
    /// ([`cimetrics_metrics::flaky_tests`]). `id` is the test's public id.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown test; the store fails.
    pub async fn test_history(
        &self,
        project: &Project,
        id: &str,
        days: u32,
    ) -> Result<TestHistory> {
        let unknown = || Error::NotFound(format!("no test {id:?} in {:?}", project.name));
        let key_hash = u64::from_str_radix(id, 16).map_err(|_| unknown())? as i64;
        let snapshot = self.snapshot(project).await?;
        let from = last_days(&snapshot, days).map_or(i64::MAX, |(from, _)| from);
        let (name, mut runs) = self
            .store
            .test_runs(project.id, key_hash, from)
            .await?
            .ok_or_else(unknown)?;
        runs.retain(|r| snapshot.summary(r.build_id).is_some());
        let results: Vec<ResultRow> = runs
            .iter()
            .map(|r| ResultRow {
                build_id: r.build_id,
                test_id: name.id,
                status: r.status,
                flaky: r.flaky,
                attempts: r.attempts,
                duration_s: r.duration_s,
            })
            .collect();
        let results = results_frame(&results)?;
        let builds = snapshot.builds.clone().lazy();
        let rates = Table::from_frame(&cimetrics_metrics::failure_rate_per_test(
            results.clone().lazy(),
            builds.clone(),
        )?)?;
        let times = Table::from_frame(&cimetrics_metrics::slowest_tests(
            results.clone().lazy(),
            builds.clone(),
            SlowestBy::P95,
            1,
        )?)?;
        let flaky = Table::from_frame(&cimetrics_metrics::flaky_tests(
            results.lazy(),
            builds,
            &FlakyConfig::default(),
        )?)?;
        runs.sort_by_key(|r| {
            std::cmp::Reverse(
                snapshot
                    .summary(r.build_id)
                    .map(|s| (s.build.finished_at_ms, s.build.build_id)),
            )
        });
        let runs = runs
            .into_iter()
            .filter_map(|r| {
                let s = snapshot.summary(r.build_id)?;
                Some(TestRun {
                    build: s.ci_build_id.clone(),
                    branch: s.build.branch.clone(),
                    commit: s.build.commit.clone(),
                    finished_at: time(s.build.finished_at_ms),
                    status: r.status.to_owned(),
                    flaky: r.flaky,
                    attempts: r.attempts,
                    duration_s: r.duration_s,
                    message: r.message,
                })
            })
            .collect();
        Ok(TestHistory {
            project: project.name.clone(),
            test: TestRef::from(name),
            days,
            runs_counted: u32_of(int(&rates, 0, "runs")),
            pass_rate: float(&rates, 0, "pass_rate"),
            failure_rate: float(&rates, 0, "failure_rate"),
            p50_s: float(&times, 0, "p50_s"),
            p95_s: float(&times, 0, "p95_s"),
            flaky: FlakyVerdicts {
                same_commit: boolean(&flaky, 0, "same_commit"),
                pass_on_retry: boolean(&flaky, 0, "pass_on_retry"),
                flip_rate: boolean(&flaky, 0, "flip_rate_flaky"),
            },
            runs,
        })
    }
}
