//! Exact, streaming readers for the test and coverage reports CI jobs write.
//!
//! `cimetrics-ingest` reads test reports (JUnit XML in every dialect: Surefire, Gradle, pytest,
//! jest, nextest, go-junit-report, ...; TRX; NUnit 3; xUnit.net v2; SonarQube generic test
//! execution) and coverage reports (Cobertura, JaCoCo, LCOV, Clover, Go coverprofiles,
//! SonarQube generic coverage, coverage.py JSON, istanbul's coverage-final.json, `llvm-cov
//! export` JSON), gzipped or not, in UTF-8, UTF-16 or a declared legacy encoding. The format
//! is detected from the content, never from a file name.
//!
//! - [`parse`] reads a whole report into a [`Report`]: [`TestCase`]s with their [`Outcome`]
//!   (retries kept as evidence: [`Outcome::Flaky`] for a test that passed after failing), or
//!   [`FileCoverage`] per source file.
//! - [`summarize`] gives the counts only ([`Summary`]), with memory that does not grow with the
//!   report's size beyond a few bytes per distinct test or source line.
//! - [`open`] gives the streaming form: a [`JunitReader`] that yields one test case at a time,
//!   or a [`CoverageReader`] that yields one file fragment at a time.
//!
//! Errors ([`Error`]) say what and where: line, column, byte offset and element path.
//!
//! # Retries
//!
//! Surefire's, Gradle's and nextest's `<flakyFailure>`/`<flakyError>` make a test
//! [`Outcome::Flaky`]; `<rerunFailure>`/`<rerunError>` are kept as the failed retries of a test
//! that failed. A testcase repeated with the same [`TestId`] is a retry when the attempt before
//! it failed or errored, and the attempts are one test (flaky when the last one passed); after
//! a pass or a skip it is a separate test with the next [`TestId::invocation`] (jest tests that
//! share a title, TestNG data providers, Playwright projects). In a pytest report (the root
//! `<testsuites name="pytest tests">`, or a suite named `pytest`) every repeat is a rerun:
//! pytest-rerunfailures writes failed attempts as plain testcases, often childless.
//!
//! ```
//! let xml = br#"<testsuite name="cart">
//!   <testcase classname="Cart" name="adds" time="0.5"/>
//!   <testcase classname="Cart" name="pays" time="1.5">
//!     <flakyFailure message="timeout"/>
//!   </testcase>
//!   <testcase classname="Cart" name="refunds"><skipped/></testcase>
//! </testsuite>"#;
//! let summary = cimetrics_ingest::summarize(&xml[..], &Default::default())?;
//! let tests = summary.tests.unwrap();
//! assert_eq!((tests.total, tests.passed, tests.skipped, tests.flaky), (3, 2, 1, 1));
//! assert_eq!(tests.duration_seconds, 2.0);
//!
//! // One odd value is kept with a warning; damage to the document is an error, with its place.
//! let odd = cimetrics_ingest::parse(&b"<testsuite><testcase name=\"x\" time=\"abc\"/></testsuite>"[..])?;
//! assert!(odd.warnings[0].contains("time=\"abc\""));
//! let err = cimetrics_ingest::parse(&b"<testsuite><testcase name=\"x\" name=\"y\"/></testsuite>"[..])
//!     .unwrap_err();
//! assert_eq!(err.to_string(),
//!     "junit: testsuite/testcase[1]/@name (line 1, column 12): malformed input: the attribute `name` is given twice");
//! # Ok::<(), cimetrics_ingest::Error>(())
//! ```

#![warn(missing_docs)]

mod clover;
mod cobertura;
mod coverage;
mod detect;
mod error;
mod input;
mod jacoco;
mod json;
mod jsoncov;
mod junit;
mod lines;
mod merge;
mod model;
mod quality;
mod sonar;
mod stream;
mod warnings;
mod xml;
mod xmltests;

use std::io::Read;

pub use error::{Error, ErrorKind, Position, Result};
pub use input::{Limits, Options};
pub use junit::{JunitReader, parse_duration};
pub use model::{
    Attempt, AttemptKind, Content, CoverageReport, CoverageTotals, FileCoverage, Format,
    IssueReport, LineCoverage, Outcome, Report, Status, Summary, TestCase, TestCounts, TestId,
    TestReport,
};
pub use quality::{
    Category, CategoryCounts, Issue, IssueCounts, IssueReader, Severity, SeverityCounts,
    fingerprint,
};
pub use stream::{MergedTests, TestPlan, plan_tests};

