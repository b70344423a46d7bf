//! Test durations: the slowest tests by p50 and p95, and duration regressions.

use polars::prelude::*;

use crate::Result;
use crate::schema::{DURATION_S, FINISHED_AT, SKIPPED, STATUS, TEST_ID};
use crate::tests::with_builds;

/// Which quantile orders [`slowest_tests`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SlowestBy {
    /// The median.
    P50,
    /// The 95th percentile.
    #[default]
    P95,
}

/// `p50_s`, `p95_s` (linear-interpolated quantiles) and `max_s` of `duration_s`, for tests
/// and builds alike.
pub(crate) fn duration_stats() -> [Expr; 3] {
    [
        col(DURATION_S)
            .quantile(lit(0.5), QuantileMethod::Linear)
            .alias("p50_s"),
        col(DURATION_S)
            .quantile(lit(0.95), QuantileMethod::Linear)
            .alias("p95_s"),
        col(DURATION_S).max().alias("max_s"),
    ]
}

fn timed_runs(results: LazyFrame, builds: LazyFrame) -> LazyFrame {
    with_builds(results, builds)
        .filter(col(STATUS).neq(lit(SKIPPED)))
        .filter(col(DURATION_S).is_not_null())
}

/// **Slowest tests** over the given results: per test, over its non-skipped runs with a
/// time, `runs`, `p50_s` and `p95_s` (quantiles with linear interpolation between the two
/// nearest runs) and `max_s`. The `limit` tests with the highest `by` quantile, ties by
/// `test_id`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn slowest_tests(
    results: LazyFrame,
    builds: LazyFrame,
    by: SlowestBy,
    limit: u32,
) -> Result<DataFrame> {
    let key = match by {
        SlowestBy::P50 => "p50_s",
        SlowestBy::P95 => "p95_s",
    };
    Ok(timed_runs(results, builds)
        .group_by([col(TEST_ID)])
        .agg({
            let mut aggs = vec![len().cast(DataType::UInt32).alias("runs")];
            aggs.extend(duration_stats());
            aggs
        })
        .sort_by_exprs(
            [col(key), col(TEST_ID)],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, false])
                .with_nulls_last(true),
        )
        .limit(limit)
        .collect()?)
}

/// **Duration regressions**: tests whose recent median is at least `min_increase_pct` percent
/// above their earlier median. Runs finished at or after `split_ms` (milliseconds since the
/// epoch) are *recent*, earlier ones *earlier*; each side needs `min_runs` timed runs.
/// `increase_pct = (recent_p50_s / earlier_p50_s − 1) × 100`; a test with an earlier median of
/// 0 is left out (any increase would be infinite).
///
/// Output: `test_id`, `earlier_runs`, `earlier_p50_s`, `recent_runs`, `recent_p50_s`,
/// `increase_pct`; ordered by `increase_pct` descending.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn duration_regressions(
    results: LazyFrame,
    builds: LazyFrame,
    split_ms: i64,
    min_increase_pct: f64,
    min_runs: u32,
) -> Result<DataFrame> {
    let recent = col(FINISHED_AT)
        .dt()
        .timestamp(TimeUnit::Milliseconds)
        .gt_eq(lit(split_ms));
    let median = |side: Expr| {
        col(DURATION_S)
            .filter(side)
            .quantile(lit(0.5), QuantileMethod::Linear)
    };
    let count = |side: Expr| side.cast(DataType::UInt32).sum();
    Ok(timed_runs(results, builds)
        .group_by([col(TEST_ID)])
        .agg([
            count(recent.clone().not()).alias("earlier_runs"),
            median(recent.clone().not()).alias("earlier_p50_s"),
            count(recent.clone()).alias("recent_runs"),
            median(recent).alias("recent_p50_s"),
        ])
        .filter(col("earlier_runs").gt_eq(lit(min_runs)))
        .filter(col("recent_runs").gt_eq(lit(min_runs)))
        .filter(col("earlier_p50_s").gt(lit(0.0)))
        .with_column(
            ((col("recent_p50_s") / col("earlier_p50_s") - lit(1.0)) * lit(100.0))
                .alias("increase_pct"),
        )
        .filter(col("increase_pct").gt_eq(lit(min_increase_pct)))
        .sort_by_exprs(
            [col("increase_pct"), col(TEST_ID)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?)
}
