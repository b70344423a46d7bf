//! JUnit XML, in every dialect CI tools write.
//!
//! ```xml
//! <testsuites tests="3" failures="1">
//!   <testsuite name="com.acme.CartTest" tests="3">
//!     <testcase classname="com.acme.CartTest" name="adds" time="0.012"/>
//!     <testcase classname="com.acme.CartTest" name="retries" time="0.5">
//!       <flakyFailure message="timeout" type="java.net.SocketTimeoutException">...</flakyFailure>
//!     </testcase>
//!     <testcase classname="com.acme.CartTest" name="pays" time="1.5">
//!       <failure message="expected 3 but was 4">...</failure>
//!       <rerunFailure message="expected 3 but was 4">...</rerunFailure>
//!     </testcase>
//!   </testsuite>
//! </testsuites>
//! ```
//!
//! The root is `<testsuites>`, `<testsuite>` (Surefire, pytest, ...) or Eclipse's `<testrun>`;
//! suites nest to any depth. Each `<testcase>` is read into a [`TestCase`]:
//! - `<error>` makes it errored (also when a `<failure>` is there too), else `<failure>` makes
//!   it failed, else `<skipped>` or a `status`/`result` of notrun/disabled/skipped makes it
//!   skipped, else it passed.
//! - Surefire's, Gradle's and nextest's `<flakyFailure>`/`<flakyError>` are failed attempts of a
//!   test that passed in the end: it is [`Outcome::Flaky`]. `<rerunFailure>`/`<rerunError>` are
//!   failed retries of a test that failed: they are kept as its failures and attempts.
//! - `<failure>`/`<error>` directly in a `<testsuite>` (a class that failed to initialise) is an
//!   errored test named `(suite error)`, as Jenkins reads it.
//!
//! [`JunitReader`] yields one `TestCase` per `<testcase>` element, with memory that does not
//! grow with the report. A report that repeats a test (same [`TestId`]) for its retries is
//! merged by [`crate::merge::TestMerger`] (full reports) or [`crate::merge::TestCounter`]
//! (counts, for [`crate::summarize`]).
//!
//! The reader hands its tests to a [`CaseSink`]: it pushes each onto the sink's list and the
//! sink takes it from there (the merger for [`crate::parse`], the counter for
//! [`crate::summarize`], a list of one for [`JunitReader::next_case`]), so a run of empty
//! testcases is read, made and placed in one loop.

use std::sync::Arc;

use quick_xml::events::BytesStart;

use crate::error::{Error, ErrorKind, Result};
use crate::input::{Options, Source};
use crate::merge::Repeats;
use crate::model::{Attempt, AttemptKind, Format, Outcome, TestCase, TestId};
use crate::warnings::{Oddity, Warnings};
use crate::xml::{
    Ev, Quick, TextAccumulator, Xml, attr_named, attr_value, for_each_attr, plain_tag,
};

/// Totals a suite element declares in its attributes.
#[derive(Default, Clone, Copy)]
struct Declared {
    tests: Option<u64>,
    failures: Option<u64>,
    errors: Option<u64>,
    skipped: Option<u64>,
}

struct SuiteFrame {
    name: Arc<str>,
    /// The `Xml` depth of the suite element.
    depth: usize,
    element: &'static str,
}

/// Where [`JunitReader::next_case_into`] puts the tests it reads.
pub(crate) trait CaseSink {
    /// The list the reader pushes the next test onto.
    fn list(&mut self) -> &mut Vec<TestCase>;

    /// Takes the test just pushed onto [`CaseSink::list`] (`reruns`: the report has pytest's
    /// rerun semantics, see [`Repeats`]); whether the reader goes on
    /// to the next test in the same call.
    fn take_last(&mut self, reruns: Repeats) -> bool;

    /// Makes room for `tests` tests (the report's declared count: a hint), before the first.
    fn reserve(&mut self, _tests: u64) {}
}

/// One test at a time, left on the list for the caller.
impl CaseSink for Vec<TestCase> {
    fn list(&mut self) -> &mut Vec<TestCase> {
        self
    }

    fn take_last(&mut self, _reruns: Repeats) -> bool {
        false
    }
}

/// What a run of empty testcases read in place ([`JunitReader::step`]) shares with its
/// closures.
struct Run<'a, S> {
    /// The head of the testcase that ended the run, and whether it is empty: its test is
    /// made after the run (an empty one the careful path read, or one with content read in
    /// place and left open).
    last: Option<(CaseHead, bool)>,
    /// The sink said to stop.
    stop: bool,
    last_classname: &'a mut Option<Arc<str>>,
    sink: &'a mut S,
}

/// Streams the tests of a JUnit XML report, one `<testcase>` element at a time.
pub struct JunitReader {
    xml: Xml,
    buf: Vec<u8>,
    suites: Vec<SuiteFrame>,
    /// Where [`JunitReader::next_case`] has the next testcase put (empty between calls).
    one: Vec<TestCase>,
    options: Options,
    warnings: Warnings,
    started: bool,
    done: bool,
    pytest: bool,
    /// Whether to keep messages, stack traces and outputs (not needed for counting).
    details: bool,
    /// The totals the root element declares, if any.
    root_declared: Option<Declared>,
    /// The first top-level suite's totals, and how many top-level suites there are: when the
    /// root states nothing and there is one suite, the suite's totals are the report's.
    first_suite_declared: Option<Declared>,
    top_level_suites: u32,
    /// The last testcase's classname, shared with the next ones of the same class.
    last_classname: Option<Arc<str>>,
    /// The sink was told the declared count.
    reserved: bool,
}

