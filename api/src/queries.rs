//! The questions the service answers, each as one function over a [`Snapshot`]: the metrics
//! crate's functions applied to the right slice of the history. The JSON API, the charts,
//! the dashboard and the benchmarks call these, so they all give the same numbers.
//!
//! Periods are counted back from the project's latest build (`days` before it, through
//! it), so a history imported from last year answers the same as a live one.

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{self, BRANCH, BUILD_ID, FINISHED_AT, builds_frame, results_frame};
use cimetrics_metrics::{FlakyConfig, Score, ScoreWeights, SlowestBy, WindowSpec};

use crate::history::{DAY_MS, Error, Snapshot};
use crate::store::Store;

/// A trend series the API and the charts know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Successful / finished builds.
    SuccessRate,
    /// Passed / run tests.
    PassRate,
    /// Line coverage.
    Coverage,
    /// Branch coverage.
    BranchCoverage,
    /// Build duration (median).
    Duration,
    /// Quality score (within the cached period: older windows are null).
    Quality,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 6] = [
        Metric::SuccessRate,
        Metric::PassRate,
        Metric::Coverage,
        Metric::BranchCoverage,
        Metric::Duration,
        Metric::Quality,
    ];

    /// The name used in URLs.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SuccessRate => "success_rate",
            Metric::PassRate => "pass_rate",
            Metric::Coverage => "coverage",
            Metric::BranchCoverage => "branch_coverage",
            Metric::Duration => "duration",
            Metric::Quality => "quality",
        }
    }

    /// The column of the trend frame that holds the value.
    pub fn value_column(self) -> &'static str {
        match self {
            Metric::SuccessRate => "success_rate",
            Metric::PassRate => "pass_rate",
            Metric::Coverage => "line_rate",
            Metric::BranchCoverage => "branch_rate",
            Metric::Duration => "p50_s",
            Metric::Quality => "score",
        }
    }

    /// Rates are fractions (shown as percentages); duration is seconds; quality 0–100.
    pub fn is_rate(self) -> bool {
        !matches!(self, Metric::Duration | Metric::Quality)
    }

    /// A human title.
    pub fn title(self) -> &'static str {
        match self {
            Metric::SuccessRate => "Build success rate",
            Metric::PassRate => "Test pass rate",
            Metric::Coverage => "Line coverage",
            Metric::BranchCoverage => "Branch coverage",
            Metric::Duration => "Build duration (median)",
            Metric::Quality => "Quality score",
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown metric {s:?} (one of {})",
                    Metric::ALL.map(Metric::name).join(", ")
                )
            })
    }
}

/// The complete builds, optionally of one branch.
pub fn builds(snapshot: &Snapshot, branch: Option<&str>) -> LazyFrame {
    let builds = snapshot.builds.clone().lazy();
    match branch {
        Some(b) => builds.filter(col(BRANCH).eq(lit(b))),
        None => builds,
    }
}

/// `[latest build − days, latest build]` in ms (`None` without builds).
pub fn last_days(snapshot: &Snapshot, days: u32) -> Option<(i64, i64)> {
    let latest = snapshot.latest_ms?;
    Some((latest - i64::from(days) * DAY_MS, latest + 1))
}

fn in_period(builds: LazyFrame, (from, to): (i64, i64)) -> LazyFrame {
    let at = col(FINISHED_AT).cast(DataType::Int64);
    builds.filter(at.clone().gt_eq(lit(from)).and(at.lt(lit(to))))
}

/// The raw results of `[from, to)`: from the cache, or read from the store when the period
/// reaches before it.
async fn results(
    store: &Store,
    snapshot: &Snapshot,
    project_id: i64,
    (from, to): (i64, i64),
) -> Result<DataFrame, Error> {
    if let Some(frame) = snapshot.results_between(from, to)? {
        return Ok(frame);
    }
    let history = store
        .history(project_id, None, Some(from), Some(to))
        .await?;
    Ok(results_frame(&history.results)?)
}

