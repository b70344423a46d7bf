//! Lint text (`path:line:col: CODE message`), read as named.
//!
//! Text cannot be detected: the format is named, as `--format lint-text` does; parse and
//! summarize must agree on whatever comes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = cimetrics_ingest::Options {
        format: Some(cimetrics_ingest::Format::LintText),
        ..Default::default()
    };
    let report = cimetrics_ingest::parse_with(std::io::Cursor::new(data.to_vec()), &options);
    let summary = cimetrics_ingest::summarize(std::io::Cursor::new(data.to_vec()), &options);
    if let (Ok(report), Ok(summary)) = (report, summary)
        && let cimetrics_ingest::Content::Issues(i) = &report.content
    {
        assert_eq!(Some(&i.counts), summary.issues.as_ref(), "parse and summarize disagree");
    }
});
