//! What every coverage format shares: merging a file's fragments, totals, and the check of the
//! totals a report declares.
//!
//! Parsers yield one [`FileCoverage`] fragment per element that holds lines (a Cobertura
//! `<class>`, a JaCoCo `<sourcefile>`, an LCOV record, a Clover `<file>`, a run of Go blocks).
//! A file that appears in several fragments is merged: a line measured twice keeps the larger
//! hit count for XML formats (two views of one run) and the sum for LCOV (records of different
//! tests); branches keep the larger total and the larger covered count.
//!
//! [`CoverageMerger`] keeps every file, for [`crate::parse`], and finds a file by position: a
//! `hashbrown::HashTable` of indices into its files. [`CoverageCounter`] keeps two bits per
//! line number, for [`crate::summarize`], whose memory does not grow with the report.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::model::{CoverageTotals, FileCoverage, LineCoverage};
use crate::warnings::{Oddity, Warnings};

/// Files by path. foldhash, seeded per map: several times faster than SipHash on paths, and
/// still seeded, so a report's paths cannot be chosen to collide.
type ByPath<V> = HashMap<String, V, foldhash::fast::RandomState>;

/// How two measurements of one line combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HitMerge {
    Max,
    Sum,
}

fn combine(a: &mut LineCoverage, b: &LineCoverage, how: HitMerge) {
    a.hits = match how {
        HitMerge::Max => a.hits.max(b.hits),
        HitMerge::Sum => a.hits.saturating_add(b.hits),
    };
    a.branches_total = a.branches_total.max(b.branches_total);
    a.branches_covered = a.branches_covered.max(b.branches_covered);
}

/// Sorts lines and merges repeated line numbers.
pub(crate) fn normalize(lines: &mut Vec<LineCoverage>, how: HitMerge) {
    if lines.windows(2).any(|w| w[0].line >= w[1].line) {
        lines.sort_by_key(|l| l.line);
        lines.dedup_by(|next, kept| {
            if next.line == kept.line {
                combine(kept, next, how);
                true
            } else {
                false
            }
        });
    }
}

/// Builds a full report's files from fragments.
pub(crate) struct CoverageMerger {
    /// Each file's position in `files`, found by its path's hash and compared with the path
    /// kept there (no second copy of every path).
    index: hashbrown::HashTable<usize>,
    hasher: foldhash::fast::RandomState,
    files: Vec<FileCoverage>,
    /// Each file's totals, counted when its lines change (while they are in the cache), so
    /// that the report's totals need no second pass over every line.
    file_totals: Vec<CoverageTotals>,
    how: HitMerge,
}

impl CoverageMerger {
    pub(crate) fn new(how: HitMerge) -> Self {
        CoverageMerger {
            index: hashbrown::HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            files: Vec::new(),
            file_totals: Vec::new(),
            how,
        }
    }

    pub(crate) fn push(&mut self, mut fragment: FileCoverage) {
        let hash = self.hasher.hash_one(fragment.path.as_str());
        let files = &self.files;
        match self.index.find(hash, |&i| files[i].path == fragment.path) {
            None => {
                normalize(&mut fragment.lines, self.how);
                let hasher = &self.hasher;
                self.index.insert_unique(hash, files.len(), |&i| {
                    hasher.hash_one(files[i].path.as_str())
                });
                self.file_totals.push(fragment.totals());
                self.files.push(fragment);
            }
            Some(&i) => {
                let file = &mut self.files[i];
                file.lines.append(&mut fragment.lines);
                normalize(&mut file.lines, self.how);
                file.declared_lines = add_declared(file.declared_lines, fragment.declared_lines);
                file.declared_branches =
                    add_declared(file.declared_branches, fragment.declared_branches);
                self.file_totals[i] = file.totals();
            }
        }
    }

    pub(crate) fn finish(self) -> (Vec<FileCoverage>, CoverageTotals) {
        let mut totals = CoverageTotals::default();
        for t in &self.file_totals {
            totals.merge(t);
        }
        (self.files, totals)
    }
}

