//! coverage.py's `coverage json` (a `meta` with `show_contexts`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"{\"meta\": {\"format\": 3, \"version\": \"7.17.3\", \"show_contexts\": false, \"branch_coverage\": true}, \"files\": ";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
