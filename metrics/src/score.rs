//! The quality score: one number 0–100 and a letter, with each component's contribution.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::flaky::{FlakyConfig, flaky_tests};
use crate::schema::{
    BUILD_ID, FAILED, FINISHED_AT, LINES_COVERED, LINES_VALID, PASSED, SKIPPED, STATUS, TEST_ID,
    WINDOW_START,
};
use crate::tests::with_builds;

/// The version of the score formula. It changes whenever the formula does, and is stored
/// beside every score so that history stays comparable.
/// Version 2 adds the code-quality component; version 1 ([`score_version`] with 1) stays
/// computable, and gives the same number as version 2 when there is no code-quality data.
pub const SCORE_VERSION: u32 = 2;

/// The weight of each component. Only the ratios matter: the weights of the components that
/// have a value are normalised to sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScoreWeights {
    /// Build success rate.
    pub success_rate: f64,
    /// Test pass rate.
    pub pass_rate: f64,
    /// Share of tests not flaky.
    pub flakiness: f64,
    /// Line coverage.
    pub coverage: f64,
    /// Coverage trend.
    pub coverage_trend: f64,
    /// Code quality (version 2).
    pub code_quality: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        ScoreWeights {
            success_rate: 0.25,
            pass_rate: 0.25,
            flakiness: 0.15,
            coverage: 0.25,
            coverage_trend: 0.10,
            code_quality: 0.20,
        }
    }
}

/// The measured inputs of the score, each `None` when there is nothing to measure.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreInputs {
    /// Successful / finished builds over the period (0..=1).
    pub success_rate: Option<f64>,
    /// Passed / (passed + failed + errored) over every test result of the period (0..=1).
    pub pass_rate: Option<f64>,
    /// Flaky tests (any definition of [`flaky_tests`]) / tests that ran (0..=1).
    pub flaky_share: Option<f64>,
    /// Line rate of the latest build with coverage (0..=1).
    pub coverage: Option<f64>,
    /// Line rate of the latest build − that of the earliest build with coverage in the
    /// period, in percentage points.
    pub coverage_trend_pp: Option<f64>,
    /// The code-quality score (0–100, [`crate::quality::code_quality_score`]) of the latest
    /// build with a code-quality report in the period.
    pub code_quality: Option<f64>,
}

/// The components of a score, in [`Score::components`] order.
pub const COMPONENTS: [&str; 6] = [
    "success_rate",
    "pass_rate",
    "flakiness",
    "coverage",
    "coverage_trend",
    "code_quality",
];

/// One component of a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// `success_rate`, `pass_rate`, `flakiness`, `coverage` or `coverage_trend`.
    pub name: &'static str,
    /// The measured input (a rate 0..=1, or percentage points for the trend).
    pub value: Option<f64>,
    /// The input mapped to 0..=1.
    pub normalized: Option<f64>,
    /// The weight after normalisation over the components that have a value.
    pub weight: f64,
    /// Points this component adds to the score (`normalized × weight × 100`).
    pub points: f64,
    /// How the input maps to 0..=1.
    pub formula: &'static str,
}

/// A quality score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// [`SCORE_VERSION`] of the formula that computed it.
    pub version: u32,
    /// 0–100, one decimal; `None` when no component has a value.
    pub score: Option<f64>,
    /// `A` (≥ 90), `B` (≥ 80), `C` (≥ 70), `D` (≥ 60) or `E`.
    pub grade: Option<char>,
    /// Every component, with its contribution.
    pub components: Vec<Component>,
}

/// The letter for a score: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else E.
pub fn grade(score: f64) -> char {
    match score {
        s if s >= 90.0 => 'A',
        s if s >= 80.0 => 'B',
        s if s >= 70.0 => 'C',
        s if s >= 60.0 => 'D',
        _ => 'E',
    }
}

/// **Quality score**, version 2 ([`SCORE_VERSION`]): [`score_version`] with 2.
pub fn score(inputs: &ScoreInputs, weights: &ScoreWeights) -> Score {
    score_version(inputs, weights, SCORE_VERSION)
}

