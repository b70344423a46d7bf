//! Raw results held compactly: 13 bytes a result, build by build.
//!
//! A project's cached results are one [`BuildResults`] per build, sorted by finish time then
//! build id, each a set of columns: the test as a `u32` index into the project's
//! [`TestIds`], a status byte, the attempts and the duration in microseconds as `u32`. A
//! question's period is a range of builds found by binary search, and only that range
//! becomes a polars frame ([`CachedResults::frame_between`]), so memory follows the
//! compact form and not the frame's ~45 bytes a row. Builds are shared between snapshots
//! (`Arc`), so a refresh adds the new builds without copying the others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// foldhash: the first read looks up each of millions of results' test and build ids,
/// several times faster than with SipHash.
type Fast = foldhash::fast::RandomState;

use cimetrics_metrics::polars::prelude::{DataFrame, IdxSize};
use cimetrics_metrics::schema::{self, ResultColumns};

use crate::Error;
use crate::store::StoredResult;

/// The status byte: the status in the low two bits, then flaky, then "has a duration".
const FLAKY: u8 = 1 << 2;
const TIMED: u8 = 1 << 3;
use schema::TEST_STATUSES as STATUSES;

/// A duration that does not fit a `u32` of microseconds (over 71 minutes, or negative) is
/// stored as this and kept exactly in [`BuildResults::long`].
const LONG: u32 = u32::MAX;

/// The project's test ids, each given a `u32` index the first time it is seen.
#[derive(Debug, Default, Clone)]
pub(crate) struct TestIds {
    ids: Vec<i64>,
    index: HashMap<i64, u32, Fast>,
}

impl TestIds {
    fn bytes(&self) -> usize {
        // The vector, and the map at about 24 bytes an entry with its control bytes.
        self.ids.capacity() * 8 + self.index.capacity() * 24
    }
}

/// One build's results, as columns.
#[derive(Debug, Default)]
pub(crate) struct BuildResults {
    build_id: i64,
    finished_at_ms: i64,
    test: Vec<u32>,
    code: Vec<u8>,
    attempts: Vec<u32>,
    duration_us: Vec<u32>,
    /// `(row, µs)` of the durations stored as [`LONG`], by row.
    long: Vec<(u32, i64)>,
}

impl BuildResults {
    fn len(&self) -> usize {
        self.test.len()
    }

    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.test.capacity() * 4
            + self.code.capacity()
            + self.attempts.capacity() * 4
            + self.duration_us.capacity() * 4
            + self.long.capacity() * 16
    }

    fn shrink(&mut self) {
        self.test.shrink_to_fit();
        self.code.shrink_to_fit();
        self.attempts.shrink_to_fit();
        self.duration_us.shrink_to_fit();
        self.long.shrink_to_fit();
    }

    fn push(&mut self, test: u32, stored: &StoredResult) {
        let row = &stored.row;
        let status = STATUSES.iter().position(|s| *s == row.status).unwrap_or(3) as u8;
        let mut code = status | if row.flaky { FLAKY } else { 0 };
        let mut duration = 0;
        if let Some(us) = stored.duration_us {
            code |= TIMED;
            duration = match u32::try_from(us) {
                Ok(d) if d != LONG => d,
                _ => {
                    self.long.push((self.test.len() as u32, us));
                    LONG
                }
            };
        }
        self.test.push(test);
        self.code.push(code);
        self.attempts.push(row.attempts);
        self.duration_us.push(duration);
    }

    /// Appends its rows to `out`, test indices read through `ids`.
    fn extend(&self, ids: &TestIds, out: &mut ResultColumns) {
        let n = self.len();
        out.build_id.extend(std::iter::repeat_n(self.build_id, n));
        out.test_id
            .extend(self.test.iter().map(|&t| ids.ids[t as usize]));
        out.status
            .extend(self.code.iter().map(|c| IdxSize::from(c & 3)));
        out.flaky.extend(self.code.iter().map(|c| c & FLAKY != 0));
        out.attempts.extend_from_slice(&self.attempts);
        out.timed.extend(self.code.iter().map(|c| c & TIMED != 0));
        let first = out.duration_s.len();
        out.duration_s
            .extend(self.duration_us.iter().map(|&us| f64::from(us) / 1e6));
        for &(row, us) in &self.long {
            out.duration_s[first + row as usize] = us as f64 / 1e6;
        }
    }
}

