//! Writes a generated report (the bench inputs, at any size) to a file.
//!
//! ```text
//! cargo run --release --example gen_report -- junit 200000000 /tmp/junit-200mb.xml
//! ```
//!
//! Formats: `junit` (Surefire), `cobertura` (coverage.py), `jacoco`, `lcov`, `sarif`
//! (CodeQL-like). The output is
//! deterministic: the same arguments give the same bytes.

#[path = "../benches/support/gen.rs"]
mod generator; // `gen` is a reserved keyword in edition 2024

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [format, size, path] = args.as_slice() else {
        eprintln!(
            "usage: gen_report <junit|cobertura|jacoco|lcov|sarif> <approx-bytes> <output-path>"
        );
        return ExitCode::from(2);
    };
    let Some(generate) = generator::by_name(format) else {
        eprintln!("gen_report: unknown format {format:?} (junit, cobertura, jacoco, lcov, sarif)");
        return ExitCode::from(2);
    };
    let Ok(size) = size.replace('_', "").parse::<usize>() else {
        eprintln!("gen_report: invalid size {size:?}");
        return ExitCode::from(2);
    };
    let bytes = generate(size);
    if let Err(e) = std::fs::write(path, &bytes) {
        eprintln!("gen_report: cannot write {path}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "gen_report: wrote {} bytes of {format} to {path}",
        bytes.len()
    );
    ExitCode::SUCCESS
}
