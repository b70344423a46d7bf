//! Line-based formats: LCOV tracefiles and Go coverprofiles.
//!
//! LCOV:
//! ```text
//! TN:
//! SF:src/cart.ts
//! DA:1,1
//! DA:2,0
//! BRDA:1,0,0,1
//! BRDA:1,0,1,-
//! LF:2
//! LH:1
//! end_of_record
//! ```
//! Lines come from `DA` (several `DA` of one line add up), covered when their hits are above 0
//! (as `lcov --summary` and genhtml count); branches from `BRDA`, one outcome each, taken when
//! its count is a number above 0 (`-` means never reached). A `BRDA` on a line without `DA`
//! adds a branch, not a line. `LF`/`LH` (and `BRF`/`BRH`) are checked against the records,
//! with a warning when they disagree; only a record without `DA` (`BRDA`) counts them. Several
//! records of one file are merged, hits summed. A record must end with `end_of_record`; a
//! record that cannot be read is skipped with a warning.
//!
//! Go coverprofile:
//! ```text
//! mode: set
//! example.com/shop/cart.go:5.12,8.22 3 1
//! ```
//! Each block `file:startLine.startCol,endLine.endCol statements count` measures the lines
//! from startLine to endLine; a line is covered when any block over it has count > 0. The
//! same block listed again (several test binaries) adds its count.
//!
//! LCOV's `DA` and `BRDA` lines (and its function records) are read in place from the
//! [`Source`]'s buffer while it holds them whole, spared the copy and the checks of a line
//! read the careful way; any line that is not plain goes the careful way, which reports what
//! is wrong with it.

use std::io::BufRead;

