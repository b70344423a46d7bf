//! The typed answers of the [`questions`](crate::questions): plain structs with named
//! fields, the public JSON contract (serde) and its schema (utoipa). The HTTP API writes them
//! as JSON or CSV, the command line prints them, charts and the dashboard draw them.
//!
//! Conventions, everywhere:
//! - times are RFC 3339 UTC strings (`2026-03-02T10:00:00Z`), window starts local dates;
//! - builds are named by the CI's build id, as a string; internal row ids never appear;
//! - a test is a [`TestRef`], its `id` a stable string usable in a URL;
//! - rates are fractions (0..=1), `null` when nothing was measured; `_pp` values are
//!   percentage points; `_s` values seconds.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// Milliseconds since the epoch as a UTC time (`None` out of chrono's range).
pub(crate) fn time(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// A test's final outcomes counted in a build (or a set of reports).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct TestTotals {
    /// Distinct tests: `passed + failed + errored + skipped`.
    pub total: u64,
    /// Passed (flaky ones included).
    pub passed: u64,
    /// Failed an assertion.
    pub failed: u64,
    /// Broke.
    pub errored: u64,
    /// Did not run.
    pub skipped: u64,
    /// Passed after a failed attempt (part of `passed`).
    pub flaky: u64,
    /// `passed / (passed + failed + errored)`; null when nothing ran.
    pub pass_rate: Option<f64>,
}

impl TestTotals {
    /// From counts in the store's order: total, passed, failed, errored, skipped, flaky.
    pub fn from_counts([total, passed, failed, errored, skipped, flaky]: [u64; 6]) -> Self {
        TestTotals {
            total,
            passed,
            failed,
            errored,
            skipped,
            flaky,
            pass_rate: cimetrics_metrics::pass_rate_of(passed, failed, errored),
        }
    }
}

/// A build's coverage, with its change since the previous complete build of its branch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoverageSummary {
    /// Measured lines.
    pub lines_valid: u64,
    /// Lines run at least once.
    pub lines_covered: u64,
    /// `lines_covered / lines_valid`; null when nothing was measured.
    pub line_rate: Option<f64>,
    /// Branch outcomes.
    pub branches_valid: u64,
    /// Branch outcomes taken.
    pub branches_covered: u64,
    /// `branches_covered / branches_valid`; null without branches.
    pub branch_rate: Option<f64>,
    /// `line_rate` minus that of `previous_build`, in percentage points; null for a
    /// branch's first build with coverage.
    pub delta_pp: Option<f64>,
    /// The previous complete build with coverage on the same branch (CI id).
    pub previous_build: Option<String>,
}

impl CoverageSummary {
    /// From totals (lines valid, covered, branches valid, covered), without a comparison.
    pub fn from_totals(
        [lines_valid, lines_covered, branches_valid, branches_covered]: [u64; 4],
    ) -> Self {
        CoverageSummary {
            lines_valid,
            lines_covered,
            line_rate: cimetrics_metrics::ratio(lines_covered, lines_valid),
            branches_valid,
            branches_covered,
            branch_rate: cimetrics_metrics::ratio(branches_covered, branches_valid),
            delta_pp: None,
            previous_build: None,
        }
    }
}

/// Shards a build expects and has received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Shards {
    /// Expected (1 unless the CI said otherwise).
    pub expected: u32,
    /// Distinct shards with at least one report.
    pub received: u32,
}

/// Where the build ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ci {
    /// `github`, `gitlab`, `jenkins`, ... as the uploader said.
    pub provider: Option<String>,
    /// A link to the build on the CI.
    pub url: Option<String>,
}

