//! SARIF 2.1.0: `{runs: [{tool: {driver: {name, rules}, extensions: [{rules}]}, results}]}`.
//!
//! The document is streamed; each rule and each result is read whole onto a [`Tape`], one at
//! a time, and what is not needed is passed over. A run's rules usually come before its
//! results; results that come first are held until the run ends, then read with the rules.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use super::model::IssueCounter;
use super::{Category, Issue, Severity, is_ruff_security_rule, issue};
use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::json::{Ev, Item, Json, Kind, Tape, Wanted};
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

/// What a run says of its results: its tool and rules.
#[derive(Default)]
struct Run {
    tool: String,
    rules: Vec<Rule>,
    /// Rule id → index in `rules`, or `usize::MAX - i` for `extension_rules[i]`.
    by_id: HashMap<String, usize, foldhash::fast::RandomState>,
    extension_rules: Vec<Rule>,
}

pub(crate) struct SarifReader {
    json: Json,
    stage: Stage,
    pub(crate) warnings: Warnings,
    run: Run,
    /// Results read before their run's rules.
    held: Vec<Tape>,
    /// The rule or result being read.
    tape: Tape,
    rules_read: bool,
    pending: VecDeque<Issue>,
    /// When counting: the results go here, not to `pending`, with only what counting needs.
    counter: Option<IssueCounter>,
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
            run: Run::default(),
            held: Vec::new(),
            tape: Tape::default(),
            rules_read: false,
            pending: VecDeque::new(),
            counter: None,
            run_index: 0,
            result_index: 0,
        }
    }

    /// Counts every result into `counter` (reading only what counting needs) rather than
    /// returning them: [`SarifReader::next_issue`] returns `None` at the end.
    pub(crate) fn count_into(&mut self, counter: IssueCounter) -> Result<IssueCounter> {
        self.counter = Some(counter);
        while self.next_issue()?.is_some() {}
        Ok(self.counter.take().unwrap_or_default())
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
                        self.run = Run::default();
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
                                    self.emit(result.root());
                                }
                            }
                            ("results", Ev::BeginArray) => self.stage = Stage::Results,
                            (_, ev) => self.json.skip(ev)?,
                        }
                    }
                    Ev::End => {
                        for result in std::mem::take(&mut self.held) {
                            self.emit(result.root());
                        }
                        self.stage = Stage::Runs;
                        self.run_index += 1;
                    }
                    _ => unreachable!("keys or the end in an object"),
                },
                Stage::Results => {
                    let mut tape = std::mem::take(&mut self.tape);
                    let wanted: Wanted<'_> = if self.counter.is_some() {
                        &|key| COUNTED.contains(&key)
                    } else {
                        &|key| COUNTED.contains(&key) || DETAILS.contains(&key)
                    };
                    let read = self.json.next_element(&mut tape, Some(wanted));
                    if let Ok(true) = read {
                        if self.rules_read {
                            self.emit(tape.root());
                        } else {
                            self.held.push(tape.clone());
                        }
                        self.result_index += 1;
                    }
                    self.tape = tape;
                    if !read? {
                        self.stage = Stage::Run;
                    }
                }
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
                            self.run.tool = self.json.text().to_ascii_lowercase();
                        }
                        ("rules", Ev::BeginArray) => {
                            let mut tape = std::mem::take(&mut self.tape);
                            let wanted: Wanted<'_> = &|key| RULE.contains(&key);
                            while self.json.next_element(&mut tape, Some(wanted))? {
                                self.run.add_rule(tape.root(), driver);
                            }
                            self.tape = tape;
                        }
                        (_, ev) => self.json.skip(ev)?,
                    }
                }
                _ => unreachable!("keys or the end in an object"),
            }
        }
    }

    /// One result, to `pending` as an issue or to the counter.
    fn emit(&mut self, v: Item<'_>) {
        let counting = self.counter.is_some();
        let found = self.run.classify(v, !counting);
        match &mut self.counter {
            Some(counter) => counter.add(
                &self.run.tool,
                &found.rule_id,
                &found.path,
                found.severity,
                found.category,
                found.suppressed,
            ),
            None => {
                let mut issue = issue(
                    &self.run.tool,
                    found.rule_id.into_owned(),
                    found.severity,
                    found.level.into_owned(),
                    found.category,
                    found.message,
                    found.path.into_owned(),
                    found.line,
                    found.column,
                    found.fingerprint,
                );
                issue.suppressed = found.suppressed;
                self.pending.push_back(issue);
            }
        }
    }
}