use crate::coverage::{DeclaredTotals, MAX_LINE_NUMBER, parse_digits, read_hits, read_line_number};
use crate::error::{Error, ErrorKind, Position, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::{Oddity, Warnings};

/// Reads a source line by line, knowing where each line starts.
pub(crate) struct Lines {
    source: Source,
    format: Format,
    pub(crate) line_no: u64,
    line_offset: u64,
}

impl Lines {
    pub(crate) fn new(source: Source, format: Format) -> Self {
        Lines {
            source: source.untracked_lines(),
            format,
            line_no: 0,
            line_offset: 0,
        }
    }

    /// The next line without its end, or `None` at the end of input.
    pub(crate) fn next_line<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<Option<&'b str>> {
        match self.next_raw_line(buf)? {
            Some(raw) => self.text(raw).map(Some),
            None => Ok(None),
        }
    }

    /// The next line's bytes without its end (not yet checked as UTF-8).
    fn next_raw_line<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<Option<&'b [u8]>> {
        buf.clear();
        self.source.mark();
        self.line_offset = self.source.offset();
        loop {
            let available = match self.source.fill_buf() {
                Ok(a) => a,
                Err(e) => {
                    // The source does not count lines here; this reader does.
                    let err = self.source.error_from_io(&e);
                    let at = err.position().byte_offset.max(self.line_offset);
                    let position = Position {
                        byte_offset: at,
                        line: self.line_no + 1,
                        column: at - self.line_offset + 1,
                    };
                    return Err(err.with_position(position).with_format(self.format));
                }
            };
            if available.is_empty() {
                break;
            }
            match memchr::memchr(b'\n', available) {
                Some(i) => {
                    buf.extend_from_slice(&available[..=i]);
                    self.source.consume(i + 1);
                    break;
                }
                None => {
                    let n = available.len();
                    buf.extend_from_slice(available);
                    self.source.consume(n);
                }
            }
        }
        if buf.is_empty() {
            return Ok(None);
        }
        self.line_no += 1;
        let mut line = &buf[..];
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        Ok(Some(line))
    }

    /// Reads the `DA`, `BRDA` and function (`FN*`) lines that come next, as long as the buffer
    /// holds them whole, in place: the bulk of a tracefile, spared the copy and the checks of
    /// [`Lines::next_raw_line`]. Stops, consuming nothing more, at any other line and at any
    /// line it cannot read (the careful path then reads it, and reports what is wrong).
    fn read_hits_in_place(&mut self, file: &mut FileCoverage, branches: &mut Vec<(u32, bool)>) {
        let Ok(avail) = self.source.fill_buf() else {
            return; // `next_raw_line` reports it
        };
        let mut at = 0;
        let mut lines = 0;
        loop {
            let rest = &avail[at..];
            let used = if let Some(da) = rest.strip_prefix(b"DA:") {
                let Some((line, a)) = number_and_comma(da) else {
                    break;
                };
                let Some((hits, b)) = leading_digits(&da[a..]) else {
                    break;
                };
                let Some(line) = u32::try_from(line)
                    .ok()
                    .filter(|l| (1..=MAX_LINE_NUMBER).contains(l))
                else {
                    break;
                };
                let end = 3 + a + b;
                let used = match &rest[end..] {
                    [b'\n', ..] => end + 1,
                    [b'\r', b'\n', ..] => end + 2,
                    _ => break,
                };
                file.lines.push(LineCoverage {
                    line,
                    hits,
                    branches_covered: 0,
                    branches_total: 0,
                });
                used
            } else if let Some(brda) = rest.strip_prefix(b"BRDA:") {
                let Some((end, _)) = short_line_end(brda) else {
                    break;
                };
                let text = &brda[..end];
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                let Some(outcome) = parse_brda(text) else {
                    break;
                };
                branches.push(outcome);
                5 + end + 1
            } else if rest.starts_with(b"FN") {
                // `FN:`, `FNDA:`, `FNF:`, `FNH:` (and `FNL:`, `FNA:` of LCOV 2): functions,
                // which line and branch coverage do not need; checked as text and passed over.
                let Some((end, ascii)) = short_line_end(rest) else {
                    break;
                };
                let text = &rest[..end];
                // The tag is `FN`, `FNDA`, `FNF`, ...: its colon is among the first bytes.
                let colon =
                    text.iter().take(6).any(|&b| b == b':') || memchr::memchr(b':', text).is_some();
                if !colon || !(ascii || std::str::from_utf8(text).is_ok()) {
                    break;
                }
                end + 1
            } else {
                break;
            };
            at += used;
            lines += 1;
        }
        self.source.consume(at);
        self.line_no += lines;
        self.line_offset = self.source.offset();
    }

    /// A line's bytes as text, or an encoding error at the first bad byte.
    fn text<'b>(&self, line: &'b [u8]) -> Result<&'b str> {
        std::str::from_utf8(line).map_err(|e| {
            let column = e.valid_up_to() as u64 + 1;
            Error::new(
                ErrorKind::Encoding("invalid UTF-8 byte sequence".into()),
                Position {
                    byte_offset: self.line_offset + column - 1,
                    line: self.line_no,
                    column,
                },
            )
            .with_format(self.format)
        })
    }

    pub(crate) fn error(&self, column: usize, kind: ErrorKind) -> Error {
        Error::new(
            kind,
            Position {
                byte_offset: self.line_offset + column as u64,
                line: self.line_no,
                column: column as u64 + 1,
            },
        )
        .with_format(self.format)
    }
}

pub(crate) struct LcovReader {
    lines: Lines,
    buf: Vec<u8>,
    pub(crate) declared: DeclaredTotals,
    pub(crate) warnings: Warnings,
    done: bool,
    /// The branch outcomes of the record being read, (line, taken): one list, reused.
    branch_outcomes: Vec<(u32, bool)>,
    /// How many lines the last record had (see [`crate::xml::XmlCoverage::lines_hint`]).
    lines_hint: usize,
}

