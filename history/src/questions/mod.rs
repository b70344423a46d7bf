//! The questions users ask of a project's history, one method of [`History`] each, each
//! returning a typed answer from [`crate::answers`]:
//!
//! | question | method | answer |
//! |---|---|---|
//! | builds, newest first | [`History::builds`] | [`BuildList`](crate::answers::BuildList) |
//! | one build, its tests and files | [`History::build`] | [`BuildDetail`](crate::answers::BuildDetail) |
//! | a metric per window | [`History::trend`] | [`Trend`](crate::answers::Trend) |
//! | flaky tests | [`History::flaky`] | [`FlakyTests`](crate::answers::FlakyTests) |
//! | slowest tests | [`History::slowest`] | [`SlowestTests`](crate::answers::SlowestTests) |
//! | tests failing now | [`History::failing`] | [`FailingTests`](crate::answers::FailingTests) |
//! | a build's files' coverage | [`History::coverage_files`] | [`CoverageFiles`](crate::answers::CoverageFiles) |
//! | the quality score | [`History::score`] | [`QualityScore`](crate::answers::QualityScore) |
//! | the current values (badges) | [`History::current`] | [`Current`](crate::answers::Current) |
//! | the quality gate | [`History::gate`], [`History::gate_reports`] | [`Gate`](crate::answers::Gate) |
//! | a build's code quality | [`History::issues_summary`] | [`IssuesSummary`](crate::answers::IssuesSummary) |
//! | a build's issues, new, open or fixed | [`History::issues`] | [`IssueList`](crate::answers::IssueList) |
//!
//! Every formula is the metrics crate's; these functions pick the slice of history (periods
//! counted back from the project's latest build, never from the wall clock, so an imported
//! history answers as a live one does), hand it to the metrics, and name what comes back
//! the way users do (CI build ids, test identities, RFC 3339 times).
//!
//! polars blocks in place inside a multi-threaded tokio runtime and refuses a
//! single-threaded one: await these on a multi-threaded runtime.

mod builds;
mod gate;
mod issues;
mod tests;
mod trends;

use std::collections::HashMap;
use std::sync::Arc;

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{BRANCH, FINISHED_AT};
use cimetrics_metrics::{Table, Value};

pub use self::builds::BuildsParams;
pub use self::gate::{GateParams, ReportFacts, gate_without_history};
pub use self::issues::{IssuesParams, MAX_ISSUES_PAGE};
pub use self::tests::{FailingParams, FlakyParams, RegressionParams, SlowestParams};
pub use self::trends::{Metric, TrendParams};

use crate::Error;
use crate::answers::TestRef;
use crate::cache::{DAY_MS, HistoryCache, Snapshot};
use crate::store::{BuildTestResult, Project, Store, TestName};

/// Days back from the latest build the quality score looks at, unless asked otherwise.
pub const SCORE_DAYS: u32 = 30;
/// Days back from the latest build whose failure streaks MTTR averages, unless asked
/// otherwise.
pub const MTTR_DAYS: u32 = 90;

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The history of every project: the store and the in-memory cache over it. Cheap to share
/// (put it in an `Arc`); every question reads the project's current version first, so several
/// processes over one PostgreSQL answer the same.
pub struct History {
    store: Store,
    cache: HistoryCache,
    /// Each quality window's score inputs, kept while its builds stay the same.
    quality: trends::QualityWindows,
    /// The most windows a trend answers.
    max_windows: u32,
}

impl History {
    /// The history over `store`, keeping `cache_results_days` days of raw results in memory
    /// per project.
    pub fn new(store: Store, cache_results_days: u32) -> History {
        History {
            store,
            cache: HistoryCache::new(cache_results_days),
            quality: trends::QualityWindows::default(),
            max_windows: 3_700,
        }
    }

    /// The snapshots of all projects together keep to `bytes` of memory (default
    /// [`DEFAULT_CACHE_BYTES`](crate::cache::DEFAULT_CACHE_BYTES)); the projects read least
    /// recently are dropped first and read from the store when asked again.
    pub fn with_cache_bytes(mut self, bytes: u64) -> History {
        self.cache = self.cache.with_budget(bytes);
        self
    }

    /// How many projects have a snapshot in memory, and their estimated bytes together.
    pub fn cache_usage(&self) -> (usize, u64) {
        self.cache.usage()
    }

    /// A trend answers at most `n` windows (3,700 by default: ten years of days); asking for
    /// more is [`Error::Invalid`], naming the limit.
    pub fn with_max_windows(mut self, n: u32) -> History {
        self.max_windows = n.max(1);
        self
    }

