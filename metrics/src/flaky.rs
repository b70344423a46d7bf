//! Flaky tests under three named definitions, side by side, each verdict with its evidence.

use polars::prelude::*;

use crate::Result;
use crate::schema::{
    BRANCH, BUILD_ID, COMMIT, FINISHED_AT, FLAKY, PASSED, SKIPPED, STATUS, TEST_ID, count_if, rate,
};
use crate::tests::{is_failure, with_builds};

/// The thresholds of the three definitions.
#[derive(Debug, Clone, PartialEq)]
pub struct FlakyConfig {
    /// `same_commit`: flaky when it passed and failed on at least this many commits.
    pub same_commit_min_commits: u32,
    /// `pass_on_retry`: flaky when it passed after a failed attempt in at least this many
    /// builds.
    pub pass_on_retry_min_builds: u32,
    /// `flip_rate`: how many of the test's latest runs are looked at.
    pub flip_runs: u32,
    /// `flip_rate`: flaky when `flips / (runs - 1)` is at least this (0..=1) ...
    pub flip_rate_min: f64,
    /// ... and it flipped at least this many times.
    pub flip_min_flips: u32,
}

impl Default for FlakyConfig {
    fn default() -> Self {
        FlakyConfig {
            same_commit_min_commits: 1,
            pass_on_retry_min_builds: 1,
            flip_runs: 20,
            flip_rate_min: 0.2,
            flip_min_flips: 2,
        }
    }
}

