//! Merging the attempts of a test that a report repeats.
//!
//! A testcase repeated in one report with the same [`TestId`] is a retry of the test when the
//! attempt before it failed or errored (tools re-run only what failed: Gradle's test-retry,
//! jest's `retryTimes`, gotestsum `--rerun-fails`; pytest writes a teardown error as a second
//! testcase too). The attempts are one test, in document order: its final status is that of
//! its last attempt that ran (a skipped attempt after a run does not hide the run), and it is
//! flaky when it passed in the end after a failed attempt.
//!
//! After a passed or skipped attempt, the same identity is a separate test (jest and mocha
//! tests that share a title, TestNG data-provider invocations, Playwright projects, XCTest
//! configurations), counted on its own with the next [`TestId::invocation`].
//!
//! One exception: in a pytest report every repeat is a rerun (pytest's test ids are unique,
//! and pytest-rerunfailures writes each failed attempt as a plain, passing-looking testcase),
//! so there an earlier attempt counts as failed. Testcases without a name are never merged.
//!
//! Two forms run these rules. [`TestMerger`] keeps every test with its attempts, for
//! [`crate::parse`]; it finds a test's earlier attempts through [`IndexTable`], one `u64`
//! slot per test (32 hash bits and the index, the identities compared on equal bits), and
//! places each test when the next one arrives, having asked the processor to fetch its slot
//! meanwhile. [`TestCounter`] keeps 8 bytes per distinct test, for [`crate::summarize`],
//! whose memory does not grow with the report. Both are the JUnit reader's
//! [`CaseSink`]s.

use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::junit::CaseSink;
use crate::model::{Attempt, Outcome, Status, TestCase, TestCounts, TestId};

/// The part of an outcome that decides how attempts merge: the final status, and whether any
/// attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub status: Status,
    pub failed_before: bool,
}

impl Tally {
    pub(crate) fn of(outcome: &Outcome) -> Tally {
        let failed_before = matches!(
            outcome,
            Outcome::Flaky { .. } | Outcome::Failed { .. } | Outcome::Errored { .. }
        );
        Tally {
            status: outcome.status(),
            failed_before,
        }
    }

    /// `self` then `next`.
    pub(crate) fn then(self, next: Tally) -> Tally {
        let status = if next.status == Status::Skipped && self.status != Status::Skipped {
            self.status
        } else {
            next.status
        };
        Tally {
            status,
            failed_before: self.failed_before || next.failed_before,
        }
    }

    pub(crate) fn is_flaky(self) -> bool {
        self.status == Status::Passed && self.failed_before
    }

    pub(crate) fn pack(self) -> u8 {
        let s = match self.status {
            Status::Passed => 0,
            Status::Failed => 1,
            Status::Errored => 2,
            Status::Skipped => 3,
        };
        s | (u8::from(self.failed_before) << 2)
    }

    pub(crate) fn unpack(b: u8) -> Tally {
        let status = match b & 3 {
            0 => Status::Passed,
            1 => Status::Failed,
            2 => Status::Errored,
            _ => Status::Skipped,
        };
        Tally {
            status,
            failed_before: b & 4 != 0,
        }
    }
}

/// What a testcase whose identity was seen before in the same report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeats {
    /// A retry when the attempt before it failed or errored, else the next invocation of a
    /// test that shares the identity (JUnit XML).
    Retries,
    /// Always a rerun, also after an attempt the report shows as passed (pytest-rerunfailures
    /// writes failed attempts without their failure).
    Reruns,
    /// Always another test (TRX, NUnit, xUnit.net: data rows and examples that share a
    /// name; these formats write no retries).
    Distinct,
}

/// What to do with a testcase whose identity was seen before.
pub(crate) fn is_retry(before: Tally, repeats: Repeats) -> bool {
    match repeats {
        Repeats::Retries => matches!(before.status, Status::Failed | Status::Errored),
        Repeats::Reruns => true,
        Repeats::Distinct => false,
    }
}

/// The tally of the earlier attempts when a repeat is a retry: under pytest's rerun
/// semantics the earlier attempt failed even when the report shows it as a pass.
pub(crate) fn earlier(before: Tally, reruns: Repeats) -> Tally {
    if reruns == Repeats::Reruns && before.status == Status::Passed {
        Tally {
            status: Status::Failed,
            failed_before: true,
        }
    } else {
        before
    }
}