use coverage::{CoverageCounter, CoverageMerger, DeclaredTotals, HitMerge};
use input::Source;
use merge::{TestCounter, TestMerger};
use xml::XmlFragments;

/// A report opened for streaming: tests or coverage, depending on what was detected.
pub enum ReportReader {
    /// A test report.
    Tests(Box<TestReader>),
    /// A coverage report.
    Coverage(Box<CoverageReader>),
    /// A code-quality report.
    Issues(Box<IssueReader>),
}

impl ReportReader {
    /// The detected format.
    pub fn format(&self) -> Format {
        match self {
            ReportReader::Tests(t) => t.format(),
            ReportReader::Coverage(c) => c.format(),
            ReportReader::Issues(i) => i.format(),
        }
    }
}

enum TestInner {
    Junit(JunitReader),
    Other(xmltests::XmlTestReader),
}

/// Streams the tests of a test report, one test case at a time (JUnit XML, TRX, NUnit 3,
/// xUnit.net v2, SonarQube generic test execution).
pub struct TestReader {
    inner: TestInner,
    format: Format,
}

impl TestReader {
    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Drops messages, stack traces and outputs (see [`JunitReader::without_details`]).
    pub fn without_details(self) -> Self {
        let inner = match self.inner {
            TestInner::Junit(r) => TestInner::Junit(r.without_details()),
            TestInner::Other(r) => TestInner::Other(r.without_details()),
        };
        TestReader { inner, ..self }
    }

    /// The next test case, or `None` at the end of a well-formed report.
    ///
    /// # Errors
    /// Malformed input, with its position.
    pub fn next_case(&mut self) -> Result<Option<TestCase>> {
        let mut one = Vec::with_capacity(1);
        self.next_case_into(&mut one)?;
        Ok(one.pop())
    }

    pub(crate) fn next_case_into(&mut self, sink: &mut impl junit::CaseSink) -> Result<bool> {
        match &mut self.inner {
            TestInner::Junit(r) => r.next_case_into(sink),
            TestInner::Other(r) => r.next_case_into(sink),
        }
    }

    pub(crate) fn error_here(&self, kind: ErrorKind) -> Error {
        match &self.inner {
            TestInner::Junit(r) => r.error_here(kind),
            TestInner::Other(r) => r.error_here(kind),
        }
    }

    pub(crate) fn repeats(&self) -> merge::Repeats {
        match &self.inner {
            TestInner::Junit(r) => r.repeats(),
            TestInner::Other(r) => r.repeats(),
        }
    }

    pub(crate) fn finish(self, counts: &TestCounts) -> Vec<String> {
        match self.inner {
            TestInner::Junit(r) => r.finish(counts),
            TestInner::Other(r) => r.finish(counts),
        }
    }
}

impl Iterator for TestReader {
    type Item = Result<TestCase>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_case().transpose()
    }
}

/// Opens a report for streaming: detects compression, encoding and format from the content.
///
/// Any `Read` will do; a report already in memory as a `&'static [u8]` or an
/// `io::Cursor<Vec<u8>>` is read where it is, without copying it through a buffer, when it
/// is plain UTF-8 no larger than [`Limits::max_token_bytes`].
///
/// # Errors
/// The input cannot be read, its encoding is unsupported, or it is none of the formats.
pub fn open(read: impl Read + Send + 'static, options: &Options) -> Result<ReportReader> {
    let mut source = Source::open(read, options.limits)?;
    let format = match options.format {
        Some(format) => format,
        None => detect::detect(source.peek_prefix()?)?,
    };
    Ok(match format {
        Format::Junit => ReportReader::Tests(Box::new(TestReader {
            inner: TestInner::Junit(JunitReader::new(source, *options)),
            format,
        })),
        f if f.is_test_report() => ReportReader::Tests(Box::new(TestReader {
            inner: TestInner::Other(xmltests::XmlTestReader::new(source, f, *options)),
            format,
        })),
        f if f.is_issue_report() => {
            ReportReader::Issues(Box::new(IssueReader::new(source, f, *options)))
        }
        other => ReportReader::Coverage(Box::new(CoverageReader::new(source, other, *options))),
    })
}

/// Detects the format of a report from its first bytes (gzip and encodings handled).
///
/// # Errors
/// As [`open`].
pub fn detect(read: impl Read + Send + 'static) -> Result<Format> {
    open(read, &Options::default()).map(|r| r.format())
}

