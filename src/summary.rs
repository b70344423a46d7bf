//! `cimetrics summary [--json] FILE...`: the counts of each report and of all of them.
//!
//! Exit status: 0 when every file was read, 1 when any could not be, 2 for usage errors.

use std::fs::File;
use std::io::{self, Write};
use std::process::ExitCode;

use cimetrics_ingest::{CoverageTotals, Error, Format, IssueCounts, Options, Summary, TestCounts};
use serde::Serialize;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Treat every warning as an error (an odd value, declared totals that disagree).
    #[arg(long)]
    strict: bool,
    /// Read every file as this format instead of detecting it (`lint-text` is only read so:
    /// flake8, ruff concise, pycodestyle and mypy output cannot be told from other text).
    #[arg(long, value_parser = format_name)]
    format: Option<Format>,
    /// The tool of code-quality reports that do not name theirs (lint text, Checkstyle).
    #[arg(long)]
    tool: Option<String>,
    /// Report files; `-` reads standard input. Gzip is detected and read transparently.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

/// The JSON shape other tools read. Keep it stable.
#[derive(Serialize)]
struct Output {
    files: Vec<FileOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<TestsOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<CoverageOutput>,
}

#[derive(Serialize)]
struct FileOutput {
    path: String,
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests: Option<TestsOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<CoverageOutput>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issues: Option<IssuesOutput>,
    warnings: Vec<String>,
    error: Option<ErrorOutput>,
}

#[derive(Serialize)]
struct IssuesOutput {
    total: u64,
    suppressed: u64,
    by_severity: cimetrics_ingest::SeverityCounts,
    by_category: cimetrics_ingest::CategoryCounts,
    /// Distinct rule ids.
    rules: u64,
    /// Distinct files with an issue.
    files: u64,
    tool: Option<String>,
    tool_score: Option<f64>,
    /// For the text output: the rules with the most issues.
    #[serde(skip)]
    top_rules: Vec<(String, u64)>,
}

impl From<&IssueCounts> for IssuesOutput {
    fn from(c: &IssueCounts) -> Self {
        IssuesOutput {
            total: c.total,
            suppressed: c.suppressed,
            by_severity: c.by_severity,
            by_category: c.by_category,
            rules: c.rules,
            files: c.files,
            tool: c.tool.clone(),
            tool_score: c.tool_score,
            top_rules: c.top_rules.clone(),
        }
    }
}

fn format_name(name: &str) -> Result<Format, String> {
    Format::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        format!("not a format; one of {}", names.join(", "))
    })
}

#[derive(Serialize)]
struct TestsOutput {
    total: u64,
    passed: u64,
    failed: u64,
    errored: u64,
    skipped: u64,
    flaky: u64,
    duration_seconds: f64,
}

impl From<&TestCounts> for TestsOutput {
    fn from(c: &TestCounts) -> Self {
        TestsOutput {
            total: c.total,
            passed: c.passed,
            failed: c.failed,
            errored: c.errored,
            skipped: c.skipped,
            flaky: c.flaky,
            // Sums of many decimal times pick up float noise; microseconds are plenty.
            duration_seconds: (c.duration_seconds * 1e6).round() / 1e6,
        }
    }
}

#[derive(Serialize)]
struct CoverageOutput {
    lines_valid: u64,
    lines_covered: u64,
    line_rate: Option<f64>,
    branches_valid: u64,
    branches_covered: u64,
    branch_rate: Option<f64>,
}

impl From<&CoverageTotals> for CoverageOutput {
    fn from(c: &CoverageTotals) -> Self {
        CoverageOutput {
            lines_valid: c.lines_valid,
            lines_covered: c.lines_covered,
            line_rate: c.line_rate(),
            branches_valid: c.branches_valid,
            branches_covered: c.branches_covered,
            branch_rate: c.branch_rate(),
        }
    }
}

#[derive(Serialize)]
struct ErrorOutput {
    message: String,
    line: u64,
    column: u64,
    byte_offset: u64,
}

impl From<&Error> for ErrorOutput {
    fn from(e: &Error) -> Self {
        let p = e.position();
        ErrorOutput {
            message: e.to_string(),
            line: p.line,
            column: p.column,
            byte_offset: p.byte_offset,
        }
    }
}

fn summarize_one(path: &str, args: &Args) -> Result<Summary, Error> {
    let options = Options {
        strict: args.strict,
        format: args.format,
        ..Options::default()
    };
    if path == "-" {
        return cimetrics_ingest::summarize(io::stdin(), &options);
    }
    match File::open(path) {
        Ok(file) => cimetrics_ingest::summarize(file, &options),
        Err(e) => cimetrics_ingest::summarize(FailingReader(Some(e)), &options),
    }
}

/// Turns an open error into the same positioned error a read error gets.
struct FailingReader(Option<io::Error>);

