//! Test metrics: pass rate per build and per window, per-test failure rate, failing since.

use polars::prelude::*;

use crate::Result;
use crate::schema::{
    BRANCH, BUILD_ID, COMMIT, ERRORED, FAILED, FINISHED_AT, FLAKY, PASSED, SKIPPED, STATUS,
    TEST_ID, WINDOW_START, count_if, rate,
};
use crate::window::WindowSpec;

pub(crate) fn is_failure() -> Expr {
    col(STATUS).eq(lit(FAILED)).or(col(STATUS).eq(lit(ERRORED)))
}

/// Results with their build's `branch`, `commit` and `finished_at` (the results' own
/// `status` kept; the build's dropped).
pub(crate) fn with_builds(results: LazyFrame, builds: LazyFrame) -> LazyFrame {
    results.join(
        builds.select([col(BUILD_ID), col(BRANCH), col(COMMIT), col(FINISHED_AT)]),
        [col(BUILD_ID)],
        [col(BUILD_ID)],
        JoinArgs::new(JoinType::Inner),
    )
}

/// **Pass rate** of one set of counts: `passed / (passed + failed + errored)`. Skipped tests
/// did not run; flaky tests are part of `passed`. `None` when nothing ran. The frame
/// functions below compute the same formula per build and per window.
pub fn pass_rate_of(passed: u64, failed: u64, errored: u64) -> Option<f64> {
    crate::ratio(passed, passed + failed + errored)
}

fn status_counts() -> [Expr; 6] {
    [
        len().cast(DataType::UInt32).alias("total"),
        count_if(col(STATUS).eq(lit(PASSED))).alias("passed"),
        count_if(col(STATUS).eq(lit(FAILED))).alias("failed"),
        count_if(col(STATUS).eq(lit(ERRORED))).alias("errored"),
        count_if(col(STATUS).eq(lit(SKIPPED))).alias("skipped"),
        count_if(col(FLAKY)).alias("flaky"),
    ]
}

/// `pass_rate = passed / (passed + failed + errored)`: skipped tests are not runs. Null when
/// nothing ran.
fn pass_rate() -> Expr {
    rate(
        col("passed"),
        col("passed") + col("failed") + col("errored"),
    )
    .alias("pass_rate")
}

/// **Test pass rate per build**: for each build, its tests' final outcomes counted
/// (`total`, `passed`, `failed`, `errored`, `skipped`, `flaky`; flaky tests are part of
/// `passed`) and `pass_rate = passed / (passed + failed + errored)` (skipped tests did not
/// run; null when nothing ran).
///
/// Output: `build_id`, `branch`, `finished_at`, the counts (u32), `pass_rate`; ordered by
/// `finished_at`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn pass_rate_per_build(results: LazyFrame, builds: LazyFrame) -> Result<DataFrame> {
    Ok(with_builds(results, builds)
        .group_by([col(BUILD_ID), col(BRANCH), col(FINISHED_AT)])
        .agg(status_counts())
        .with_column(pass_rate())
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .collect()?)
}

/// **Test pass rate per window**: the same counts summed over every test result of the
/// builds that finished in the window, and `pass_rate = passed / (passed + failed + errored)`
/// over them. Empty windows are rows with zero counts and a null rate.
///
/// # Errors
/// An unknown time zone, or frames that lack the documented columns.
pub fn pass_rate_per_window(
    results: LazyFrame,
    builds: LazyFrame,
    spec: &WindowSpec,
) -> Result<DataFrame> {
    let counts = results.group_by([col(BUILD_ID)]).agg(status_counts());
    pass_rate_per_window_of_counts(counts, builds, spec)
}

/// The count columns of a per-build counts frame.
pub const COUNT_COLUMNS: [&str; 6] = ["total", "passed", "failed", "errored", "skipped", "flaky"];

