//! The history cache: each project's complete builds, their totals and their recent raw
//! results, held in memory as the metrics' frames and refreshed incrementally.
//!
//! Reading 2.5 million result rows out of a database takes seconds on either backend; the
//! metrics over the same rows in memory take milliseconds. So reads go through a
//! [`Snapshot`]:
//! - **Version check.** Each read first asks the store for the project's
//!   [`history_version`](Store::history_version) (one indexed row). Unchanged: the cached
//!   snapshot answers. Several service instances over one PostgreSQL each keep their own
//!   cache and agree, because the version lives in the database.
//! - **Incremental refresh.** When the version moved, the builds and their totals are read
//!   again in full (one row per build), and only the results of builds whose history
//!   sequence is above the cached one are read and appended. A build that changed after
//!   completing has its old rows replaced. A prune (retention) reloads everything.
//! - **Bounded.** Raw results are kept for the last `results_days` days of the project's
//!   history (counted back from its latest build, so an imported history of last year works
//!   the same), sorted by finish time so a time range is a zero-copy slice. Queries reaching
//!   further back read the store ([`Snapshot::results_between`] returns `None`). Build-level
//!   series (success rate, pass rate from build totals, coverage, duration) cover the whole
//!   history at any age.
//! - **One budget for all projects.** The snapshots together hold at most `cache_bytes`
//!   (their frames' estimated size and the build summaries'): past it, the projects read
//!   least recently are dropped, and read again from the store when next asked. A project
//!   larger than the whole budget is still answered, from a snapshot made for the question
//!   and dropped after it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{
    self, BUILD_ID, CoverageRow, ResultRow, builds_frame, coverage_frame, results_frame,
};

use crate::Error;
use crate::store::{BuildSummary, Store};

/// The finish time (ms) beside each cached result, for slicing; never handed out.
const AT: &str = "_finished_at_ms";

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// One project's history at one version.
#[derive(Clone)]
pub struct Snapshot {
    /// (history sequence, prune epoch) this snapshot reflects.
    pub version: (i64, i64),
    /// Every complete build (the metrics' builds frame).
    pub builds: DataFrame,
    /// Per-build test counts of the builds with tests: `build_id` and
    /// [`cimetrics_metrics::COUNT_COLUMNS`].
    pub counts: DataFrame,
    /// Coverage totals of the builds with coverage (the metrics' coverage frame).
    pub coverage: DataFrame,
    /// Raw results of builds finished at or after `results_from_ms`, sorted by finish time,
    /// with the finish time in [`AT`].
    results: DataFrame,
    /// Where the cached results begin (ms).
    pub results_from_ms: i64,
    /// The latest finish time of any complete build (ms), if any.
    pub latest_ms: Option<i64>,
    /// Every complete build with its totals and CI id, by finish time then id.
    pub summaries: Arc<Vec<BuildSummary>>,
    /// Index into `summaries` by build id.
    by_id: Arc<HashMap<i64, usize>>,
    /// Builds whose results are (or were, before the horizon passed them) cached: only used
    /// to skip the filter that replaces a re-completed build's rows, so a stale id costs a
    /// no-op filter at most.
    cached_builds: Arc<HashSet<i64>>,
    /// [`Snapshot::estimated_bytes`].
    bytes: u64,
}

impl Snapshot {
    /// The raw results (the metrics' results frame) of the builds finished in
    /// `[from_ms, to_ms)`, or `None` when that reaches before the cached range.
    ///
    /// # Errors
    /// Only on a malformed cache (a bug).
    pub fn results_between(&self, from_ms: i64, to_ms: i64) -> Result<Option<DataFrame>, Error> {
        if from_ms < self.results_from_ms && self.results_from_ms > i64::MIN {
            return Ok(None);
        }
        let at = self.results.column(AT)?.i64()?;
        let times = at.cont_slice()?;
        let lo = times.partition_point(|&t| t < from_ms);
        let hi = times.partition_point(|&t| t < to_ms);
        let slice = self.results.slice(lo as i64, hi.saturating_sub(lo));
        Ok(Some(slice.drop(AT)?))
    }

    /// A complete build's totals by its id.
    pub fn summary(&self, build_id: i64) -> Option<&BuildSummary> {
        self.by_id.get(&build_id).map(|&i| &self.summaries[i])
    }

    /// A complete build's CI id ("" for an id not in the history, which a frame from this
    /// snapshot never holds).
    pub fn ci_id(&self, build_id: i64) -> String {
        self.summary(build_id)
            .map(|s| s.ci_build_id.clone())
            .unwrap_or_default()
    }

    /// Number of cached result rows.
    pub fn cached_results(&self) -> usize {
        self.results.height()
    }

    /// About how much memory the snapshot holds (measured when it was made).
    pub fn estimated_bytes(&self) -> u64 {
        self.bytes
    }