/// One build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Build {
    /// The CI's build id.
    pub id: String,
    /// The CI's build number.
    pub number: Option<i64>,
    /// Branch ("" when none was given).
    pub branch: String,
    /// Commit SHA ("" when none was given).
    pub commit: String,
    /// `passed`, `failed`, `cancelled`, or `running` until the build is complete.
    pub status: String,
    /// Who said the status: `ci` (stated by the CI) or `tests` (derived from the tests);
    /// null while running.
    pub status_source: Option<String>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished (when it completed here, if the CI did not say).
    pub finished_at: Option<DateTime<Utc>>,
    /// Wall time.
    pub duration_seconds: Option<f64>,
    /// All shards in, or finalized.
    pub complete: bool,
    /// Shards expected and received.
    pub shards: Shards,
    /// The CI it ran on.
    pub ci: Ci,
    /// Its tests; null without a test report.
    pub tests: Option<TestTotals>,
    /// Its coverage; null without a coverage report.
    pub coverage: Option<CoverageSummary>,
}

/// A page of builds, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BuildList {
    /// The project.
    pub project: String,
    /// Page size asked for.
    pub limit: u32,
    /// Builds skipped.
    pub offset: u32,
    /// The builds.
    pub builds: Vec<Build>,
}

/// A test, wherever one appears.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TestRef {
    /// Stable across databases: 16 hex digits of the identity hash of (suite, classname,
    /// name, file). Usable in a URL.
    pub id: String,
    /// Suite.
    pub suite: String,
    /// Class name.
    pub classname: String,
    /// Name, with its parameters.
    pub name: String,
    /// File ("" when the report gave none).
    pub file: String,
}

/// One test's result in one build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BuildTest {
    /// The test.
    pub test: TestRef,
    /// `passed`, `failed`, `errored` or `skipped`.
    pub status: String,
    /// Passed after a failed attempt.
    pub flaky: bool,
    /// Attempts in this build.
    pub attempts: u32,
    /// Time of the last attempt.
    pub duration_s: Option<f64>,
    /// The failure's message (its first 4 KiB), for a failed or errored test.
    pub message: Option<String>,
}

/// One file's coverage in a build, with its change since the previous build of the branch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FileCoverage {
    /// The file.
    pub path: String,
    /// Measured lines.
    pub lines_valid: u64,
    /// Lines run.
    pub lines_covered: u64,
    /// `lines_covered / lines_valid`.
    pub line_rate: Option<f64>,
    /// Branch outcomes.
    pub branches_valid: u64,
    /// Branch outcomes taken.
    pub branches_covered: u64,
    /// `branches_covered / branches_valid`.
    pub branch_rate: Option<f64>,
    /// The file's line rate in the previous build (null when it was not there).
    pub previous_line_rate: Option<f64>,
    /// `line_rate − previous_line_rate`, percentage points.
    pub line_delta_pp: Option<f64>,
}

/// A build with its tests (failures first) and its files' coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BuildDetail {
    /// The project.
    pub project: String,
    /// The build.
    pub build: Build,
    /// Its tests: failed and errored first, then by identity.
    pub tests: Vec<BuildTest>,
    /// Its files' coverage.
    pub coverage_files: Vec<FileCoverage>,
}

/// One window of a trend.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrendPoint {
    /// The window's first local day (in the trend's time zone).
    pub window_start: NaiveDate,
    /// The metric's value over the window; null when it has nothing to measure.
    pub value: Option<f64>,
    /// Complete builds in the window that the value is computed over.
    pub builds: u64,
    /// For the quality score: each component's points in the window (null for the other
    /// metrics).
    pub components: Option<Vec<ComponentPoints>>,
    /// For open issues: the window's value by severity (null for the other metrics, and for
    /// a window without a build with a code-quality report).
    pub by_severity: Option<SeverityTotals>,
}

/// One score component's contribution to a window's score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ComponentPoints {
    /// `success_rate`, `pass_rate`, `flakiness`, `coverage` or `coverage_trend`.
    pub name: String,
    /// Points it adds (null when it had nothing to measure in the window).
    pub points: Option<f64>,
}

/// A metric per window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Trend {
    /// The project.
    pub project: String,
    /// `success_rate`, `pass_rate`, `coverage`, `branch_coverage`, `duration` or `quality`.
    pub metric: String,
    /// `fraction` (0..=1), `seconds` or `points` (0–100).
    pub unit: String,
    /// `day`, `week` or `month`.
    pub window: String,
    /// The IANA zone windows begin in.
    pub time_zone: String,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// Every window of the range, oldest first; empty windows have a null value.
    pub points: Vec<TrendPoint>,
}

