//! xUnit.net v2 XML (root `<assemblies>`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<assemblies timestamp=\"01/01/2026 00:00:00\">\n";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
