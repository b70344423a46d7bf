//! pylint `json2` (`messages` and `statistics`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"{\"statistics\": {\"score\": 5.5}, \"messages\": ";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