/// Reads a whole report with the default [`Options`].
///
/// # Errors
/// Any problem of the input, with its position; see [`ErrorKind`].
pub fn parse(read: impl Read + Send + 'static) -> Result<Report> {
    parse_with(read, &Options::default())
}

/// Reads a whole report.
///
/// # Errors
/// Any problem of the input, with its position; see [`ErrorKind`].
pub fn parse_with(read: impl Read + Send + 'static, options: &Options) -> Result<Report> {
    match open(read, options)? {
        ReportReader::Tests(reader) => {
            let format = reader.format();
            let mut reader = *reader;
            if options.outcomes_only {
                reader = reader.without_details();
            }
            let limit = options.limits.max_testcases;
            let mut merger = TestMerger::default().with_limit(limit);
            // The merger takes every test as it is read: one call reads the whole report,
            // unless the report holds more testcases than the limit.
            while reader.next_case_into(&mut merger)? {
                if merger.over_limit() {
                    return Err(reader.error_here(ErrorKind::Limit(format!(
                        "more than {limit} testcases (max_testcases)"
                    ))));
                }
            }
            let (tests, counts) = merger.finish();
            let most = options.limits.max_attempts_per_test;
            if let Some(t) = tests.iter().find(|t| t.attempts > most) {
                return Err(reader.error_here(ErrorKind::Limit(format!(
                    "test {:?} has {} attempts, more than {most} (max_attempts_per_test)",
                    t.id.name, t.attempts
                ))));
            }
            let warnings = strict_check(options, reader.finish(&counts))?;
            Ok(Report {
                format,
                content: Content::Tests(TestReport { tests, counts }),
                warnings,
            })
        }
        ReportReader::Coverage(mut reader) => {
            let format = reader.format();
            let how = match format {
                Format::Lcov | Format::Go => HitMerge::Sum,
                _ => HitMerge::Max,
            };
            let mut merger = CoverageMerger::new(how);
            while let Some(fragment) = reader.next_file()? {
                merger.push(fragment);
            }
            let (files, totals) = merger.finish();
            let warnings = strict_check(options, (*reader).finish(&totals))?;
            Ok(Report {
                format,
                content: Content::Coverage(CoverageReport { files, totals }),
                warnings,
            })
        }
        ReportReader::Issues(mut reader) => {
            let format = reader.format();
            let mut counter = quality::model::IssueCounter::default();
            let mut issues = Vec::new();
            // The same fingerprint again (one rule, file and message on two lines: `line too
            // long (107 > 79)` and `(95 > 79)` read alike) is the next occurrence: `#2`, `#3`,
            // in document order, so each keeps its identity when code moves.
            let mut seen: std::collections::HashMap<String, u32> = Default::default();
            while let Some(mut issue) = reader.next_issue()? {
                counter.push(&issue);
                let n = seen.entry(issue.fingerprint.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    issue.fingerprint = format!("{}#{n}", issue.fingerprint);
                }
                issues.push(issue);
            }
            let (score, statements, warnings) = (*reader).finish();
            Ok(Report {
                format,
                content: Content::Issues(IssueReport {
                    issues,
                    counts: counter.finish(score, statements),
                }),
                warnings: strict_check(options, warnings)?,
            })
        }
    }
}

/// Reads a report's counts only, in memory that stays small whatever the report's size.
///
/// # Errors
/// Any problem of the input, with its position; see [`ErrorKind`].
pub fn summarize(read: impl Read + Send + 'static, options: &Options) -> Result<Summary> {
    match open(read, options)? {
        ReportReader::Tests(reader) => {
            let format = reader.format();
            let mut reader = reader.without_details();
            let mut counter = TestCounter::default();
            // The counter takes every test as it is read: one call reads the whole report.
            while reader.next_case_into(&mut counter)? {}
            let counts = counter.finish();
            Ok(Summary {
                format,
                tests: Some(counts),
                coverage: None,
                issues: None,
                warnings: strict_check(options, reader.finish(&counts))?,
            })
        }
        ReportReader::Coverage(mut reader) => {
            let mut counter = CoverageCounter::default();
            while let Some(fragment) = reader.next_file()? {
                counter.push(&fragment);
            }
            let totals = counter.finish();
            let format = reader.format();
            Ok(Summary {
                format,
                tests: None,
                coverage: Some(totals),
                issues: None,
                warnings: strict_check(options, (*reader).finish(&totals))?,
            })
        }
        ReportReader::Issues(reader) => {
            let format = reader.format();
            let mut reader = (*reader).without_fingerprints();
            let counter = reader.count_into(quality::model::IssueCounter::default())?;
            let (score, statements, warnings) = reader.finish();
            Ok(Summary {
                format,
                tests: None,
                coverage: None,
                issues: Some(counter.finish(score, statements)),
                warnings: strict_check(options, warnings)?,
            })
        }
    }
}

