//! What every headed fuzz target does: prefix the input with a header that steers format
//! detection to one parser, then `parse` and `summarize` it. Both must return `Ok` or `Err`,
//! never panic, whatever follows the header; when both read it, their counts agree.

pub fn parse_with_header(header: &[u8], data: &[u8]) {
    let mut input = Vec::with_capacity(header.len() + data.len());
    input.extend_from_slice(header);
    input.extend_from_slice(data);
    let report = cimetrics_ingest::parse(std::io::Cursor::new(input.clone()));
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
