//! The input frames: their column names, types, and builders from plain rows.
//!
//! Every metric takes some of these frames (as `LazyFrame`s) and returns a frame.
//!
//! | frame | column | type | meaning |
//! |---|---|---|---|
//! | builds | `build_id` | i64 | unique per build |
//! | | `branch` | str | |
//! | | `commit` | str | |
//! | | `status` | str | `passed`, `failed`, or anything else (e.g. `cancelled`: not finished) |
//! | | `finished_at` | datetime\[ms, UTC\] | when the build finished |
//! | | `duration_s` | f64, nullable | wall time of the build |
//! | results | `build_id` | i64 | the build the result belongs to |
//! | | `test_id` | i64 | a stable test identity |
//! | | `status` | str | `passed`, `failed`, `errored`, `skipped` (final outcome in that build) |
//! | | `flaky` | bool | passed after at least one failed attempt in that build |
//! | | `attempts` | u32 | runs in that build (1 + retries) |
//! | | `duration_s` | f64, nullable | the test's time in that build |
//! | coverage | `build_id` | i64 | |
//! | | `lines_valid`, `lines_covered`, `branches_valid`, `branches_covered` | u64 | totals of the build |
//! | file coverage | `build_id`, `path` | i64, str | one row per file of a build |
//! | | `lines_valid`, `lines_covered`, `branches_valid`, `branches_covered` | u64 | the file's totals |
//!
//! Only builds that count belong in these frames: a sharded build still waiting for shards is
//! left out by the caller.

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;

use crate::Result;

/// `build_id`: i64.
pub const BUILD_ID: &str = "build_id";
/// `branch`: str.
pub const BRANCH: &str = "branch";
/// `commit`: str.
pub const COMMIT: &str = "commit";
/// `status`: str (build status or test status, depending on the frame).
pub const STATUS: &str = "status";
/// `finished_at`: datetime\[ms, UTC\].
pub const FINISHED_AT: &str = "finished_at";
/// `duration_s`: f64.
pub const DURATION_S: &str = "duration_s";
/// `test_id`: i64.
pub const TEST_ID: &str = "test_id";
/// `flaky`: bool.
pub const FLAKY: &str = "flaky";
/// `attempts`: u32.
pub const ATTEMPTS: &str = "attempts";
/// `path`: str.
pub const PATH: &str = "path";
/// `lines_valid`: u64.
pub const LINES_VALID: &str = "lines_valid";
/// `lines_covered`: u64.
pub const LINES_COVERED: &str = "lines_covered";
/// `branches_valid`: u64.
pub const BRANCHES_VALID: &str = "branches_valid";
/// `branches_covered`: u64.
pub const BRANCHES_COVERED: &str = "branches_covered";
/// `window_start`: date, the first local day of a window.
pub const WINDOW_START: &str = "window_start";

/// A build's status value for a successful build.
pub const PASSED: &str = "passed";
/// A build's status value for a failed build; a test's status for a failed assertion.
pub const FAILED: &str = "failed";
/// A test's status for a test that broke.
pub const ERRORED: &str = "errored";
/// A test's status for a test that did not run.
pub const SKIPPED: &str = "skipped";

/// One row of the builds frame.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildRow {
    /// Unique per build.
    pub build_id: i64,
    /// Branch name.
    pub branch: String,
    /// Commit SHA.
    pub commit: String,
    /// `passed`, `failed`, or anything else for a build that did not finish (not counted).
    pub status: String,
    /// When it finished, in milliseconds since the Unix epoch (UTC).
    pub finished_at_ms: i64,
    /// Wall time in seconds.
    pub duration_s: Option<f64>,
}

/// One row of the results frame: one test in one build.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// The build.
    pub build_id: i64,
    /// The test.
    pub test_id: i64,
    /// `passed`, `failed`, `errored` or `skipped`.
    pub status: &'static str,
    /// Passed after a failed attempt.
    pub flaky: bool,
    /// Runs in this build.
    pub attempts: u32,
    /// Time in seconds.
    pub duration_s: Option<f64>,
}

/// One row of the coverage frame (`path` = `None`) or of the file coverage frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CoverageRow {
    /// The build.
    pub build_id: i64,
    /// The file, for per-file rows.
    pub path: Option<String>,
    /// Measured lines.
    pub lines_valid: u64,
    /// Lines run at least once.
    pub lines_covered: u64,
    /// Branch outcomes.
    pub branches_valid: u64,
    /// Branch outcomes taken.
    pub branches_covered: u64,
}

fn utc_ms() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
}

