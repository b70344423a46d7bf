//! The typed models every parser produces.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The report formats this crate reads. Detected from content, never from a file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Format {
    /// JUnit XML, in any of its dialects.
    #[serde(rename = "junit")]
    Junit,
    /// Visual Studio test results (`.trx`: `dotnet test --logger trx`, vstest, mstest).
    #[serde(rename = "trx")]
    Trx,
    /// NUnit 3 result XML (`<test-run>`).
    #[serde(rename = "nunit")]
    Nunit,
    /// xUnit.net v2 XML (`<assemblies>`).
    #[serde(rename = "xunit")]
    Xunit,
    /// SonarQube generic test execution (`<testExecutions version="1">`).
    #[serde(rename = "sonarqube-tests")]
    SonarTests,
    /// Cobertura XML (coverage.py, gcovr, istanbul, coverlet, ...).
    #[serde(rename = "cobertura")]
    Cobertura,
    /// JaCoCo XML.
    #[serde(rename = "jacoco")]
    Jacoco,
    /// LCOV tracefile.
    #[serde(rename = "lcov")]
    Lcov,
    /// Clover XML.
    #[serde(rename = "clover")]
    Clover,
    /// Go coverprofile (`mode: set|count|atomic`).
    #[serde(rename = "go")]
    Go,
    /// SonarQube generic coverage (`<coverage version="1">`: gcovr `--sonarqube`, ...).
    #[serde(rename = "sonarqube-coverage")]
    SonarCoverage,
    /// coverage.py's `coverage json`.
    #[serde(rename = "coveragepy-json")]
    CoveragePyJson,
    /// istanbul's `coverage-final.json` (jest, nyc, vitest).
    #[serde(rename = "istanbul-json")]
    IstanbulJson,
    /// `llvm-cov export` JSON (cargo-llvm-cov `--json`).
    #[serde(rename = "llvm-cov-json")]
    LlvmCovJson,
    /// SARIF 2.1.0 (CodeQL, semgrep, ruff, ESLint, bandit, clippy-sarif, trivy, ...).
    #[serde(rename = "sarif")]
    Sarif,
    /// Code Climate JSON, also GitLab Code Quality (ruff `--output-format gitlab`, ...).
    #[serde(rename = "codeclimate")]
    CodeClimate,
    /// Checkstyle XML (Checkstyle, ESLint, ktlint, detekt, PHP_CodeSniffer, ...).
    #[serde(rename = "checkstyle")]
    Checkstyle,
    /// pylint `--output-format=json2`.
    #[serde(rename = "pylint-json2")]
    PylintJson2,
    /// ESLint `-f json`.
    #[serde(rename = "eslint-json")]
    EslintJson,
    /// ruff `--output-format json`.
    #[serde(rename = "ruff-json")]
    RuffJson,
    /// bandit `-f json`.
    #[serde(rename = "bandit-json")]
    BanditJson,
    /// `path:line:col: CODE message` (flake8, ruff concise, pycodestyle) and mypy's text; read
    /// only when named ([`crate::Options::format`]).
    #[serde(rename = "lint-text")]
    LintText,
}

impl Format {
    /// The lowercase name used in JSON and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Junit => "junit",
            Format::Trx => "trx",
            Format::Nunit => "nunit",
            Format::Xunit => "xunit",
            Format::SonarTests => "sonarqube-tests",
            Format::Cobertura => "cobertura",
            Format::Jacoco => "jacoco",
            Format::Lcov => "lcov",
            Format::Clover => "clover",
            Format::Go => "go",
            Format::SonarCoverage => "sonarqube-coverage",
            Format::CoveragePyJson => "coveragepy-json",
            Format::IstanbulJson => "istanbul-json",
            Format::LlvmCovJson => "llvm-cov-json",
            Format::Sarif => "sarif",
            Format::CodeClimate => "codeclimate",
            Format::Checkstyle => "checkstyle",
            Format::PylintJson2 => "pylint-json2",
            Format::EslintJson => "eslint-json",
            Format::RuffJson => "ruff-json",
            Format::BanditJson => "bandit-json",
            Format::LintText => "lint-text",
        }
    }

    /// The format of a name ([`Format::name`]).
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Every format, in the order of the README's table.
    pub const ALL: [Format; 22] = [
        Format::Junit,
        Format::Trx,
        Format::Nunit,
        Format::Xunit,
        Format::SonarTests,
        Format::Cobertura,
        Format::Jacoco,
        Format::Lcov,
        Format::Clover,
        Format::Go,
        Format::SonarCoverage,
        Format::CoveragePyJson,
        Format::IstanbulJson,
        Format::LlvmCovJson,
        Format::Sarif,
        Format::CodeClimate,
        Format::Checkstyle,
        Format::PylintJson2,
        Format::EslintJson,
        Format::RuffJson,
        Format::BanditJson,
        Format::LintText,
    ];

    /// Whether this format carries code-quality issues.
    pub fn is_issue_report(self) -> bool {
        matches!(
            self,
            Format::Sarif
                | Format::CodeClimate
                | Format::Checkstyle
                | Format::PylintJson2
                | Format::EslintJson
                | Format::RuffJson
                | Format::BanditJson
                | Format::LintText
        )
    }

    /// Whether this format carries test results.
    pub fn is_test_report(self) -> bool {
        matches!(
            self,
            Format::Junit | Format::Trx | Format::Nunit | Format::Xunit | Format::SonarTests
        )
    }
}

