//! The plain text most Python linters print, read only when named (`lint-text`: text cannot
//! be told from other text by its content).
//!
//! - `path:line:col: CODE message` (flake8, pycodestyle, ruff's concise output, whose fixable
//!   findings carry `[*]` after the code): minor code smells;
//! - `path:line[:col]: error: message  [code]` (mypy): major bugs; `note:` lines are no issue.
//!
//! Other lines (ruff's `Found 9 errors.`, mypy's `Found 4 errors in 2 files`, blank lines) are
//! passed over. The tool is `mypy` for mypy's lines, else unnamed: the caller names it
//! (`--tool`, `?tool=`).

use super::{Category, Issue, Severity, is_ruff_security_rule, issue};
use crate::error::Result;
use crate::input::{Options, Source};
use crate::lines::Lines;
use crate::model::Format;
use crate::warnings::Warnings;

pub(crate) struct LintTextReader {
    lines: Lines,
    buf: Vec<u8>,
    pub(crate) warnings: Warnings,
    done: bool,
}

impl LintTextReader {
    pub(crate) fn new(source: Source, options: Options) -> Self {
        LintTextReader {
            lines: Lines::new(source, Format::LintText),
            buf: Vec::with_capacity(256),
            warnings: Warnings::new(options.strict),
            done: false,
        }
    }

    pub(crate) fn next_issue(&mut self) -> Result<Option<Issue>> {
        while !self.done {
            let mut buf = std::mem::take(&mut self.buf);
            let line = self.lines.next_line(&mut buf)?.map(str::to_owned);
            self.buf = buf;
            let Some(line) = line else {
                self.done = true;
                break;
            };
            if let Some(found) = parse_line(&line) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// One line's issue, if it is one.
fn parse_line(line: &str) -> Option<Issue> {
    let line = line.trim_end();
    // `path:line:` — the path may hold a drive letter (`C:\x.py`), so the line number is
    // the first all-digit field after the path.
    let mut fields = line.splitn(5, ':');
    let mut path = fields.next()?.to_owned();
    let mut next = fields.next()?;
    if path.len() == 1 && next.starts_with('\\') {
        path = format!("{path}:{next}");
        next = fields.next()?;
    }
    let number = next.trim().parse::<u32>().ok()?;
    let rest: Vec<&str> = fields.collect();
    let (column, rest) = match rest.first().map(|c| c.trim().parse::<u32>()) {
        Some(Ok(c)) => (Some(c), rest[1..].join(":")),
        _ => (None, rest.join(":")),
    };
    let rest = rest.trim_start();
    if let Some(message) = rest.strip_prefix("error:") {
        // mypy: `message  [code]`
        let message = message.trim();
        let (message, code) = match message.rsplit_once("  [") {
            Some((m, code)) if code.ends_with(']') => (m.trim(), &code[..code.len() - 1]),
            _ => (message, "error"),
        };
        return Some(issue(
            "mypy",
            code.to_owned(),
            Severity::Major,
            "error".into(),
            Category::Bug,
            message.to_owned(),
            path,
            Some(number),
            column,
            None,
        ));
    }
    if rest.starts_with("note:") || rest.starts_with("warning:") && column.is_none() {
        return None;
    }
    // `CODE message` (`CODE [*] message` from ruff).
    let (code, message) = rest.split_once(' ')?;
    let valid_code = !code.is_empty()
        && code.len() <= 16
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && code.bytes().any(|b| b.is_ascii_digit());
    if !valid_code {
        return None;
    }
    let message = message.trim_start();
    let message = message.strip_prefix("[*] ").unwrap_or(message);
    let category = if is_ruff_security_rule(code) {
        Category::Vulnerability
    } else {
        Category::CodeSmell
    };
    Some(issue(
        "",
        code.to_owned(),
        Severity::Minor,
        "text".into(),
        category,
        message.to_owned(),
        path,
        Some(number),
        column,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flake8_ruff_and_mypy_lines_are_read_and_notes_and_summaries_are_not() {
        let f = parse_line("./app/util.py:2:1: F401 'os' imported but unused").unwrap();
        assert_eq!(
            (f.rule.as_str(), f.line, f.column),
            ("F401", Some(2), Some(1))
        );
        assert_eq!(f.path, "./app/util.py");
        assert_eq!(f.severity, Severity::Minor);
        let r = parse_line("app/util.py:2:8: F401 [*] `os` imported but unused").unwrap();
        assert_eq!(r.message, "`os` imported but unused");
        let s = parse_line("app/util.py:7:12: S105 Possible hardcoded password").unwrap();
        assert_eq!(s.category, Category::Vulnerability);
        let m = parse_line(
            "app/calc.py:11: error: Incompatible return value type (got \"float\", expected \"str\")  [return-value]",
        )
        .unwrap();
        assert_eq!((m.tool.as_str(), m.rule.as_str()), ("mypy", "return-value"));
        assert_eq!((m.severity, m.category), (Severity::Major, Category::Bug));
        assert!(parse_line("app/calc.py:14: note: PEP 484 prohibits implicit Optional").is_none());
        assert!(parse_line("Found 9 errors.").is_none());
        assert!(parse_line("[*] 2 fixable with the `--fix` option.").is_none());
        assert!(parse_line("Found 4 errors in 2 files (checked 3 source files)").is_none());
        let w = parse_line("C:\\src\\a.py:3:1: E302 expected 2 blank lines").unwrap();
        assert_eq!(w.path, "C:\\src\\a.py");
    }
}