    /// Its frames' estimated size, and the build summaries with their ids and strings.
    fn measure(&self) -> u64 {
        let frames = [&self.builds, &self.counts, &self.coverage, &self.results]
            .iter()
            .map(|f| f.estimated_size())
            .sum::<usize>();
        let summaries = self
            .summaries
            .iter()
            .map(|s| {
                std::mem::size_of::<BuildSummary>()
                    + s.ci_build_id.capacity()
                    + s.build.branch.capacity()
                    + s.build.commit.capacity()
                    + s.build.status.capacity()
            })
            .sum::<usize>();
        // The id index and the set of cached builds: about 32 bytes an entry each.
        let indexes = 32 * (self.by_id.len() + self.cached_builds.len());
        (frames + summaries + indexes) as u64
    }
}

/// One project's place in the cache: its latest snapshot, behind a lock held while it
/// refreshes (so one reader refreshes and the others wait for its result).
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Snapshot>>>>;

/// One project's entry: its slot, when it was last read, and the size of its snapshot.
#[derive(Default)]
struct Entry {
    slot: Slot,
    last_read: u64,
    bytes: u64,
}

/// The projects in the cache, and a clock of reads for least-recently-used eviction.
#[derive(Default)]
struct Projects {
    entries: HashMap<i64, Entry>,
    clock: u64,
}

/// The default memory budget of the cache, all projects together: 512 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 512 << 20;

/// The cache of the projects read recently, within one memory budget.
pub struct HistoryCache {
    results_days: u32,
    budget_bytes: u64,
    projects: std::sync::Mutex<Projects>,
}

impl HistoryCache {
    /// A cache keeping raw results for the last `results_days` days of each history, within
    /// [`DEFAULT_CACHE_BYTES`].
    pub fn new(results_days: u32) -> Self {
        HistoryCache {
            results_days,
            budget_bytes: DEFAULT_CACHE_BYTES,
            projects: std::sync::Mutex::default(),
        }
    }

    /// The snapshots of all projects together keep to `bytes` (least recently read dropped
    /// first).
    pub fn with_budget(mut self, bytes: u64) -> Self {
        self.budget_bytes = bytes;
        self
    }