/// **Flaky tests**, three definitions side by side over the given results (filter the builds
/// to the period first, e.g. the last 90 days). Runs are the non-skipped results.
///
/// - `same_commit`: the test passed in one build and failed or errored in another build of
///   the same commit, on at least `same_commit_min_commits` commits. Evidence:
///   `same_commit_commits` (those commits, sorted), `same_commit_builds` (their failing
///   builds), and per commit in the same order `same_commit_failed_in` and
///   `same_commit_passed_in` (a list of build lists each).
/// - `pass_on_retry`: the test passed after a failed attempt within one build (`flaky`
///   results) in at least `pass_on_retry_min_builds` builds. Evidence: `retry_builds`.
/// - `flip_rate`: on each branch separately (a test broken on a feature branch while it
///   passes on main does not flip), over the test's last `flip_runs` runs on that branch in
///   `finished_at` order, `flips` = the number of consecutive pairs whose pass/fail differs,
///   `flip_rate = flips / (runs - 1)` (null with fewer than 2 runs); flaky when
///   `flip_rate >= flip_rate_min` and `flips >= flip_min_flips` on any branch. Evidence, of
///   the branch that says the most (flaky first, then the highest rate, then by name):
///   `flip_branch`, `flip_sequence`, e.g. `PPFPF` (P pass, F fail), and `flip_builds` (the
///   builds of those runs).
///
/// Beside them, the plain rates over all runs: `pass_rate = passes / runs` and
/// `flake_rate = (flaky passes + failures on a commit that also passed) / runs`: the share
/// of runs whose result the code change does not explain. `is_flaky` is true when any
/// definition says so.
///
/// Output: one row per test that at least one definition calls flaky: `test_id`, `runs`,
/// `passes`, `failures`, `pass_rate`, `flake_rate`, the three booleans (`same_commit`,
/// `pass_on_retry`, `flip_rate_flaky`) with their evidence columns; ordered by `flake_rate`
/// descending, then `runs` descending, then `test_id`. Take `head(50)` for a top 50.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn flaky_tests(
    results: LazyFrame,
    builds: LazyFrame,
    config: &FlakyConfig,
) -> Result<DataFrame> {
    // Only a test with a failed or errored result, or a pass after a failed attempt, can be
    // flaky under any definition: the rest of the work runs on those tests alone (a few
    // percent of the rows), which keeps a 90-day top-50 in milliseconds.
    let candidates = results
        .clone()
        .filter(is_failure().or(col(FLAKY)))
        .select([col(TEST_ID)])
        .unique(None, UniqueKeepStrategy::Any);
    let results = results.join(
        candidates,
        [col(TEST_ID)],
        [col(TEST_ID)],
        JoinArgs::new(JoinType::Inner),
    );
    let runs = with_builds(results, builds)
        .filter(col(STATUS).neq(lit(SKIPPED)))
        .with_columns([
            is_failure().alias("_fail"),
            col(STATUS).eq(lit(PASSED)).alias("_pass"),
        ])
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .cache();

    // same_commit: per (test, commit) both a pass and a failure.
    let per_commit = runs
        .clone()
        .group_by([col(TEST_ID), col(COMMIT)])
        .agg([
            col("_pass").any(true).alias("_any_pass"),
            col("_fail").any(true).alias("_any_fail"),
            count_if(col("_fail")).alias("_fails_on_commit"),
            col(BUILD_ID).filter(col("_fail")).alias("_fail_builds"),
            col(BUILD_ID).filter(col("_pass")).alias("_pass_builds"),
        ])
        .filter(col("_any_pass").and(col("_any_fail")));
    let same_commit = per_commit.group_by([col(TEST_ID)]).agg([
        len().cast(DataType::UInt32).alias("_mixed_commits"),
        col("_fails_on_commit").sum().alias("_explained_fails"),
        col(COMMIT)
            .sort(SortOptions::default())
            .alias("same_commit_commits"),
        col("_fail_builds")
            .explode(ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            })
            .sort(SortOptions::default())
            .alias("same_commit_builds"),
        col("_fail_builds")
            .sort_by([col(COMMIT)], SortMultipleOptions::default())
            .alias("same_commit_failed_in"),
        col("_pass_builds")
            .sort_by([col(COMMIT)], SortMultipleOptions::default())
            .alias("same_commit_passed_in"),
    ]);

    // pass_on_retry and totals, per test.
    let flip_runs = config.flip_runs.max(2) as usize;
    let per_test = runs.clone().group_by([col(TEST_ID)]).agg([
        len().cast(DataType::UInt32).alias("runs"),
        count_if(col("_pass")).alias("passes"),
        count_if(col("_fail")).alias("failures"),
        count_if(col(FLAKY)).alias("_retry_passes"),
        col(BUILD_ID).filter(col(FLAKY)).alias("retry_builds"),
    ]);

    // flip_rate: per branch, then the branch that says the most (flaky first, then the
    // highest rate, then by name) stands for the test.
    let per_branch = runs
        .clone()
        .group_by([col(TEST_ID), col(BRANCH)])
        .agg([
            col("_fail").tail(Some(flip_runs)).alias("_last_fail"),
            col(BUILD_ID).tail(Some(flip_runs)).alias("flip_builds"),
        ])
        .collect()?;
    let flips = with_flips(per_branch, config)?
        .lazy()
        .sort_by_exprs(
            [col("flip_rate_flaky"), col("flip_rate"), col(BRANCH)],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, true, false])
                .with_nulls_last(true)
                .with_maintain_order(true),
        )
        .group_by_stable([col(TEST_ID)])
        .agg([
            col(BRANCH).first().alias("flip_branch"),
            col("flip_rate_flaky").first(),
            col("flips").first(),
            col("flip_rate").first(),
            col("flip_sequence").first(),
            col("flip_builds").first(),
        ]);

    let min_commits = config.same_commit_min_commits.max(1);
    let min_retry = config.pass_on_retry_min_builds.max(1);
    let frame = per_test
        .join(
            same_commit,
            [col(TEST_ID)],
            [col(TEST_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .join(
            flips,
            [col(TEST_ID)],
            [col(TEST_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .with_columns([
            col("_mixed_commits").fill_null(lit(0u32)),
            col("_explained_fails").fill_null(lit(0u32)),
        ])
        .with_columns([
            col("_mixed_commits")
                .gt_eq(lit(min_commits))
                .alias("same_commit"),
            col("_retry_passes")
                .gt_eq(lit(min_retry))
                .alias("pass_on_retry"),
            rate(col("passes"), col("runs")).alias("pass_rate"),
            rate(col("_retry_passes") + col("_explained_fails"), col("runs")).alias("flake_rate"),
        ])
        .collect()?;
    Ok(frame
        .lazy()
        .with_column(
            col("same_commit")
                .or(col("pass_on_retry"))
                .or(col("flip_rate_flaky"))
                .alias("is_flaky"),
        )
        .filter(col("is_flaky"))
        .select([
            col(TEST_ID),
            col("runs"),
            col("passes"),
            col("failures"),
            col("pass_rate"),
            col("flake_rate"),
            col("same_commit"),
            col("same_commit_commits"),
            col("same_commit_builds"),
            col("same_commit_failed_in"),
            col("same_commit_passed_in"),
            col("pass_on_retry"),
            col("_retry_passes").alias("retry_passes"),
            col("retry_builds"),
            col("flip_rate_flaky"),
            col("flip_branch"),
            col("flips"),
            col("flip_rate"),
            col("flip_sequence"),
            col("flip_builds"),
        ])
        .sort_by_exprs(
            [col("flake_rate"), col("runs"), col(TEST_ID)],
            SortMultipleOptions::default()
                .with_order_descending_multi([true, true, false])
                .with_nulls_last(true),
        )
        .collect()?)
}

/// Adds `flips`, `flip_rate`, `flip_rate_flaky` and `flip_sequence` from the `_last_fail`
/// list column (the pass/fail of the latest runs, oldest first).
fn with_flips(frame: DataFrame, config: &FlakyConfig) -> Result<DataFrame> {
    let lists = frame.column("_last_fail")?.list()?.clone();
    let mut flips = Vec::with_capacity(frame.height());
    let mut flip_rate = Vec::with_capacity(frame.height());
    let mut flaky = Vec::with_capacity(frame.height());
    let mut sequence = Vec::with_capacity(frame.height());
    for i in 0..lists.len() {
        let fails: Vec<bool> = lists
            .get_as_series(i)
            .map(|s| {
                s.bool()
                    .map(|b| (0..b.len()).filter_map(|i| b.get(i)).collect())
            })
            .transpose()?
            .unwrap_or_default();
        let n = fails.windows(2).filter(|w| w[0] != w[1]).count() as u32;
        let r = (fails.len() >= 2).then(|| f64::from(n) / (fails.len() - 1) as f64);
        flips.push(n);
        flip_rate.push(r);
        flaky.push(r.is_some_and(|r| r >= config.flip_rate_min) && n >= config.flip_min_flips);
        sequence.push(
            fails
                .iter()
                .map(|f| if *f { 'F' } else { 'P' })
                .collect::<String>(),
        );
    }
    let mut frame = frame;
    frame.with_column(Column::new("flips".into(), flips))?;
    frame.with_column(Column::new("flip_rate".into(), flip_rate))?;
    frame.with_column(Column::new("flip_rate_flaky".into(), flaky))?;
    frame.with_column(Column::new("flip_sequence".into(), sequence))?;
    Ok(frame)
}
