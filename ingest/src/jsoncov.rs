//! JSON coverage reports: coverage.py's `coverage json`, istanbul's `coverage-final.json` and
//! `llvm-cov export` JSON, streamed.
//!
//! The document is read by a pull parser ([`crate::json::Json`]) one event at a time; each source
//! file is yielded as soon as its entry has been read, and what is not needed (coverage.py's
//! `functions`/`classes`, istanbul's `fnMap`/`inputSourceMap`, llvm-cov's `segments` and
//! `functions`) is passed over without being kept. Memory grows with one file's entry at
//! most (istanbul's maps), never with the document.
//!
//! - coverage.py: `files: {path: {executed_lines, missing_lines, executed_branches,
//!   missing_branches, ...}}`. An executed line has 1 hit, a missing one 0; each
//!   `[from, to]` arc is one branch outcome on line `from` (taken when executed), on line 0
//!   (no line) when `from` is not a positive line number. `totals` are the declared totals.
//! - istanbul: `{path: {path, statementMap, s, branchMap, b, ...}}`. A line's hits are the
//!   largest count of the statements that start on it (istanbul's `getLineCoverage`); each
//!   count of a `b` array is one branch outcome, taken when above 0, on the line where the
//!   branch starts, or on line 0 when no statement starts there.
//! - llvm-cov: `data: [{files: [{filename, summary, ...}], totals}]`. Each file carries its
//!   own summary (the line and branch counts `llvm-cov report` prints) as declared totals,
//!   without lines; `data[*].totals` are the report's declared totals.

use std::collections::HashMap;

use crate::coverage::{DeclaredTotals, MAX_LINE_NUMBER, parse_count, parse_digits};
use crate::error::{Error, ErrorKind, Result};
use crate::input::{Options, Source};
use crate::model::{FileCoverage, Format, LineCoverage};
use crate::warnings::{Oddity, Warnings};

use crate::json::{Ev, Json};

/// Which JSON coverage format `prefix` (the first bytes of a document starting with `{`) is.
#[cfg(test)]
pub(crate) fn detect_json(prefix: &[u8]) -> Option<Format> {
    detect_json_by_keys(prefix, &prefix_keys(prefix))
}

/// [`detect_json`] with the prefix's member names read already ([`prefix_keys`]).
pub(crate) fn detect_json_by_keys(prefix: &[u8], keys: &[PrefixKey]) -> Option<Format> {
    let has = |depth: u8, top: &str, key: &str| {
        keys.iter()
            .any(|k| k.depth == depth && k.top == top && k.key == key)
    };
    let top_has = |key: &str| keys.iter().any(|k| k.depth == 1 && k.key == key);
    if keys
        .iter()
        .any(|k| k.depth == 1 && k.key == "type" && k.value == LLVM_TYPE)
        || memchr::memmem::find(prefix, LLVM_TYPE.as_bytes()).is_some() && top_has("data")
    {
        return Some(Format::LlvmCovJson);
    }
    if top_has("data")
        && ["files", "functions", "totals"]
            .iter()
            .any(|k| has(3, "data", k))
    {
        return Some(Format::LlvmCovJson);
    }
    // `format` came with coverage.py 7; older `meta`s have the other two.
    let meta = has(2, "meta", "show_contexts")
        || has(2, "meta", "branch_coverage")
        || has(2, "meta", "format") && has(2, "meta", "version");
    let py_file = ["executed_lines", "missing_lines", "excluded_lines"]
        .iter()
        .any(|k| has(3, "files", k));
    if meta || (top_has("files") && py_file) {
        return Some(Format::CoveragePyJson);
    }
    // istanbul: top-level keys are paths, each an object with `statementMap`.
    let istanbul = keys.iter().any(|k| {
        k.depth == 2
            && k.key == "statementMap"
            && keys.iter().any(|o| {
                o.depth == 2
                    && o.top == k.top
                    && ["path", "s", "fnMap", "branchMap"].contains(&o.key.as_str())
            })
    });
    istanbul.then_some(Format::IstanbulJson)
}

const LLVM_TYPE: &str = "llvm.coverage.json.export";

/// A member name seen in a document's first bytes.
pub(crate) struct PrefixKey {
    /// How many containers are open around the member (1: a top-level member).
    pub(crate) depth: u8,
    /// The top-level member it is inside (itself at depth 1); cut to 64 bytes.
    pub(crate) top: String,
    pub(crate) key: String,
    /// Its value, when that is a short string.
    pub(crate) value: String,
}

/// The member names (to depth 3) of the first bytes of a JSON document, read loosely: the
/// prefix may end anywhere, and detection only needs the names.
pub(crate) fn prefix_keys(prefix: &[u8]) -> Vec<PrefixKey> {
    let mut keys = Vec::new();
    let mut depth: usize = 0;
    let mut top = String::new();
    let mut i = 0;
    let mut last_key: Option<usize> = None;
    while i < prefix.len() && keys.len() < 10_000 {
        match prefix[i] {
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' => {
                // The string's end: the next quote not escaped.
                let start = i + 1;
                let mut j = start;
                let end = loop {
                    match memchr::memchr2(b'"', b'\\', prefix.get(j..).unwrap_or_default()) {
                        Some(n) if prefix[j + n] == b'"' => break Some(j + n),
                        Some(n) => j += n + 2,
                        None => break None,
                    }
                };
                let Some(j) = end else { break };
                // Only the names to depth 3 and their short values are kept (and decoded).
                let raw = &prefix[start..j];
                let text = || String::from_utf8_lossy(&raw[..raw.len().min(256)]);
                i = j + 1;
                let rest = &prefix[i..];
                let colon = rest
                    .iter()
                    .position(|b| !b.is_ascii_whitespace())
                    .is_some_and(|p| rest[p] == b':');
                if colon {
                    if (1..=3).contains(&depth) {
                        let key: String = text().chars().take(64).collect();
                        if depth == 1 {
                            top.clone_from(&key);
                        }
                        last_key = Some(keys.len());
                        keys.push(PrefixKey {
                            depth: depth as u8,
                            top: top.clone(),
                            key,
                            value: String::new(),
                        });
                    } else {
                        last_key = None;
                    }
                } else if let Some(k) = last_key.take()
                    && raw.len() <= 64
                {
                    keys[k].value = text().into_owned();
                }
            }
            b',' => {
                last_key = None;
                i += 1;
            }
            _ => i += 1,
        }
    }
    keys
}

