//! Test reports other than JUnit XML, whose tests are elements with their outcome in an
//! attribute (TRX, NUnit 3, xUnit.net v2) or in children (SonarQube generic test execution).
//!
//! | format | test element | identity (class, name) | outcome | duration |
//! |---|---|---|---|---|
//! | TRX (`<TestRun>`) | `<UnitTestResult>`, data rows nested in `<InnerResults>` | the `<TestMethod className>` of its `testId`, `testName` | `outcome` | `duration="hh:mm:ss.fffffff"` |
//! | NUnit 3 (`<test-run>`) | `<test-case>` | `classname`, `name` | `result` (+ `label`) | `duration` (s) |
//! | xUnit.net v2 (`<assemblies>`) | `<test>` | `type`, `name` | `result` | `time` (s) |
//! | SonarQube (`<testExecutions>`) | `<testCase>` in `<file path>` (the suite) | –, `name` | `<failure>`/`<error>`/`<skipped>` | `duration` (ms) |
//!
//! Outcomes: TRX `Passed`, `PassedButRunAborted`, `Completed`, `Warning` are passed;
//! `Failed`, `Timeout` failed; `Error`, `Aborted`, `NotRunnable` errored; `NotExecuted`,
//! `Inconclusive`, `Pending`, `Disconnected` (anything else) skipped. NUnit `Passed` and
//! `Warning` are passed; `Failed` is errored with the label `Error`, `Cancelled` or `Invalid`,
//! else failed; `Skipped`, `Ignored`, `Explicit`, `Inconclusive` skipped. xUnit.net `Pass`,
//! `Fail`, `Skip`/`NotRun`.
//!
//! `dotnet test` writes a TRX's results before its `<TestDefinitions>`: those results are held
//! until the definitions give their classes (memory grows with the results of such a file;
//! mstest.exe writes the definitions first, and nothing is held).
//!
//! These formats write each result once and no retries: a repeated identity (a data row or an
//! example that shares its name) is another test ([`Repeats::Distinct`]). A TRX data-driven
//! test counts as its parent result and each row, as the file's own `<Counters>` count them.
//! The totals the report declares (TRX `<Counters total>`, NUnit `<test-run total>`, the sum
//! of xUnit.net's `<assembly total>`) are checked against the tests read, with a warning.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use quick_xml::events::BytesStart;

use crate::error::{ErrorKind, Result};
use crate::input::{Options, Source};
use crate::junit::CaseSink;
use crate::merge::Repeats;
use crate::model::{Attempt, AttemptKind, Format, Outcome, Status, TestCase, TestId};
use crate::warnings::{Oddity, Warnings};
use crate::xml::{Ev, TextAccumulator, Xml, attr_named, attr_value, for_each_attr};

/// A test element being read.
struct Open {
    depth: usize,
    case: TestCase,
    /// TRX: the `testId`, which `<TestDefinitions>` gives the class of.
    test_id: Option<String>,
    /// The status its attributes give (SonarQube: from its children).
    status: Status,
    message: Option<String>,
    details: Option<String>,
}

/// Streams the tests of a TRX, NUnit 3, xUnit.net v2 or SonarQube test execution report.
pub(crate) struct XmlTestReader {
    xml: Xml,
    buf: Vec<u8>,
    format: Format,
    options: Options,
    pub(crate) warnings: Warnings,
    details: bool,
    started: bool,
    done: bool,
    /// SonarQube's `<file path>`: the suite of the tests in it.
    suite: Arc<str>,
    open: Vec<Open>,
    /// Where the text being read goes: the message or the details of the innermost test.
    text: Option<(TextSlot, usize, TextAccumulator)>,
    declared_total: Option<u64>,
    /// Tests read whole, for the sink, in order.
    ready: VecDeque<TestCase>,
    /// TRX: each test's class, from `<TestDefinitions>` (`<UnitTest id>` →
    /// `<TestMethod className>`), and the `<UnitTest>` being read.
    classes: HashMap<String, Arc<str>>,
    unit_test: Option<String>,
    /// TRX: the depth of `<TestDefinitions>` while it is read, and whether it was.
    definitions_depth: Option<usize>,
    definitions_read: bool,
    /// TRX: results read before the definitions (`dotnet test` writes them first), held until
    /// their classes are known; with their test ids.
    held: Vec<(Option<String>, TestCase)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TextSlot {
    Message,
    Details,
}

impl XmlTestReader {
    pub(crate) fn new(source: Source, format: Format, options: Options) -> XmlTestReader {
        XmlTestReader {
            xml: Xml::new(source, format, options.limits),
            buf: Vec::with_capacity(4096),
            format,
            options,
            warnings: Warnings::new(options.strict),
            details: !options.outcomes_only,
            started: false,
            done: false,
            suite: Arc::from(""),
            open: Vec::new(),
            text: None,
            declared_total: None,
            ready: VecDeque::new(),
            classes: HashMap::new(),
            unit_test: None,
            definitions_depth: None,
            definitions_read: false,
            held: Vec::new(),
        }
    }

