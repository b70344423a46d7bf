//! What a code-quality report holds: issues, each with a severity and category on one scale
//! whatever the tool, and their counts.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// How bad an issue is, on SonarQube's scale (worst first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Must be fixed now.
    Blocker,
    /// High impact.
    Critical,
    /// Significant.
    Major,
    /// Small.
    Minor,
    /// Worth knowing.
    Info,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 5] = [
        Severity::Blocker,
        Severity::Critical,
        Severity::Major,
        Severity::Minor,
        Severity::Info,
    ];

    /// Its place on the scale, worst first: 0 blocker … 4 info (its index in [`Severity::ALL`],
    /// as metrics and storage count severities).
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::Critical => "critical",
            Severity::Major => "major",
            Severity::Minor => "minor",
            Severity::Info => "info",
        }
    }

    /// The severity a lowercase name gives (Code Climate's words).
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }

    /// SARIF's `security-severity` (a CVSS-like score): ≥ 9.0 blocker, ≥ 7.0 critical,
    /// ≥ 4.0 major, else minor.
    pub fn of_security_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Blocker
        } else if score >= 7.0 {
            Severity::Critical
        } else if score >= 4.0 {
            Severity::Major
        } else {
            Severity::Minor
        }
    }
}

/// What kind of problem an issue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Wrong code (pylint errors, mypy, rules tagged as correctness).
    Bug,
    /// A security problem (tagged security, a `security-severity`, bandit, ruff `S` rules).
    Vulnerability,
    /// Everything else.
    CodeSmell,
}

impl Category {
    /// Every category.
    pub const ALL: [Category; 3] = [Category::Bug, Category::Vulnerability, Category::CodeSmell];

    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Category::Bug => "bug",
            Category::Vulnerability => "vulnerability",
            Category::CodeSmell => "code_smell",
        }
    }
}

/// One finding of a linter or analyser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Issue {
    /// The tool that reported it (`ruff`, `pylint`, `eslint`, ...).
    pub tool: String,
    /// The tool's rule id (`F401`, `W0611`, `no-unused-vars`, `B105`, ...).
    pub rule: String,
    /// The severity on the common scale.
    pub severity: Severity,
    /// The severity as the tool wrote it.
    pub native_severity: String,
    /// The category.
    pub category: Category,
    /// The message.
    pub message: String,
    /// The file, as the report names it.
    pub path: String,
    /// 1-based line, when given.
    pub line: Option<u32>,
    /// 1-based column, when given.
    pub column: Option<u32>,
    /// The tool's own fingerprint, else [`fingerprint`] of tool, rule, path and message: the
    /// line is never part of it, so an issue keeps its identity when code moves.
    pub fingerprint: String,
    /// The remediation effort the tool states, in minutes.
    pub effort_minutes: Option<u32>,
    /// Suppressed in the source or absent from the baseline: counted apart, not open.
    pub suppressed: bool,
}

/// Issues per severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeverityCounts {
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

impl SeverityCounts {
    /// Counts one more issue of `severity`.
    pub fn add(&mut self, severity: Severity) {
        *self.slot(severity) += 1;
    }

    /// The count of `severity`.
    pub fn get(&self, severity: Severity) -> u64 {
        match severity {
            Severity::Blocker => self.blocker,
            Severity::Critical => self.critical,
            Severity::Major => self.major,
            Severity::Minor => self.minor,
            Severity::Info => self.info,
        }
    }

    fn slot(&mut self, severity: Severity) -> &mut u64 {
        match severity {
            Severity::Blocker => &mut self.blocker,
            Severity::Critical => &mut self.critical,
            Severity::Major => &mut self.major,
            Severity::Minor => &mut self.minor,
            Severity::Info => &mut self.info,
        }
    }
}

/// Issues per category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CategoryCounts {
    /// Bugs.
    pub bug: u64,
    /// Vulnerabilities.
    pub vulnerability: u64,
    /// Code smells.
    pub code_smell: u64,
}

impl CategoryCounts {
    /// Counts one more issue of `category`.
    pub fn add(&mut self, category: Category) {
        match category {
            Category::Bug => self.bug += 1,
            Category::Vulnerability => self.vulnerability += 1,
            Category::CodeSmell => self.code_smell += 1,
        }
    }
}

/// The counts of a code-quality report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IssueCounts {
    /// Open issues (not suppressed).
    pub total: u64,
    /// Suppressed issues (SARIF `suppressions`, `baselineState: "absent"`, ESLint's
    /// suppressed messages), not counted in `total`.
    pub suppressed: u64,
    /// Open issues per severity.
    pub by_severity: SeverityCounts,
    /// Open issues per category.
    pub by_category: CategoryCounts,
    /// Distinct rule ids of the open issues.
    pub rules: u64,
    /// The ten rules with the most open issues, most first: (rule, issues).
    pub top_rules: Vec<(String, u64)>,
    /// Distinct files with an open issue (a path written two ways, `./a.py` and `a.py`,
    /// counts once).
    pub files: u64,
    /// The tool, when the report names one tool.
    pub tool: Option<String>,
    /// The tool's own score, when it states one (pylint's rating out of 10).
    pub tool_score: Option<f64>,
    /// The statements the tool analysed, when it says (pylint).
    pub statements: Option<u64>,
}

