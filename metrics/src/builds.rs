//! Build metrics: success rate per window and rolling, build duration trend, MTTR.

use polars::prelude::*;

use crate::Result;
use crate::durations::duration_stats;
use crate::schema::{
    BRANCH, BUILD_ID, DURATION_S, FAILED, FINISHED_AT, PASSED, STATUS, WINDOW_START, count_if, rate,
};
use crate::window::WindowSpec;

/// Builds that finished: status `passed` or `failed` (a cancelled build is not a verdict).
fn finished(builds: LazyFrame) -> LazyFrame {
    builds.filter(col(STATUS).eq(lit(PASSED)).or(col(STATUS).eq(lit(FAILED))))
}

/// **Build success rate** per window: `success_rate = successful / finished`, where
/// `finished` counts the builds with status `passed` or `failed` whose `finished_at` falls in
/// the window (local dates in `spec.time_zone`) and `successful` those with `passed`.
/// With `by_branch`, one series per branch. Every window between the bounds is a row: a window
/// without builds has `finished = 0` and a null rate.
///
/// Output: `window_start` (date), [`branch`], `finished` (u32), `successful` (u32),
/// `success_rate` (f64, null when `finished` is 0).
///
/// # Errors
/// An unknown time zone, or a frame that lacks the documented columns.
pub fn success_rate(builds: LazyFrame, spec: &WindowSpec, by_branch: bool) -> Result<DataFrame> {
    let builds = spec.filter(finished(builds), col(FINISHED_AT))?;
    let mut keys = vec![spec.window_start(col(FINISHED_AT))?.alias(WINDOW_START)];
    if by_branch {
        keys.push(col(BRANCH));
    }
    let aggregated = builds
        .group_by(keys)
        .agg([
            len().cast(DataType::UInt32).alias("finished"),
            count_if(col(STATUS).eq(lit(PASSED))).alias("successful"),
        ])
        .with_column(rate(col("successful"), col("finished")).alias("success_rate"))
        .collect()?;
    let branch: &[&str] = if by_branch { &[BRANCH] } else { &[] };
    spec.complete(aggregated, branch, &["finished", "successful"])
}

/// **Rolling build success rate** over the last `n` finished builds, at each finished build:
/// `success_rate = successful / builds` over that build and the `n - 1` finished builds before
/// it (fewer at the start of the history), ordered by `finished_at`; per branch with
/// `by_branch`.
///
/// Output: `build_id`, `branch`, `finished_at`, `builds` (u32), `successful` (u32),
/// `success_rate` (f64), ordered by `finished_at`.
///
/// # Errors
/// A frame that lacks the documented columns.
pub fn rolling_success_rate(builds: LazyFrame, n: u32, by_branch: bool) -> Result<DataFrame> {
    let n = i64::from(n.max(1));
    let success = col(STATUS).eq(lit(PASSED)).cast(DataType::Int64);
    let over = |e: Expr| -> Result<Expr> { Ok(if by_branch { e.over([col(BRANCH)])? } else { e }) };
    let cum = over(success.cum_sum(false))?;
    let index = over(col(BUILD_ID).cum_count(false).cast(DataType::Int64))?;
    Ok(finished(builds)
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .with_columns([cum.alias("_cum"), index.alias("_index")])
        .with_columns([over(col("_cum").shift(lit(n)))?
            .fill_null(lit(0i64))
            .alias("_before")])
        .with_columns([
            (col("_cum") - col("_before"))
                .cast(DataType::UInt32)
                .alias("successful"),
            when(col("_index").lt(lit(n)))
                .then(col("_index"))
                .otherwise(lit(n))
                .cast(DataType::UInt32)
                .alias("builds"),
        ])
        .select([
            col(BUILD_ID),
            col(BRANCH),
            col(FINISHED_AT),
            col("builds"),
            col("successful"),
            rate(col("successful"), col("builds")).alias("success_rate"),
        ])
        .collect()?)
}

/// **Build duration trend** per window: over the finished builds of each window with a
/// duration, `builds`, `mean_s` (arithmetic mean), `p50_s` and `p95_s` (linear-interpolated
/// quantiles) and `max_s` of `duration_s`. Empty windows are rows with nulls.
///
/// # Errors
/// An unknown time zone, or a frame that lacks the documented columns.
pub fn duration_trend(builds: LazyFrame, spec: &WindowSpec) -> Result<DataFrame> {
    let builds = spec
        .filter(finished(builds), col(FINISHED_AT))?
        .filter(col(DURATION_S).is_not_null());
    let aggregated = builds
        .group_by([spec.window_start(col(FINISHED_AT))?.alias(WINDOW_START)])
        .agg({
            let mut aggs = vec![
                len().cast(DataType::UInt32).alias("builds"),
                col(DURATION_S).mean().alias("mean_s"),
            ];
            aggs.extend(duration_stats());
            aggs
        })
        .collect()?;
    spec.complete(aggregated, &[], &["builds"])
}

