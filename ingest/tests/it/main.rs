//! The reader's integration tests: one test binary, one module per concern. They read the
//! reports in the repository's `samples/` and the shared corpus beside the repository.

mod corpus;
mod fastpath;
mod robustness;
mod samples;
mod stream;

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The shared corpus: `$CIMETRICS_CORPUS`, else `../shared/corpus` beside the repository.
///
/// The tests that read it carry `#[cfg_attr(corpus_absent, ignore = "...")]`: the build script
/// sets `corpus_absent` when it is not there, so they show as ignored, not as passed.
///
/// # Panics
///
/// When the directory holds no `expected.json`.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("CIMETRICS_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/corpus"));
    assert!(
        dir.join("expected.json").is_file(),
        "no shared corpus (expected.json) in {}: put it there or set CIMETRICS_CORPUS",
        dir.display()
    );
    dir
}

/// Every file below `dir`, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Summarises a file with the default options.
pub fn summarize(path: &Path) -> Result<cimetrics_ingest::Summary, cimetrics_ingest::Error> {
    let file = std::fs::File::open(path).expect("file opens");
    // Lint text is read only when named (it cannot be detected): the samples name it `.txt`.
    let format = (path.extension().is_some_and(|e| e == "txt"))
        .then_some(cimetrics_ingest::Format::LintText);
    let options = cimetrics_ingest::Options {
        format,
        ..cimetrics_ingest::Options::default()
    };
    cimetrics_ingest::summarize(file, &options)
}