/// What makes a test the same test across attempts, shards and builds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TestId {
    /// The innermost enclosing `<testsuite>`'s name (empty when there is none).
    pub suite: Arc<str>,
    /// `classname`, when given (shared by the tests of one class, as `suite` is).
    pub classname: Option<Arc<str>>,
    /// `name`.
    pub name: String,
    /// `file`, when given.
    pub file: Option<String>,
    /// 0 for the first test with this identity in a report; 1, 2, ... for later ones that are
    /// separate tests rather than retries (a parameterised test whose parameters do not show
    /// in its name, one test run for several browser projects); see "Retries" in the crate docs.
    #[serde(default)]
    pub invocation: u32,
}

impl TestId {
    /// Splits a parameterised test name into its base name and its parameter id:
    /// `test_add[1-2]` → (`test_add`, `Some("1-2")`), `shouldWork(int)[3]` → (`shouldWork(int)`,
    /// `Some("3")`), `plain` → (`plain`, `None`). History keyed on the base name survives a
    /// change of parameter ids.
    pub fn split_parameters(&self) -> (&str, Option<&str>) {
        let name = self.name.as_str();
        if let Some(stripped) = name.strip_suffix(']')
            && let Some(open) = stripped.rfind('[')
            && open > 0
        {
            return (&name[..open], Some(&stripped[open + 1..]));
        }
        (name, None)
    }
}

/// Whether an attempt failed an assertion or broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    /// An assertion failed (`<failure>`, `<flakyFailure>`, `<rerunFailure>`).
    Failure,
    /// The test broke (`<error>`, `<flakyError>`, `<rerunError>`).
    Error,
}

/// One failed run of a test: a `<failure>`, `<error>`, or one of Surefire's retry elements.
///
/// Texts longer than the configured cap end with a `…[truncated N bytes]` marker.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Attempt {
    /// Failure or error.
    pub kind: Option<AttemptKind>,
    /// The `message` attribute.
    pub message: Option<String>,
    /// The `type` attribute (often the exception class).
    pub type_name: Option<String>,
    /// The element's text (usually a stack trace).
    pub details: Option<String>,
    /// The attempt's own `time`, when the tool records one.
    pub duration_seconds: Option<f64>,
}

/// The final outcome of a test, carrying its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Passed at the first attempt.
    Passed,
    /// Passed in the end after at least one failed attempt. Counted as passed, and as flaky.
    Flaky {
        /// The attempts that failed before the passing one.
        failed_attempts: Vec<Attempt>,
    },
    /// Failed (an assertion) at the last attempt.
    Failed {
        /// Every failure recorded, in document order: the test's own `<failure>` elements,
        /// then its failed reruns.
        failures: Vec<Attempt>,
    },
    /// Broke at the last attempt (or failed and broke in the same run).
    Errored {
        /// Every failure and error recorded, in document order, then its failed reruns.
        failures: Vec<Attempt>,
    },
    /// Not run.
    Skipped {
        /// The reason given, if any.
        message: Option<String>,
    },
}

impl Outcome {
    /// The plain status, without evidence.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Passed | Outcome::Flaky { .. } => Status::Passed,
            Outcome::Failed { .. } => Status::Failed,
            Outcome::Errored { .. } => Status::Errored,
            Outcome::Skipped { .. } => Status::Skipped,
        }
    }

    /// Whether the test passed after failing.
    pub fn is_flaky(&self) -> bool {
        matches!(self, Outcome::Flaky { .. })
    }
}

/// A test's final status. `Flaky` is not a status: a flaky test passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Passed (perhaps after retries).
    Passed,
    /// An assertion failed.
    Failed,
    /// The test broke.
    Errored,
    /// Not run.
    Skipped,
}

/// One test with its final outcome: a `<testcase>` element, or several of them merged when a
/// report repeats a test (same [`TestId`]) for its retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// Identity.
    pub id: TestId,
    /// The final outcome and its evidence.
    pub outcome: Outcome,
    /// How many times the test ran (1 + retries). Skipped tests count one attempt.
    pub attempts: u32,
    /// Sum of the `time` of its `<testcase>` elements, in seconds, when any was given.
    pub duration_seconds: Option<f64>,
    /// `line`, when given.
    pub line: Option<u32>,
    /// `<system-out>` of the testcase (capped).
    pub system_out: Option<String>,
    /// `<system-err>` of the testcase (capped).
    pub system_err: Option<String>,
}

