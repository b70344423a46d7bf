//! Code Climate JSON (an array of issues with `check_name`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"[{\"check_name\": \"F401\", \"description\": \"x\", \"severity\": \"major\", \"fingerprint\": \"1\", \"location\": {\"path\": \"a.py\", \"lines\": {\"begin\": 1}}}";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