impl Run {
    fn add_rule(&mut self, v: Item<'_>, driver: bool) {
        let id = v.get("id").and_then(|i| i.text()).unwrap_or_default();
        let props = v.get("properties");
        let tags = props.and_then(|p| p.get("tags"));
        let rule = Rule {
            id: id.to_string(),
            level: v
                .at(&["defaultConfiguration", "level"])
                .and_then(|l| l.str())
                .map(Cow::into_owned),
            security_severity: props
                .and_then(|p| p.get("security-severity"))
                .and_then(|s| s.as_f64()),
            security: has_tag(tags, |t| {
                t.eq_ignore_ascii_case("security") || starts_with_ignore_case(t, "external/cwe")
            }),
            correctness: has_tag(tags, |t| {
                t.eq_ignore_ascii_case("correctness") || t.eq_ignore_ascii_case("reliability")
            }),
        };
        // `ruleIndex` counts the driver's rules only: an extension's rule is found by its id,
        // after the driver's.
        let id = rule.id.clone();
        if driver {
            self.rules.push(rule);
            self.by_id.insert(id, self.rules.len() - 1);
        } else if !self.by_id.contains_key(&id) {
            self.extension_rules.push(rule);
            self.by_id
                .insert(id, usize::MAX - (self.extension_rules.len() - 1));
        }
    }

    /// One result: its rule, level, place, suppression and (with `details`) its message and
    /// the tool's fingerprint, read in one pass over its members.
    fn classify<'a>(&'a self, v: Item<'a>, details: bool) -> Classified<'a> {
        let mut found = Found::default();
        for (key, value) in v.members() {
            match key {
                b"ruleId" => found.rule_id = value.text(),
                b"ruleIndex" => found.rule_index = value.as_u64(),
                b"rule" => found.rule = Some(value),
                b"level" => found.level = value.str(),
                b"properties" => found.properties = Some(value),
                b"message" if details => found.message = Some(value),
                b"locations" => found.location = value.elements().next(),
                b"partialFingerprints" if details => found.partial = Some(value),
                b"fingerprints" if details => found.fingerprints = Some(value),
                b"suppressions" => found.suppressed |= value.is_nonempty_array(),
                b"baselineState" => {
                    found.suppressed |= value.str().is_some_and(|s| s == "absent");
                }
                _ => {}
            }
        }
        let rule_id = found
            .rule_id
            .or_else(|| found.rule.and_then(|r| r.get("id")).and_then(|i| i.text()));
        let index = found
            .rule_index
            .or_else(|| {
                found
                    .rule
                    .and_then(|r| r.get("index"))
                    .and_then(|i| i.as_u64())
            })
            .and_then(|i| usize::try_from(i).ok());
        let by_id = |id: &Cow<'_, str>| {
            self.by_id.get(id.as_ref()).and_then(|&i| {
                self.rules
                    .get(i)
                    .or_else(|| self.extension_rules.get(usize::MAX - i))
            })
        };
        let rule = index
            .and_then(|i| self.rules.get(i))
            .or_else(|| rule_id.as_ref().and_then(by_id));
        let rule_id = rule_id
            .or_else(|| rule.map(|r| Cow::Borrowed(r.id.as_str())))
            .unwrap_or_default();
        let level: Cow<'_, str> = found
            .level
            .or_else(|| rule.and_then(|r| r.level.as_deref()).map(Cow::Borrowed))
            .unwrap_or(Cow::Borrowed("warning"));
        let props = found.properties;
        let security_severity = props
            .and_then(|p| p.get("security-severity"))
            .and_then(|s| s.as_f64())
            .or(rule.and_then(|r| r.security_severity));
        let severity = match security_severity {
            Some(score) => Severity::of_security_score(score),
            None => match level.as_ref() {
                "error" => Severity::Major,
                "warning" => Severity::Minor,
                _ => Severity::Info,
            },
        };
        let tags = props.and_then(|p| p.get("tags"));
        let category = if security_severity.is_some()
            || rule.is_some_and(|r| r.security)
            || has_tag(tags, |t| t.eq_ignore_ascii_case("security"))
            || self.tool == "bandit"
            || (self.tool == "ruff" && is_ruff_security_rule(&rule_id))
        {
            Category::Vulnerability
        } else if rule.is_some_and(|r| r.correctness)
            || has_tag(tags, |t| t.eq_ignore_ascii_case("correctness"))
        {
            Category::Bug
        } else {
            Category::CodeSmell
        };
        let location = found.location.and_then(|l| l.get("physicalLocation"));
        let path = location
            .and_then(|l| l.at(&["artifactLocation", "uri"]))
            .and_then(|u| u.str())
            .unwrap_or_default();
        let mut classified = Classified {
            rule_id,
            level,
            severity,
            category,
            path,
            suppressed: found.suppressed,
            message: String::new(),
            line: None,
            column: None,
            fingerprint: None,
        };
        if details {
            classified.message = found
                .message
                .and_then(|m| m.get("text").or_else(|| m.get("markdown")))
                .and_then(|t| t.str())
                .map(Cow::into_owned)
                .unwrap_or_default();
            let region = location.and_then(|l| l.get("region"));
            let number = |key: &str| {
                region
                    .and_then(|r| r.get(key))
                    .and_then(|n| n.as_u64())
                    .and_then(|n| u32::try_from(n).ok())
            };
            classified.line = number("startLine");
            classified.column = number("startColumn");
            classified.fingerprint = [found.partial, found.fingerprints]
                .into_iter()
                .flatten()
                .find_map(fingerprint_of);
        }
        classified
    }
}

