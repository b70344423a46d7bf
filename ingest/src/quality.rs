//! Code-quality reports: what linters and analysers write, read into [`Issue`]s on one
//! severity scale.
//!
//! | format | written by | severity from |
//! |---|---|---|
//! | `sarif` (SARIF 2.1.0, several runs) | CodeQL, semgrep, ruff, ESLint's SARIF formatter, bandit, clippy-sarif, trivy | `level` (else the rule's `defaultConfiguration.level`, else `warning`): error → major, warning → minor, note/none → info; a `security-severity` property: ≥ 9.0 blocker, ≥ 7.0 critical, ≥ 4.0 major, else minor |
//! | `codeclimate` (Code Climate JSON, GitLab Code Quality) | ruff `--output-format gitlab`, pylint-gitlab, eslint-formatter-gitlab | its `severity` word |
//! | `checkstyle` | Checkstyle, ESLint's checkstyle formatter, flake8-checkstyle, ktlint, detekt, PHP_CodeSniffer | error → major, warning → minor, info → info, ignore → not an issue |
//! | `pylint-json2` | pylint `--output-format=json2` | fatal → blocker, error → critical, warning → major, refactor/convention → minor, info → info |
//! | `eslint-json` | ESLint `-f json` | 2 → major, 1 → minor |
//! | `ruff-json` | ruff `--output-format json` | major |
//! | `bandit-json` | bandit `-f json` | HIGH → critical, MEDIUM → major, LOW → minor |
//! | `lint-text` (named explicitly) | flake8, ruff concise, pycodestyle: `path:line:col: CODE message`; mypy: `path:line[:col]: error: message  [code]` | minor; mypy `error` → major, `note` is no issue |
//!
//! Category: `vulnerability` when the tool says security (SARIF tags `security`, a
//! `security-severity`, Code Climate category `Security`, bandit, ruff's `S` rules); `bug`
//! for pylint `error`/`fatal`, mypy, SARIF rules tagged `correctness` and Code Climate's `Bug
//! Risk`; `code_smell` otherwise.
//!
//! Suppressed findings (SARIF `suppressions` that are not empty or `baselineState:
//! "absent"`, ESLint's `suppressedMessages`) are issues with `suppressed`, counted apart.

mod checkstyle;
mod lintjson;
mod linttext;
pub(crate) mod model;
mod sarif;

pub use model::{
    Category, CategoryCounts, Issue, IssueCounts, Severity, SeverityCounts, fingerprint,
};

use crate::error::Result;
use crate::input::{Options, Source};
use crate::model::Format;
use crate::warnings::Warnings;

enum Inner {
    Sarif(Box<sarif::SarifReader>),
    Json(lintjson::LintJsonReader),
    Checkstyle(checkstyle::CheckstyleReader),
    Text(linttext::LintTextReader),
}

/// Streams the issues of a code-quality report, one at a time.
pub struct IssueReader {
    inner: Inner,
    format: Format,
    /// Whether to make the fingerprints tools do not give (counting needs none).
    fingerprints: bool,
}

impl IssueReader {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> IssueReader {
        let inner = match format {
            Format::Sarif => Inner::Sarif(Box::new(sarif::SarifReader::new(source, options))),
            Format::Checkstyle => {
                Inner::Checkstyle(checkstyle::CheckstyleReader::new(source, options))
            }
            Format::LintText => Inner::Text(linttext::LintTextReader::new(source, options)),
            _ => Inner::Json(lintjson::LintJsonReader::new(source, format, options)),
        };
        IssueReader {
            inner,
            format,
            fingerprints: true,
        }
    }

    /// Leaves out the fingerprints the tools do not give (for counting).
    pub(crate) fn without_fingerprints(mut self) -> Self {
        self.fingerprints = false;
        self
    }