impl LcovReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        LcovReader {
            lines: Lines::new(source, Format::Lcov),
            buf: Vec::with_capacity(256),
            declared: DeclaredTotals::default(),
            warnings: Warnings::new(options.strict),
            done: false,
            branch_outcomes: Vec::new(),
            lines_hint: 0,
        }
    }

    pub(crate) fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        let result = self.next_inner();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn next_inner(&mut self) -> Result<Option<FileCoverage>> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_record(&mut buf);
        self.buf = buf;
        result
    }

    fn read_record(&mut self, buf: &mut Vec<u8>) -> Result<Option<FileCoverage>> {
        // Branch outcomes of the current record: (line, taken); the list is reused.
        let mut branch_outcomes = std::mem::take(&mut self.branch_outcomes);
        branch_outcomes.clear();
        let result = self.read_record_into(buf, &mut branch_outcomes);
        self.branch_outcomes = branch_outcomes;
        result
    }

    /// Skips a record that cannot be read, with a warning (an error in strict mode).
    fn skip_record(&mut self, text: &str) -> Result<()> {
        let at = self.lines.line_no;
        self.warnings
            .odd(Oddity::LcovRecord, || {
                format!("line {at}: \"{}\"", clip(text))
            })
            .map_err(|m| self.lines.error(0, ErrorKind::Invalid(m)))
    }

    fn read_record_into(
        &mut self,
        buf: &mut Vec<u8>,
        branch_outcomes: &mut Vec<(u32, bool)>,
    ) -> Result<Option<FileCoverage>> {
        let mut file: Option<FileCoverage> = None;
        let mut record_line = 0;
        let (mut lf, mut lh, mut brf, mut brh) = (None, None, None, None);
        while !self.done {
            if let Some(f) = file.as_mut() {
                self.lines.read_hits_in_place(f, branch_outcomes);
            }
            let Some(raw) = self.lines.next_raw_line(buf)? else {
                self.done = true;
                if file.is_some() {
                    let message = format!(
                        "the input ends inside the record that starts on line {record_line} (no end_of_record)"
                    );
                    return Err(self.lines.error(0, ErrorKind::Truncated(message)));
                }
                break;
            };
            // Fast paths for the records that make up most of a tracefile.
            if let Some(f) = file.as_mut() {
                if let Some((line, hits)) = raw.strip_prefix(b"DA:").and_then(parse_da) {
                    f.lines.push(LineCoverage {
                        line,
                        hits,
                        branches_covered: 0,
                        branches_total: 0,
                    });
                    continue;
                }
                if let Some(outcome) = raw.strip_prefix(b"BRDA:").and_then(parse_brda) {
                    branch_outcomes.push(outcome);
                    continue;
                }
            }
            let text = self.lines.text(raw)?;
            let trimmed = text.trim();
            if trimmed.is_empty() {
                continue;
            }
            if trimmed == "end_of_record" {
                let Some(mut f) = file.take() else {
                    return Err(self.lines.error(
                        0,
                        ErrorKind::Invalid(
                            "end_of_record without a record (no SF: before it)".into(),
                        ),
                    ));
                };
                branch_outcomes.sort_unstable_by_key(|b| b.0);
                let mut merged: Vec<LineCoverage> = std::mem::take(&mut f.lines);
                crate::coverage::normalize(&mut merged, crate::coverage::HitMerge::Sum);
                // Both lists are sorted by line: one walk pairs them.
                let measured = merged.len();
                let mut i = 0;
                let mut off_line = (0u32, 0u32);
                for chunk in branch_outcomes.chunk_by(|a, b| a.0 == b.0) {
                    let line = chunk[0].0;
                    let total = chunk.len() as u32;
                    let covered = chunk.iter().filter(|b| b.1).count() as u32;
                    while i < measured && merged[i].line < line {
                        i += 1;
                    }
                    if i < measured && merged[i].line == line {
                        let measured = &mut merged[i];
                        measured.branches_total = measured.branches_total.saturating_add(total);
                        measured.branches_covered =
                            measured.branches_covered.saturating_add(covered);
                    } else {
                        // A branch on a line without DA: a branch, not a line (line 0 holds
                        // them, see `LineCoverage`).
                        off_line = (
                            off_line.0.saturating_add(covered),
                            off_line.1.saturating_add(total),
                        );
                    }
                }
                if off_line.1 > 0 {
                    merged.insert(
                        0,
                        LineCoverage {
                            line: 0,
                            hits: 0,
                            branches_covered: off_line.0,
                            branches_total: off_line.1,
                        },
                    );
                }
                self.lines_hint = merged.len().min(crate::xml::MAX_LINES_HINT);
                f.lines = merged;
                // LF/LH/BRF/BRH are checked against the records and never counted over them;
                // a record without DA (or BRDA) records (`llvm-cov export -summary-only`) has
                // only them, and they count.
                if let (Some(v), Some(c)) = (lf, lh) {
                    f.declared_lines = Some((v, c));
                    add(&mut self.declared.lines_valid, v);
                    add(&mut self.declared.lines_covered, c);
                }
                if let (Some(v), Some(c)) = (brf, brh) {
                    f.declared_branches = Some((v, c));
                    add(&mut self.declared.branches_valid, v);
                    add(&mut self.declared.branches_covered, c);
                }
                return Ok(Some(f));
            }
            // The tag ends at the first `:` (one search, for the split and the column).
            let colon = memchr::memchr(b':', trimmed.as_bytes());
            let Some((tag, value)) = colon.map(|i| (&trimmed[..i], &trimmed[i + 1..])) else {
                if file.is_none() {
                    // Stray text between records (seen: a heredoc's "EOF" left at the end).
                    self.warnings.push(format!(
                        "line {}: ignored \"{}\" outside any record",
                        self.lines.line_no,
                        clip(trimmed)
                    ));
                    continue;
                }
                self.skip_record(trimmed)?;
                continue;
            };
            let indent = text.len() - text.trim_start().len();
            let value_col = indent + tag.len() + 1;
            if tag != "TN" && tag != "SF" && tag != "VER" && file.is_none() {
                return Err(self.lines.error(
                    0,
                    ErrorKind::Invalid(format!(
                        "{tag} record outside a file record (no SF: before it)"
                    )),
                ));
            }
            match tag {
                "TN" | "VER" => {}
                "SF" => {
                    if file.is_some() {
                        return Err(self.lines.error(
                            0,
                            ErrorKind::Invalid(
                                "SF: inside a record (missing end_of_record)".into(),
                            ),
                        ));
                    }
                    record_line = self.lines.line_no;
                    (lf, lh, brf, brh) = (None, None, None, None);
                    branch_outcomes.clear();
                    file = Some(FileCoverage {
                        path: value.to_string(),
                        lines: Vec::with_capacity(self.lines_hint),
                        declared_lines: None,
                        declared_branches: None,
                    });
                }
                "DA" => {
                    let mut parts = value.split(',');
                    let line = parts.next().and_then(|s| read_line_number(s.trim()));
                    let hits = parts.next().map(|s| read_hits(s.trim()));
                    let (Some(line), Some(hits)) = (line, hits) else {
                        self.skip_record(trimmed)?;
                        continue;
                    };
                    let hits = match hits {
                        Ok(n) => n,
                        Err((oddity, kept)) => {
                            let at = self.lines.line_no;
                            self.warnings
                                .odd(oddity, || format!("line {at}: \"{}\"", clip(trimmed)))
                                .map_err(|m| self.lines.error(value_col, ErrorKind::Invalid(m)))?;
                            match kept {
                                Some(n) => n,
                                None => continue,
                            }
                        }
                    };
                    if let Some(f) = file.as_mut() {
                        f.lines.push(LineCoverage {
                            line,
                            hits,
                            branches_covered: 0,
                            branches_total: 0,
                        });
                    }
                }
                "BRDA" => {
                    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
                    let line = parts.first().and_then(|s| read_line_number(s));
                    let taken = parts.get(3).and_then(|s| {
                        if *s == "-" {
                            Some(false)
                        } else {
                            read_hits(s).ok().map(|n| n > 0)
                        }
                    });
                    let (Some(line), Some(taken), 4..) = (line, taken, parts.len()) else {
                        self.skip_record(trimmed)?;
                        continue;
                    };
                    branch_outcomes.push((line, taken));
                }
                "LF" | "LH" | "BRF" | "BRH" => {
                    let Some(n) = crate::coverage::parse_count(value.trim()) else {
                        self.skip_record(trimmed)?;
                        continue;
                    };
                    match tag {
                        "LF" => lf = Some(n),
                        "LH" => lh = Some(n),
                        "BRF" => brf = Some(n),
                        _ => brh = Some(n),
                    }
                }
                // Functions and anything newer: not needed for line and branch coverage.
                _ => {}
            }
        }
        Ok(None)
    }
}

