//! Every file of ../shared/corpus: the valid ones parse with the counts their source projects
//! assert, the invalid ones get an error with a position, nothing panics.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::{corpus_dir, files_below, summarize};

/// Files under invalid/ that are odd rather than wrong, and what we decided.
const ODD_BUT_VALID: &[(&str, &str)] = &[(
    "invalid/no-tests.xml",
    "a <testsuites> with no testcases is a report of zero tests, not an error",
)];

/// Where our count differs from what a source project's own test asserts, and why.
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "coverage/cobertura/cobertura-maven-mvn-coverage-example.xml",
        "lines_covered",
        "pycobertura counts hits against the source files on disk; the XML has 31 lines with hits > 0",
    ),
    (
        "coverage/lcov/coverage-model-report.lcov",
        "lines_covered",
        "line 20 has DA:20,0 and a taken BRDA: lcov --summary and genhtml count lines by DA hits (3), coverage-model counts the branch's line as covered (4)",
    ),
    (
        "junit/cppfw-tst/EnricoMi-disabled.xml",
        "skipped",
        "status=\"disabled\" tests did not run: skipped here, passed for EnricoMi's action",
    ),
    (
        "junit/cppfw-tst/EnricoMi-disabled.xml",
        "passed",
        "status=\"disabled\" tests did not run: skipped here, passed for EnricoMi's action",
    ),
    (
        "junit/edge-cases/multiple-results-per-testcase.xml",
        "*",
        "EnricoMi counts every result element (passed = -2); here each testcase has one outcome",
    ),
    (
        "junit/edge-cases/no-cases-but-tests.xml",
        "*",
        "EnricoMi falls back to the suite's attributes when it has no testcases; here testcases are counted",
    ),
];

fn ours(summary: &cimetrics_ingest::Summary) -> BTreeMap<&'static str, f64> {
    let mut m = BTreeMap::new();
    if let Some(t) = &summary.tests {
        m.insert("tests", t.total as f64);
        m.insert("failures", t.failed as f64);
        m.insert("errors", t.errored as f64);
        m.insert("skipped", t.skipped as f64);
        m.insert("passed", t.passed as f64);
        // dorny/test-reporter's "failed" is failures plus errors.
        m.insert("failed", (t.failed + t.errored) as f64);
    }
    if let Some(c) = &summary.coverage {
        m.insert("lines_valid", c.lines_valid as f64);
        m.insert("lines_covered", c.lines_covered as f64);
        m.insert("branches_valid", c.branches_valid as f64);
        m.insert("branches_covered", c.branches_covered as f64);
    }
    m
}

#[test]
#[cfg_attr(
    corpus_absent,
    ignore = "needs the shared corpus: ../shared/corpus or CIMETRICS_CORPUS"
)]
fn every_corpus_report_parses_with_the_counts_its_source_asserts() {
    let dir = corpus_dir();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    let mut checked_values = 0;
    let mut files = files_below(&dir.join("junit"));
    files.extend(files_below(&dir.join("coverage")));
    assert!(
        files.len() > 300,
        "the corpus has {} report files",
        files.len()
    );
    for path in &files {
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let summary = match summarize(path) {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("{rel}: {e}"));
                continue;
            }
        };
        let Some(entry) = expected.get(&rel) else {
            continue;
        };
        let source = entry["source"].as_str().unwrap_or("");
        let ours = ours(&summary);
        let mut differs = Vec::new();
        for (key, value) in entry.as_object().unwrap() {
            let (Some(want), Some(got)) = (value.as_f64(), ours.get(key.as_str())) else {
                continue;
            };
            if want == *got {
                checked_values += 1;
                continue;
            }
            let known = KNOWN_DIFFERENCES
                .iter()
                .any(|(f, k, _)| *f == rel && (*k == key || *k == "*"));
            if !known {
                differs.push(format!("{key}: expected {want}, got {got}"));
            }
        }
        if differs.is_empty() {
            continue;
        }
        if source.starts_with("file summary") {
            // A file's own totals may disagree with its content (fixtures exist to show it);
            // then the disagreement must be reported.
            if summary.warnings.is_empty() {
                failures.push(format!(
                    "{rel}: differs from its declared totals without a warning: {}",
                    differs.join("; ")
                ));
            }
        } else {
            failures.push(format!("{rel}: {} ({source})", differs.join("; ")));
        }
    }
    assert!(
        checked_values > 400,
        "only {checked_values} values compared"
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
#[cfg_attr(
    corpus_absent,
    ignore = "needs the shared corpus: ../shared/corpus or CIMETRICS_CORPUS"
)]
fn every_invalid_corpus_file_gets_an_error_with_a_position() {
    let dir = corpus_dir();
    let files = files_below(&dir.join("invalid"));
    assert!(files.len() >= 20);
    let mut problems = Vec::new();
    for path in &files {
        let rel = path
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let odd = ODD_BUT_VALID.iter().any(|(f, _)| *f == rel);
        match (summarize(path), odd) {
            (Ok(_), true) => {}
            (Ok(s), false) => problems.push(format!("{rel}: accepted as {:?}", s.format)),
            (Err(e), true) => problems.push(format!("{rel}: documented as valid, got {e}")),
            (Err(e), false) => {
                let p = e.position();
                if p.line == 0 || p.column == 0 || e.message().is_empty() {
                    problems.push(format!("{rel}: error without a position: {e}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
