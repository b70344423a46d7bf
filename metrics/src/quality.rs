//! Code quality: ratings A–E as SonarQube defines them, technical debt, issue density, new
//! and fixed issues, and the code-quality score. Scalar formulas over a build's issues; no
//! frames needed.
//!
//! Severities are indexed worst first: 0 blocker, 1 critical, 2 major, 3 minor, 4 info (the
//! order of `cimetrics_ingest::Severity`).

use std::collections::HashSet;

use serde::Serialize;

/// The version of the code-quality score formula ([`code_quality_score`]).
pub const CODE_QUALITY_VERSION: u32 = 1;

/// Severity names, worst first (the index is the severity's code).
pub const SEVERITIES: [&str; 5] = ["blocker", "critical", "major", "minor", "info"];

/// The remediation minutes an issue is given when its tool states none, by severity (worst
/// first): blocker 60, critical 30, major 10, minor 5, info 0.
pub const DEFAULT_REMEDIATION_MINUTES: [u64; 5] = [60, 30, 10, 5, 0];

/// A rating, `A` (best) to `E`.
pub type Rating = char;

/// **Reliability or security rating** from the worst severity among the build's open bugs
/// (or vulnerabilities): A none (or only info), B minor, C major, D critical, E blocker.
pub fn rating_of_worst(worst: Option<usize>) -> Rating {
    match worst {
        Some(0) => 'E',
        Some(1) => 'D',
        Some(2) => 'C',
        Some(3) => 'B',
        _ => 'A',
    }
}

/// **Technical-debt ratio** = remediation minutes / (30 minutes × lines): the share of the
/// time it took to write the code (30 minutes a line) that fixing its issues takes. `None`
/// without lines.
pub fn debt_ratio(remediation_minutes: u64, lines: u64) -> Option<f64> {
    (lines > 0).then(|| remediation_minutes as f64 / (30.0 * lines as f64))
}

/// **Maintainability rating** from the debt ratio: A ≤ 5%, B ≤ 10%, C ≤ 20%, D ≤ 50%, else E.
pub fn maintainability_rating(debt_ratio: f64) -> Rating {
    match debt_ratio {
        r if r <= 0.05 => 'A',
        r if r <= 0.10 => 'B',
        r if r <= 0.20 => 'C',
        r if r <= 0.50 => 'D',
        _ => 'E',
    }
}

/// **Issue density** = open issues / lines × 1,000. `None` without lines.
pub fn density_per_kloc(issues: u64, lines: u64) -> Option<f64> {
    (lines > 0).then(|| issues as f64 * 1000.0 / lines as f64)
}

/// **New and fixed issues** of a build against the previous one, by fingerprint: new = open
/// now and not open then, fixed = open then and not open now. Lines play no part (a
/// fingerprint never holds a line), so an issue that moved is neither.
pub fn new_and_fixed<'a>(
    current: impl IntoIterator<Item = &'a str>,
    previous: impl IntoIterator<Item = &'a str>,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let now: HashSet<&str> = current.into_iter().collect();
    let then: HashSet<&str> = previous.into_iter().collect();
    let mut new: Vec<&str> = now.difference(&then).copied().collect();
    let mut fixed: Vec<&str> = then.difference(&now).copied().collect();
    new.sort_unstable();
    fixed.sort_unstable();
    (new, fixed)
}

/// What a rating is worth in the code-quality score: A 1, B 0.75, C 0.5, D 0.25, E 0.
pub fn rating_value(rating: Rating) -> f64 {
    match rating {
        'A' => 1.0,
        'B' => 0.75,
        'C' => 0.5,
        'D' => 0.25,
        _ => 0.0,
    }
}

/// One component of the code-quality score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityComponent {
    /// `reliability`, `security` or `maintainability`.
    pub name: &'static str,
    /// Its rating, when it has one (maintainability needs lines).
    pub rating: Option<Rating>,
    /// Its weight after normalisation over the components with a rating.
    pub weight: f64,
    /// Points it adds to the score.
    pub points: f64,
}

