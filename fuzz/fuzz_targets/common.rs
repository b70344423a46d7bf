//! What every headed fuzz target does: prefix the input with a header that steers format
//! detection to one parser, then `parse` and `summarize` it. Both must return `Ok` or `Err`,
//! never panic, whatever follows the header.

pub fn parse_with_header(header: &[u8], data: &[u8]) {
    let mut input = Vec::with_capacity(header.len() + data.len());
    input.extend_from_slice(header);
    input.extend_from_slice(data);
    let _ = cimetrics_ingest::parse(std::io::Cursor::new(input.clone()));
    let _ = cimetrics_ingest::summarize(std::io::Cursor::new(input), &Default::default());
}
