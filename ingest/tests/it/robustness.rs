//! Whatever bytes arrive: an error or a report, never a panic, a hang or unbounded memory.

use std::io::Cursor;

use cimetrics_ingest::{Content, ErrorKind, Limits, Options};
use proptest::prelude::*;

use crate::{files_below, repo};

fn sample_bytes() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = files_below(&repo().join("samples"))
        .into_iter()
        .filter(|p| {
            let n = p.to_string_lossy();
            !n.ends_with(".json")
                && !n.ends_with(".md")
                && !n.ends_with(".sh")
                && !n.contains("/logs/")
        })
        .map(|p| std::fs::read(p).unwrap())
        .filter(|b| b.len() < 200_000)
        .collect();
    out.sort_by_key(Vec::len);
    assert!(out.len() >= 10, "samples/ holds {} reports", out.len());
    out
}

fn run(bytes: Vec<u8>) -> Result<(), cimetrics_ingest::Error> {
    cimetrics_ingest::parse(Cursor::new(bytes)).map(|_| ())
}

#[test]
fn go_blocks_spanning_far_more_lines_than_the_profile_has_bytes_are_an_error() {
    // 24 bytes a block, a million lines each: a few KB that would stand for gigabytes.
    let mut profile = b"mode: set\n".to_vec();
    for _ in 0..200 {
        profile.extend_from_slice(b"a.go:1.1,1000000.2 1 1\n");
    }
    for result in [
        cimetrics_ingest::parse(Cursor::new(profile.clone())).map(|_| ()),
        cimetrics_ingest::summarize(Cursor::new(profile), &Options::default()).map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err}");
        // The first million lines are allowed; the second block goes past them.
        assert_eq!(err.position().line, 3, "{err}");
    }
    // One block of a long generated file is fine.
    let profile = b"mode: count\na.go:1.1,600000.2 1 1\nb.go:3.1,4.2 2 0\n".to_vec();
    let summary = cimetrics_ingest::summarize(Cursor::new(profile), &Options::default()).unwrap();
    let coverage = summary.coverage.expect("coverage");
    assert_eq!(
        (coverage.lines_valid, coverage.lines_covered),
        (600_002, 600_000)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn truncated_samples_never_panic(pick in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let samples = sample_bytes();
        let bytes = &samples[pick.index(samples.len())];
        let cut = cut.index(bytes.len());
        let result = run(bytes[..cut].to_vec());
        // An XML document cut before its end is never a (short) report.
        let trimmed_len = bytes.trim_ascii_end().len();
        if bytes.first() == Some(&b'<') && cut < trimmed_len.saturating_sub(1) {
            prop_assert!(result.is_err(), "a cut at {cut} of {} bytes was accepted", bytes.len());
        }
    }

    #[test]
    fn mutated_samples_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let samples = sample_bytes();
        let mut bytes = samples[pick.index(samples.len())].clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let _ = run(bytes);
    }
}

#[test]
fn nesting_deeper_than_the_limit_is_an_error() {
    let mut xml = String::from("<testsuites>");
    for _ in 0..10_000 {
        xml.push_str("<testsuite>");
    }
    let err = run(xml.into_bytes()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err}");
}

#[test]
fn a_token_over_the_limit_is_an_error_not_an_allocation() {
    let mut xml = b"<testsuite><testcase name=\"a\"><system-out>".to_vec();
    xml.extend(std::iter::repeat_n(b'x', 4 << 20));
    xml.extend_from_slice(b"</system-out></testcase></testsuite>");
    let options = Options {
        limits: Limits {
            max_token_bytes: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let err = cimetrics_ingest::summarize(Cursor::new(xml), &options).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{err}");
}

#[test]
fn two_roots_and_text_after_the_root_are_errors() {
    for doc in [
        "<testsuite></testsuite><testsuite></testsuite>",
        "<testsuite></testsuite>trailing words",
    ] {
        let err = run(doc.as_bytes().to_vec()).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Syntax(_)), "{doc}: {err}");
    }
}