/// The code-quality score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeQuality {
    /// [`CODE_QUALITY_VERSION`].
    pub version: u32,
    /// 0–100, one decimal.
    pub score: f64,
    /// The components.
    pub components: Vec<QualityComponent>,
}

/// **Code-quality score**, version 1: `100 × Σ wᵢ·value(ratingᵢ) / Σ wᵢ` over reliability
/// (w 0.3), security (w 0.3) and maintainability (w 0.4, left out when there are no lines to
/// rate it by), with [`rating_value`] A 1, B 0.75, C 0.5, D 0.25, E 0; one decimal.
pub fn code_quality_score(
    reliability: Rating,
    security: Rating,
    maintainability: Option<Rating>,
) -> CodeQuality {
    let mut components = vec![
        QualityComponent {
            name: "reliability",
            rating: Some(reliability),
            weight: 0.3,
            points: 0.0,
        },
        QualityComponent {
            name: "security",
            rating: Some(security),
            weight: 0.3,
            points: 0.0,
        },
        QualityComponent {
            name: "maintainability",
            rating: maintainability,
            weight: if maintainability.is_some() { 0.4 } else { 0.0 },
            points: 0.0,
        },
    ];
    let total: f64 = components.iter().map(|c| c.weight).sum();
    for c in &mut components {
        c.weight /= total;
        c.points = c.rating.map_or(0.0, rating_value) * c.weight * 100.0;
    }
    let score = (components.iter().map(|c| c.points).sum::<f64>() * 10.0).round() / 10.0;
    // Each component's points shown to two decimals (the score sums them unrounded).
    for c in &mut components {
        c.points = (c.points * 100.0).round() / 100.0;
    }
    CodeQuality {
        version: CODE_QUALITY_VERSION,
        score,
        components,
    }
}

/// A build's open issues, as the ratings need them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct IssueFacts {
    /// Open issues by severity (worst first).
    pub by_severity: [u64; 5],
    /// The worst severity among open bugs, and among open vulnerabilities.
    pub worst_bug: Option<usize>,
    /// See `worst_bug`.
    pub worst_vulnerability: Option<usize>,
    /// Remediation minutes over the open issues (the tool's, else
    /// [`DEFAULT_REMEDIATION_MINUTES`]).
    pub remediation_minutes: u64,
    /// Lines to rate by: a `--loc` stated with the upload, else the build's coverage
    /// `lines_valid`, else the statements the tool counted.
    pub lines: Option<u64>,
}

/// The three ratings and the code-quality score of a build's issues.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ratings {
    /// [`rating_of_worst`] over bugs.
    pub reliability: Rating,
    /// [`rating_of_worst`] over vulnerabilities.
    pub security: Rating,
    /// [`maintainability_rating`] of [`debt_ratio`]; `None` without lines.
    pub maintainability: Option<Rating>,
    /// The debt ratio.
    pub debt_ratio: Option<f64>,
    /// [`density_per_kloc`] of the open issues.
    pub density_per_kloc: Option<f64>,
    /// [`code_quality_score`].
    pub code_quality: CodeQuality,
}

impl IssueFacts {
    /// Counts one open issue: its severity (worst first), its category (`bug`,
    /// `vulnerability` or `code_smell`) and the tool's remediation minutes, else the
    /// [`DEFAULT_REMEDIATION_MINUTES`] of its severity.
    pub fn add(&mut self, severity: usize, category: &str, effort_minutes: Option<u64>) {
        let severity = severity.min(4);
        self.by_severity[severity] += 1;
        self.remediation_minutes += effort_minutes.unwrap_or(DEFAULT_REMEDIATION_MINUTES[severity]);
        let worst = match category {
            "bug" => &mut self.worst_bug,
            "vulnerability" => &mut self.worst_vulnerability,
            _ => return,
        };
        *worst = Some(worst.map_or(severity, |w| w.min(severity)));
    }