/// The builds frame from rows.
///
/// # Errors
/// Only if polars cannot build the frame (it can with any rows).
pub fn builds_frame(rows: &[BuildRow]) -> Result<DataFrame> {
    let columns = vec![
        Column::new(
            BUILD_ID.into(),
            rows.iter().map(|r| r.build_id).collect::<Vec<_>>(),
        ),
        Column::new(
            BRANCH.into(),
            rows.iter().map(|r| r.branch.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            COMMIT.into(),
            rows.iter().map(|r| r.commit.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            STATUS.into(),
            rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            FINISHED_AT.into(),
            rows.iter().map(|r| r.finished_at_ms).collect::<Vec<_>>(),
        )
        .cast(&utc_ms())?,
        Column::new(
            DURATION_S.into(),
            rows.iter().map(|r| r.duration_s).collect::<Vec<_>>(),
        ),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// The results frame's columns as plain vectors, for building the frame without a row type
/// in between (the history cache fills them a build at a time): each column becomes its
/// polars array in one move, the status by gathering from the four status names.
#[derive(Debug, Default)]
pub struct ResultColumns {
    /// [`BUILD_ID`].
    pub build_id: Vec<i64>,
    /// [`TEST_ID`].
    pub test_id: Vec<i64>,
    /// [`STATUS`], as an index into [`TEST_STATUSES`].
    pub status: Vec<IdxSize>,
    /// [`FLAKY`].
    pub flaky: Vec<bool>,
    /// [`ATTEMPTS`].
    pub attempts: Vec<u32>,
    /// [`DURATION_S`], where `timed`.
    pub duration_s: Vec<f64>,
    /// Whether the row has a duration (`duration_s` is null where not).
    pub timed: Vec<bool>,
}

/// The test statuses, in the order [`ResultColumns`] numbers them.
pub const TEST_STATUSES: [&str; 4] = [PASSED, FAILED, ERRORED, SKIPPED];

impl ResultColumns {
    /// Empty columns with room for `rows`.
    pub fn with_capacity(rows: usize) -> ResultColumns {
        ResultColumns {
            build_id: Vec::with_capacity(rows),
            test_id: Vec::with_capacity(rows),
            status: Vec::with_capacity(rows),
            flaky: Vec::with_capacity(rows),
            attempts: Vec::with_capacity(rows),
            duration_s: Vec::with_capacity(rows),
            timed: Vec::with_capacity(rows),
        }
    }

    /// Adds one row (a status not among [`TEST_STATUSES`] is `skipped`).
    pub fn push(&mut self, row: &ResultRow) {
        let status = TEST_STATUSES
            .iter()
            .position(|s| *s == row.status)
            .unwrap_or(3);
        self.build_id.push(row.build_id);
        self.test_id.push(row.test_id);
        self.status.push(status as IdxSize);
        self.flaky.push(row.flaky);
        self.attempts.push(row.attempts);
        self.duration_s.push(row.duration_s.unwrap_or(0.0));
        self.timed.push(row.duration_s.is_some());
    }

    /// The results frame.
    ///
    /// # Errors
    /// Columns of different lengths; a status index past [`TEST_STATUSES`].
    pub fn into_frame(self) -> Result<DataFrame> {
        let rows = self.build_id.len();
        let names = StringChunked::from_slice(STATUS.into(), &TEST_STATUSES);
        let status = names.take(self.status.as_slice())?;
        let validity = self
            .timed
            .iter()
            .any(|t| !t)
            .then(|| Bitmap::from_iter(self.timed.iter().copied()));
        let duration =
            Float64Chunked::from_vec_validity(DURATION_S.into(), self.duration_s, validity);
        let columns = vec![
            Column::new(BUILD_ID.into(), self.build_id),
            Column::new(TEST_ID.into(), self.test_id),
            status.into_column(),
            Column::new(FLAKY.into(), self.flaky),
            Column::new(ATTEMPTS.into(), self.attempts),
            duration.into_column(),
        ];
        Ok(DataFrame::new(rows, columns)?)
    }
}

/// The results frame from rows.
///
/// # Errors
/// Only if polars cannot build the frame.
pub fn results_frame(rows: &[ResultRow]) -> Result<DataFrame> {
    let mut columns = ResultColumns::with_capacity(rows.len());
    for row in rows {
        columns.push(row);
    }
    columns.into_frame()
}

/// The coverage frame (build totals) or, with `per_file`, the file coverage frame.
///
/// # Errors
/// Only if polars cannot build the frame.
pub fn coverage_frame(rows: &[CoverageRow], per_file: bool) -> Result<DataFrame> {
    let mut columns = vec![Column::new(
        BUILD_ID.into(),
        rows.iter().map(|r| r.build_id).collect::<Vec<_>>(),
    )];
    if per_file {
        columns.push(Column::new(
            PATH.into(),
            rows.iter()
                .map(|r| r.path.as_deref().unwrap_or(""))
                .collect::<Vec<_>>(),
        ));
    }
    for (name, get) in [
        (
            LINES_VALID,
            (|r: &CoverageRow| r.lines_valid) as fn(&CoverageRow) -> u64,
        ),
        (LINES_COVERED, |r| r.lines_covered),
        (BRANCHES_VALID, |r| r.branches_valid),
        (BRANCHES_COVERED, |r| r.branches_covered),
    ] {
        columns.push(Column::new(
            name.into(),
            rows.iter().map(get).collect::<Vec<_>>(),
        ));
    }
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// `covered / valid` as f64, null when `valid` is 0 (never NaN).
/// The first value of a column, `None` when it is empty or null there. polars'
/// `ChunkedArray::get(0)` and `first()` panic on an empty array; reads of a single value
/// (a one-row aggregate, the latest row) go through this instead.
pub fn first<T: PolarsDataType>(values: &ChunkedArray<T>) -> Option<T::Physical<'_>> {
    if values.is_empty() {
        None
    } else {
        values.get(0)
    }
}

pub(crate) fn rate(covered: Expr, valid: Expr) -> Expr {
    when(valid.clone().gt(lit(0)))
        .then(covered.cast(DataType::Float64) / valid.cast(DataType::Float64))
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// 1 for rows where `cond` holds, else 0, as u32 (for summing).
pub(crate) fn count_if(cond: Expr) -> Expr {
    cond.cast(DataType::UInt32).sum()
}