    /// How many projects have a snapshot in memory, and their estimated bytes together.
    pub fn usage(&self) -> (usize, u64) {
        let projects = self.lock();
        let held = projects.entries.values().filter(|e| e.bytes > 0);
        held.fold((0, 0), |(n, b), e| (n + 1, b + e.bytes))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Projects> {
        self.projects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes `project_id`'s snapshot size after a read, and drops the snapshots read least
    /// recently (this one too, last, when it alone is over the budget) until the rest fit.
    fn keep_within_budget(&self, project_id: i64, bytes: u64) {
        let mut projects = self.lock();
        projects.clock += 1;
        let now = projects.clock;
        if let Some(entry) = projects.entries.get_mut(&project_id) {
            entry.last_read = now;
            entry.bytes = bytes;
        }
        let mut total: u64 = projects.entries.values().map(|e| e.bytes).sum();
        while total > self.budget_bytes {
            let Some((&id, _)) = projects
                .entries
                .iter()
                .filter(|(_, e)| e.bytes > 0)
                .min_by_key(|(id, e)| (**id == project_id, e.last_read))
            else {
                break;
            };
            let Some(entry) = projects.entries.get_mut(&id) else {
                break;
            };
            total -= entry.bytes;
            entry.bytes = 0;
            // A slot being refreshed is left alone: its reader notes its size when done.
            if let Ok(mut snapshot) = entry.slot.try_lock() {
                *snapshot = None;
            }
        }
    }

    /// The project's history as it stands in the store now.
    ///
    /// # Errors
    /// The store fails.
    pub async fn snapshot(&self, store: &Store, project_id: i64) -> Result<Arc<Snapshot>, Error> {
        let slot = {
            let mut projects = self.lock();
            projects.entries.entry(project_id).or_default().slot.clone()
        };
        let version = store.history_version(project_id).await?;
        // One refresh at a time per project; readers that queue behind it find it fresh.
        let mut guard = slot.lock().await;
        if let Some(current) = guard.as_ref()
            && current.version == version
        {
            let current = current.clone();
            drop(guard);
            self.keep_within_budget(project_id, current.estimated_bytes());
            return Ok(current);
        }
        let next = Arc::new(
            self.refresh(store, project_id, version, guard.take())
                .await?,
        );
        *guard = Some(next.clone());
        drop(guard);
        self.keep_within_budget(project_id, next.estimated_bytes());
        Ok(next)
    }

    async fn refresh(
        &self,
        store: &Store,
        project_id: i64,
        version: (i64, i64),
        previous: Option<Arc<Snapshot>>,
    ) -> Result<Snapshot, Error> {
        let summaries = store.build_summaries(project_id).await?;
        let latest_ms = summaries.iter().map(|s| s.build.finished_at_ms).max();
        let results_from_ms = latest_ms.map_or(i64::MIN, |t| {
            t.saturating_sub(i64::from(self.results_days) * DAY_MS)
        });
        let builds: Vec<_> = summaries.iter().map(|s| s.build.clone()).collect();
        let coverage: Vec<CoverageRow> = summaries
            .iter()
            .filter_map(|s| s.coverage.clone())
            .collect();
        let with_tests: Vec<(i64, [u64; 6])> = summaries
            .iter()
            .filter_map(|s| s.tests.map(|t| (s.build.build_id, t)))
            .collect();
        let mut count_columns = vec![Column::new(
            BUILD_ID.into(),
            with_tests.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        )];
        for (i, name) in cimetrics_metrics::COUNT_COLUMNS.iter().enumerate() {
            count_columns.push(Column::new(
                (*name).into(),
                with_tests.iter().map(|(_, c)| c[i]).collect::<Vec<_>>(),
            ));
        }
        let counts = DataFrame::new(with_tests.len(), count_columns)?;

        // Keep the cached results when only new builds arrived (same prune epoch, and the
        // cached range still begins no later than the new horizon).
        let reuse = previous.filter(|p| p.version.1 == version.1);
        let after_seq = reuse.as_ref().map_or(0, |p| p.version.0);
        let (rows, _) = store
            .results_since(project_id, after_seq, results_from_ms)
            .await?;
        let fresh = results_with_times(&rows)?;
        let fresh_builds: HashSet<i64> = rows.iter().map(|(r, _)| r.build_id).collect();
        let (results, cached_builds) = match reuse {
            Some(p) => {
                let mut base = p.results.clone();
                if fresh_builds.iter().any(|b| p.cached_builds.contains(b)) {
                    base = without_builds(&base, &fresh_builds)?;
                }
                let base_max = last_time(&base)?;
                let fresh_min = first_time(&fresh)?;
                let mut all = base.vstack(&fresh)?;
                if matches!((base_max, fresh_min), (Some(a), Some(b)) if b < a) {
                    all = sort_by_time(&all)?;
                }
                all.rechunk_mut();
                // The horizon moved forward with the latest build: drop what fell behind it
                // (a build finishing behind it now would not be loaded, so it is not kept).
                // A zero-copy slice: the next refresh's rechunk frees the rows left behind.
                let behind = all
                    .column(AT)?
                    .i64()?
                    .cont_slice()?
                    .partition_point(|&t| t < results_from_ms);
                let all = all.slice(behind as i64, all.height() - behind);
                let mut ids: HashSet<i64> = (*p.cached_builds).clone();
                ids.extend(fresh_builds);
                (all, ids)
            }
            None => {
                let mut all = sort_by_time(&fresh)?;
                all.rechunk_mut();
                (all, fresh_builds)
            }
        };
        let by_id = summaries
            .iter()
            .enumerate()
            .map(|(i, s)| (s.build.build_id, i))
            .collect();
        let mut snapshot = Snapshot {
            summaries: Arc::new(summaries),
            by_id: Arc::new(by_id),
            version,
            builds: builds_frame(&builds)?,
            counts,
            coverage: coverage_frame(&coverage, false)?,
            results,
            results_from_ms,
            latest_ms,
            cached_builds: Arc::new(cached_builds),
            bytes: 0,
        };
        snapshot.bytes = snapshot.measure();
        Ok(snapshot)
    }
}

fn results_with_times(rows: &[(ResultRow, i64)]) -> Result<DataFrame, Error> {
    let plain: Vec<ResultRow> = rows.iter().map(|(r, _)| r.clone()).collect();
    let mut frame = results_frame(&plain)?;
    frame.with_column(Column::new(
        AT.into(),
        rows.iter().map(|(_, t)| *t).collect::<Vec<_>>(),
    ))?;
    Ok(frame)
}

fn sort_by_time(frame: &DataFrame) -> Result<DataFrame, Error> {
    Ok(frame.sort(
        [AT, BUILD_ID],
        SortMultipleOptions::default().with_maintain_order(true),
    )?)
}

fn first_time(frame: &DataFrame) -> Result<Option<i64>, Error> {
    Ok(schema::first(frame.column(AT)?.i64()?))
}

fn last_time(frame: &DataFrame) -> Result<Option<i64>, Error> {
    let at = frame.column(AT)?.i64()?;
    Ok(at.len().checked_sub(1).and_then(|i| at.get(i)))
}

fn without_builds(frame: &DataFrame, builds: &HashSet<i64>) -> Result<DataFrame, Error> {
    let ids = frame.column(BUILD_ID)?.i64()?;
    let keep: BooleanChunked = (0..ids.len())
        .map(|i| ids.get(i).is_none_or(|b| !builds.contains(&b)))
        .collect();
    Ok(frame.filter(&keep)?)
}
