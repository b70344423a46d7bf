//! The quality gate: conditions such as `coverage >= 80` evaluated against a build's facts.
//!
//! ```text
//! conditions = ["coverage >= 80", "coverage_delta >= -0.5", "failed == 0", "new_failures == 0"]
//! flaky_excluded = true
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What a gate is made of (e.g. read from `gate.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// `metric op number`, with op one of `>=`, `>`, `<=`, `<`, `==`, `!=`.
    pub conditions: Vec<String>,
    /// Failures of tests known to be flaky do not count in `failed`, `errored` and
    /// `new_failures`.
    pub flaky_excluded: bool,
    /// Whether a condition whose metric has no value (e.g. `coverage_delta` without a
    /// previous build) fails the gate. By default it passes, with a reason that says so.
    pub fail_when_missing: bool,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            conditions: vec!["failed == 0".into(), "errored == 0".into()],
            flaky_excluded: false,
            fail_when_missing: false,
        }
    }
}

/// The facts about one build a gate can test. Rates are percentages (0–100).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GateFacts {
    /// Line coverage, %.
    pub coverage: Option<f64>,
    /// Branch coverage, %.
    pub branch_coverage: Option<f64>,
    /// Line coverage minus the previous build's on the branch, percentage points.
    pub coverage_delta: Option<f64>,
    /// Tests.
    pub total: Option<f64>,
    /// Passed tests.
    pub passed: Option<f64>,
    /// Failed tests.
    pub failed: Option<f64>,
    /// Errored tests.
    pub errored: Option<f64>,
    /// Skipped tests.
    pub skipped: Option<f64>,
    /// Tests that passed after failing.
    pub flaky: Option<f64>,
    /// passed / (passed + failed + errored), %.
    pub pass_rate: Option<f64>,
    /// Tests failing or erroring now that did not fail in the previous build on the branch.
    pub new_failures: Option<f64>,
    /// `failed`, not counting tests known to be flaky.
    pub failed_excluding_flaky: Option<f64>,
    /// `errored`, not counting tests known to be flaky.
    pub errored_excluding_flaky: Option<f64>,
    /// `new_failures`, not counting tests known to be flaky.
    pub new_failures_excluding_flaky: Option<f64>,
    /// Open code-quality issues.
    pub issues: Option<f64>,
    /// Open critical issues.
    pub issues_critical: Option<f64>,
    /// Open issues not open in the previous build with issues on the branch.
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
    /// The code-quality score, 0–100 ([`crate::quality::code_quality_score`]).
    pub code_quality: Option<f64>,
}

/// The metrics a condition can name.
pub const GATE_METRICS: [&str; 20] = [
    "coverage",
    "branch_coverage",
    "coverage_delta",
    "total",
    "passed",
    "failed",
    "errored",
    "skipped",
    "flaky",
    "pass_rate",
    "new_failures",
    "issues",
    "issues_critical",
    "new_issues",
    "new_blocker",
    "new_critical",
    "reliability_rating",
    "security_rating",
    "maintainability_rating",
    "code_quality",
];

/// A rating as a gate compares it: A 1, B 2, C 3, D 4, E 5 (so `<= B` means B or better).
pub fn rating_number(rating: char) -> Option<f64> {
    "ABCDE"
        .find(rating.to_ascii_uppercase())
        .map(|i| (i + 1) as f64)
}

fn rating_letter(n: f64) -> Option<char> {
    (n.fract() == 0.0 && (1.0..=5.0).contains(&n)).then(|| b"ABCDE"[n as usize - 1] as char)
}

/// A metric's value as written: a rating's letter, else the number.
fn shown(metric: &str, n: f64) -> String {
    match rating_letter(n).filter(|_| metric.ends_with("_rating")) {
        Some(letter) => letter.to_string(),
        None => trim_number(n),
    }
}

impl GateFacts {
    fn get(&self, metric: &str, flaky_excluded: bool) -> Option<f64> {
        let pick = |all: Option<f64>, without: Option<f64>| {
            if flaky_excluded { without.or(all) } else { all }
        };
        match metric {
            "coverage" => self.coverage,
            "branch_coverage" => self.branch_coverage,
            "coverage_delta" => self.coverage_delta,
            "total" => self.total,
            "passed" => self.passed,
            "failed" => pick(self.failed, self.failed_excluding_flaky),
            "errored" => pick(self.errored, self.errored_excluding_flaky),
            "skipped" => self.skipped,
            "flaky" => self.flaky,
            "pass_rate" => self.pass_rate,
            "new_failures" => pick(self.new_failures, self.new_failures_excluding_flaky),
            "issues" => self.issues,
            "issues_critical" => self.issues_critical,
            "new_issues" => self.new_issues,
            "new_blocker" => self.new_blocker,
            "new_critical" => self.new_critical,
            "reliability_rating" => self.reliability_rating,
            "security_rating" => self.security_rating,
            "maintainability_rating" => self.maintainability_rating,
            "code_quality" => self.code_quality,
            _ => None,
        }
    }
}

impl GateFacts {
    /// The facts one build gives on its own, from its test counts (total, passed, failed,
    /// errored, skipped, flaky) and coverage totals (lines valid, covered, branches valid,
    /// covered): `coverage = lines_covered / lines_valid × 100`, `branch_coverage` likewise,
    /// `pass_rate` = [`crate::pass_rate_of`] × 100. The comparisons with another build
    /// (`coverage_delta`, `new_failures`) and the flaky exclusions are the caller's.
    pub fn of_build(tests: Option<[u64; 6]>, coverage: Option<[u64; 4]>) -> GateFacts {
        let pct = |r: Option<f64>| r.map(|r| r * 100.0);
        let count = |i: usize| tests.map(|t| t[i] as f64);
        GateFacts {
            coverage: pct(coverage.and_then(|c| crate::ratio(c[1], c[0]))),
            branch_coverage: pct(coverage.and_then(|c| crate::ratio(c[3], c[2]))),
            total: count(0),
            passed: count(1),
            failed: count(2),
            errored: count(3),
            skipped: count(4),
            flaky: count(5),
            pass_rate: pct(tests.and_then(|t| crate::pass_rate_of(t[1], t[2], t[3]))),
            ..GateFacts::default()
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Ge => a >= b,
            Op::Gt => a > b,
            Op::Le => a <= b,
            Op::Lt => a < b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// A parsed condition: `metric op threshold`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// One of [`GATE_METRICS`].
    pub metric: String,
    /// The comparison.
    pub op: Op,
    /// The number compared with.
    pub threshold: f64,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.metric, self.op.symbol(), self.threshold)
    }
}

impl std::str::FromStr for Condition {
    type Err = Error;
    /// Parses `metric op number`, e.g. `coverage >= 80` or `coverage_delta>=-0.5`.
    fn from_str(text: &str) -> Result<Condition> {
        let text = text.trim();
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let Some((at, symbol, op)) = ops
            .iter()
            .filter_map(|(s, op)| text.find(s).map(|at| (at, *s, *op)))
            .min_by_key(|(at, s, _)| (*at, usize::MAX - s.len()))
        else {
            return Err(Error::invalid(format!(
                "condition {text:?}: expected `metric op number` with op one of >=, >, <=, <, ==, !="
            )));
        };
        let metric = text[..at].trim();
        let number = text[at + symbol.len()..].trim();
        if !GATE_METRICS.contains(&metric) {
            return Err(Error::invalid(format!(
                "condition {text:?}: unknown metric {metric:?} (one of {})",
                GATE_METRICS.join(", ")
            )));
        }
        // A rating is compared by its letter (`maintainability_rating <= B`).
        let letter = metric.ends_with("_rating") && number.len() == 1;
        let threshold: f64 = if letter {
            number.chars().next().and_then(rating_number)
        } else {
            number.parse().ok().filter(|n: &f64| n.is_finite())
        }
        .ok_or_else(|| {
            let what = if metric.ends_with("_rating") {
                "a rating A-E"
            } else {
                "a number"
            };
            Error::invalid(format!("condition {text:?}: {number:?} is not {what}"))
        })?;
        Ok(Condition {
            metric: metric.to_owned(),
            op,
            threshold,
        })
    }
}

/// One condition's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionResult {
    /// The condition as written back (`coverage >= 80`).
    pub condition: String,
    /// The metric's value for this build, if it has one.
    pub actual: Option<f64>,
    /// Whether it passed.
    pub passed: bool,
    /// Why, in words.
    pub reason: String,
}

/// A gate's verdict: passed when every condition passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateResult {
    /// All conditions passed.
    pub passed: bool,
    /// Each condition with its reason.
    pub conditions: Vec<ConditionResult>,
}

/// **Quality gate**: each condition `metric op threshold` holds when the build's value of the
/// metric compares so with the threshold; the gate passes when every condition does. With
/// `flaky_excluded`, `failed`, `errored` and `new_failures` leave out tests known to be flaky.
/// A metric without a value passes (or fails with `fail_when_missing`), and the reason says it
/// was missing.
///
/// # Errors
/// A condition that does not parse (see [`Condition`]).
pub fn evaluate(config: &GateConfig, facts: &GateFacts) -> Result<GateResult> {
    let mut out = Vec::with_capacity(config.conditions.len());
    for text in &config.conditions {
        let condition: Condition = text.parse()?;
        let actual = facts.get(&condition.metric, config.flaky_excluded);
        let (passed, reason) = match actual {
            Some(value) => {
                let holds = condition.op.holds(value, condition.threshold);
                let excluded = if config.flaky_excluded
                    && matches!(
                        condition.metric.as_str(),
                        "failed" | "errored" | "new_failures"
                    ) {
                    " (flaky tests excluded)"
                } else {
                    ""
                };
                (
                    holds,
                    format!(
                        "{} is {}{excluded}: {}",
                        condition.metric,
                        shown(&condition.metric, value),
                        if holds { "ok" } else { "condition not met" }
                    ),
                )
            }
            None => (
                !config.fail_when_missing,
                format!(
                    "{} has no value for this build (no data to compare with)",
                    condition.metric
                ),
            ),
        };
        out.push(ConditionResult {
            condition: format!(
                "{} {} {}",
                condition.metric,
                condition.op.symbol(),
                shown(&condition.metric, condition.threshold)
            ),
            actual,
            passed,
            reason,
        });
    }
    Ok(GateResult {
        passed: out.iter().all(|c| c.passed),
        conditions: out,
    })
}

fn trim_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{:.2}", n)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> GateFacts {
        GateFacts {
            coverage: Some(81.25),
            coverage_delta: Some(-0.75),
            failed: Some(2.0),
            failed_excluding_flaky: Some(0.0),
            new_failures: None,
            ..GateFacts::default()
        }
    }

    #[test]
    fn conditions_parse_with_or_without_spaces() {
        let c: Condition = "coverage_delta>=-0.5".parse().unwrap();
        assert_eq!(
            (c.metric.as_str(), c.op, c.threshold),
            ("coverage_delta", Op::Ge, -0.5)
        );
        let c: Condition = " failed < 1 ".parse().unwrap();
        assert_eq!(c.op, Op::Lt);
        assert!("speed >= 3".parse::<Condition>().is_err());
        assert!("coverage >= lots".parse::<Condition>().is_err());
        assert!("coverage 80".parse::<Condition>().is_err());
    }

    #[test]
    fn ratings_are_compared_by_their_letters() {
        let config = GateConfig {
            conditions: vec![
                "maintainability_rating <= B".into(),
                "security_rating <= A".into(),
                "code_quality >= 80".into(),
                "new_critical == 0".into(),
            ],
            ..GateConfig::default()
        };
        let facts = GateFacts {
            maintainability_rating: rating_number('B'),
            security_rating: rating_number('C'),
            code_quality: Some(79.9),
            new_critical: Some(0.0),
            ..GateFacts::default()
        };
        let r = evaluate(&config, &facts).unwrap();
        let passed: Vec<bool> = r.conditions.iter().map(|c| c.passed).collect();
        assert_eq!(passed, [true, false, false, true]);
        assert_eq!(r.conditions[0].condition, "maintainability_rating <= B");
        assert_eq!(
            r.conditions[1].reason,
            "security_rating is C: condition not met"
        );
        assert!("security_rating <= F".parse::<Condition>().is_err());
    }

    #[test]
    fn each_condition_is_judged_with_its_reason() {
        let config = GateConfig {
            conditions: vec![
                "coverage >= 80".into(),
                "coverage_delta >= -0.5".into(),
                "failed == 0".into(),
            ],
            ..GateConfig::default()
        };
        let r = evaluate(&config, &facts()).unwrap();
        assert!(!r.passed);
        assert_eq!(
            r.conditions.iter().map(|c| c.passed).collect::<Vec<_>>(),
            [true, false, false]
        );
        assert_eq!(
            r.conditions[1].reason,
            "coverage_delta is -0.75: condition not met"
        );
        assert_eq!(r.conditions[0].actual, Some(81.25));
    }

    #[test]
    fn flaky_excluded_counts_only_real_failures() {
        let config = GateConfig {
            conditions: vec!["failed == 0".into()],
            flaky_excluded: true,
            ..GateConfig::default()
        };
        let r = evaluate(&config, &facts()).unwrap();
        assert!(r.passed, "{r:?}");
        assert!(r.conditions[0].reason.contains("flaky tests excluded"));
    }

    #[test]
    fn a_missing_metric_passes_unless_told_otherwise() {
        let mut config = GateConfig {
            conditions: vec!["new_failures == 0".into()],
            ..GateConfig::default()
        };
        assert!(evaluate(&config, &facts()).unwrap().passed);
        config.fail_when_missing = true;
        let r = evaluate(&config, &facts()).unwrap();
        assert!(!r.passed);
        assert!(r.conditions[0].reason.contains("no value"));
    }
}