fn add_declared(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<(u64, u64)> {
    match (a, b) {
        (Some(x), Some(y)) => Some((x.0.max(y.0), x.1.max(y.1))),
        (x, y) => x.or(y),
    }
}

/// Per-file state for summaries: two bits per line number, and branch counts for the few lines
/// that have branches.
///
/// The bitmaps grow only as far as the lines seen so far justify (at most
/// `max(DENSE_WORDS, 2 × lines seen)` words); a line numbered past that (`DA:4000000000,1`)
/// goes to `far`, 8 bytes each, so that no line number makes the summary allocate more than
/// the report's own size warrants.
#[derive(Default)]
struct FileBits {
    valid: Vec<u64>,
    covered: Vec<u64>,
    /// Lines set so far, repeats included.
    seen: usize,
    /// (line, covered) of the lines beyond the bitmaps; sorted and merged now and then.
    far: Vec<(u32, bool)>,
    /// How long `far` was after it was last merged.
    far_merged: usize,
    /// (line, covered, total) for each line with branches, sorted by line.
    branches: Vec<(u32, u32, u32)>,
    declared_lines: Option<(u64, u64)>,
    declared_branches: Option<(u64, u64)>,
}

/// The bitmap words a file may have whatever few lines it has (64 Ki line numbers, 16 KiB).
const DENSE_WORDS: usize = 1024;

impl FileBits {
    fn set(&mut self, l: &LineCoverage) {
        // Line 0 is only branches (see `LineCoverage`).
        if l.line > 0 {
            self.set_line(l);
        }
        if l.branches_total > 0 {
            let covered = l.branches_covered.min(l.branches_total);
            // Lines mostly come in order: then the line goes at the end.
            let at = match self.branches.last() {
                Some(&(last, ..)) if last < l.line => Err(self.branches.len()),
                None => Err(0),
                _ => self.branches.binary_search_by_key(&l.line, |b| b.0),
            };
            match at {
                Ok(i) => {
                    let b = &mut self.branches[i];
                    b.1 = b.1.max(covered);
                    b.2 = b.2.max(l.branches_total);
                }
                Err(i) => self.branches.insert(i, (l.line, covered, l.branches_total)),
            }
        }
    }

    fn set_line(&mut self, l: &LineCoverage) {
        self.seen += 1;
        let word = (l.line / 64) as usize;
        let bit = 1u64 << (l.line % 64);
        if word >= self.valid.len() && word >= DENSE_WORDS.max(2 * self.seen) {
            self.far.push((l.line, l.hits > 0));
            if self.far.len() >= 2 * self.far_merged.max(DENSE_WORDS) {
                self.merge_far();
            }
        } else {
            if word >= self.valid.len() {
                self.valid.resize(word + 1, 0);
                self.covered.resize(word + 1, 0);
            }
            self.valid[word] |= bit;
            if l.hits > 0 {
                self.covered[word] |= bit;
            }
        }
    }

    /// Sorts `far` and merges its repeated lines (covered when any of them is).
    fn merge_far(&mut self) {
        self.far.sort_unstable_by_key(|&(line, _)| line);
        self.far.dedup_by(|next, kept| {
            let same = next.0 == kept.0;
            if same {
                kept.1 |= next.1;
            }
            same
        });
        self.far_merged = self.far.len();
    }

    fn totals(&mut self) -> CoverageTotals {
        let mut lines_valid: u64 = self.valid.iter().map(|w| u64::from(w.count_ones())).sum();
        let mut lines_covered: u64 = self.covered.iter().map(|w| u64::from(w.count_ones())).sum();
        self.merge_far();
        for &(line, covered) in &self.far {
            let (word, bit) = ((line / 64) as usize, 1u64 << (line % 64));
            // The bitmaps may have grown over a far line since: count it once.
            let in_bitmap = self.valid.get(word).is_some_and(|w| w & bit != 0);
            let covered_in_bitmap = self.covered.get(word).is_some_and(|w| w & bit != 0);
            lines_valid += u64::from(!in_bitmap);
            lines_covered += u64::from(covered && !covered_in_bitmap);
        }
        let (mut bc, mut bv) = (0u64, 0u64);
        for &(_, c, v) in &self.branches {
            bc = bc.saturating_add(u64::from(c));
            bv = bv.saturating_add(u64::from(v));
        }
        CoverageTotals {
            lines_valid,
            lines_covered,
            branches_valid: bv,
            branches_covered: bc,
        }
        .or_declared(self.declared_lines, self.declared_branches)
    }
}

/// Counts coverage with memory proportional to the measured line numbers, not to the report.
#[derive(Default)]
pub(crate) struct CoverageCounter {
    files: ByPath<FileBits>,
}

impl CoverageCounter {
    pub(crate) fn push(&mut self, fragment: &FileCoverage) {
        let bits = match self.files.get_mut(&fragment.path) {
            Some(b) => b,
            None => self.files.entry(fragment.path.clone()).or_default(),
        };
        for l in &fragment.lines {
            bits.set(l);
        }
        bits.declared_lines = add_declared(bits.declared_lines, fragment.declared_lines);
        bits.declared_branches = add_declared(bits.declared_branches, fragment.declared_branches);
    }

    pub(crate) fn finish(mut self) -> CoverageTotals {
        let mut totals = CoverageTotals::default();
        for f in self.files.values_mut() {
            totals.merge(&f.totals());
        }
        totals
    }
}

/// Totals a report states about itself; only the ones it states.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct DeclaredTotals {
    pub lines_valid: Option<u64>,
    pub lines_covered: Option<u64>,
    pub branches_valid: Option<u64>,
    pub branches_covered: Option<u64>,
}