/// `same_commit` evidence: one commit that both passed and failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CommitEvidence {
    /// The commit.
    pub commit: String,
    /// Builds of it where the test failed or errored.
    pub failed_in: Vec<String>,
    /// Builds of it where the test passed.
    pub passed_in: Vec<String>,
}

/// Passed and failed on the same commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SameCommit {
    /// Flaky by this definition.
    pub flaky: bool,
    /// The commits on which it both passed and failed.
    pub commits: Vec<CommitEvidence>,
}

/// Passed after a failed attempt within one build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PassOnRetry {
    /// Flaky by this definition.
    pub flaky: bool,
    /// The builds where it did.
    pub builds: Vec<String>,
}

/// Flips between pass and fail over the latest runs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlipRate {
    /// Flaky by this definition.
    pub flaky: bool,
    /// The branch whose runs these are: flips are counted on each branch apart, and this is
    /// the one that says the most (flaky first, then the highest rate).
    pub branch: Option<String>,
    /// The builds of those runs, oldest first.
    pub runs: Vec<String>,
    /// Their outcomes: `P` pass, `F` fail, oldest first.
    pub sequence: String,
    /// Consecutive pairs that differ.
    pub flips: u32,
    /// `flips / (runs − 1)`; null with fewer than two runs.
    pub rate: Option<f64>,
}

/// A test that at least one definition calls flaky, with each definition's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlakyTest {
    /// The test.
    pub test: TestRef,
    /// Non-skipped runs in the period.
    pub runs: u32,
    /// Passing runs.
    pub passes: u32,
    /// Failing or erroring runs.
    pub failures: u32,
    /// `passes / runs`.
    pub pass_rate: Option<f64>,
    /// `(flaky passes + failures on a commit that also passed) / runs`.
    pub flake_rate: Option<f64>,
    /// Same-commit evidence.
    pub same_commit: SameCommit,
    /// Pass-on-retry evidence.
    pub pass_on_retry: PassOnRetry,
    /// Flip-rate evidence.
    pub flip_rate: FlipRate,
}

/// What each flaky definition means, with the thresholds in force.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlakyDefinitions {
    /// `same_commit`.
    pub same_commit: String,
    /// `pass_on_retry`.
    pub pass_on_retry: String,
    /// `flip_rate`.
    pub flip_rate: String,
    /// `flake_rate`.
    pub flake_rate: String,
}

/// Flaky tests of a period, highest flake rate first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FlakyTests {
    /// The project.
    pub project: String,
    /// Days back from the latest build.
    pub days: u32,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// The definitions.
    pub definitions: FlakyDefinitions,
    /// The tests.
    pub tests: Vec<FlakyTest>,
}

/// One of the slowest tests.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SlowTest {
    /// The test.
    pub test: TestRef,
    /// Timed non-skipped runs.
    pub runs: u32,
    /// Median, seconds.
    pub p50_s: Option<f64>,
    /// 95th percentile (linear interpolation), seconds.
    pub p95_s: Option<f64>,
    /// Longest, seconds.
    pub max_s: Option<f64>,
}

/// The slowest tests of a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SlowestTests {
    /// The project.
    pub project: String,
    /// Days back from the latest build.
    pub days: u32,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// `p50` or `p95`: the quantile they are ordered by.
    pub by: String,
    /// At most this many.
    pub limit: u32,
    /// The tests, slowest first.
    pub tests: Vec<SlowTest>,
}

/// A test failing on a branch now, with the start of its failure streak.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FailingTest {
    /// The test.
    pub test: TestRef,
    /// The first build of the streak.
    pub since_build: String,
    /// When that build finished.
    pub since: Option<DateTime<Utc>>,
    /// Its commit.
    pub since_commit: String,
    /// The builds of the streak, oldest first.
    pub failing_builds: Vec<String>,
}