#[test]
fn undefined_entities_and_invalid_utf8_are_errors() {
    let err = run(b"<testsuite><testcase name=\"a&bogus;\"/></testsuite>".to_vec()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::UndefinedEntity(_)), "{err}");
    let err = run(b"<testsuite><testcase name=\"a\">\xff\xfe</testcase></testsuite>".to_vec())
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Encoding(_) | ErrorKind::Syntax(_)),
        "{err}"
    );
}

#[test]
fn an_xxe_attempt_is_refused_as_an_entity_declaration() {
    // The two halves of an out-of-band XXE, as in the shared corpus's invalid/: a document
    // whose DOCTYPE pulls in an external DTD, and that DTD. Neither is read as a report.
    let external_entity = r#"<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE r [
<!ELEMENT r ANY >
<!ENTITY % sp SYSTEM "$OOB_LINK$">
%sp;
%param1;
]>
<r>&oob;</r>
<xyz timestamp="2010-07-23T20:34:59.300" version="4.2.5">
    <file name="doesntreallymatterwhatsinhere">
    </file>
</xyz>
"#;
    let oob_dtd = r#"<!ENTITY % param1 "<!ENTITY oob SYSTEM '$TARGET_URL$'>">
"#;
    for (name, doc) in [
        ("invalid/xxe-external-entity.xml", external_entity),
        ("invalid/xxe-oob-dtd.xml", oob_dtd),
    ] {
        // Read as a stream, as the files were.
        let stream = Cursor::new(doc.as_bytes());
        let err = cimetrics_ingest::summarize(stream, &Options::default()).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::EntityDeclaration, "{name}: {err}");
    }
}

#[test]
fn tests_with_unusable_durations_are_kept_without_one_and_counted_in_one_warning() {
    let times = [
        "NaN", "inf", "-inf", "-3", "1e8", "1,5", "1 234.5", "1.5s", "abc",
    ];
    let mut doc = String::from("<testsuite>");
    for (i, t) in times.iter().enumerate() {
        doc.push_str(&format!("<testcase name=\"t{i}\" time=\"{t}\"/>\n"));
    }
    doc.push_str("<testcase name=\"ok\" time=\"2.5\"/></testsuite>");
    let report = cimetrics_ingest::parse(Cursor::new(doc.clone().into_bytes())).unwrap();
    let Content::Tests(tests) = &report.content else {
        panic!("tests")
    };
    assert_eq!(tests.counts.total, 10);
    assert_eq!(tests.counts.passed, 10);
    assert_eq!(tests.counts.duration_seconds, 2.5);
    let durations: Vec<Option<f64>> = tests.tests.iter().map(|t| t.duration_seconds).collect();
    assert_eq!(durations[..9], [None; 9]);
    assert_eq!(durations[9], Some(2.5));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].starts_with("9 tests with a time that is not a number of seconds"),
        "{}",
        report.warnings[0]
    );
    assert!(
        report.warnings[0].contains("testcase \"t0\" on line 1: time=\"NaN\""),
        "{}",
        report.warnings[0]
    );
    let summary =
        cimetrics_ingest::summarize(Cursor::new(doc.clone().into_bytes()), &Options::default())
            .unwrap();
    assert_eq!(summary.warnings, report.warnings);

    let strict = Options {
        strict: true,
        ..Options::default()
    };
    let err = cimetrics_ingest::summarize(Cursor::new(doc.into_bytes()), &strict).unwrap_err();
    assert_eq!(
        err.to_string(),
        "junit: testsuite/testcase[1]/@time (line 1, column 38): invalid duration \"NaN\" (not a plain number of seconds; refused in strict mode)"
    );
}

