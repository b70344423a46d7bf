//! The floors the readers are measured against: a raw quick-xml event scan (default config:
//! no unescaping, no attribute parsing, no UTF-8 check), and for LCOV a raw line split.
//! Shared by `benches/parse.rs` and `ingest/examples/parse_once.rs`.

/// Reads every event of `bytes` with `quick_xml::Reader::read_event_into`; returns how many.
pub fn quick_xml_scan(bytes: &[u8]) -> u64 {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut events = 0u64;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => events += 1,
            Err(e) => panic!("quick-xml: {e} at {}", reader.error_position()),
        }
        buf.clear();
    }
    events
}

/// Splits `bytes` at every `\n`; returns how many lines.
pub fn line_scan(bytes: &[u8]) -> usize {
    bytes.split(|b| *b == b'\n').count()
}

/// Skims `bytes` as JSON into `serde::de::IgnoredAny` (every byte checked, nothing kept).
pub fn serde_json_skim(bytes: &[u8]) {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).expect("JSON");
}
