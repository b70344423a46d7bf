//! Cobertura XML (root `<coverage>` with Cobertura rate attributes).
//!
//! The input is prefixed with a fixed header that steers format detection to this parser;
//! `parse` and `summarize` must return `Ok` or `Err`, never panic, whatever follows.

#![no_main]

use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"<?xml version=\"1.0\" ?>\n<coverage line-rate=\"0.5\" branch-rate=\"0.5\" version=\"7.6.1\">\n";

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(HEADER.len() + data.len());
    input.extend_from_slice(HEADER);
    input.extend_from_slice(data);
    let _ = cimetrics_ingest::parse(std::io::Cursor::new(input.clone()));
    let _ = cimetrics_ingest::summarize(std::io::Cursor::new(input), &Default::default());
});