impl DeclaredTotals {
    /// A warning when what the report declares differs from what its lines add up to.
    pub(crate) fn check(&self, what: &str, computed: &CoverageTotals) -> Option<String> {
        let mut diffs = Vec::new();
        for (name, declared, actual) in [
            ("lines-valid", self.lines_valid, computed.lines_valid),
            ("lines-covered", self.lines_covered, computed.lines_covered),
            (
                "branches-valid",
                self.branches_valid,
                computed.branches_valid,
            ),
            (
                "branches-covered",
                self.branches_covered,
                computed.branches_covered,
            ),
        ] {
            if let Some(d) = declared
                && d != actual
            {
                diffs.push(format!("{name}={d} (computed {actual})"));
            }
        }
        (!diffs.is_empty()).then(|| {
            format!(
                "{what} declares {}; the totals are recomputed from the lines",
                diffs.join(", ")
            )
        })
    }
}

/// The highest line number read as one: 10^7.
pub(crate) const MAX_LINE_NUMBER: u32 = 10_000_000;

/// A hit count as the readers keep it: `Ok` for a count (`12`, `12.0`, `1e3`), else the
/// oddity and the count kept for it (0 for a negative one, `u64::MAX` past the 64-bit range,
/// `None` for text: the line is skipped).
pub(crate) fn read_hits(raw: &str) -> std::result::Result<u64, (Oddity, Option<u64>)> {
    if let Some(n) = parse_count(raw) {
        return Ok(n);
    }
    let s = raw.trim();
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix('-')
        && (digits(rest) || rest.parse::<f64>().is_ok_and(|v| v.is_finite()))
    {
        return Err((Oddity::NegativeCount, Some(0)));
    }
    if digits(s.strip_prefix('+').unwrap_or(s))
        || s.parse::<f64>().is_ok_and(|v| v > 0.0 && !v.is_nan())
    {
        return Err((Oddity::HugeCount, Some(u64::MAX)));
    }
    Err((Oddity::BadCount, None))
}

/// A line number as the readers keep it: from 1 to [`MAX_LINE_NUMBER`], else `None` (the
/// line is skipped with a warning).
pub(crate) fn read_line_number(raw: &str) -> Option<u32> {
    parse_line_number(raw).filter(|n| (1..=MAX_LINE_NUMBER).contains(n))
}

