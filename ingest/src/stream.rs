//! The merged tests of a report of any size, in two passes over its bytes, for callers that
//! store each test's final result and cannot hold the whole report (a 500 MB JUnit file is
//! over a million tests).
//!
//! - [`plan_tests`] (pass 1) runs the retry rules of [`crate::parse`] over the report with
//!   outcomes only, keeping about 40 bytes per test: its final tally, attempts, time, and how
//!   many `<testcase>` elements it spans. Every error of the input surfaces here.
//! - [`TestPlan::replay`] (pass 2) reads the same bytes again and yields each test once, at
//!   its last `<testcase>`, merged as [`crate::parse`] would merge it (same identity, same
//!   invocation, same status, flaky flag, attempts and time), but without texts.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::io::Read;

use crate::TestReader;
use crate::error::{Error, ErrorKind, Position};
use crate::merge::{IdHasher, IdentityHasher, Repeats, Tally, earlier, is_retry};
use crate::model::{Outcome, Status, TestCase, TestCounts};
use crate::{Options, ReportReader, Result, open};

/// What pass 1 keeps of one test (identity hash and invocation).
#[derive(Clone, Copy, Default)]
struct Final {
    tally: u8,
    testcases: u32,
    attempts: u32,
    timed: bool,
    seconds: f64,
}

type ByHash<V> = HashMap<u64, V, BuildHasherDefault<IdentityHasher>>;

/// Puts each `<testcase>` in its test, by the rules of the merger in `merge.rs`: a repeat
/// after a failure (or any repeat under pytest's rerun semantics) is another attempt of the
/// same test, a repeat after a pass is the next invocation.
#[derive(Default)]
struct Placer {
    /// Identity hash → (latest invocation, its tally so far).
    latest: ByHash<(u32, u8)>,
    hasher: IdHasher,
}

impl Placer {
    /// (identity hash, invocation, the test's tally after this testcase); `None` for a
    /// testcase without a name (never merged).
    fn place(&mut self, case: &TestCase, reruns: Repeats) -> Option<(u64, u32, Tally)> {
        if case.id.name.is_empty() {
            return None;
        }
        let tally = Tally::of(&case.outcome);
        let key = self.hasher.hash(&case.id);
        match self.latest.get_mut(&key) {
            None => {
                self.latest.insert(key, (0, tally.pack()));
                Some((key, 0, tally))
            }
            Some((invocation, state)) => {
                let before = Tally::unpack(*state);
                if is_retry(before, reruns) {
                    let after = earlier(before, reruns).then(tally);
                    *state = after.pack();
                    Some((key, *invocation, after))
                } else {
                    *invocation += 1;
                    *state = tally.pack();
                    Some((key, *invocation, tally))
                }
            }
        }
    }
}

/// Pass 1's result: the counts and warnings of the report, and what pass 2 needs.
pub struct TestPlan {
    format: crate::Format,
    finals: HashMap<(u64, u32), Final>,
    counts: TestCounts,
    warnings: Vec<String>,
    options: Options,
}