/// A project's cached raw results: its builds' [`BuildResults`] by finish time then id.
#[derive(Debug, Default, Clone)]
pub(crate) struct CachedResults {
    tests: Arc<TestIds>,
    builds: Vec<Arc<BuildResults>>,
    rows: usize,
}

impl CachedResults {
    /// Number of results held.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// About how much memory they hold.
    pub(crate) fn bytes(&self) -> usize {
        self.tests.bytes() + self.builds.iter().map(|b| b.bytes() + 8).sum::<usize>()
    }

    /// The results frame of the builds finished in `[from_ms, to_ms)`.
    ///
    /// # Errors
    /// Only if polars cannot build the frame (a bug).
    pub(crate) fn frame_between(&self, from_ms: i64, to_ms: i64) -> Result<DataFrame, Error> {
        let lo = self.builds.partition_point(|b| b.finished_at_ms < from_ms);
        let hi = self.builds.partition_point(|b| b.finished_at_ms < to_ms);
        let builds = &self.builds[lo..hi.max(lo)];
        let mut out = ResultColumns::with_capacity(builds.iter().map(|b| b.len()).sum());
        for build in builds {
            build.extend(&self.tests, &mut out);
        }
        Ok(out.into_frame()?)
    }

    /// These results with `fresh` builds' in place of any they held of the same builds,
    /// without the builds finished before `from_ms`.
    pub(crate) fn updated(&self, fresh: Fresh<'_>, from_ms: i64) -> CachedResults {
        let replaced: HashSet<i64> = fresh.builds.iter().map(|b| b.build_id).collect();
        let mut builds: Vec<Arc<BuildResults>> = self
            .builds
            .iter()
            .filter(|b| b.finished_at_ms >= from_ms && !replaced.contains(&b.build_id))
            .cloned()
            .collect();
        builds.extend(fresh.builds.into_iter().map(|mut b| {
            b.shrink();
            Arc::new(b)
        }));
        builds.sort_by_key(|b| (b.finished_at_ms, b.build_id));
        let tests = if fresh.new_ids.is_empty() {
            self.tests.clone()
        } else {
            let mut tests = (*self.tests).clone();
            for id in fresh.new_ids {
                tests.index.insert(id, tests.ids.len() as u32);
                tests.ids.push(id);
            }
            Arc::new(tests)
        };
        let rows = builds.iter().map(|b| b.len()).sum();
        CachedResults {
            tests,
            builds,
            rows,
        }
    }

    /// A collector of results read from the store, to be added by [`CachedResults::updated`].
    pub(crate) fn fresh(&self) -> Fresh<'_> {
        Fresh {
            known: &self.tests,
            new_ids: Vec::new(),
            new_index: HashMap::default(),
            builds: Vec::new(),
            by_build: HashMap::default(),
        }
    }
}

/// Results read since a snapshot, grouped by build, their new test ids numbered after the
/// known ones.
pub(crate) struct Fresh<'a> {
    known: &'a TestIds,
    new_ids: Vec<i64>,
    new_index: HashMap<i64, u32, Fast>,
    builds: Vec<BuildResults>,
    /// Index into `builds` by build id.
    by_build: HashMap<i64, usize, Fast>,
}