/// `12,3` or `12,3,checksum` → (12, 3); anything else is left to the careful path.
fn parse_da(rest: &[u8]) -> Option<(u32, u64)> {
    let comma = memchr::memchr(b',', rest)?;
    let line = parse_digits(&rest[..comma])?;
    let tail = &rest[comma + 1..];
    let end = memchr::memchr(b',', tail).unwrap_or(tail.len());
    let hits = parse_digits(&tail[..end])?;
    let line = u32::try_from(line).ok()?;
    (1..=MAX_LINE_NUMBER)
        .contains(&line)
        .then_some((line, hits))
}

/// Where the `\n` that ends a line is, and whether every byte before it is ASCII. Eight bytes
/// at a time: LCOV lines are a dozen bytes or two, shorter than what `memchr` needs to pay
/// for its setup.
#[inline]
fn short_line_end(bytes: &[u8]) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = ONES * b'\n' as u64;
    let mut high = 0;
    let mut at = 0;
    while let Some(word) = bytes[at..].first_chunk::<8>() {
        let word = u64::from_le_bytes(*word);
        let x = word ^ NEWLINES;
        // The lowest set high bit marks the first `\n` (a borrow can only mark bytes above it).
        let found = x.wrapping_sub(ONES) & !x & HIGH;
        if found != 0 {
            let i = found.trailing_zeros() as usize / 8;
            let before = word & ((1u64 << (8 * i)) - 1);
            return Some((at + i, (high | before) & HIGH == 0));
        }
        high |= word;
        at += 8;
    }
    let i = at + bytes[at..].iter().position(|&b| b == b'\n')?;
    Some((i, high & HIGH == 0 && bytes[at..i].is_ascii()))
}