    /// Counts every issue into `counter`. SARIF results are counted as they are read, with no
    /// [`Issue`] made.
    pub(crate) fn count_into(
        &mut self,
        mut counter: model::IssueCounter,
    ) -> Result<model::IssueCounter> {
        if let Inner::Sarif(r) = &mut self.inner {
            return r.count_into(counter);
        }
        while let Some(issue) = self.next_issue()? {
            counter.push(&issue);
        }
        Ok(counter)
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next issue, or `None` at the end of a well-formed report.
    ///
    /// # Errors
    /// Malformed input, with its position.
    pub fn next_issue(&mut self) -> Result<Option<Issue>> {
        let mut next = match &mut self.inner {
            Inner::Sarif(r) => r.next_issue(),
            Inner::Json(r) => r.next_issue(),
            Inner::Checkstyle(r) => r.next_issue(),
            Inner::Text(r) => r.next_issue(),
        }?;
        if let Some(i) = next.as_mut()
            && i.fingerprint.is_empty()
            && self.fingerprints
        {
            i.fingerprint = fingerprint(&i.tool, &i.rule, &i.path, &i.message);
        }
        Ok(next)
    }

    /// The tool's own score and statement count (pylint), and the warnings.
    pub(crate) fn finish(self) -> (Option<f64>, Option<u64>, Vec<String>) {
        let (score, statements, warnings): (Option<f64>, Option<u64>, Warnings) = match self.inner {
            Inner::Sarif(r) => (None, None, r.warnings),
            Inner::Json(r) => (r.score, r.statements, r.warnings),
            Inner::Checkstyle(r) => (None, None, r.warnings),
            Inner::Text(r) => (None, None, r.warnings),
        };
        (score, statements, warnings.into_vec())
    }
}

impl Iterator for IssueReader {
    type Item = Result<Issue>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_issue().transpose()
    }
}

/// `result`, its error naming the JSON path `path` gives, unless it names a path already.
pub(crate) fn at_path<T>(result: Result<T>, path: impl FnOnce() -> String) -> Result<T> {
    result.map_err(|e| {
        if e.path().is_empty() {
            e.with_path(path())
        } else {
            e
        }
    })
}

/// Which code-quality JSON format `prefix` (a document starting with `{` or `[`) is, from its
/// member names: SARIF (`runs` with a `$schema` or `version` of SARIF), pylint `json2`
/// (`messages` and `statistics`), bandit (`results` and `metrics` or `generated_at`); an
/// array of Code Climate issues (`check_name`), ESLint files (`filePath`) or ruff findings
/// (`code` and `filename`). An empty array is an empty Code Climate report.
pub(crate) fn detect_json(prefix: &[u8], keys: &[crate::jsoncov::PrefixKey]) -> Option<Format> {
    let top = |key: &str| keys.iter().any(|k| k.depth == 1 && k.key == key);
    let item = |key: &str| keys.iter().any(|k| k.depth == 2 && k.key == key);
    let text = prefix
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| &prefix[i..]);
    match text?.first()? {
        b'{' => {
            let sarif_schema = keys.iter().any(|k| {
                k.depth == 1
                    && (k.key == "$schema" && k.value.to_ascii_lowercase().contains("sarif")
                        || k.key == "version" && k.value.starts_with("2.1"))
            });
            if top("runs") && (sarif_schema || !top("messages")) {
                Some(Format::Sarif)
            } else if top("messages") && top("statistics") {
                Some(Format::PylintJson2)
            } else if top("results") && (top("metrics") || top("generated_at")) {
                Some(Format::BanditJson)
            } else {
                None
            }
        }
        b'[' => {
            let rest = &text?[1..];
            let empty = rest.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b']');
            if empty || item("check_name") {
                Some(Format::CodeClimate)
            } else if item("filePath") {
                Some(Format::EslintJson)
            } else if item("code") && item("filename") {
                Some(Format::RuffJson)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Builds an [`Issue`] from what a reader found; the fingerprint is the tool's own, else left
/// empty for [`IssueReader::next_issue`] to make ([`fingerprint`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn issue(
    tool: &str,
    rule: String,
    severity: Severity,
    native_severity: String,
    category: Category,
    message: String,
    path: String,
    line: Option<u32>,
    column: Option<u32>,
    own_fingerprint: Option<String>,
) -> Issue {
    let fingerprint = own_fingerprint.unwrap_or_default();
    Issue {
        tool: tool.to_owned(),
        rule,
        severity,
        native_severity,
        category,
        message,
        path,
        line: line.filter(|l| *l > 0),
        column: column.filter(|c| *c > 0),
        fingerprint,
        effort_minutes: None,
        suppressed: false,
    }
}

/// Whether a ruff rule id is one of its security (`S`, flake8-bandit) rules.
pub(crate) fn is_ruff_security_rule(rule: &str) -> bool {
    rule.strip_prefix('S')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}