/// Counts over the tests of one or more reports.
///
/// `total = passed + failed + errored + skipped`; `flaky` is part of `passed`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TestCounts {
    /// Distinct tests.
    pub total: u64,
    /// Tests whose final outcome is a pass (flaky ones included).
    pub passed: u64,
    /// Tests whose final outcome is a failed assertion.
    pub failed: u64,
    /// Tests whose final outcome is an error.
    pub errored: u64,
    /// Tests not run.
    pub skipped: u64,
    /// Tests that passed after at least one failed attempt.
    pub flaky: u64,
    /// Sum of the tests' times, in seconds.
    pub duration_seconds: f64,
    /// The same sum in whole nanoseconds, so that adding a million times stays exact.
    #[serde(skip)]
    duration_nanos: u128,
}

impl TestCounts {
    /// Adds one test with this status.
    pub fn add(&mut self, status: Status, flaky: bool, duration: Option<f64>) {
        self.total += 1;
        match status {
            Status::Passed => self.passed += 1,
            Status::Failed => self.failed += 1,
            Status::Errored => self.errored += 1,
            Status::Skipped => self.skipped += 1,
        }
        if flaky {
            self.flaky += 1;
        }
        self.add_duration(duration.unwrap_or(0.0));
    }

    fn add_duration(&mut self, seconds: f64) {
        // Durations are finite and non-negative by the time they get here; clamp anyway.
        let nanos = (seconds.max(0.0) * 1e9).round();
        // Through u64 while it fits, as in `seconds_of`.
        let nanos = if nanos < u64::MAX as f64 {
            u128::from(nanos as u64)
        } else {
            nanos as u128
        };
        self.duration_nanos = self.duration_nanos.saturating_add(nanos);
        self.duration_seconds = seconds_of(self.duration_nanos);
    }

    /// Takes one test with this status out again (used when a later attempt replaces it).
    pub(crate) fn remove(&mut self, status: Status, flaky: bool) {
        self.total -= 1;
        match status {
            Status::Passed => self.passed -= 1,
            Status::Failed => self.failed -= 1,
            Status::Errored => self.errored -= 1,
            Status::Skipped => self.skipped -= 1,
        }
        if flaky {
            self.flaky -= 1;
        }
    }

    /// Adds the counts of another set of tests (for different reports, e.g. shards).
    pub fn merge(&mut self, other: &TestCounts) {
        self.total = self.total.saturating_add(other.total);
        self.passed = self.passed.saturating_add(other.passed);
        self.failed = self.failed.saturating_add(other.failed);
        self.errored = self.errored.saturating_add(other.errored);
        self.skipped = self.skipped.saturating_add(other.skipped);
        self.flaky = self.flaky.saturating_add(other.flaky);
        let other_nanos = if other.duration_nanos == 0 {
            (other.duration_seconds.max(0.0) * 1e9).round() as u128
        } else {
            other.duration_nanos
        };
        self.duration_nanos = self.duration_nanos.saturating_add(other_nanos);
        self.duration_seconds = seconds_of(self.duration_nanos);
    }
}

/// Whole nanoseconds as seconds; through `u64` while they fit (always, short of 584 years):
/// converting a `u128` to `f64` takes a software routine, and this runs once per test.
fn seconds_of(nanos: u128) -> f64 {
    match u64::try_from(nanos) {
        Ok(nanos) => nanos as f64 / 1e9,
        Err(_) => nanos as f64 / 1e9,
    }
}

/// One measured line of a source file.
///
/// Line 0 is not a line: it holds the branches a report places on lines it measures no line
/// on (an LCOV `BRDA` without a `DA`), which count as branches and not as a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineCoverage {
    /// 1-based line number (0: see above).
    pub line: u32,
    /// Times the line ran.
    pub hits: u64,
    /// Branch outcomes on this line that were taken.
    pub branches_covered: u32,
    /// Branch outcomes on this line (0 when the line has no branch).
    pub branches_total: u32,
}

/// The coverage of one source file, its lines sorted and distinct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileCoverage {
    /// The path as the report gives it (with the package prepended for JaCoCo).
    pub path: String,
    /// Measured lines, sorted by line number, each once.
    pub lines: Vec<LineCoverage>,
    /// Line totals the report declares for this file when it carries no per-line data
    /// (LCOV `LF`/`LH` without `DA`, JaCoCo counters without `<line>`): (valid, covered).
    pub declared_lines: Option<(u64, u64)>,
    /// Branch totals declared the same way: (valid, covered).
    pub declared_branches: Option<(u64, u64)>,
}

