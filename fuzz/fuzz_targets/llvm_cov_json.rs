//! `llvm-cov export` JSON (`data[].files[]`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"{\"type\": \"llvm.coverage.json.export\", \"version\": \"3.1.0\", \"data\": [{\"files\": ";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