/// A trend series per window (see the metrics crate for each formula). Success rate,
/// coverage and duration come from the builds; the pass rate from the stored build totals,
/// so every series covers the whole history.
///
/// # Errors
/// An unknown time zone.
pub fn trend(
    snapshot: &Snapshot,
    metric: Metric,
    spec: &WindowSpec,
    branch: Option<&str>,
) -> Result<DataFrame, Error> {
    let builds = builds(snapshot, branch);
    Ok(match metric {
        Metric::SuccessRate => cimetrics_metrics::success_rate(builds, spec, false)?,
        Metric::PassRate => cimetrics_metrics::pass_rate_per_window_of_counts(
            snapshot.counts.clone().lazy(),
            builds,
            spec,
        )?,
        Metric::Coverage | Metric::BranchCoverage => cimetrics_metrics::coverage_per_window(
            snapshot.coverage.clone().lazy(),
            builds,
            spec,
            false,
        )?,
        Metric::Duration => cimetrics_metrics::duration_trend(builds, spec)?,
        Metric::Quality => {
            // Raw results are needed: the cached period only (older windows are null).
            let from = snapshot.results_from_ms;
            let results = snapshot
                .results_between(from, i64::MAX)?
                .unwrap_or_else(DataFrame::empty);
            let results = if results.width() == 0 {
                results_frame(&[])?
            } else {
                results
            };
            cimetrics_metrics::score_per_window(
                in_period(builds, (from, i64::MAX)),
                results.lazy(),
                snapshot.coverage.clone().lazy(),
                spec,
                &FlakyConfig::default(),
                &ScoreWeights::default(),
            )?
        }
    })
}

/// Flaky tests over the last `days` days (all three definitions, with evidence), the
/// `limit` with the highest flake rate.
///
/// # Errors
/// The store fails.
pub async fn flaky(
    store: &Store,
    snapshot: &Snapshot,
    project_id: i64,
    branch: Option<&str>,
    days: u32,
    config: &FlakyConfig,
    limit: u32,
) -> Result<DataFrame, Error> {
    let Some(period) = last_days(snapshot, days) else {
        return empty_results_metric(|r, b| cimetrics_metrics::flaky_tests(r, b, config));
    };
    let results = results(store, snapshot, project_id, period).await?;
    let builds = in_period(builds(snapshot, branch), period);
    Ok(cimetrics_metrics::flaky_tests(results.lazy(), builds, config)?.head(Some(limit as usize)))
}

/// The `limit` slowest tests over the last `days` days by p50 or p95.
///
/// # Errors
/// The store fails.
pub async fn slowest(
    store: &Store,
    snapshot: &Snapshot,
    project_id: i64,
    branch: Option<&str>,
    days: u32,
    by: SlowestBy,
    limit: u32,
) -> Result<DataFrame, Error> {
    let Some(period) = last_days(snapshot, days) else {
        return empty_results_metric(|r, b| cimetrics_metrics::slowest_tests(r, b, by, limit));
    };
    let results = results(store, snapshot, project_id, period).await?;
    let builds = in_period(builds(snapshot, branch), period);
    Ok(cimetrics_metrics::slowest_tests(
        results.lazy(),
        builds,
        by,
        limit,
    )?)
}

/// The quality score over the last `days` days up to the latest build.
///
/// # Errors
/// The store fails.
pub async fn score(
    store: &Store,
    snapshot: &Snapshot,
    project_id: i64,
    branch: Option<&str>,
    days: u32,
    weights: &ScoreWeights,
    flaky: &FlakyConfig,
) -> Result<Score, Error> {
    let Some(period) = last_days(snapshot, days) else {
        return Ok(cimetrics_metrics::score(&Default::default(), weights));
    };
    let results = results(store, snapshot, project_id, period).await?;
    let builds = in_period(builds(snapshot, branch), period);
    let inputs = cimetrics_metrics::score_inputs(
        builds,
        results.lazy(),
        snapshot.coverage.clone().lazy(),
        flaky,
    )?;
    Ok(cimetrics_metrics::score(&inputs, weights))
}