impl io::Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("unreadable")))
    }
}

pub fn run(args: &Args) -> ExitCode {
    let mut files = Vec::new();
    let mut all_tests: Option<TestCounts> = None;
    let mut all_coverage: Option<CoverageTotals> = None;
    let mut failed = false;
    for path in &args.files {
        match summarize_one(path, args) {
            Ok(summary) => {
                if let Some(t) = &summary.tests {
                    all_tests.get_or_insert_with(TestCounts::default).merge(t);
                }
                if let Some(c) = &summary.coverage {
                    all_coverage
                        .get_or_insert_with(CoverageTotals::default)
                        .merge(c);
                }
                files.push(FileOutput {
                    path: path.clone(),
                    format: Some(summary.format.name()),
                    tests: summary.tests.as_ref().map(TestsOutput::from),
                    coverage: summary.coverage.as_ref().map(CoverageOutput::from),
                    issues: summary.issues.as_ref().map(|c| {
                        let mut issues = IssuesOutput::from(c);
                        if issues.tool.is_none() {
                            issues.tool.clone_from(&args.tool);
                        }
                        issues
                    }),
                    warnings: summary.warnings,
                    error: None,
                });
            }
            Err(e) => {
                failed = true;
                files.push(FileOutput {
                    path: path.clone(),
                    format: e.format().map(|f| f.name()),
                    tests: None,
                    coverage: None,
                    issues: None,
                    warnings: Vec::new(),
                    error: Some(ErrorOutput::from(&e)),
                });
            }
        }
    }
    let output = Output {
        files,
        tests: all_tests.as_ref().map(TestsOutput::from),
        coverage: all_coverage.as_ref().map(CoverageOutput::from),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &output)
            .map_err(io::Error::other)
            .and_then(|()| writeln!(out))
    } else {
        write_text(&mut out, &output)
    };
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        eprintln!("cimetrics: cannot write output: {e}");
        return ExitCode::from(1);
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn write_issues(out: &mut impl Write, i: &IssuesOutput) -> io::Result<()> {
    let s = &i.by_severity;
    write!(
        out,
        "{} issues: {} blocker, {} critical, {} major, {} minor, {} info",
        i.total, s.blocker, s.critical, s.major, s.minor, s.info
    )?;
    if i.suppressed > 0 {
        write!(out, "; {} suppressed", i.suppressed)?;
    }
    if let Some(tool) = &i.tool {
        write!(out, "; {tool}")?;
    }
    if let Some(score) = i.tool_score {
        write!(out, " scores {score}")?;
    }
    Ok(())
}

fn write_text(out: &mut impl Write, output: &Output) -> io::Result<()> {
    for f in &output.files {
        match (&f.error, f.format) {
            (Some(e), _) => writeln!(out, "{}: error: {}", f.path, e.message)?,
            (None, Some(format)) => {
                write!(out, "{} ({format}): ", f.path)?;
                if let Some(t) = &f.tests {
                    write_tests(out, t)?;
                }
                if let Some(c) = &f.coverage {
                    write_coverage(out, c)?;
                }
                if let Some(i) = &f.issues {
                    write_issues(out, i)?;
                }
                writeln!(out)?;
                if let Some(i) = &f.issues
                    && !i.top_rules.is_empty()
                {
                    let top: Vec<String> = i
                        .top_rules
                        .iter()
                        .map(|(r, n)| format!("{r} {n}"))
                        .collect();
                    writeln!(out, "  top rules: {}", top.join(", "))?;
                }
            }
            (None, None) => writeln!(out, "{}: unreadable", f.path)?,
        }
        for w in &f.warnings {
            writeln!(out, "  warning: {w}")?;
        }
    }
    if output.files.len() > 1 {
        if let Some(t) = &output.tests {
            write!(out, "all tests: ")?;
            write_tests(out, t)?;
            writeln!(out)?;
        }
        if let Some(c) = &output.coverage {
            write!(out, "all coverage: ")?;
            write_coverage(out, c)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn write_tests(out: &mut impl Write, t: &TestsOutput) -> io::Result<()> {
    write!(
        out,
        "{} tests: {} passed ({} flaky), {} failed, {} errored, {} skipped in {:.3}s",
        t.total, t.passed, t.flaky, t.failed, t.errored, t.skipped, t.duration_seconds
    )
}

fn write_coverage(out: &mut impl Write, c: &CoverageOutput) -> io::Result<()> {
    let pct =
        |r: Option<f64>| r.map_or_else(|| "n/a".to_string(), |r| format!("{:.2}%", r * 100.0));
    write!(
        out,
        "lines {}/{} ({}), branches {}/{} ({})",
        c.lines_covered,
        c.lines_valid,
        pct(c.line_rate),
        c.branches_covered,
        c.branches_valid,
        pct(c.branch_rate)
    )
}
