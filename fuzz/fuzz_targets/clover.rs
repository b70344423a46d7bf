//! Clover XML (root `<coverage>` with a `clover` attribute).
//!
//! The input is prefixed with a fixed header that steers format detection to this parser;
//! `parse` and `summarize` must return `Ok` or `Err`, never panic, whatever follows.

#![no_main]

use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<coverage generated=\"1700000000000\" clover=\"4.4.1\">\n";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(HEADER.len() + data.len());
    input.extend_from_slice(HEADER);
    input.extend_from_slice(data);
    let _ = cimetrics_ingest::parse(std::io::Cursor::new(input.clone()));
    let _ = cimetrics_ingest::summarize(std::io::Cursor::new(input), &Default::default());
});