#[test]
fn counts_beyond_u64_saturate_instead_of_overflowing() {
    // Found by the jacoco fuzz target: mb = 2^64 overflowed mb + cb.
    let doc = br#"<report name="r"><package name="p"><sourcefile name="a.c">
        <line nr="9" mb="18446744073709551616" cb="1"/><line nr="3" mi="0" ci="7"/>
        <counter type="LINE" missed="18446744073709551615" covered="18446744073709551615"/>
        </sourcefile></package></report>"#;
    let summary = cimetrics_ingest::summarize(&doc[..], &Options::default()).unwrap();
    let c = summary.coverage.unwrap();
    assert_eq!(c.branches_valid, u64::from(u32::MAX));
    assert_eq!((c.lines_valid, c.lines_covered), (2, 1));
    let lcov = b"SF:a\nDA:1,99999999999999999999999\nLF:18446744073709551615\nLH:1\nend_of_record\nSF:b\nDA:1,1\nLF:18446744073709551615\nLH:1\nend_of_record\n";
    let summary = cimetrics_ingest::summarize(&lcov[..], &Options::default()).unwrap();
    assert_eq!(summary.coverage.unwrap().lines_covered, 2);
}

#[test]
fn an_lcov_branch_record_with_one_comma_is_skipped_with_a_warning_not_a_panic() {
    // Found by the lcov fuzz target: BRDA:1,1 sliced rest[2..1].
    let lcov = b"TN:\nSF:a.c\nDA:1,1\nBRDA:1,1\nend_of_record\n";
    let summary = cimetrics_ingest::summarize(&lcov[..], &Options::default()).unwrap();
    assert_eq!(summary.coverage.unwrap().lines_valid, 1);
    assert_eq!(
        summary.warnings,
        ["1 LCOV record that cannot be read skipped; the first: line 4: \"BRDA:1,1\""]
    );
    let strict = Options {
        strict: true,
        ..Options::default()
    };
    let err = cimetrics_ingest::summarize(&lcov[..], &strict).unwrap_err();
    assert_eq!(err.position().line, 4, "{err}");
}

#[test]
fn a_million_durations_add_up_exactly() {
    let mut counts = cimetrics_ingest::TestCounts::default();
    for _ in 0..1_000_000 {
        counts.add(cimetrics_ingest::Status::Passed, false, Some(0.001));
    }
    assert_eq!(counts.duration_seconds, 1000.0);
}

#[test]
fn a_report_with_more_testcases_than_max_testcases_is_refused_at_the_testcase_past_it() {
    let report = |n: usize| {
        let mut xml = String::from("<testsuite name=\"s\">\n");
        for _ in 0..n {
            xml.push_str("<testcase classname=\"c\" name=\"a\"/>\n");
        }
        xml.push_str("</testsuite>\n");
        xml.into_bytes()
    };
    let mut options = Options::default();
    options.limits.max_testcases = 3;
    // Three identical testcases (three invocations of one test) are within the limit.
    let ok = cimetrics_ingest::parse_with(Cursor::new(report(3)), &options).expect("3 fit");
    match ok.content {
        cimetrics_ingest::Content::Tests(t) => assert_eq!(t.counts.total, 3),
        _ => panic!("a test report"),
    }
    // The fourth is one too many: refused where it stands (line 5), whole or streamed.
    let e = cimetrics_ingest::parse_with(Cursor::new(report(5)), &options).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Limit(_)), "{e}");
    assert!(e.to_string().contains("max_testcases"), "{e}");
    assert_eq!(e.position().line, 5, "{e}");
    let e = cimetrics_ingest::plan_tests(Cursor::new(report(5)), &options)
        .err()
        .expect("refused");
    assert!(matches!(e.kind(), ErrorKind::Limit(_)), "{e}");
}

