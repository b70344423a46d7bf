//! ESLint JSON (an array of files with `filePath`).
//!
//! See `common.rs`: the input follows a header that steers detection to this parser.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

const HEADER: &[u8] = b"[{\"filePath\": \"/a.js\", \"messages\": ";

fuzz_target!(|data: &[u8]| common::parse_with_header(HEADER, data));
