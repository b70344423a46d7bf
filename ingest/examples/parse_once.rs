//! One read of a generated report (the benchmarks' inputs, `benches/support/gen.rs`), for
//! instruction counts (`scripts/instructions.sh`, which counts only `measure`) and quick
//! timings on a machine too noisy for criterion's ratios:
//!
//! ```text
//! cargo run --release -p cimetrics-ingest --example parse_once -- junit parse 10
//! SIZE=1000000 cargo run --release -p cimetrics-ingest --example parse_once -- lcov raw
//! FILE=report.xml cargo run --release -p cimetrics-ingest --example parse_once -- junit split 10
//! ```
//!
//! Formats: junit, cobertura, jacoco, lcov, sarif. Modes: `raw` (the floor: quick-xml's event
//! scan, a line split for LCOV, serde_json skimming into `IgnoredAny` for SARIF), `summarize`, `parse` (the full model, dropped as it is timed),
//! `split` (`parse`, with the read and the drop of the model timed apart), and `ratio`: the
//! floor and `parse` in turns, REPEATS times each, for their ratio on a machine whose speed
//! drifts (both see the same drift; criterion times one after the other). `FILE` reads that
//! report instead of generating one.

#[path = "../../benches/support/floor.rs"]
mod floor;
#[path = "../../benches/support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use cimetrics_ingest::Options;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(format), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!(
            "usage: parse_once junit|cobertura|jacoco|lcov|sarif raw|summarize|parse|split|ratio [REPEATS]"
        );
        return ExitCode::from(2);
    };
    let (Some(generate), true) = (
        generator::by_name(format),
        matches!(
            mode.as_str(),
            "raw" | "summarize" | "parse" | "ratio" | "split"
        ),
    ) else {
        eprintln!("parse_once: unknown format {format:?} or mode {mode:?}");
        return ExitCode::from(2);
    };
    let repeats: u32 = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(1);
    let size: usize = std::env::var("SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000_000);
    // FILE=path reads that file instead of generating one (any report of the format).
    let input = match std::env::var("FILE") {
        Ok(path) => match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("parse_once: {path}: {e}");
                return ExitCode::from(2);
            }
        },
        Err(_) => generate(size),
    };
    let bytes: &'static [u8] = Box::leak(input.into_boxed_slice());
    let kind = match format.as_str() {
        "lcov" => Floor::Lines,
        "sarif" => Floor::Json,
        _ => Floor::Xml,
    };
    if mode == "ratio" {
        let (mut raw, mut parse) = (Vec::new(), Vec::new());
        for _ in 0..repeats.max(1) {
            for (mode, times) in [("raw", &mut raw), ("parse", &mut parse)] {
                let start = Instant::now();
                measure(mode, kind, bytes);
                times.push(start.elapsed().as_secs_f64());
            }
        }
        let median = |t: &mut Vec<f64>| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        };
        let (raw, parse) = (median(&mut raw), median(&mut parse));
        println!(
            "{format}: {} bytes, medians of {repeats} turns: raw {:.1} ms, parse {:.1} ms, parse/raw throughput {:.2}",
            bytes.len(),
            raw * 1e3,
            parse * 1e3,
            raw / parse
        );
        return ExitCode::SUCCESS;
    }
    if mode == "split" {
        let (mut bp, mut bd) = (f64::MAX, f64::MAX);
        for _ in 0..repeats.max(1) {
            let start = Instant::now();
            let report = cimetrics_ingest::parse(bytes).expect("parse");
            let mid = Instant::now();
            drop(black_box(report));
            bp = bp.min((mid - start).as_secs_f64());
            bd = bd.min(mid.elapsed().as_secs_f64());
        }
        println!(
            "{format} split: best of {repeats}: parse {:.1} ms, drop {:.1} ms",
            bp * 1e3,
            bd * 1e3
        );
        return ExitCode::SUCCESS;
    }
    let mut best = f64::MAX;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        measure(mode, kind, bytes);
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{format} {mode}: {} bytes, best of {repeats}: {:.1} ms, {:.0} MB/s",
        bytes.len(),
        best * 1e3,
        bytes.len() as f64 / best / 1e6
    );
    ExitCode::SUCCESS
}

/// What a format's floor is.
#[derive(Clone, Copy)]
enum Floor {
    /// quick-xml's event scan.
    Xml,
    /// A line split (LCOV).
    Lines,
    /// serde_json skimming into `IgnoredAny` (SARIF).
    Json,
}

/// The measured work (the only function `scripts/instructions.sh` counts).
#[inline(never)]
fn measure(mode: &str, kind: Floor, bytes: &'static [u8]) {
    match (mode, kind) {
        ("raw", Floor::Lines) => {
            black_box(floor::line_scan(black_box(bytes)));
        }
        ("raw", Floor::Json) => floor::serde_json_skim(black_box(bytes)),
        ("raw", Floor::Xml) => {
            black_box(floor::quick_xml_scan(black_box(bytes)));
        }
        ("summarize", _) => {
            black_box(cimetrics_ingest::summarize(bytes, &Options::default()).expect("summarize"));
        }
        _ => {
            black_box(cimetrics_ingest::parse(bytes).expect("parse"));
        }
    }
}