impl FileCoverage {
    /// This file's totals: from its lines, or from what it declares when it has no lines.
    pub fn totals(&self) -> CoverageTotals {
        let mut t = CoverageTotals::default();
        for l in &self.lines {
            t.lines_valid += u64::from(l.line > 0);
            t.lines_covered += u64::from(l.line > 0 && l.hits > 0);
            t.branches_valid += u64::from(l.branches_total);
            t.branches_covered += u64::from(l.branches_covered.min(l.branches_total));
        }
        t.or_declared(self.declared_lines, self.declared_branches)
    }
}

/// Coverage totals. Rates are covered/valid, or `None` when nothing was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CoverageTotals {
    /// Distinct measured lines, summed over files.
    pub lines_valid: u64,
    /// Those that ran at least once.
    pub lines_covered: u64,
    /// Branch outcomes, summed over lines.
    pub branches_valid: u64,
    /// Those taken at least once.
    pub branches_covered: u64,
}

impl CoverageTotals {
    /// `lines_covered / lines_valid`, or `None` when no line was measured (never NaN).
    pub fn line_rate(&self) -> Option<f64> {
        ratio(self.lines_covered, self.lines_valid)
    }

    /// `branches_covered / branches_valid`, or `None` when no branch was measured.
    pub fn branch_rate(&self) -> Option<f64> {
        ratio(self.branches_covered, self.branches_valid)
    }

    /// These totals, with a file's declared (valid, covered) totals standing in where nothing
    /// was measured line by line.
    pub(crate) fn or_declared(
        mut self,
        declared_lines: Option<(u64, u64)>,
        declared_branches: Option<(u64, u64)>,
    ) -> CoverageTotals {
        if self.lines_valid == 0
            && let Some((valid, covered)) = declared_lines
        {
            self.lines_valid = valid;
            self.lines_covered = covered.min(valid);
        }
        if self.branches_valid == 0
            && let Some((valid, covered)) = declared_branches
        {
            self.branches_valid = valid;
            self.branches_covered = covered.min(valid);
        }
        self
    }

    /// Adds another file's or report's totals.
    pub fn merge(&mut self, other: &CoverageTotals) {
        self.lines_valid = self.lines_valid.saturating_add(other.lines_valid);
        self.lines_covered = self.lines_covered.saturating_add(other.lines_covered);
        self.branches_valid = self.branches_valid.saturating_add(other.branches_valid);
        self.branches_covered = self.branches_covered.saturating_add(other.branches_covered);
    }
}

fn ratio(covered: u64, valid: u64) -> Option<f64> {
    (valid > 0).then(|| covered as f64 / valid as f64)
}

/// A whole test report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TestReport {
    /// Distinct tests in document order of their first appearance.
    pub tests: Vec<TestCase>,
    /// Counts over `tests`.
    pub counts: TestCounts,
}

/// A whole coverage report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CoverageReport {
    /// Files, in document order of their first appearance.
    pub files: Vec<FileCoverage>,
    /// Totals over `files`.
    pub totals: CoverageTotals,
}

/// A whole code-quality report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IssueReport {
    /// Issues in document order, suppressed ones included.
    pub issues: Vec<crate::Issue>,
    /// Counts over `issues`.
    pub counts: crate::IssueCounts,
}

impl IssueReport {
    /// Names the tool of the issues whose report did not say (`--tool`): lint text, a
    /// Checkstyle file without sources.
    pub fn name_tool(&mut self, tool: &str) {
        let mut named = false;
        for issue in self.issues.iter_mut().filter(|i| i.tool.is_empty()) {
            issue.tool = tool.to_owned();
            named = true;
        }
        if named && self.issues.iter().all(|i| i.tool == tool) {
            self.counts.tool = Some(tool.to_owned());
        }
    }
}

/// What a report holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Content {
    /// Test results.
    Tests(TestReport),
    /// Coverage.
    Coverage(CoverageReport),
    /// Code-quality issues.
    Issues(IssueReport),
}

/// A parsed report: its format, content and the warnings raised while reading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The detected format.
    pub format: Format,
    /// Tests or coverage.
    pub content: Content,
    /// Things that were odd but not wrong (e.g. declared totals that disagree with the data).
    pub warnings: Vec<String>,
}

/// The numbers of a report, without the detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The detected format.
    pub format: Format,
    /// For test reports.
    pub tests: Option<TestCounts>,
    /// For coverage reports.
    pub coverage: Option<CoverageTotals>,
    /// For code-quality reports.
    pub issues: Option<crate::IssueCounts>,
    /// Warnings raised while reading.
    pub warnings: Vec<String>,
}