/// `12,0,1,5` or `12,0,1,-` (block and branch may be free text) → (12, taken).
#[inline]
fn parse_brda(rest: &[u8]) -> Option<(u32, bool)> {
    let (line, used) = number_and_comma(rest)?;
    let after = &rest[used..];
    // Block and branch numbers (what gcov and most tools write) are read as numbers; free text
    // there is found from the commas. The taken count follows the last comma.
    let block_and_branch =
        number_and_comma(after).and_then(|(_, b)| Some(b + number_and_comma(&after[b..])?.1));
    let taken = match block_and_branch {
        Some(end) => &after[end..],
        None => {
            let last = after.iter().rposition(|&b| b == b',')?;
            if !after[..last].contains(&b',') {
                return None;
            }
            &after[last + 1..]
        }
    };
    let line = u32::try_from(line)
        .ok()
        .filter(|l| (1..=MAX_LINE_NUMBER).contains(l))?;
    let taken = match taken {
        b"-" => false,
        _ => {
            let (n, len) = leading_digits(taken)?;
            if len != taken.len() {
                return None;
            }
            n > 0
        }
    };
    Some((line, taken))
}

/// The number `s` starts with when a comma follows it: (the number, the bytes both take).
#[inline]
fn number_and_comma(s: &[u8]) -> Option<(u64, usize)> {
    let (n, len) = leading_digits(s)?;
    (s.get(len) == Some(&b',')).then_some((n, len + 1))
}