/// The tests failing on a branch.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FailingTests {
    /// The project.
    pub project: String,
    /// The branch (the latest build's when none was asked).
    pub branch: String,
    /// Days back from the latest build.
    pub days: u32,
    /// The tests, longest streak first.
    pub tests: Vec<FailingTest>,
}

/// The files of a build with their coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoverageFiles {
    /// The project.
    pub project: String,
    /// The build (null when no build has coverage).
    pub build: Option<String>,
    /// The build compared with: the previous complete build with coverage on its branch.
    pub previous_build: Option<String>,
    /// The files.
    pub files: Vec<FileCoverage>,
}

/// One component of the quality score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScoreComponent {
    /// `success_rate`, `pass_rate`, `flakiness`, `coverage` or `coverage_trend`.
    pub name: String,
    /// The measured input (a rate, or percentage points for the trend).
    pub value: Option<f64>,
    /// The input mapped to 0..=1.
    pub normalized: Option<f64>,
    /// Its weight after normalisation over the components with a value.
    pub weight: f64,
    /// Points it adds to the score.
    pub points: f64,
    /// How the input maps to 0..=1.
    pub formula: String,
}

/// The quality score of a period with each component's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QualityScore {
    /// The project.
    pub project: String,
    /// Days back from the latest build.
    pub days: u32,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// The formula's version.
    pub version: u32,
    /// 0–100; null when nothing was measured.
    pub score: Option<f64>,
    /// `A` to `E`.
    pub grade: Option<String>,
    /// The components.
    pub components: Vec<ScoreComponent>,
}

/// The facts a gate tests. Rates are percentages here, as gate conditions are written.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateFacts {
    /// Line coverage, %.
    pub coverage: Option<f64>,
    /// Branch coverage, %.
    pub branch_coverage: Option<f64>,
    /// Line coverage minus the compared build's, percentage points.
    pub coverage_delta: Option<f64>,
    /// Tests.
    pub total: Option<f64>,
    /// Passed.
    pub passed: Option<f64>,
    /// Failed.
    pub failed: Option<f64>,
    /// Errored.
    pub errored: Option<f64>,
    /// Skipped.
    pub skipped: Option<f64>,
    /// Passed after failing.
    pub flaky: Option<f64>,
    /// Pass rate, %.
    pub pass_rate: Option<f64>,
    /// Failing tests not failing in the compared build.
    pub new_failures: Option<f64>,
    /// `failed` without the tests known to be flaky.
    pub failed_excluding_flaky: Option<f64>,
    /// `errored` without the tests known to be flaky.
    pub errored_excluding_flaky: Option<f64>,
    /// `new_failures` without the tests known to be flaky.
    pub new_failures_excluding_flaky: Option<f64>,
    /// Open code-quality issues.
    pub issues: Option<f64>,
    /// Open critical issues.
    pub issues_critical: Option<f64>,
    /// Issues not open in the compared build with a code-quality report.
    pub new_issues: Option<f64>,
    /// New blocker issues.
    pub new_blocker: Option<f64>,
    /// New critical issues.
    pub new_critical: Option<f64>,
    /// Reliability rating, 1 (A) to 5 (E).
    pub reliability_rating: Option<f64>,
    /// Security rating, 1 (A) to 5 (E).
    pub security_rating: Option<f64>,
    /// Maintainability rating, 1 (A) to 5 (E).
    pub maintainability_rating: Option<f64>,
    /// The code-quality score, 0–100.
    pub code_quality: Option<f64>,
}

/// One gate condition's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GateCondition {
    /// As written back, e.g. `coverage >= 80`.
    pub condition: String,
    /// The build's value.
    pub actual: Option<f64>,
    /// Whether it held.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

