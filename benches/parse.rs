//! Throughput of the readers against a raw-tokenizer floor and a peer parser.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target cargo bench --bench parse            # everything, a few minutes
//! CARGO_TARGET_DIR=/work/target cargo bench --bench parse -- junit/1MB   # one group
//! ```
//!
//! Inputs come from `benches/support/gen.rs` (deterministic; `examples/gen_report.rs` writes
//! the same reports to files), at ~1 MB and ~20 MB each:
//!
//! | input     | shape                                                  | what it stresses                                                                                         |
//! |-----------|--------------------------------------------------------|----------------------------------------------------------------------------------------------------------|
//! | junit     | Surefire: `<testsuites>`, suites of ~50 `<testcase>`s  | attributes per case (name, classname, time -> duration parse), test-id hashing/merging, escaped text    |
//! |           | 3% `<failure>`, 1% `<error>`, 2% `<skipped>`, 1%       | (`&lt;init&gt;`, `&quot;`) in long multi-line stack traces, CDATA `<system-out>`, nested retry elements |
//! |           | `<flakyFailure>`, 0.5% `<rerunFailure>`, `<properties>`| (`<stackTrace>` inside `<flakyFailure>`/`<rerunFailure>`), skipping `<properties>`                      |
//! | cobertura | coverage.py: packages > classes > `<line number hits>` | many tiny empty elements with 2-5 attributes; integer parsing; `condition-coverage="50% (1/2)"`;        |
//! |           | ~12% branch lines                                      | per-line `LineCoverage` pushes; declared-totals check                                                    |
//! | jacoco    | `<package>`: `<class>`/`<method>` counters, then       | skipping the class/method counter subtrees; `<line nr mi ci mb cb/>` (5 integer attributes, no          |
//! |           | `<sourcefile>` lines + counters, on one long line      | newlines at all: the whole report is a single text line); DOCTYPE at the top                             |
//! | lcov      | `TN/SF/FN/FNDA/FNF/FNH/DA/BRDA/BRF/BRH/LF/LH/end_of_record` | line splitting and `split_once(':')`, integer parsing, BRDA `-`, the per-record branch merge       |
//!
//! For each format and size, one group with `Throughput::Bytes` over the same bytes:
//! - `raw_quick_xml_scan`: `quick_xml::Reader::read_event_into` over the bytes, counting
//!   events, default config (no unescaping, no attribute parsing, no UTF-8 check): the floor
//!   any quick-xml based reader sits above. For LCOV the floor is `raw_line_scan`: counting
//!   lines with `bytes.split(|b| *b == b'\n').count()`. Both are in `support/floor.rs`, which
//!   `ingest/examples/parse_once.rs` (instruction counts, `scripts/instructions.sh`) shares.
//! - `summarize`: `cimetrics_ingest::summarize` (counts only, bounded memory).
//! - `parse`: `cimetrics_ingest::parse` (the full model: every test case / every line).
//! - `junit_parser` (JUnit only): the peer crate `junit_parser::from_reader`, full model.
//!
//! The inputs are leaked into `&'static [u8]` once, so no copy is timed: `&[u8]` is
//! `Read + Send + 'static` and the readers take it directly.

#[path = "support/floor.rs"]
mod floor;
#[path = "support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::hint::black_box;
use std::time::Duration;

use cimetrics_ingest::{Content, Options, Report, Summary};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

const SIZES: [(&str, usize); 2] = [("1MB", 1_000_000), ("20MB", 20_000_000)];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Xml,
    Lines,
    /// JSON: the floor is serde_json skimming the bytes into `IgnoredAny`.
    Json,
}

fn summarize(bytes: &'static [u8]) -> Summary {
    cimetrics_ingest::summarize(bytes, &Options::default()).expect("summarize")
}

fn parse(bytes: &'static [u8]) -> Report {
    cimetrics_ingest::parse(bytes).expect("parse")
}

