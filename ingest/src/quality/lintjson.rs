//! The JSON reports of single linters: Code Climate (GitLab Code Quality), pylint `json2`,
//! ESLint, ruff and bandit. Each item (an issue, or ESLint's file with its messages) is read
//! whole, one at a time; the document is streamed.

use std::collections::VecDeque;

use super::{Category, Issue, Severity, is_ruff_security_rule, issue};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::json::{Ev, Json, Value};
use crate::model::Format;
use crate::warnings::Warnings;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Before the top-level value.
    Start,
    /// In the top-level object, between members.
    TopKeys,
    /// In the array of items (the top-level one, or a member's).
    Items,
    Done,
}

pub(crate) struct LintJsonReader {
    json: Json,
    format: Format,
    stage: Stage,
    /// Whether the items' array is the top-level value (else a member of the top object).
    top_array: bool,
    pending: VecDeque<Issue>,
    pub(crate) warnings: Warnings,
    pub(crate) score: Option<f64>,
    pub(crate) statements: Option<u64>,
    /// The index of the item being read, for errors' JSON path.
    item_index: u64,
}

impl LintJsonReader {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> Self {
        LintJsonReader {
            json: Json::new(source, format, options.limits),
            format,
            stage: Stage::Start,
            top_array: false,
            pending: VecDeque::new(),
            warnings: Warnings::new(options.strict),
            score: None,
            statements: None,
            item_index: 0,
        }
    }

    /// The JSON path of where the reader is (`[12]`, `messages[3]`).
    fn path(&self) -> String {
        match (self.stage, self.top_array) {
            (Stage::Items, true) => format!("[{}]", self.item_index),
            (Stage::Items, false) => format!("{}[{}]", self.items_key(), self.item_index),
            _ => "$".into(),
        }
    }

    /// The member of the top-level object that holds the items.
    fn items_key(&self) -> &'static str {
        match self.format {
            Format::PylintJson2 => "messages",
            _ => "results",
        }
    }

    pub(crate) fn next_issue(&mut self) -> Result<Option<Issue>> {
        let next = self.step();
        super::at_path(next, || self.path())
    }

    fn step(&mut self) -> Result<Option<Issue>> {
        loop {
            if let Some(issue) = self.pending.pop_front() {
                return Ok(Some(issue));
            }
            match self.stage {
                Stage::Done => return Ok(None),
                Stage::Start => match self.json.next(true)? {
                    Ev::BeginArray => {
                        self.top_array = true;
                        self.stage = Stage::Items;
                    }
                    Ev::BeginObject => self.stage = Stage::TopKeys,
                    _ => {
                        return Err(self.json.error_at_token(ErrorKind::Invalid(format!(
                            "a {} report is a JSON {}",
                            self.format.name(),
                            if self.expects_array() {
                                "array"
                            } else {
                                "object"
                            }
                        ))));
                    }
                },
                Stage::TopKeys => match self.json.next(true)? {
                    Ev::Key => {
                        let key = self.json.text().to_owned();
                        let ev = self.json.next(true)?;
                        if key == self.items_key() && ev == Ev::BeginArray {
                            self.stage = Stage::Items;
                        } else if key == "statistics" && self.format == Format::PylintJson2 {
                            let v = self.json.read_value(ev)?;
                            // pylint states the score unrounded; it prints two decimals.
                            self.score = v
                                .get("score")
                                .and_then(Value::as_f64)
                                .map(|s| (s * 100.0).round() / 100.0);
                            self.statements = v.get("statements").and_then(Value::as_u64);
                        } else {
                            self.json.skip(ev)?;
                        }
                    }
                    Ev::End => {
                        self.expect_eof()?;
                    }
                    _ => unreachable!("the parser gives keys or the end in an object"),
                },
                Stage::Items => match self.json.next(true)? {
                    Ev::End => {
                        if self.top_array {
                            self.expect_eof()?;
                        } else {
                            self.stage = Stage::TopKeys;
                        }
                    }
                    ev => {
                        let item = self.json.read_value(ev)?;
                        self.item(&item)?;
                        self.item_index += 1;
                    }
                },
            }
        }
    }

    fn expects_array(&self) -> bool {
        matches!(
            self.format,
            Format::CodeClimate | Format::EslintJson | Format::RuffJson
        )
    }

    fn expect_eof(&mut self) -> Result<()> {
        match self.json.next(false)? {
            Ev::Eof => {
                self.stage = Stage::Done;
                Ok(())
            }
            _ => Err(self
                .json
                .error_at_token(ErrorKind::Syntax("text after the report".into()))),
        }
    }

    /// The issues of one item.
    fn item(&mut self, v: &Value) -> Result<()> {
        match self.format {
            Format::CodeClimate => {
                if v.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "issue")
                {
                    return Ok(());
                }
                let found = code_climate(v).ok_or_else(|| self.not_an_issue())?;
                self.pending.push_back(found);
            }
            Format::PylintJson2 => {
                let found = pylint(v).ok_or_else(|| self.not_an_issue())?;
                self.pending.push_back(found);
            }
            Format::RuffJson => {
                let found = ruff(v).ok_or_else(|| self.not_an_issue())?;
                self.pending.push_back(found);
            }
            Format::BanditJson => {
                let found = bandit(v).ok_or_else(|| self.not_an_issue())?;
                self.pending.push_back(found);
            }
            _ => {
                let path = v
                    .get("filePath")
                    .and_then(Value::as_str)
                    .ok_or_else(|| self.not_an_issue())?;
                for (list, suppressed) in [("messages", false), ("suppressedMessages", true)] {
                    for m in v.get(list).map(Value::as_array).unwrap_or_default() {
                        let mut found = eslint(path, m).ok_or_else(|| self.not_an_issue())?;
                        found.suppressed = suppressed;
                        self.pending.push_back(found);
                    }
                }
            }
        }
        Ok(())
    }

    fn not_an_issue(&self) -> crate::Error {
        self.json.error_at_token(ErrorKind::Invalid(format!(
            "an item of this {} report lacks what an issue has",
            self.format.name()
        )))
    }
}