/// The decimal number `s` starts with and how many digits it has; `None` when it starts with
/// no digit or has more than 19.
#[inline]
fn leading_digits(s: &[u8]) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut len = 0;
    while let Some(&b) = s.get(len) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // Wraps only past 19 digits, which are refused below.
        n = n.wrapping_mul(10).wrapping_add(u64::from(d));
        len += 1;
    }
    (1..=19).contains(&len).then_some((n, len))
}

fn add(slot: &mut Option<u64>, n: u64) {
    *slot = Some(slot.unwrap_or(0).saturating_add(n));
}

fn clip(s: &str) -> String {
    if s.len() <= 80 {
        return s.to_string();
    }
    let mut end = 80;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub(crate) struct GoReader {
    lines: Lines,
    buf: Vec<u8>,
    pub(crate) declared: DeclaredTotals,
    pub(crate) warnings: Warnings,
    started: bool,
    done: bool,
    /// The next file's first block, read while finishing the previous file.
    carry: Option<(String, u32, u32, u64)>,
    /// Lines the blocks read so far span, repeats included (see [`GO_LINES_PER_BYTE`]).
    lines_made: u64,
}

/// A block `a.go:1.1,900000.2 1 1` is 24 bytes that stand for 900,000 lines: the lines the
/// blocks of a profile span may be at most this many per byte of the profile, plus
/// [`GO_LINES_BASE`], so that no profile costs more memory than its size warrants. Real
/// profiles span well under one line per byte (a block of a few lines takes 30 to 80 bytes).
const GO_LINES_PER_BYTE: u64 = 4;
const GO_LINES_BASE: u64 = 1_000_000;

impl GoReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        GoReader {
            lines: Lines::new(source, Format::Go),
            buf: Vec::with_capacity(256),
            declared: DeclaredTotals::default(),
            warnings: Warnings::new(options.strict),
            started: false,
            done: false,
            carry: None,
            lines_made: 0,
        }
    }

    pub(crate) fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        let result = self.next_inner();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn next_inner(&mut self) -> Result<Option<FileCoverage>> {
        if !self.started {
            self.started = true;
            let mut buf = std::mem::take(&mut self.buf);
            let first = self
                .lines
                .next_line(&mut buf)?
                .unwrap_or("")
                .trim()
                .to_string();
            self.buf = buf;
            let mode = first.strip_prefix("mode:").map(str::trim);
            if !matches!(mode, Some("set" | "count" | "atomic")) {
                return Err(self.lines.error(
                    0,
                    ErrorKind::Invalid(format!(
                        "a Go coverprofile starts with \"mode: set|count|atomic\", not \"{}\"",
                        clip(&first)
                    )),
                ));
            }
        }
        let mut current: Option<FileCoverage> = None;
        loop {
            let block = match self.carry.take() {
                Some(b) => Some(b),
                None if self.done => None,
                None => self.read_block()?,
            };
            if let Some((_, start, end, _)) = &block {
                self.lines_made += u64::from(end - start) + 1;
                let budget = GO_LINES_BASE + GO_LINES_PER_BYTE * self.lines.line_offset;
                if self.lines_made > budget {
                    return Err(self.lines.error(
                        0,
                        ErrorKind::Limit(format!(
                            "the blocks up to here span {} lines, more than {GO_LINES_PER_BYTE} \
                             per byte of the profile (and {GO_LINES_BASE}): not a coverprofile",
                            self.lines_made
                        )),
                    ));
                }
            }
            let Some((path, start, end, count)) = block else {
                self.done = true;
                return Ok(current.map(|mut f| {
                    crate::coverage::normalize(&mut f.lines, crate::coverage::HitMerge::Sum);
                    f
                }));
            };
            match current.as_mut() {
                Some(f) if f.path != path => {
                    self.carry = Some((path, start, end, count));
                    let mut f = current.take().expect("checked above");
                    crate::coverage::normalize(&mut f.lines, crate::coverage::HitMerge::Sum);
                    return Ok(Some(f));
                }
                Some(f) => push_block(f, start, end, count),
                None => {
                    let mut f = FileCoverage {
                        path,
                        lines: Vec::new(),
                        declared_lines: None,
                        declared_branches: None,
                    };
                    push_block(&mut f, start, end, count);
                    current = Some(f);
                }
            }
        }
    }

    fn read_block(&mut self) -> Result<Option<(String, u32, u32, u64)>> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_block_into(&mut buf);
        self.buf = buf;
        result
    }

    fn read_block_into(&mut self, buf: &mut Vec<u8>) -> Result<Option<(String, u32, u32, u64)>> {
        loop {
            let Some(text) = self.lines.next_line(buf)? else {
                return Ok(None);
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let parsed = parse_go_block(text);
            return match parsed {
                Some(b) => Ok(Some(b)),
                None => Err(self.lines.error(
                    0,
                    ErrorKind::Invalid(format!(
                        "invalid coverprofile block \"{}\" (expected file:l.c,l.c statements count)",
                        clip(text)
                    )),
                )),
            };
        }
    }
}