/// A build (or a set of reports) against the gate's conditions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Gate {
    /// The project (null for reports judged without a history).
    pub project: Option<String>,
    /// The build judged (null for reports not stored).
    pub build: Option<String>,
    /// The build compared with: the previous complete build of the same branch.
    pub compared_with: Option<String>,
    /// Every condition held.
    pub passed: bool,
    /// Each condition.
    pub conditions: Vec<GateCondition>,
    /// The facts tested.
    pub facts: GateFacts,
    /// Tests the history calls flaky (any definition, the last `flaky_days` days before the
    /// latest build) that `flaky_excluded` left out of the failures.
    pub flaky_excluded: Vec<TestRef>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectRef {
    /// Its name.
    pub name: String,
}

/// The projects this reader may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectList {
    /// The projects.
    pub projects: Vec<ProjectRef>,
}

/// The current values badges and the dashboard show, over the last `days` days.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Current {
    /// Successful / finished builds of the period.
    pub success_rate: Option<f64>,
    /// Pass rate over the period's builds' test totals.
    pub pass_rate: Option<f64>,
    /// Line rate of the latest build with coverage.
    pub line_rate: Option<f64>,
    /// Branch rate of the latest build with coverage.
    pub branch_rate: Option<f64>,
    /// Median build time of the period, seconds.
    pub median_duration_s: Option<f64>,
}

/// The rolling success rate at one finished build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RollingPoint {
    /// The build (CI id).
    pub build: String,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Finished builds counted: this one and up to `rolling − 1` before it.
    pub builds: u32,
    /// Of those, the successful ones.
    pub successful: u32,
    /// `successful / builds`.
    pub success_rate: Option<f64>,
}

/// The success rate over the last N finished builds, at each finished build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RollingTrend {
    /// The project.
    pub project: String,
    /// Always `success_rate`.
    pub metric: String,
    /// N.
    pub rolling: u32,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// One point per finished build, oldest first.
    pub points: Vec<RollingPoint>,
}

/// A trend: per window, or (`rolling=N`) per build.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TrendAnswer {
    /// Per window.
    Windows(Trend),
    /// Per build, over the last N.
    Rolling(RollingTrend),
}

/// A run of failed builds on a branch, and the build that ended it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Streak {
    /// The branch.
    pub branch: String,
    /// The first failed build.
    pub first_failed: String,
    /// Every failed build of the streak, oldest first.
    pub failed_builds: Vec<String>,
    /// When the first failed build finished.
    pub failed_at: Option<DateTime<Utc>>,
    /// The next passed build (null while the streak is open).
    pub recovered_by: Option<String>,
    /// When it finished.
    pub recovered_at: Option<DateTime<Utc>>,
    /// `recovered_at − failed_at`, seconds (null while open).
    pub seconds: Option<f64>,
}

/// Mean time to recovery over a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Mttr {
    /// The project.
    pub project: String,
    /// Only this branch (null: each branch on its own, all counted).
    pub branch: Option<String>,
    /// Days back from the latest build (streaks that began in them).
    pub days: u32,
    /// Mean of the recovered streaks' `seconds`; null when none recovered.
    pub mttr_seconds: Option<f64>,
    /// The streaks, oldest first (recovered or open).
    pub streaks: Vec<Streak>,
    /// The open streak of the branch (or, without one, of the latest build's branch).
    pub open_streak: Option<Streak>,
}

/// A test whose recent median time grew.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Regression {
    /// The test.
    pub test: TestRef,
    /// Timed runs before the recent days.
    pub earlier_runs: u32,
    /// Their median, seconds.
    pub earlier_p50_s: Option<f64>,
    /// Timed runs in the recent days.
    pub recent_runs: u32,
    /// Their median, seconds.
    pub recent_p50_s: Option<f64>,
    /// `(recent_p50_s / earlier_p50_s − 1) × 100`.
    pub increase_pct: Option<f64>,
}

/// Duration regressions of a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Regressions {
    /// The project.
    pub project: String,
    /// Days back from the latest build.
    pub days: u32,
    /// The last this many days are "recent", the rest "earlier".
    pub recent_days: u32,
    /// Smallest increase listed, percent.
    pub min_increase_pct: f64,
    /// Runs each side needs.
    pub min_runs: u32,
    /// Only this branch (null: all).
    pub branch: Option<String>,
    /// The tests, largest increase first.
    pub tests: Vec<Regression>,
}