impl JunitReader {
    pub(crate) fn new(source: Source, options: Options) -> JunitReader {
        JunitReader {
            xml: Xml::new(source, Format::Junit, options.limits),
            buf: Vec::with_capacity(4096),
            suites: Vec::new(),
            one: Vec::with_capacity(1),
            options,
            warnings: Warnings::new(options.strict),
            started: false,
            done: false,
            pytest: false,
            root_declared: None,
            first_suite_declared: None,
            top_level_suites: 0,
            last_classname: None,
            reserved: false,
            details: true,
        }
    }

    /// An error at the reader's current place.
    pub(crate) fn error_here(&self, kind: ErrorKind) -> Error {
        self.xml.error_here(kind)
    }

    /// Stops keeping stack traces, outputs and skip reasons: the outcomes and attempts are
    /// still exact, with their attributes (a failure's `message`, `type`, `time`), their
    /// texts are `None`. For counting, this is several times faster.
    pub fn without_details(mut self) -> Self {
        self.details = false;
        self
    }

    /// Whether a repeated testcase is always a rerun (true once a pytest suite was seen:
    /// pytest's ids are unique, and pytest-rerunfailures writes failed attempts as plain
    /// testcases). See the rules in the `merge` module.
    pub(crate) fn repeats(&self) -> Repeats {
        if self.pytest {
            Repeats::Reruns
        } else {
            Repeats::Retries
        }
    }

    /// How many tests the report says it holds (its root's, or its first top-level suite's,
    /// `tests`; 0 when it says nothing so far): a hint for sizing, never trusted as a count.
    pub(crate) fn declared_tests(&self) -> u64 {
        self.root_declared
            .or(self.first_suite_declared)
            .and_then(|d| d.tests)
            .unwrap_or(0)
    }

    /// Warnings so far (declared totals that disagree with the testcases, odd values).
    pub fn warnings(&self) -> &[String] {
        self.warnings.as_slice()
    }

    /// The warnings, with the check of the report's declared totals against `counts` (the
    /// distinct tests after retries were merged).
    pub(crate) fn finish(mut self, counts: &crate::model::TestCounts) -> Vec<String> {
        let declared = match (self.root_declared, self.top_level_suites) {
            (Some(root), _) => Some(root),
            (None, 1) => self.first_suite_declared,
            (None, _) => None,
        };
        if let Some(d) = declared {
            let mut diffs = Vec::new();
            for (what, declared, actual) in [
                ("tests", d.tests, counts.total),
                ("failures", d.failures, counts.failed),
                ("errors", d.errors, counts.errored),
                ("skipped", d.skipped, counts.skipped),
            ] {
                if let Some(declared) = declared
                    && declared != actual
                {
                    diffs.push(format!("{what}={declared} (counted {actual})"));
                }
            }
            if !diffs.is_empty() {
                self.warnings.push(format!(
                    "the report declares {}; the distinct tests, retries merged, are counted",
                    diffs.join(", ")
                ));
            }
        }
        self.warnings.into_vec()
    }

    /// The next testcase, or `None` at the end of a well-formed document.
    ///
    /// # Errors
    /// Malformed XML, a truncated document, a value that cannot be read, a limit exceeded.
    pub fn next_case(&mut self) -> Result<Option<TestCase>> {
        let mut one = std::mem::take(&mut self.one);
        let read = self.next_case_into(&mut one);
        let case = one.pop();
        self.one = one;
        read.map(|_| case)
    }

