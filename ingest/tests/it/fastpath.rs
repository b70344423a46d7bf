//! The XML layer reads plain tags and text itself when its buffer holds them whole, and leaves
//! every other token to quick-xml (`ingest/src/xml.rs`, "The fast path"); the JSON layer scans
//! a value at once when its buffer holds it whole, and leaves every other to its event parser
//! (`ingest/src/json/tape.rs`). These tests read the same bytes four ways and want the same
//! report, or the same error at the same position:
//! - whole: the fast path takes nearly every token;
//! - one byte per read: the buffer never holds a whole tag, so quick-xml reads everything;
//! - in uneven chunks: the two alternate at every chunk boundary, inside texts and tags;
//! - in a `Cursor<Vec<u8>>`: read in place, without a buffer or a refill (when plain UTF-8;
//!   gzip, UTF-16 and other encodings are read as a stream all the same).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{corpus_dir, files_below, repo};

/// Gives its bytes in reads of the sizes `chunks` cycles through.
struct Chunked {
    bytes: Vec<u8>,
    at: usize,
    chunks: Vec<usize>,
    turn: usize,
}

impl Read for Chunked {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let want = self.chunks[self.turn % self.chunks.len()];
        self.turn += 1;
        let n = want.min(out.len()).min(self.bytes.len() - self.at);
        out[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_as(bytes: &[u8], chunks: &[usize]) -> String {
    let reader = Chunked {
        bytes: bytes.to_vec(),
        at: 0,
        chunks: chunks.to_vec(),
        turn: 0,
    };
    answer(cimetrics_ingest::parse(reader))
}

/// Reads `bytes` given whole, in a `Cursor` over a `Vec<u8>`: read in place when plain UTF-8.
fn read_in_place(bytes: &[u8]) -> String {
    answer(cimetrics_ingest::parse(std::io::Cursor::new(
        bytes.to_vec(),
    )))
}

fn answer(result: cimetrics_ingest::Result<cimetrics_ingest::Report>) -> String {
    match result {
        Ok(report) => serde_json::to_string(&report).expect("a report serializes"),
        Err(e) => format!("error: {e} at byte {}", e.position().byte_offset),
    }
}

/// The files below `dir` that look like XML (a `<` in their first 512 bytes), under 4 MiB.
fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_below(dir);
    files.retain(|p| {
        std::fs::read(p).is_ok_and(|b| {
            let head = &b[..b.len().min(512)];
            b.len() < 4 << 20 && head.contains(&b'<')
        })
    });
    files
}

/// The JSON reports below `dir` (SARIF and JSON files, not expected summaries).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_below(dir);
    files.retain(|p| {
        let name = p.to_string_lossy();
        (name.ends_with(".json") || name.ends_with(".sarif")) && !name.ends_with(".expected.json")
    });
    files
}

/// Reads each XML file below `dir`, and its first half, four ways, and wants one answer.
fn read_every_file_alike(dir: &Path) {
    let files = xml_files(dir);
    assert!(files.len() >= 20, "only {} XML files found", files.len());
    read_all_alike(&files);
}

/// Reads each of `files`, and its first half, four ways, and wants one answer.
fn read_all_alike(files: &[PathBuf]) {
    let (mut reports, mut errors) = (0, 0);
    for path in files {
        let bytes = std::fs::read(path).expect("file reads");
        // The file, and its first half: an error (truncated) with a position to compare.
        for bytes in [&bytes[..], &bytes[..bytes.len() / 2]] {
            let whole = read_as(bytes, &[1 << 20]);
            let by_byte = read_as(bytes, &[1]);
            assert_eq!(
                whole,
                by_byte,
                "{}: whole vs one byte per read",
                path.display()
            );
            let uneven = read_as(bytes, &[7, 61, 3, 200, 1, 29]);
            assert_eq!(whole, uneven, "{}: whole vs uneven chunks", path.display());
            let in_place = read_in_place(bytes);
            assert_eq!(whole, in_place, "{}: streamed vs in place", path.display());
            if whole.starts_with("error: ") {
                errors += 1;
            } else {
                reports += 1;
            }
        }
    }
    // Both outcomes were compared: reports and errors.
    assert!(
        reports >= files.len() / 2 && errors >= files.len() / 2,
        "{reports} reports, {errors} errors"
    );
}

