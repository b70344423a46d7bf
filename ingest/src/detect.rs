//! Which format a report is, from its first bytes (never from its file name).
//!
//! XML is told apart by its root element (`<testsuites>`/`<testsuite>`/`<testrun>`: JUnit;
//! `<TestRun>`: TRX; `<test-run>`: NUnit 3; `<assemblies>`: xUnit.net v2; `<testExecutions>`:
//! SonarQube tests; `<report>`: JaCoCo; `<coverage>`: SonarQube coverage when it carries only
//! `version="1"` or has a `<file>` child, Clover when it carries a `clover` attribute, or
//! `generated` without Cobertura's rates, or a `<project>` child; Cobertura otherwise). JSON
//! is told apart by its keys (see `jsoncov`). Text
//! is a Go coverprofile when it starts with `mode:`, LCOV when its first record is `TN:`,
//! `SF:` or `VER:`.

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::error::{Error, ErrorKind, Position, Result};
use crate::model::Format;

pub(crate) fn detect(prefix: &[u8]) -> Result<Format> {
    let start = prefix
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(prefix.len());
    let text = &prefix[start..];
    if text.is_empty() {
        return Err(Error::new(
            ErrorKind::UnknownFormat("the input is empty".into()),
            Position::START,
        ));
    }
    if text[0] == b'<' {
        return detect_xml(prefix);
    }
    // The line's start is enough (and a minified JSON document is one long line).
    let head = &text[..text.len().min(256)];
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    let first_line = String::from_utf8_lossy(first_line);
    let first_line = first_line.trim();
    if first_line.starts_with("mode:") {
        return Ok(Format::Go);
    }
    if ["TN:", "SF:", "VER:"]
        .iter()
        .any(|p| first_line.starts_with(p))
    {
        return Ok(Format::Lcov);
    }
    if text[0] == b'{' || text[0] == b'[' {
        let keys = crate::jsoncov::prefix_keys(text);
        if text[0] == b'{'
            && let Some(format) = crate::jsoncov::detect_json_by_keys(text, &keys)
        {
            return Ok(format);
        }
        if let Some(format) = crate::quality::detect_json(text, &keys) {
            return Ok(format);
        }
    }
    let what = if text[0] == b'{' || text[0] == b'[' {
        "JSON that is none of the JSON formats read here (coverage.py, istanbul, llvm-cov, SARIF, Code Climate, pylint, ESLint, ruff, bandit)".to_string()
    } else {
        let shown: String = first_line.chars().take(60).collect();
        format!("neither XML nor LCOV nor a Go coverprofile (the input starts with \"{shown}\")")
    };
    Err(Error::new(
        ErrorKind::UnknownFormat(what),
        position_in(prefix, start as u64),
    ))
}

fn position_in(prefix: &[u8], offset: u64) -> Position {
    let upto = &prefix[..(offset as usize).min(prefix.len())];
    let line = upto.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let line_start = upto.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
    Position {
        byte_offset: offset,
        line,
        column: offset - line_start + 1,
    }
}