/// foldhash, seeded per map: several times faster than SipHash on rule ids and paths, and
/// still seeded against chosen collisions.
type Fast = foldhash::fast::RandomState;

/// Counts issues as they come, with memory for the distinct rules and files only.
#[derive(Debug, Default)]
pub(crate) struct IssueCounter {
    counts: IssueCounts,
    rules: HashMap<String, u64, Fast>,
    /// The distinct files, by the 128-bit hash of their path (two paths share one by
    /// chance about once in 10^38 pairs): no copy of each path is kept.
    files: HashSet<u128, Fast>,
    tools: HashSet<String, Fast>,
    /// The tool of the last issue (most reports have one).
    last_tool: Option<String>,
}

impl IssueCounter {
    pub(crate) fn push(&mut self, issue: &Issue) {
        self.add(
            &issue.tool,
            &issue.rule,
            &issue.path,
            issue.severity,
            issue.category,
            issue.suppressed,
        );
    }

    /// Counts one issue from its parts (no [`Issue`] made).
    pub(crate) fn add(
        &mut self,
        tool: &str,
        rule: &str,
        path: &str,
        severity: Severity,
        category: Category,
        suppressed: bool,
    ) {
        if self.last_tool.as_deref() != Some(tool) {
            if !self.tools.contains(tool) {
                self.tools.insert(tool.to_owned());
            }
            self.last_tool = Some(tool.to_owned());
        }
        if suppressed {
            self.counts.suppressed += 1;
            return;
        }
        self.counts.total += 1;
        self.counts.by_severity.add(severity);
        self.counts.by_category.add(category);
        match self.rules.get_mut(rule) {
            Some(n) => *n += 1,
            None => {
                self.rules.insert(rule.to_owned(), 1);
            }
        }
        self.files
            .insert(xxhash_rust::xxh3::xxh3_128(normalize_path(path).as_bytes()));
    }

    pub(crate) fn finish(
        mut self,
        tool_score: Option<f64>,
        statements: Option<u64>,
    ) -> IssueCounts {
        self.counts.rules = self.rules.len() as u64;
        let mut rules: Vec<(String, u64)> = self.rules.into_iter().collect();
        rules.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rules.truncate(10);
        self.counts.top_rules = rules;
        self.counts.files = self.files.len() as u64;
        if self.tools.len() == 1 {
            self.counts.tool = self.tools.into_iter().next().filter(|t| !t.is_empty());
        }
        self.counts.tool_score = tool_score;
        self.counts.statements = statements;
        self.counts
    }
}

/// A path as one file is named however the tool wrote it: `./a.py`, `a.py` and
/// `file:///src/a.py` relative to nothing differ only in their prefix; backslashes are
/// separators.
pub(crate) fn normalize_path(path: &str) -> &str {
    let mut p = path.strip_prefix("file://").unwrap_or(path);
    while let Some(rest) = p.strip_prefix("./").or_else(|| p.strip_prefix(".\\")) {
        p = rest;
    }
    p
}

/// The fingerprint of an issue its tool gives none: a hash of tool, rule, path and message,
/// with digits and quotes in the message normalised (`'x' on line 12` and `"x" on line 40`
/// are the same), never the line.
pub fn fingerprint(tool: &str, rule: &str, path: &str, message: &str) -> String {
    let mut normal = String::with_capacity(message.len());
    let mut in_digits = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                normal.push('0');
            }
            in_digits = true;
            continue;
        }
        in_digits = false;
        normal.push(match c {
            '\'' | '"' | '`' | '‘' | '’' | '“' | '”' => '"',
            other => other,
        });
    }
    let h = xxhash_rust::xxh3::xxh3_128(
        format!(
            "{tool}\u{1f}{rule}\u{1f}{}\u{1f}{normal}",
            normalize_path(path)
        )
        .as_bytes(),
    );
    format!("{h:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_indexed_worst_first() {
        let indexes: Vec<usize> = Severity::ALL.iter().map(|s| s.index()).collect();
        assert_eq!(indexes, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn security_scores_map_to_severities_at_their_boundaries() {
        assert_eq!(Severity::of_security_score(9.0), Severity::Blocker);
        assert_eq!(Severity::of_security_score(8.9), Severity::Critical);
        assert_eq!(Severity::of_security_score(7.0), Severity::Critical);
        assert_eq!(Severity::of_security_score(6.9), Severity::Major);
        assert_eq!(Severity::of_security_score(4.0), Severity::Major);
        assert_eq!(Severity::of_security_score(3.9), Severity::Minor);
    }

    #[test]
    fn fingerprints_ignore_numbers_quotes_and_path_prefixes_but_not_the_rule() {
        let a = fingerprint("ruff", "F401", "./a.py", "'os' imported but unused (12)");
        let b = fingerprint("ruff", "F401", "a.py", "\"os\" imported but unused (40)");
        let c = fingerprint("ruff", "F811", "a.py", "\"os\" imported but unused (40)");
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 32);
    }
}
