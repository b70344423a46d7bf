//! The XML layer reads plain tags and text itself when its buffer holds them whole, and leaves
//! every other token to quick-xml (`ingest/src/xml.rs`, "The fast path"). These tests read the
//! same bytes three ways and want the same report, or the same error at the same position:
//! - whole: the fast path takes nearly every token;
//! - one byte per read: the buffer never holds a whole tag, so quick-xml reads everything;
//! - in uneven chunks: the two alternate at every chunk boundary, inside texts and tags.

use std::io::Read;
use std::path::PathBuf;

use crate::{corpus_dir, files_below, repo};

/// Gives its bytes in reads of the sizes `chunks` cycles through.
struct Chunked {
    bytes: Vec<u8>,
    at: usize,
    chunks: Vec<usize>,
    turn: usize,
}

impl Read for Chunked {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let want = self.chunks[self.turn % self.chunks.len()];
        self.turn += 1;
        let n = want.min(out.len()).min(self.bytes.len() - self.at);
        out[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn read_as(bytes: &[u8], chunks: &[usize]) -> String {
    let reader = Chunked {
        bytes: bytes.to_vec(),
        at: 0,
        chunks: chunks.to_vec(),
        turn: 0,
    };
    match cimetrics_ingest::parse(reader) {
        Ok(report) => serde_json::to_string(&report).expect("a report serializes"),
        Err(e) => format!("error: {e} at byte {}", e.position().byte_offset),
    }
}

fn xml_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = files_below(&repo().join("samples"));
    if let Some(dir) = corpus_dir() {
        files.extend(files_below(&dir));
    }
    files.retain(|p| {
        std::fs::read(p).is_ok_and(|b| {
            let head = &b[..b.len().min(512)];
            b.len() < 4 << 20 && head.contains(&b'<')
        })
    });
    files
}

#[test]
fn the_fast_path_and_quick_xml_read_every_report_alike() {
    let files = xml_files();
    assert!(files.len() >= 20, "only {} XML files found", files.len());
    let (mut reports, mut errors) = (0, 0);
    for path in &files {
        let bytes = std::fs::read(path).expect("file reads");
        // The file, and its first half: an error (truncated) with a position to compare.
        for bytes in [&bytes[..], &bytes[..bytes.len() / 2]] {
            let whole = read_as(bytes, &[1 << 20]);
            let by_byte = read_as(bytes, &[1]);
            assert_eq!(
                whole,
                by_byte,
                "{}: whole vs one byte per read",
                path.display()
            );
            let uneven = read_as(bytes, &[7, 61, 3, 200, 1, 29]);
            assert_eq!(whole, uneven, "{}: whole vs uneven chunks", path.display());
            if whole.starts_with("error: ") {
                errors += 1;
            } else {
                reports += 1;
            }
        }
    }
    // Both outcomes were compared: reports and errors.
    assert!(
        reports >= files.len() / 2 && errors >= files.len() / 2,
        "{reports} reports, {errors} errors"
    );
}

#[test]
fn mismatched_and_stray_end_tags_are_errors_on_both_paths() {
    for (xml, expected) in [
        (
            &b"<testsuite>\n  <testcase name=\"a\"></testsuite>"[..],
            "expected `</testcase>`, but `</testsuite>` was found",
        ),
        (
            &b"<testsuite></testsuite></testsuite>"[..],
            "`</testsuite>` closes an element that was never opened",
        ),
    ] {
        for chunks in [&[1 << 20][..], &[1][..]] {
            let got = read_as(xml, chunks);
            assert!(got.contains(expected), "{got}");
        }
    }
    let got = read_as(
        b"<testsuite>\n  <testcase name=\"a\"></testsuite>",
        &[1 << 20],
    );
    assert!(
        got.contains("(line 2, column 22)") && got.ends_with("at byte 33"),
        "{got}"
    );
}