/// A package's (a directory's) coverage in a build, with its change.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PackageCoverage {
    /// The directory ("" for top-level files).
    pub package: String,
    /// Its files.
    pub files: u32,
    /// Measured lines.
    pub lines_valid: u64,
    /// Lines run.
    pub lines_covered: u64,
    /// `lines_covered / lines_valid`.
    pub line_rate: Option<f64>,
    /// Branch outcomes.
    pub branches_valid: u64,
    /// Branch outcomes taken.
    pub branches_covered: u64,
    /// `branches_covered / branches_valid`.
    pub branch_rate: Option<f64>,
    /// Its line rate in the compared build.
    pub previous_line_rate: Option<f64>,
    /// `line_rate − previous_line_rate`, percentage points.
    pub line_delta_pp: Option<f64>,
}

/// A build's packages with their coverage.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoveragePackages {
    /// The project.
    pub project: String,
    /// The build (null when no build has coverage).
    pub build: Option<String>,
    /// The previous complete build with coverage on its branch.
    pub previous_build: Option<String>,
    /// The packages.
    pub packages: Vec<PackageCoverage>,
}

/// A test whose outcome differs between two builds.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TestChange {
    /// The test.
    pub test: TestRef,
    /// Its status in the base build (null: not there).
    pub base: Option<String>,
    /// Its status in the head build (null: not there).
    pub head: Option<String>,
}

/// Coverage of head against base.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoverageComparison {
    /// Head's line rate − base's, percentage points.
    pub delta_pp: Option<f64>,
    /// Head's files against base's.
    pub files: Vec<FileCoverage>,
}

/// Two builds side by side (a feature branch against its base, or any two).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Comparison {
    /// The project.
    pub project: String,
    /// The base build.
    pub base: Build,
    /// The head build.
    pub head: Build,
    /// Failing in head, not failing in base.
    pub newly_failing: Vec<TestChange>,
    /// Failing in base, passing in head.
    pub fixed: Vec<TestChange>,
    /// In head, not in base.
    pub added: Vec<TestChange>,
    /// In base, not in head.
    pub removed: Vec<TestChange>,
    /// Coverage.
    pub coverage: CoverageComparison,
}

/// One run of a test.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TestRun {
    /// The build (CI id).
    pub build: String,
    /// Its branch.
    pub branch: String,
    /// Its commit.
    pub commit: String,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// `passed`, `failed`, `errored` or `skipped`.
    pub status: String,
    /// Passed after a failed attempt.
    pub flaky: bool,
    /// Attempts in the build.
    pub attempts: u32,
    /// Time, seconds.
    pub duration_s: Option<f64>,
    /// The failure's message (its first 4 KiB), for a failed or errored run.
    pub message: Option<String>,
}

/// What each flaky definition says of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct FlakyVerdicts {
    /// Passed and failed on one commit.
    pub same_commit: bool,
    /// Passed after a failed attempt in one build.
    pub pass_on_retry: bool,
    /// Flips between pass and fail on a branch.
    pub flip_rate: bool,
}

/// One test's history over a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TestHistory {
    /// The project.
    pub project: String,
    /// The test.
    pub test: TestRef,
    /// Days back from the latest build.
    pub days: u32,
    /// Non-skipped runs.
    pub runs_counted: u32,
    /// `passes / runs`.
    pub pass_rate: Option<f64>,
    /// `failures / runs`.
    pub failure_rate: Option<f64>,
    /// Median time, seconds.
    pub p50_s: Option<f64>,
    /// 95th percentile, seconds.
    pub p95_s: Option<f64>,
    /// The flaky definitions' verdicts.
    pub flaky: FlakyVerdicts,
    /// Its runs, newest first.
    pub runs: Vec<TestRun>,
}

/// Issues per severity.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, ToSchema)]
pub struct SeverityTotals {
    /// Blocker issues.
    pub blocker: u64,
    /// Critical issues.
    pub critical: u64,
    /// Major issues.
    pub major: u64,
    /// Minor issues.
    pub minor: u64,
    /// Info issues.
    pub info: u64,
}

