//! istanbul's coverage-final.json (entries with `statementMap`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"{\"/src/a.js\": {\"path\": \"/src/a.js\", \"statementMap\": ";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