fn line_of(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// `{check_name, description, severity, categories, fingerprint, remediation_points,
/// location: {path, lines: {begin} | positions: {begin: {line, column}}}}`.
fn code_climate(v: &Value) -> Option<Issue> {
    let rule = v.get("check_name")?.text()?;
    let message = v.get("description")?.as_str()?.to_owned();
    let native = v
        .get("severity")
        .and_then(Value::as_str)
        .unwrap_or("info")
        .to_owned();
    let severity = Severity::from_name(&native).unwrap_or(Severity::Info);
    let location = v.get("location")?;
    let path = location.get("path")?.as_str()?.to_owned();
    let line = line_of(location.at(&["lines", "begin"]))
        .or_else(|| line_of(location.at(&["positions", "begin", "line"])));
    let column = line_of(location.at(&["positions", "begin", "column"]));
    let categories: Vec<&str> = v
        .get("categories")
        .map(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The tool is not named; the engine is, where the report comes from Code Climate itself.
    let tool = v
        .get("engine_name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let category = if categories.contains(&"Security")
        || (tool.is_empty() || tool == "ruff") && is_ruff_security_rule(&rule)
    {
        Category::Vulnerability
    } else if categories.contains(&"Bug Risk") {
        Category::Bug
    } else {
        Category::CodeSmell
    };
    let mut found = issue(
        &tool,
        rule,
        severity,
        native,
        category,
        message,
        path,
        line,
        column,
        v.get("fingerprint").and_then(Value::text),
    );
    // Code Climate's unit: 50,000 points is a simple fix of about five minutes.
    found.effort_minutes = v
        .get("remediation_points")
        .and_then(Value::as_u64)
        .map(|p| u32::try_from(p / 10_000).unwrap_or(u32::MAX));
    Some(found)
}

/// `{type, symbol, message, messageId, path, line, column, ...}`.
fn pylint(v: &Value) -> Option<Issue> {
    let native = v.get("type")?.as_str()?.to_owned();
    let (severity, category) = match native.as_str() {
        "fatal" => (Severity::Blocker, Category::Bug),
        "error" => (Severity::Critical, Category::Bug),
        "warning" => (Severity::Major, Category::CodeSmell),
        "refactor" | "convention" => (Severity::Minor, Category::CodeSmell),
        _ => (Severity::Info, Category::CodeSmell),
    };
    let rule = v
        .get("messageId")
        .and_then(Value::text)
        .or_else(|| v.get("symbol").and_then(Value::text))?;
    Some(issue(
        "pylint",
        rule,
        severity,
        native,
        category,
        v.get("message")?.as_str()?.to_owned(),
        v.get("path")?.as_str()?.to_owned(),
        line_of(v.get("line")),
        // pylint's columns are 0-based.
        line_of(v.get("column")).map(|c| c + 1),
        None,
    ))
}

/// `{code, message, filename, location: {row, column}, ...}`.
fn ruff(v: &Value) -> Option<Issue> {
    let rule = v
        .get("code")
        .and_then(Value::text)
        .unwrap_or_else(|| "syntax-error".into());
    let category = if is_ruff_security_rule(&rule) {
        Category::Vulnerability
    } else {
        Category::CodeSmell
    };
    Some(issue(
        "ruff",
        rule,
        Severity::Major,
        v.get("severity")
            .and_then(Value::as_str)
            .unwrap_or("error")
            .to_owned(),
        category,
        v.get("message")?.as_str()?.to_owned(),
        v.get("filename")?.as_str()?.to_owned(),
        line_of(v.at(&["location", "row"])),
        line_of(v.at(&["location", "column"])),
        None,
    ))
}

/// `{test_id, issue_severity, issue_text, filename, line_number, col_offset, ...}`.
fn bandit(v: &Value) -> Option<Issue> {
    let native = v.get("issue_severity")?.as_str()?.to_owned();
    let severity = match native.to_ascii_uppercase().as_str() {
        "HIGH" => Severity::Critical,
        "MEDIUM" => Severity::Major,
        _ => Severity::Minor,
    };
    Some(issue(
        "bandit",
        v.get("test_id")?.text()?,
        severity,
        native,
        Category::Vulnerability,
        v.get("issue_text")?.as_str()?.to_owned(),
        v.get("filename")?.as_str()?.to_owned(),
        line_of(v.get("line_number")),
        // bandit's columns are 0-based.
        line_of(v.get("col_offset")).map(|c| c + 1),
        None,
    ))
}

/// One of an ESLint file's `messages`: `{ruleId, severity, message, line, column}`.
fn eslint(path: &str, m: &Value) -> Option<Issue> {
    let native = m.get("severity")?.as_u64()?;
    let severity = if native >= 2 {
        Severity::Major
    } else {
        Severity::Minor
    };
    // A message without a rule is ESLint's own (a parse error, an unused directive).
    let rule = m
        .get("ruleId")
        .and_then(Value::text)
        .unwrap_or_else(|| "eslint".into());
    Some(issue(
        "eslint",
        rule,
        severity,
        native.to_string(),
        Category::CodeSmell,
        m.get("message")?.as_str()?.to_owned(),
        path.to_owned(),
        line_of(m.get("line")),
        line_of(m.get("column")),
        None,
    ))
}