/// The members of a result that counting reads; the others are checked and passed over.
const COUNTED: [&[u8]; 8] = [
    b"ruleId",
    b"ruleIndex",
    b"rule",
    b"level",
    b"properties",
    b"locations",
    b"suppressions",
    b"baselineState",
];

/// The members of a result that only a stored issue needs.
const DETAILS: [&[u8]; 3] = [b"message", b"partialFingerprints", b"fingerprints"];

/// The members of a rule that are read.
const RULE: [&[u8]; 3] = [b"id", b"defaultConfiguration", b"properties"];

/// What a result says, its rule's defaults applied.
struct Classified<'a> {
    rule_id: Cow<'a, str>,
    level: Cow<'a, str>,
    severity: Severity,
    category: Category,
    path: Cow<'a, str>,
    suppressed: bool,
    /// The rest only with details.
    message: String,
    line: Option<u32>,
    column: Option<u32>,
    fingerprint: Option<String>,
}

/// The members of a result that matter, found in one pass.
#[derive(Default)]
struct Found<'t> {
    rule_id: Option<Cow<'t, str>>,
    rule_index: Option<u64>,
    rule: Option<Item<'t>>,
    level: Option<Cow<'t, str>>,
    properties: Option<Item<'t>>,
    message: Option<Item<'t>>,
    location: Option<Item<'t>>,
    partial: Option<Item<'t>>,
    fingerprints: Option<Item<'t>>,
    suppressed: bool,
}

/// Whether `tags` (an array of strings) has one that `is` accepts.
fn has_tag(tags: Option<Item<'_>>, is: impl Fn(&str) -> bool) -> bool {
    tags.is_some_and(|tags| tags.elements().any(|t| t.str().is_some_and(|t| is(&t))))
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// A tool's fingerprint object (`{"primaryLocationLineHash": "…", …}`) as one string, its
/// members sorted: `key=value;key=value`.
fn fingerprint_of(object: Item<'_>) -> Option<String> {
    if object.kind() != Kind::Object {
        return None;
    }
    let mut parts: Vec<String> = object
        .members()
        .filter_map(|(k, v)| {
            let k = String::from_utf8_lossy(k);
            v.text().map(|t| format!("{k}={t}"))
        })
        .collect();
    parts.sort();
    (!parts.is_empty()).then(|| parts.join(";"))
}