/// Builds a full report's tests: merges retries, keeping every attempt's evidence.
#[derive(Default)]
pub(crate) struct TestMerger {
    /// Identity (invocation aside) → index of the latest invocation.
    index: IndexTable,
    tests: Vec<TestCase>,
    counts: TestCounts,
    hasher: IdHasher,
    /// The last test of the list when it is not placed yet: its hash (none without a name)
    /// and the rerun semantics it came with (see [`TestMerger::place_last`]).
    pending: Option<(Option<u64>, Repeats)>,
    /// Testcases taken so far, and the most it takes ([`crate::Limits::max_testcases`]);
    /// past it, it asks the reader to stop.
    taken: u64,
    limit: Option<u64>,
}

/// The most tests [`TestMerger::reserve`] makes room for before they are read.
const MAX_RESERVED_TESTS: usize = 1 << 18;

/// Where a test's identity was found in an [`IndexTable`], or the empty slot it goes to.
enum Found {
    /// (slot, index of the test).
    At(usize, usize),
    Vacant(usize),
}

/// An open-addressing table from a test identity's hash to the index of a test: each slot is
/// one `u64`, the top 32 bits of the hash above the index + 1 (0 is an empty slot), kept at
/// most half full, probed linearly. Finding that a test is new (nearly every test) reads one
/// slot, where a general hash map reads a control byte and a bucket. Equal hash bits are
/// checked against the identities themselves, so a collision only costs a probe.
#[derive(Default)]
struct IndexTable {
    slots: Vec<u64>,
    len: usize,
}

