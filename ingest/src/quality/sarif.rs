//! SARIF 2.1.0: `{runs: [{tool: {driver: {name, rules}, extensions: [{rules}]}, results}]}`.
//!
//! The document is streamed; each rule and each result is read whole, one at a time. A run's
//! rules usually come before its results; results that come first are held until the run
//! ends, then read with the rules.

use std::collections::{HashMap, VecDeque};

use super::{Category, Issue, Severity, is_ruff_security_rule, issue};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::json::{Ev, Json, Value};
use crate::model::Format;
use crate::warnings::Warnings;

/// What a result needs of its rule.
#[derive(Default, Clone)]
struct Rule {
    id: String,
    level: Option<String>,
    security_severity: Option<f64>,
    security: bool,
    correctness: bool,
}

/// Where the reader is in the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Start,
    /// In the top-level object.
    Top,
    /// In `runs`, between runs.
    Runs,
    /// In a run object, between members.
    Run,
    /// In a run's `results`.
    Results,
    Done,
}

pub(crate) struct SarifReader {
    json: Json,
    stage: Stage,
    pub(crate) warnings: Warnings,
    tool: String,
    rules: Vec<Rule>,
    /// Rule id → index in `rules`, or `usize::MAX - i` for `extension_rules[i]`.
    by_id: HashMap<String, usize>,
    extension_rules: Vec<Rule>,
    /// Results read before their run's rules.
    held: Vec<Value>,
    rules_read: bool,
    pending: VecDeque<Issue>,
    /// Where the reader is, for errors: the run and result indexes (`runs[0].results[12]`).
    run_index: u64,
    result_index: u64,
}