#[test]
fn the_fast_path_and_quick_xml_read_every_sample_alike() {
    read_every_file_alike(&repo().join("samples"));
}

#[test]
fn the_json_scan_and_the_event_parser_read_every_json_sample_alike() {
    let files = json_files(&repo().join("samples"));
    assert!(files.len() >= 12, "only {} JSON reports found", files.len());
    read_all_alike(&files);
}

/// SARIF that takes the event parser's side roads: results before the rules, a key with an
/// escape, a repeated key, a result nested past the scan's depth, one that is too large for
/// one read.
#[test]
fn sarif_reads_alike_on_both_paths_whatever_the_result_holds() {
    let rules = r#""tool":{"driver":{"name":"CodeQL","rules":[{"id":"js/a","defaultConfiguration":{"level":"error"},"properties":{"tags":["security"]}}]}}"#;
    let result = |extra: &str| {
        format!(
            r#"{{"ruleId":"js/a","ruleIndex":0,"message":{{"text":"m\u00e9"}},"locations":[{{"physicalLocation":{{"artifactLocation":{{"uri":"src/a.js"}},"region":{{"startLine":3}}}}}}]{extra}}}"#
        )
    };
    let deep = format!(
        r#","properties":{{"x":{}1{}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    let big = format!(r#","properties":{{"blob":"{}"}}"#, "x".repeat(200_000));
    let doc = |results: &[String], rules_first: bool| {
        let results = format!(r#""results":[{}]"#, results.join(","));
        let run = if rules_first {
            format!("{{{rules},{results}}}")
        } else {
            format!("{{{results},{rules}}}")
        };
        format!(r#"{{"version":"2.1.0","runs":[{run}]}}"#)
    };
    let results = vec![
        result(""),
        result(r#","\u0062aselineState":"new""#),
        result(&deep),
        result(&big),
        result(r#","suppressions":[{"kind":"inSource"}]"#),
    ];
    let mut answers = Vec::new();
    for rules_first in [true, false] {
        let bytes = doc(&results, rules_first).into_bytes();
        let whole = read_as(&bytes, &[1 << 20]);
        assert!(whole.contains("\"suppressed\":true"), "{whole}");
        assert!(whole.contains("mé"), "{whole}");
        assert_eq!(whole, read_as(&bytes, &[1]), "one byte per read");
        assert_eq!(whole, read_as(&bytes, &[7, 61, 3, 200, 1, 29]), "uneven");
        assert_eq!(whole, read_in_place(&bytes), "in place");
        answers.push(whole);
    }
    assert_eq!(answers[0], answers[1], "rules before or after the results");
    // A key given twice in a result is an error on every path, with its place.
    let repeated = doc(&[result(r#","level":"note","level":"error""#)], true).into_bytes();
    let whole = read_as(&repeated, &[1 << 20]);
    assert!(whole.contains("given twice"), "{whole}");
    assert_eq!(whole, read_as(&repeated, &[1]));
    assert_eq!(whole, read_in_place(&repeated));
}

#[test]
#[cfg_attr(
    corpus_absent,
    ignore = "needs the shared corpus: ../shared/corpus or CIMETRICS_CORPUS"
)]
fn the_fast_path_and_quick_xml_read_every_corpus_file_alike() {
    read_every_file_alike(&corpus_dir());
}

#[test]
fn mismatched_and_stray_end_tags_are_errors_on_both_paths() {
    for (xml, expected) in [
        (
            &b"<testsuite>\n  <testcase name=\"a\"></testsuite>"[..],
            "expected `</testcase>`, but `</testsuite>` was found",
        ),
        (
            &b"<testsuite></testsuite></testsuite>"[..],
            "`</testsuite>` closes an element that was never opened",
        ),
    ] {
        for chunks in [&[1 << 20][..], &[1][..]] {
            let got = read_as(xml, chunks);
            assert!(got.contains(expected), "{got}");
        }
    }
    let got = read_as(
        b"<testsuite>\n  <testcase name=\"a\"></testsuite>",
        &[1 << 20],
    );
    assert!(
        got.contains("(line 2, column 22)") && got.ends_with("at byte 33"),
        "{got}"
    );
}

/// Reads `bytes` whole, a byte per read and in uneven chunks; wants one answer and returns it.
fn read_alike(bytes: &[u8]) -> String {
    let whole = read_as(bytes, &[1 << 20]);
    assert_eq!(whole, read_in_place(bytes), "streamed vs in place");
    for chunks in [&[1][..], &[7, 61, 3, 200, 1, 29][..]] {
        assert_eq!(whole, read_as(bytes, chunks), "chunks {chunks:?}");
    }
    whole
}

#[test]
fn an_error_inside_a_run_of_empty_elements_names_the_element_and_its_place() {
    // The third <line> of the run gives its number twice (not well-formed XML): the run
    // reads it in place, and the error has its path (with its index among the <line>s) and
    // its line.
    let cobertura = b"<coverage>\n <packages><package name=\"p\"><classes>\n  <class name=\"a\" filename=\"a.py\">\n   <lines>\n    <line number=\"1\" hits=\"1\"/>\n    <line number=\"2\" hits=\"0\"/>\n    <line number=\"3\" hits=\"1\" number=\"4\"/>\n   </lines>\n  </class>\n </classes></package></packages>\n</coverage>\n";
    let got = read_alike(cobertura);
    assert!(
        got.contains("lines[1]/line[3]/@number (line 7")
            && got.contains("the attribute `number` is given twice"),
        "{got}"
    );

    // A bad value in the run is no error: the line is skipped, with a warning naming it.
    let bad = String::from_utf8_lossy(cobertura)
        .replace(" number=\"4\"", "")
        .replace("\"3\"", "\"x3\"");
    let got = read_alike(bad.as_bytes());
    assert!(
        got.contains("1 line with a line number that is not a number from 1 to 10^7 skipped; the first: <line> on line 7: number: \\\"x3\\\""),
        "{got}"
    );

    let junit = b"<testsuite name=\"s\">\n  <testcase name=\"a\" time=\"1\"/>\n  <testcase name=\"b\" time=\"1\" name=\"c\"/>\n</testsuite>\n";
    let got = read_alike(junit);
    assert!(
        got.contains("testsuite/testcase[2]/@name (line 3")
            && got.contains("the attribute `name` is given twice"),
        "{got}"
    );
}

#[test]
fn runs_of_empty_elements_are_read_whole_with_their_neighbours() {
    // Lines in a run, a line with children (read event by event), lines after it; testcases
    // in a run, then one with a failure, then another run.
    let cobertura = b"<coverage><packages><package name=\"p\"><classes><class filename=\"a.py\"><lines>\n<line number=\"1\" hits=\"1\"/><line number=\"2\" hits=\"0\"/>\n<line number=\"3\" hits=\"2\" branch=\"true\" condition-coverage=\"50% (1/2)\"><conditions><condition number=\"0\" type=\"jump\" coverage=\"50%\"/></conditions></line>\n<line number=\"4\" hits=\"0\"/>\n</lines></class></classes></package></packages></coverage>";
    let got = read_alike(cobertura);
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    let lines = &report["content"]["files"][0]["lines"];
    let numbers: Vec<u64> = (0..4).map(|i| lines[i]["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 3, 4], "{got}");
    assert_eq!(lines[2]["branches_total"], 2, "{got}");
    assert_eq!(report["content"]["totals"]["lines_covered"], 2, "{got}");

    let junit = b"<testsuite name=\"s\"><testcase name=\"a\"/><testcase name=\"b\"/>\n<testcase name=\"c\"><failure message=\"x &lt; y\">at A.&lt;init&gt;(A.java:1) &#38; more</failure></testcase>\n<testcase name=\"d\"/></testsuite>";
    let got = read_alike(junit);
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    let tests = &report["content"]["tests"];
    let names: Vec<&str> = (0..4)
        .map(|i| tests[i]["id"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"], "{got}");
    let failure = &tests[2]["outcome"]["failures"][0];
    assert_eq!(failure["message"], "x < y", "{got}");
    // Text and the references inside it come as one resolved piece.
    assert_eq!(failure["details"], "at A.<init>(A.java:1) & more", "{got}");
}

#[test]
fn lcov_hit_lines_read_in_place_keep_their_positions() {
    let lcov =
        b"TN:\nSF:a.c\nDA:1,1\nDA:2,0\r\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nDA:3,x\nend_of_record\n";
    let got = read_alike(lcov);
    assert!(
        got.contains("1 line with a hit count that is not a number skipped; the first: line 7: \\\"DA:3,x\\\""),
        "{got}"
    );
    let ok = b"TN:\nSF:a.c\nDA:1,1\nDA:2,0\r\nBRDA:2,0,0,1\nBRDA:2,0,1,-\nDA:3,5\nDA:1,2\nend_of_record\n";
    let got = read_alike(ok);
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    let totals = &report["content"]["totals"];
    assert_eq!(
        (
            totals["lines_valid"].as_u64(),
            totals["lines_covered"].as_u64()
        ),
        (Some(3), Some(2)),
        "{got}"
    );
    assert_eq!(totals["branches_valid"], 2, "{got}");
    assert_eq!(totals["branches_covered"], 1, "{got}");
}

/// (line, hits, branches covered, branches total) of the report's first file.
fn lines_of(report: &str) -> Vec<(u64, u64, u64, u64)> {
    let report: serde_json::Value = serde_json::from_str(report).expect(report);
    let Some(lines) = report["content"]["files"][0]["lines"].as_array() else {
        panic!("no lines in {report}");
    };
    lines
        .iter()
        .map(|l| {
            let n = |k: &str| l[k].as_u64().expect(k);
            (
                n("line"),
                n("hits"),
                n("branches_covered"),
                n("branches_total"),
            )
        })
        .collect()
}

#[test]
fn plain_coverage_lines_read_in_place_agree_with_the_careful_reading() {
    // Plain lines (any attribute order, any white space) are read in place; the others (single
    // quotes, values that are not plain digits, non-ASCII, references, prefixed keys) by the
    // careful path. `read_alike` also reads each of them a byte at a time, so always carefully.
    let cobertura = "<coverage><packages><package name=\"p\"><classes><class filename=\"a.py\"><lines>
        <line number=\"1\" hits=\"3\"/>
        <line hits=\"2\" number=\"2\"/>
        <line number=\"3\" hits=\"1\" branch=\"true\" condition-coverage=\"50% (1/2)\" missing-branches=\"7\"/>
        <line number='4' hits='5'/>
        <line number=\"5\" hits=\"1.0\"/>
        <line number=\" 6 \" hits=\"2\"/>
        <line\tnumber=\"7\"\n hits=\"0\" />
        <line number=\"8\" hits=\"4\" note=\"é\"/>
        <line number=\"9\" hits=\"1\" note=\"a &amp; b\"/>
        <line cov:number=\"10\" hits=\"6\"/>
        <line number=\"11\" hits=\"0\" branch=\"true\" condition-coverage=\"0% (0/4)\"/>
        </lines></class></classes></package></packages></coverage>";
    let got = read_alike(cobertura.as_bytes());
    assert_eq!(
        lines_of(&got),
        [
            (1, 3, 0, 0),
            (2, 2, 0, 0),
            (3, 1, 1, 2),
            (4, 5, 0, 0),
            (5, 1, 0, 0),
            (6, 2, 0, 0),
            (7, 0, 0, 0),
            (8, 4, 0, 0),
            (9, 1, 0, 0),
            (10, 6, 0, 0),
            (11, 0, 0, 4),
        ],
        "{got}"
    );

    let jacoco = "<report name=\"r\"><package name=\"p\"><sourcefile name=\"A.java\">\
        <line nr=\"1\" mi=\"0\" ci=\"3\" mb=\"0\" cb=\"0\"/>\
        <line nr=\"2\" mi=\"2\" ci=\"0\" mb=\"1\" cb=\"1\"/>\
        <line ci=\"4\" nr=\"3\" mi=\"0\"/>\
        <line nr=\"4\" mi=\"0\" ci=\"0\" mb=\"0\" cb=\"0\"/>\
        <line nr='5' mi=\"0\" ci=\"1\"/>\
        <line nr=\"6\" mi=\"0\" ci=\"2.0\"/>\
        <line nr=\"7\" mi=\"1\" ci=\"0\"/>\
        </sourcefile></package></report>";
    let got = read_alike(jacoco.as_bytes());
    assert_eq!(
        lines_of(&got),
        [
            (1, 3, 0, 0),
            (2, 0, 1, 2),
            (3, 4, 0, 0),
            (5, 1, 0, 0),
            (6, 2, 0, 0),
            (7, 0, 0, 0),
        ],
        "{got}"
    );
    // A bad value after plain lines: the careful path skips the line, with a warning.
    let bad = jacoco.replace("ci=\"2.0\"", "ci=\"many\"");
    let got = read_alike(bad.as_bytes());
    assert!(
        got.contains("1 line with a hit count that is not a number skipped; the first: <line> on line 1: ci: \\\"many\\\""),
        "{got}"
    );
    assert_eq!(lines_of(&got).len(), 5, "{got}");
}

#[test]
fn lcov_function_records_are_passed_over_in_place_and_still_checked() {
    let lcov =
        b"TN:\nSF:a.c\nFN:1,main\nFNDA:3,main\nFNF:1\nFNH:1\nDA:1,3\nDA:2,0\nend_of_record\n";
    let got = read_alike(lcov);
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    assert_eq!(report["content"]["totals"]["lines_valid"], 2, "{got}");
    assert_eq!(report["content"]["totals"]["lines_covered"], 1, "{got}");
    // A function record that is not UTF-8 is an error where the bad byte is.
    let bad = b"TN:\nSF:a.c\nFN:1,main\nFN:2,ma\xffin\nDA:1,3\nend_of_record\n";
    let got = read_alike(bad);
    assert!(got.contains("(line 4, column 8)"), "{got}");
}

#[test]
fn plain_testcases_read_in_place_agree_with_the_careful_reading() {
    // Empty testcases of the plainest kind are read in place, the others carefully; both give
    // the same identity, time, line and status (and `read_alike` reads each carefully too).
    let junit = "<testsuite name=\"S\">
        <testcase name=\"a\" classname=\"C\" time=\"0.004\"/>
        <testcase time=\"1.5\" name=\"b\" classname=\"C\" file=\"c.py\" line=\"12\"/>
        <testcase name=\"c\" class=\"K\" classname=\"C2\" duration=\"9\" time=\"2\"/>
        <testcase name=\"d\" classname=\"C2\" class=\"K\" time=\"2,503.5\"/>
        <testcase name=\"é\" classname=\"C\" time=\"1\" status=\"skipped\"/>
        <testcase name=\"x &amp; y\" classname=\"C\" ignored=\"true\"/>
        <testcase name=\"f\" classname=\"C\" xsi:note=\"n\" time=\"3\"/>
        <testcase name=\"g\" classname=\"C\" time=\"-1\"/>
        <testcase name=\"h\" classname=\"C\" a1=\"1\" a2=\"2\" a3=\"3\" a4=\"4\" a5=\"5\" a6=\"6\" a7=\"7\" a8=\"8\" a9=\"9\" time=\"4\"/>
        <testcase name='i' classname='C' time='5'/>
        <testcase name=\"j>k\" classname=\"C\" time=\"6\"/>
        <testcase name=\"l/>m\" classname=\"C\" time=\"7\" />
        <testcase\tname=\"n\"\r\n classname=\"C\"/>
        </testsuite>";
    let got = read_alike(junit.as_bytes());
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    let tests = report["content"]["tests"].as_array().expect(&got);
    let seen: Vec<(String, String, f64, String)> = tests
        .iter()
        .map(|t| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("-").to_string();
            (
                text(&t["id"]["name"]),
                text(&t["id"]["classname"]),
                t["duration_seconds"].as_f64().unwrap_or(-9.0),
                text(&t["outcome"]["status"]),
            )
        })
        .collect();
    let want = [
        ("a", "C", 0.004, "passed"),
        ("b", "C", 1.5, "passed"),
        ("c", "C2", 2.0, "passed"),
        ("d", "C2", 2503.5, "passed"),
        ("é", "C", 1.0, "skipped"),
        ("x & y", "C", -9.0, "skipped"),
        ("f", "C", 3.0, "passed"),
        ("g", "C", -9.0, "passed"),
        ("h", "C", 4.0, "passed"),
        ("i", "C", 5.0, "passed"),
        ("j>k", "C", 6.0, "passed"),
        ("l/>m", "C", 7.0, "passed"),
        ("n", "C", -9.0, "passed"),
    ];
    let want: Vec<(String, String, f64, String)> = want
        .iter()
        .map(|(n, c, t, s)| (n.to_string(), c.to_string(), *t, s.to_string()))
        .collect();
    assert_eq!(seen, want, "{got}");
    assert_eq!(tests[1]["id"]["file"], "c.py", "{got}");
    assert_eq!(tests[1]["line"], 12, "{got}");
    // The negative time is no duration, with a warning that names the testcase's line.
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("the first: testcase \\\"g\\\" on line 9: time=\\\"-1\\\""),
        "{warnings}"
    );
}

#[test]
fn lcov_branches_are_paired_with_their_lines_in_one_walk() {
    // Branch lines before, between and after the DA lines, some without a DA line of their
    // own (branches, not lines: line 0 holds them); repeated and out-of-order DA lines; a
    // taken branch on a line whose DA says 0 (not covered: lines are their DA hits).
    let lcov = b"TN:\nSF:a.c\nDA:5,0\nDA:2,4\nDA:9,1\nDA:2,1\n\
BRDA:1,0,0,1\nBRDA:5,0,0,3\nBRDA:5,0,1,-\nBRDA:7,0,0,0\nBRDA:9,e0,1,0\nBRDA:12,0,0,2\n\
end_of_record\n";
    let got = read_alike(lcov);
    assert_eq!(
        lines_of(&got),
        [(0, 0, 2, 3), (2, 5, 0, 0), (5, 0, 1, 2), (9, 1, 0, 1),],
        "{got}"
    );
}

#[test]
fn cdata_sections_read_in_place_agree_with_the_careful_reading() {
    // CDATA is literal: `<`, `&amp;`, `]]` and `>` inside it are text; it ends at the first
    // `]]>`. It joins the text and references around it into one text.
    let junit = "<testsuite name=\"S\"><testcase name=\"a\" classname=\"C\">\
<failure message=\"m\">x<![CDATA[ < y && z]] > 1 &amp;]]>, &lt;<![CDATA[<b>]]></failure>\
<system-out><![CDATA[line1\nline2 ]]]]><![CDATA[>]]></system-out>\
</testcase></testsuite>";
    let got = read_alike(junit.as_bytes());
    let report: serde_json::Value = serde_json::from_str(&got).expect(&got);
    let test = &report["content"]["tests"][0];
    assert_eq!(
        test["outcome"]["failures"][0]["details"], "x < y && z]] > 1 &amp;, <<b>",
        "{got}"
    );
    assert_eq!(test["system_out"], "line1\nline2 ]]>", "{got}");

    // A byte that is not UTF-8 inside CDATA: the same error, at that byte, on every path.
    let mut bad = b"<testsuite>\n<testcase name=\"a\"><system-out><![CDATA[ok ".to_vec();
    let at = bad.len();
    bad.extend_from_slice(b"\xff]]></system-out></testcase></testsuite>");
    let got = read_alike(&bad);
    assert!(got.ends_with(&format!("at byte {at}")), "{got}");
    assert!(got.contains("(line 2, column "), "{got}");

    // CDATA outside the root element is an error on every path.
    let got = read_alike(b"<testsuite></testsuite><![CDATA[x]]>");
    assert!(got.contains("CDATA outside the root element"), "{got}");
}