/// **Quality score**, of formula `version` 1 or 2:
///
/// `score = 100 × Σ wᵢ·sᵢ / Σ wᵢ` over the components *i* that have a value, where
/// - `s_success_rate = success_rate`,
/// - `s_pass_rate = pass_rate`,
/// - `s_flakiness = max(0, 1 − 10 × flaky_share)` (10% flaky tests or more scores 0),
/// - `s_coverage = line coverage`,
/// - `s_coverage_trend = clamp(0.5 + trend_pp / 10, 0, 1)` (flat = 0.5; +5 pp or more = 1;
///   −5 pp or less = 0),
/// - version 2 only: `s_code_quality = code_quality / 100`,
///
/// rounded to one decimal, with [`grade`]'s letter. A component without a value (no builds,
/// no tests, no coverage) is left out and the others' weights are scaled up.
pub fn score_version(inputs: &ScoreInputs, weights: &ScoreWeights, version: u32) -> Score {
    let code_quality = inputs.code_quality.filter(|_| version >= 2);
    let component =
        |name, value: Option<f64>, normalized: Option<f64>, weight: f64, formula| Component {
            name,
            value,
            normalized,
            weight: if normalized.is_some() {
                weight.max(0.0)
            } else {
                0.0
            },
            points: 0.0,
            formula,
        };
    let mut components = vec![
        component(
            "success_rate",
            inputs.success_rate,
            inputs.success_rate,
            weights.success_rate,
            "success_rate",
        ),
        component(
            "pass_rate",
            inputs.pass_rate,
            inputs.pass_rate,
            weights.pass_rate,
            "pass_rate",
        ),
        component(
            "flakiness",
            inputs.flaky_share,
            inputs.flaky_share.map(|f| (1.0 - 10.0 * f).max(0.0)),
            weights.flakiness,
            "max(0, 1 - 10 * flaky_share)",
        ),
        component(
            "coverage",
            inputs.coverage,
            inputs.coverage,
            weights.coverage,
            "line_rate",
        ),
        component(
            "coverage_trend",
            inputs.coverage_trend_pp,
            inputs
                .coverage_trend_pp
                .map(|t| (0.5 + t / 10.0).clamp(0.0, 1.0)),
            weights.coverage_trend,
            "clamp(0.5 + trend_pp / 10, 0, 1)",
        ),
        component(
            "code_quality",
            code_quality,
            code_quality.map(|q| q / 100.0),
            weights.code_quality,
            "code_quality / 100",
        ),
    ];
    let total_weight: f64 = components.iter().map(|c| c.weight).sum();
    for c in &mut components {
        c.weight = if total_weight > 0.0 {
            c.weight / total_weight
        } else {
            0.0
        };
        c.points = c
            .normalized
            .map_or(0.0, |n| n.clamp(0.0, 1.0) * c.weight * 100.0);
    }
    let score = (total_weight > 0.0)
        .then(|| (components.iter().map(|c| c.points).sum::<f64>() * 10.0).round() / 10.0);
    Score {
        version,
        score,
        grade: score.map(grade),
        components,
    }
}