/// **Test pass rate per window, from per-build counts**: [`pass_rate_per_window`] when each
/// build's outcomes are already counted (the stored build totals, which outlive the raw
/// results a retention setting prunes, and are 2,000 times fewer rows). `counts` has one row
/// per build: `build_id` and the integer columns [`COUNT_COLUMNS`]. Same formula, and the
/// output has `builds` (u32, builds with tests in the window) too.
///
/// # Errors
/// An unknown time zone, or frames that lack the documented columns.
pub fn pass_rate_per_window_of_counts(
    counts: LazyFrame,
    builds: LazyFrame,
    spec: &WindowSpec,
) -> Result<DataFrame> {
    let joined = counts.join(
        builds.select([col(BUILD_ID), col(FINISHED_AT)]),
        [col(BUILD_ID)],
        [col(BUILD_ID)],
        JoinArgs::new(JoinType::Inner),
    );
    let aggregated = spec
        .filter(joined, col(FINISHED_AT))?
        .group_by([spec.window_start(col(FINISHED_AT))?.alias(WINDOW_START)])
        .agg({
            let mut aggs = COUNT_COLUMNS
                .map(|c| col(c).cast(DataType::UInt32).sum().alias(c))
                .to_vec();
            aggs.push(len().cast(DataType::UInt32).alias("builds"));
            aggs
        })
        .with_column(pass_rate())
        .collect()?;
    let mut zero = COUNT_COLUMNS.to_vec();
    zero.push("builds");
    spec.complete(aggregated, &[], &zero)
}

/// **Per-test failure rate** over the given results: `runs` = results that were not
/// skipped, `failures` = those failed or errored, `failure_rate = failures / runs` and
/// `pass_rate = (runs − failures) / runs` (null when the test never ran), with
/// `flaky_passes` (passes after a failed attempt) and `last_status` (the status in the
/// latest build).
///
/// Output: `test_id`, `runs`, `failures`, `flaky_passes` (u32), `failure_rate`,
/// `last_status`, `pass_rate`; ordered by `failure_rate` descending, then `test_id`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn failure_rate_per_test(results: LazyFrame, builds: LazyFrame) -> Result<DataFrame> {
    Ok(with_builds(results, builds)
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .group_by([col(TEST_ID)])
        .agg([
            count_if(col(STATUS).neq(lit(SKIPPED))).alias("runs"),
            count_if(is_failure()).alias("failures"),
            count_if(col(FLAKY)).alias("flaky_passes"),
            col(STATUS).last().alias("last_status"),
        ])
        .with_columns([
            rate(col("failures"), col("runs")).alias("failure_rate"),
            rate(col("runs") - col("failures"), col("runs")).alias("pass_rate"),
        ])
        .select([
            col(TEST_ID),
            col("runs"),
            col("failures"),
            col("flaky_passes"),
            col("failure_rate"),
            col("last_status"),
            col("pass_rate"),
        ])
        .sort_by_exprs(
            [col("failure_rate"), col(TEST_ID)],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .collect()?)
}

/// **Failing since**: the tests whose latest run on `branch` failed or errored, each with the
/// first build of its current failure streak. Runs are the test's non-skipped results on the
/// branch in `finished_at` order (a skip neither breaks nor extends a streak); the streak is
/// every run after the test's last pass (all its runs if it never passed).
///
/// Output: `test_id`, `since_build_id`, `since` (datetime), `since_commit`, `failing_builds`
/// (u32, runs in the streak), `last_build_id`, `streak_builds` (the streak's builds, oldest
/// first); ordered by `since`, then `test_id`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn failing_since(results: LazyFrame, builds: LazyFrame, branch: &str) -> Result<DataFrame> {
    let runs = with_builds(results, builds)
        .filter(col(BRANCH).eq(lit(branch)))
        .filter(col(STATUS).neq(lit(SKIPPED)))
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default());
    let last_pass = when(col(STATUS).eq(lit(PASSED)))
        .then(col(FINISHED_AT))
        .otherwise(lit(NULL).cast(utc_datetime()))
        .max()
        .over([col(TEST_ID)])?;
    Ok(runs
        .with_column(last_pass.alias("_last_pass"))
        .filter(
            col("_last_pass")
                .is_null()
                .or(col(FINISHED_AT).gt(col("_last_pass"))),
        )
        .group_by([col(TEST_ID)])
        .agg([
            col(BUILD_ID).first().alias("since_build_id"),
            col(FINISHED_AT).first().alias("since"),
            col(COMMIT).first().alias("since_commit"),
            len().cast(DataType::UInt32).alias("failing_builds"),
            col(BUILD_ID).last().alias("last_build_id"),
            col(BUILD_ID).alias("streak_builds"),
        ])
        .sort(["since", TEST_ID], SortMultipleOptions::default())
        .collect()?)
}

fn utc_datetime() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
}