/// Pass 1 over a report: `None` when it is not a test report (coverage, issues), else its plan.
///
/// # Errors
/// Any problem of the input, with its position, as [`crate::parse`] reports it.
pub fn plan_tests(read: impl Read + Send + 'static, options: &Options) -> Result<Option<TestPlan>> {
    let mut reader = match open(read, options)? {
        ReportReader::Tests(reader) => (*reader).without_details(),
        ReportReader::Coverage(_) | ReportReader::Issues(_) => return Ok(None),
    };
    let format = reader.format();
    let mut placer = Placer::default();
    let mut finals: HashMap<(u64, u32), Final> = HashMap::new();
    let mut counts = TestCounts::default();
    let mut testcases = 0u64;
    while let Some(case) = reader.next_case()? {
        testcases += 1;
        if testcases > options.limits.max_testcases {
            return Err(reader.error_here(crate::ErrorKind::Limit(format!(
                "more than {} testcases (max_testcases)",
                options.limits.max_testcases
            ))));
        }
        let reruns = reader.repeats();
        match placer.place(&case, reruns) {
            None => {
                let tally = Tally::of(&case.outcome);
                counts.add(tally.status, tally.is_flaky(), case.duration_seconds);
            }
            Some((key, invocation, after)) => {
                let f = finals.entry((key, invocation)).or_default();
                f.tally = after.pack();
                f.testcases += 1;
                f.attempts = f.attempts.saturating_add(case.attempts);
                if f.attempts > options.limits.max_attempts_per_test {
                    return Err(reader.error_here(crate::ErrorKind::Limit(format!(
                        "a test with more than {} attempts (max_attempts_per_test)",
                        options.limits.max_attempts_per_test
                    ))));
                }
                if let Some(s) = case.duration_seconds {
                    f.timed = true;
                    f.seconds += s;
                }
            }
        }
    }
    for f in finals.values() {
        let tally = Tally::unpack(f.tally);
        counts.add(tally.status, tally.is_flaky(), f.timed.then_some(f.seconds));
    }
    let warnings = crate::strict_check(options, reader.finish(&counts))?;
    Ok(Some(TestPlan {
        format,
        finals,
        counts,
        warnings,
        options: *options,
    }))
}

impl TestPlan {
    /// The report's counts (as [`crate::summarize`] gives them).
    pub fn counts(&self) -> TestCounts {
        self.counts
    }

    /// The report's format.
    pub fn format(&self) -> crate::Format {
        self.format
    }

    /// The report's warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Pass 2: reads the same bytes again.
    ///
    /// # Errors
    /// The input cannot be opened again.
    pub fn replay(self, read: impl Read + Send + 'static) -> Result<MergedTests> {
        let reader = match open(read, &self.options)? {
            ReportReader::Tests(reader) => (*reader).without_details(),
            ReportReader::Coverage(_) | ReportReader::Issues(_) => return Err(changed()),
        };
        Ok(MergedTests {
            reader,
            placer: Placer::default(),
            finals: self.finals,
        })
    }
}

fn changed() -> Error {
    Error::new(
        ErrorKind::Invalid("the report changed between its two reads".into()),
        Position::START,
    )
}

/// Pass 2: each test once, merged, without texts.
pub struct MergedTests {
    reader: TestReader,
    placer: Placer,
    finals: HashMap<(u64, u32), Final>,
}

impl MergedTests {
    /// The next test, at its last `<testcase>`: identity (with its invocation), outcome
    /// (without texts), attempts and total time over all its testcases.
    ///
    /// # Errors
    /// Any problem of the input (none, if it is the bytes pass 1 read).
    pub fn next_test(&mut self) -> Result<Option<TestCase>> {
        loop {
            let Some(mut case) = self.reader.next_case()? else {
                return if self.finals.is_empty() {
                    Ok(None)
                } else {
                    Err(changed())
                };
            };
            let reruns = self.reader.repeats();
            let Some((key, invocation, _)) = self.placer.place(&case, reruns) else {
                return Ok(Some(case));
            };
            let Some(f) = self.finals.get_mut(&(key, invocation)) else {
                return Err(changed());
            };
            f.testcases -= 1;
            if f.testcases > 0 {
                continue;
            }
            let f = self.finals.remove(&(key, invocation)).unwrap_or_default();
            let tally = Tally::unpack(f.tally);
            case.id.invocation = invocation;
            case.outcome = match tally.status {
                Status::Passed if tally.failed_before => Outcome::Flaky {
                    failed_attempts: Vec::new(),
                },
                Status::Passed => Outcome::Passed,
                Status::Failed => Outcome::Failed {
                    failures: Vec::new(),
                },
                Status::Errored => Outcome::Errored {
                    failures: Vec::new(),
                },
                Status::Skipped => Outcome::Skipped { message: None },
            };
            case.attempts = f.attempts;
            case.duration_seconds = f.timed.then_some(f.seconds);
            return Ok(Some(case));
        }
    }
}