impl Fresh<'_> {
    /// Adds one result.
    pub(crate) fn add(&mut self, stored: &StoredResult) {
        let id = stored.row.test_id;
        let test = match self.known.index.get(&id) {
            Some(&i) => i,
            None => *self.new_index.entry(id).or_insert_with(|| {
                self.new_ids.push(id);
                (self.known.ids.len() + self.new_ids.len() - 1) as u32
            }),
        };
        let build_id = stored.row.build_id;
        // A build's results come one after another: the last build is the one, mostly.
        let at = match self.builds.last() {
            Some(last) if last.build_id == build_id => self.builds.len() - 1,
            _ => *self.by_build.entry(build_id).or_insert_with(|| {
                self.builds.push(BuildResults {
                    build_id,
                    finished_at_ms: stored.finished_at_ms,
                    ..BuildResults::default()
                });
                self.builds.len() - 1
            }),
        };
        self.builds[at].push(test, stored);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cimetrics_metrics::Table;
    use cimetrics_metrics::Value;
    use cimetrics_metrics::schema::ResultRow;

    fn stored(
        build: i64,
        at: i64,
        test: i64,
        status: &'static str,
        us: Option<i64>,
    ) -> StoredResult {
        StoredResult {
            row: ResultRow {
                build_id: build,
                test_id: test,
                status,
                flaky: status == schema::PASSED && test % 2 == 0,
                attempts: if test % 2 == 0 { 70_000 } else { 1 },
                duration_s: None,
            },
            duration_us: us,
            finished_at_ms: at,
        }
    }

    /// (build, test, status, flaky, attempts, duration) of each row of a frame.
    fn rows(frame: &DataFrame) -> Vec<(i64, i64, String, bool, i64, Option<f64>)> {
        let table = Table::from_frame(frame).unwrap();
        let int = |i, c| match table.get(i, c) {
            Some(Value::Int(v)) => *v,
            other => panic!("{c}: {other:?}"),
        };
        (0..table.rows.len())
            .map(|i| {
                let status = match table.get(i, schema::STATUS) {
                    Some(Value::Str(s)) => s.clone(),
                    other => panic!("status: {other:?}"),
                };
                let flaky = matches!(table.get(i, schema::FLAKY), Some(Value::Bool(true)));
                let duration = match table.get(i, schema::DURATION_S) {
                    Some(Value::Float(f)) => Some(*f),
                    _ => None,
                };
                (
                    int(i, schema::BUILD_ID),
                    int(i, schema::TEST_ID),
                    status,
                    flaky,
                    int(i, schema::ATTEMPTS),
                    duration,
                )
            })
            .collect()
    }

    #[test]
    fn results_come_back_exactly_as_stored_in_the_period_asked() {
        let empty = CachedResults::default();
        let mut fresh = empty.fresh();
        // Build 7 at t=200, build 5 at t=100 (read in that order), tests with odd values:
        // a duration past u32 microseconds, a negative one, none, and 0.
        for r in [
            stored(7, 200, 900, schema::FAILED, Some(5_000_000_000)),
            stored(7, 200, 901, schema::PASSED, Some(-3)),
            stored(5, 100, 902, schema::PASSED, Some(1_500_000)),
            stored(5, 100, 901, schema::SKIPPED, None),
            stored(5, 100, 900, schema::ERRORED, Some(0)),
        ] {
            fresh.add(&r);
        }
        let cached = empty.updated(fresh, 0);
        assert_eq!(cached.rows(), 5);
        assert_eq!(
            rows(&cached.frame_between(0, i64::MAX).unwrap()),
            vec![
                (5, 902, "passed".into(), true, 70_000, Some(1.5)),
                (5, 901, "skipped".into(), false, 1, None),
                (5, 900, "errored".into(), false, 70_000, Some(0.0)),
                (7, 900, "failed".into(), false, 70_000, Some(5_000.0)),
                (7, 901, "passed".into(), false, 1, Some(-0.000_003)),
            ]
        );
        // [150, 201) is build 7 alone; [0, 100) nothing.
        let late = rows(&cached.frame_between(150, 201).unwrap());
        assert_eq!(late.iter().map(|r| r.0).collect::<Vec<_>>(), vec![7, 7]);
        assert!(rows(&cached.frame_between(0, 100).unwrap()).is_empty());

        // An update replaces build 7's rows, adds build 6 with a new test, and drops what
        // finished before 150 (build 5).
        let mut fresh = cached.fresh();
        fresh.add(&stored(7, 200, 903, schema::PASSED, Some(1)));
        fresh.add(&stored(6, 150, 901, schema::FAILED, Some(2)));
        let next = cached.updated(fresh, 150);
        assert_eq!(
            rows(&next.frame_between(0, i64::MAX).unwrap()),
            vec![
                (6, 901, "failed".into(), false, 1, Some(0.000_002)),
                (7, 903, "passed".into(), false, 1, Some(0.000_001)),
            ]
        );
        // The older results are unchanged by the update.
        assert_eq!(rows(&cached.frame_between(150, 201).unwrap()), late);
    }
}
