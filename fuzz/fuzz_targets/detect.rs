//! Raw bytes, no header: format detection (gzip, BOMs, UTF-16, declared encodings, every
//! format) and whichever parser it picks. Must return `Ok` or `Err`, never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cimetrics_ingest::detect(std::io::Cursor::new(data.to_vec()));
    let _ = cimetrics_ingest::parse(std::io::Cursor::new(data.to_vec()));
});