/// Where the reader is in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the top-level `{`.
    Start,
    /// Among the top-level members.
    Top,
    /// coverage.py: among the members of `files`.
    PyFiles,
    /// llvm-cov: among the elements of `data`.
    LlvmData,
    /// llvm-cov: among the members of an element of `data`.
    LlvmExport,
    /// llvm-cov: among the elements of `data[i].files`.
    LlvmFiles,
    /// After the top-level object: only white space may follow.
    Finish,
    Done,
}

/// A member name the reader acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Files,
    Totals,
    Data,
    ExecutedLines,
    MissingLines,
    ExecutedBranches,
    MissingBranches,
    Path,
    StatementMap,
    S,
    BranchMap,
    B,
    Filename,
    Summary,
    Lines,
    Branches,
    Count,
    Covered,
    NumStatements,
    CoveredLines,
    NumBranches,
    CoveredBranches,
    Start,
    Line,
    Loc,
    Locations,
    Other,
}

fn key_of(name: &str) -> Key {
    match name {
        "files" => Key::Files,
        "totals" => Key::Totals,
        "data" => Key::Data,
        "executed_lines" => Key::ExecutedLines,
        "missing_lines" => Key::MissingLines,
        "executed_branches" => Key::ExecutedBranches,
        "missing_branches" => Key::MissingBranches,
        "path" => Key::Path,
        "statementMap" => Key::StatementMap,
        "s" => Key::S,
        "branchMap" => Key::BranchMap,
        "b" => Key::B,
        "filename" => Key::Filename,
        "summary" => Key::Summary,
        "lines" => Key::Lines,
        "branches" => Key::Branches,
        "count" => Key::Count,
        "covered" => Key::Covered,
        "num_statements" => Key::NumStatements,
        "covered_lines" => Key::CoveredLines,
        "num_branches" => Key::NumBranches,
        "covered_branches" => Key::CoveredBranches,
        "start" => Key::Start,
        "line" => Key::Line,
        "loc" => Key::Loc,
        "locations" => Key::Locations,
        _ => Key::Other,
    }
}

fn what_is(ev: Ev) -> &'static str {
    match ev {
        Ev::BeginObject => "an object",
        Ev::BeginArray => "an array",
        Ev::Str => "a string",
        Ev::Num => "a number",
        Ev::Bool(_) => "a boolean",
        Ev::Null => "null",
        Ev::End | Ev::Key | Ev::Eof => "missing",
    }
}

/// An istanbul id (`"0"`, `"12"`): numeric ones kept as numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Id {
    Num(u64),
    Text(Box<str>),
}

impl Id {
    fn of(text: &str) -> Id {
        match parse_digits(text.as_bytes()) {
            Some(n) if text == "0" || !text.starts_with('0') => Id::Num(n),
            _ => Id::Text(text.into()),
        }
    }
}

type IdMap<V> = HashMap<Id, V, foldhash::fast::RandomState>;

/// A branch (or branch outcome) before it is placed: (line, outcomes, taken).
type Outcomes = Vec<(u32, u32, u32)>;

/// Streams the files of a JSON coverage report.
pub(crate) struct JsonCoverageReader {
    pub(crate) declared: DeclaredTotals,
    pub(crate) warnings: Warnings,
    json: Json,
    format: Format,
    phase: Phase,
    /// Reused per file.
    outcomes: Outcomes,
}

impl JsonCoverageReader {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> Self {
        JsonCoverageReader {
            declared: DeclaredTotals::default(),
            warnings: Warnings::new(options.strict),
            json: Json::new(source, format, options.limits),
            format,
            phase: Phase::Start,
            outcomes: Vec::new(),
        }
    }