    /// The store underneath (for writes: uploads, builds, tokens).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The project of this name.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is none; the store fails.
    pub async fn project(&self, name: &str) -> Result<Project> {
        self.store
            .project(name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no project {name:?}")))
    }

    /// The project's history as it stands now (builds idle past the close-after period are
    /// finished first, so every question sees them finished).
    ///
    /// # Errors
    /// The store fails.
    pub async fn snapshot(&self, project: &Project) -> Result<Arc<Snapshot>> {
        self.store.close_idle_builds(project.id).await?;
        self.cache.snapshot(&self.store, project.id).await
    }

    /// The raw results of `[from, to)`: from the cache, or from the store when the period
    /// reaches before it.
    async fn results(
        &self,
        snapshot: &Snapshot,
        project: &Project,
        (from, to): (i64, i64),
    ) -> Result<DataFrame> {
        self.cache
            .results_between(&self.store, project.id, snapshot, (from, to))
            .await
    }

    /// Each test's identity by its id, for the ids a table's `test_id` column holds.
    async fn test_refs(&self, project: &Project, table: &Table) -> Result<HashMap<i64, TestRef>> {
        let ids: Vec<i64> = (0..table.rows.len())
            .filter_map(|i| int(table, i, cimetrics_metrics::schema::TEST_ID))
            .collect();
        let names = self.store.test_names(project.id, &ids).await?;
        Ok(names
            .into_iter()
            .map(|n| (n.id, TestRef::from(n)))
            .collect())
    }
}

impl From<TestName> for TestRef {
    fn from(n: TestName) -> TestRef {
        TestRef {
            id: test_id(n.key_hash),
            suite: n.suite,
            classname: n.classname,
            name: n.name,
            file: n.file,
        }
    }
}

impl From<&BuildTestResult> for TestRef {
    fn from(r: &BuildTestResult) -> TestRef {
        TestRef {
            id: test_id(r.key_hash),
            suite: r.suite.clone(),
            classname: r.classname.clone(),
            name: r.name.clone(),
            file: r.file.clone(),
        }
    }
}

/// A test's public id: its identity hash as 16 hex digits.
pub(crate) fn test_id(key_hash: i64) -> String {
    format!("{:016x}", key_hash as u64)
}

/// `[latest build − days, latest build]` in ms (`None` without builds).
fn last_days(snapshot: &Snapshot, days: u32) -> Option<(i64, i64)> {
    let latest = snapshot.latest_ms?;
    Some((latest - i64::from(days) * DAY_MS, latest + 1))
}

/// The complete builds, optionally of one branch.
fn builds_of(snapshot: &Snapshot, branch: Option<&str>) -> LazyFrame {
    let builds = snapshot.builds.clone().lazy();
    match branch {
        Some(b) => builds.filter(col(BRANCH).eq(lit(b))),
        None => builds,
    }
}

/// Builds finished in `[from, to)`.
fn in_period(builds: LazyFrame, (from, to): (i64, i64)) -> LazyFrame {
    let at = col(FINISHED_AT).cast(DataType::Int64);
    builds.filter(at.clone().gt_eq(lit(from)).and(at.lt(lit(to))))
}

/// The builds of the last `days` days (of a branch), as summaries, oldest first.
fn summaries_in<'a>(
    snapshot: &'a Snapshot,
    branch: Option<&'a str>,
    days: u32,
) -> impl Iterator<Item = &'a crate::store::BuildSummary> {
    let period = last_days(snapshot, days);
    snapshot.summaries.iter().filter(move |s| {
        period.is_some_and(|(from, to)| {
            (from..to).contains(&s.build.finished_at_ms)
                && branch.is_none_or(|b| s.build.branch == b)
        })
    })
}

fn int(table: &Table, row: usize, column: &str) -> Option<i64> {
    match table.get(row, column)? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

fn float(table: &Table, row: usize, column: &str) -> Option<f64> {
    table.get(row, column).and_then(Value::as_f64)
}

fn boolean(table: &Table, row: usize, column: &str) -> bool {
    matches!(table.get(row, column), Some(Value::Bool(true)))
}

fn text(table: &Table, row: usize, column: &str) -> String {
    match table.get(row, column) {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

fn ints(value: Option<&Value>) -> Vec<i64> {
    match value {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::Int(i) => Some(*i),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn u32_of(v: Option<i64>) -> u32 {
    v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}
