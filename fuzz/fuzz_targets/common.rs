//! What every headed fuzz target does: prefix the input with a header that steers format
//! detection to one parser, then `parse` and `summarize` it. Both must return `Ok` or `Err`,
//! never panic, whatever follows the header; when both read it, their counts agree. A third
//! read, a few bytes at a time, keeps every token from lying whole in the buffer (so the
//! careful paths read what the fast paths read in place), and must give the same answer.

use std::io::Read;

/// Hands out its bytes 7 at a time.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(7);
        self.0.read(&mut out[..n])
    }
}

fn answer(r: &cimetrics_ingest::Result<cimetrics_ingest::Report>) -> String {
    match r {
        Ok(report) => format!("{:?}", report.content),
        Err(e) => format!("{e} at {}", e.position().byte_offset),
    }
}

pub fn parse_with_header(header: &[u8], data: &[u8]) {
    let mut input = Vec::with_capacity(header.len() + data.len());
    input.extend_from_slice(header);
    input.extend_from_slice(data);
    let report = cimetrics_ingest::parse(std::io::Cursor::new(input.clone()));
    let trickled = cimetrics_ingest::parse(Trickle(std::io::Cursor::new(input.clone())));
    assert_eq!(answer(&report), answer(&trickled), "in place and trickled disagree");
    let summary = cimetrics_ingest::summarize(std::io::Cursor::new(input), &Default::default());
    if let (Ok(report), Ok(summary)) = (report, summary) {
        match &report.content {
            cimetrics_ingest::Content::Tests(t) => {
                assert_eq!(Some(t.counts), summary.tests, "parse and summarize disagree")
            }
            cimetrics_ingest::Content::Coverage(c) => {
                assert_eq!(Some(c.totals), summary.coverage, "parse and summarize disagree")
            }
            cimetrics_ingest::Content::Issues(i) => {
                assert_eq!(Some(&i.counts), summary.issues.as_ref(), "parse and summarize disagree")
            }
        }
    }
}