    /// The ratings and score of these facts.
    pub fn ratings(&self) -> Ratings {
        let lines = self.lines.unwrap_or(0);
        let ratio = debt_ratio(self.remediation_minutes, lines);
        let reliability = rating_of_worst(self.worst_bug);
        let security = rating_of_worst(self.worst_vulnerability);
        let maintainability = ratio.map(maintainability_rating);
        Ratings {
            reliability,
            security,
            maintainability,
            debt_ratio: ratio,
            density_per_kloc: density_per_kloc(self.by_severity.iter().sum(), lines),
            code_quality: code_quality_score(reliability, security, maintainability),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratings_change_exactly_at_their_grid_boundaries() {
        assert_eq!(rating_of_worst(None), 'A');
        assert_eq!(rating_of_worst(Some(4)), 'A');
        assert_eq!(rating_of_worst(Some(3)), 'B');
        assert_eq!(rating_of_worst(Some(2)), 'C');
        assert_eq!(rating_of_worst(Some(1)), 'D');
        assert_eq!(rating_of_worst(Some(0)), 'E');
        // 1,000 lines are 30,000 minutes to write: 5% is 1,500 minutes of debt.
        let rating = |minutes| maintainability_rating(debt_ratio(minutes, 1000).unwrap());
        assert_eq!(rating(1500), 'A');
        assert_eq!(rating(1501), 'B');
        assert_eq!(rating(3000), 'B');
        assert_eq!(rating(3001), 'C');
        assert_eq!(rating(6000), 'C');
        assert_eq!(rating(6001), 'D');
        assert_eq!(rating(15000), 'D');
        assert_eq!(rating(15001), 'E');
        assert_eq!(debt_ratio(10, 0), None);
    }

    #[test]
    fn the_score_weighs_the_ratings_and_leaves_out_maintainability_without_lines() {
        // A, C, B: 0.3 × 1 + 0.3 × 0.5 + 0.4 × 0.75 = 0.75.
        let q = code_quality_score('A', 'C', Some('B'));
        assert_eq!(q.score, 75.0);
        assert_eq!(q.components[2].points, 30.0);
        // Without lines: 0.5 × 1 + 0.5 × 0.5.
        assert_eq!(code_quality_score('A', 'C', None).score, 75.0);
        assert_eq!(code_quality_score('E', 'E', None).score, 0.0);
        assert_eq!(code_quality_score('A', 'A', Some('A')).score, 100.0);
    }

    #[test]
    fn new_and_fixed_compare_fingerprints_not_lines() {
        // "b" moved lines between the builds: same fingerprint, neither new nor fixed.
        let (new, fixed) = new_and_fixed(["b", "c"], ["a", "b"]);
        assert_eq!((new, fixed), (vec!["c"], vec!["a"]));
    }

    #[test]
    fn adding_issues_keeps_the_worst_per_category_and_the_default_minutes() {
        let mut f = IssueFacts::default();
        f.add(3, "bug", None);
        f.add(1, "bug", Some(7));
        f.add(2, "code_smell", None);
        f.add(4, "vulnerability", None);
        assert_eq!(f.by_severity, [0, 1, 1, 1, 1]);
        assert_eq!((f.worst_bug, f.worst_vulnerability), (Some(1), Some(4)));
        // minor 5 + the tool's 7 + major 10 + info 0.
        assert_eq!(f.remediation_minutes, 22);
    }

    #[test]
    fn facts_give_ratings_density_and_score() {
        let facts = IssueFacts {
            by_severity: [0, 1, 2, 3, 0],
            worst_bug: Some(2),
            worst_vulnerability: Some(1),
            remediation_minutes: 30 + 2 * 10 + 3 * 5,
            lines: Some(200),
        };
        let r = facts.ratings();
        assert_eq!((r.reliability, r.security), ('C', 'D'));
        // 65 minutes over 6,000: 1.08% → A.
        assert_eq!(r.maintainability, Some('A'));
        assert_eq!(r.density_per_kloc, Some(30.0));
        // 0.3 × 0.5 + 0.3 × 0.25 + 0.4 × 1 = 0.625.
        assert_eq!(r.code_quality.score, 62.5);
    }
}