impl Warnings {
    /// A hit count ([`read_hits`]), counting an odd one; `None`: skip the line. `Err`: the
    /// message of strict mode's error. `at` says where, for the warning.
    pub(crate) fn hits(
        &mut self,
        raw: &str,
        at: impl FnOnce() -> String,
    ) -> std::result::Result<Option<u64>, String> {
        match read_hits(raw) {
            Ok(n) => Ok(Some(n)),
            Err((oddity, kept)) => {
                self.odd(oddity, || format!("{}: \"{}\"", at(), clip(raw)))?;
                Ok(kept)
            }
        }
    }

    /// A line number ([`read_line_number`]), counting an odd one; `None`: skip the line.
    pub(crate) fn line_number(
        &mut self,
        raw: &str,
        at: impl FnOnce() -> String,
    ) -> std::result::Result<Option<u32>, String> {
        match read_line_number(raw) {
            Some(n) => Ok(Some(n)),
            None => {
                self.odd(Oddity::LineNumber, || {
                    format!("{}: \"{}\"", at(), clip(raw))
                })?;
                Ok(None)
            }
        }
    }
}

/// At most 40 characters of a value, for a message.
pub(crate) fn clip(raw: &str) -> String {
    let mut out: String = raw.chars().take(40).collect();
    if out.len() < raw.len() {
        out.push_str("...");
    }
    out
}

/// Parses a non-negative count the way coverage tools write them: `12`, `12.0`, `1e3`.
pub(crate) fn parse_count(s: &str) -> Option<u64> {
    if let Some(n) = parse_digits(s.as_bytes()) {
        return Some(n);
    }
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Some(v);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v.round() as u64),
        _ => None,
    }
}

/// Plain decimal digits into a u64 (at most 19 of them, so no overflow); `None` for anything
/// else.
#[inline]
pub(crate) fn parse_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in s {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    Some(n)
}

/// A line number: plain digits, or a number with white space around it.
#[inline]
pub(crate) fn parse_line_number(s: &str) -> Option<u32> {
    match parse_digits(s.as_bytes()) {
        Some(n) => u32::try_from(n).ok(),
        None => s.trim().parse::<u32>().ok(),
    }
}