/// The warnings, or in strict mode the first of them as an error. (Odd values are refused
/// where they are read; what is left here is what only the end of a report shows, such as
/// declared totals that disagree with the content.)
fn strict_check(options: &Options, warnings: Vec<String>) -> Result<Vec<String>> {
    match warnings.first() {
        Some(first) if options.strict => Err(Error::new(
            ErrorKind::Invalid(format!("{first} (refused in strict mode)")),
            Position::START,
        )),
        _ => Ok(warnings),
    }
}

enum CoverageInner {
    Cobertura(cobertura::CoberturaReader),
    Jacoco(jacoco::JacocoReader),
    Clover(clover::CloverReader),
    Lcov(lines::LcovReader),
    Go(lines::GoReader),
    Sonar(sonar::SonarCoverageReader),
    Json(jsoncov::JsonCoverageReader),
}

/// Streams the file fragments of a coverage report.
///
/// A fragment is the coverage of one source file as one element of the report holds it (a
/// Cobertura `<class>`, a JaCoCo `<sourcefile>`, an LCOV record...). A file can come in
/// several fragments; [`parse`] merges them.
pub struct CoverageReader {
    inner: CoverageInner,
    format: Format,
}

impl CoverageReader {
    fn new(source: Source, format: Format, options: Options) -> Self {
        let inner = match format {
            Format::Cobertura => {
                CoverageInner::Cobertura(cobertura::CoberturaReader::new(source, options))
            }
            Format::Jacoco => CoverageInner::Jacoco(jacoco::JacocoReader::new(source, options)),
            Format::Clover => CoverageInner::Clover(clover::CloverReader::new(source, options)),
            Format::Lcov => CoverageInner::Lcov(lines::LcovReader::new(source, options)),
            Format::SonarCoverage => {
                CoverageInner::Sonar(sonar::SonarCoverageReader::new(source, options))
            }
            Format::CoveragePyJson | Format::IstanbulJson | Format::LlvmCovJson => {
                CoverageInner::Json(jsoncov::JsonCoverageReader::new(source, format, options))
            }
            _ => CoverageInner::Go(lines::GoReader::new(source, options)),
        };
        CoverageReader { inner, format }
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next fragment, or `None` at the end of a well-formed report.
    ///
    /// # Errors
    /// Malformed input, with its position.
    pub fn next_file(&mut self) -> Result<Option<FileCoverage>> {
        match &mut self.inner {
            CoverageInner::Cobertura(r) => r.next_file(),
            CoverageInner::Jacoco(r) => r.next_file(),
            CoverageInner::Clover(r) => r.next_file(),
            CoverageInner::Lcov(r) => r.next_file(),
            CoverageInner::Go(r) => r.next_file(),
            CoverageInner::Sonar(r) => r.next_file(),
            CoverageInner::Json(r) => r.next_file(),
        }
    }

    /// The warnings, including the check of declared totals against `computed`.
    fn finish(self, computed: &CoverageTotals) -> Vec<String> {
        let (declared, warnings, what): (DeclaredTotals, warnings::Warnings, &str) = match self
            .inner
        {
            CoverageInner::Cobertura(r) => {
                (r.base.declared, r.base.warnings, "the root <coverage>")
            }
            CoverageInner::Jacoco(r) => (r.base.declared, r.base.warnings, "the report's counters"),
            CoverageInner::Clover(r) => (r.base.declared, r.base.warnings, "the project <metrics>"),
            CoverageInner::Lcov(r) => (r.declared, r.warnings, "the LF/LH/BRF/BRH records"),
            CoverageInner::Go(r) => (r.declared, r.warnings, "the profile"),
            CoverageInner::Sonar(r) => (r.base.declared, r.base.warnings, "the report"),
            CoverageInner::Json(r) => (r.declared, r.warnings, "the report's totals"),
        };
        let mut warnings = warnings;
        if let Some(w) = declared.check(what, computed) {
            warnings.push(w);
        }
        warnings.into_vec()
    }
}

impl Iterator for CoverageReader {
    type Item = Result<FileCoverage>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_file().transpose()
    }
}