/// **MTTR** (mean time to recovery) per branch: over the finished builds of a branch in
/// `finished_at` order, an *outage* starts at a failed build whose previous build on the
/// branch passed (or that is the branch's first build) and ends at the next passed build.
/// `recovery_s = recovered build's finished_at − first failed build's finished_at`;
/// `mttr_s = mean(recovery_s)` over the outages that ended. An outage still open counts in
/// `outages` but not in the mean.
///
/// Output: `branch`, `outages` (u32), `recovered` (u32), `mttr_s` (f64, null when none
/// recovered), ordered by branch.
///
/// # Errors
/// A frame that lacks the documented columns.
pub fn mttr(builds: LazyFrame) -> Result<DataFrame> {
    let failed = col(STATUS).eq(lit(FAILED));
    let time_ms = col(FINISHED_AT).dt().timestamp(TimeUnit::Milliseconds);
    let pass_time = when(failed.clone().not())
        .then(time_ms.clone())
        .otherwise(lit(NULL).cast(DataType::Int64));
    Ok(finished(builds)
        .sort(
            [BRANCH, FINISHED_AT, BUILD_ID]
                .map(PlSmallStr::from)
                .to_vec(),
            SortMultipleOptions::default(),
        )
        .with_columns([
            failed.clone().alias("_failed"),
            time_ms.alias("_t"),
            pass_time
                .fill_null_with_strategy(FillNullStrategy::Backward(None))
                .over([col(BRANCH)])?
                .alias("_next_pass"),
            failed
                .shift(lit(1))
                .over([col(BRANCH)])?
                .fill_null(lit(false))
                .alias("_prev_failed"),
        ])
        .filter(col("_failed").and(col("_prev_failed").not()))
        .with_column(
            ((col("_next_pass") - col("_t")).cast(DataType::Float64) / lit(1000.0))
                .alias("_recovery_s"),
        )
        .group_by([col(BRANCH)])
        .agg([
            len().cast(DataType::UInt32).alias("outages"),
            col("_recovery_s")
                .count()
                .cast(DataType::UInt32)
                .alias("recovered"),
            col("_recovery_s").mean().alias("mttr_s"),
        ])
        .sort([BRANCH], SortMultipleOptions::default())
        .collect()?)
}

/// **Failure streaks**, the outages [`mttr`] averages, one row each: on each branch, over its
/// finished builds in `finished_at` order, a streak starts at a failed build whose previous
/// build passed (or that is the branch's first) and lasts through the failed builds after
/// it; the next passed build recovers it. `recovery_s = recovered_at − failed_at` (the
/// first failed build's finish to the recovering build's), null while the streak is open.
/// MTTR is the mean of `recovery_s` over the recovered streaks ([`mean`]).
///
/// Output: `branch`, `first_failed` (build id), `failed_builds` (list of build ids, oldest
/// first), `failed_at` (ms), `recovered_by` (build id, null while open), `recovered_at`
/// (ms, null while open), `recovery_s`; ordered by `failed_at`, then `first_failed`.
///
/// # Errors
/// A frame that lacks the documented columns.
pub fn failure_streaks(builds: LazyFrame) -> Result<DataFrame> {
    let failed = col(STATUS).eq(lit(FAILED));
    let time_ms = col(FINISHED_AT).dt().timestamp(TimeUnit::Milliseconds);
    let when_passed = |e: Expr| {
        when(col(STATUS).eq(lit(FAILED)).not())
            .then(e)
            .otherwise(lit(NULL).cast(DataType::Int64))
            .fill_null_with_strategy(FillNullStrategy::Backward(None))
    };
    Ok(finished(builds)
        .sort(
            [BRANCH, FINISHED_AT, BUILD_ID]
                .map(PlSmallStr::from)
                .to_vec(),
            SortMultipleOptions::default(),
        )
        .with_columns([
            failed.clone().alias("_failed"),
            time_ms.clone().alias("_t"),
            when_passed(time_ms)
                .over([col(BRANCH)])?
                .alias("_next_pass"),
            when_passed(col(BUILD_ID))
                .over([col(BRANCH)])?
                .alias("_next_pass_build"),
            failed
                .clone()
                .shift(lit(1))
                .over([col(BRANCH)])?
                .fill_null(lit(false))
                .alias("_prev_failed"),
        ])
        .with_column(
            col("_failed")
                .and(col("_prev_failed").not())
                .cast(DataType::Int64)
                .cum_sum(false)
                .over([col(BRANCH)])?
                .alias("_streak"),
        )
        .filter(col("_failed"))
        .group_by_stable([col(BRANCH), col("_streak")])
        .agg([
            col(BUILD_ID).first().alias("first_failed"),
            col(BUILD_ID).alias("failed_builds"),
            col("_t").first().alias("failed_at"),
            col("_next_pass_build").first().alias("recovered_by"),
            col("_next_pass").first().alias("recovered_at"),
        ])
        .with_column(
            ((col("recovered_at") - col("failed_at")).cast(DataType::Float64) / lit(1000.0))
                .alias("recovery_s"),
        )
        .select([
            col(BRANCH),
            col("first_failed"),
            col("failed_builds"),
            col("failed_at"),
            col("recovered_by"),
            col("recovered_at"),
            col("recovery_s"),
        ])
        .sort_by_exprs(
            [col("failed_at"), col("first_failed")],
            SortMultipleOptions::default(),
        )
        .collect()?)
}

/// **Mean** of some values (recovery times): their sum over their count; `None` without
/// values. NaN values are left out.
pub fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .filter(|x| !x.is_nan())
        .fold((0.0, 0u64), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// **Build success rate** of a set of builds: `successful / finished`, where finished builds
/// are those whose status is `passed` or `failed` (cancelled and running builds are not
/// counted) and successful ones `passed`; `None` when none finished. [`success_rate`]
/// computes the same per window.
pub fn success_rate_of<'a>(statuses: impl IntoIterator<Item = &'a str>) -> Option<f64> {
    let (mut successful, mut finished) = (0u64, 0u64);
    for status in statuses {
        if status == PASSED {
            successful += 1;
        }
        if status == PASSED || status == FAILED {
            finished += 1;
        }
    }
    crate::ratio(successful, finished)
}

/// **Median** of some values (build times): the middle value of the sorted values, or the
/// mean of the two middle ones; `None` without values. NaN values are left out.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}