/// Parses Cobertura's `condition-coverage="50% (1/2)"` into (covered, total).
pub(crate) fn parse_condition_coverage(s: &str) -> Option<(u32, u32)> {
    let open = memchr::memchr(b'(', s.as_bytes())?;
    let close = memchr::memchr(b')', &s.as_bytes()[open..])? + open;
    let (covered, total) = s[open + 1..close].split_once('/')?;
    let covered = parse_line_number(covered)?;
    let total = parse_line_number(total)?;
    (covered <= total).then_some((covered, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn far_line_numbers_are_counted_without_growing_the_bitmaps() {
        let mut bits = FileBits::default();
        // Near lines, a far one (twice, covered the second time), another far one, and a
        // near line set again.
        for (number, hits) in [
            (1, 1),
            (2, 0),
            (u32::MAX, 0),
            (4_000_000_000, 0),
            (u32::MAX, 3),
        ]
        .into_iter()
        .chain([(2, 5)])
        {
            bits.set(&line(number, hits));
        }
        assert!(
            bits.valid.len() <= DENSE_WORDS,
            "{} words",
            bits.valid.len()
        );
        let totals = bits.totals();
        assert_eq!((totals.lines_valid, totals.lines_covered), (4, 3));
        // Many lines that reach far, once the near ones justify the bitmap: counted once each.
        let mut bits = FileBits::default();
        for number in (1..=200_000).chain([70_000, 150_000, 1 << 30, 1 << 30]) {
            bits.set(&line(number, u64::from(number % 2)));
        }
        assert!(bits.valid.len() * 64 <= 2 * 200_004 + 64 * DENSE_WORDS);
        let totals = bits.totals();
        assert_eq!(
            (totals.lines_valid, totals.lines_covered),
            (200_001, 100_000)
        );
    }

    fn line(line: u32, hits: u64) -> LineCoverage {
        LineCoverage {
            line,
            hits,
            branches_covered: 0,
            branches_total: 0,
        }
    }

    #[test]
    fn a_file_under_two_classes_is_one_file() {
        let mut m = CoverageMerger::new(HitMerge::Max);
        for lines in [vec![line(3, 0), line(1, 2)], vec![line(3, 5), line(7, 0)]] {
            m.push(FileCoverage {
                path: "a.py".into(),
                lines,
                declared_lines: None,
                declared_branches: None,
            });
        }
        let (files, totals) = m.finish();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].lines, vec![line(1, 2), line(3, 5), line(7, 0)]);
        assert_eq!((totals.lines_valid, totals.lines_covered), (3, 2));
    }

    #[test]
    fn files_keep_their_first_place_and_merge_through_the_index_growing() {
        // 3,000 files, each in two fragments far apart: the index grows many times between a
        // file's first fragment and its second, and must still find it.
        let mut m = CoverageMerger::new(HitMerge::Sum);
        for round in 0..2u64 {
            for i in 0..3000u32 {
                m.push(FileCoverage {
                    path: format!("src/module{}/file{i}.rs", i % 7),
                    lines: vec![line(i + 1, round + 1)],
                    declared_lines: None,
                    declared_branches: None,
                });
            }
        }
        let (files, totals) = m.finish();
        assert_eq!(files.len(), 3000);
        for (i, f) in files.iter().enumerate() {
            assert_eq!(f.path, format!("src/module{}/file{i}.rs", i % 7));
            assert_eq!(f.lines, vec![line(i as u32 + 1, 3)], "{}", f.path);
        }
        assert_eq!((totals.lines_valid, totals.lines_covered), (3000, 3000));
    }

    #[test]
    fn the_summary_counter_agrees_with_the_merger() {
        let mut counter = CoverageCounter::default();
        let mut merger = CoverageMerger::new(HitMerge::Sum);
        for (path, lines) in [
            ("a", vec![line(1, 0), line(64, 1), line(65, 0)]),
            ("b", vec![line(2, 3)]),
            ("a", vec![line(65, 2), line(1000, 0)]),
        ] {
            let f = FileCoverage {
                path: path.into(),
                lines,
                declared_lines: None,
                declared_branches: None,
            };
            counter.push(&f);
            merger.push(f);
        }
        assert_eq!(counter.finish(), merger.finish().1);
    }

    #[test]
    fn branches_out_of_order_and_repeated_are_counted_once_per_line() {
        let branch = |line, covered, total| LineCoverage {
            line,
            hits: 1,
            branches_covered: covered,
            branches_total: total,
        };
        let mut counter = CoverageCounter::default();
        let mut merger = CoverageMerger::new(HitMerge::Max);
        for lines in [
            vec![branch(5, 1, 2), branch(3, 2, 4), branch(9, 0, 2)],
            vec![branch(5, 2, 2), branch(7, 0, 2), branch(3, 1, 4)],
        ] {
            let f = FileCoverage {
                path: "a.c".into(),
                lines,
                declared_lines: None,
                declared_branches: None,
            };
            counter.push(&f);
            merger.push(f);
        }
        let counted = counter.finish();
        // Lines 3, 5, 7, 9: 4 + 2 + 2 + 2 outcomes, of which 2 + 2 + 0 + 0 were taken.
        assert_eq!((counted.branches_valid, counted.branches_covered), (10, 4));
        assert_eq!(counted, merger.finish().1);
    }

    #[test]
    fn condition_coverage_reads_the_fraction() {
        assert_eq!(parse_condition_coverage("50% (1/2)"), Some((1, 2)));
        assert_eq!(parse_condition_coverage("100% (4/4)"), Some((4, 4)));
        assert_eq!(parse_condition_coverage("50%"), None);
        assert_eq!(parse_condition_coverage("(3/2)"), None);
    }
}