/// Issues per category.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, ToSchema)]
pub struct CategoryTotals {
    /// Bugs.
    pub bug: u64,
    /// Vulnerabilities.
    pub vulnerability: u64,
    /// Code smells.
    pub code_smell: u64,
}

/// The ratings A–E of a build's issues.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QualityRatings {
    /// From the worst open bug: A none, B minor, C major, D critical, E blocker.
    pub reliability: String,
    /// The same over vulnerabilities.
    pub security: String,
    /// From the debt ratio: A ≤ 5%, B ≤ 10%, C ≤ 20%, D ≤ 50%, else E; null without lines.
    pub maintainability: Option<String>,
}

/// One component of the code-quality score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CodeQualityComponent {
    /// `reliability`, `security` or `maintainability`.
    pub name: String,
    /// Its rating (null: not rated, left out).
    pub rating: Option<String>,
    /// Its weight after normalisation.
    pub weight: f64,
    /// Points it adds.
    pub points: f64,
}

/// The code-quality score 0–100 with its components.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CodeQualityScore {
    /// The formula's version.
    pub version: u32,
    /// 0–100, one decimal.
    pub score: f64,
    /// The formula.
    pub formula: String,
    /// The components.
    pub components: Vec<CodeQualityComponent>,
}

/// A build's code quality: open issues, new and fixed against the previous build of its
/// branch, ratings and score.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssuesSummary {
    /// The project.
    pub project: String,
    /// The build (null when no build has a code-quality report).
    pub build: Option<String>,
    /// The previous complete build with a code-quality report on its branch.
    pub previous_build: Option<String>,
    /// Open issues.
    pub open: u64,
    /// Suppressed issues (not open).
    pub suppressed: u64,
    /// Open now and not open in the previous build (by fingerprint).
    pub new: u64,
    /// Open in the previous build and not now.
    pub fixed: u64,
    /// Open issues per severity.
    pub by_severity: SeverityTotals,
    /// Open issues per category.
    pub by_category: CategoryTotals,
    /// Distinct rules of the open issues.
    pub rules: u64,
    /// Distinct files with an open issue.
    pub files: u64,
    /// The lines the ratings count (the build's stated `loc`, else its coverage
    /// `lines_valid`); null when unknown.
    pub lines: Option<u64>,
    /// Open issues per 1,000 lines.
    pub density_per_kloc: Option<f64>,
    /// Remediation minutes of the open issues.
    pub debt_minutes: u64,
    /// Debt minutes / (30 × lines).
    pub debt_ratio: Option<f64>,
    /// The ratings.
    pub ratings: Option<QualityRatings>,
    /// The code-quality score (null without a build).
    pub code_quality: Option<CodeQualityScore>,
}

/// One issue of a build (or, `fixed`, of the build before it).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssueRow {
    /// Identity across builds.
    pub fingerprint: String,
    /// `new` (not open in the previous build), `open` or `fixed` (open then, not now).
    pub status: String,
    /// The tool.
    pub tool: String,
    /// The rule.
    pub rule: String,
    /// `blocker`, `critical`, `major`, `minor` or `info`.
    pub severity: String,
    /// `bug`, `vulnerability` or `code_smell`.
    pub category: String,
    /// The message.
    pub message: String,
    /// The file.
    pub path: String,
    /// Line.
    pub line: Option<i64>,
    /// Column.
    pub column: Option<i64>,
}

/// A page of a build's issues.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssueList {
    /// The project.
    pub project: String,
    /// The build (null when no build has a code-quality report).
    pub build: Option<String>,
    /// The build `new` and `fixed` compare with.
    pub previous_build: Option<String>,
    /// Issues matching the filters, over all pages.
    pub total: u64,
    /// Rows skipped.
    pub offset: u64,
    /// The page size.
    pub limit: u64,
    /// The page.
    pub issues: Vec<IssueRow>,
}
