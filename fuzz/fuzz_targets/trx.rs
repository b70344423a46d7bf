//! TRX (root `<TestRun>`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<TestRun id=\"1\" xmlns=\"http://microsoft.com/schemas/VisualStudio/TeamTest/2010\">\n";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
