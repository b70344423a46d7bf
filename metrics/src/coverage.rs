//! Coverage: rates per build and per window, per file, and deltas.

use polars::prelude::*;

use crate::Result;
use crate::schema::{
    BRANCH, BRANCHES_COVERED, BRANCHES_VALID, BUILD_ID, FINISHED_AT, LINES_COVERED, LINES_VALID,
    PATH, WINDOW_START, rate,
};
use crate::window::WindowSpec;

fn rates() -> [Expr; 2] {
    [
        rate(col(LINES_COVERED), col(LINES_VALID)).alias("line_rate"),
        rate(col(BRANCHES_COVERED), col(BRANCHES_VALID)).alias("branch_rate"),
    ]
}

fn builds_keys(builds: LazyFrame) -> LazyFrame {
    builds.select([col(BUILD_ID), col(BRANCH), col(FINISHED_AT)])
}

/// **Coverage per build**: `line_rate = lines_covered / lines_valid`, `branch_rate =
/// branches_covered / branches_valid` (null when nothing was measured), and deltas in
/// percentage points: `line_delta_pp` against the previous build with coverage on the same
/// branch (by `finished_at`), `line_delta_base_pp` against the latest build of `base_branch`
/// finished at or before it (null on the base branch itself, or when there is none).
///
/// Output: `build_id`, `branch`, `finished_at`, the four totals, `line_rate`,
/// `branch_rate`, `line_delta_pp`, `branch_delta_pp`, `line_delta_base_pp`; ordered by
/// `finished_at`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn coverage_per_build(
    coverage: LazyFrame,
    builds: LazyFrame,
    base_branch: Option<&str>,
) -> Result<DataFrame> {
    let per_build = coverage
        .join(
            builds_keys(builds),
            [col(BUILD_ID)],
            [col(BUILD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .with_columns(rates())
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .with_columns([
            ((col("line_rate") - col("line_rate").shift(lit(1)).over([col(BRANCH)])?) * lit(100.0))
                .alias("line_delta_pp"),
            ((col("branch_rate") - col("branch_rate").shift(lit(1)).over([col(BRANCH)])?)
                * lit(100.0))
            .alias("branch_delta_pp"),
        ]);
    let base_rate = match base_branch {
        Some(base) => when(col(BRANCH).eq(lit(base)))
            .then(col("line_rate"))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .fill_null_with_strategy(FillNullStrategy::Forward(None)),
        None => lit(NULL).cast(DataType::Float64),
    };
    let on_base = match base_branch {
        Some(base) => col(BRANCH).eq(lit(base)),
        None => lit(true),
    };
    Ok(per_build
        .with_column(
            when(on_base)
                .then(lit(NULL).cast(DataType::Float64))
                .otherwise((col("line_rate") - base_rate) * lit(100.0))
                .alias("line_delta_base_pp"),
        )
        .collect()?)
}

/// **Coverage per window**: coverage is a state, not a sum, so a window's value is the one of
/// its *last* build with coverage (by `finished_at`; per branch with `by_branch`). Empty
/// windows are rows with nulls.
///
/// Output: `window_start`, [`branch`], `builds` (u32, builds with coverage in the window),
/// `build_id` (the last one), `line_rate`, `branch_rate`.
///
/// # Errors
/// An unknown time zone, or frames that lack the documented columns.
pub fn coverage_per_window(
    coverage: LazyFrame,
    builds: LazyFrame,
    spec: &WindowSpec,
    by_branch: bool,
) -> Result<DataFrame> {
    let joined = coverage.join(
        builds_keys(builds),
        [col(BUILD_ID)],
        [col(BUILD_ID)],
        JoinArgs::new(JoinType::Inner),
    );
    let mut keys = vec![spec.window_start(col(FINISHED_AT))?.alias(WINDOW_START)];
    if by_branch {
        keys.push(col(BRANCH));
    }
    let aggregated = spec
        .filter(joined, col(FINISHED_AT))?
        .with_columns(rates())
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .group_by(keys)
        .agg([
            len().cast(DataType::UInt32).alias("builds"),
            col(BUILD_ID).last(),
            col("line_rate").last(),
            col("branch_rate").last(),
        ])
        .collect()?;
    let branch: &[&str] = if by_branch { &[BRANCH] } else { &[] };
    spec.complete(aggregated, branch, &["builds"])
}

/// **A per-build value per window**, for values that are a state of the code (open issues,
/// the code-quality score, a rating): like coverage, a window's value is its *last* build's
/// that has one (by `finished_at`). `values` has `build_id` and `value` (f64).
///
/// Output: `window_start`, `builds` (u32, builds with a value in the window), `build_id`
/// (the last one), `value`.
///
/// # Errors
/// An unknown time zone, or frames that lack the documented columns.
pub fn value_per_window(
    values: LazyFrame,
    builds: LazyFrame,
    spec: &WindowSpec,
) -> Result<DataFrame> {
    let joined = values.join(
        builds_keys(builds),
        [col(BUILD_ID)],
        [col(BUILD_ID)],
        JoinArgs::new(JoinType::Inner),
    );
    let aggregated = spec
        .filter(joined, col(FINISHED_AT))?
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .group_by([spec.window_start(col(FINISHED_AT))?.alias(WINDOW_START)])
        .agg([
            len().cast(DataType::UInt32).alias("builds"),
            col(BUILD_ID).last(),
            col("value").last(),
        ])
        .collect()?;
    spec.complete(aggregated, &[], &["builds"])
}

/// **Coverage per file** of one build, with deltas against another build (the previous build
/// on the branch, or the base branch's): `line_rate`, `branch_rate` as above, and
/// `line_delta_pp` = this build's file line rate − the other build's, in percentage points
/// (null for a file the other build does not have, or without a rate on either side).
/// `package` is the file's directory ([`package_of`]).
///
/// Output: `path`, `package`, the four totals, `line_rate`, `branch_rate`,
/// `previous_line_rate`, `line_delta_pp`; ordered by `path`.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn coverage_per_file(
    file_coverage: LazyFrame,
    build_id: i64,
    compare_to: Option<i64>,
) -> Result<DataFrame> {
    let this = file_coverage
        .clone()
        .filter(col(BUILD_ID).eq(lit(build_id)))
        .with_columns(rates());
    let with_previous = match compare_to {
        Some(other) => this.join(
            file_coverage.filter(col(BUILD_ID).eq(lit(other))).select([
                rate(col(LINES_COVERED), col(LINES_VALID)).alias("previous_line_rate"),
                col(PATH),
            ]),
            [col(PATH)],
            [col(PATH)],
            JoinArgs::new(JoinType::Left),
        ),
        None => this.with_column(
            lit(NULL)
                .cast(DataType::Float64)
                .alias("previous_line_rate"),
        ),
    };
    let frame = with_previous
        .with_columns([
            ((col("line_rate") - col("previous_line_rate")) * lit(100.0)).alias("line_delta_pp"),
        ])
        .select([
            col(PATH),
            col(LINES_VALID),
            col(LINES_COVERED),
            col(BRANCHES_VALID),
            col(BRANCHES_COVERED),
            col("line_rate"),
            col("branch_rate"),
            col("previous_line_rate"),
            col("line_delta_pp"),
        ])
        .sort([PATH], SortMultipleOptions::default())
        .collect()?;
    with_package(frame)
}

/// **Coverage delta** of one build against another, in percentage points:
/// `(line_rate − previous_line_rate) × 100`; `None` when either rate is unknown. The frame
/// functions here compute the same per build ([`coverage_per_build`]) and per file.
pub fn delta_pp(line_rate: Option<f64>, previous_line_rate: Option<f64>) -> Option<f64> {
    Some((line_rate? - previous_line_rate?) * 100.0)
}

/// The package of a path: its directory, up to the last `/` (empty for a top-level file).
pub fn package_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Adds `package` (from `path`) as the second column.
fn with_package(mut frame: DataFrame) -> Result<DataFrame> {
    let paths = frame.column(PATH)?.str()?;
    let packages: Vec<Option<String>> = (0..paths.len())
        .map(|i| paths.get(i).map(|p| package_of(p).to_owned()))
        .collect();
    frame.insert_column(1, Column::new("package".into(), packages))?;
    Ok(frame)
}

/// **Coverage per package** of one build: the files' totals summed per `package` (the
/// directory part of the path), with `files`, `line_rate` and `branch_rate` as above.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn coverage_per_package(file_coverage: LazyFrame, build_id: i64) -> Result<DataFrame> {
    let files = with_package(
        file_coverage
            .filter(col(BUILD_ID).eq(lit(build_id)))
            .collect()?,
    )?;
    Ok(files
        .lazy()
        .group_by([col("package")])
        .agg([
            len().cast(DataType::UInt32).alias("files"),
            col(LINES_VALID).sum(),
            col(LINES_COVERED).sum(),
            col(BRANCHES_VALID).sum(),
            col(BRANCHES_COVERED).sum(),
        ])
        .with_columns(rates())
        .sort(["package"], SortMultipleOptions::default())
        .collect()?)
}