fn push_block(f: &mut FileCoverage, start: u32, end: u32, count: u64) {
    for line in start..=end {
        f.lines.push(LineCoverage {
            line,
            hits: count,
            branches_covered: 0,
            branches_total: 0,
        });
    }
}

/// `path:12.5,14.2 3 1` → (path, 12, 14, 1).
fn parse_go_block(text: &str) -> Option<(String, u32, u32, u64)> {
    let (rest, count) = text.rsplit_once(' ')?;
    let (rest, _statements) = rest.rsplit_once(' ')?;
    let (path, range) = rest.rsplit_once(':')?;
    let (from, to) = range.split_once(',')?;
    let start = from.split_once('.')?.0.parse::<u32>().ok()?;
    let end = to.split_once('.')?.0.parse::<u32>().ok()?;
    let count = count.parse::<u64>().ok()?;
    // A block never spans more than a source file; a huge span is corrupt input.
    if path.is_empty() || end < start || end - start > 1_000_000 {
        return None;
    }
    Some((path.to_string(), start, end, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_are_found_eight_bytes_at_a_time_as_a_byte_walk_finds_them() {
        // Every length up to 40, the `\n` anywhere or nowhere, a non-ASCII byte before it,
        // after it or nowhere.
        let mut checked = 0;
        for len in 0..40 {
            for newline in (0..len).map(Some).chain([None]) {
                for high in (0..len).map(Some).chain([None]) {
                    let mut bytes = vec![b'7'; len];
                    if let Some(h) = high {
                        bytes[h] = 0xC3;
                    }
                    if let Some(n) = newline {
                        bytes[n] = b'\n';
                    }
                    let expected = bytes
                        .iter()
                        .position(|&b| b == b'\n')
                        .map(|i| (i, bytes[..i].is_ascii()));
                    assert_eq!(short_line_end(&bytes), expected, "{bytes:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000);
    }

    #[test]
    fn brda_records_read_on_the_fast_path_as_the_format_says() {
        // (the text after `BRDA:`, the (line, taken) the fast path reads, or None when it
        // leaves the record to the careful path)
        type Case = (&'static [u8], Option<(u32, bool)>);
        let cases: [Case; 12] = [
            (b"12,0,1,5", Some((12, true))),
            (b"12,0,1,0", Some((12, false))),
            (b"12,0,1,-", Some((12, false))),
            (b"7,e0,true_branch,3", Some((7, true))),
            (b"7,,,3", Some((7, true))),
            (b"7,0,1", None),
            (b"7,0", None),
            (b"7,0,1,", None),
            (b"7,0,1,x", None),
            (b"7,0,1,5,6", None),
            (b"x,0,1,5", None),
            (b"4294967296,0,1,5", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_brda(text),
                expected,
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