/// A results metric over no history: the function's own empty output (right columns).
fn empty_results_metric(
    f: impl FnOnce(LazyFrame, LazyFrame) -> cimetrics_metrics::Result<DataFrame>,
) -> Result<DataFrame, Error> {
    Ok(f(results_frame(&[])?.lazy(), builds_frame(&[])?.lazy())?)
}

/// The tests failing on `branch` now, with the first build of their failure streak (over
/// the last `days` days).
///
/// # Errors
/// The store fails.
pub async fn failing(
    store: &Store,
    snapshot: &Snapshot,
    project_id: i64,
    branch: &str,
    days: u32,
) -> Result<DataFrame, Error> {
    let Some(period) = last_days(snapshot, days) else {
        return empty_results_metric(|r, b| cimetrics_metrics::failing_since(r, b, branch));
    };
    let results = results(store, snapshot, project_id, period).await?;
    let builds = in_period(builds(snapshot, Some(branch)), period);
    Ok(cimetrics_metrics::failing_since(
        results.lazy(),
        builds,
        branch,
    )?)
}

/// The branch of the latest complete build.
///
/// # Errors
/// Only on a malformed snapshot.
pub fn latest_branch(snapshot: &Snapshot) -> Result<Option<String>, Error> {
    let latest = latest_builds(snapshot, None, 1)?;
    Ok(latest.first().map(|(_, branch)| branch.clone()))
}