    /// Reads testcases onto the end of `sink`'s list (where a full report keeps them: no
    /// move of a testcase through return values), handing each to the sink, until the sink
    /// says to stop (`true`) or the document ends (`false`).
    pub(crate) fn next_case_into(&mut self, sink: &mut impl CaseSink) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        loop {
            let mut buf = std::mem::take(&mut self.buf);
            let step = self.step(&mut buf, sink);
            self.buf = buf;
            match step {
                Ok(true) => return Ok(true),
                Ok(false) if self.done => return Ok(false),
                Ok(false) => {}
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    /// Reads one event, or a run of empty testcases; hands each test completed to `sink`.
    /// `true` when the sink said to stop.
    fn step(&mut self, buf: &mut Vec<u8>, sink: &mut impl CaseSink) -> Result<bool> {
        if self
            .suites
            .last()
            .is_some_and(|s| s.depth == self.xml.depth())
        {
            if !self.reserved {
                self.reserved = true;
                sink.reserve(self.declared_tests());
            }
            // Most testcases are empty elements in a row: read them in place, each straight
            // onto the sink's list. A testcase with content ends the run, open, its head read.
            let suite = self.current_suite();
            let reruns = self.repeats();
            let (options, warnings) = (self.options, &mut self.warnings);
            let mut run = Run {
                last: None,
                stop: false,
                last_classname: &mut self.last_classname,
                sink,
            };
            self.xml.read_empty_run(
                Some(b"testcase"),
                &mut run,
                |tag, run| {
                    let (head, used, empty) =
                        quick_testcase_head(tag, options, run.last_classname)?;
                    if !empty {
                        run.last = Some((head, false));
                        return Some((used, Quick::Open));
                    }
                    run.sink.list().push(head.into_plain_case(suite.clone()));
                    run.stop = !run.sink.take_last(reruns);
                    Some((used, Quick::Empty { more: !run.stop }))
                },
                |xml, start, run| {
                    let head = testcase_head(xml, options, warnings, run.last_classname, start)?;
                    run.last = Some((head, true));
                    Ok(false)
                },
            )?;
            let (last, stop) = (run.last, run.stop);
            if let Some((head, empty)) = last {
                self.testcase_body(head, empty, buf, sink)?;
                return Ok(!sink.take_last(reruns));
            }
            if stop {
                return Ok(true);
            }
        }
        let ev = self.xml.read(buf)?;
        match ev {
            Ev::Start(start, empty) => {
                let name = start.local_name();
                let name: &str = name.as_ref();
                if !self.started {
                    self.started = true;
                    if !matches!(name, "testsuites" | "testsuite" | "testrun") {
                        return Err(self.xml.error_here(ErrorKind::Invalid(format!(
                            "root element <{name}> is not a JUnit report (expected <testsuites> or <testsuite>)"
                        ))));
                    }
                }
                match name {
                    "testsuite" | "testsuites" | "testrun" => {
                        let element = match name {
                            "testsuite" => "testsuite",
                            "testsuites" => "testsuites",
                            _ => "testrun",
                        };
                        self.open_suite(&start, element)?;
                        if empty {
                            self.close_suite();
                        }
                        Ok(false)
                    }
                    "testcase" => {
                        let head = testcase_head(
                            &self.xml,
                            self.options,
                            &mut self.warnings,
                            &mut self.last_classname,
                            &start,
                        )?;
                        drop(start);
                        self.testcase_body(head, empty, buf, sink)?;
                        Ok(!sink.take_last(self.repeats()))
                    }
                    "error" | "failure" if self.in_suite_directly() => {
                        let element = if name == "error" { "error" } else { "failure" };
                        let kind = if name == "error" {
                            AttemptKind::Error
                        } else {
                            AttemptKind::Failure
                        };
                        let attempt = self.attempt_head(&start, kind)?;
                        drop(start);
                        let attempt = self.attempt_body(attempt, empty, buf)?;
                        let suite = self.current_suite();
                        self.warnings.push(format!(
                            "suite \"{suite}\" has a <{element}> outside any testcase; counted as an errored test named \"(suite error)\""
                        ));
                        sink.list().push(TestCase {
                            id: TestId {
                                classname: Some(suite.clone()),
                                suite,
                                name: "(suite error)".into(),
                                file: None,
                                invocation: 0,
                            },
                            outcome: Outcome::Errored {
                                failures: vec![attempt],
                            },
                            attempts: 1,
                            duration_seconds: None,
                            line: None,
                            system_out: None,
                            system_err: None,
                        });
                        Ok(!sink.take_last(self.repeats()))
                    }
                    _ => {
                        drop(start);
                        self.xml.skip(buf, empty)?;
                        Ok(false)
                    }
                }
            }
            Ev::End => {
                if let Some(frame) = self.suites.last()
                    && self.xml.depth() < frame.depth
                {
                    self.close_suite();
                }
                Ok(false)
            }
            Ev::Text(..) | Ev::Other => Ok(false),
            Ev::Eof => {
                self.done = true;
                Ok(false)
            }
        }
    }

    fn in_suite_directly(&self) -> bool {
        self.suites
            .last()
            .is_some_and(|s| s.element == "testsuite" && self.xml.depth() == s.depth + 1)
    }

    fn current_suite(&self) -> Arc<str> {
        self.suites
            .iter()
            .rev()
            .find(|s| s.element == "testsuite")
            .or(self.suites.first())
            .map_or_else(|| Arc::from(""), |s| s.name.clone())
    }

    fn open_suite(&mut self, start: &BytesStart<'_>, element: &'static str) -> Result<()> {
        let xml = &self.xml;
        let mut name: Option<String> = None;
        let mut declared = Declared::default();
        for_each_attr(xml, start, |attr| {
            let key = attr.local_name();
            let slot = match key {
                "name" => {
                    name = Some(attr_value(xml, start, attr)?.into_owned());
                    return Ok(());
                }
                "tests" => &mut declared.tests,
                "failures" => &mut declared.failures,
                "errors" => &mut declared.errors,
                "skipped" | "skips" | "skip" => &mut declared.skipped,
                _ => return Ok(()),
            };
            // Declared totals only feed a warning: an unreadable one is ignored, not an error.
            *slot = attr_value(xml, start, attr)?.trim().parse::<u64>().ok();
            Ok(())
        })?;
        let depth = self.xml.depth();
        let states_any = declared.tests.is_some()
            || declared.failures.is_some()
            || declared.errors.is_some()
            || declared.skipped.is_some();
        match self.xml.depth() {
            1 if states_any => self.root_declared = Some(declared),
            2 => {
                self.top_level_suites += 1;
                if self.top_level_suites == 1 && states_any {
                    self.first_suite_declared = Some(declared);
                }
            }
            _ => {}
        }
        // pytest writes `<testsuites name="pytest tests">` around its one suite (since 5.1),
        // and names the suite `pytest` unless `junit_suite_name` says otherwise.
        if (element == "testsuites" && depth == 1 && name.as_deref() == Some("pytest tests"))
            || (element == "testsuite" && name.as_deref() == Some("pytest"))
        {
            self.pytest = true;
        }
        let name: Arc<str> = match name {
            Some(n) => Arc::from(n),
            None if element == "testsuite" => self
                .suites
                .iter()
                .rev()
                .find(|s| s.element == "testsuite")
                .map_or_else(|| Arc::from(""), |s| s.name.clone()),
            None => Arc::from(""),
        };
        self.suites.push(SuiteFrame {
            name,
            depth: self.xml.depth(),
            element,
        });
        Ok(())
    }

    fn close_suite(&mut self) {
        self.suites.pop();
    }

    /// Reads a `<testcase>`'s children and decides its outcome.
    fn testcase_body(
        &mut self,
        head: CaseHead,
        empty: bool,
        buf: &mut Vec<u8>,
        sink: &mut impl CaseSink,
    ) -> Result<()> {
        let mut failures: Vec<Attempt> = Vec::new();
        let mut retries: Vec<Attempt> = Vec::new();
        let mut flaky: Vec<Attempt> = Vec::new();
        let mut has_error = false;
        let mut has_failure = false;
        let mut skipped_message: Option<Option<String>> = None;
        // A `<skipped type="todo">` (node:test's todo, which may fail without failing the run)
        let mut todo = false;
        let mut system_out = None;
        let mut system_err = None;
        if !empty {
            let depth = self.xml.depth();
            loop {
                match self.xml.read(buf)? {
                    Ev::End if self.xml.depth() < depth => break,
                    Ev::Start(child, child_empty) => {
                        let tag = Child::of(child.local_name().as_ref());
                        match tag {
                            Child::Failure | Child::Error => {
                                let kind = if tag == Child::Error {
                                    has_error = true;
                                    AttemptKind::Error
                                } else {
                                    has_failure = true;
                                    AttemptKind::Failure
                                };
                                let attempt = self.attempt_head(&child, kind)?;
                                drop(child);
                                failures.push(self.attempt_body(attempt, child_empty, buf)?);
                            }
                            Child::Flaky(kind) | Child::Rerun(kind) => {
                                let attempt = self.attempt_head(&child, kind)?;
                                drop(child);
                                let attempt = self.attempt_body(attempt, child_empty, buf)?;
                                if matches!(tag, Child::Flaky(_)) {
                                    flaky.push(attempt);
                                } else {
                                    retries.push(attempt);
                                }
                            }
                            Child::Skipped if !self.details => {
                                todo |= is_todo(&self.xml, &child)?;
                                drop(child);
                                self.xml.skip(buf, child_empty)?;
                                skipped_message = Some(None);
                            }
                            Child::SystemOut | Child::SystemErr if !self.details => {
                                drop(child);
                                self.xml.skip(buf, child_empty)?;
                            }
                            Child::Skipped => {
                                todo |= is_todo(&self.xml, &child)?;
                                let message = attr_named(&self.xml, &child, "message")?;
                                drop(child);
                                let text = self.xml.read_text(buf, child_empty)?;
                                let text = text.filter(|t| !t.trim().is_empty());
                                skipped_message = Some(message.or(text));
                            }
                            Child::SystemOut => {
                                drop(child);
                                system_out = self.xml.read_text(buf, child_empty)?;
                            }
                            Child::SystemErr => {
                                drop(child);
                                system_err = self.xml.read_text(buf, child_empty)?;
                            }
                            Child::Other => {
                                drop(child);
                                self.xml.skip(buf, child_empty)?;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }

        let attempts = 1 + (flaky.len() + retries.len()) as u32;
        let outcome = if let Some(message) = skipped_message.clone().filter(|_| todo) {
            Outcome::Skipped { message }
        } else if has_error || has_failure {
            failures.extend(retries);
            failures.extend(flaky);
            if has_error {
                Outcome::Errored { failures }
            } else {
                Outcome::Failed { failures }
            }
        } else if let Some(message) = skipped_message {
            Outcome::Skipped { message }
        } else if head.status_skipped {
            Outcome::Skipped { message: None }
        } else if !retries.is_empty() {
            // Reruns without a final failure element: the last rerun is the final result.
            let last_kind = retries.last().and_then(|a| a.kind);
            let mut all = flaky;
            all.extend(retries);
            if last_kind == Some(AttemptKind::Error) {
                Outcome::Errored { failures: all }
            } else {
                Outcome::Failed { failures: all }
            }
        } else if !flaky.is_empty() {
            Outcome::Flaky {
                failed_attempts: flaky,
            }
        } else {
            Outcome::Passed
        };

        let mut case = head.into_case(self.current_suite(), outcome);
        case.attempts = attempts;
        case.system_out = system_out;
        case.system_err = system_err;
        sink.list().push(case);
        Ok(())
    }

    /// Reads the attributes of a `<failure>`, `<error>` or retry element (without details
    /// too: a failure's `message` is what a stored history shows of it, and failures are
    /// few).
    fn attempt_head(&self, start: &BytesStart<'_>, kind: AttemptKind) -> Result<Attempt> {
        let xml = &self.xml;
        let cap = self.options.limits.max_text_bytes;
        let mut attempt = Attempt {
            kind: Some(kind),
            ..Attempt::default()
        };
        for_each_attr(xml, start, |attr| {
            match attr.local_name() {
                "message" => {
                    attempt.message =
                        Some(TextAccumulator::capped(&attr_value(xml, start, attr)?, cap))
                }
                "type" => attempt.type_name = Some(attr_value(xml, start, attr)?.into_owned()),
                "time" => {
                    attempt.duration_seconds = parse_duration(&attr_value(xml, start, attr)?)
                        .ok()
                        .flatten()
                        .filter(|t| *t >= 0.0);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(attempt)
    }

    /// Reads the text of a `<failure>`, `<error>` or retry element into its attempt.
    fn attempt_body(
        &mut self,
        mut attempt: Attempt,
        empty: bool,
        buf: &mut Vec<u8>,
    ) -> Result<Attempt> {
        if !self.details {
            // Counting needs the element read and checked, not its text kept.
            self.xml.skip(buf, empty)?;
            return Ok(attempt);
        }
        if empty {
            return Ok(attempt);
        }
        let cap = self.options.limits.max_text_bytes;
        // Surefire nests <stackTrace>, <system-out>, <system-err> in retry elements; plain
        // failures hold the trace as text.
        let depth = self.xml.depth();
        let mut text = TextAccumulator::new(cap);
        loop {
            match self.xml.read(buf)? {
                Ev::End if self.xml.depth() < depth => break,
                Ev::Text(t) if self.xml.depth() == depth => text.push(&t),
                Ev::Start(child, child_empty) => {
                    let is_trace = child.local_name().as_ref() == "stackTrace";
                    drop(child);
                    if is_trace {
                        if let Some(trace) = self.xml.read_text(buf, child_empty)? {
                            text.push(&trace);
                        }
                    } else {
                        self.xml.skip(buf, child_empty)?;
                    }
                }
                _ => {}
            }
        }
        attempt.details = text.finish().filter(|t| !t.trim().is_empty());
        Ok(attempt)
    }
}

/// Reads a `<testcase>` start tag's attributes (a time that is not a number of seconds is a
/// warning, or an error in strict mode).
fn testcase_head(
    xml: &Xml,
    options: Options,
    warnings: &mut Warnings,
    last_classname: &mut Option<Arc<str>>,
    start: &BytesStart<'_>,
) -> Result<CaseHead> {
    let mut head = CaseHead::default();
    for_each_attr(xml, start, |attr| {
        let key = attr.local_name().as_bytes();
        if !head.wants(key) {
            return Ok(());
        }
        let value = attr_value(xml, start, attr)?;
        head.take(key, &value, options, last_classname)
            .map_err(|(attr_name, message)| {
                xml.attr_error(
                    start,
                    attr_name.as_bytes(),
                    Some(attr.value.as_ptr()),
                    ErrorKind::Invalid(message),
                )
            })
    })?;
    if let Some(raw) = head.bad_time.take() {
        warnings
            .odd(Oddity::Duration, || {
                format!(
                    "testcase \"{}\" on line {}: time=\"{raw}\"",
                    head.name,
                    xml.mark_position().line
                )
            })
            .map_err(|m| xml.error_here(ErrorKind::Invalid(m)))?;
    }
    Ok(head)
}

/// [`testcase_head`] for a `<testcase>` tag of the plainest kind (see [`plain_tag`]) whose
/// values all read without a warning or an error: the head, the tag's length, and whether
/// the testcase is empty. `None` leaves the tag to `testcase_head`.
#[inline]
fn quick_testcase_head(
    tag: &[u8],
    options: Options,
    last_classname: &mut Option<Arc<str>>,
) -> Option<(CaseHead, usize, bool)> {
    let mut head = CaseHead::default();
    let (used, empty) = plain_tag(tag, b"testcase", |key, value| {
        head.take(key, value, options, last_classname).ok()
    })?;
    head.bad_time.is_none().then_some((head, used, empty))
}

/// `text` as the shared string `last` holds when it is the same (the testcases of a class
/// come together), else as a new one that `last` then holds.
fn shared(last: &mut Option<Arc<str>>, text: &str) -> Arc<str> {
    match last {
        Some(kept) if **kept == *text => kept.clone(),
        _ => last.insert(Arc::from(text)).clone(),
    }
}

/// The attributes of a `<testcase>` that decide its identity and outcome.
#[derive(Default)]
struct CaseHead {
    name: String,
    classname: Option<Arc<str>>,
    file: Option<String>,
    time: Option<f64>,
    line: Option<u32>,
    status_skipped: bool,
    /// A time that is not a number of seconds, as written (the test is kept without a
    /// duration, with a warning).
    bad_time: Option<String>,
}

impl CaseHead {
    /// The test of an empty testcase with this head.
    #[inline]
    fn into_plain_case(self, suite: Arc<str>) -> TestCase {
        let outcome = if self.status_skipped {
            Outcome::Skipped { message: None }
        } else {
            Outcome::Passed
        };
        self.into_case(suite, outcome)
    }

    /// The test with this head in `suite`, with `outcome`, one attempt and no output.
    #[inline]
    fn into_case(self, suite: Arc<str>, outcome: Outcome) -> TestCase {
        TestCase {
            id: TestId {
                suite,
                classname: self.classname,
                name: self.name,
                file: self.file,
                invocation: 0,
            },
            outcome,
            attempts: 1,
            duration_seconds: self.time,
            line: self.line,
            system_out: None,
            system_err: None,
        }
    }

    /// Whether the attribute `key` (without its prefix) is one to take: `class` only when no
    /// `classname` came before it.
    fn wants(&self, key: &[u8]) -> bool {
        match key {
            b"name" | b"classname" | b"file" | b"time" | b"duration" | b"line" | b"status"
            | b"result" | b"ignored" | b"skipped" => true,
            b"class" => self.classname.is_none(),
            _ => false,
        }
    }

    /// Takes one attribute's value; for a value that cannot be read, the attribute to blame
    /// and what is wrong.
    fn take(
        &mut self,
        key: &[u8],
        value: &str,
        options: Options,
        last_classname: &mut Option<Arc<str>>,
    ) -> std::result::Result<(), (&'static str, String)> {
        match key {
            b"name" => self.name = value.to_owned(),
            // `wants` says the same for the careful path; the quick one calls `take` alone.
            b"class" if self.classname.is_some() => {}
            b"classname" | b"class" => self.classname = Some(shared(last_classname, value)),
            b"file" => self.file = Some(value.to_owned()),
            b"time" | b"duration" => match parse_duration(value) {
                Ok(t) => {
                    if key == b"time" || self.time.is_none() {
                        self.time = t;
                    }
                }
                Err(why) if options.strict => {
                    let attr = if key == b"time" { "time" } else { "duration" };
                    return Err((
                        attr,
                        format!("invalid duration \"{value}\" ({why}; refused in strict mode)"),
                    ));
                }
                Err(_) => {
                    if key == b"time" || self.time.is_none() {
                        self.time = None;
                        self.bad_time = Some(value.to_owned());
                    }
                }
            },
            b"line" => self.line = value.trim().parse::<u32>().ok(),
            b"status" | b"result" => self.status_skipped |= is_skip_status(value),
            b"ignored" | b"skipped" => {
                self.status_skipped |= value.trim().eq_ignore_ascii_case("true");
            }
            _ => {}
        }
        Ok(())
    }
}

/// The children of a `<testcase>` that matter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Child {
    Failure,
    Error,
    Flaky(AttemptKind),
    Rerun(AttemptKind),
    Skipped,
    SystemOut,
    SystemErr,
    Other,
}

impl Child {
    fn of(name: &str) -> Child {
        match name {
            "failure" => Child::Failure,
            "error" => Child::Error,
            "flakyFailure" => Child::Flaky(AttemptKind::Failure),
            "flakyError" => Child::Flaky(AttemptKind::Error),
            "rerunFailure" => Child::Rerun(AttemptKind::Failure),
            "rerunError" => Child::Rerun(AttemptKind::Error),
            "skipped" | "skip" | "ignored" | "disabled" => Child::Skipped,
            "system-out" => Child::SystemOut,
            "system-err" => Child::SystemErr,
            _ => Child::Other,
        }
    }
}

impl Iterator for JunitReader {
    type Item = Result<TestCase>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_case().transpose()
    }
}

/// Whether a `<skipped>` element is a todo (`type="todo"`, as node:test writes it).
fn is_todo(xml: &Xml, start: &BytesStart<'_>) -> Result<bool> {
    Ok(attr_named(xml, start, "type")?.is_some_and(|t| t.trim().eq_ignore_ascii_case("todo")))
}

fn is_skip_status(v: &str) -> bool {
    let v = v.trim();
    [
        "notrun",
        "skipped",
        "skip",
        "disabled",
        "ignored",
        "suppressed",
        "pending",
    ]
    .iter()
    .any(|s| v.eq_ignore_ascii_case(s))
}

/// The longest duration read as one: 10^7 s, almost four months.
pub const MAX_DURATION_SECONDS: f64 = 1e7;

/// Reads a `time` value in seconds.
///
/// Accepts a plain number (`1.5`, `12`, `1e-3`, white space around it), and comma thousands
/// separators before a decimal point (`2,503.1`, as old Surefire versions wrote); an empty
/// value is no time.
///
/// # Errors
/// Anything else, which the readers keep as a test without a duration, with a warning: NaN,
/// infinities, a negative value, more than [`MAX_DURATION_SECONDS`], a locale-formatted number
/// (`1,5`, `2,503`, `1 234.5`, `1.5s`), text.
pub fn parse_duration(raw: &str) -> std::result::Result<Option<f64>, &'static str> {
    let value = match plain_decimal(raw.as_bytes()) {
        Some(seconds) => seconds,
        None => {
            let s = raw.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let grouped = s
                .split_once('.')
                .is_some_and(|(int, _)| is_thousands_grouped(int));
            let cleaned: String;
            let s = if grouped {
                cleaned = s.chars().filter(|&c| c != ',').collect();
                cleaned.as_str()
            } else {
                s
            };
            if !s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
            {
                return Err("not a plain number of seconds");
            }
            s.parse::<f64>()
                .map_err(|_| "not a plain number of seconds")?
        }
    };
    if value.is_nan() || value.is_infinite() {
        Err("not a finite number")
    } else if value < 0.0 {
        Err("negative")
    } else if value > MAX_DURATION_SECONDS {
        Err("more than 10^7 s")
    } else {
        Ok(Some(value))
    }
}

/// `12`, `0.004`, `1.5`: digits with at most one `.`, at most 15 of them, nothing else (what
/// nearly every tool writes). The value is exactly what `str::parse::<f64>` gives: the
/// digits as an integer below 2^53 and a power of ten up to 10^15 are both exact in an `f64`,
/// and IEEE division rounds their quotient correctly.
fn plain_decimal(bytes: &[u8]) -> Option<f64> {
    const POWERS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut point = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if point.is_none() => point = Some(i),
            _ => return None,
        }
    }
    if digits == 0 || digits > 15 {
        return None;
    }
    let decimals = point.map_or(0, |p| bytes.len() - p - 1);
    Some(mantissa as f64 / POWERS[decimals])
}

/// `2,503` or `1,234,567`: groups of three digits after the first comma.
fn is_thousands_grouped(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let mut parts = s.split(',');
    let first = parts.next().unwrap_or("");
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let mut any = false;
    for p in parts {
        any = true;
        if p.len() != 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Content, Options, Report, ReportReader, TestCounts, summarize};

    fn counts(xml: &'static str) -> TestCounts {
        summarize(xml.as_bytes(), &Options::default())
            .expect("valid report")
            .tests
            .expect("a test report")
    }

    fn report(xml: &'static str) -> Report {
        crate::parse(xml.as_bytes()).expect("valid report")
    }

    #[test]
    fn plain_decimals_are_read_exactly_as_str_parse_reads_them() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut checked = 0;
        for _ in 0..300_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = 1 + (x % 16) as usize;
            let mut text: String = (0..digits)
                .map(|i| char::from(b'0' + ((x >> (4 + 3 * i)) % 10) as u8))
                .collect();
            let point = ((x >> 52) as usize) % (digits + 2);
            if point <= digits {
                text.insert(point, '.');
            }
            let expected: f64 = text.parse().expect("digits and a point");
            match plain_decimal(text.as_bytes()) {
                Some(v) => {
                    assert_eq!(v.to_bits(), expected.to_bits(), "{text}");
                    checked += 1;
                }
                None => assert!(digits > 15, "{text} left to the careful path"),
            }
        }
        assert!(checked > 200_000, "only {checked} took the plain path");
        for odd in ["", ".", "1.2.3", "-1", "+1", " 1", "1e3", "1,5", "1s"] {
            assert_eq!(plain_decimal(odd.as_bytes()), None, "{odd:?}");
        }
    }

    fn tests_of(r: &Report) -> &[TestCase] {
        match &r.content {
            crate::Content::Tests(t) => &t.tests,
            _ => panic!("not a test report"),
        }
    }

    #[test]
    fn surefire_flaky_failure_counts_as_a_flaky_pass_with_its_attempts() {
        let xml = r#"<testsuite name="s"><testcase classname="C" name="t" time="2">
            <flakyFailure message="first" type="E"><stackTrace>at A</stackTrace><system-out>x</system-out></flakyFailure>
            <flakyError message="second"/>
        </testcase></testsuite>"#;
        let c = counts(xml);
        assert_eq!((c.total, c.passed, c.flaky, c.failed), (1, 1, 1, 0));
        let r = report(xml);
        let t = &tests_of(&r)[0];
        assert_eq!(t.attempts, 3);
        let Outcome::Flaky { failed_attempts } = &t.outcome else {
            panic!("{:?}", t.outcome)
        };
        assert_eq!(failed_attempts[0].message.as_deref(), Some("first"));
        assert_eq!(failed_attempts[0].details.as_deref(), Some("at A"));
        assert_eq!(failed_attempts[1].kind, Some(AttemptKind::Error));
    }

    #[test]
    fn rerun_failure_is_a_failure_with_every_attempt_kept() {
        let xml = r#"<testsuite name="s"><testcase classname="C" name="t">
            <failure message="1"/><rerunFailure message="2"/><rerunFailure message="3"/>
        </testcase></testsuite>"#;
        let c = counts(xml);
        assert_eq!((c.total, c.failed, c.flaky), (1, 1, 0));
        let r = report(xml);
        let t = &tests_of(&r)[0];
        assert_eq!(t.attempts, 3);
        let Outcome::Failed { failures } = &t.outcome else {
            panic!("{:?}", t.outcome)
        };
        let messages: Vec<_> = failures
            .iter()
            .map(|a| a.message.as_deref().unwrap())
            .collect();
        assert_eq!(messages, ["1", "2", "3"]);
    }

    #[test]
    fn a_failure_and_an_error_count_as_one_errored_test() {
        let c =
            counts(r#"<testsuite><testcase name="t"><failure/><error/></testcase></testsuite>"#);
        assert_eq!((c.total, c.errored, c.failed), (1, 1, 0));
    }

    #[test]
    fn a_repeated_testcase_after_a_failure_is_a_retry_and_passing_makes_it_flaky() {
        let xml = r#"<testsuite name="s">
            <testcase classname="C" name="t" time="1"><failure/></testcase>
            <testcase classname="C" name="t" time="2"><error/></testcase>
            <testcase classname="C" name="t" time="3"/>
            <testcase classname="D" name="t" time="4"/>
            <testcase classname="D" name="u" time="5"><failure/></testcase>
            <testcase classname="D" name="u" time="6"/>
        </testsuite>"#;
        let c = counts(xml);
        assert_eq!(
            (c.total, c.passed, c.flaky, c.failed, c.errored),
            (3, 3, 2, 0, 0)
        );
        assert_eq!(c.duration_seconds, 21.0);
        // The full report merges the same way: each retry into the test before it (the last
        // one, `D.u`, when the report ends).
        let r = report(xml);
        let tests: Vec<(&str, &str, u32, bool, Option<f64>)> = tests_of(&r)
            .iter()
            .map(|t| {
                let class = t.id.classname.as_deref().unwrap_or("");
                (
                    class,
                    t.id.name.as_str(),
                    t.attempts,
                    t.outcome.is_flaky(),
                    t.duration_seconds,
                )
            })
            .collect();
        assert_eq!(
            tests,
            [
                ("C", "t", 3, true, Some(6.0)),
                ("D", "t", 1, false, Some(4.0)),
                ("D", "u", 2, true, Some(11.0)),
            ]
        );
        let Content::Tests(t) = &r.content else {
            panic!("a test report");
        };
        assert_eq!(t.counts, c);
    }

    #[test]
    fn a_repeated_testcase_after_a_pass_is_another_invocation() {
        let xml = r#"<testsuite name="s">
            <testcase classname="C" name="each" /><testcase classname="C" name="each" />
            <testcase classname="C" name="each"><failure/></testcase>
        </testsuite>"#;
        let c = counts(xml);
        assert_eq!((c.total, c.passed, c.failed), (3, 2, 1));
        let r = report(xml);
        let invocations: Vec<u32> = tests_of(&r).iter().map(|t| t.id.invocation).collect();
        assert_eq!(invocations, [0, 1, 2]);
    }

    #[test]
    fn in_a_pytest_report_every_repeat_is_a_rerun() {
        // pytest-rerunfailures writes failed attempts as plain testcases.
        let c = counts(
            r#"<testsuites><testsuite name="pytest">
            <testcase classname="m" name="flaky"/><testcase classname="m" name="flaky"/>
            <testcase classname="m" name="bad"/><testcase classname="m" name="bad"><failure/></testcase>
            <testcase classname="m" name="ok"/>
        </testsuite></testsuites>"#,
        );
        assert_eq!((c.total, c.passed, c.flaky, c.failed), (3, 2, 1, 1));
    }

    #[test]
    fn skipped_comes_from_elements_and_status_attributes() {
        let c = counts(
            r#"<testsuite>
            <testcase name="a"><skipped message="later"/></testcase>
            <testcase name="b" status="notrun"/>
            <testcase name="c" status="run"/>
            <testcase name="d"><skipped/><failure/></testcase>
        </testsuite>"#,
        );
        assert_eq!((c.total, c.skipped, c.passed, c.failed), (4, 2, 1, 1));
    }

    #[test]
    fn nested_suites_and_a_suite_level_error_are_counted() {
        let xml = r#"<testsuites><testsuite name="outer"><testsuite name="inner">
            <testcase name="a"/></testsuite>
            <error message="setup failed">trace</error>
        </testsuite></testsuites>"#;
        let c = counts(xml);
        assert_eq!((c.total, c.passed, c.errored), (2, 1, 1));
        let r = report(xml);
        assert_eq!(&*tests_of(&r)[0].id.suite, "inner");
        assert_eq!(tests_of(&r)[1].id.name, "(suite error)");
    }

    #[test]
    fn declared_totals_that_disagree_are_a_warning_and_the_testcases_win() {
        let s = summarize(
            &br#"<testsuite tests="5" failures="2"><testcase name="a"/></testsuite>"#[..],
            &Options::default(),
        )
        .unwrap();
        assert_eq!(s.tests.unwrap().total, 1);
        assert!(
            s.warnings.iter().any(|w| w.contains("tests=5")),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn several_suites_under_a_silent_root_raise_no_total_warning() {
        let s = summarize(
            &br#"<testsuites><testsuite name="a" tests="1"><testcase name="x"/></testsuite>
            <testsuite name="b" tests="1"><testcase name="y"/></testsuite></testsuites>"#[..],
            &Options::default(),
        )
        .unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    }

    #[test]
    fn cdata_entities_and_long_texts_are_read_and_capped() {
        let mut options = Options::default();
        options.limits.max_text_bytes = 8;
        let xml = r#"<testsuite><testcase name="a &amp; b&#33;"><failure message="m">
            <![CDATA[0123456789]]></failure><system-out>&lt;ok&gt;</system-out></testcase></testsuite>"#;
        let ReportReader::Tests(mut reader) = crate::open(xml.as_bytes(), &options).unwrap() else {
            panic!("not junit")
        };
        let t = reader.next_case().unwrap().unwrap();
        assert_eq!(t.id.name, "a & b!");
        assert_eq!(t.system_out.as_deref(), Some("<ok>"));
        let Outcome::Failed { failures } = &t.outcome else {
            panic!()
        };
        let details = failures[0].details.as_deref().unwrap();
        assert!(details.ends_with("[truncated 15 bytes]"), "{details}");
        assert!(reader.next_case().unwrap().is_none());
    }

    #[test]
    fn capped_texts_are_cut_between_characters_on_both_paths() {
        /// One byte per read: the careful path reads every token.
        struct OneByte(&'static [u8]);
        impl std::io::Read for OneByte {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(out.len()).min(1);
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let xml = "<testsuite><testcase name=\"a\"><failure>ééé&lt;éé</failure>\
            <system-out>aéé</system-out><system-err>aééé</system-err></testcase></testsuite>";
        let mut options = Options::default();
        options.limits.max_text_bytes = 5;
        let whole = crate::parse_with(xml.as_bytes(), &options).unwrap();
        let by_byte = crate::parse_with(OneByte(xml.as_bytes()), &options).unwrap();
        for report in [&whole, &by_byte] {
            let t = &tests_of(report)[0];
            let Outcome::Failed { failures } = &t.outcome else {
                panic!("{t:?}")
            };
            // 11 bytes: the first two characters fit in 5, the third would not.
            assert_eq!(
                failures[0].details.as_deref(),
                Some("éé…[truncated 7 bytes]")
            );
            assert_eq!(t.system_out.as_deref(), Some("aéé"));
            assert_eq!(t.system_err.as_deref(), Some("aéé…[truncated 2 bytes]"));
        }
    }

    #[test]
    fn a_wrong_root_is_an_error() {
        let cobertura = crate::parse(&b"<coverage line-rate=\"1\"><packages/></coverage>"[..]);
        assert!(cobertura.is_ok(), "a Cobertura report is not a JUnit error");
        let err = crate::parse(&b"<testcase name=\"x\"/>"[..]).unwrap_err();
        assert!(err.to_string().contains("<testcase>"), "{err}");
    }

    #[test]
    fn a_truncated_document_is_an_error_with_the_open_element() {
        let err =
            crate::parse(&b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\"/>"[..])
                .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Truncated(_)), "{err}");
        assert!(
            err.to_string().contains("<testsuite> (opened on line 2)"),
            "{err}"
        );
        // A testcase with content, its start tag read in place: open on its own line, and
        // counted among its siblings.
        let cut = b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\"/>\n<testcase name=\"b\">\n";
        let err = crate::parse(&cut[..]).unwrap_err();
        assert!(
            err.to_string().contains("<testcase> (opened on line 4)"),
            "{err}"
        );
        let bad = b"<testsuites>\n<testsuite name=\"s\">\n<testcase name=\"a\"/>\n<testcase name=\"b\">\n  <skipped message=\"&bogus;\"/>\n</testcase></testsuite></testsuites>";
        let err = crate::parse(&bad[..]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("testsuite[1]/testcase[2]/skipped[1]/@message (line 5"),
            "{err}"
        );
    }

    #[test]
    fn durations_accept_the_forms_tools_write() {
        assert_eq!(parse_duration("2,503.1"), Ok(Some(2503.1)));
        assert_eq!(parse_duration("1e-3"), Ok(Some(0.001)));
        assert_eq!(parse_duration(" 0.25 "), Ok(Some(0.25)));
        assert_eq!(parse_duration("10000000"), Ok(Some(1e7)));
        assert_eq!(parse_duration(""), Ok(None));
    }

    #[test]
    fn durations_refuse_what_is_not_a_number_of_seconds() {
        for bad in [
            "abc", "NaN", "inf", "-inf", "1e999", "-3", "10000001", "1,5", "2,503", "1 234.5",
            "1.5s", "0x10",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
