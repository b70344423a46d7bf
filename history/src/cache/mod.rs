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
//! - **Raw results when first asked for, compactly.** A snapshot is first only the builds,
//!   so the first answer after a start that needs no raw results (a trend of success rate,
//!   coverage, duration, pass rate from build totals) waits only for one row per build. The
//!   raw results of the last `results_days` days of the project's history (counted back
//!   from its latest build, so an imported history of last year works the same) are read
//!   the first time a question needs them, and kept as [`results::CachedResults`]: 13 bytes
//!   a result, build by build, made into a polars frame only for the period asked
//!   ([`HistoryCache::results_between`]). A period reaching further back is read from the
//!   store for that question alone.
//! - **One budget for all projects.** The snapshots together hold at most `cache_bytes`
//!   (their frames' estimated size, the build summaries', their compact results and the
//!   answers kept from them): past it, the projects read
//!   least recently are dropped, and read again from the store when next asked. A project
//!   larger than the whole budget is still answered, from a snapshot made for the question
//!   and dropped after it.

mod results;

use std::collections::HashMap;
use std::sync::Arc;

use cimetrics_metrics::polars::prelude::*;
use cimetrics_metrics::schema::{BUILD_ID, CoverageRow, builds_frame, coverage_frame};

use crate::Error;
use crate::store::{BuildSummary, Store};
use results::CachedResults;

/// A day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// One project's history at one version.
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
    /// Raw results of the builds finished at or after `results_from_ms`, read when first
    /// asked for.
    results: tokio::sync::OnceCell<CachedResults>,
    /// Where the cached results begin (ms).
    pub results_from_ms: i64,
    /// The latest finish time of any complete build (ms), if any.
    pub latest_ms: Option<i64>,
    /// Every complete build with its totals and CI id, by finish time then id.
    pub summaries: Arc<Vec<BuildSummary>>,
    /// Index into `summaries` by build id.
    by_id: Arc<HashMap<i64, usize>>,
    /// [`Snapshot::estimated_bytes`] without the raw results.
    bytes: u64,
    /// Answers worked out from this snapshot, by question and parameters: a snapshot is one
    /// version of the history, so they hold for as long as it is current.
    worked: std::sync::Mutex<HashMap<String, Arc<dyn std::any::Any + Send + Sync>>>,
    /// About how much memory `worked` holds (counted in [`Snapshot::estimated_bytes`], so
    /// answers asked with ever new parameters fall under the cache budget too).
    worked_bytes: std::sync::atomic::AtomicU64,
}

/// Answers a snapshot keeps at most (each a metric's table or a few numbers); past it the
/// map starts again.
const WORKED_ANSWERS: usize = 256;

impl Snapshot {
    /// What `work` gives, worked out once for this snapshot under `key` (the question and
    /// every parameter of it): later calls with the same key get the same value back.
    ///
    /// # Errors
    /// `work`'s; an error is not kept.
    pub async fn once<T, F>(&self, key: String, work: F) -> Result<Arc<T>, Error>
    where
        T: serde::Serialize + Send + Sync + 'static,
        F: Future<Output = Result<T, Error>>,
    {
        use std::sync::atomic::Ordering;
        let kept = self.worked_answers().get(&key).cloned();
        if let Some(kept) = kept.and_then(|k| k.downcast::<T>().ok()) {
            return Ok(kept);
        }
        let value = Arc::new(work.await?);
        let bytes = weight(&*value) + key.len() as u64;
        let mut worked = self.worked_answers();
        if worked.len() >= WORKED_ANSWERS {
            worked.clear();
            self.worked_bytes.store(0, Ordering::Relaxed);
        }
        worked.insert(key, value.clone());
        self.worked_bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(value)
    }

    fn worked_answers(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<dyn std::any::Any + Send + Sync>>> {
        self.worked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    /// Number of raw results in memory (0 until a question needs them).
    pub fn cached_results(&self) -> usize {
        self.results.get().map_or(0, CachedResults::rows)
    }

    /// About how much memory the snapshot holds: its builds as measured when it was made,
    /// its raw results once read, and the answers worked out from it.
    pub fn estimated_bytes(&self) -> u64 {
        self.bytes
            + self.results.get().map_or(0, |r| r.bytes() as u64)
            + self.worked_bytes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Its frames' estimated size, and the build summaries with their ids and strings.
    fn measure(&self) -> u64 {
        let frames = [&self.builds, &self.counts, &self.coverage]
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
        // The id index: about 32 bytes an entry.
        let indexes = 32 * self.by_id.len();
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

    /// The raw results (the metrics' results frame) of the builds of `snapshot` finished in
    /// `[from_ms, to_ms)`: from its cached results (read from the store on the first call),
    /// or, for a period reaching before them, read from the store for this call alone.
    ///
    /// # Errors
    /// The store fails.
    pub async fn results_between(
        &self,
        store: &Store,
        project_id: i64,
        snapshot: &Snapshot,
        (from_ms, to_ms): (i64, i64),
    ) -> Result<DataFrame, Error> {
        let seqs = (0, snapshot.version.0);
        if from_ms < snapshot.results_from_ms {
            let period = read(store, project_id, seqs, (from_ms, to_ms)).await?;
            return period.frame_between(from_ms, to_ms);
        }
        let loaded = snapshot.results.initialized();
        let results = snapshot
            .results
            .get_or_try_init(|| {
                read(
                    store,
                    project_id,
                    seqs,
                    (snapshot.results_from_ms, i64::MAX),
                )
            })
            .await?;
        if !loaded {
            self.keep_within_budget(project_id, snapshot.estimated_bytes());
        }
        results.frame_between(from_ms, to_ms)
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

        // Keep the raw results already read when only new builds arrived (same prune
        // epoch), adding those completed since; otherwise they are read when next needed.
        let results = tokio::sync::OnceCell::new();
        if let Some(p) = previous.filter(|p| p.version.1 == version.1)
            && let Some(cached) = p.results.get()
        {
            let mut fresh = cached.fresh();
            let seqs = (p.version.0, version.0);
            store
                .results_of_builds(project_id, seqs, (results_from_ms, i64::MAX), |r| {
                    fresh.add(&r);
                })
                .await?;
            let _ = results.set(cached.updated(fresh, results_from_ms));
        }
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
            bytes: 0,
            worked: std::sync::Mutex::default(),
            worked_bytes: std::sync::atomic::AtomicU64::new(0),
        };
        snapshot.bytes = snapshot.measure();
        Ok(snapshot)
    }
}

/// About how much memory a kept answer takes: twice its JSON (its cells in memory are
/// enum values and strings, about that much again as their text).
fn weight(value: &impl serde::Serialize) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Counting cannot fail, and an answer always serialises.
    let _ = serde_json::to_writer(&mut count, value);
    2 * count.0
}

/// The results of the project's complete builds with a history sequence in `seqs`, finished
/// in `period`.
async fn read(
    store: &Store,
    project_id: i64,
    seqs: (i64, i64),
    period: (i64, i64),
) -> Result<CachedResults, Error> {
    let empty = CachedResults::default();
    let mut fresh = empty.fresh();
    store
        .results_of_builds(project_id, seqs, period, |r| fresh.add(&r))
        .await?;
    Ok(empty.updated(fresh, period.0))
}