fn detect_xml(prefix: &[u8]) -> Result<Format> {
    let mut reader = Reader::from_reader(prefix);
    let mut root: Option<(String, bool, u64)> = None;
    loop {
        let before = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let at = reader.error_position();
                if root.is_none() && prefix.len() >= 64 * 1024 {
                    break;
                }
                let kind = match &e {
                    quick_xml::Error::Syntax(_) if at as usize + 1 >= prefix.len() => {
                        ErrorKind::Truncated(e.to_string())
                    }
                    _ if prefix[at as usize..].starts_with(b"<!ENTITY") => {
                        ErrorKind::EntityDeclaration
                    }
                    _ => ErrorKind::Syntax(e.to_string()),
                };
                if let Some((name, _, _)) = &root
                    && let Some(format) = format_of(name, None)
                {
                    // The root was seen; let the parser report the error with its path.
                    return Ok(format);
                }
                return Err(Error::new(kind, position_in(prefix, at)));
            }
        };
        match event {
            Event::DocType(d) if d.contains("<!ENTITY") => {
                return Err(Error::new(
                    ErrorKind::EntityDeclaration,
                    position_in(prefix, before),
                ));
            }
            Event::Start(s) | Event::Empty(s) => {
                let name = String::from_utf8_lossy(s.local_name().as_ref().as_bytes()).into_owned();
                match &root {
                    None => {
                        let mut cobertura_attrs = false;
                        let mut clover_attrs = false;
                        let mut sonar_version = false;
                        for attr in s.attributes().flatten() {
                            match attr.key.local_name().as_ref() {
                                "version" => sonar_version = attr.value.as_ref() == "1",
                                "clover" => clover_attrs = true,
                                "generated" => clover_attrs |= !cobertura_attrs,
                                "line-rate" | "lines-valid" | "branch-rate" => {
                                    cobertura_attrs = true;
                                    clover_attrs = false;
                                }
                                _ => {}
                            }
                        }
                        if name == "coverage" && sonar_version && !cobertura_attrs && !clover_attrs
                        {
                            return Ok(Format::SonarCoverage);
                        }
                        if name != "coverage" || cobertura_attrs || clover_attrs {
                            let clover = name == "coverage" && clover_attrs;
                            return decide(&name, Some(clover), prefix, before);
                        }
                        root = Some((name, false, before));
                    }
                    Some((root_name, _, at)) => {
                        if root_name == "coverage" && name == "file" {
                            return Ok(Format::SonarCoverage);
                        }
                        let clover = name == "project";
                        return decide(root_name, Some(clover), prefix, *at);
                    }
                }
            }
            Event::Text(t) if root.is_none() && !t.bytes().all(|b| b.is_ascii_whitespace()) => {
                return Err(Error::new(
                    ErrorKind::Syntax("text before the root element".into()),
                    position_in(prefix, before),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match root {
        Some((name, _, at)) => decide(&name, Some(false), prefix, at),
        None if prefix.len() >= 64 * 1024 => Err(Error::new(
            ErrorKind::UnknownFormat("no root element in the first 64 KiB".into()),
            Position::START,
        )),
        None => Err(Error::new(
            ErrorKind::Truncated("the input ends before the root element".into()),
            position_in(prefix, prefix.len() as u64),
        )),
    }
}

fn format_of(root: &str, clover: Option<bool>) -> Option<Format> {
    match root {
        "testsuites" | "testsuite" | "testrun" => Some(Format::Junit),
        "TestRun" => Some(Format::Trx),
        "test-run" => Some(Format::Nunit),
        "assemblies" | "assembly" => Some(Format::Xunit),
        "testExecutions" => Some(Format::SonarTests),
        "checkstyle" => Some(Format::Checkstyle),
        "report" => Some(Format::Jacoco),
        "coverage" if clover == Some(true) => Some(Format::Clover),
        "coverage" => Some(Format::Cobertura),
        _ => None,
    }
}

fn decide(root: &str, clover: Option<bool>, prefix: &[u8], at: u64) -> Result<Format> {
    format_of(root, clover).ok_or_else(|| {
        let hint = if root.eq_ignore_ascii_case("html") {
            " (an HTML page, not a report)"
        } else {
            ""
        };
        Error::new(
            ErrorKind::UnknownFormat(format!(
                "root element <{root}>{hint} is not a report this tool reads (expected <testsuites>, <testsuite>, <TestRun>, <test-run>, <assemblies>, <testExecutions>, <checkstyle>, <coverage> or <report>)"
            )),
            position_in(prefix, at),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_content() {
        let cases: [(&[u8], Format); 8] = [
            (b"<?xml version=\"1.0\"?>\n<testsuites/>", Format::Junit),
            (b"<testsuite name=\"a\"></testsuite>", Format::Junit),
            (b"<coverage line-rate=\"1\"><packages/></coverage>", Format::Cobertura),
            (b"<coverage generated=\"1\" clover=\"4\"><project/></coverage>", Format::Clover),
            (b"<coverage generated=\"1\">\n<project/></coverage>", Format::Clover),
            (b"<!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"x\"/>", Format::Jacoco),
            (b"TN:\nSF:a.c\nDA:1,1\nend_of_record\n", Format::Lcov),
            (b"mode: set\na.go:1.1,2.2 1 1\n", Format::Go),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                detect(bytes).unwrap(),
                want,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn json_html_and_other_roots_are_refused_with_a_reason() {
        let json = detect(b"{\"tests\": 3}").unwrap_err();
        assert!(json.to_string().contains("JSON"), "{json}");
        let html = detect(b"<!DOCTYPE html>\n<html><body/></html>").unwrap_err();
        assert!(html.to_string().contains("HTML"), "{html}");
        assert_eq!(html.position().line, 2);
        let other = detect(b"<suites/>").unwrap_err();
        assert!(other.to_string().contains("<suites>"), "{other}");
    }

    #[test]
    fn entity_declarations_are_refused_before_anything_else() {
        let err = detect(b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<r>&x;</r>")
            .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::EntityDeclaration);
        assert_eq!(err.position().line, 2);
    }
}
