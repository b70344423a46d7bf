//! CI metrics over a history of builds, computed with polars. No I/O.
//!
//! Input is three kinds of frames whose columns [`schema`] documents (builds, test results,
//! coverage); build them from your own rows with [`schema::builds_frame`],
//! [`schema::results_frame`] and [`schema::coverage_frame`], or bring your own with the same
//! columns. Each metric is a function that takes `LazyFrame`s and returns a `DataFrame`, with
//! its formula in its doc comment:
//!
//! - builds: [`success_rate`], [`rolling_success_rate`], [`duration_trend`], [`mttr`];
//! - tests: [`pass_rate_per_build`], [`pass_rate_per_window`] (or
//!   [`pass_rate_per_window_of_counts`] from per-build counts), [`failure_rate_per_test`],
//!   [`failing_since`], [`flaky_tests`] (three definitions, with evidence), [`slowest_tests`],
//!   [`duration_regressions`];
//! - coverage: [`coverage_per_build`], [`coverage_per_window`], [`coverage_per_file`],
//!   [`coverage_per_package`];
//! - [`score`] (the quality score, versioned) and [`gate::evaluate`] (the quality gate);
//! - code quality ([`quality`]): ratings A–E, technical debt, density, new and fixed issues,
//!   the code-quality score.
//!
//! Windows ([`WindowSpec`]) are local days, ISO weeks or months in an IANA time zone, and a
//! series lists every window in its range: an empty window is a row with a null rate, never
//! a zero and never NaN.
//!
//! ```
//! use cimetrics_metrics::schema::{BuildRow, builds_frame};
//! use cimetrics_metrics::{Window, WindowSpec, success_rate};
//! use polars::prelude::IntoLazy;
//!
//! # fn main() -> Result<(), cimetrics_metrics::Error> {
//! let day = 86_400_000; // ms
//! let build = |id: i64, day_no: i64, status: &str| BuildRow {
//!     build_id: id,
//!     branch: "main".into(),
//!     commit: format!("c{id}"),
//!     status: status.into(),
//!     finished_at_ms: 1_767_225_600_000 + day_no * day, // 2026-01-01T00:00Z + days
//!     duration_s: None,
//! };
//! // Three builds on 1 January (two passed), none on the 2nd, one failed on the 3rd.
//! let builds = builds_frame(&[
//!     build(1, 0, "passed"),
//!     build(2, 0, "passed"),
//!     build(3, 0, "failed"),
//!     build(4, 2, "failed"),
//! ])?;
//! let series = success_rate(builds.lazy(), &WindowSpec::new(Window::Day), false)?;
//! let rates = series.column("success_rate")?.f64()?;
//! let rates: Vec<Option<f64>> = (0..rates.len()).map(|i| rates.get(i)).collect();
//! assert_eq!(rates, [Some(2.0 / 3.0), None, Some(0.0)]);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod builds;
mod coverage;
mod durations;
mod flaky;
pub mod gate;
pub mod quality;
pub mod schema;
mod score;
mod table;
mod tests;
mod window;

pub use builds::{
    duration_trend, failure_streaks, mean, median, mttr, rolling_success_rate, success_rate,
    success_rate_of,
};
pub use coverage::{
    coverage_per_build, coverage_per_file, coverage_per_package, coverage_per_window, delta_pp,
    package_of, value_per_window,
};
pub use durations::{SlowestBy, duration_regressions, slowest_tests};
pub use flaky::{FlakyConfig, flaky_tests};
pub use gate::{GateConfig, GateFacts, GateResult};
pub use polars;
pub use score::{
    COMPONENTS, Component, SCORE_VERSION, Score, ScoreInputs, ScoreWeights, builds_per_window,
    grade, score, score_inputs, score_per_window, score_per_window_of,
};
pub use table::{Table, Value};
pub use tests::{
    COUNT_COLUMNS, failing_since, failure_rate_per_test, pass_rate_of, pass_rate_per_build,
    pass_rate_per_window, pass_rate_per_window_of_counts,
};
pub use window::{Window, WindowSpec};

/// What went wrong computing a metric.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter that makes no sense (unknown time zone, bad gate condition, ...).
    #[error("{0}")]
    Invalid(String),
    /// polars refused the frames (e.g. a missing column).
    #[error("polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

impl Error {
    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::Invalid(message.into())
    }
}

/// `numerator / denominator`; `None` when the denominator is 0 (a rate of nothing is
/// unknown, never 0 and never NaN). Line rate = covered / valid lines, and so on.
pub fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
