//! The two-pass merged stream (`plan_tests` + `replay`) gives, for every test report of the
//! samples and the corpus, exactly the tests `parse` gives: same identities and invocations,
//! statuses, flaky flags, attempts and times, and the same counts.

use std::collections::BTreeMap;
use std::path::Path;

use cimetrics_ingest::{Content, Options, TestCase};

use crate::{corpus_dir, files_below, repo};

/// Identity → (status, flaky, attempts, time in µs).
type Merged = BTreeMap<String, (String, bool, u32, Option<i64>)>;

fn key(case: &TestCase) -> String {
    let id = &case.id;
    format!(
        "{}|{:?}|{}|{:?}|{}",
        id.suite, id.classname, id.name, id.file, id.invocation
    )
}

fn row(case: &TestCase) -> (String, bool, u32, Option<i64>) {
    (
        format!("{:?}", case.outcome.status()),
        case.outcome.is_flaky(),
        case.attempts,
        case.duration_seconds.map(|s| (s * 1e6).round() as i64),
    )
}

/// Both ways, or `None` when the file is not a readable test report.
fn both(path: &Path) -> Option<(Merged, Merged, String)> {
    let bytes = std::fs::read(path).ok()?;
    let report = cimetrics_ingest::parse(std::io::Cursor::new(bytes.clone())).ok()?;
    let Content::Tests(tests) = report.content else {
        return None;
    };
    // Nameless testcases are never merged: key them by position.
    let keyed = |cases: Vec<&TestCase>| -> Merged {
        let mut out = Merged::new();
        let mut nameless = 0;
        for c in cases {
            let k = if c.id.name.is_empty() {
                nameless += 1;
                format!("#{nameless}")
            } else {
                key(c)
            };
            out.insert(k, row(c));
        }
        out
    };
    let whole = keyed(tests.tests.iter().collect());
    let plan =
        cimetrics_ingest::plan_tests(std::io::Cursor::new(bytes.clone()), &Options::default())
            .expect("pass 1 reads what parse read")
            .expect("a test report");
    let counts = plan.counts();
    assert_eq!(counts, tests.counts, "{}: counts", path.display());
    let mut stream = plan.replay(std::io::Cursor::new(bytes)).expect("pass 2");
    let mut streamed = Vec::new();
    while let Some(case) = stream.next_test().expect("pass 2 reads what pass 1 read") {
        streamed.push(case);
    }
    let two_pass = keyed(streamed.iter().collect());
    Some((whole, two_pass, path.display().to_string()))
}

/// Reads every test report below `dir` both ways and wants the same tests; returns how many.
fn check(dir: &Path) -> usize {
    let mut checked = 0;
    for path in files_below(dir) {
        if let Some((whole, two_pass, name)) = both(&path) {
            assert_eq!(whole, two_pass, "{name}");
            checked += 1;
        }
    }
    checked
}

#[test]
fn two_passes_merge_every_sample_as_parse_does() {
    let samples = check(&repo().join("samples"));
    assert!(samples >= 15, "only {samples} sample test reports checked");
}

#[test]
#[cfg_attr(
    corpus_absent,
    ignore = "needs the shared corpus: ../shared/corpus or CIMETRICS_CORPUS"
)]
fn two_passes_merge_every_corpus_report_as_parse_does() {
    let checked = check(&corpus_dir());
    assert!(checked >= 200, "only {checked} corpus test reports checked");
}

#[test]
fn two_passes_handle_retries_reruns_and_invocations() {
    // A failure then a pass is one flaky test; a pass then a failure is two invocations;
    // a nameless testcase stays apart.
    let xml = br#"<testsuite name="s">
        <testcase classname="C" name="a" time="1"><failure/></testcase>
        <testcase classname="C" name="a" time="2"/>
        <testcase classname="C" name="b" time="1"/>
        <testcase classname="C" name="b" time="1"><failure/></testcase>
        <testcase classname="C" name="" time="1"/>
    </testsuite>"#;
    let plan =
        cimetrics_ingest::plan_tests(std::io::Cursor::new(xml.to_vec()), &Options::default())
            .unwrap()
            .unwrap();
    let counts = plan.counts();
    assert_eq!(
        (counts.total, counts.passed, counts.failed, counts.flaky),
        (4, 3, 1, 1)
    );
    let mut s = plan.replay(std::io::Cursor::new(xml.to_vec())).unwrap();
    let mut got = Vec::new();
    while let Some(c) = s.next_test().unwrap() {
        got.push((c.id.name.clone(), c.id.invocation, row(&c)));
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                String::new(),
                0,
                ("Passed".into(), false, 1, Some(1_000_000))
            ),
            ("a".into(), 0, ("Passed".into(), true, 2, Some(3_000_000))),
            ("b".into(), 0, ("Passed".into(), false, 1, Some(1_000_000))),
            ("b".into(), 1, ("Failed".into(), false, 1, Some(1_000_000))),
        ]
    );
    // Other bytes on the second pass are an error, not a wrong answer.
    let plan =
        cimetrics_ingest::plan_tests(std::io::Cursor::new(xml.to_vec()), &Options::default())
            .unwrap()
            .unwrap();
    let mut s = plan
        .replay(std::io::Cursor::new(
            b"<testsuite name=\"s\"><testcase classname=\"C\" name=\"z\"/></testsuite>".to_vec(),
        ))
        .unwrap();
    assert!(s.next_test().is_err());
}