impl SarifReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        SarifReader {
            json: Json::new(source, Format::Sarif, options.limits),
            stage: Stage::Start,
            warnings: Warnings::new(options.strict),
            tool: String::new(),
            rules: Vec::new(),
            by_id: HashMap::new(),
            extension_rules: Vec::new(),
            held: Vec::new(),
            rules_read: false,
            pending: VecDeque::new(),
            run_index: 0,
            result_index: 0,
        }
    }

    /// The JSON path of where the reader is.
    fn path(&self) -> String {
        match self.stage {
            Stage::Start | Stage::Top | Stage::Done => "$".into(),
            Stage::Runs => "runs".into(),
            Stage::Run => format!("runs[{}]", self.run_index),
            Stage::Results => format!("runs[{}].results[{}]", self.run_index, self.result_index),
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
                Stage::Start => match self.json.next(false)? {
                    Ev::BeginObject => self.stage = Stage::Top,
                    _ => return Err(self.invalid("a SARIF log is a JSON object")),
                },
                Stage::Top => match self.json.next(true)? {
                    Ev::Key if self.json.text() == "runs" => match self.json.next(false)? {
                        Ev::BeginArray => self.stage = Stage::Runs,
                        _ => return Err(self.invalid("`runs` is not an array")),
                    },
                    Ev::Key => {
                        let ev = self.json.next(false)?;
                        self.json.skip(ev)?;
                    }
                    Ev::End => match self.json.next(false)? {
                        Ev::Eof => self.stage = Stage::Done,
                        _ => return Err(self.invalid("text after the SARIF log")),
                    },
                    _ => unreachable!("keys or the end in an object"),
                },
                Stage::Runs => match self.json.next(false)? {
                    Ev::BeginObject => {
                        self.result_index = 0;
                        self.tool.clear();
                        self.rules.clear();
                        self.by_id.clear();
                        self.extension_rules.clear();
                        self.rules_read = false;
                        self.stage = Stage::Run;
                    }
                    Ev::End => self.stage = Stage::Top,
                    _ => return Err(self.invalid("a run is not an object")),
                },
                Stage::Run => match self.json.next(true)? {
                    Ev::Key => {
                        let key = self.json.text().to_owned();
                        let ev = self.json.next(true)?;
                        match (key.as_str(), ev) {
                            ("tool", Ev::BeginObject) => {
                                self.read_tool()?;
                                self.rules_read = true;
                                for result in std::mem::take(&mut self.held) {
                                    self.result(&result)?;
                                }
                            }
                            ("results", Ev::BeginArray) => self.stage = Stage::Results,
                            (_, ev) => self.json.skip(ev)?,
                        }
                    }
                    Ev::End => {
                        for result in std::mem::take(&mut self.held) {
                            self.result(&result)?;
                        }
                        self.stage = Stage::Runs;
                        self.run_index += 1;
                    }
                    _ => unreachable!("keys or the end in an object"),
                },
                Stage::Results => match self.json.next(true)? {
                    Ev::End => self.stage = Stage::Run,
                    ev => {
                        let result = self.json.read_value(ev)?;
                        if self.rules_read {
                            self.result(&result)?;
                        } else {
                            self.held.push(result);
                        }
                        self.result_index += 1;
                    }
                },
            }
        }
    }

    fn invalid(&self, what: &str) -> crate::Error {
        self.json.error_at_token(ErrorKind::Invalid(what.into()))
    }

    /// `tool: {driver: {name, rules: [...]}, extensions: [{rules: [...]}]}`, a rule at a time.
    fn read_tool(&mut self) -> Result<()> {
        loop {
            match self.json.next(true)? {
                Ev::End => return Ok(()),
                Ev::Key => {
                    let key = self.json.text().to_owned();
                    let ev = self.json.next(true)?;
                    match (key.as_str(), ev) {
                        ("driver", Ev::BeginObject) => self.read_component(true)?,
                        ("extensions", Ev::BeginArray) => loop {
                            match self.json.next(true)? {
                                Ev::End => break,
                                Ev::BeginObject => self.read_component(false)?,
                                ev => self.json.skip(ev)?,
                            }
                        },
                        (_, ev) => self.json.skip(ev)?,
                    }
                }
                _ => unreachable!("keys or the end in an object"),
            }
        }
    }

    /// A tool component (`driver` or an extension): its name and rules.
    fn read_component(&mut self, driver: bool) -> Result<()> {
        loop {
            match self.json.next(true)? {
                Ev::End => return Ok(()),
                Ev::Key => {
                    let key = self.json.text().to_owned();
                    let ev = self.json.next(true)?;
                    match (key.as_str(), ev) {
                        ("name", Ev::Str) if driver => {
                            self.tool = self.json.text().to_ascii_lowercase();
                        }
                        ("rules", Ev::BeginArray) => loop {
                            match self.json.next(true)? {
                                Ev::End => break,
                                ev => {
                                    let rule = self.json.read_value(ev)?;
                                    self.add_rule(&rule, driver);
                                }
                            }
                        },
                        (_, ev) => self.json.skip(ev)?,
                    }
                }
                _ => unreachable!("keys or the end in an object"),
            }
        }
    }

    fn add_rule(&mut self, v: &Value, driver: bool) {
        let id = v.get("id").and_then(Value::text).unwrap_or_default();
        let props = v.get("properties");
        let tags: Vec<String> = props
            .and_then(|p| p.get("tags"))
            .map(Value::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect();
        let rule = Rule {
            id: id.clone(),
            level: v
                .at(&["defaultConfiguration", "level"])
                .and_then(Value::as_str)
                .map(str::to_owned),
            security_severity: props
                .and_then(|p| p.get("security-severity"))
                .and_then(Value::as_f64),
            security: tags
                .iter()
                .any(|t| t == "security" || t.starts_with("external/cwe")),
            correctness: tags
                .iter()
                .any(|t| t == "correctness" || t == "reliability"),
        };
        // `ruleIndex` counts the driver's rules only: an extension's rule is found by its id,
        // after the driver's.
        if driver {
            self.rules.push(rule);
            self.by_id.insert(id, self.rules.len() - 1);
        } else if !self.by_id.contains_key(&id) {
            self.extension_rules.push(rule);
            self.by_id
                .insert(id, usize::MAX - (self.extension_rules.len() - 1));
        }
    }

    /// One result: its rule, level, place, fingerprint and suppression.
    fn result(&mut self, v: &Value) -> Result<()> {
        let rule_id = v
            .get("ruleId")
            .and_then(Value::text)
            .or_else(|| v.at(&["rule", "id"]).and_then(Value::text));
        let index = v
            .get("ruleIndex")
            .or_else(|| v.at(&["rule", "index"]))
            .and_then(Value::as_u64)
            .and_then(|i| usize::try_from(i).ok());
        let by_id = |id: &String| {
            self.by_id.get(id).and_then(|&i| {
                self.rules
                    .get(i)
                    .or_else(|| self.extension_rules.get(usize::MAX - i))
            })
        };
        let rule = index
            .and_then(|i| self.rules.get(i))
            .or_else(|| rule_id.as_ref().and_then(by_id))
            .cloned()
            .unwrap_or_default();
        let rule_id = rule_id.unwrap_or_else(|| rule.id.clone());
        let level = v
            .get("level")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or(rule.level.clone())
            .unwrap_or_else(|| "warning".into());
        let props = v.get("properties");
        let security_severity = props
            .and_then(|p| p.get("security-severity"))
            .and_then(Value::as_f64)
            .or(rule.security_severity);
        let severity = match security_severity {
            Some(score) => Severity::of_security_score(score),
            None => match level.as_str() {
                "error" => Severity::Major,
                "warning" => Severity::Minor,
                _ => Severity::Info,
            },
        };
        let tagged = |tag: &str| {
            props
                .and_then(|p| p.get("tags"))
                .map(Value::as_array)
                .unwrap_or_default()
                .iter()
                .any(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case(tag)))
        };
        let category = if security_severity.is_some()
            || rule.security
            || tagged("security")
            || self.tool == "bandit"
            || (self.tool == "ruff" && is_ruff_security_rule(&rule_id))
        {
            Category::Vulnerability
        } else if rule.correctness || tagged("correctness") {
            Category::Bug
        } else {
            Category::CodeSmell
        };
        let message = v
            .at(&["message", "text"])
            .or_else(|| v.at(&["message", "markdown"]))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let location = v.at(&["locations", "0", "physicalLocation"]);
        let path = location
            .and_then(|l| l.at(&["artifactLocation", "uri"]))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let region = location.and_then(|l| l.get("region"));
        let number = |key: &str| {
            region
                .and_then(|r| r.get(key))
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        let own_fingerprint =
            ["partialFingerprints", "fingerprints"]
                .iter()
                .find_map(|key| match v.get(key) {
                    Some(Value::Obj(members)) => {
                        let mut parts: Vec<String> = members
                            .iter()
                            .filter_map(|(k, v)| v.text().map(|t| format!("{k}={t}")))
                            .collect();
                        parts.sort();
                        (!parts.is_empty()).then(|| parts.join(";"))
                    }
                    _ => None,
                });
        let suppressed = !v
            .get("suppressions")
            .map(Value::as_array)
            .unwrap_or_default()
            .is_empty()
            || v.get("baselineState").and_then(Value::as_str) == Some("absent");
        let mut found = issue(
            &self.tool,
            rule_id,
            severity,
            level,
            category,
            message,
            path,
            number("startLine"),
            number("startColumn"),
            own_fingerprint,
        );
        found.suppressed = suppressed;
        self.pending.push_back(found);
        Ok(())
    }
}