    pub(crate) fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        let result = self.next_inner();
        if result.is_err() {
            self.phase = Phase::Done;
        }
        result
    }

    fn invalid(&self, message: String) -> Error {
        self.json.error_at_token(ErrorKind::Invalid(message))
    }

    /// The error for a value that is `ev` where `want` belongs.
    fn wrong(&self, ev: Ev, want: Ev, what: &str) -> Error {
        self.invalid(format!("{what} is {}, not {}", what_is(ev), what_is(want)))
    }

    /// Reads the next value, which must start with `want` (`{` or `[`).
    fn expect(&mut self, want: Ev, what: impl FnOnce() -> String) -> Result<()> {
        let ev = self.json.next(true)?;
        if ev == want {
            Ok(())
        } else {
            Err(self.wrong(ev, want, &what()))
        }
    }

    /// The next member of the open object: its key, or `None` at its end.
    fn next_key(&mut self) -> Result<Option<Key>> {
        match self.json.next(true)? {
            Ev::Key => Ok(Some(key_of(self.json.text()))),
            _ => Ok(None), // the parser allows only a key or the end here
        }
    }

    /// Passes over the value of the member just read.
    fn skip_value(&mut self) -> Result<()> {
        let ev = self.json.next(false)?;
        self.json.skip(ev)
    }

    fn next_inner(&mut self) -> Result<Option<FileCoverage>> {
        loop {
            match self.phase {
                Phase::Start => {
                    let ev = self.json.next(true)?;
                    if ev != Ev::BeginObject {
                        return Err(self.wrong(ev, Ev::BeginObject, "the document"));
                    }
                    self.phase = Phase::Top;
                }
                Phase::Top => {
                    if self.json.next(true)? != Ev::Key {
                        self.phase = Phase::Finish;
                        continue;
                    }
                    match self.format {
                        Format::IstanbulJson => {
                            let key = self.json.text().to_owned();
                            self.expect(Ev::BeginObject, || format!("the entry of {key:?}"))?;
                            return self.istanbul_file(key).map(Some);
                        }
                        Format::CoveragePyJson => match key_of(self.json.text()) {
                            Key::Files => {
                                self.expect(Ev::BeginObject, || "files".into())?;
                                self.phase = Phase::PyFiles;
                            }
                            Key::Totals => self.py_totals()?,
                            _ => self.skip_value()?,
                        },
                        _ => match key_of(self.json.text()) {
                            Key::Data => {
                                self.expect(Ev::BeginArray, || "data".into())?;
                                self.phase = Phase::LlvmData;
                            }
                            _ => self.skip_value()?,
                        },
                    }
                }
                Phase::PyFiles => match self.json.next(true)? {
                    Ev::Key => {
                        let path = self.json.text().to_owned();
                        self.expect(Ev::BeginObject, || format!("files[{path:?}]"))?;
                        return self.py_file(path).map(Some);
                    }
                    _ => self.phase = Phase::Top,
                },
                Phase::LlvmData => match self.json.next(true)? {
                    Ev::BeginObject => self.phase = Phase::LlvmExport,
                    Ev::End => self.phase = Phase::Top,
                    ev => return Err(self.wrong(ev, Ev::BeginObject, "an element of data")),
                },
                Phase::LlvmExport => match self.next_key()? {
                    Some(Key::Files) => {
                        self.expect(Ev::BeginArray, || "data[].files".into())?;
                        self.phase = Phase::LlvmFiles;
                    }
                    Some(Key::Totals) => self.llvm_totals()?,
                    // `functions` (often most of the document), `totals`' siblings.
                    Some(_) => self.skip_value()?,
                    None => self.phase = Phase::LlvmData,
                },
                Phase::LlvmFiles => match self.json.next(true)? {
                    Ev::BeginObject => return self.llvm_file().map(Some),
                    Ev::End => self.phase = Phase::LlvmExport,
                    ev => {
                        return Err(self.wrong(ev, Ev::BeginObject, "an element of data[].files"));
                    }
                },
                Phase::Finish => {
                    // Only white space may follow; the parser refuses anything else.
                    self.json.next(false)?;
                    self.phase = Phase::Done;
                }
                Phase::Done => return Ok(None),
            }
        }
    }

    // --- numbers ---

    /// The number just read as a line number, or `None` (skipped, with a warning).
    fn line_number(&mut self, what: impl FnOnce() -> String) -> Result<Option<u32>> {
        self.warnings
            .line_number(self.json.text(), what)
            .map_err(|m| self.json.error_at_token(ErrorKind::Invalid(m)))
    }

    /// The number (or string) just read as a hit count, or `None` (skipped, with a warning).
    fn hits(&mut self, what: impl FnOnce() -> String) -> Result<Option<u64>> {
        self.warnings
            .hits(self.json.text(), what)
            .map_err(|m| self.json.error_at_token(ErrorKind::Invalid(m)))
    }

    /// A hit count's value `ev` (just read): a count, or `None` to skip it.
    fn count_value(&mut self, ev: Ev, what: impl FnOnce() -> String) -> Result<Option<u64>> {
        match ev {
            Ev::Num | Ev::Str => self.hits(what),
            Ev::Null | Ev::Bool(_) => {
                let raw = if ev == Ev::Null { "null" } else { "a boolean" };
                self.warnings
                    .odd(Oddity::BadCount, || format!("{}: {raw}", what()))
                    .map_err(|m| self.invalid(m))?;
                Ok(None)
            }
            _ => Err(self.wrong(ev, Ev::Num, &what())),
        }
    }

    /// A declared total (just read as `ev`), or `None` when it is not a count.
    fn declared_count(&mut self, ev: Ev) -> Option<u64> {
        (ev == Ev::Num)
            .then(|| parse_count(self.json.text()))
            .flatten()
    }

    // --- coverage.py ---

    fn py_totals(&mut self) -> Result<()> {
        self.expect(Ev::BeginObject, || "totals".into())?;
        while let Some(key) = self.next_key()? {
            let ev = self.json.next(true)?;
            let n = self.declared_count(ev);
            match key {
                Key::NumStatements => self.declared.lines_valid = n,
                Key::CoveredLines => self.declared.lines_covered = n,
                Key::NumBranches => self.declared.branches_valid = n,
                Key::CoveredBranches => self.declared.branches_covered = n,
                _ => {}
            }
            self.json.skip(ev)?;
        }
        Ok(())
    }

    /// One entry of `files` (its `{` read).
    fn py_file(&mut self, path: String) -> Result<FileCoverage> {
        let mut lines = Vec::new();
        let mut outcomes = std::mem::take(&mut self.outcomes);
        outcomes.clear();
        while let Some(key) = self.next_key()? {
            match key {
                Key::ExecutedLines => self.py_lines(&path, "executed_lines", 1, &mut lines)?,
                Key::MissingLines => self.py_lines(&path, "missing_lines", 0, &mut lines)?,
                Key::ExecutedBranches => {
                    self.py_arcs(&path, "executed_branches", 1, &mut outcomes)?;
                }
                Key::MissingBranches => {
                    self.py_arcs(&path, "missing_branches", 0, &mut outcomes)?;
                }
                // `functions` and `classes` repeat the file's data; `summary`, `excluded_lines`.
                _ => self.skip_value()?,
            }
        }
        place_branches(&mut lines, &mut outcomes);
        self.outcomes = outcomes;
        Ok(FileCoverage {
            path,
            lines,
            declared_lines: None,
            declared_branches: None,
        })
    }

    fn py_lines(
        &mut self,
        path: &str,
        member: &str,
        hits: u64,
        lines: &mut Vec<LineCoverage>,
    ) -> Result<()> {
        self.expect(Ev::BeginArray, || format!("{member} of {path:?}"))?;
        loop {
            match self.json.next(true)? {
                Ev::End => return Ok(()),
                Ev::Num => {
                    if let Some(line) = self.line_number(|| format!("{member} of {path}"))? {
                        lines.push(LineCoverage {
                            line,
                            hits,
                            branches_covered: 0,
                            branches_total: 0,
                        });
                    }
                }
                ev => {
                    let what = format!("an element of {member} of {path:?}");
                    return Err(self.wrong(ev, Ev::Num, &what));
                }
            }
        }
    }

    /// `executed_branches` or `missing_branches`: `[[from, to], ...]`.
    fn py_arcs(
        &mut self,
        path: &str,
        member: &str,
        taken: u32,
        outcomes: &mut Outcomes,
    ) -> Result<()> {
        self.expect(Ev::BeginArray, || format!("{member} of {path:?}"))?;
        loop {
            match self.json.next(true)? {
                Ev::End => return Ok(()),
                Ev::BeginArray => {
                    let ev = self.json.next(true)?;
                    if ev != Ev::Num {
                        let what = format!("the first line of an arc of {member} of {path:?}");
                        return Err(self.wrong(ev, Ev::Num, &what));
                    }
                    let text = self.json.text();
                    let line = match text.parse::<i64>() {
                        Ok(n) if n <= 0 => Some(0),
                        _ => self.line_number(|| format!("{member} of {path}"))?,
                    };
                    if let Some(line) = line {
                        outcomes.push((line, 1, taken));
                    }
                    self.json.skip_rest()?; // `to`
                }
                ev => {
                    let what = format!("an element of {member} of {path:?}");
                    return Err(self.wrong(ev, Ev::BeginArray, &what));
                }
            }
        }
    }

    // --- istanbul ---

    /// One file's entry (its `{` read); `key`: its member name.
    fn istanbul_file(&mut self, key: String) -> Result<FileCoverage> {
        let mut path: Option<String> = None;
        let mut statements: IdMap<Option<u32>> = IdMap::default();
        let mut counts: IdMap<u64> = IdMap::default();
        let mut branch_lines: IdMap<u32> = IdMap::default();
        let mut branch_counts: IdMap<(u32, u32)> = IdMap::default();
        while let Some(member) = self.next_key()? {
            match member {
                Key::Path => match self.json.next(true)? {
                    Ev::Str => path = Some(self.json.text().to_owned()),
                    ev => self.json.skip(ev)?,
                },
                Key::StatementMap => {
                    self.expect(Ev::BeginObject, || format!("statementMap of {key:?}"))?;
                    while self.next_key()?.is_some() {
                        let id = Id::of(self.json.text());
                        let line = self.location_line(&key, true)?;
                        statements.insert(id, line);
                    }
                }
                Key::S => {
                    self.expect(Ev::BeginObject, || format!("s of {key:?}"))?;
                    while self.next_key()?.is_some() {
                        let id = Id::of(self.json.text());
                        let ev = self.json.next(true)?;
                        if let Some(n) = self.count_value(ev, || format!("s of {key}"))? {
                            counts.insert(id, n);
                        }
                    }
                }
                Key::BranchMap => {
                    self.expect(Ev::BeginObject, || format!("branchMap of {key:?}"))?;
                    while self.next_key()?.is_some() {
                        let id = Id::of(self.json.text());
                        let line = self.branch_line(&key)?;
                        if let Some(line) = line {
                            branch_lines.insert(id, line);
                        }
                    }
                }
                Key::B => {
                    self.expect(Ev::BeginObject, || format!("b of {key:?}"))?;
                    while self.next_key()?.is_some() {
                        let id = Id::of(self.json.text());
                        self.expect(Ev::BeginArray, || format!("b[{id:?}] of {key:?}"))?;
                        let (mut total, mut taken) = (0u32, 0u32);
                        loop {
                            let ev = self.json.next(true)?;
                            if ev == Ev::End {
                                break;
                            }
                            if let Some(n) = self.count_value(ev, || format!("b of {key}"))? {
                                total = total.saturating_add(1);
                                taken = taken.saturating_add(u32::from(n > 0));
                            }
                        }
                        branch_counts.insert(id, (total, taken));
                    }
                }
                // fnMap, f, inputSourceMap, hash, _coverageSchema, bT, all, ...
                _ => self.skip_value()?,
            }
        }
        let mut lines: Vec<LineCoverage> = counts
            .iter()
            .filter_map(|(id, &hits)| {
                let line = (*statements.get(id)?)?;
                Some(LineCoverage {
                    line,
                    hits,
                    branches_covered: 0,
                    branches_total: 0,
                })
            })
            .collect();
        let mut outcomes = std::mem::take(&mut self.outcomes);
        outcomes.clear();
        outcomes.extend(branch_counts.iter().map(|(id, &(total, taken))| {
            let line = branch_lines.get(id).copied().unwrap_or(0);
            (line, total, taken)
        }));
        place_branches(&mut lines, &mut outcomes);
        self.outcomes = outcomes;
        Ok(FileCoverage {
            path: path.unwrap_or(key),
            lines,
            declared_lines: None,
            declared_branches: None,
        })
    }

    /// A location `{start: {line, column}, end: {...}}`: its start line, `None` when it has
    /// none that is a line number (with a warning when `warn`).
    fn location_line(&mut self, file: &str, warn: bool) -> Result<Option<u32>> {
        match self.json.next(true)? {
            Ev::BeginObject => self.location_rest(file, warn),
            ev => {
                self.json.skip(ev)?;
                Ok(None)
            }
        }
    }

    /// A `branchMap` entry: the line of its `loc`, else of its first location, else its
    /// `line`.
    fn branch_line(&mut self, file: &str) -> Result<Option<u32>> {
        let ev = self.json.next(true)?;
        if ev != Ev::BeginObject {
            self.json.skip(ev)?;
            return Ok(None);
        }
        let (mut loc, mut first, mut line) = (None, None, None);
        while let Some(key) = self.next_key()? {
            match key {
                Key::Loc => loc = self.location_line(file, false)?,
                Key::Locations => match self.json.next(true)? {
                    Ev::BeginArray => {
                        let mut index = 0;
                        loop {
                            // Each location is an object; the first one's line is kept.
                            let ev = self.json.next(true)?;
                            match ev {
                                Ev::End => break,
                                Ev::BeginObject if index == 0 => {
                                    first = self.location_rest(file, false)?;
                                }
                                ev => self.json.skip(ev)?,
                            }
                            index += 1;
                        }
                    }
                    ev => self.json.skip(ev)?,
                },
                Key::Line => match self.json.next(true)? {
                    Ev::Num => line = crate::coverage::read_line_number(self.json.text()),
                    ev => self.json.skip(ev)?,
                },
                _ => self.skip_value()?,
            }
        }
        Ok(loc.or(first).or(line))
    }

    /// The rest of a location object whose `{` was read: its start line.
    fn location_rest(&mut self, file: &str, warn: bool) -> Result<Option<u32>> {
        let mut line = None;
        while let Some(key) = self.next_key()? {
            let ev = self.json.next(true)?;
            if key == Key::Start && ev == Ev::BeginObject {
                while let Some(key) = self.next_key()? {
                    let ev = self.json.next(true)?;
                    if key == Key::Line && ev == Ev::Num {
                        line = if warn {
                            self.line_number(|| format!("statementMap of {file}"))?
                        } else {
                            crate::coverage::read_line_number(self.json.text())
                        };
                    } else {
                        self.json.skip(ev)?;
                    }
                }
            } else {
                self.json.skip(ev)?;
            }
        }
        Ok(line)
    }

    // --- llvm-cov ---

    /// One element of `data[].files` (its `{` read).
    fn llvm_file(&mut self) -> Result<FileCoverage> {
        let start = self.json.token_position();
        let mut path = None;
        let (mut lines, mut branches) = (None, None);
        while let Some(key) = self.next_key()? {
            match key {
                Key::Filename => match self.json.next(true)? {
                    Ev::Str => path = Some(self.json.text().to_owned()),
                    ev => return Err(self.wrong(ev, Ev::Str, "filename")),
                },
                Key::Summary => {
                    self.expect(Ev::BeginObject, || "summary".into())?;
                    while let Some(key) = self.next_key()? {
                        match key {
                            Key::Lines => lines = self.llvm_counts("summary.lines")?,
                            Key::Branches => branches = self.llvm_counts("summary.branches")?,
                            _ => self.skip_value()?,
                        }
                    }
                }
                // segments, branches, expansions, mcdc_records.
                _ => self.skip_value()?,
            }
        }
        let Some(path) = path else {
            let message = "an element of data[].files has no filename".to_string();
            return Err(Error::new(ErrorKind::Invalid(message), start).with_format(self.format));
        };
        Ok(FileCoverage {
            path,
            lines: Vec::new(),
            declared_lines: lines,
            declared_branches: branches,
        })
    }

    /// `{count, covered, ...}`: (count, covered) when both are there.
    fn llvm_counts(&mut self, what: &str) -> Result<Option<(u64, u64)>> {
        self.expect(Ev::BeginObject, || what.into())?;
        let (mut count, mut covered) = (None, None);
        while let Some(key) = self.next_key()? {
            let ev = self.json.next(true)?;
            match key {
                Key::Count => count = self.count_value(ev, || what.into())?,
                Key::Covered => covered = self.count_value(ev, || what.into())?,
                _ => self.json.skip(ev)?,
            }
        }
        Ok(count.zip(covered))
    }

    /// `data[].totals`: added to the declared totals.
    fn llvm_totals(&mut self) -> Result<()> {
        self.expect(Ev::BeginObject, || "data[].totals".into())?;
        while let Some(key) = self.next_key()? {
            match key {
                Key::Lines => {
                    if let Some((valid, covered)) = self.llvm_counts("data[].totals.lines")? {
                        add(&mut self.declared.lines_valid, valid);
                        add(&mut self.declared.lines_covered, covered);
                    }
                }
                Key::Branches => {
                    if let Some((valid, covered)) = self.llvm_counts("data[].totals.branches")? {
                        add(&mut self.declared.branches_valid, valid);
                        add(&mut self.declared.branches_covered, covered);
                    }
                }
                _ => self.skip_value()?,
            }
        }
        Ok(())
    }
}