/// The [`ScoreInputs`] of a period, from its frames (filter them to the period and branch
/// first): success rate of the finished builds, pass rate of all results, share of tests that
/// ran and that [`flaky_tests`] flags, the latest coverage and its change since the period's
/// first build with coverage.
///
/// # Errors
/// Frames that lack the documented columns.
pub fn score_inputs(
    builds: LazyFrame,
    results: LazyFrame,
    coverage: LazyFrame,
    flaky: &FlakyConfig,
) -> Result<ScoreInputs> {
    let b = builds
        .clone()
        .select([
            col(STATUS)
                .eq(lit(PASSED))
                .cast(DataType::UInt32)
                .sum()
                .alias("ok"),
            col(STATUS)
                .eq(lit(PASSED))
                .or(col(STATUS).eq(lit(FAILED)))
                .cast(DataType::UInt32)
                .sum()
                .alias("finished"),
        ])
        .collect()?;
    let ok = first_u64(&b, "ok")?;
    let finished = first_u64(&b, "finished")?;

    let r = with_builds(results.clone(), builds.clone())
        .select([
            col(STATUS)
                .eq(lit(PASSED))
                .cast(DataType::UInt32)
                .sum()
                .alias("passed"),
            col(STATUS)
                .neq(lit(SKIPPED))
                .cast(DataType::UInt32)
                .sum()
                .alias("ran"),
            col(TEST_ID)
                .filter(col(STATUS).neq(lit(SKIPPED)))
                .n_unique()
                .cast(DataType::UInt64)
                .alias("tests"),
        ])
        .collect()?;
    let passed = first_u64(&r, "passed")?;
    let ran = first_u64(&r, "ran")?;
    let tests = first_u64(&r, "tests")?;
    let flaky_count = flaky_tests(results, builds.clone(), flaky)?.height() as u64;

    let c = coverage
        .join(
            builds.select([col(BUILD_ID), col(FINISHED_AT)]),
            [col(BUILD_ID)],
            [col(BUILD_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col(LINES_VALID).gt(lit(0)))
        .sort([FINISHED_AT, BUILD_ID], SortMultipleOptions::default())
        .select([(col(LINES_COVERED).cast(DataType::Float64)
            / col(LINES_VALID).cast(DataType::Float64))
        .alias("rate")])
        .collect()?;
    let rates = c.column("rate")?.f64()?;
    let first = crate::schema::first(rates);
    let last = rates.len().checked_sub(1).and_then(|i| rates.get(i));

    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    Ok(ScoreInputs {
        success_rate: ratio(ok, finished),
        pass_rate: ratio(passed, ran),
        flaky_share: ratio(flaky_count, tests),
        coverage: last,
        coverage_trend_pp: first.zip(last).map(|(f, l)| (l - f) * 100.0),
        // Issues are not in these frames: the caller adds the code-quality score.
        code_quality: None,
    })
}

fn first_u64(frame: &DataFrame, name: &str) -> Result<u64> {
    let column = frame.column(name)?.cast(&DataType::UInt64)?;
    Ok(crate::schema::first(column.u64()?).unwrap_or(0))
}

/// The builds of each window that holds any (bucketed as [`crate::WindowSpec`] says, within
/// its range), oldest first: `(window start, build ids)`.
///
/// # Errors
/// An unknown time zone, or a frame that lacks the documented columns.
pub fn builds_per_window(
    builds: LazyFrame,
    spec: &crate::WindowSpec,
) -> Result<Vec<(chrono::NaiveDate, Vec<i64>)>> {
    let windowed = spec
        .filter(builds, col(FINISHED_AT))?
        .select([
            spec.window_start(col(FINISHED_AT))?
                .cast(DataType::Int32)
                .alias("_window"),
            col(BUILD_ID),
        ])
        .collect()?;
    let days = windowed.column("_window")?.i32()?;
    let ids = windowed.column(BUILD_ID)?.i64()?;
    let mut out: std::collections::BTreeMap<i32, Vec<i64>> = Default::default();
    for i in 0..days.len() {
        if let (Some(d), Some(id)) = (days.get(i), ids.get(i)) {
            out.entry(d).or_default().push(id);
        }
    }
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    Ok(out
        .into_iter()
        .filter_map(|(d, mut ids)| {
            ids.sort_unstable();
            let start = epoch.checked_add_signed(chrono::TimeDelta::days(i64::from(d)))?;
            Some((start, ids))
        })
        .collect())
}

/// **Quality score per window**: [`score`] of each window's own builds (bucketed as
/// [`crate::WindowSpec`] says) with [`score_inputs`] over their results and coverage; the
/// coverage trend is the change within the window. Empty windows are null.
///
/// Output: see [`score_per_window_of`].
///
/// # Errors
/// An unknown time zone, or frames that lack the documented columns.
pub fn score_per_window(
    builds: LazyFrame,
    results: LazyFrame,
    coverage: LazyFrame,
    spec: &crate::WindowSpec,
    flaky: &FlakyConfig,
    weights: &ScoreWeights,
) -> Result<DataFrame> {
    let mut windows = Vec::new();
    for (start, ids) in builds_per_window(builds.clone(), spec)? {
        let in_window = builds.clone().filter(
            col(BUILD_ID).is_in(lit(Series::new("ids".into(), &ids)).implode(false), false),
        );
        let inputs = score_inputs(in_window, results.clone(), coverage.clone(), flaky)?;
        windows.push((start, ids.len() as u32, inputs));
    }
    score_per_window_of(&windows, spec, weights)
}

/// **Quality score per window** from each window's [`ScoreInputs`] (computed, or kept from
/// an earlier computation of the same builds): [`score`] of each, every window of the
/// spec's range listed, empty ones null.
///
/// Output: `window_start` (date), `score` (0–100, null when nothing was measured), `builds`
/// (u32), and each component's points (`points_success_rate`, `points_pass_rate`,
/// `points_flakiness`, `points_coverage`, `points_coverage_trend`; null when it had no
/// value); ordered by `window_start`.
///
/// # Errors
/// Only if polars cannot build the frame.
pub fn score_per_window_of(
    windows: &[(chrono::NaiveDate, u32, ScoreInputs)],
    spec: &crate::WindowSpec,
    weights: &ScoreWeights,
) -> Result<DataFrame> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut starts = Vec::with_capacity(windows.len());
    let mut scores = Vec::with_capacity(windows.len());
    let mut counts = Vec::with_capacity(windows.len());
    let mut points: Vec<Vec<Option<f64>>> =
        vec![Vec::with_capacity(windows.len()); COMPONENTS.len()];
    for (start, builds, inputs) in windows {
        let s = score(inputs, weights);
        for (column, name) in points.iter_mut().zip(COMPONENTS) {
            let c = s.components.iter().find(|c| c.name == name);
            column.push(c.filter(|c| c.normalized.is_some()).map(|c| c.points));
        }
        starts.push((*start - epoch).num_days() as i32);
        scores.push(s.score);
        counts.push(*builds);
    }
    let mut columns = vec![
        Column::new(WINDOW_START.into(), starts).cast(&DataType::Date)?,
        Column::new("score".into(), scores),
        Column::new("builds".into(), counts),
    ];
    for (values, name) in points.into_iter().zip(COMPONENTS) {
        columns.push(Column::new(format!("points_{name}").into(), values));
    }
    let frame = DataFrame::new(windows.len(), columns)?;
    spec.complete(frame, &[], &["builds"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_and_version_2_agree_without_code_quality_and_differ_with_it() {
        let inputs = ScoreInputs {
            success_rate: Some(0.9),
            pass_rate: Some(0.95),
            flaky_share: Some(0.02),
            coverage: Some(0.8),
            coverage_trend_pp: Some(1.0),
            code_quality: None,
        };
        let weights = ScoreWeights::default();
        let v1 = score_version(&inputs, &weights, 1);
        let v2 = score_version(&inputs, &weights, 2);
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(v1.score, v2.score);
        assert!(v1.score.is_some());
        // v1: 0.25×0.9 + 0.25×0.95 + 0.15×(1 − 0.2) + 0.25×0.8 + 0.10×0.6 = 0.8425.
        // With code quality 50, v2 = (84.25 + 0.20 × 0.5 × 100) / 1.2 = 78.54; v1 ignores it.
        let with = ScoreInputs {
            code_quality: Some(50.0),
            ..inputs
        };
        assert_eq!(score_version(&with, &weights, 1).score, v1.score);
        assert_eq!(score_version(&with, &weights, 2).score, Some(78.5));
    }

    #[test]
    fn score_adds_weighted_components_and_explains_each() {
        let inputs = ScoreInputs {
            success_rate: Some(0.9),
            pass_rate: Some(1.0),
            flaky_share: Some(0.02),
            coverage: Some(0.8),
            coverage_trend_pp: Some(1.0),
            code_quality: None,
        };
        let s = score(&inputs, &ScoreWeights::default());
        // 0.25*0.9 + 0.25*1 + 0.15*(1-0.2) + 0.25*0.8 + 0.10*(0.5+0.1)
        // = 0.225 + 0.25 + 0.12 + 0.2 + 0.06 = 0.855
        assert_eq!(s.score, Some(85.5));
        assert_eq!(s.grade, Some('B'));
        let flakiness = s.components.iter().find(|c| c.name == "flakiness").unwrap();
        assert!((flakiness.points - 12.0).abs() < 1e-9);
        assert_eq!(s.version, SCORE_VERSION);
    }

    #[test]
    fn missing_components_drop_out_and_the_rest_are_rescaled() {
        let inputs = ScoreInputs {
            success_rate: Some(0.5),
            pass_rate: Some(1.0),
            ..ScoreInputs::default()
        };
        let s = score(&inputs, &ScoreWeights::default());
        // Equal weights 0.25 and 0.25 become 0.5 and 0.5: 0.5*0.5 + 0.5*1 = 0.75.
        assert_eq!(s.score, Some(75.0));
        assert_eq!(s.grade, Some('C'));
        assert_eq!(
            score(&ScoreInputs::default(), &ScoreWeights::default()).score,
            None
        );
    }

    #[test]
    fn trend_and_flakiness_are_clamped() {
        let inputs = ScoreInputs {
            flaky_share: Some(0.5),
            coverage_trend_pp: Some(-40.0),
            ..ScoreInputs::default()
        };
        let s = score(&inputs, &ScoreWeights::default());
        assert_eq!(s.score, Some(0.0));
        assert_eq!(s.grade, Some('E'));
    }
}