impl IndexTable {
    /// The slot of the test with hash `hash` that `same` accepts (given its index), or the
    /// empty slot where it goes.
    fn find(&mut self, hash: u64, same: impl Fn(usize) -> bool) -> Found {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow(self.slots.len() * 2);
        }
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut slot = tag as usize & mask;
        loop {
            let entry = self.slots[slot];
            if entry == 0 {
                return Found::Vacant(slot);
            }
            if entry >> 32 == tag && same((entry & u64::from(u32::MAX)) as usize - 1) {
                return Found::At(slot, (entry & u64::from(u32::MAX)) as usize - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Asks the processor to fetch the slot where the test with hash `hash` would be found
    /// first, so that [`IndexTable::find`] need not wait for it.
    #[inline]
    fn prefetch(&self, hash: u64) {
        prefetch_slot(&self.slots, (hash >> 32) as usize);
    }

    /// Puts test `index` (with hash `hash`) in `slot`, found by [`IndexTable::find`]. A test
    /// past the 4,294,967,294th is not indexed: it counts as a new test.
    fn set(&mut self, slot: usize, hash: u64, index: usize) {
        let Some(index) = u32::try_from(index + 1).ok().filter(|&i| i != u32::MAX) else {
            return;
        };
        if self.slots[slot] == 0 {
            self.len += 1;
        }
        self.slots[slot] = (hash >> 32) << 32 | u64::from(index);
    }

    /// Grows to at least `slots` slots (a power of two, 1024 or more).
    fn grow(&mut self, slots: usize) {
        let capacity = slots.max(1024).next_power_of_two();
        if capacity > self.slots.len() {
            regrow(&mut self.slots, capacity, |entry| (entry >> 32) as usize);
        }
    }
}

/// Asks the processor to fetch `slots[home & (len - 1)]` (a table of a power of two slots)
/// into its cache, for a probe that comes a little later not to wait for memory.
#[inline]
fn prefetch_slot(slots: &[u64], home: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(slot) = slots.get(home & slots.len().wrapping_sub(1)) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is a hint: it reads nothing into the program and cannot fault;
        // the address is of a live slot anyway. SSE is part of the x86-64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slots, home);
}

/// Moves an open-addressing table of `u64` slots (0 is empty) to `capacity` slots (a power of
/// two), putting each entry back by probing linearly from `home(entry)`, its place before
/// masking.
fn regrow(slots: &mut Vec<u64>, capacity: usize, home: impl Fn(u64) -> usize) {
    let old = std::mem::replace(slots, vec![0; capacity]);
    let mask = capacity - 1;
    for entry in old.into_iter().filter(|&e| e != 0) {
        let mut slot = home(entry) & mask;
        while slots[slot] != 0 {
            slot = (slot + 1) & mask;
        }
        slots[slot] = entry;
    }
}

fn same_test(a: &TestId, b: &TestId) -> bool {
    a.name == b.name && a.classname == b.classname && a.suite == b.suite && a.file == b.file
}

impl TestMerger {
    /// Takes at most `limit` testcases: past it, [`TestMerger::over_limit`].
    pub(crate) fn with_limit(mut self, limit: u64) -> Self {
        self.limit = (limit < u64::MAX).then_some(limit);
        self
    }

    /// Whether more testcases came than the limit.
    pub(crate) fn over_limit(&self) -> bool {
        self.limit.is_some_and(|l| self.taken > l)
    }

    /// Takes the testcase just put at the end of the list: keeps it there as a test, or
    /// merges it into the earlier attempts of its test. `reruns` when the report has pytest's
    /// rerun semantics.
    ///
    /// The testcase is placed when the next one comes (or at [`TestMerger::finish`]): its
    /// slot of the index is fetched from memory now, while the next one is read, rather than
    /// waited for.
    fn place_last(&mut self, reruns: Repeats) {
        let Some(case) = self.tests.last() else {
            return;
        };
        let key = (!case.id.name.is_empty()).then(|| self.hasher.hash(&case.id));
        if let Some(key) = key {
            self.index.prefetch(key);
        }
        if let Some((key, reruns)) = self.pending.replace((key, reruns)) {
            self.place(self.tests.len() - 2, key, reruns);
        }
    }

    /// Places the test at `next`, with hash `key` (none for a test without a name), the last
    /// but one or the last of the list.
    fn place(&mut self, next: usize, key: Option<u64>, reruns: Repeats) {
        let case = &self.tests[next];
        let tally = Tally::of(&case.outcome);
        let duration = case.duration_seconds;
        let Some(key) = key else {
            self.counts.add(tally.status, tally.is_flaky(), duration);
            return;
        };
        let tests = &self.tests;
        let found = self
            .index
            .find(key, |i| same_test(&tests[i].id, &tests[next].id));
        let (slot, i) = match found {
            Found::Vacant(slot) => {
                self.index.set(slot, key, next);
                self.counts.add(tally.status, tally.is_flaky(), duration);
                return;
            }
            Found::At(slot, i) => (slot, i),
        };
        let before = Tally::of(&self.tests[i].outcome);
        if !is_retry(before, reruns) {
            // A separate test with the same identity: its next invocation.
            let invocation = self.tests[i].id.invocation + 1;
            self.tests[next].id.invocation = invocation;
            self.counts.add(tally.status, tally.is_flaky(), duration);
            self.index.set(slot, key, next);
            return;
        }
        let case = self.tests.remove(next);
        let prev = &mut self.tests[i];
        if reruns == Repeats::Reruns && before.status == Status::Passed {
            prev.outcome = Outcome::Failed {
                failures: vec![Attempt {
                    kind: Some(crate::model::AttemptKind::Failure),
                    message: Some(
                        "an earlier attempt that was re-run (pytest-rerunfailures writes it without its failure)"
                            .into(),
                    ),
                    ..Attempt::default()
                }],
            };
        }
        let after = earlier(before, reruns).then(tally);
        self.counts.remove(before.status, before.is_flaky());
        self.counts.add(after.status, after.is_flaky(), duration);
        merge_into(prev, case, after);
    }

    pub(crate) fn finish(mut self) -> (Vec<TestCase>, TestCounts) {
        if let Some((key, reruns)) = self.pending.take() {
            self.place(self.tests.len() - 1, key, reruns);
        }
        (self.tests, self.counts)
    }

    /// Makes room for `tests` tests, at most [`MAX_RESERVED_TESTS`] (a report's own count is a
    /// hint, not a promise): spares the list and the index their regrowth.
    pub(crate) fn reserve(&mut self, tests: u64) {
        let tests = usize::try_from(tests)
            .unwrap_or(usize::MAX)
            .min(MAX_RESERVED_TESTS);
        self.tests.reserve(tests);
        self.index.grow(tests * 2);
    }
}

fn failures_of(outcome: Outcome) -> Vec<Attempt> {
    match outcome {
        Outcome::Passed | Outcome::Skipped { .. } => Vec::new(),
        Outcome::Flaky { failed_attempts } => failed_attempts,
        Outcome::Failed { failures } | Outcome::Errored { failures } => failures,
    }
}

fn merge_into(prev: &mut TestCase, next: TestCase, tally: Tally) {
    let skipped_message = match &next.outcome {
        Outcome::Skipped { message } => message.clone(),
        _ => None,
    };
    let prev_outcome = std::mem::replace(&mut prev.outcome, Outcome::Passed);
    let prev_skip = match &prev_outcome {
        Outcome::Skipped { message } => message.clone(),
        _ => None,
    };
    let mut failures = failures_of(prev_outcome);
    failures.extend(failures_of(next.outcome));
    prev.outcome = match tally.status {
        Status::Passed if tally.failed_before => Outcome::Flaky {
            failed_attempts: failures,
        },
        Status::Passed => Outcome::Passed,
        Status::Failed => Outcome::Failed { failures },
        Status::Errored => Outcome::Errored { failures },
        Status::Skipped => Outcome::Skipped {
            message: skipped_message.or(prev_skip),
        },
    };
    prev.attempts += next.attempts;
    prev.duration_seconds = match (prev.duration_seconds, next.duration_seconds) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    };
    prev.line = prev.line.or(next.line);
    if next.system_out.is_some() {
        prev.system_out = next.system_out;
    }
    if next.system_err.is_some() {
        prev.system_err = next.system_err;
    }
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub(crate) struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Counts tests with 8 bytes per distinct test (61 bits of its identity's hash, 3 of its
/// tally, in an open-addressing table kept at most 7/8 full), for summaries of reports of any
/// size: a general hash map takes twice that, and more while it grows.
#[derive(Default)]
pub(crate) struct TestCounter {
    seen: TallyTable,
    counts: TestCounts,
    hasher: IdHasher,
    /// Where the reader puts each testcase (it is counted and dropped at once).
    one: Vec<TestCase>,
    /// The last test read, counted when the next one comes (see [`TestCounter::push`]).
    pending: Option<Pending>,
}

/// Counts each test as it is read, without keeping it.
impl CaseSink for TestCounter {
    fn list(&mut self) -> &mut Vec<TestCase> {
        &mut self.one
    }

    fn take_last(&mut self, reruns: Repeats) -> bool {
        if let Some(case) = self.one.pop() {
            self.push(&case, reruns);
        }
        true
    }
}

/// Keeps every test, merging retries as they come.
impl CaseSink for TestMerger {
    fn list(&mut self) -> &mut Vec<TestCase> {
        &mut self.tests
    }

    fn take_last(&mut self, reruns: Repeats) -> bool {
        self.place_last(reruns);
        self.taken += 1;
        !self.over_limit()
    }

    fn reserve(&mut self, tests: u64) {
        TestMerger::reserve(self, tests);
    }
}

/// A set of 61-bit hashes, each with a 3-bit tally ([`Tally::pack`]) in the top bits of its
/// slot; an empty slot is 0 (a hash of 0 is stored as 1).
#[derive(Default)]
struct TallyTable {
    slots: Vec<u64>,
    len: usize,
}

const HASH_BITS: u64 = (1 << 61) - 1;

impl TallyTable {
    /// The slot of `hash` (already reduced to 61 bits, not 0): its own, or the empty one
    /// where it goes.
    fn slot(&mut self, hash: u64) -> &mut u64 {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i] != 0 && self.slots[i] & HASH_BITS != hash {
            i = (i + 1) & mask;
        }
        &mut self.slots[i]
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1024);
        regrow(&mut self.slots, capacity, |slot| {
            (slot & HASH_BITS) as usize
        });
    }
}

impl TestCounter {
    /// Counts a testcase, with the rules of [`TestMerger::place_last`]: the one before it now,
    /// and it when the next one comes (or at [`TestCounter::finish`]), its slot fetched from
    /// memory meanwhile.
    fn push(&mut self, case: &TestCase, reruns: Repeats) {
        let key =
            (!case.id.name.is_empty()).then(|| (self.hasher.hash(&case.id) & HASH_BITS).max(1));
        if let Some(key) = key {
            prefetch_slot(&self.seen.slots, key as usize);
        }
        let next = Pending {
            key,
            tally: Tally::of(&case.outcome),
            duration: case.duration_seconds,
            reruns,
        };
        if let Some(before) = self.pending.replace(next) {
            self.count(before);
        }
    }

    fn count(&mut self, test: Pending) {
        let Pending {
            key,
            tally,
            duration,
            reruns,
        } = test;
        let Some(key) = key else {
            self.counts.add(tally.status, tally.is_flaky(), duration);
            return;
        };
        let slot = self.seen.slot(key);
        if *slot == 0 {
            self.counts.add(tally.status, tally.is_flaky(), duration);
            *slot = key | u64::from(tally.pack()) << 61;
            self.seen.len += 1;
            return;
        }
        let before = Tally::unpack((*slot >> 61) as u8);
        let now = if is_retry(before, reruns) {
            let after = earlier(before, reruns).then(tally);
            self.counts.remove(before.status, before.is_flaky());
            self.counts.add(after.status, after.is_flaky(), duration);
            after
        } else {
            self.counts.add(tally.status, tally.is_flaky(), duration);
            tally
        };
        *slot = key | u64::from(now.pack()) << 61;
    }

    pub(crate) fn finish(mut self) -> TestCounts {
        if let Some(last) = self.pending.take() {
            self.count(last);
        }
        self.counts
    }
}

/// A test [`TestCounter`] has read and not counted yet: its key (none without a name), its
/// tally and time, and the rerun semantics it came with.
struct Pending {
    key: Option<u64>,
    tally: Tally,
    duration: Option<f64>,
    reruns: Repeats,
}

/// Hashes test identities to 64 bits (collisions: about 1 in 10^7 for a million tests).
///
/// The suite and the classname are hashed once per shared string: consecutive testcases
/// share both (see [`TestId`]), so most identities cost one short hash of their name. The
/// cache holds the strings it hashed, so an address it remembers is never another string's.
#[derive(Default)]
pub(crate) struct IdHasher {
    suite: Option<(Arc<str>, u64)>,
    classname: Option<(Arc<str>, u64)>,
}

impl IdHasher {
    pub(crate) fn hash(&mut self, id: &TestId) -> u64 {
        let suite = cached(&mut self.suite, &id.suite, 1);
        let classname = match &id.classname {
            Some(c) => cached(&mut self.classname, c, 2),
            None => 0,
        };
        let seed = suite.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ classname.rotate_left(32);
        let named = xxh3_64_with_seed(id.name.as_bytes(), seed);
        match &id.file {
            Some(file) => xxh3_64_with_seed(file.as_bytes(), named ^ 0xA076_1D64_78BD_642F),
            None => named,
        }
    }
}

/// The hash of `text` (seeded with `seed`), from `slot` when it holds that very string.
fn cached(slot: &mut Option<(Arc<str>, u64)>, text: &Arc<str>, seed: u64) -> u64 {
    if let Some((kept, hash)) = slot
        && Arc::ptr_eq(kept, text)
    {
        return *hash;
    }
    let hash = xxh3_64_with_seed(text.as_bytes(), seed);
    *slot = Some((text.clone(), hash));
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(status: Status, failed_before: bool) -> Tally {
        Tally {
            status,
            failed_before,
        }
    }

    #[test]
    fn failure_then_pass_is_flaky() {
        let merged = t(Status::Failed, true).then(t(Status::Passed, false));
        assert!(merged.is_flaky());
        assert_eq!(merged.status, Status::Passed);
    }

    #[test]
    fn pass_then_failure_is_a_failure() {
        let merged = t(Status::Passed, false).then(t(Status::Failed, true));
        assert!(!merged.is_flaky());
        assert_eq!(merged.status, Status::Failed);
    }

    #[test]
    fn a_skipped_attempt_after_a_run_keeps_the_run() {
        let merged = t(Status::Errored, true).then(t(Status::Skipped, false));
        assert_eq!(merged.status, Status::Errored);
    }

    #[test]
    fn the_tally_table_keeps_every_hash_apart_through_growth() {
        let mut table = TallyTable::default();
        let hashes: Vec<u64> = (1..5000u64)
            .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & HASH_BITS).max(1))
            .collect();
        for (n, &h) in hashes.iter().enumerate() {
            let slot = table.slot(h);
            assert_eq!(*slot, 0, "hash {n} found before it was stored");
            *slot = h | (n as u64 % 8) << 61;
            table.len += 1;
        }
        assert!(table.slots.len() >= 5000 * 8 / 7);
        for (n, &h) in hashes.iter().enumerate() {
            assert_eq!(*table.slot(h), h | (n as u64 % 8) << 61, "hash {n}");
        }
    }