/// Adds `b` to a declared total.
fn add(total: &mut Option<u64>, b: u64) {
    *total = Some(total.unwrap_or(0).saturating_add(b));
}

/// Sorts `lines` (merging repeats, the larger hits kept) and puts each branch of `outcomes`
/// on its line, or on line 0 when its line is not measured.
fn place_branches(lines: &mut Vec<LineCoverage>, outcomes: &mut Outcomes) {
    lines.sort_unstable_by_key(|l| l.line);
    lines.dedup_by(|next, kept| {
        let same = next.line == kept.line;
        if same {
            kept.hits = kept.hits.max(next.hits);
        }
        same
    });
    let (mut total0, mut taken0) = (0u32, 0u32);
    for &(line, total, taken) in outcomes.iter() {
        let found = if line > 0 && line <= MAX_LINE_NUMBER {
            lines.binary_search_by_key(&line, |l| l.line).ok()
        } else {
            None
        };
        match found {
            Some(i) => {
                let l = &mut lines[i];
                l.branches_total = l.branches_total.saturating_add(total);
                l.branches_covered = l.branches_covered.saturating_add(taken);
            }
            None => {
                total0 = total0.saturating_add(total);
                taken0 = taken0.saturating_add(taken);
            }
        }
    }
    if total0 > 0 {
        lines.insert(
            0,
            LineCoverage {
                line: 0,
                hits: 0,
                branches_covered: taken0,
                branches_total: total0,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::input::Limits;
    use crate::model::CoverageTotals;

    fn sample(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../samples/generated")
            .join(name)
    }

    const SAMPLES: [(&str, Format); 6] = [
        ("coverage-py.json", Format::CoveragePyJson),
        ("istanbul-coverage-final.json", Format::IstanbulJson),
        ("nyc-coverage-final.json", Format::IstanbulJson),
        ("vitest-istanbul-coverage-final.json", Format::IstanbulJson),
        ("cargo-llvm-cov.json", Format::LlvmCovJson),
        ("cargo-llvm-cov-generics.json", Format::LlvmCovJson),
    ];

    #[test]
    fn samples_match_the_tools_own_numbers() {
        for (name, format) in SAMPLES {
            let expected: serde_json::Value = serde_json::from_slice(
                &std::fs::read(sample(&format!("{name}.expected.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!(expected["format"], format.name(), "{name}");
            let want = &expected["coverage"];
            let file = std::fs::File::open(sample(name)).unwrap();
            let summary = crate::summarize(file, &Options::default()).unwrap();
            assert_eq!(summary.format, format, "{name}");
            let got = summary.coverage.unwrap();
            let got = [
                got.lines_valid,
                got.lines_covered,
                got.branches_valid,
                got.branches_covered,
            ];
            let want = [
                "lines_valid",
                "lines_covered",
                "branches_valid",
                "branches_covered",
            ]
            .map(|k| want[k].as_u64().unwrap());
            assert_eq!(got, want, "{name}");
            assert!(
                summary.warnings.is_empty(),
                "{name}: {:?}",
                summary.warnings
            );
            // The whole report agrees, and strict mode finds nothing odd.
            let strict = Options {
                strict: true,
                ..Options::default()
            };
            let bytes = std::fs::read(sample(name)).unwrap();
            let report = crate::parse_with(std::io::Cursor::new(bytes), &strict).unwrap();
            let crate::Content::Coverage(c) = report.content else {
                panic!("{name}: not coverage");
            };
            let t = c.totals;
            assert_eq!(
                [
                    t.lines_valid,
                    t.lines_covered,
                    t.branches_valid,
                    t.branches_covered
                ],
                want,
                "{name}"
            );
        }
    }

    #[test]
    fn a_bom_and_gzip_make_no_difference() {
        let bytes = std::fs::read(sample("istanbul-coverage-final.json")).unwrap();
        let plain = crate::summarize(std::io::Cursor::new(bytes.clone()), &Options::default())
            .unwrap()
            .coverage;
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&bytes);
        let with_bom = crate::summarize(std::io::Cursor::new(bom), &Options::default()).unwrap();
        assert_eq!(with_bom.format, Format::IstanbulJson);
        assert_eq!(with_bom.coverage, plain);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &bytes).unwrap();
        let gzipped = crate::summarize(
            std::io::Cursor::new(gz.finish().unwrap()),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(gzipped.coverage, plain);
    }

    #[test]
    fn detects_each_format_from_its_first_bytes() {
        for (name, format) in SAMPLES {
            let bytes = std::fs::read(sample(name)).unwrap();
            assert_eq!(detect_json(&bytes), Some(format), "{name}");
            // Also from a cut prefix.
            assert_eq!(
                detect_json(&bytes[..bytes.len().min(900)]),
                Some(format),
                "{name}"
            );
        }
        let pretty = br#"{
  "data": [
    {
      "files": [
        {
          "branches": [],"#;
        assert_eq!(detect_json(pretty), Some(Format::LlvmCovJson));
        let typed = br#"{"type": "llvm.coverage.json.export", "version": "2.0.1", "data": ["#;
        assert_eq!(detect_json(typed), Some(Format::LlvmCovJson));
        let old_py = br#"{"meta": {"version": "5.5", "timestamp": "x", "branch_coverage": false"#;
        assert_eq!(detect_json(old_py), Some(Format::CoveragePyJson));
        let sorted_py = br#"{"files": {"a.py": {"excluded_lines": [], "executed_lines": [1]"#;
        assert_eq!(detect_json(sorted_py), Some(Format::CoveragePyJson));
        for other in [
            &br#"{}"#[..],
            br#"{"tests": 3}"#,
            br#"{"files": ["a"], "meta": {}}"#,
            br#"{"name": "statementMap", "path": "x"}"#,
            br#"{"a": {"b": "\"statementMap\": {"}}"#,
        ] {
            assert_eq!(
                detect_json(other),
                None,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
    }

    fn read_all(
        text: &str,
        format: Format,
        options: Options,
    ) -> Result<(Vec<FileCoverage>, JsonCoverageReader)> {
        let source = Source::open(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            options.limits,
        )?;
        let mut reader = JsonCoverageReader::new(source, format, options);
        let mut files = Vec::new();
        while let Some(f) = reader.next_file()? {
            files.push(f);
        }
        Ok((files, reader))
    }

    fn line(line: u32, hits: u64, branches_covered: u32, branches_total: u32) -> LineCoverage {
        LineCoverage {
            line,
            hits,
            branches_covered,
            branches_total,
        }
    }

    #[test]
    fn coverage_py_lines_and_arcs() {
        let text = r#"{"meta": {"format": 3}, "files": {
            "a.py": {"executed_lines": [1, 2, 4], "summary": {"covered_lines": 3},
                     "missing_lines": [3, 7], "excluded_lines": [9],
                     "executed_branches": [[2, 4], [4, -1], [-1, 2]],
                     "missing_branches": [[2, 3], [5, 6]],
                     "functions": {"f": {"executed_lines": [100], "executed_branches": [[100, 101]]}},
                     "classes": {}},
            "b.py": {"executed_lines": [], "missing_lines": []}},
            "totals": {"covered_lines": 3, "num_statements": 5, "num_branches": 5, "covered_branches": 3}}"#;
        let (files, reader) = read_all(text, Format::CoveragePyJson, Options::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "a.py");
        assert_eq!(
            files[0].lines,
            [
                line(0, 0, 1, 2), // from -1, and from line 5, which is not measured
                line(1, 1, 0, 0),
                line(2, 1, 1, 2),
                line(3, 0, 0, 0),
                line(4, 1, 1, 1),
                line(7, 0, 0, 0),
            ]
        );
        assert!(files[1].lines.is_empty());
        let d = reader.declared;
        assert_eq!(
            (
                d.lines_valid,
                d.lines_covered,
                d.branches_valid,
                d.branches_covered
            ),
            (Some(5), Some(3), Some(5), Some(3))
        );
        assert!(reader.warnings.into_vec().is_empty());
    }

    #[test]
    fn istanbul_lines_take_the_largest_statement_count_and_branches_their_start_line() {
        // `s` before `statementMap`; a statement without a count and a count without a
        // statement are ignored, as istanbul does.
        let text = r#"{"/src/a.js": {
            "s": {"0": 3, "1": 0, "2": 5, "3": 0, "9": 4},
            "statementMap": {
                "0": {"start": {"line": 1, "column": 0}, "end": {"line": 1, "column": 9}},
                "1": {"start": {"line": 2, "column": 0}, "end": {"line": 2, "column": 9}},
                "2": {"start": {"line": 2, "column": 10}, "end": {"line": 2, "column": 19}},
                "3": {"start": {"line": 3, "column": 0}, "end": {"line": 3, "column": 9}},
                "4": {"start": {"line": 8, "column": 0}, "end": {"line": 8, "column": 9}}},
            "branchMap": {
                "0": {"loc": {"start": {"line": 2, "column": 0}, "end": {}}, "type": "if",
                      "locations": [{"start": {"line": 5}}, {"start": {}, "end": {}}], "line": 6},
                "1": {"type": "cond-expr", "locations": [{"start": {"line": 3}}], "line": 1},
                "2": {"type": "if", "line": 40, "locations": []}},
            "b": {"0": [1, 0], "1": [0, 0, 2], "2": [7, 0], "3": [1]},
            "fnMap": {}, "f": {}, "path": "src/a.js",
            "inputSourceMap": {"mappings": "AAAA", "sources": ["x"]}},
          "/src/b.js": {"statementMap": {}, "s": {}, "branchMap": {}, "b": {}}}"#;
        let (files, _) = read_all(text, Format::IstanbulJson, Options::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "src/a.js");
        assert_eq!(
            files[0].lines,
            [
                // branch 2 (line 40, no statement) and 3 (not in branchMap)
                line(0, 0, 2, 3),
                line(1, 3, 0, 0),
                line(2, 5, 1, 2),
                line(3, 0, 1, 3),
            ]
        );
        assert_eq!(files[1].path, "/src/b.js");
        assert!(files[1].lines.is_empty());
    }

    #[test]
    fn odd_counts_are_warnings_or_in_strict_mode_errors_at_the_value() {
        let text = "{\"a.js\": {\"statementMap\": {\"0\": {\"start\": {\"line\": 1}},\n\"1\": {\"start\": {\"line\": 0}}, \"2\": {\"start\": {\"line\": 2}}, \"3\": {\"start\": {\"line\": 3}}},\n\"s\": {\"0\": -2, \"1\": 5, \"2\": 1e30, \"3\": 2.0}, \"b\": {\"0\": [null, -1, 1]}}}";
        let (files, reader) = read_all(text, Format::IstanbulJson, Options::default()).unwrap();
        assert_eq!(
            files[0].lines,
            [
                line(0, 0, 1, 2),
                line(1, 0, 0, 0),
                line(2, u64::MAX, 0, 0),
                line(3, 2, 0, 0)
            ]
        );
        let warnings = reader.warnings.into_vec();
        // 1e30 is a count (`u64::MAX`), as `read_hits` reads it.
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(warnings[0].contains("line number"), "{warnings:#?}");
        assert!(
            warnings[1].starts_with("2 lines with a negative hit count"),
            "{warnings:#?}"
        );
        let strict = Options {
            strict: true,
            ..Options::default()
        };
        let e = read_all(text, Format::IstanbulJson, strict).err().unwrap();
        assert!(
            matches!(e.kind(), ErrorKind::Invalid(m) if m.contains("line number")),
            "{e}"
        );
        assert_eq!((e.position().line, e.position().column), (2, 25), "{e}");
        assert_eq!(e.format(), Some(Format::IstanbulJson));
    }

    #[test]
    fn llvm_cov_files_declare_their_summaries_and_functions_are_skipped() {
        let text = r#"{"data": [{"files": [
              {"filename": "src/a.rs", "segments": [[1, 2, 3, true, true, false]],
               "branches": [[1, 2, 1, 5, 1, 0, 0, 0, 4]], "expansions": [],
               "summary": {"branches": {"count": 4, "covered": 3, "notcovered": 1, "percent": 75},
                           "functions": {"count": 1, "covered": 1},
                           "lines": {"count": 10, "covered": 8, "percent": 80}}},
              {"filename": "src/b.rs", "summary": {"lines": {"count": 2, "covered": 0}}}],
            "functions": [{"name": "x", "count": 3, "regions": [[1, 2, 3, 4, 5, 6, 7, 8]], "filenames": ["src/a.rs"]}],
            "totals": {"lines": {"count": 12, "covered": 8}, "branches": {"count": 4, "covered": 3}}},
            {"files": [], "totals": {"lines": {"count": 1, "covered": 1}, "branches": {"count": 0, "covered": 0}}}],
          "type": "llvm.coverage.json.export", "version": "2.0.1"}"#;
        let (files, reader) = read_all(text, Format::LlvmCovJson, Options::default()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "src/a.rs");
        assert!(files[0].lines.is_empty());
        assert_eq!(files[0].declared_lines, Some((10, 8)));
        assert_eq!(files[0].declared_branches, Some((4, 3)));
        assert_eq!(files[1].declared_lines, Some((2, 0)));
        assert_eq!(files[1].declared_branches, None);
        let d = reader.declared;
        assert_eq!(
            (
                d.lines_valid,
                d.lines_covered,
                d.branches_valid,
                d.branches_covered
            ),
            (Some(13), Some(9), Some(4), Some(3))
        );
    }

    #[test]
    fn wrong_structure_is_invalid_where_it_is() {
        let mut bad = Vec::new();
        for (format, text, line, column, what) in [
            (
                Format::CoveragePyJson,
                "{\"files\": [1]}",
                1,
                11,
                "files is an array, not an object",
            ),
            (
                Format::CoveragePyJson,
                "{\"files\": {\"a.py\":\n {\"executed_lines\": [1, \"2\"]}}}",
                2,
                25,
                "an element of executed_lines",
            ),
            (
                Format::CoveragePyJson,
                "{\"files\": {\"a.py\": {\"missing_branches\": [3]}}}",
                1,
                42,
                "is a number, not an array",
            ),
            (
                Format::IstanbulJson,
                "{\"a.js\": 3}",
                1,
                10,
                "the entry of \"a.js\" is a number",
            ),
            (
                Format::IstanbulJson,
                "{\"a.js\": {\"s\": {\"0\": [1]}}}",
                1,
                22,
                "s of a.js is an array",
            ),
            (
                Format::LlvmCovJson,
                "{\"data\": {}}",
                1,
                10,
                "data is an object, not an array",
            ),
            (
                Format::LlvmCovJson,
                "{\"data\": [{\"files\": [{\"summary\": {}}]}]}",
                1,
                22,
                "no filename",
            ),
            (Format::LlvmCovJson, "[1]", 1, 1, "the document is an array"),
        ] {
            let e = read_all(text, format, Options::default()).err().unwrap();
            let ok = matches!(e.kind(), ErrorKind::Invalid(m) if m.contains(what))
                && (e.position().line, e.position().column) == (line, column);
            if !ok {
                bad.push(format!("{text}: {e}"));
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }

    #[test]
    fn truncated_and_malformed_reports_fail_with_their_position() {
        let bytes = std::fs::read(sample("coverage-py.json")).unwrap();
        let cut = bytes[..bytes.len() / 2].to_vec();
        let e =
            crate::summarize(std::io::Cursor::new(cut.clone()), &Options::default()).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Truncated(_)), "{e}");
        assert_eq!(e.position().byte_offset, cut.len() as u64, "{e}");
        assert_eq!(e.format(), Some(Format::CoveragePyJson));
        let text =
            "{\"data\": [{\"files\": [{\"filename\": \"a\",\n \"segments\": [[1, 2,, 3]]}]}]}";
        let e = read_all(text, Format::LlvmCovJson, Options::default())
            .err()
            .unwrap();
        assert!(matches!(e.kind(), ErrorKind::Syntax(_)), "{e}");
        assert_eq!((e.position().line, e.position().column), (2, 21), "{e}");
        // Trailing data after the document.
        let e = read_all("{}\n}", Format::IstanbulJson, Options::default())
            .err()
            .unwrap();
        assert!(matches!(e.kind(), ErrorKind::Syntax(_)), "{e}");
        assert_eq!((e.position().line, e.position().column), (2, 1), "{e}");
    }

    /// A document made on the fly: `head`, `count` times `item(i)` joined by commas, `tail`.
    struct Generated<F> {
        tail: Vec<u8>,
        item: F,
        next: usize,
        count: usize,
        pending: Vec<u8>,
        at: usize,
        done: bool,
        produced: u64,
    }

    impl<F: FnMut(usize) -> String> Generated<F> {
        fn new(head: &str, count: usize, item: F, tail: &str) -> Self {
            Generated {
                tail: tail.as_bytes().to_vec(),
                item,
                next: 0,
                count,
                pending: head.as_bytes().to_vec(),
                at: 0,
                done: false,
                produced: 0,
            }
        }
    }

    impl<F: FnMut(usize) -> String + Send> Read for Generated<F> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            while self.at == self.pending.len() {
                self.pending.clear();
                self.at = 0;
                if self.next < self.count {
                    if self.next > 0 {
                        self.pending.push(b',');
                    }
                    let item = (self.item)(self.next);
                    self.pending.extend_from_slice(item.as_bytes());
                    self.next += 1;
                } else if !self.done {
                    self.done = true;
                    self.pending.extend_from_slice(&self.tail);
                } else {
                    return Ok(0);
                }
            }
            let n = out.len().min(self.pending.len() - self.at);
            out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            self.produced += n as u64;
            Ok(n)
        }
    }

    fn stream(
        read: impl Read + Send + 'static,
        format: Format,
    ) -> (CoverageTotals, JsonCoverageReader) {
        let source = Source::open(read, Limits::default()).unwrap();
        let mut reader = JsonCoverageReader::new(source, format, Options::default());
        let mut totals = CoverageTotals::default();
        let mut most_lines = 0;
        while let Some(f) = reader.next_file().unwrap() {
            most_lines = most_lines.max(f.lines.len());
            totals.merge(&f.totals());
        }
        assert!(most_lines <= 1000);
        (totals, reader)
    }

    #[test]
    fn a_50_mb_report_streams_in_small_memory() {
        // llvm-cov: one file whose segments (skipped) make ~50 MB.
        let segments = Generated::new(
            r#"{"data": [{"files": [{"filename": "big.rs", "segments": ["#,
            2_000_000,
            |i| format!("[{i},{},{},true,true,false]", i % 80, i % 3),
            r#"], "summary": {"lines": {"count": 9, "covered": 4}, "branches": {"count": 0, "covered": 0}}}],
               "totals": {"lines": {"count": 9, "covered": 4}}}], "type": "llvm.coverage.json.export"}"#,
        );
        let (totals, reader) = stream(segments, Format::LlvmCovJson);
        assert_eq!((totals.lines_valid, totals.lines_covered), (9, 4));
        assert!(
            reader.json.text_capacity() < 256,
            "{}",
            reader.json.text_capacity()
        );
        // coverage.py: 200 000 files of 10 lines, one at a time.
        let files = Generated::new(
            r#"{"meta": {"format": 3}, "files": {"#,
            200_000,
            |i| {
                format!(
                    r#""pkg/mod_{i}.py": {{"executed_lines": [1, 2, 3, 5, 8, 9], "missing_lines": [4, 6, 7, 10], "excluded_lines": [], "executed_branches": [[3, 4], [3, 5]], "missing_branches": [[9, 10], [9, -1]], "summary": {{"covered_lines": 6}}, "functions": {{}}, "classes": {{}}}}"#
                )
            },
            r#"}, "totals": {"num_statements": 2000000, "covered_lines": 1200000}}"#,
        );
        let (totals, reader) = stream(files, Format::CoveragePyJson);
        assert_eq!(
            (
                totals.lines_valid,
                totals.lines_covered,
                totals.branches_valid,
                totals.branches_covered
            ),
            (2_000_000, 1_200_000, 800_000, 400_000)
        );
        assert!(reader.json.text_capacity() < 256);
        assert_eq!(reader.declared.lines_valid, Some(2_000_000));
    }
}