/// The newest `n` complete builds (optionally of one branch): (build id, branch), newest
/// first.
///
/// # Errors
/// Only on a malformed snapshot.
pub fn latest_builds(
    snapshot: &Snapshot,
    branch: Option<&str>,
    n: u32,
) -> Result<Vec<(i64, String)>, Error> {
    let frame = builds(snapshot, branch)
        .sort_by_exprs(
            [col(FINISHED_AT), col(BUILD_ID)],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(n)
        .select([col(BUILD_ID), col(BRANCH)])
        .collect()?;
    let ids = frame.column(BUILD_ID)?.i64()?;
    let branches = frame.column(BRANCH)?.str()?;
    Ok((0..frame.height())
        .filter_map(|i| Some((ids.get(i)?, branches.get(i)?.to_owned())))
        .collect())
}

/// The latest complete build with coverage (optionally of one branch).
///
/// # Errors
/// Only on a malformed snapshot.
pub fn latest_with_coverage(
    snapshot: &Snapshot,
    branch: Option<&str>,
) -> Result<Option<i64>, Error> {
    let frame = builds(snapshot, branch)
        .join(
            snapshot.coverage.clone().lazy().select([col(BUILD_ID)]),
            [col(BUILD_ID)],
            [col(BUILD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .sort_by_exprs(
            [col(FINISHED_AT), col(BUILD_ID)],
            SortMultipleOptions::default().with_order_descending(true),
        )
        .limit(1)
        .select([col(BUILD_ID)])
        .collect()?;
    Ok(schema::first(frame.column(BUILD_ID)?.i64()?))
}

/// The complete build with coverage before `build_id` on its branch.
///
/// # Errors
/// Only on a malformed snapshot.
pub fn previous_on_branch(snapshot: &Snapshot, build_id: i64) -> Result<Option<i64>, Error> {
    let per_build = cimetrics_metrics::coverage_per_build(
        snapshot.coverage.clone().lazy(),
        snapshot.builds.clone().lazy(),
        None,
    )?;
    let ids = per_build.column(BUILD_ID)?.i64()?;
    let branches = per_build.column(BRANCH)?.str()?;
    let Some(at) = (0..ids.len()).find(|&i| ids.get(i) == Some(build_id)) else {
        return Ok(None);
    };
    let branch = branches.get(at);
    Ok((0..at)
        .rev()
        .find(|&i| branches.get(i) == branch)
        .and_then(|i| ids.get(i)))
}

/// Per-file coverage of `build_id` with the change since `previous`.
///
/// # Errors
/// Only if polars fails.
pub fn file_deltas(
    rows: &[cimetrics_metrics::schema::CoverageRow],
    build_id: i64,
    previous: Option<i64>,
) -> Result<DataFrame, Error> {
    let frame = cimetrics_metrics::schema::coverage_frame(rows, true)?;
    Ok(cimetrics_metrics::coverage_per_file(
        frame.lazy(),
        build_id,
        previous,
    )?)
}

/// The current value of a metric, for badges: line (or branch) coverage of the latest build
/// with coverage; success or pass rate over the last `days` days; median build time over
/// them. `None` when there is nothing to measure.
///
/// # Errors
/// Only on a malformed snapshot.
pub fn latest_value(
    snapshot: &Snapshot,
    metric: Metric,
    branch: Option<&str>,
    days: u32,
) -> Result<Option<f64>, Error> {
    use cimetrics_metrics::schema::{
        BRANCHES_COVERED, BRANCHES_VALID, DURATION_S, LINES_COVERED, LINES_VALID, STATUS,
    };
    let ratio = |frame: &DataFrame, a: &str, b: &str| -> Result<Option<f64>, Error> {
        let num = frame.column(a)?.cast(&DataType::Float64)?;
        let den = frame.column(b)?.cast(&DataType::Float64)?;
        Ok(
            match (schema::first(num.f64()?), schema::first(den.f64()?)) {
                (Some(n), Some(d)) if d > 0.0 => Some(n / d),
                _ => None,
            },
        )
    };
    match metric {
        Metric::Coverage | Metric::BranchCoverage => {
            let Some(id) = latest_with_coverage(snapshot, branch)? else {
                return Ok(None);
            };
            let row = snapshot
                .coverage
                .clone()
                .lazy()
                .filter(col(BUILD_ID).eq(lit(id)))
                .collect()?;
            if metric == Metric::Coverage {
                ratio(&row, LINES_COVERED, LINES_VALID)
            } else {
                ratio(&row, BRANCHES_COVERED, BRANCHES_VALID)
            }
        }
        Metric::SuccessRate => {
            let Some(period) = last_days(snapshot, days) else {
                return Ok(None);
            };
            let status = col(STATUS);
            let frame = in_period(builds(snapshot, branch), period)
                .select([
                    status
                        .clone()
                        .eq(lit("passed"))
                        .cast(DataType::UInt32)
                        .sum()
                        .alias("ok"),
                    status
                        .clone()
                        .eq(lit("passed"))
                        .or(status.eq(lit("failed")))
                        .cast(DataType::UInt32)
                        .sum()
                        .alias("finished"),
                ])
                .collect()?;
            ratio(&frame, "ok", "finished")
        }
        Metric::PassRate => {
            let Some(period) = last_days(snapshot, days) else {
                return Ok(None);
            };
            let frame = snapshot
                .counts
                .clone()
                .lazy()
                .join(
                    in_period(builds(snapshot, branch), period).select([col(BUILD_ID)]),
                    [col(BUILD_ID)],
                    [col(BUILD_ID)],
                    JoinArgs::new(JoinType::Inner),
                )
                .select([
                    col("passed").sum().alias("p"),
                    (col("passed") + col("failed") + col("errored"))
                        .sum()
                        .alias("ran"),
                ])
                .collect()?;
            ratio(&frame, "p", "ran")
        }
        Metric::Quality => Ok(None), // see `score`
        Metric::Duration => {
            let Some(period) = last_days(snapshot, days) else {
                return Ok(None);
            };
            let frame = in_period(builds(snapshot, branch), period)
                .select([col(DURATION_S).median().alias("m")])
                .collect()?;
            Ok(schema::first(frame.column("m")?.f64()?))
        }
    }
}