    pub(crate) fn without_details(mut self) -> Self {
        self.details = false;
        self
    }

    pub(crate) fn repeats(&self) -> Repeats {
        Repeats::Distinct
    }

    pub(crate) fn error_here(&self, kind: ErrorKind) -> crate::Error {
        self.xml.error_here(kind)
    }

    /// The warnings, with the check of the declared total against `counts`.
    pub(crate) fn finish(mut self, counts: &crate::model::TestCounts) -> Vec<String> {
        if let Some(total) = self.declared_total
            && total != counts.total
        {
            self.warnings.push(format!(
                "the report declares {total} tests; {} were read",
                counts.total
            ));
        }
        self.warnings.into_vec()
    }

    /// Reads until a test is complete and hands it to `sink`; `false` at the end.
    pub(crate) fn next_case_into(&mut self, sink: &mut impl CaseSink) -> Result<bool> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.step(&mut buf, sink);
        self.buf = buf;
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn step(&mut self, buf: &mut Vec<u8>, sink: &mut impl CaseSink) -> Result<bool> {
        loop {
            if let Some(case) = self.ready.pop_front() {
                sink.list().push(case);
                sink.take_last(Repeats::Distinct);
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            match self.xml.read(buf)? {
                Ev::Start(start, empty) => {
                    let name = start.local_name();
                    let name: &str = name.as_ref();
                    if !self.started {
                        self.started = true;
                        self.check_root(name, &start)?;
                        continue;
                    }
                    self.start(name, &start, empty)?;
                }
                Ev::Text(t) => {
                    if let Some((_, _, acc)) = &mut self.text {
                        acc.push(&t);
                    }
                }
                Ev::End => {
                    let depth = self.xml.depth();
                    if self.text.as_ref().is_some_and(|(_, d, _)| *d > depth) {
                        let (slot, _, acc) = self.text.take().expect("checked");
                        if let (Some(open), Some(text)) = (self.open.last_mut(), acc.finish()) {
                            let text = Some(text).filter(|t| !t.trim().is_empty());
                            match slot {
                                TextSlot::Message => open.message = open.message.take().or(text),
                                TextSlot::Details => open.details = open.details.take().or(text),
                            }
                        }
                    }
                    if self.open.last().is_some_and(|o| o.depth > depth) {
                        let open = self.open.pop().expect("checked");
                        self.complete(open);
                    }
                    if self.definitions_depth.is_some_and(|d| d > depth) {
                        self.definitions_depth = None;
                        self.definitions_read = true;
                        self.release_held();
                    }
                }
                Ev::Eof => {
                    self.done = true;
                    self.release_held();
                }
                Ev::Other => {}
            }
        }
    }

    /// A test element was read whole: its test is ready, or (TRX, class not known yet) held.
    fn complete(&mut self, open: Open) {
        let test_id = open.test_id.clone();
        let mut case = close(open);
        if self.format == Format::Trx {
            match test_id.as_ref().and_then(|id| self.classes.get(id)) {
                Some(class) => case.id.classname = Some(class.clone()),
                None if !self.definitions_read => {
                    self.held.push((test_id, case));
                    return;
                }
                None => {}
            }
        }
        self.ready.push_back(case);
    }

    /// The held TRX results, with their classes where the definitions gave them.
    fn release_held(&mut self) {
        for (test_id, mut case) in std::mem::take(&mut self.held) {
            if let Some(class) = test_id.and_then(|id| self.classes.get(&id)) {
                case.id.classname = Some(class.clone());
            }
            self.ready.push_back(case);
        }
    }

    fn check_root(&mut self, name: &str, start: &BytesStart<'_>) -> Result<()> {
        let expected = match self.format {
            Format::Trx => "TestRun",
            Format::Nunit => "test-run",
            Format::Xunit if name == "assembly" => "assembly",
            Format::Xunit => "assemblies",
            _ => "testExecutions",
        };
        if name != expected {
            return Err(self.xml.error_here(ErrorKind::Invalid(format!(
                "root element <{name}> is not a {} report (expected <{expected}>)",
                self.format.name()
            ))));
        }
        match self.format {
            Format::Nunit => self.declared_total = self.count_attr(start, "total")?,
            Format::Xunit if name == "assembly" => {
                self.declared_total = self.count_attr(start, "total")?
            }
            _ => {}
        }
        Ok(())
    }

    fn text_attr(&self, start: &BytesStart<'_>, wanted: &str) -> Result<Option<String>> {
        attr_named(&self.xml, start, wanted)
    }

    fn count_attr(&self, start: &BytesStart<'_>, wanted: &str) -> Result<Option<u64>> {
        Ok(self
            .text_attr(start, wanted)?
            .and_then(|v| v.trim().parse::<u64>().ok()))
    }

    fn start(&mut self, name: &str, start: &BytesStart<'_>, empty: bool) -> Result<()> {
        let depth = self.xml.depth();
        let is_test = match self.format {
            Format::Trx => name == "UnitTestResult",
            Format::Nunit => name == "test-case",
            Format::Xunit => name == "test",
            _ => name == "testCase",
        };
        if is_test {
            let open = self.test_head(start, depth)?;
            if empty {
                // An empty element has no `Ev::End`: it is complete now.
                self.complete(open);
            } else {
                self.open.push(open);
            }
            return Ok(());
        }
        match (self.format, name) {
            (Format::Trx, "Counters") if self.open.is_empty() => {
                self.declared_total = self.count_attr(start, "total")?;
            }
            (Format::Trx, "TestDefinitions") if !empty => self.definitions_depth = Some(depth),
            (Format::Trx, "UnitTest") => self.unit_test = self.text_attr(start, "id")?,
            (Format::Trx, "TestMethod") => {
                if let (Some(id), Some(class)) =
                    (self.unit_test.take(), self.text_attr(start, "className")?)
                {
                    self.classes.insert(id, Arc::from(class));
                }
            }
            (Format::Xunit, "assembly") => {
                if let Some(n) = self.count_attr(start, "total")? {
                    self.declared_total = Some(self.declared_total.unwrap_or(0) + n);
                }
            }
            (Format::SonarTests, "file") => {
                self.suite = Arc::from(self.text_attr(start, "path")?.unwrap_or_default());
            }
            _ => {}
        }
        if self.open.is_empty() || self.text.is_some() {
            return Ok(());
        }
        // Inside a test: its failure (SonarQube), message and stack trace.
        if self.format == Format::SonarTests
            && let Some(status) = match name {
                "failure" => Some(Status::Failed),
                "error" => Some(Status::Errored),
                "skipped" => Some(Status::Skipped),
                _ => None,
            }
        {
            let message = self.text_attr(start, "message")?;
            let open = self.open.last_mut().expect("inside a test");
            if status == Status::Errored || open.status != Status::Errored {
                open.status = status;
            }
            open.message = open.message.take().or(message);
            if !empty && self.details {
                self.text = Some((TextSlot::Details, depth, TextAccumulator::new(self.cap())));
            }
            return Ok(());
        }
        let slot = match name {
            "Message" | "message" => TextSlot::Message,
            "StackTrace" | "stack-trace" if self.details => TextSlot::Details,
            _ => return Ok(()),
        };
        if !empty {
            self.text = Some((slot, depth, TextAccumulator::new(self.cap())));
        }
        Ok(())
    }

    fn cap(&self) -> usize {
        self.options.limits.max_text_bytes
    }

    /// A test element's attributes: its identity, status and duration.
    fn test_head(&mut self, start: &BytesStart<'_>, depth: usize) -> Result<Open> {
        let xml = &self.xml;
        let format = self.format;
        let (mut name, mut classname) = (String::new(), None::<String>);
        let (mut result, mut label) = (String::new(), String::new());
        let mut raw_duration = None::<String>;
        let mut test_id = None::<String>;
        for_each_attr(xml, start, |attr| {
            let key = attr.local_name();
            let slot = match (format, key) {
                (Format::Trx, "testId") => {
                    test_id = Some(attr_value(xml, start, attr)?.into_owned());
                    return Ok(());
                }
                (Format::Trx, "testName") | (Format::Nunit | Format::Xunit, "name") => &mut name,
                (Format::SonarTests, "name") => &mut name,
                (Format::Trx, "outcome") | (Format::Nunit | Format::Xunit, "result") => &mut result,
                (Format::Nunit, "label") => &mut label,
                (Format::Nunit, "classname") | (Format::Xunit, "type") => {
                    classname = Some(attr_value(xml, start, attr)?.into_owned());
                    return Ok(());
                }
                (Format::Trx | Format::Nunit | Format::SonarTests, "duration")
                | (Format::Xunit, "time") => {
                    raw_duration = Some(attr_value(xml, start, attr)?.into_owned());
                    return Ok(());
                }
                _ => return Ok(()),
            };
            *slot = attr_value(xml, start, attr)?.into_owned();
            Ok(())
        })?;
        let status = match format {
            Format::Trx => trx_status(&result),
            Format::Nunit => nunit_status(&result, &label),
            Format::Xunit => xunit_status(&result),
            _ => Status::Passed,
        };
        let mut duration = None;
        if let Some(raw) = raw_duration {
            let read = match format {
                Format::Trx => trx_duration(&raw),
                Format::SonarTests => crate::junit::parse_duration(&raw)
                    .ok()
                    .flatten()
                    .map(|ms| ms / 1000.0)
                    .ok_or(()),
                _ => crate::junit::parse_duration(&raw)
                    .map_err(|_| ())
                    .and_then(|d| d.ok_or(())),
            };
            match read {
                Ok(d) if d <= crate::junit::MAX_DURATION_SECONDS => duration = Some(d),
                _ if raw.trim().is_empty() => {}
                _ => {
                    let line = xml.mark_position().line;
                    self.warnings
                        .odd(Oddity::Duration, || {
                            format!("test \"{name}\" on line {line}: duration=\"{raw}\"")
                        })
                        .map_err(|m| xml.error_here(ErrorKind::Invalid(m)))?;
                }
            }
        }
        let case = TestCase {
            id: TestId {
                suite: self.suite.clone(),
                classname: classname.map(Arc::from),
                name,
                file: None,
                invocation: 0,
            },
            outcome: Outcome::Passed,
            attempts: 1,
            duration_seconds: duration,
            line: None,
            system_out: None,
            system_err: None,
        };
        Ok(Open {
            depth,
            case,
            test_id,
            status,
            message: None,
            details: None,
        })
    }
}

/// The test of a closed test element, with the outcome its status and texts make.
fn close(open: Open) -> TestCase {
    let Open {
        mut case,
        status,
        message,
        details,
        ..
    } = open;
    let attempt = |kind| Attempt {
        kind: Some(kind),
        message: message.clone(),
        type_name: None,
        details: details.clone(),
        duration_seconds: None,
    };
    case.outcome = match status {
        Status::Passed => Outcome::Passed,
        Status::Failed => Outcome::Failed {
            failures: vec![attempt(AttemptKind::Failure)],
        },
        Status::Errored => Outcome::Errored {
            failures: vec![attempt(AttemptKind::Error)],
        },
        Status::Skipped => Outcome::Skipped {
            message: message.clone(),
        },
    };
    case
}

fn trx_status(outcome: &str) -> Status {
    match outcome.trim() {
        "Passed" | "PassedButRunAborted" | "Completed" | "Warning" | "" => Status::Passed,
        "Failed" | "Timeout" => Status::Failed,
        "Error" | "Aborted" | "NotRunnable" => Status::Errored,
        _ => Status::Skipped,
    }
}

fn nunit_status(result: &str, label: &str) -> Status {
    match result.trim() {
        "Passed" | "Warning" | "" => Status::Passed,
        "Failed" if matches!(label.trim(), "Error" | "Cancelled" | "Invalid") => Status::Errored,
        "Failed" => Status::Failed,
        _ => Status::Skipped,
    }
}

fn xunit_status(result: &str) -> Status {
    match result.trim() {
        "Pass" | "" => Status::Passed,
        "Fail" => Status::Failed,
        _ => Status::Skipped,
    }
}

/// A TRX duration, `hh:mm:ss.fffffff` (days as `d.hh:mm:ss` too), in seconds.
fn trx_duration(raw: &str) -> std::result::Result<f64, ()> {
    let raw = raw.trim();
    let (days, rest) = match raw.split_once('.') {
        Some((d, rest)) if !d.contains(':') => (d.parse::<f64>().map_err(|_| ())?, rest),
        _ => (0.0, raw),
    };
    let mut parts = rest.split(':');
    let (Some(h), Some(m), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(());
    };
    let number = |t: &str| {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
            .then(|| t.parse::<f64>().ok())
            .flatten()
            .ok_or(())
    };
    let seconds = days * 86_400.0 + number(h)? * 3600.0 + number(m)? * 60.0 + number(s)?;
    seconds.is_finite().then_some(seconds).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trx_durations_are_hours_minutes_seconds() {
        assert_eq!(trx_duration("00:00:00.0012345"), Ok(0.0012345));
        assert_eq!(trx_duration("01:02:03.5"), Ok(3723.5));
        assert_eq!(trx_duration("1.00:00:01"), Ok(86_401.0));
        assert!(trx_duration("1,5").is_err());
        assert!(trx_duration("00:00").is_err());
    }

    #[test]
    fn outcomes_map_as_the_table_says() {
        assert_eq!(trx_status("Timeout"), Status::Failed);
        assert_eq!(trx_status("Aborted"), Status::Errored);
        assert_eq!(trx_status("Inconclusive"), Status::Skipped);
        assert_eq!(trx_status("NotExecuted"), Status::Skipped);
        assert_eq!(nunit_status("Failed", "Error"), Status::Errored);
        assert_eq!(nunit_status("Failed", ""), Status::Failed);
        assert_eq!(nunit_status("Inconclusive", ""), Status::Skipped);
        assert_eq!(xunit_status("NotRun"), Status::Skipped);
    }
}