#[test]
fn a_test_with_more_attempts_than_max_attempts_per_test_is_refused() {
    // pytest-rerunfailures writes each rerun as a testcase of the same identity: five
    // attempts of one test.
    let mut xml = String::from("<testsuites name=\"pytest tests\"><testsuite name=\"pytest\">");
    for _ in 0..4 {
        xml.push_str("<testcase classname=\"t\" name=\"a\"><failure message=\"x\"/></testcase>");
    }
    xml.push_str("<testcase classname=\"t\" name=\"a\"/></testsuite></testsuites>");
    let mut options = Options::default();
    options.limits.max_attempts_per_test = 5;
    let ok = cimetrics_ingest::parse_with(Cursor::new(xml.clone().into_bytes()), &options)
        .expect("five attempts fit");
    match ok.content {
        cimetrics_ingest::Content::Tests(t) => {
            assert_eq!((t.counts.total, t.counts.flaky), (1, 1), "one flaky test");
            assert_eq!(t.tests[0].attempts, 5);
        }
        _ => panic!("a test report"),
    }
    options.limits.max_attempts_per_test = 4;
    let e =
        cimetrics_ingest::parse_with(Cursor::new(xml.clone().into_bytes()), &options).unwrap_err();
    assert!(e.to_string().contains("max_attempts_per_test"), "{e}");
    let e = cimetrics_ingest::plan_tests(Cursor::new(xml.into_bytes()), &options)
        .err()
        .expect("refused streamed too");
    assert!(e.to_string().contains("max_attempts_per_test"), "{e}");
}

#[test]
fn hostile_json_is_refused_with_a_position_and_bounded_memory() {
    let sarif_head = "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [";
    // A string of 17 MiB (past the 16 MiB a JSON string may hold), of text and of escapes.
    for unit in ["a", "\\n"] {
        let mut doc = String::from(sarif_head);
        doc.push_str("{\"message\": {\"text\": \"");
        while doc.len() < (17 << 20) + 100 {
            doc.push_str(unit);
        }
        doc.push_str("\"}}]}]}");
        let err = cimetrics_ingest::summarize(Cursor::new(doc.into_bytes()), &Options::default())
            .unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Limit(_)), "{unit}: {err}");
        assert_eq!(err.position().line, 1, "{err}");
        assert_eq!(err.path(), "runs[0].results[0]", "{err}");
    }
    // The path counts runs and results.
    let two_runs = br#"{"version": "2.1.0", "runs": [{"results": [{"ruleId": "a"}]},
        {"results": [{"ruleId": "a"}, {"ruleId": "b"}, {"ruleId": "c", "ruleId": "d"}]}]}"#;
    let err = cimetrics_ingest::summarize(Cursor::new(two_runs.to_vec()), &Options::default())
        .unwrap_err();
    assert_eq!(err.path(), "runs[1].results[2]", "{err}");
    assert_eq!(err.position().line, 2, "{err}");

    // A key given twice in one issue, NaN, text after the document, a depth bomb inside an
    // issue, bad UTF-8.
    let bomb = format!(
        "[{{\"check_name\": \"a\", \"description\": {}",
        "[".repeat(100_000)
    );
    let bomb: &'static [u8] = Box::leak(bomb.into_bytes().into_boxed_slice());
    let cases: [(&[u8], &str); 5] = [
        (
            b"[{\"check_name\": \"a\", \"check_name\": \"b\", \"description\": \"d\", \"location\": {\"path\": \"x\"}}]",
            "given twice",
        ),
        (b"[{\"check_name\": \"a\", \"severity\": NaN}]", "malformed"),
        (b"[] trailing", "after"),
        (bomb, "max_depth"),
        (b"[{\"check_name\": \"\xff\"}]", "UTF-8"),
    ];
    for (doc, what) in cases {
        let err = cimetrics_ingest::summarize(Cursor::new(doc.to_vec()), &Options::default())
            .unwrap_err();
        assert!(
            err.to_string().contains(what),
            "{}: {err}",
            String::from_utf8_lossy(doc)
        );
        assert!(err.position().column > 1, "{err}");
        // Each names the issue it is in (the first item of the array).
        assert_eq!(err.path(), "[0]", "{err}");
    }
}