    fn id(suite: &str, classname: Option<&str>, name: &str, file: Option<&str>) -> TestId {
        TestId {
            suite: Arc::from(suite),
            classname: classname.map(Arc::from),
            name: name.into(),
            file: file.map(Into::into),
            invocation: 0,
        }
    }

    #[test]
    fn identity_hashes_follow_the_text_not_the_shared_strings() {
        let mut hasher = IdHasher::default();
        let a = id("S", Some("C"), "t", None);
        let first = hasher.hash(&a);
        // The same texts in other allocations, after the cache holds different strings.
        hasher.hash(&id("T", Some("D"), "u", None));
        assert_eq!(hasher.hash(&id("S", Some("C"), "t", None)), first);
        assert_eq!(IdHasher::default().hash(&a), first);
        // Shared strings that the cache holds give the same hash as fresh ones.
        let b = TestId {
            name: "u".into(),
            ..a.clone()
        };
        assert_eq!(hasher.hash(&b), IdHasher::default().hash(&b));
    }

    #[test]
    fn every_part_of_an_identity_changes_its_hash() {
        let mut hasher = IdHasher::default();
        let variants = [
            id("S", Some("C"), "t", None),
            id("S2", Some("C"), "t", None),
            id("S", Some("C2"), "t", None),
            id("S", None, "t", None),
            id("S", Some(""), "t", None),
            id("S", Some("C"), "t2", None),
            id("S", Some("C"), "t", Some("f")),
            id("S", Some("C"), "t", Some("")),
            // Text moved from one part to the next.
            id("SC", Some(""), "t", None),
            id("S", Some("Ct"), "", None),
        ];
        let hashes: Vec<u64> = variants.iter().map(|v| hasher.hash(v)).collect();
        for (i, a) in hashes.iter().enumerate() {
            for (j, b) in hashes.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{:?} and {:?}", variants[i], variants[j]);
            }
        }
    }

    #[test]
    fn the_index_table_finds_each_test_through_growth_and_shared_hashes() {
        let mut table = IndexTable::default();
        // Tests 2k and 2k+1 share a hash: only their identities (here, the index) tell them
        // apart. 5,000 tests grow the table from 1,024 slots several times.
        let hash_of = |i: usize| ((i / 2) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for i in 0..5000 {
            match table.find(hash_of(i), |j| j == i) {
                Found::Vacant(slot) => table.set(slot, hash_of(i), i),
                Found::At(_, j) => panic!("test {i} found as {j} before it was put"),
            }
        }
        for i in 0..5000 {
            match table.find(hash_of(i), |j| j == i) {
                Found::At(_, j) => assert_eq!(j, i),
                Found::Vacant(_) => panic!("test {i} was lost"),
            }
        }
        assert_eq!(table.len, 5000);
        assert!(table.slots.len() >= 2 * 5000);
        // Pointing a slot at a later test (the next invocation) replaces it, not adds one.
        let Found::At(slot, _) = table.find(hash_of(7), |j| j == 7) else {
            panic!("test 7 was lost");
        };
        table.set(slot, hash_of(7), 9000);
        assert_eq!(table.len, 5000);
        assert!(matches!(
            table.find(hash_of(7), |j| j == 9000),
            Found::At(_, 9000)
        ));
    }

    #[test]
    fn packing_round_trips() {
        for status in [
            Status::Passed,
            Status::Failed,
            Status::Errored,
            Status::Skipped,
        ] {
            for f in [false, true] {
                assert_eq!(Tally::unpack(t(status, f).pack()), t(status, f));
            }
        }
    }
}