/// Checks once, outside the timing, that the input is read without error (warnings are
/// printed), that `summarize` and `parse` agree, and says what the input holds.
fn check(name: &str, label: &str, bytes: &'static [u8]) {
    let summary = summarize(bytes);
    // The generated totals are exact: a warning here is a reader bug, worth a look, but not
    // a reason to skip the measurement.
    for warning in &summary.warnings {
        eprintln!("{name}/{label}: WARNING: {warning}");
    }
    let report = parse(bytes);
    let what = match (&summary.tests, &report.content) {
        (Some(t), Content::Tests(r)) => {
            assert_eq!(
                t.total, r.counts.total,
                "{name}/{label}: summarize and parse disagree"
            );
            format!(
                "{} tests ({} failed, {} errored, {} skipped, {} flaky)",
                t.total, t.failed, t.errored, t.skipped, t.flaky
            )
        }
        (None, Content::Coverage(c)) => {
            let s = summary.coverage.expect("coverage totals");
            assert_eq!(s, c.totals, "{name}/{label}: summarize and parse disagree");
            format!(
                "{} files, {} lines, {} branches",
                c.files.len(),
                s.lines_valid,
                s.branches_valid
            )
        }
        (None, Content::Issues(i)) => {
            let s = summary.issues.expect("issue counts");
            assert_eq!(s, i.counts, "{name}/{label}: summarize and parse disagree");
            format!("{} issues ({} suppressed)", s.total, s.suppressed)
        }
        _ => panic!("{name}/{label}: summarize and parse disagree on the kind of report"),
    };
    eprintln!("{name}/{label}: {} bytes, {what}", bytes.len());
}

fn bench_format(c: &mut Criterion, name: &str, generate: fn(usize) -> Vec<u8>, kind: Kind) {
    for (label, size) in SIZES {
        let bytes: &'static [u8] = Box::leak(generate(size).into_boxed_slice());
        check(name, label, bytes);

        let mut group = c.benchmark_group(format!("{name}/{label}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        if size >= 10_000_000 {
            // 20 MB takes 0.05-1 s per iteration: few, flat samples keep the run to minutes.
            group
                .sample_size(10)
                .sampling_mode(SamplingMode::Flat)
                .warm_up_time(Duration::from_secs(2))
                .measurement_time(Duration::from_secs(10));
        } else {
            group
                .sample_size(20)
                .warm_up_time(Duration::from_secs(1))
                .measurement_time(Duration::from_secs(4));
        }

        match kind {
            Kind::Xml => group.bench_function("raw_quick_xml_scan", |b| {
                b.iter(|| floor::quick_xml_scan(black_box(bytes)))
            }),
            Kind::Lines => group.bench_function("raw_line_scan", |b| {
                b.iter(|| floor::line_scan(black_box(bytes)))
            }),
            Kind::Json => group.bench_function("serde_json_ignored_any", |b| {
                b.iter(|| floor::serde_json_skim(black_box(bytes)))
            }),
        };
        group.bench_function("summarize", |b| b.iter(|| summarize(black_box(bytes))));
        group.bench_function("parse", |b| b.iter(|| parse(black_box(bytes))));
        if name == "junit" {
            group.bench_function("junit_parser", |b| {
                b.iter(|| {
                    junit_parser::from_reader(std::io::BufReader::new(black_box(bytes)))
                        .expect("junit-parser")
                })
            });
        }
        group.finish();
    }
}

fn junit(c: &mut Criterion) {
    bench_format(c, "junit", generator::junit_surefire, Kind::Xml);
}

fn cobertura(c: &mut Criterion) {
    bench_format(c, "cobertura", generator::cobertura, Kind::Xml);
}

fn jacoco(c: &mut Criterion) {
    bench_format(c, "jacoco", generator::jacoco, Kind::Xml);
}

fn lcov(c: &mut Criterion) {
    bench_format(c, "lcov", generator::lcov, Kind::Lines);
}

fn sarif(c: &mut Criterion) {
    bench_format(c, "sarif", generator::sarif, Kind::Json);
}

criterion_group!(benches, junit, cobertura, jacoco, lcov, sarif);
criterion_main!(benches);
